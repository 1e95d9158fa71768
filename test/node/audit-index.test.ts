import { expect } from "chai";
import { spawn } from "node:child_process";
import * as path from "node:path";
import * as readline from "node:readline";
import { Level } from "level";
import { AuditIndex, type AuditDimension, type DepartmentStats } from "../../node/access/audit-index";
import type { AccessLogEntry } from "../../node/log/entry";
import { MerkleLog } from "../../node/log/merkle-log";
import { auditSample } from "../fixtures/audit-writer";
import { removeDir, tempDir } from "./log-helpers";

const WRITER = path.resolve(__dirname, "../fixtures/audit-writer.ts");

/** What the index must say of `entries` (the log's first entries, in order), recomputed from them alone. */
function expected(entries: AccessLogEntry[]) {
  const stats = new Map<string, DepartmentStats>();
  const of = (id: string) => {
    if (!stats.has(id)) stats.set(id, { callsAsConsumer: 0, refusedAsConsumer: 0, recordsReceived: 0, callsAsProvider: 0, recordsProvided: 0, refusalsByReason: {} });
    return stats.get(id)!;
  };
  const usage = new Map<string, bigint>();
  const byAgreement = new Map<string, number[]>();
  const byConsumer = new Map<string, number[]>();
  entries.forEach((e, i) => {
    const c = of(e.consumerDept);
    c.callsAsConsumer++;
    if (e.outcome === "served") {
      c.recordsReceived += e.recordCount;
      of(e.providerDept).callsAsProvider++;
      of(e.providerDept).recordsProvided += e.recordCount;
      usage.set(e.agreementId, (usage.get(e.agreementId) ?? 0n) + BigInt(e.recordCount));
    } else {
      c.refusedAsConsumer++;
      c.refusalsByReason[e.refusalReason] = (c.refusalsByReason[e.refusalReason] ?? 0) + 1;
    }
    byAgreement.set(e.agreementId, [...(byAgreement.get(e.agreementId) ?? []), i]);
    byConsumer.set(e.consumerDept, [...(byConsumer.get(e.consumerDept) ?? []), i]);
  });
  return { stats, usage, byAgreement, byConsumer };
}

/** Every index of `value` on `dimension`, all pages. */
async function allIndexes(audit: AuditIndex, dimension: AuditDimension, value: string): Promise<number[]> {
  const out: number[] = [];
  for (let page = await audit.indexes(dimension, value, -1, 100); page.length > 0; page = await audit.indexes(dimension, value, out[out.length - 1], 100)) out.push(...page);
  return out;
}

/** Checks that `audit` says exactly what the first `size` entries of `log` call for. */
async function expectMatchesLog(audit: AuditIndex, log: MerkleLog, what: string): Promise<void> {
  const entries: AccessLogEntry[] = [];
  for (let i = 0; i < log.size(); i++) entries.push(await log.getEntry(i));
  const want = expected(entries);
  expect(audit.size(), `${what}: projected`).to.equal(log.size());
  for (const [id, s] of want.stats) expect(audit.statsOf(id), `${what}: stats of ${id}`).to.deep.equal(s);
  for (const [id, u] of want.usage) expect(audit.usageOf(id), `${what}: usage of ${id}`).to.equal(u);
  for (const [id, indexes] of want.byAgreement) expect(await allIndexes(audit, "agreement", id), `${what}: by agreement ${id}`).to.deep.equal(indexes);
  for (const [id, indexes] of want.byConsumer) expect(await allIndexes(audit, "consumer", id), `${what}: by consumer ${id}`).to.deep.equal(indexes);
}

