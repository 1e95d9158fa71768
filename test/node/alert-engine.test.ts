/**
 * The alert engine (node/alerts/alert-engine.ts) over a real LevelDB log, with the chain's anchors
 * and a peer monitor's fork alerts given by hand: what it raises, that a restarted engine — or one
 * deriving everything again in an empty store — raises the same alerts with the same ids and none
 * twice, anchoring lag found live and after the fact under one id, acknowledgements, listeners, and
 * the signed webhook with retries and a resumed position.
 */
import { expect } from "chai";
import { createServer, type Server } from "node:http";
import { Level } from "level";
import { Wallet, ethers } from "ethers";
import { AlertEngine } from "../../node/alerts/alert-engine";
import { AlertWebhook } from "../../node/alerts/webhook";
import type { Alert } from "../../node/alerts/alert";
import type { CheckpointRecord } from "../../node/indexer/records";
import type { AccessLogEntry } from "../../node/log/entry";
import { RecentEntries } from "../../node/log/recent-entries";
import { MerkleLog } from "../../node/log/merkle-log";
import type { ForkAlert } from "../../node/peers/peer-monitor";
import { verifyAlertWebhook } from "../../node/verify";
import { removeDir, tempDir } from "./log-helpers";

const id = (s: string) => ethers.id(s);
const [TAX, WATER] = [id("cq.tax"), id("cq.water")];
const FEES = id("agreement fees");
const LOG = id("log.test");
const T = 1790784000;
let n = 0;
const entry = (time: number, over: Partial<AccessLogEntry> = {}): AccessLogEntry => ({
  time, consumerDept: TAX, providerDept: WATER, resourceId: id("res"), agreementId: FEES, purposeHash: id("p"), recordCount: 10,
  requestHash: id(`q${++n}`), responseHash: id(`r${n}`), subjectCommitment: null, outcome: "served", refusalReason: "", ...over,
});
const refused = (time: number, reason: string) => entry(time, { outcome: "refused", refusalReason: reason, recordCount: 0 });

