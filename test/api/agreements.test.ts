import { expect } from "chai";
import { ethers } from "ethers";
import type { ApiTypedData, DclClient } from "../../api/client";
import { refused } from "../support/api-refused";
import { startApiHarness, type ApiHarness } from "../support/api-harness";
import { D, R } from "../support/node-harness";


interface Drafted {
  id: string;
  typedData: ApiTypedData;
}

interface AgreementView {
  id: string;
  onChain?: { status: string; quota: string };
  usage: string;
  typedData: Record<string, ApiTypedData>;
}

interface AccessAnswer {
  served: number;
  refused: number;
  results: { index: number; outcome: string; refusalReason?: string }[];
}

const now = () => Math.floor(Date.now() / 1000);
let seq = 0;
/** One logged call of `records` records under agreement `id`. */
const callOf = (id: string, records: number) => ({ agreementId: id, recordCount: records, requestHash: ethers.id(`req ${++seq}`), responseHash: ethers.id(`resp ${seq}`) });

describe("api agreements", function () {
  let h: ApiHarness;
  before(async () => (h = await startApiHarness()));
  after(async () => h?.stop());

  /** Water provides its fees to tax: drafted by tax, signed by both, on chain. */
  async function activeAgreement(quota: number, purpose = "reconcile water fees"): Promise<string> {
    const t = now();
    const d = await h.client.tax.post<Drafted>("/v1/agreements", { provider: D.water, consumer: D.tax, resource: R.waterFees, purpose, quota: String(quota), validFrom: t - 60, validUntil: t + 3600 });
    await h.client.water.post(`/v1/agreements/${d.id}/signatures`, { signature: await h.client.water.signTypedData(d.typedData) });
    const r = await h.client.tax.post<{ active: boolean }>(`/v1/agreements/${d.id}/signatures`, { signature: await h.client.tax.signTypedData(d.typedData) });
    expect(r.active).to.equal(true);
    return d.id;
  }

  const access = (c: DclClient, ...calls: ReturnType<typeof callOf>[]) => c.post<AccessAnswer>("/v1/access", { calls });

  describe("drafting and signing", () => {
    it("refuses a draft by a department that is not a party", async () => {
      const t = now();
      await refused(
        h.client.cad.post("/v1/agreements", { provider: D.water, consumer: D.tax, resource: R.waterFees, purpose: "p", quota: "10", validFrom: t, validUntil: t + 3600 }),
        403,
        "FORBIDDEN_NOT_PARTY",
      );
    });

    it("refuses drafts naming an unknown resource or department, or a provider that does not own the resource", async () => {
      const t = now();
      const terms = { provider: D.water, consumer: D.tax, resource: R.waterFees, purpose: "p", quota: "10", validFrom: t, validUntil: t + 3600 };
      await refused(h.client.tax.post("/v1/agreements", { ...terms, resource: ethers.id("no resource") }), 404, "NOT_FOUND");
      await refused(h.client.water.post("/v1/agreements", { ...terms, consumer: ethers.id("no department") }), 404, "NOT_FOUND");
      await refused(h.client.cad.post("/v1/agreements", { ...terms, provider: D.cad, consumer: D.tax }), 400, "PROVIDER_NOT_OWNER");
      await refused(h.client.tax.post("/v1/agreements", { ...terms, quota: "0" }), 400, "QUOTA_ZERO");
      await refused(h.client.tax.post("/v1/agreements", { ...terms, purposeHash: ethers.id("p") }), 400, "VALIDATION_FAILED");
    });

    it("refuses to draft over a resource that is not shareable", async () => {
      const t = now();
      await refused(
        h.client.cad.post("/v1/agreements", { provider: D.cad, consumer: D.tax, resource: R.secret, purpose: "p", quota: "10", validFrom: t, validUntil: t + 3600 }),
        409,
        "RESOURCE_NOT_SHAREABLE",
      );
    });

    it("refuses a signature by another department's key, and a malformed one, then activates with both parties' signatures", async () => {
      const t = now();
      const d = await h.client.tax.post<Drafted>("/v1/agreements", { provider: D.water, consumer: D.tax, resource: R.waterFees, purpose: "sig checks", quota: "10", validFrom: t - 60, validUntil: t + 3600 });
      expect(d.typedData.primaryType).to.equal("Agreement");

      // Water posts a signature made with tax's key.
      await refused(h.client.water.post(`/v1/agreements/${d.id}/signatures`, { signature: await h.client.tax.signTypedData(d.typedData) }), 403, "SIGNATURE_INVALID");
      // Not 65 bytes: the schema refuses it.
      await refused(h.client.water.post(`/v1/agreements/${d.id}/signatures`, { signature: "0x1234" }), 400, "VALIDATION_FAILED");
      // 65 bytes that are no signature.
      await refused(h.client.water.post(`/v1/agreements/${d.id}/signatures`, { signature: "0x" + "00".repeat(64) + "1b" }), 400, "SIGNATURE_MALFORMED");
      // A department that is not a party.
      await refused(h.client.cad.post(`/v1/agreements/${d.id}/signatures`, { signature: await h.client.cad.signTypedData(d.typedData) }), 403, "FORBIDDEN_NOT_PARTY");

      const first = await h.client.water.post<{ active: boolean }>(`/v1/agreements/${d.id}/signatures`, { signature: await h.client.water.signTypedData(d.typedData) });
      expect(first.active).to.equal(false);
      let view = await h.client.tax.get<AgreementView>(`/v1/agreements/${d.id}`);
      expect(view.onChain).to.equal(undefined);
      expect(view.typedData).to.have.keys(["activation", "cancellation"]);

      const second = await h.client.tax.post<{ active: boolean }>(`/v1/agreements/${d.id}/signatures`, { signature: await h.client.tax.signTypedData(d.typedData) });
      expect(second.active).to.equal(true);
      view = await h.client.tax.get<AgreementView>(`/v1/agreements/${d.id}`);
      expect(view.onChain?.status).to.equal("active");
      expect(view.onChain?.quota).to.equal("10");
      expect(view.typedData).to.have.keys(["activation", "revocation", "suspension"]);
      expect(view.typedData.revocation.primaryType).to.equal("AgreementRevocation");
      expect(view.typedData.suspension.primaryType).to.equal("AgreementStatusChange");

      await refused(h.client.water.post(`/v1/agreements/${d.id}/signatures`, { signature: await h.client.water.signTypedData(d.typedData) }), 409, "AGREEMENT_ALREADY_ACTIVE");
    });
  });

  describe("suspension, resumption and revocation", () => {
    it("lets the regulator suspend (calls refused) and resume (calls served); refuses a non-regulator", async () => {
      const id = await activeAgreement(1000);
      expect((await access(h.client.tax, callOf(id, 1))).served).to.equal(1);

      const reason = "complaint under investigation";
      const view = await h.client.regulator.get<AgreementView>(`/v1/agreements/${id}?reason=${encodeURIComponent(reason)}`);
      const suspension = view.typedData.suspension;
      expect(suspension.message.reasonHash).to.equal(ethers.id(reason));
      const byHash = await h.client.regulator.get<AgreementView>(`/v1/agreements/${id}?reasonHash=${ethers.id(reason)}`);
      expect(byHash.typedData.suspension).to.deep.equal(suspension);
      await refused(h.client.regulator.get(`/v1/agreements/${id}?reason=x&reasonHash=${ethers.id("x")}`), 400, "VALIDATION_FAILED");
      // Signed for no reason but posted with one: the signature is over other data.
      const noReason = (await h.client.regulator.get<AgreementView>(`/v1/agreements/${id}`)).typedData.suspension;
      await refused(h.client.regulator.post(`/v1/agreements/${id}/suspend`, { signature: await h.client.regulator.signTypedData(noReason), reason }), 403, "FORBIDDEN_ROLE");

      // Signed by a department key without the regulator role.
      await refused(h.client.tax.post(`/v1/agreements/${id}/suspend`, { signature: await h.client.tax.signTypedData(suspension), reason }), 403, "FORBIDDEN_ROLE");
      expect((await h.client.tax.get<AgreementView>(`/v1/agreements/${id}`)).onChain?.status).to.equal("active");

      const s = await h.client.regulator.post<{ status: string }>(`/v1/agreements/${id}/suspend`, { signature: await h.client.regulator.signTypedData(suspension), reason });
      expect(s.status).to.equal("suspended");
      const refusedCall = await access(h.client.tax, callOf(id, 1));
      expect([refusedCall.served, refusedCall.refused]).to.deep.equal([0, 1]);
      expect(refusedCall.results[0].refusalReason).to.equal("AGREEMENT_SUSPENDED");
      // Already suspended.
      await refused(h.client.regulator.post(`/v1/agreements/${id}/suspend`, { signature: await h.client.regulator.signTypedData(suspension), reason }), 409, "AGREEMENT_WRONG_STATUS");

      const suspended = await h.client.regulator.get<AgreementView>(`/v1/agreements/${id}`);
      expect(suspended.typedData).to.have.property("resumption");
      expect(suspended.typedData).to.not.have.property("suspension");
      await refused(h.client.tax.post(`/v1/agreements/${id}/resume`, { signature: await h.client.tax.signTypedData(suspended.typedData.resumption) }), 403, "FORBIDDEN_ROLE");
      const r = await h.client.regulator.post<{ status: string }>(`/v1/agreements/${id}/resume`, { signature: await h.client.regulator.signTypedData(suspended.typedData.resumption) });
      expect(r.status).to.equal("active");
      expect((await access(h.client.tax, callOf(id, 1))).served).to.equal(1);
    });

    it("refuses a replayed suspension signature after a resume (per-agreement nonce)", async () => {
      const id = await activeAgreement(1000);
      const first = (await h.client.regulator.get<AgreementView>(`/v1/agreements/${id}`)).typedData.suspension;
      const sig = await h.client.regulator.signTypedData(first);
      await h.client.regulator.post(`/v1/agreements/${id}/suspend`, { signature: sig });
      const resume = (await h.client.regulator.get<AgreementView>(`/v1/agreements/${id}`)).typedData.resumption;
      await h.client.regulator.post(`/v1/agreements/${id}/resume`, { signature: await h.client.regulator.signTypedData(resume) });
      // The old signature was over nonce 0: it now recovers to some other key, which holds no role.
      await refused(h.client.regulator.post(`/v1/agreements/${id}/suspend`, { signature: sig }), 403, "FORBIDDEN_ROLE");
      expect((await h.client.tax.get<AgreementView>(`/v1/agreements/${id}`)).onChain?.status).to.equal("active");
    });

    it("lets the provider revoke (calls refused), refuses a revocation by the consumer", async () => {
      const id = await activeAgreement(1000);
      const view = await h.client.water.get<AgreementView>(`/v1/agreements/${id}`);
      const revocation = view.typedData.revocation;
      await refused(h.client.tax.post(`/v1/agreements/${id}/revoke`, { signature: await h.client.tax.signTypedData(revocation) }), 403, "FORBIDDEN_NOT_PARTY");
      // The provider's department posting a key that is not its signer.
      await refused(h.client.water.post(`/v1/agreements/${id}/revoke`, { signature: await h.client.tax.signTypedData(revocation) }), 403, "SIGNATURE_INVALID");
      expect((await access(h.client.tax, callOf(id, 1))).served).to.equal(1);

      const r = await h.client.water.post<{ status: string }>(`/v1/agreements/${id}/revoke`, { signature: await h.client.water.signTypedData(revocation) });
      expect(r.status).to.equal("revoked");
      const out = await access(h.client.tax, callOf(id, 1));
      expect(out.results[0].outcome).to.equal("refused");
      expect(out.results[0].refusalReason).to.equal("AGREEMENT_REVOKED");
      await refused(h.client.water.post(`/v1/agreements/${id}/revoke`, { signature: await h.client.water.signTypedData(revocation) }), 409, "AGREEMENT_ALREADY_REVOKED");
      const after = await h.client.tax.get<AgreementView>(`/v1/agreements/${id}`);
      expect(after.onChain?.status).to.equal("revoked");
      expect(after.typedData).to.not.have.property("suspension");
    });

    it("refuses calls by a department that is not the consumer", async () => {
      const id = await activeAgreement(1000);
      const out = await access(h.client.cad, callOf(id, 1));
      expect(out.results[0].refusalReason).to.equal("NOT_AGREEMENT_CONSUMER");
      expect((await h.client.tax.get<AgreementView>(`/v1/agreements/${id}`)).usage).to.equal("0");
    });
  });

  describe("quota", () => {
    it("refuses an over-quota call and shows it to the regulator in the trail and the statistics", async () => {
      const id = await activeAgreement(5);
      const first = await access(h.client.tax, callOf(id, 3));
      expect(first.served).to.equal(1);
      const over = await access(h.client.tax, callOf(id, 3));
      expect([over.served, over.refused]).to.deep.equal([0, 1]);
      expect(over.results[0].refusalReason).to.equal("QUOTA_EXCEEDED");
      // What is left still fits.
      expect((await access(h.client.tax, callOf(id, 2))).served).to.equal(1);
      expect((await h.client.tax.get<AgreementView>(`/v1/agreements/${id}`)).usage).to.equal("5");

      const trail = await h.client.regulator.get<{ entries: { index: number; entry: { outcome: string; refusalReason: string; agreementId: string; recordCount: number } }[] }>(
        `/v1/audit/entries?agreement=${id}&outcome=refused`,
      );
      expect(trail.entries).to.have.length(1);
      expect(trail.entries[0].index).to.equal(over.results[0].index);
      expect(trail.entries[0].entry).to.include({ outcome: "refused", refusalReason: "QUOTA_EXCEEDED", agreementId: id, recordCount: 0 });
      const all = await h.client.regulator.get<{ entries: unknown[] }>(`/v1/audit/entries?agreement=${id}`);
      expect(all.entries).to.have.length(3);

      const stats = await h.client.regulator.get<{ calls: { refusalsByReason: Record<string, number> }; quota: { agreementId: string; role: string; used: string; quota: string }[] }>(
        `/v1/audit/stats/${D.tax}`,
      );
      expect(stats.calls.refusalsByReason.QUOTA_EXCEEDED).to.be.at.least(1);
      expect(stats.quota.find((q) => q.agreementId === id)).to.include({ role: "consumer", used: "5", quota: "5" });
      const provider = await h.client.regulator.get<{ quota: { agreementId: string; role: string }[] }>(`/v1/audit/stats/${D.water}`);
      expect(provider.quota.find((q) => q.agreementId === id)?.role).to.equal("provider");

      await refused(h.client.tax.get(`/v1/audit/entries?agreement=${id}&outcome=refused`), 403, "FORBIDDEN_ROLE");
      await refused(h.client.tax.get(`/v1/audit/stats/${D.tax}`), 403, "FORBIDDEN_ROLE");
    });

    it("never overruns a quota under concurrency: 30 concurrent calls of 10 records against 100 serve exactly 10", async () => {
      const id = await activeAgreement(100);
      const answers = await Promise.all(Array.from({ length: 30 }, () => access(h.client.tax, callOf(id, 10))));
      const served = answers.reduce((n, a) => n + a.served, 0);
      const refusals = answers.flatMap((a) => a.results).filter((r) => r.outcome === "refused");
      expect(served).to.equal(10);
      expect(refusals).to.have.length(20);
      expect(refusals.every((r) => r.refusalReason === "QUOTA_EXCEEDED")).to.equal(true);
      expect((await h.client.tax.get<AgreementView>(`/v1/agreements/${id}`)).usage).to.equal("100");
      const trail = await h.client.regulator.get<{ entries: { index: number; entry: { outcome: string; recordCount: number } }[] }>(`/v1/audit/entries?agreement=${id}&outcome=served`);
      expect(trail.entries).to.have.length(10);
      expect(trail.entries.reduce((n, e) => n + e.entry.recordCount, 0)).to.equal(100);

      // The same trail, four entries a page.
      const pages: number[][] = [];
      let after: number | null = -1;
      while (after !== null && pages.length < 5) {
        const q: string = after < 0 ? "" : `&after=${after}`;
        const page: { entries: { index: number }[]; next: number | null } = await h.client.regulator.get(`/v1/audit/entries?agreement=${id}&outcome=served&limit=4${q}`);
        if (page.entries.length) pages.push(page.entries.map((e) => e.index));
        after = page.next;
      }
      expect(pages.map((p) => p.length)).to.deep.equal([4, 4, 2]);
      expect(pages.flat()).to.deep.equal(trail.entries.map((e) => e.index));
    });
  });

  // Review finding "Signed terms without a deadline" (issue 9): terms one party signed and abandoned could be
  // activated by the other party at any later time.
  describe("cancellation of a draft (issue 9: signed terms without a deadline)", () => {
    it("lets either party cancel a draft the other has signed: its signature is then refused (DRAFT_CANCELLED) and the chain refuses the terms", async () => {
      const t = now();
      const d = await h.client.tax.post<Drafted>("/v1/agreements", { provider: D.water, consumer: D.tax, resource: R.waterFees, purpose: "cancelled later", quota: "10", validFrom: t - 60, validUntil: t + 3600 });
      await h.client.water.post(`/v1/agreements/${d.id}/signatures`, { signature: await h.client.water.signTypedData(d.typedData) });
      const view = await h.client.tax.get<AgreementView>(`/v1/agreements/${d.id}`);
      const cancellation = view.typedData.cancellation;
      expect(cancellation.primaryType).to.equal("AgreementCancellation");
      expect(cancellation.message).to.deep.equal({ agreementId: d.id });
      await refused(h.client.cad.post(`/v1/agreements/${d.id}/cancel`, { signature: await h.client.cad.signTypedData(cancellation) }), 403, "FORBIDDEN_NOT_PARTY");
      await refused(h.client.tax.post(`/v1/agreements/${d.id}/cancel`, { signature: await h.client.water.signTypedData(cancellation) }), 403, "SIGNATURE_INVALID");

      const c = await h.client.tax.post<{ id: string; cancelled: boolean; tx: string }>(`/v1/agreements/${d.id}/cancel`, { signature: await h.client.tax.signTypedData(cancellation) });
      expect(c.cancelled).to.equal(true);
      expect(await h.node.client.reader.agreements.cancelledAt(d.id)).to.be.greaterThan(0n);
      await refused(h.client.tax.post(`/v1/agreements/${d.id}/signatures`, { signature: await h.client.tax.signTypedData(d.typedData) }), 409, "DRAFT_CANCELLED");
      await refused(h.client.water.post(`/v1/agreements/${d.id}/cancel`, { signature: await h.client.water.signTypedData(cancellation) }), 409, "DRAFT_CANCELLED");
      const after = await h.client.tax.get<AgreementView & { draft: { cancellation?: { department: string } } }>(`/v1/agreements/${d.id}`);
      expect(after.draft.cancellation?.department).to.equal(D.tax);
      expect(after.typedData).to.not.have.property("cancellation");
    });

    it("refuses to cancel an active agreement (revoke it instead)", async () => {
      const id = await activeAgreement(10, "active, then a cancellation attempt");
      const view = await h.client.water.get<AgreementView>(`/v1/agreements/${id}`);
      expect(view.typedData).to.not.have.property("cancellation");
      await refused(h.client.water.post(`/v1/agreements/${id}/cancel`, { signature: await h.client.water.signTypedData(view.typedData.revocation) }), 409, "AGREEMENT_ALREADY_ACTIVE");
    });
  });

  // Review finding "History the verifiers need" (issue 9): an agreement stays active on chain after its resource
  // becomes not shareable or a party is deactivated; the node refuses its calls.
  describe("calls under an agreement whose resource or parties changed (issue 9)", () => {
    it("refuses calls while the resource is catalogued not shareable (RESOURCE_NOT_SHAREABLE), and serves them again after", async () => {
      const id = await activeAgreement(100, "resource withdrawn from sharing");
      expect((await access(h.client.tax, callOf(id, 1))).served).to.equal(1);
      const resource = { schemaHash: ethers.id("schema:water-fees"), personal: false };
      await h.client.water.request("PUT", `/v1/resources/${R.waterFees}`, { ...resource, condition: "not_shareable" });
      try {
        const out = await access(h.client.tax, callOf(id, 1));
        expect([out.results[0].outcome, out.results[0].refusalReason]).to.deep.equal(["refused", "RESOURCE_NOT_SHAREABLE"]);
        expect((await h.client.tax.get<AgreementView>(`/v1/agreements/${id}`)).onChain?.status).to.equal("active");
      } finally {
        await h.client.water.request("PUT", `/v1/resources/${R.waterFees}`, { ...resource, condition: "conditional" });
      }
      expect((await access(h.client.tax, callOf(id, 1))).served).to.equal(1);
    });

    it("refuses calls while the provider is deactivated (DEPARTMENT_INACTIVE), and serves them again after", async () => {
      const id = await activeAgreement(100, "provider deactivated");
      await h.governor.post(`/v1/departments/${D.water}/active`, { active: false });
      try {
        const out = await access(h.client.tax, callOf(id, 1));
        expect([out.results[0].outcome, out.results[0].refusalReason]).to.deep.equal(["refused", "DEPARTMENT_INACTIVE"]);
        expect((await h.client.tax.get<AgreementView>(`/v1/agreements/${id}`)).usage).to.equal("0");
      } finally {
        await h.governor.post(`/v1/departments/${D.water}/active`, { active: true });
      }
      expect((await access(h.client.tax, callOf(id, 1))).served).to.equal(1);
    });
  });
});
