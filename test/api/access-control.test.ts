import { expect } from "chai";
import { ethers } from "ethers";
import type { ApiTypedData } from "../../api/client";
import { refused } from "../support/api-refused";
import { startApiHarness, type ApiHarness } from "../support/api-harness";
import { D, R } from "../support/node-harness";


describe("api: who may read fee records and erase subjects", function () {
  let h: ApiHarness;
  const now = () => Math.floor(Date.now() / 1000);
  before(async () => (h = await startApiHarness()));
  after(async () => h?.stop());

  it("serves a transfer's fee records to its parties and the regulator only", async () => {
    const records = [{ payer: "91500000MA5U000001", permitNo: "QS-1", period: "202610", volumeM3: "10", rateFenPerM3: "15", amountFen: "150" }];
    const t = await h.client.water.post<{ id: string; typedData: ApiTypedData }>("/v1/transfers", { to: D.tax, category: "water-resource-fee", period: 202610, records });
    expect((await h.client.tax.get<{ record: { payer: string } }>(`/v1/transfers/${t.id}/records/0`)).record.payer).to.equal("91500000MA5U000001");
    await h.client.regulator.get(`/v1/transfers/${t.id}`);
    for (const path of [`/v1/transfers/${t.id}`, `/v1/transfers/${t.id}/records/0`]) {
      await refused(h.client.civil.get(path), 403, "FORBIDDEN_NOT_PARTY");
    }
  });

  it("lets only a department that recorded the subject's consent erase it, and refuses the subject's data afterwards", async () => {
    const purpose = "eligibility";
    const ag = await h.client.tax.post<{ id: string; typedData: ApiTypedData }>("/v1/agreements", {
      provider: D.civil, consumer: D.tax, resource: R.residents, purpose, quota: "100", validFrom: now() - 10, validUntil: now() + 3600,
    });
    await h.client.civil.post(`/v1/agreements/${ag.id}/signatures`, { signature: await h.client.civil.signTypedData(ag.typedData) });
    await h.client.tax.post(`/v1/agreements/${ag.id}/signatures`, { signature: await h.client.tax.signTypedData(ag.typedData) });
    const subjectId = "500101197707070777";
    const c = await h.client.civil.post<{ id: string; subject: string; typedData: ApiTypedData }>("/v1/consents", {
      subjectId, grantee: D.tax, resource: R.residents, purpose, kind: "explicit", validUntil: now() + 3600, evidenceHash: ethers.id("form"),
    });
    await h.client.civil.post(`/v1/consents/${c.id}/signatures`, { signature: await h.client.civil.signTypedData(c.typedData) });
    const call = { agreementId: ag.id, recordCount: 1, requestHash: ethers.id("q"), responseHash: ethers.id("r"), subjectCommitment: c.subject };
    expect((await h.client.tax.post<{ served: number }>("/v1/access", { calls: [call] })).served).to.equal(1);

    await refused(h.client.tax.post("/v1/subjects/erase", { subjectId }), 403, "FORBIDDEN_NOT_PARTY");
    const erasure = await h.client.civil.post<{ commitment: string }>("/v1/subjects/erase", { subjectId });
    expect(erasure.commitment).to.equal(c.subject);

    // The consent is still on chain, but the node no longer serves the erased subject's data, even by commitment.
    const after = await h.client.tax.post<{ results: { outcome: string; refusalReason?: string }[] }>("/v1/access", { calls: [call] });
    expect(after.results[0].refusalReason).to.equal("SUBJECT_ERASED");
    const check = await h.client.tax.post<{ valid: boolean }>("/v1/consents/check", { subject: c.subject, grantee: D.tax, resource: R.residents, purpose });
    expect(check.valid).to.equal(false);
  });
});
