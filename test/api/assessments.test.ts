/**
 * GET /v1/audit/assessments (JSON and CSV) and GET /v1/audit/period-bundle over real HTTP: the
 * regulator's assessment of a period, and a bundle from which the same assessment is recomputed.
 */
import { expect } from "chai";
import { ethers } from "ethers";
import type { ApiTypedData } from "../../api/client";
import { buildApp } from "../../api/app";
import type { Assessment } from "../../node/assessment/assess";
import { quarterOf } from "../../node/assessment/period";
import type { PeriodBundle } from "../../node/assessment/period-bundle";
import { verifyPeriodBundle } from "../../node/assessment/verify-period-bundle";
import { encodeEntry, type AccessLogEntry } from "../../node/log/entry";
import { leafHash, toHex } from "../../node/verify";
import { startApiHarness, type ApiHarness } from "../support/api-harness";
import { refused } from "../support/api-refused";
import { D, R } from "../support/node-harness";

const now = () => Math.floor(Date.now() / 1000);

describe("assessments API (over HTTP, against anvil)", function () {
  let h: ApiHarness;
  let from: number;
  let to: number;
  let agreementId: string;

  before(async () => {
    h = await startApiHarness();
    const { tax, water } = h.client;
    const d = await tax.post<{ id: string; typedData: ApiTypedData }>("/v1/agreements", {
      provider: D.water, consumer: D.tax, resource: R.waterFees, purpose: "fees", quota: "100", validFrom: now() - 60, validUntil: now() + 3600,
    });
    await water.post(`/v1/agreements/${d.id}/signatures`, { signature: await water.signTypedData(d.typedData) });
    await tax.post(`/v1/agreements/${d.id}/signatures`, { signature: await tax.signTypedData(d.typedData) });
    agreementId = d.id;
    const call = (n: number) => ({ agreementId, recordCount: n, requestHash: ethers.hexlify(ethers.randomBytes(32)), responseHash: ethers.hexlify(ethers.randomBytes(32)) });
    from = now();
    await tax.post("/v1/access", { calls: [call(30), call(30), call(50)] }); // the third is beyond the quota
    to = now() + 1;
  });
  after(async () => h?.stop());

  it("gives the regulator the assessment of a period, anchored first, with the rule texts", async () => {
    const a = await h.client.regulator.get<Assessment>(`/v1/audit/assessments?from=${from}&to=${to}`);
    expect(a.version).to.equal("dcl-assessment/v1");
    expect(a.period).to.deep.equal({ from, to });
    expect(a.basis).to.deep.include({ begin: 0, end: 3, treeSize: 3, closed: false });
    expect(a.rules.map((r) => r.id)).to.include.members(["sharing-target-95", "non-conforming-20-30"]);
    const tax = a.departments.find((d) => d.department === D.tax)!;
    expect(tax.asConsumer).to.deep.include({ calls: 3, served: 2, refused: 1, records: 60, refusedByReason: { QUOTA_EXCEEDED: 1 } });
    expect(tax.asConsumer.agreements[0]).to.deep.include({ agreementId, quota: "100", shareOfQuota: "0.6000" });
    expect(tax.scoring.pointsDeducted).to.equal("0.2"); // 1 of 3 non-conforming: above 30 %
    const one = await h.client.regulator.get<Assessment>(`/v1/audit/assessments?from=${from}&to=${to}&department=${D.water}`);
    expect(one.departments.map((d) => d.department)).to.deep.equal([D.water]);
    expect(one.departments[0].asProvider).to.deep.include({ calls: 3, served: 2, records: 60 });
  });

  it("answers CSV for format=csv or Accept: text/csv", async () => {
    for (const [path, headers] of [[`/v1/audit/assessments?from=${from}&to=${to}&format=csv`, {}], [`/v1/audit/assessments?from=${from}&to=${to}`, { accept: "text/csv" }]] as const) {
      const auth = await h.client.regulator.signHeaders("GET", path, new Uint8Array());
      const res = await fetch(h.baseUrl + path, { headers: { ...auth, ...headers } });
      expect(res.status).to.equal(200);
      expect(res.headers.get("content-type")).to.equal("text/csv; charset=utf-8");
      const lines = (await res.text()).trimEnd().split("\r\n");
      expect(lines[0]).to.match(/^period_from,period_to,department,role,calls,/);
      expect(lines).to.include(`${from},${to},${D.tax},consumer,3,2,1,60,1.0000,0.3333,0,0,QUOTA_EXCEEDED:1,,,0.2`);
    }
  });

  it("takes a quarter in China Standard Time, the current one by default", async () => {
    const q = quarterOf(now());
    const a = await h.client.regulator.get<Assessment>(`/v1/audit/assessments?period=${q.label}`);
    expect(a.period).to.deep.equal(q);
    expect((await h.client.regulator.get<Assessment>("/v1/audit/assessments")).period).to.deep.equal(q);
    expect(a.departments.find((d) => d.department === D.tax)?.asConsumer.calls).to.equal(3);
  });

  it("serves a period bundle that verifies and recomputes exactly the API's assessment", async () => {
    const bundle = await h.client.regulator.get<PeriodBundle>(`/v1/audit/period-bundle?from=${from}&to=${to}`);
    const served = await h.client.regulator.get<Assessment>(`/v1/audit/assessments?from=${from}&to=${to}&treeSize=${bundle.checkpoint.treeSize}`);
    const r = await verifyPeriodBundle(bundle);
    expect(r.checks.filter((c) => !c.ok)).to.deep.equal([]);
    expect(r.assessment).to.deep.equal(served);
  });

  it("refuses other departments, malformed periods and checkpoints never anchored", async () => {
    await refused(h.client.tax.get(`/v1/audit/assessments?from=${from}&to=${to}`), 403, "FORBIDDEN_ROLE");
    await refused(h.client.tax.get(`/v1/audit/period-bundle?from=${from}&to=${to}`), 403, "FORBIDDEN_ROLE");
    for (const q of ["period=2026Q5", "period=2026Q4&from=1", `from=${to}&to=${from}`, `from=${from}`, "period=1969Q4", `from=${from}&to=${to}&format=xml`]) {
      await refused(h.client.regulator.get(`/v1/audit/assessments?${q}`), 400, "VALIDATION_FAILED");
    }
    await refused(h.client.regulator.get(`/v1/audit/period-bundle?from=${from}&to=${to}&treeSize=2`), 404, "NOT_FOUND");
  });

  it("logs the timing a call reports with its entry (encoding 0x02) and gives the period's timeliness from it", async () => {
    const t0 = now();
    const call = (extra: Record<string, number>) => ({ agreementId, recordCount: 1, requestHash: ethers.hexlify(ethers.randomBytes(32)), responseHash: ethers.hexlify(ethers.randomBytes(32)), ...extra });
    const r = await h.client.tax.post<{ results: { leafHash: string; entry: AccessLogEntry }[] }>("/v1/access", { calls: [call({ calledAt: t0 - 30, latencyMs: 120 }), call({ latencyMs: 80 })] });
    const [a, b] = r.results;
    expect(a.entry).to.deep.include({ calledAt: t0 - 30, latencyMs: 120 });
    expect(b.entry).to.not.have.property("calledAt");
    const bytes = encodeEntry(a.entry);
    expect(bytes[0]).to.equal(2);
    expect(toHex(leafHash(bytes))).to.equal(a.leafHash); // the client rebuilds the leaf from the entry as logged
    const assessed = await h.client.regulator.get<Assessment>(`/v1/audit/assessments?from=${t0}&to=${now() + 1}&department=${D.tax}`);
    const timeliness = assessed.departments[0].asConsumer.timeliness;
    expect(timeliness.reported).to.equal(1);
    expect(timeliness.logDelaySeconds!.max).to.be.at.least(30);
    expect(timeliness).to.deep.include({ withLatency: 2, latencyMs: { median: 80, p95: 120, max: 120 } });
    await refused(h.client.tax.post("/v1/access", { calls: [call({ calledAt: now() + 3600 })] }), 400, "VALIDATION_FAILED");
    await refused(h.client.tax.post("/v1/access", { calls: [call({ latencyMs: 2 ** 32 })] }), 400, "VALIDATION_FAILED");
  });

  it("refuses a period bundle beyond the configured number of entries", async () => {
    const app = await buildApp({ node: h.node, logger: false, periodBundleMaxEntries: 2 });
    try {
      const path = `/v1/audit/period-bundle?from=${from}&to=${to}`;
      const res = await app.inject({ method: "GET", url: path, headers: await h.client.regulator.signHeaders("GET", path, new Uint8Array()) });
      expect(res.statusCode).to.equal(400);
      expect(res.json().error.code).to.equal("PERIOD_TOO_LARGE");
      expect(res.json().error.message).to.match(/the period holds \d+ entries in the tree of size \d+, a period bundle at most 2/);
    } finally {
      await app.close();
    }
  });
});