describe("AuditIndex: written behind the answer", () => {
  let dir: string;
  beforeEach(() => (dir = tempDir("dcl-audit-")));
  afterEach(() => removeDir(dir));

  it("counts added entries at once and finds them in a query made right after add, without the caller waiting", async () => {
    const db = new Level(dir);
    const audit = new AuditIndex(db);
    await audit.open(0, async () => { throw new Error("nothing to read"); });
    const entries = Array.from({ length: 40 }, (_, i) => auditSample(i));
    audit.add(0, entries.slice(0, 25));
    audit.add(25, entries.slice(25));
    expect(audit.size()).to.equal(40);
    expect(audit.writtenSize()).to.be.below(40); // the write is behind
    const want = expected(entries);
    for (const [id, s] of want.stats) expect(audit.statsOf(id)).to.deep.equal(s);
    for (const [id, indexes] of want.byAgreement) expect(await allIndexes(audit, "agreement", id)).to.deep.equal(indexes);
    expect(audit.writtenSize()).to.equal(40);
    await audit.close();
    await db.close();
  });

  it("applies entries added out of order only once the ones before them are added", async () => {
    const db = new Level(dir);
    const audit = new AuditIndex(db);
    await audit.open(0, async () => { throw new Error("nothing to read"); });
    const entries = Array.from({ length: 10 }, (_, i) => auditSample(i));
    audit.add(5, entries.slice(5));
    expect(audit.size()).to.equal(0);
    audit.add(0, entries.slice(0, 5));
    expect(audit.size()).to.equal(10);
    await audit.settled();
    await audit.close();
    await db.close();
  });

  it("retries a failed write with its keys, refusing readers meanwhile, and loses nothing", async () => {
    const db = new Level(dir);
    const logged: string[] = [];
    const audit = new AuditIndex(db, { retryMs: 20, logger: { error: (_o, msg) => logged.push(`error: ${msg}`), warn: (_o, msg) => logged.push(`warn: ${msg}`) } });
    await audit.open(0, async () => { throw new Error("nothing to read"); });
    const batch = db.batch.bind(db) as (...a: unknown[]) => Promise<void>;
    let failures = 5;
    (db as unknown as { batch: unknown }).batch = (...a: unknown[]) => (failures-- > 0 ? Promise.reject(new Error("disk full")) : batch(...a));
    const entries = Array.from({ length: 30 }, (_, i) => auditSample(i));
    audit.add(0, entries.slice(0, 10));
    const refused = await audit.settled().then(() => null, (e: Error) => e);
    expect(refused?.message).to.equal("disk full");
    audit.add(10, entries.slice(10));
    for (let i = 0; i < 100 && audit.writtenSize() < 30; i++) await new Promise((r) => setTimeout(r, 20));
    expect(audit.writtenSize()).to.equal(30);
    // One line when the outage starts and one when it ends, not one per retry.
    expect(logged).to.deep.equal(["error: audit index write failed; retrying", "warn: audit index writes resumed"]);
    await audit.close();
    await db.close();
    // Reopened from disk alone: the keys of the failed writes are there.
    const db2 = new Level(dir);
    const again = new AuditIndex(db2);
    await again.open(30, async () => { throw new Error("nothing to catch up"); });
    const want = expected(entries);
    for (const [id, indexes] of want.byAgreement) expect(await allIndexes(again, "agreement", id)).to.deep.equal(indexes);
    for (const [id, s] of want.stats) expect(again.statsOf(id)).to.deep.equal(s);
    await again.close();
    await db2.close();
  });

  it("catches up from the log on open when its writes fell behind (kill -9 at random moments, 5 times)", async function () {
    this.timeout(180_000);
    const acked = new Set<number>();
    let behind = 0; // rounds in which the kill left the index's writes behind the log
    for (let round = 0; round < 5; round++) {
      await new Promise<void>((resolve, reject) => {
        const child = spawn(process.execPath, ["-r", require.resolve("ts-node/register"), WRITER, dir], {
          env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" },
          stdio: ["ignore", "pipe", "pipe"],
        });
        let stderr = "";
        let acks = 0;
        const killAfter = 50 + Math.floor(Math.random() * 400);
        child.stderr.on("data", (d) => (stderr += d));
        readline.createInterface({ input: child.stdout }).on("line", (line) => {
          const [kind, index] = line.split(" ");
          if (kind !== "ack") return;
          acked.add(Number(index));
          if (++acks === killAfter) setTimeout(() => child.kill("SIGKILL"), Math.floor(Math.random() * 20));
        });
        child.on("error", reject);
        child.on("close", (code, signal) => (signal === "SIGKILL" ? resolve() : reject(new Error(`writer exited by itself (code ${code}): ${stderr}`))));
      });
      const db = new Level(dir);
      await db.open();
      const log = await MerkleLog.open(db.sublevel("log") as never);
      expect(log.size(), `round ${round}: every acknowledged entry is in the log`).to.be.at.least(Math.max(...acked) + 1);
      const stored = ((await db.sublevel("audit", { valueEncoding: "json" }).sublevel("meta", { valueEncoding: "json" }).get("projected")) as number | undefined) ?? 0;
      if (stored < log.size()) behind++;
      const audit = new AuditIndex(db);
      await audit.open(log.size(), (i) => log.getEntry(i));
      await expectMatchesLog(audit, log, `round ${round}`);
      await audit.close();
      await log.close();
      await db.close();
    }
    // The writer adds without waiting and is killed under load: its index writes are behind nearly always.
    expect(behind, "rounds that needed a catch-up").to.be.greaterThan(0);
  });
});
