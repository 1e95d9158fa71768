/**
 * Issue 8: erasure is final for the ID number (a keyed tombstone, no link to the old commitment),
 * re-enrolment is an explicit regulator act with a recorded reason, and a subject on a resource
 * without personal information is refused before any subject secret is made.
 */
import { expect } from "chai";
import { ethers } from "ethers";
import type { ApiTypedData } from "../../api/client";
import { refused } from "../support/api-refused";
import { startApiHarness, type ApiHarness } from "../support/api-harness";
import { D, R } from "../support/node-harness";

interface ConsentDrafted {
  id: string;
  subject: string;
  typedData: ApiTypedData;
}

interface AccessAnswer {
  served: number;
  refused: number;
  results: { outcome: string; refusalReason?: string; consentId?: string; index: number }[];
}

interface ReEnrolment {
  id: string;
  reEnrolledAt: number;
  requestedBy: string;
  signer: string;
  reason: string;
}

const PURPOSE = "verify residence for tax relief";
const now = () => Math.floor(Date.now() / 1000);
let seq = 0;

describe("api subjects: final erasure, re-enrolment, non-personal resources", function () {
  let h: ApiHarness;
  let residentsAgreement: string;
  let feesAgreement: string;

  async function agree(provider: keyof typeof D, resource: string, purpose: string): Promise<string> {
    const t = now();
    const d = await h.client.tax.post<{ id: string; typedData: ApiTypedData }>("/v1/agreements", {
      provider: D[provider], consumer: D.tax, resource, purpose, quota: "1000", validFrom: t - 60, validUntil: t + 3600,
    });
    await h.client[provider].post(`/v1/agreements/${d.id}/signatures`, { signature: await h.client[provider].signTypedData(d.typedData) });
    await h.client.tax.post(`/v1/agreements/${d.id}/signatures`, { signature: await h.client.tax.signTypedData(d.typedData) });
    return d.id;
  }

  before(async () => {
    h = await startApiHarness();
    residentsAgreement = await agree("civil", R.residents, PURPOSE); // personal
    feesAgreement = await agree("water", R.waterFees, PURPOSE); // not personal
  });
  after(async () => h?.stop());

  const draft = (subjectId: string, extra: Record<string, unknown> = {}) =>
    h.client.civil.post<ConsentDrafted>("/v1/consents", {
      subjectId, grantee: D.tax, resource: R.residents, purpose: PURPOSE, kind: "separate", validUntil: now() + 3600, evidenceHash: ethers.id(`form ${subjectId}`), ...extra,
    });

  async function granted(subjectId: string): Promise<ConsentDrafted> {
    const d = await draft(subjectId);
    await h.client.civil.post(`/v1/consents/${d.id}/signatures`, { signature: await h.client.civil.signTypedData(d.typedData) });
    return d;
  }

  const call = (agreementId: string, subject: { subjectId?: string; subjectCommitment?: string } = {}) => ({
    agreementId, recordCount: 1, requestHash: ethers.id(`req ${++seq}`), responseHash: ethers.id(`resp ${seq}`), ...subject,
  });
  const access = (...calls: ReturnType<typeof call>[]) => h.client.tax.post<AccessAnswer>("/v1/access", { calls });

  it("refuses calls and new consents for an erased ID number with SUBJECT_ERASED, by ID number and by commitment", async () => {
    const subjectId = "500101199101015555";
    const d = await granted(subjectId);
    expect((await access(call(residentsAgreement, { subjectId }))).results[0].outcome).to.equal("served");
    await h.client.civil.post("/v1/subjects/erase", { subjectId });

    const byId = await access(call(residentsAgreement, { subjectId }));
    expect(byId.results[0]).to.include({ outcome: "refused", refusalReason: "SUBJECT_ERASED" });
    // Case and surrounding blanks do not make it another person.
    const byIdLower = await access(call(residentsAgreement, { subjectId: subjectId.toLowerCase() }));
    expect(byIdLower.results[0].refusalReason).to.equal("SUBJECT_ERASED");
    const byCommitment = await access(call(residentsAgreement, { subjectCommitment: d.subject }));
    expect(byCommitment.results[0].refusalReason).to.equal("SUBJECT_ERASED");

    await refused(draft(subjectId), 409, "SUBJECT_ERASED");
    // Erasing again says so, instead of pretending the ID number was never seen.
    await refused(h.client.civil.post("/v1/subjects/erase", { subjectId }), 409, "SUBJECT_ERASED");
    // The refused call's log entry carries no commitment that could re-link the ID number.
    const entry = await h.client.regulator.get<{ entries: { index: number; entry: { subjectCommitment: string | null; refusalReason: string } }[] }>(
      `/v1/audit/entries?agreement=${residentsAgreement}&outcome=refused`,
    );
    const logged = entry.entries.find((e) => e.index === byId.results[0].index)!;
    expect(logged.entry.refusalReason).to.equal("SUBJECT_ERASED");
    expect(logged.entry.subjectCommitment).to.not.equal(d.subject);
  });

  it("keeps only a keyed tombstone: no stored value names the old commitment or the ID number", async () => {
    const subjectId = "500101199202026666";
    const d = await granted(subjectId);
    await h.client.civil.post("/v1/subjects/erase", { subjectId });
    const tombstones: [string, unknown][] = [];
    for await (const kv of h.node.db.sublevel("subject-tombstones", { valueEncoding: "json" }).iterator()) tombstones.push(kv as [string, unknown]);
    expect(tombstones.length).to.be.greaterThan(0);
    const dump = JSON.stringify(tombstones);
    expect(dump).to.not.include(d.subject.slice(2));
    expect(dump).to.not.include(subjectId);
    // The erasure evidence is still there, keyed by the old commitment.
    expect((await h.client.regulator.get<{ commitment: string }>(`/v1/subjects/erasures/${d.subject}`)).commitment).to.equal(d.subject);
  });

  it("re-enrols an erased ID number only by a regulator's signed request with a reason, recorded and readable; the new commitment is fresh", async () => {
    const subjectId = "500101199303037777";
    const old = await granted(subjectId);
    await h.client.civil.post("/v1/subjects/erase", { subjectId });

    await refused(h.client.civil.post("/v1/subjects/re-enrol", { subjectId, reason: "asked by the subject in person" }), 403, "FORBIDDEN_ROLE");
    await refused(h.client.regulator.post("/v1/subjects/re-enrol", { subjectId }), 400, "VALIDATION_FAILED");
    await refused(h.client.regulator.post("/v1/subjects/re-enrol", { subjectId, reason: "" }), 400, "VALIDATION_FAILED");
    // The reason is kept in the record: it must not carry the ID number itself.
    await refused(h.client.regulator.post("/v1/subjects/re-enrol", { subjectId, reason: `subject ${subjectId} asked again` }), 400, "VALIDATION_FAILED");
    // An ID number that was never erased has nothing to re-enrol.
    await refused(h.client.regulator.post("/v1/subjects/re-enrol", { subjectId: "500101199909099999", reason: "mistake" }), 404, "NOT_FOUND");
    await refused(draft(subjectId), 409, "SUBJECT_ERASED");

    const reason = "subject applied in person on 2026-03-01, form RE-17";
    const rec = await h.client.regulator.post<ReEnrolment>("/v1/subjects/re-enrol", { subjectId, reason });
    expect(rec.id).to.match(/^0x[0-9a-f]{32}$/);
    expect(rec.requestedBy).to.equal(D.regulator);
    expect(rec.signer).to.equal(h.keys.regulator.address.toLowerCase());
    expect(rec.reason).to.equal(reason);
    expect(Math.abs(rec.reEnrolledAt - now())).to.be.lessThan(60);
    expect(JSON.stringify(rec)).to.not.include(subjectId);
    expect(JSON.stringify(rec)).to.not.include(old.subject.slice(2));

    expect(await h.client.regulator.get<ReEnrolment>(`/v1/subjects/re-enrolments/${rec.id}`)).to.deep.equal(rec);
    const list = await h.client.regulator.get<{ reEnrolments: ReEnrolment[] }>("/v1/subjects/re-enrolments");
    expect(list.reEnrolments.map((r) => r.id)).to.include(rec.id);
    await refused(h.client.civil.get("/v1/subjects/re-enrolments"), 403, "FORBIDDEN_ROLE");
    await refused(h.client.civil.get(`/v1/subjects/re-enrolments/${rec.id}`), 403, "FORBIDDEN_ROLE");
    await refused(h.client.regulator.get(`/v1/subjects/re-enrolments/0x${"ab".repeat(16)}`), 404, "NOT_FOUND");
    // Done once: a second re-enrolment finds no erasure.
    await refused(h.client.regulator.post("/v1/subjects/re-enrol", { subjectId, reason }), 404, "NOT_FOUND");

    // Before a new consent there is none: the call is refused for want of consent, not served.
    expect((await access(call(residentsAgreement, { subjectId }))).results[0].refusalReason).to.equal("CONSENT_MISSING");
    const fresh = await granted(subjectId);
    expect(fresh.subject).to.not.equal(old.subject);
    const served = await access(call(residentsAgreement, { subjectId }));
    expect(served.results[0]).to.include({ outcome: "served", consentId: fresh.id });
    // The old commitment stays erased.
    expect((await access(call(residentsAgreement, { subjectCommitment: old.subject }))).results[0].refusalReason).to.equal("SUBJECT_ERASED");
    expect((await h.client.regulator.get<{ commitment: string }>(`/v1/subjects/erasures/${old.subject}`)).commitment).to.equal(old.subject);
  });

  it("refuses a subject on a resource without personal information (SUBJECT_NOT_PERSONAL) and makes no secret for it", async () => {
    const subjectId = "500101199404048888";
    await refused(
      h.client.water.post("/v1/consents", {
        subjectId, grantee: D.tax, resource: R.waterFees, purpose: PURPOSE, kind: "separate", validUntil: now() + 3600, evidenceHash: ethers.id("form"),
      }),
      400, "SUBJECT_NOT_PERSONAL",
    );
    expect(await h.node.consents.commitmentOf(subjectId)).to.equal(undefined);

    const before = (await h.client.regulator.get<{ entries: unknown[] }>(`/v1/audit/entries?agreement=${feesAgreement}`)).entries.length;
    await refused(access(call(feesAgreement, { subjectId })), 400, "SUBJECT_NOT_PERSONAL");
    await refused(access(call(feesAgreement, { subjectCommitment: ethers.id("some commitment") })), 400, "SUBJECT_NOT_PERSONAL");
    // One bad call refuses the whole request: nothing of it is logged.
    const e = await refused(access(call(feesAgreement), call(feesAgreement, { subjectId })), 400, "SUBJECT_NOT_PERSONAL");
    expect(e.message).to.include("calls[1]");
    expect((await h.client.regulator.get<{ entries: unknown[] }>(`/v1/audit/entries?agreement=${feesAgreement}`)).entries.length).to.equal(before);
    expect(await h.node.consents.commitmentOf(subjectId)).to.equal(undefined);

    // Without a subject the same call is served.
    expect((await access(call(feesAgreement))).served).to.equal(1);
  });
});