describe("alert engine", function () {
  let dir: string;
  let log: MerkleLog;
  let db: Level<string, unknown>;
  const checkpoints: CheckpointRecord[] = [];
  const forks: ForkAlert[] = [];
  const indexer = {
    agreement: async (a: string) => (a === FEES ? ({ quota: "100" } as never) : undefined),
    checkpoints: async (_log: string, from = 0) => checkpoints.slice(from),
  };
  let clock = T;
  const engine = (store = db, interval = 1000) =>
    new AlertEngine({ db: store, log, indexer, logId: LOG, config: { anchorIntervalMs: interval }, peers: () => ({ alerts: async () => forks }), now: () => clock });
  const cp = (index: number, treeSize: number, timestamp: number): CheckpointRecord => ({ logId: LOG, index, treeSize, root: id(`root${treeSize}`), block: 10 + index, timestamp, tx: id(`tx${index}`) });
  const shape = (a: Alert) => ({ id: a.id, key: a.key, seq: a.seq, rule: a.rule, raisedAt: a.raisedAt, evidence: a.evidence });

  before(async () => {
    dir = tempDir("dcl-alerts-");
    log = await MerkleLog.open(`${dir}/log`);
    db = new Level(`${dir}/db`, { valueEncoding: "json" });
    await db.open();
    // 0-4: 70 records, a refusal beyond the quota, 80 records (80 %), 3 consent refusals.
    await log.appendMany([entry(T), entry(T + 1, { recordCount: 60 }), refused(T + 2, "QUOTA_EXCEEDED"), entry(T + 3)]);
    await log.appendMany([refused(T + 4, "CONSENT_MISSING"), refused(T + 5, "SUBJECT_ERASED"), refused(T + 6, "CONSENT_MISSING")]);
    checkpoints.push(cp(0, 4, T + 4)); // entry 0 waited 4 s for its anchor: beyond twice the 1 s interval
  });
  after(async () => {
    await log.close();
    await db.close();
    removeDir(dir);
  });

  it("raises the log's alerts and the chain's anchoring lag, in order, and tells listeners once stored", async () => {
    const e = engine();
    await e.open();
    const heard: Alert[] = [];
    e.subscribe((a) => heard.push(a));
    clock = T + 6; // entry 4 (T + 4), the oldest not anchored, has waited 2 s: not beyond
    expect(await e.tick()).to.equal(4);
    const alerts = await e.list();
    expect(alerts.map((a) => [a.seq, a.rule, a.evidence.index])).to.deep.equal([
      [1, "quota_exhausted", 2], [2, "quota_warning", 3], [3, "consent_refusals", 6], [4, "anchor_lag", 0],
    ]);
    expect(alerts[3]).to.deep.include({ key: "anchor_lag:0", raisedAt: T + 3, severity: "critical" });
    expect(alerts[3].evidence).to.deep.include({ entryTime: T, anchoredAt: T + 4, limitSeconds: 2, anchor: 0 });
    expect(heard.map((a) => a.seq)).to.deep.equal([1, 2, 3, 4]);
    expect(e.totals()).to.deep.include({ quota_exhausted: 1, quota_warning: 1, consent_refusals: 1, anchor_lag: 1, peer_fork: 0 });
    expect(await e.tick()).to.equal(0);
    await e.stop();
  });

  it("raises nothing again after a restart, and the same alerts with the same ids when derived again in an empty store", async () => {
    const again = engine();
    await again.open();
    expect(again.position).to.equal(7);
    expect(await again.tick()).to.equal(0);
    const kept = (await again.list()).map(shape);
    const fresh = new Level<string, unknown>(`${dir}/fresh`, { valueEncoding: "json" });
    try {
      const other = engine(fresh);
      await other.open();
      await other.tick();
      expect((await other.list()).map(shape)).to.deep.equal(kept);
    } finally {
      await fresh.close();
    }
  });

  it("derives the same alerts from the recent entries as from the log, reading the log for what they do not hold", async () => {
    const kept = (await engine().list()).map(shape);
    const recent = new RecentEntries(16);
    recent.add(4, await Promise.all([4, 5, 6].map((i) => log.getEntry(i)))); // 0-3 only in the log
    const fresh = new Level<string, unknown>(`${dir}/fresh-recent`, { valueEncoding: "json" });
    try {
      const other = new AlertEngine({ db: fresh, log, recent, indexer, logId: LOG, config: { anchorIntervalMs: 1000 }, peers: () => ({ alerts: async () => forks }), now: () => clock, chunk: 4 });
      await other.open();
      await other.tick();
      expect((await other.list()).map(shape)).to.deep.equal(kept);
    } finally {
      await fresh.close();
    }
  });

  it("finds an entry waiting too long for its anchor live, and the same cause after the fact under the same id", async () => {
    const e = engine();
    await e.open();
    await log.appendMany([entry(T + 10)]);
    checkpoints.push(cp(1, 7, T + 8)); // covers 4-6: entry 4 (T + 4) waited 4 s → anchor_lag:4
    clock = T + 12; // entry 7 (T + 10) has waited 2 s: not yet beyond
    expect((await (await e.tick().then(() => e.list({ rule: "anchor_lag" }))).map((a) => a.key))).to.deep.equal(["anchor_lag:0", "anchor_lag:4"]);
    clock = T + 13;
    await e.tick();
    const live = (await e.list({ rule: "anchor_lag" })).at(-1)!;
    expect(live).to.deep.include({ key: "anchor_lag:7", raisedAt: T + 13 });
    expect(live.evidence).to.deep.include({ anchoredAt: null, entryTime: T + 10 });
    checkpoints.push(cp(2, 8, T + 20)); // the anchor comes: waited 10 s, the same cause
    expect(await e.tick()).to.equal(0);
    expect((await e.list({ rule: "anchor_lag" })).map((a) => a.key)).to.deep.equal(["anchor_lag:0", "anchor_lag:4", "anchor_lag:7"]);
    await e.stop();
  });

  it("takes each fork alert of the peer monitor once", async () => {
    const e = engine();
    await e.open();
    const fork = (size: number): ForkAlert => ({
      peer: "water", url: "http://water.example", logId: id("log.water"), against: "anchored", trusted: { size: 5, root: id("t") },
      presented: { size, root: id(`p${size}`), note: "note" }, error: { code: "CONSISTENCY_ROOT_MISMATCH", message: "m" }, detectedAt: T + 30,
    });
    forks.push(fork(9));
    expect(await e.tick()).to.equal(1);
    expect(await e.tick()).to.equal(0);
    forks.push(fork(12));
    expect(await e.tick()).to.equal(1);
    const raised = await e.list({ rule: "peer_fork" });
    expect(raised.map((a) => a.evidence.presented)).to.deep.equal([{ size: 9, root: id("p9") }, { size: 12, root: id("p12") }]);
    expect(raised[0]).to.deep.include({ raisedAt: T + 30, severity: "critical" });
    await e.stop();
  });

  it("keeps the first acknowledgement and filters by status, rule and department", async () => {
    const e = engine();
    await e.open();
    const [first] = await e.list();
    const ack = await e.acknowledge(first.id, { department: id("cq.regulator"), signer: "0xabc", note: "seen" }, T + 40);
    expect(ack!.acknowledged).to.deep.equal({ at: T + 40, department: id("cq.regulator"), signer: "0xabc", note: "seen" });
    expect((await e.acknowledge(first.id, { department: TAX, signer: "0xdef" }, T + 50))!.acknowledged!.at).to.equal(T + 40);
    expect(await e.acknowledge("0x" + "00".repeat(16), { department: TAX, signer: "0x1" }, 0)).to.equal(undefined);
    expect((await e.list({ status: "acknowledged" })).map((a) => a.id)).to.deep.equal([first.id]);
    expect((await e.list({ status: "open" })).map((a) => a.id)).to.not.include(first.id);
    expect((await e.list({ department: WATER })).map((a) => a.rule)).to.deep.equal(["quota_exhausted", "quota_warning"]);
    expect((await e.list({ after: 2, limit: 1 })).map((a) => a.seq)).to.deep.equal([3]);
    expect((await e.get(first.id))!.acknowledged!.note).to.equal("seen");
  });

  describe("webhook", function () {
    let server: Server;
    let url: string;
    const received: { alert: Alert; headers: Record<string, string>; body: Buffer }[] = [];
    let failNext = 0;
    const operator = new Wallet("0x" + "42".repeat(32));

    before(async () => {
      server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c) => chunks.push(c));
        req.on("end", () => {
          if (failNext > 0) {
            failNext--;
            res.writeHead(503).end();
            return;
          }
          const body = Buffer.concat(chunks);
          received.push({ alert: JSON.parse(body.toString()), headers: req.headers as Record<string, string>, body });
          res.writeHead(204).end();
        });
      });
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
    });
    after(() => new Promise<void>((r) => server.close(() => r())));

    const until = async (what: string, ok: () => boolean) => {
      for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 25));
      expect(ok(), what).to.equal(true);
    };

    it("delivers each new alert in order, signed by the operator, retrying a failed delivery, and resumes after a restart without sending one twice", async () => {
      const e = engine();
      await e.open();
      const hook = () => new AlertWebhook({ url, origin: "dcl/31337/log.test", signer: operator, engine: e, db, retryMs: 20, now: () => T + 100 });
      let w = hook();
      await w.open();
      expect(w.position).to.equal(e.latestSeq); // a new URL starts after the alerts raised before it
      w.start();
      failNext = 2;
      await log.appendMany([refused(T + 3600, "AGREEMENT_EXPIRED"), refused(T + 3601, "AGREEMENT_EXPIRED", ), refused(T + 7200, "AGREEMENT_EXPIRED")]);
      await e.tick();
      const raised = (await e.list({ rule: "outside_window" })).map((a) => a.id);
      expect(raised).to.have.length(2);
      await until("two deliveries", () => received.length === 2);
      expect(received.map((r) => r.alert.id)).to.deep.equal(raised);
      for (const r of received) {
        expect(r.headers["x-dcl-alert-id"]).to.equal(r.alert.id);
        const signer = verifyAlertWebhook(
          { origin: "dcl/31337/log.test", timestamp: Number(r.headers["x-dcl-timestamp"]), body: r.body, signer: r.headers["x-dcl-signer"], signature: r.headers["x-dcl-signature"] },
          { operatorKeys: [operator.address], now: T + 100 },
        );
        expect(signer).to.equal(operator.address);
        expect(() => verifyAlertWebhook({ origin: "dcl/31337/log.test", timestamp: T + 100, body: Buffer.concat([r.body, Buffer.from(" ")]), signer: operator.address, signature: r.headers["x-dcl-signature"] })).to.throw("not signed");
      }
      await w.stop();
      w = hook();
      await w.open();
      expect(w.position).to.equal((await e.list({ rule: "outside_window" })).at(-1)!.seq);
      w.start();
      await new Promise((r) => setTimeout(r, 200));
      expect(received).to.have.length(2);
      await log.appendMany([refused(T + 7300, "AGREEMENT_NOT_YET_VALID")].map((x) => ({ ...x, agreementId: id("another") })));
      await e.tick();
      await until("the third delivery", () => received.length === 3);
      await w.stop();
    });
  });
});
