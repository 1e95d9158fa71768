import { expect } from "chai";
import { ethers, Wallet } from "ethers";
import type { ApiTypedData } from "../../api/client";
import { refused } from "../support/api-refused";
import { startApiHarness, type ApiHarness } from "../support/api-harness";
import { D, R } from "../support/node-harness";


interface ConsentDrafted {
  id: string;
  subject: string;
  typedData: ApiTypedData;
}

interface ConsentView {
  id: string;
  draft: { terms: { subject: string; subjectSigner: string }; cancellation?: { tx: string; by: string } };
  onChain?: { grantedAt: number; revokedAt: number; recorderSigner: string; revokedBy?: string; revocationReasonHash?: string };
  typedData: { grant: ApiTypedData; revocation: ApiTypedData; cancellation?: ApiTypedData; regulatorRevocation?: ApiTypedData };
}

interface AccessAnswer {
  served: number;
  refused: number;
  results: { outcome: string; refusalReason?: string; consentId?: string }[];
}

const PURPOSE = "verify residence for tax relief";
const now = () => Math.floor(Date.now() / 1000);
let seq = 0;

describe("api consents", function () {
  let h: ApiHarness;
  let agreementId: string;
  before(async () => {
    h = await startApiHarness();
    // Civil affairs shares its (personal) residents resource with tax.
    const t = now();
    const d = await h.client.tax.post<{ id: string; typedData: ApiTypedData }>("/v1/agreements", {
      provider: D.civil, consumer: D.tax, resource: R.residents, purpose: PURPOSE, quota: "1000", validFrom: t - 60, validUntil: t + 3600,
    });
    await h.client.civil.post(`/v1/agreements/${d.id}/signatures`, { signature: await h.client.civil.signTypedData(d.typedData) });
    await h.client.tax.post(`/v1/agreements/${d.id}/signatures`, { signature: await h.client.tax.signTypedData(d.typedData) });
    agreementId = d.id;
  });
  after(async () => h?.stop());

  /** Drafts a consent recorded by civil affairs for tax over the residents resource. */
  const draft = (subjectId: string, extra: Record<string, unknown> = {}) =>
    h.client.civil.post<ConsentDrafted>("/v1/consents", {
      subjectId, grantee: D.tax, resource: R.residents, purpose: PURPOSE, kind: "separate", validUntil: now() + 3600, evidenceHash: ethers.id(`paper form ${subjectId}`), ...extra,
    });

  /** Drafts and grants (recorder's signature) a consent; returns its id and commitment. */
  async function granted(subjectId: string): Promise<ConsentDrafted> {
    const d = await draft(subjectId);
    const g = await h.client.civil.post<{ granted: boolean }>(`/v1/consents/${d.id}/signatures`, { signature: await h.client.civil.signTypedData(d.typedData) });
    expect(g.granted).to.equal(true);
    return d;
  }

  /** One personal-data call by tax under the agreement. */
  const personalCall = (subject: { subjectId?: string; subjectCommitment?: string } = {}) =>
    h.client.tax.post<AccessAnswer>("/v1/access", {
      calls: [{ agreementId, recordCount: 1, requestHash: ethers.id(`req ${++seq}`), responseHash: ethers.id(`resp ${seq}`), ...subject }],
    });

  const check = (body: Record<string, unknown>) =>
    h.client.tax.post<{ valid: boolean; at: number; consentId?: string }>("/v1/consents/check", { grantee: D.tax, resource: R.residents, purpose: PURPOSE, ...body });

  it("drafts with an ID number that neither the draft nor GET ever returns, and grants with the recorder's signature", async () => {
    const idNumber = "500101199001011234";
    const d = await draft(idNumber);
    expect(d.subject).to.match(/^0x[0-9a-f]{64}$/);
    expect(JSON.stringify(d)).to.not.include(idNumber);
    const before = await h.client.civil.get<ConsentView>(`/v1/consents/${d.id}`);
    expect(before.onChain).to.equal(undefined);

    // Only the recorder grants, and only with its own key.
    await refused(h.client.tax.post(`/v1/consents/${d.id}/signatures`, { signature: await h.client.tax.signTypedData(d.typedData) }), 403, "FORBIDDEN_NOT_PARTY");
    await refused(h.client.civil.post(`/v1/consents/${d.id}/signatures`, { signature: await h.client.tax.signTypedData(d.typedData) }), 403, "SIGNATURE_INVALID");

    const g = await h.client.civil.post<{ granted: boolean; tx: string }>(`/v1/consents/${d.id}/signatures`, { signature: await h.client.civil.signTypedData(d.typedData) });
    expect(g.granted).to.equal(true);
    const view = await h.client.civil.get<ConsentView>(`/v1/consents/${d.id}`);
    expect(JSON.stringify(view)).to.not.include(idNumber);
    expect(view.draft.terms.subject).to.equal(d.subject);
    expect(view.onChain?.grantedAt).to.be.a("number");
    expect(view.onChain?.revokedAt).to.equal(0);
    await refused(h.client.civil.post(`/v1/consents/${d.id}/signatures`, { signature: await h.client.civil.signTypedData(d.typedData) }), 409, "CONSENT_ALREADY_GRANTED");
  });

  it("refuses a personal-data call without a subject or without consent, and serves it with consent", async () => {
    const consented = "500101199002021111";
    const d = await granted(consented);

    const noSubject = await personalCall();
    expect(noSubject.results[0].refusalReason).to.equal("SUBJECT_REQUIRED");
    const stranger = await personalCall({ subjectId: "500101199003033333" });
    expect(stranger.results[0].refusalReason).to.equal("CONSENT_MISSING");
    const ok = await personalCall({ subjectId: consented });
    expect(ok.results[0].outcome).to.equal("served");
    expect(ok.results[0].consentId).to.equal(d.id);
    const byCommitment = await personalCall({ subjectCommitment: d.subject });
    expect(byCommitment.results[0].outcome).to.equal("served");
    // A purpose other than the agreement's is refused before consent is considered.
    const otherPurpose = await h.client.tax.post<AccessAnswer>("/v1/access", {
      calls: [{ agreementId, purpose: "marketing", recordCount: 1, requestHash: ethers.id("p1"), responseHash: ethers.id("p2"), subjectId: consented }],
    });
    expect(otherPurpose.results[0].refusalReason).to.equal("PURPOSE_MISMATCH");

    // The refusals are in the regulator's trail for this subject.
    const trail = await h.client.regulator.get<{ entries: { entry: { outcome: string; subjectCommitment: string } }[] }>(`/v1/audit/entries?agreement=${agreementId}&subject=${d.subject}`);
    expect(trail.entries.map((e) => e.entry.outcome)).to.deep.equal(["served", "served", "refused"]);
  });

  it("checks consent now, before the grant and after the revocation; a revoked consent refuses the next call", async () => {
    const subjectId = "500101199004044444";
    const d = await granted(subjectId);
    const { grantedAt } = (await h.client.civil.get<ConsentView>(`/v1/consents/${d.id}`)).onChain!;

    const atNow = await check({ subjectId, at: grantedAt });
    expect(atNow).to.deep.equal({ valid: true, at: grantedAt, consentId: d.id });
    expect((await check({ subject: d.subject, at: grantedAt })).valid).to.equal(true);
    expect((await check({ subjectId, at: grantedAt - 1 })).valid).to.equal(false);
    expect((await check({ subjectId, purpose: "another purpose", at: grantedAt })).valid).to.equal(false);
    expect((await personalCall({ subjectId })).results[0].outcome).to.equal("served");

    const revocation = (await h.client.civil.get<ConsentView>(`/v1/consents/${d.id}`)).typedData.revocation;
    await refused(h.client.tax.post(`/v1/consents/${d.id}/revoke`, { signature: await h.client.tax.signTypedData(revocation) }), 403, "FORBIDDEN_NOT_PARTY");
    const r = await h.client.civil.post<{ revoked: boolean }>(`/v1/consents/${d.id}/revoke`, { signature: await h.client.civil.signTypedData(revocation) });
    expect(r.revoked).to.equal(true);
    await refused(h.client.civil.post(`/v1/consents/${d.id}/revoke`, { signature: await h.client.civil.signTypedData(revocation) }), 409, "CONSENT_ALREADY_REVOKED");

    const { revokedAt } = (await h.client.civil.get<ConsentView>(`/v1/consents/${d.id}`)).onChain!;
    expect(revokedAt).to.be.at.least(grantedAt);
    expect((await check({ subjectId, at: revokedAt })).valid).to.equal(false);
    expect((await check({ subjectId })).valid).to.equal(false);
    if (revokedAt > grantedAt) expect((await check({ subjectId, at: revokedAt - 1 })).valid).to.equal(true);
    expect((await personalCall({ subjectId })).results[0].refusalReason).to.equal("CONSENT_MISSING");
  });

  it("takes a subject's own key: the grant needs the subject's signature, and the subject revokes without a department", async () => {
    const subjectKey = new Wallet(Wallet.createRandom().privateKey);
    const subjectId = "500101199005055555";
    const d = await draft(subjectId, { subjectSigner: subjectKey.address, kind: "explicit" });
    const recorderSig = await h.client.civil.signTypedData(d.typedData);
    const stranger = new Wallet(Wallet.createRandom().privateKey);
    const sign = (w: Wallet, td: ApiTypedData) => w.signTypedData(td.domain as ethers.TypedDataDomain, td.types as Record<string, ethers.TypedDataField[]>, td.message);

    await refused(h.client.civil.post(`/v1/consents/${d.id}/signatures`, { signature: recorderSig }), 400, "SUBJECT_SIGNATURE_REQUIRED");
    await refused(h.client.civil.post(`/v1/consents/${d.id}/signatures`, { signature: recorderSig, subjectSignature: await sign(stranger, d.typedData) }), 403, "SUBJECT_SIGNATURE_INVALID");
    await h.client.civil.post(`/v1/consents/${d.id}/signatures`, { signature: recorderSig, subjectSignature: await sign(subjectKey, d.typedData) });
    expect((await personalCall({ subjectId })).results[0].outcome).to.equal("served");

    const revocation = (await h.client.civil.get<ConsentView>(`/v1/consents/${d.id}`)).typedData.revocation;
    const post = (signature: string) =>
      fetch(`${h.baseUrl}/v1/consents/${d.id}/revoke-by-subject`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ signature }) });
    const wrong = await post(await sign(stranger, revocation));
    expect(wrong.status).to.equal(403);
    expect((await wrong.json()).error.code).to.equal("SUBJECT_SIGNATURE_INVALID");

    const res = await post(await sign(subjectKey, revocation));
    expect(res.status).to.equal(200);
    expect((await res.json()).revoked).to.equal(true);
    expect((await h.client.civil.get<ConsentView>(`/v1/consents/${d.id}`)).onChain?.revokedAt).to.be.greaterThan(0);
    expect((await personalCall({ subjectId })).results[0].refusalReason).to.equal("CONSENT_MISSING");
    expect((await check({ subjectId })).valid).to.equal(false);
  });

  it("refuses a subject revocation of a consent that names no subject key", async () => {
    const d = await granted("500101199006066666");
    const revocation = (await h.client.civil.get<ConsentView>(`/v1/consents/${d.id}`)).typedData.revocation;
    const anyone = new Wallet(Wallet.createRandom().privateKey);
    const signature = await anyone.signTypedData(revocation.domain as ethers.TypedDataDomain, revocation.types as Record<string, ethers.TypedDataField[]>, revocation.message);
    const res = await fetch(`${h.baseUrl}/v1/consents/${d.id}/revoke-by-subject`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ signature }) });
    expect(res.status).to.equal(403);
    expect((await res.json()).error.code).to.equal("SUBJECT_SIGNATURE_INVALID");
    expect((await check({ subject: d.subject })).valid).to.equal(true);
  });

  it("erases a subject: the erasure is evidenced, and the ID number no longer links to its consents", async () => {
    const subjectId = "500101199007077777";
    const d = await granted(subjectId);
    expect((await check({ subjectId })).valid).to.equal(true);

    const erased = await h.client.civil.post<{ commitment: string; erasedAt: number; requestedBy: string }>("/v1/subjects/erase", { subjectId });
    expect(erased.commitment).to.equal(d.subject);
    expect(erased.requestedBy).to.equal(D.civil);
    const evidence = await h.client.regulator.get<{ commitment: string; erasedAt: number; requestedBy: string }>(`/v1/subjects/erasures/${d.subject}`);
    expect(evidence).to.deep.equal(erased);

    expect((await check({ subjectId })).valid).to.equal(false);
    expect((await personalCall({ subjectId })).results[0].refusalReason).to.equal("SUBJECT_ERASED");
    // The ID number stays erased: a new consent needs a regulator's re-enrolment first (test/api/subjects.test.ts).
    await refused(draft(subjectId), 409, "SUBJECT_ERASED");

    await refused(h.client.civil.post("/v1/subjects/erase", { subjectId: "500101199008088888" }), 404, "NOT_FOUND");
    await refused(h.client.regulator.get(`/v1/subjects/erasures/${ethers.id("never erased")}`), 404, "NOT_FOUND");
  });

  it("refuses bad consent drafts", async () => {
    await refused(draft("500101199009099999", { validUntil: now() - 10 }), 400, "CONSENT_EXPIRY_PAST");
    await refused(draft("500101199009099999", { resource: ethers.id("no resource") }), 404, "NOT_FOUND");
    await refused(draft("5001 0119", {}), 400, "VALIDATION_FAILED");
    await refused(check({ subjectId: "500101199009099999", subject: ethers.id("x") }), 400, "VALIDATION_FAILED");
  });

  // Review finding "Self-granted consent" (issue 9): the grantee could record a consent in its own favour on
  // another department's personal data, and the API's check then answered valid.
  it("refuses a consent the grantee records in its own favour on another department's data without the subject's key (CONSENT_RECORDER_IS_GRANTEE)", async () => {
    const subjectId = "500101199010101010";
    const selfRecorded = { subjectId, grantee: D.tax, resource: R.residents, purpose: PURPOSE, kind: "separate", validUntil: now() + 3600, evidenceHash: ethers.id("self-recorded") };
    await refused(
      (async () => {
        const d = await h.client.tax.post<ConsentDrafted>("/v1/consents", selfRecorded);
        await h.client.tax.post(`/v1/consents/${d.id}/signatures`, { signature: await h.client.tax.signTypedData(d.typedData) });
      })(),
      403,
      "CONSENT_RECORDER_IS_GRANTEE",
    );
    expect((await check({ subjectId })).valid).to.equal(false);
    expect((await personalCall({ subjectId })).results[0].refusalReason).to.equal("CONSENT_MISSING");

    // With the subject's own signature, the grantee may record it.
    const subjectKey = new Wallet(Wallet.createRandom().privateKey);
    const d = await h.client.tax.post<ConsentDrafted>("/v1/consents", { ...selfRecorded, subjectSigner: subjectKey.address });
    const td = d.typedData;
    const subjectSignature = await subjectKey.signTypedData(td.domain as ethers.TypedDataDomain, td.types as Record<string, ethers.TypedDataField[]>, td.message);
    await h.client.tax.post(`/v1/consents/${d.id}/signatures`, { signature: await h.client.tax.signTypedData(td), subjectSignature });
    expect((await check({ subjectId })).valid).to.equal(true);
    const view = await h.client.tax.get<ConsentView>(`/v1/consents/${d.id}`);
    expect(view.onChain?.recorderSigner.toLowerCase()).to.equal(h.keys.tax.address.toLowerCase());
  });

  // Review finding "Unrevocable consent" (issue 9): with no subject key, nobody could revoke a consent whose
  // recording department was deactivated.
  it("lets a regulator-role key revoke a consent whose recorder was deactivated (POST /v1/consents/:id/revoke-by-regulator)", async () => {
    const key = new Wallet(Wallet.createRandom().privateKey);
    const { id: streetOffice } = await h.governor.post<{ id: string }>("/v1/departments", { code: "cq.yuzhong.street-office", level: "town", signers: [key.address] });
    const office = h.client.tax.as(streetOffice, key);
    const subjectId = "500101199011111111";
    const d = await office.post<ConsentDrafted>("/v1/consents", {
      subjectId, grantee: D.tax, resource: R.residents, purpose: PURPOSE, kind: "separate", validUntil: now() + 3600, evidenceHash: ethers.id("street office form"),
    });
    await office.post(`/v1/consents/${d.id}/signatures`, { signature: await office.signTypedData(d.typedData) });
    expect((await check({ subjectId })).valid).to.equal(true);
    await h.governor.post(`/v1/departments/${streetOffice}/active`, { active: false });

    const reason = "recording office closed; the subject withdrew in writing";
    const view = await h.client.regulator.get<ConsentView>(`/v1/consents/${d.id}?reason=${encodeURIComponent(reason)}`);
    const td = view.typedData.regulatorRevocation!;
    expect(td.primaryType).to.equal("RegulatorRevocation");
    expect(td.message).to.deep.equal({ consentId: d.id, reasonHash: ethers.id(reason) });
    // A department key without the regulator role cannot.
    await refused(h.client.tax.post(`/v1/consents/${d.id}/revoke-by-regulator`, { signature: await h.client.tax.signTypedData(td), reason }), 403, "FORBIDDEN_ROLE");
    // Any department relays; the signature is the regulator's.
    const r = await h.client.tax.post<{ revoked: boolean; tx: string }>(`/v1/consents/${d.id}/revoke-by-regulator`, { signature: await h.client.regulator.signTypedData(td), reason });
    expect(r.revoked).to.equal(true);
    const after = await h.client.regulator.get<ConsentView>(`/v1/consents/${d.id}`);
    expect(after.onChain?.revokedAt).to.be.greaterThan(0);
    expect(after.onChain?.revokedBy?.toLowerCase()).to.equal(h.keys.regulator.address.toLowerCase());
    expect(after.onChain?.revocationReasonHash).to.equal(ethers.id(reason));
    expect((await check({ subjectId })).valid).to.equal(false);
    await refused(h.client.tax.post(`/v1/consents/${d.id}/revoke-by-regulator`, { signature: await h.client.regulator.signTypedData(td), reason }), 409, "CONSENT_ALREADY_REVOKED");
  });

  // Review finding "Signed terms without a deadline" (issue 9): signed consent terms could be granted at any later time.
  it("cancels a consent draft (the recorder, or the subject's key): it can no longer be granted (DRAFT_CANCELLED)", async () => {
    const subjectKey = new Wallet(Wallet.createRandom().privateKey);
    const sign = (td: ApiTypedData) => subjectKey.signTypedData(td.domain as ethers.TypedDataDomain, td.types as Record<string, ethers.TypedDataField[]>, td.message);
    const byRecorder = await draft("500101199012121212", { subjectSigner: subjectKey.address });
    const recorderSig = await h.client.civil.signTypedData(byRecorder.typedData);
    const subjectSig = await sign(byRecorder.typedData);
    const cancellation = (await h.client.civil.get<ConsentView>(`/v1/consents/${byRecorder.id}`)).typedData.cancellation!;
    expect(cancellation.message).to.deep.equal({ consentId: byRecorder.id });
    await refused(h.client.tax.post(`/v1/consents/${byRecorder.id}/cancel`, { signature: await h.client.tax.signTypedData(cancellation) }), 403, "FORBIDDEN_NOT_PARTY");
    const c = await h.client.civil.post<{ cancelled: boolean; tx: string }>(`/v1/consents/${byRecorder.id}/cancel`, { signature: await h.client.civil.signTypedData(cancellation) });
    expect(c.cancelled).to.equal(true);
    expect(await h.node.client.reader.consents.cancelledAt(byRecorder.id)).to.be.greaterThan(0n);
    await refused(h.client.civil.post(`/v1/consents/${byRecorder.id}/signatures`, { signature: recorderSig, subjectSignature: subjectSig }), 409, "DRAFT_CANCELLED");
    await refused(h.client.civil.post(`/v1/consents/${byRecorder.id}/cancel`, { signature: await h.client.civil.signTypedData(cancellation) }), 409, "DRAFT_CANCELLED");
    expect((await h.client.civil.get<ConsentView>(`/v1/consents/${byRecorder.id}`)).typedData).to.not.have.property("cancellation");

    const bySubject = await draft("500101199012121213", { subjectSigner: subjectKey.address });
    const subjectCancellation = (await h.client.civil.get<ConsentView>(`/v1/consents/${bySubject.id}`)).typedData.cancellation!;
    const post = (signature: string) =>
      fetch(`${h.baseUrl}/v1/consents/${bySubject.id}/cancel-by-subject`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ signature }) });
    const wrong = await post(await h.client.civil.signTypedData(subjectCancellation));
    expect([wrong.status, (await wrong.json()).error.code]).to.deep.equal([403, "SUBJECT_SIGNATURE_INVALID"]);
    const ok = await post(await sign(subjectCancellation));
    expect(ok.status).to.equal(200);
    expect((await ok.json()).cancelled).to.equal(true);
    await refused(h.client.civil.post(`/v1/consents/${bySubject.id}/signatures`, { signature: await h.client.civil.signTypedData(bySubject.typedData), subjectSignature: await sign(bySubject.typedData) }), 409, "DRAFT_CANCELLED");

    // A granted consent is revoked, not cancelled.
    const g = await granted("500101199012121214");
    const late = (await h.client.civil.get<ConsentView>(`/v1/consents/${g.id}`)).typedData;
    expect(late).to.not.have.property("cancellation");
    await refused(h.client.civil.post(`/v1/consents/${g.id}/cancel`, { signature: await h.client.civil.signTypedData(late.revocation) }), 409, "CONSENT_ALREADY_GRANTED");
  });
});
