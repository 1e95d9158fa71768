// The routes the web console reads (lists, who am I, activity over time, the trail by refusal
// reason) and the console's own serving at /ui, on a real node over real HTTP.
import { expect } from "chai";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Fastify from "fastify";
import { ethers } from "ethers";
import type { ApiTypedData } from "../../api/client";
import { uiRoutes } from "../../api/routes/ui";
import { refused } from "../support/api-refused";
import { startApiHarness, type ApiHarness } from "../support/api-harness";
import { D, R } from "../support/node-harness";

interface Activity {
  from: number;
  to: number;
  bucketSeconds: number;
  bucketStarts: number[];
  entries: number;
  departments: { department: string; served: number[]; refused: number[]; provided: number[] }[];
  agreements: { agreementId: string; records: number[] }[];
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe("api routes of the console", function () {
  let h: ApiHarness;
  let agreementId: string;
  let transferId: string;
  let subject: string;

  before(async () => {
    h = await startApiHarness();
    const t = Math.floor(Date.now() / 1000);
    const d = await h.client.tax.post<{ id: string; typedData: ApiTypedData }>("/v1/agreements", {
      provider: D.water, consumer: D.tax, resource: R.waterFees, purpose: "console", quota: "100", validFrom: t - 60, validUntil: t + 3600,
    });
    for (const p of [h.client.water, h.client.tax]) await p.post(`/v1/agreements/${d.id}/signatures`, { signature: await p.signTypedData(d.typedData) });
    agreementId = d.id;
    const call = (i: number, records: number) => ({ agreementId, recordCount: records, requestHash: ethers.id(`req ${i}`), responseHash: ethers.id(`resp ${i}`) });
    // 3 served (10 + 20 + 30 records), 1 refused over quota.
    await h.client.tax.post("/v1/access", { calls: [call(0, 10), call(1, 20), call(2, 30), call(3, 500)] });

    const records = [{ payer: "91500000MA5U000001", permitNo: "CQ-WR-2024-001", period: "202405", volumeM3: "100", rateFenPerM3: "15", amountFen: "1500" }];
    const x = await h.client.water.post<{ id: string; typedData: ApiTypedData }>("/v1/transfers", { to: D.tax, category: "water-resource-fee", period: 202405, records });
    for (const p of [h.client.water, h.client.tax]) await p.post(`/v1/transfers/${x.id}/signatures`, { signature: await p.signTypedData(x.typedData) });
    transferId = x.id;

    const c = await h.client.civil.post<{ id: string; subject: string; typedData: ApiTypedData }>("/v1/consents", {
      subjectId: "500103199001010011", grantee: D.tax, resource: R.residents, purpose: "console", kind: "explicit", validUntil: t + 3600, evidenceHash: ethers.id("form"),
    });
    await h.client.civil.post(`/v1/consents/${c.id}/signatures`, { signature: await h.client.civil.signTypedData(c.typedData) });
    subject = c.subject;
    await h.node.indexer.syncOnce();
  });
  after(async () => h?.stop());

  it("lists every department with its level and signers to any signed department", async () => {
    const r = await h.client.water.get<{ departments: { id: string; level: string; active: boolean; signers: string[] }[] }>("/v1/departments");
    const tax = r.departments.find((d) => d.id === D.tax)!;
    expect(tax).to.include({ level: "city", active: true });
    expect(tax.signers).to.deep.equal([h.keys.tax.address.toLowerCase()]);
    expect(r.departments.map((d) => d.id)).to.include.members(Object.values(D));
  });

  it("tells anyone, unsigned, the chain and contracts the node serves and its log", async () => {
    const res = await fetch(h.baseUrl + "/v1/deployment");
    expect(res.status).to.equal(200);
    const d = (await res.json()) as { chainId: string; registry: string; contracts: Record<string, string>; logId: string; operatorDepartment: string };
    expect(d).to.include({ chainId: "31337", registry: h.addresses.registry.toLowerCase(), logId: h.node.logId, operatorDepartment: D.bigdata });
    expect(d.contracts.agreements).to.equal(h.addresses.agreements.toLowerCase());
  });

  it("tells a signed request who it is and which roles its key holds", async () => {
    expect(await h.client.regulator.get("/v1/whoami")).to.deep.equal({ department: D.regulator, signer: h.keys.regulator.address.toLowerCase(), roles: ["regulator"] });
    expect(await h.client.tax.get("/v1/whoami")).to.deep.include({ roles: [] });
    expect((await h.governor.get<{ roles: string[] }>("/v1/whoami")).roles).to.include("governor");
    const res = await fetch(h.baseUrl + "/v1/whoami");
    expect([res.status, ((await res.json()) as { error: { code: string } }).error.code]).to.deep.equal([401, "AUTH_MISSING"]);
  });

  it("lists agreements with their records served, filtered by status and party", async () => {
    const all = await h.client.cad.get<{ agreements: { id: string; usage: string; quota: string; status: string }[] }>("/v1/agreements");
    expect(all.agreements.find((a) => a.id === agreementId)).to.include({ usage: "60", quota: "100", status: "active" });
    expect((await h.client.cad.get<{ agreements: unknown[] }>(`/v1/agreements?party=${D.cad}`)).agreements).to.have.length(0);
    expect((await h.client.cad.get<{ agreements: unknown[] }>(`/v1/agreements?party=${D.water}&status=active`)).agreements).to.have.length(1);
    expect((await h.client.cad.get<{ agreements: unknown[] }>("/v1/agreements?status=suspended")).agreements).to.have.length(0);
    await refused(h.client.cad.get("/v1/agreements?status=paused"), 400, "VALIDATION_FAILED");
  });

  it("lists transfers to their parties, the regulator and the exchange only", async () => {
    for (const who of [h.client.water, h.client.tax, h.client.regulator, h.client.exchange]) {
      const r = await who.get<{ transfers: { id: string; recordCount: string; totalFen: string }[] }>("/v1/transfers");
      expect(r.transfers.map((t) => t.id)).to.deep.equal([transferId]);
      expect(r.transfers[0]).to.include({ recordCount: "1", totalFen: "1500" });
    }
    expect((await h.client.civil.get<{ transfers: unknown[] }>("/v1/transfers")).transfers).to.deep.equal([]);
  });

  it("lists the consents of a subject commitment", async () => {
    const r = await h.client.tax.get<{ subject: string; consents: { subject: string; grantee: string; kind: number; revokedAt: number }[] }>(`/v1/consents?subject=${subject}`);
    expect(r.consents).to.have.length(1);
    expect(r.consents[0]).to.include({ subject, grantee: D.tax, kind: 1, revokedAt: 0 });
    expect((await h.client.tax.get<{ consents: unknown[] }>(`/v1/consents?subject=${ethers.ZeroHash}`)).consents).to.deep.equal([]);
    await refused(h.client.tax.get("/v1/consents"), 400, "VALIDATION_FAILED");
  });

  it("counts calls served and refused per department and records per agreement in time buckets", async () => {
    const a = await h.client.regulator.get<Activity>("/v1/activity?buckets=5");
    expect(a.entries).to.equal(4);
    expect(a.bucketStarts).to.have.length(5);
    expect(a.bucketStarts[1] - a.bucketStarts[0]).to.equal(a.bucketSeconds);
    const tax = a.departments.find((d) => d.department === D.tax)!;
    expect([sum(tax.served), sum(tax.refused), sum(tax.provided)]).to.deep.equal([3, 1, 0]);
    const water = a.departments.find((d) => d.department === D.water)!;
    expect([sum(water.served), sum(water.refused), sum(water.provided)]).to.deep.equal([0, 0, 3]);
    expect(sum(a.agreements.find((x) => x.agreementId === agreementId)!.records)).to.equal(60);
    // A window before the first entry holds none of them.
    const before = await h.client.regulator.get<Activity>(`/v1/activity?from=${a.from - 100}&to=${a.from}`);
    expect(before.entries).to.equal(0);
  });

  it("shows a department only the entries it is a party to", async () => {
    const civil = await h.client.civil.get<Activity>("/v1/activity");
    expect([civil.entries, civil.departments.length, civil.agreements.length]).to.deep.equal([0, 0, 0]);
    const water = await h.client.water.get<Activity>("/v1/activity");
    expect(water.entries).to.equal(4); // the refused call names water as its provider too
    expect(water.departments.map((d) => [d.department, sum(d.provided), sum(d.served)])).to.deep.equal([[D.water, 3, 0]]);
  });

  it("refuses an activity window that ends before it starts, or too many buckets", async () => {
    await refused(h.client.regulator.get("/v1/activity?from=200&to=100"), 400, "VALIDATION_FAILED");
    await refused(h.client.regulator.get("/v1/activity?buckets=201"), 400, "VALIDATION_FAILED");
    await refused(h.client.regulator.get("/v1/activity?from=-1"), 400, "VALIDATION_FAILED");
  });

  it("filters the trail by refusal reason", async () => {
    const q = await h.client.regulator.get<{ entries: { index: number; entry: { refusalReason: string } }[] }>(`/v1/audit/entries?consumer=${D.tax}&reason=QUOTA_EXCEEDED`);
    expect(q.entries.map((e) => [e.index, e.entry.refusalReason])).to.deep.equal([[3, "QUOTA_EXCEEDED"]]);
    expect((await h.client.regulator.get<{ entries: unknown[] }>(`/v1/audit/entries?consumer=${D.tax}&reason=CONSENT_MISSING`)).entries).to.deep.equal([]);
    await refused(h.client.regulator.get(`/v1/audit/entries?consumer=${D.tax}&reason=BORED`), 400, "VALIDATION_FAILED");
  });
});

describe("the console at /ui", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "dcl-ui-"));
    await mkdir(join(dir, "built", "assets"), { recursive: true });
    await writeFile(join(dir, "built", "index.html"), "<!doctype html><title>console</title>");
    await writeFile(join(dir, "built", "assets", "main-ABC.js"), "console.log(1)");
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it("answers index.html for every view's URL, assets with a long cache, all under a same-origin-only policy", async () => {
    const app = Fastify();
    await app.register(uiRoutes, { dist: join(dir, "built") });
    const root = await app.inject("/ui");
    expect([root.statusCode, root.headers.location]).to.deep.equal([302, "/ui/"]);
    for (const url of ["/ui/", "/ui/trail?agreement=0x12", "/ui/agreements/0xabc"]) {
      const res = await app.inject(url);
      expect(res.statusCode, url).to.equal(200);
      expect(res.body).to.contain("<title>console</title>");
      expect(res.headers["content-security-policy"]).to.contain("default-src 'self'").and.contain("connect-src 'self'");
    }
    const asset = await app.inject("/ui/assets/main-ABC.js");
    expect(asset.statusCode).to.equal(200);
    expect(asset.headers["cache-control"]).to.contain("immutable");
    expect((await app.inject("/ui/assets/missing.js")).statusCode).to.equal(404);
    await app.close();
  });

  it("says how to build the console when it is not built", async () => {
    const app = Fastify();
    await app.register(uiRoutes, { dist: join(dir, "nothing-here") });
    const res = await app.inject("/ui/overview");
    expect(res.statusCode).to.equal(503);
    expect(res.body).to.contain("npm run build:ui");
    await app.close();
  });
});
