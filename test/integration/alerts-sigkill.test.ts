/**
 * Alerts survive kill -9: the product (`scripts/start.ts`, as `npm start` runs it) logs calls that
 * raise alerts every second (one-second windows: each second with three calls refused for no
 * consent raises consent_refusals and refusal_rate) and delivers them to a webhook, and is killed
 * with SIGKILL at random moments. After the restarts, the alerts are exactly the ones the log calls
 * for — each second's, once — none doubled, and the webhook has received every one of them (at
 * least once; a delivery cut by the kill may come again with the same id).
 */
import { expect } from "chai";
import { createServer, type Server } from "node:http";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ethers, Wallet } from "ethers";
import { DclClient, publicGet, type ApiTypedData } from "../../api/client";
import type { AlertView } from "../../node/alerts/alert";
import { freePort } from "../../node/chain/anvil";
import { codeId } from "../../node/chain/ids";
import type { AccessLogEntry } from "../../node/log/entry";
import { loadKeystore } from "../../node/keys/keystore";
import { readDeployment } from "../../node/runtime/deployment";
import { ProductProcess } from "../support/product-process";

describe("alerts under kill -9", function () {
  this.timeout(600_000);
  let dir: string;
  let baseUrl: string;
  let product: ProductProcess;
  let hook: Server;
  const delivered: string[] = [];

  /** Every alert, through the pages of GET /v1/alerts. */
  async function allAlerts(regulator: DclClient): Promise<AlertView[]> {
    const out: AlertView[] = [];
    for (let after = 0; ; ) {
      const page = await regulator.get<{ alerts: AlertView[]; next: number | null }>(`/v1/alerts?after=${after}&limit=500`);
      out.push(...page.alerts);
      if (page.next === null) return out;
      after = page.next;
    }
  }

  /** Every entry the department made, through the pages of the audit trail. */
  async function trail(regulator: DclClient, consumer: string): Promise<AccessLogEntry[]> {
    const out: AccessLogEntry[] = [];
    for (let after: number | undefined; ; ) {
      const page = await regulator.get<{ entries: { entry: AccessLogEntry }[]; next: number | null }>(`/v1/audit/entries?consumer=${consumer}&limit=500${after === undefined ? "" : `&after=${after}`}`);
      out.push(...page.entries.map((e) => e.entry));
      if (page.next === null) return out;
      after = page.next;
    }
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "dcl-alerts-sigkill-"));
    hook = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", () => {
        delivered.push(String(req.headers["x-dcl-alert-id"]));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, "127.0.0.1", r));
    product = new ProductProcess({
      dataDir: dir,
      env: {
        DCL_PORT: String(await freePort()), DCL_CHAIN_PORT: String(await freePort()), DCL_LOG_LEVEL: "warn",
        DCL_ANCHOR_INTERVAL_MS: "300", DCL_INDEXER_POLL_MS: "100",
        DCL_ALERT_WEBHOOK: `http://127.0.0.1:${(hook.address() as { port: number }).port}/alerts`,
        DCL_ALERT_WINDOW_S: "1", DCL_ALERT_CONSENT_REFUSALS: "3", DCL_ALERT_REFUSAL_MIN_CALLS: "3",
      },
    });
    baseUrl = product.baseUrl;
  });

  after(async () => {
    await product.cleanUp();
    await new Promise<void>((r) => hook.close(() => r()));
    await rm(dir, { recursive: true, force: true });
  });

  it("raises each alert the log calls for exactly once across SIGKILLs, and delivers every one to the webhook", async () => {
    await product.start();
    const deployment = (await readDeployment(join(dir, "deployment.json")))!;
    const password = (await readFile(join(dir, "keys", "password"), "utf8")).trim();
    const options = { baseUrl, chainId: BigInt(deployment.chainId), registry: deployment.addresses.registry };
    const governor = new DclClient(options, codeId("cq.bigdata"), (await loadKeystore(join(dir, "keys", "operator.json"), password)) as Wallet);
    const key = () => new Wallet(Wallet.createRandom().privateKey);
    const [tax, civil, regulator] = [new DclClient(options, codeId("cq.tax"), key()), new DclClient(options, codeId("cq.civil"), key()), new DclClient(options, codeId("cq.regulator"), key())];
    for (const [code, c] of [["cq.tax", tax], ["cq.civil", civil], ["cq.regulator", regulator]] as const) {
      await governor.post("/v1/departments", { code, level: "city", signers: [c.key.address] });
    }
    await governor.post("/v1/roles", { role: "regulator", account: regulator.key.address });
    await governor.post("/v1/resources", { code: "res.people", owner: civil.department, schemaHash: ethers.ZeroHash, condition: "conditional", personal: true });
    const now = Math.floor(Date.now() / 1000);
    const ag = await tax.post<{ id: string; typedData: ApiTypedData }>("/v1/agreements", { provider: civil.department, consumer: tax.department, resource: codeId("res.people"), purpose: "checks", quota: "1000000", validFrom: now - 60, validUntil: now + 86400 });
    await civil.post(`/v1/agreements/${ag.id}/signatures`, { signature: await civil.signTypedData(ag.typedData) });
    await tax.post(`/v1/agreements/${ag.id}/signatures`, { signature: await tax.signTypedData(ag.typedData) });
    let n = 0;
    const call = () => ({ agreementId: ag.id, recordCount: 1, requestHash: ethers.id(`q${++n}`), responseHash: ethers.id(`r${n}`), subjectId: `5001011990${String(n).padStart(8, "0")}` });

    const rounds = 3;
    for (let round = 0; round < rounds; round++) {
      let stop = false;
      const calling = (async () => {
        while (!stop) {
          try {
            await tax.post("/v1/access", { calls: [call(), call(), call(), call()] }); // four refused for no consent: both rules fire in their second
          } catch {
            return; // killed mid-request
          }
        }
      })();
      await new Promise((r) => setTimeout(r, 1500 + Math.floor(Math.random() * 1500)));
      await product.kill9();
      stop = true;
      await calling;
      await product.start();
    }

    // Let the restarted node derive everything the log holds.
    for (let i = 0; i < 600; i++) {
      const metrics = await (await fetch(baseUrl + "/metrics")).text();
      const size = Number(/^dcl_log_size (\d+)$/m.exec(metrics)?.[1]);
      const derived = Number(/^dcl_alerts_derived_entries (\d+)$/m.exec(metrics)?.[1]);
      if (size > 0 && derived === size) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const alerts = await allAlerts(regulator);
    expect(alerts.length).to.be.greaterThan(0);
    expect(new Set(alerts.map((a) => a.id)).size, "alert ids are unique").to.equal(alerts.length);
    expect(new Set(alerts.map((a) => a.key)).size, "each cause raised once").to.equal(alerts.length);
    expect(alerts.map((a) => a.seq)).to.deep.equal(alerts.map((_, i) => i + 1));

    // What the log calls for: every second in which tax had three calls refused for no consent.
    const perSecond = new Map<number, number>();
    for (const e of await trail(regulator, tax.department)) if (e.refusalReason === "CONSENT_MISSING") perSecond.set(e.time, (perSecond.get(e.time) ?? 0) + 1);
    const expected = [...perSecond].filter(([, k]) => k >= 3).map(([t]) => `consent_refusals:${tax.department}:${t}`).sort();
    expect(expected.length).to.be.greaterThan(rounds);
    expect(alerts.filter((a) => a.rule === "consent_refusals").map((a) => a.key).sort()).to.deep.equal(expected);
    expect(alerts.filter((a) => a.rule === "refusal_rate").map((a) => a.key).sort()).to.deep.equal(expected.map((k) => k.replace("consent_refusals", "refusal_rate")));

    // The webhook got every alert; one cut by a kill may have come twice, never more.
    for (let i = 0; i < 600 && !alerts.every((a) => delivered.includes(a.id)); i++) await new Promise((r) => setTimeout(r, 100));
    expect([...new Set(delivered)].sort()).to.deep.equal(alerts.map((a) => a.id).sort());
    expect(delivered.length - new Set(delivered).size).to.be.at.most(rounds);
    const cp = await publicGet<{ treeSize: number }>(baseUrl, "/v1/log/checkpoint");
    expect(cp.treeSize).to.be.greaterThan(0);
  });
});
