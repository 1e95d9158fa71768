import { expect } from "chai";
import { ethers } from "ethers";
import { ConsentKind } from "../../node/chain/typed-data";
import { REFUSAL } from "../../node/access/refusals";
import type { AccessCall } from "../../node/access/access-ledger";
import { fromHex, verifyInclusion, verifyReceipt, verifyCheckpointSignature, verifyConsistency } from "../../node/verify";
import { D, R, signTyped, startNodeHarness, type NodeHarness } from "../support/node-harness";
import { makeProvider } from "../../node/chain/client";
import { LogAnchors__factory } from "../../typechain-types";

const h32 = (s: string) => ethers.id(s);
const call = (agreementId: string, n: number, extra: Partial<AccessCall> = {}): AccessCall => ({
  agreementId, recordCount: n, requestHash: h32(`req${Math.random()}`), responseHash: h32(`res${Math.random()}`), ...extra,
});

describe("ledger node services (against anvil)", function () {
  let h: NodeHarness;
  let feesAgreement: string;
  let residentsAgreement: string;
  const purpose = h32("collect non-tax fees");
  const now = () => Math.floor(Date.now() / 1000);

  before(async () => {
    h = await startNodeHarness();
  });
  after(async () => h?.close());

  async function agree(provider: keyof typeof D, consumer: keyof typeof D, resource: string, quota: number): Promise<string> {
    const terms = {
      provider: D[provider], consumer: D[consumer], resource, purposeHash: purpose, quota: String(quota),
      validFrom: String(now() - 60), validUntil: String(now() + 86400), nonce: String(Math.floor(Math.random() * 1e9)),
    };
    const { draft, typedData } = await h.node.agreements.draft(D[consumer], terms);
    await h.node.agreements.sign(draft.id, D[provider], await signTyped(h.keys[provider], typedData));
    const done = await h.node.agreements.sign(draft.id, D[consumer], await signTyped(h.keys[consumer], typedData));
    expect(done.activation?.tx).to.match(/^0x/);
    return draft.id;
  }

  it("activates an agreement once both departments have signed the typed data", async () => {
    feesAgreement = await agree("water", "tax", R.waterFees, 100);
    const { onChain } = await h.node.agreements.get(feesAgreement);
    expect(onChain?.status).to.equal("active");
    expect(onChain?.quota).to.equal("100");
  });

  it("names this node's log as the metering log by default; refuses an unknown one; refuses calls under an agreement another log meters", async () => {
    const { draft } = await h.node.agreements.get(feesAgreement);
    expect(draft!.terms.meteringLog).to.equal(h.node.logId);
    const base = {
      provider: D.water, consumer: D.tax, resource: R.waterFees, purposeHash: purpose, quota: "10",
      validFrom: String(now() - 60), validUntil: String(now() + 86400), nonce: "77",
    };
    await h.node.agreements.draft(D.tax, { ...base, meteringLog: h32("log.nowhere") }).then(
      () => expect.fail("an unknown metering log was accepted"),
      (err: { code?: string }) => expect(err.code).to.equal("NOT_FOUND"),
    );
    const other = h32("log.other");
    const provider = makeProvider(h.anvil.url, 31337n, 50);
    const anchors = LogAnchors__factory.connect(h.addresses.anchors, h.operator.connect(provider));
    await (await anchors.registerLog(other, D.bigdata)).wait();
    provider.destroy();
    await h.node.indexer.syncOnce();
    const { draft: elsewhere, typedData } = await h.node.agreements.draft(D.tax, { ...base, meteringLog: other });
    expect(elsewhere.terms.meteringLog).to.equal(other);
    await h.node.agreements.sign(elsewhere.id, D.water, await signTyped(h.keys.water, typedData));
    await h.node.agreements.sign(elsewhere.id, D.tax, await signTyped(h.keys.tax, typedData));
    await h.node.indexer.syncOnce();
    const [out] = await h.node.access.record(D.tax, [call(elsewhere.id, 1)]);
    expect([out.outcome, out.refusalReason]).to.deep.equal(["refused", REFUSAL.AGREEMENT_OTHER_LOG]);
  });

  it("refuses a co-signature by a key of another department", async () => {
    const terms = {
      provider: D.water, consumer: D.tax, resource: R.waterFees, purposeHash: purpose, quota: "5",
      validFrom: String(now() - 60), validUntil: String(now() + 86400), nonce: "77",
    };
    const { draft, typedData } = await h.node.agreements.draft(D.tax, terms);
    const err = await h.node.agreements.sign(draft.id, D.water, await signTyped(h.keys.cad, typedData)).catch((e) => e);
    expect(err.code).to.equal("SIGNATURE_INVALID");
  });

  it("logs served calls with operator receipts and refuses the one that would exceed the quota", async () => {
    const out = await h.node.access.record(D.tax, [call(feesAgreement, 60), call(feesAgreement, 30), call(feesAgreement, 20)]);
    expect(out.map((o) => o.outcome)).to.deep.equal(["served", "served", "refused"]);
    expect(out[2].refusalReason).to.equal(REFUSAL.QUOTA_EXCEEDED);
    for (const o of out) verifyReceipt(o.receipt, [h.operator.address]);
    expect(h.node.access.usageOf(feesAgreement)).to.equal(90n);
  });

  it("never overruns a quota under concurrent requests", async () => {
    const id = await agree("water", "tax", R.waterFees, 100);
    const results = await Promise.all(Array.from({ length: 40 }, () => h.node.access.record(D.tax, [call(id, 10)])));
    const served = results.flat().filter((o) => o.outcome === "served").length;
    expect(served).to.equal(10);
    expect(h.node.access.usageOf(id)).to.equal(100n);
  });

  it("refuses calls by a department that is not the agreement's consumer, and unknown agreements", async () => {
    const [notConsumer, unknown] = await h.node.access.record(D.cad, [call(feesAgreement, 1), call(h32("nope"), 1)]);
    expect(notConsumer.refusalReason).to.equal(REFUSAL.NOT_AGREEMENT_CONSUMER);
    expect(unknown.refusalReason).to.equal(REFUSAL.AGREEMENT_UNKNOWN);
  });

  it("serves personal data only under a consent valid at that moment, and refuses after revocation", async () => {
    residentsAgreement = await agree("civil", "tax", R.residents, 1000);
    const { draft, typedData } = await h.node.consents.draft(D.civil, {
      subjectId: "500101199001011234", grantee: D.tax, resource: R.residents, purposeHash: purpose,
      kind: ConsentKind.Explicit, validUntil: now() + 3600, evidenceHash: h32("signed form"),
    }, now());
    expect(JSON.stringify(draft)).to.not.contain("500101199001011234");
    const subject = draft.terms.subject;
    expect(await h.node.access.record(D.tax, [call(residentsAgreement, 1, { subjectCommitment: subject })])).to.have.nested.property("[0].refusalReason", REFUSAL.CONSENT_MISSING);
    await h.node.consents.grant(draft.id, D.civil, await signTyped(h.keys.civil, typedData));
    const [served, noSubject] = await h.node.access.record(D.tax, [call(residentsAgreement, 1, { subjectCommitment: subject }), call(residentsAgreement, 1)]);
    expect(served.outcome).to.equal("served");
    expect(served.consentId).to.equal(draft.id);
    expect(noSubject.refusalReason).to.equal(REFUSAL.SUBJECT_REQUIRED);
    await new Promise((r) => setTimeout(r, 1100)); // the revocation's block time must be after the served call
    await h.node.consents.revoke(draft.id, D.civil, await signTyped(h.keys.civil, h.node.consents.revocationTypedData(draft.id)));
    const [after] = await h.node.access.record(D.tax, [call(residentsAgreement, 1, { subjectCommitment: subject })]);
    expect(after.refusalReason).to.equal(REFUSAL.CONSENT_MISSING);
  });

  it("erases a subject's secret so the ID number no longer maps to the old commitment, and only a re-enrolment lets it consent again", async () => {
    const id = "500101198512125678";
    const terms = () => ({ subjectId: id, grantee: D.tax, resource: R.residents, purposeHash: purpose, kind: 0, validUntil: now() + 60, evidenceHash: h32("e") });
    const c1 = await h.node.consents.draft(D.civil, terms(), now());
    const record = await h.node.consents.erase(id, D.civil, now());
    expect(record.commitment).to.equal(c1.draft.terms.subject);
    expect(await h.node.consents.commitmentOf(id)).to.equal(undefined);
    expect(await h.node.consents.subjectOf(id)).to.deep.equal({ erased: true });
    expect(await h.node.consents.draft(D.civil, terms(), now()).catch((e) => e.code)).to.equal("SUBJECT_ERASED");
    await h.node.consents.reEnrol(id, { department: D.regulator, signer: h.keys.regulator.address.toLowerCase() }, "subject asked again", now());
    const c2 = await h.node.consents.draft(D.civil, terms(), now());
    expect(c2.draft.terms.subject).to.not.equal(c1.draft.terms.subject);
  });

  it("co-signs a fee batch and its reconciliation, and relays a dispute of one record with its proof", async () => {
    const records = [1, 2, 3, 4, 5].map((i) => ({
      payer: "91500000MA5U000001", permitNo: `QS-2026-${i}`, period: "202610", volumeM3: String(1000 * i), rateFenPerM3: "15", amountFen: String(15000 * i),
    }));
    const { draft, typedData } = await h.node.transfers.draft(D.water, { to: D.tax, category: "water-resource-fee", period: 202610, records }, now());
    expect(draft.batch.totalFen).to.equal(String(15000 * 15));
    await h.node.transfers.signBatch(draft.id, D.water, await signTyped(h.keys.water, typedData));
    const submitted = await h.node.transfers.signBatch(draft.id, D.tax, await signTyped(h.keys.tax, typedData));
    expect(submitted.submission?.tx).to.match(/^0x/);
    const leaf = async (i: number) => (await h.node.transfers.record(draft.id, i)).leafHash;
    const results = await Promise.all(records.map(async (r, i) => ({
      recordLeafHash: await leaf(i), paidFen: i === 4 ? "0" : r.amountFen, paidDate: "20261120", voucherNo: `V${i}`, status: i === 4 ? "unpaid" : "paid",
    })));
    const rec = await h.node.transfers.draftReconciliation(draft.id, D.tax, results, now());
    expect(rec.draft.reconciliation?.value.collectedCount).to.equal("4");
    await h.node.transfers.signReconciliation(draft.id, D.tax, await signTyped(h.keys.tax, rec.typedData), now());
    const reconciled = await h.node.transfers.signReconciliation(draft.id, D.water, await signTyped(h.keys.water, rec.typedData), now());
    expect(reconciled.reconciliation?.submission?.tx).to.match(/^0x/);
    expect((await h.node.transfers.get(draft.id)).onChain?.reconciliation?.collectedFen).to.equal(String(15000 * 10));

    const reason = h32("record 4 was never invoiced");
    const td = await h.node.transfers.disputeTypedData(draft.id, D.tax, 4, reason);
    const disputed = await h.node.transfers.dispute(draft.id, D.tax, 4, reason, await signTyped(h.keys.tax, td));
    expect(disputed.disputes).to.have.length(1);
    expect((await h.node.transfers.get(draft.id)).onChain?.disputes[0].leafIndex).to.equal("4");
    const again = await h.node.transfers.dispute(draft.id, D.tax, 4, reason, await signTyped(h.keys.tax, td)).catch((e) => e);
    expect(again.code).to.equal("RECORD_ALREADY_DISPUTED");

    const prov = await h.node.evidence.provenance(draft.batch.payloadHash);
    expect(prov.transfers.map((t) => t.id)).to.deep.equal([draft.id]);
  });

  it("builds an evidence bundle whose proofs and signatures verify offline", async () => {
    const bundle = await h.node.evidence.bundle([0, 1, 2]);
    expect(bundle.checkpoint.treeSize).to.equal(h.node.log.size());
    const signer = verifyCheckpointSignature(bundle.checkpoint.note, bundle.log.operatorSigners);
    expect(signer.toLowerCase()).to.equal(h.operator.address.toLowerCase());
    for (const e of bundle.entries) {
      verifyInclusion(e.index, bundle.checkpoint.treeSize, fromHex(e.leafHash), e.proof.map(fromHex), fromHex(bundle.checkpoint.root));
    }
    expect(bundle.agreements.map((a) => a.id)).to.include(feesAgreement);
  });

  it("keeps usage across a restart: the quota is still enforced", async () => {
    const before = h.node.access.usageOf(feesAgreement);
    const node = await h.reopen();
    expect(node.access.usageOf(feesAgreement)).to.equal(before);
    const [o] = await node.access.record(D.tax, [call(feesAgreement, 11)]);
    expect(o.refusalReason).to.equal(REFUSAL.QUOTA_EXCEEDED);
    const bundle = await node.evidence.bundle([node.log.size() - 1]);
    for (const c of bundle.earlierCheckpoints) {
      verifyConsistency(c.treeSize, bundle.checkpoint.treeSize, fromHex(c.root), fromHex(bundle.checkpoint.root), c.consistencyProof.map(fromHex));
    }
    expect(bundle.earlierCheckpoints.length).to.be.greaterThan(0);
  });
});
