/**
 * A ledger node with an evidence bundle worth verifying: served and refused calls under two
 * agreements, personal-data calls under a consent that was later revoked, an earlier anchored
 * checkpoint, and a bundle of every entry of the log (so that each inclusion proof's hashes are
 * also authenticated by other entries' proofs).
 */
import { expect } from "chai";
import { ethers } from "ethers";
import type { AccessCall } from "../../node/access/access-ledger";
import { ConsentKind } from "../../node/chain/typed-data";
import type { EvidenceBundle } from "../../node/evidence/bundle";
import { D, R, signTyped, startNodeHarness, type NodeHarness } from "./node-harness";

const h32 = (s: string) => ethers.id(s);
const now = () => Math.floor(Date.now() / 1000);
const purpose = h32("collect non-tax fees");
let nonce = 0;

const call = (agreementId: string, n: number, extra: Partial<AccessCall> = {}): AccessCall => ({
  agreementId, recordCount: n, requestHash: h32(`req${nonce++}`), responseHash: h32(`res${nonce++}`), ...extra,
});

async function agree(h: NodeHarness, provider: keyof typeof D, consumer: keyof typeof D, resource: string, quota: number): Promise<string> {
  const terms = {
    provider: D[provider], consumer: D[consumer], resource, purposeHash: purpose, quota: String(quota),
    validFrom: String(now() - 60), validUntil: String(now() + 86400), nonce: String(nonce++),
  };
  const { draft, typedData } = await h.node.agreements.draft(D[consumer], terms);
  await h.node.agreements.sign(draft.id, D[provider], await signTyped(h.keys[provider], typedData));
  await h.node.agreements.sign(draft.id, D[consumer], await signTyped(h.keys[consumer], typedData));
  return draft.id;
}

export interface EvidenceScenario {
  h: NodeHarness;
  bundle: EvidenceBundle;
  /** Index in bundle.consents of the revoked consent, and in bundle.entries of a call served under it. */
  consent: number;
  personalEntry: number;
}

/** Builds the scenario (about 15 entries); `small` gives a bundle of three entries for the CLI tests. */
export async function buildEvidenceScenario(opts: { small?: boolean } = {}): Promise<EvidenceScenario> {
  const h = await startNodeHarness();
  const fees = await agree(h, "water", "tax", R.waterFees, 100);
  await h.node.access.record(D.tax, [call(fees, 40), call(fees, 30)]);
  if (opts.small) {
    await h.node.access.record(D.tax, [call(fees, 40)]); // refused: beyond the quota
    const bundle = await h.node.evidence.bundle([0, 1, 2]);
    return { h, bundle, consent: -1, personalEntry: -1 };
  }
  await h.node.evidence.bundle([0]); // anchors size 2: an earlier checkpoint for the consistency proof
  await h.node.access.record(D.tax, [call(fees, 20), call(fees, 20), call(h32("unknown"), 1)]);
  await h.node.access.record(D.cad, [call(fees, 1)]);

  const residents = await agree(h, "civil", "tax", R.residents, 1000);
  const { draft, typedData } = await h.node.consents.draft(D.civil, {
    subjectId: "500101199001011234", grantee: D.tax, resource: R.residents, purposeHash: purpose,
    kind: ConsentKind.Explicit, validUntil: now() + 3600, evidenceHash: h32("signed form"),
  }, now());
  await h.node.consents.grant(draft.id, D.civil, await signTyped(h.keys.civil, typedData));
  const subject = draft.terms.subject;
  const served = await h.node.access.record(D.tax, [
    call(residents, 3, { subjectCommitment: subject }), call(residents, 5, { subjectCommitment: subject }), call(residents, 2),
  ]);
  expect(served.map((o) => o.outcome)).to.deep.equal(["served", "served", "refused"]);
  await new Promise((r) => setTimeout(r, 1100)); // the revocation's block time is after the served calls
  await h.node.consents.revoke(draft.id, D.civil, await signTyped(h.keys.civil, h.node.consents.revocationTypedData(draft.id)));
  await h.node.access.record(D.tax, [call(residents, 1, { subjectCommitment: subject }), call(fees, 5)]);

  const bundle = await h.node.evidence.bundle(Array.from({ length: h.node.log.size() }, (_, i) => i));
  const consent = bundle.consents.findIndex((c) => c.id === draft.id);
  expect(consent).to.be.at.least(0);
  expect(bundle.consents[consent].revokedAt).to.be.greaterThan(0);
  expect(bundle.earlierCheckpoints.length).to.be.greaterThan(0);
  return { h, bundle, consent, personalEntry: served[0].index };
}
