/**
 * Period bundles: every entry of a period, proven to be exactly the log's entries between the
 * period's bounds in an anchored checkpoint's tree, with the assessment recomputed from them. An
 * entry dropped, added from outside the period, or reordered is found even when the operator
 * re-seals the bundle and rebuilds honest proofs for the range it claims.
 */
import { expect } from "chai";
import { Wallet } from "ethers";
import type { PeriodBundle, UnsealedPeriodBundle } from "../../node/assessment/period-bundle";
import { verifyPeriodBundle, type PeriodReport } from "../../node/assessment/verify-period-bundle";
import { decodeEntry } from "../../node/log/entry";
import { connectRpc, exportTrustRoot } from "../../node/trust/export-trust-root";
import { fromHex, sealSigningPayload, toHex } from "../../node/verify";
import { D } from "../support/node-harness";
import { buildPeriodScenario, type PeriodScenario } from "../support/period-scenario";

const failed = (r: PeriodReport) => r.checks.filter((c) => !c.ok);
const check = (r: PeriodReport, name: string) => r.checks.find((c) => c.name === name)!;

describe("period bundles (against anvil)", function () {
  let s: PeriodScenario;
  let bundle: PeriodBundle;
  let operator: Wallet;

  /** The bundle changed by `edit` and sealed again by the operator: only the other checks can catch it. */
  const resealed = (edit: (b: UnsealedPeriodBundle) => void): PeriodBundle => {
    const { seal: _seal, ...copy } = structuredClone(bundle);
    edit(copy);
    return { ...copy, seal: { signer: operator.address, signature: operator.signMessageSync(sealSigningPayload(copy)) } };
  };
  /** Honest range proof for [lo, hi) in the bundle's tree. */
  const proofFor = async (lo: number, hi: number) => {
    const p = await s.h.node.log.rangeProof(lo, hi, bundle.checkpoint.treeSize);
    return { left: p.left.map(toHex), right: p.right.map(toHex) };
  };
  const hexAt = async (i: number) => toHex(await s.h.node.log.get(i));

  before(async () => {
    s = await buildPeriodScenario();
    operator = s.h.operator;
    bundle = await s.h.node.assessments.bundle(s.period);
  });
  after(async () => s?.h.close());

  it("holds exactly the period's entries with their neighbours, and verifies", async () => {
    expect(bundle.range).to.deep.equal({ begin: 2, end: 11 });
    expect(bundle.entries).to.have.length(9);
    expect(decodeEntry(fromHex(bundle.before!)).time).to.equal(s.T);
    expect(decodeEntry(fromHex(bundle.after!)).time).to.equal(s.T + 20);
    expect(bundle.checkpoint.treeSize).to.equal(13);
    const r = await verifyPeriodBundle(bundle);
    expect(failed(r)).to.deep.equal([]);
    expect(r.ok).to.equal(true);
    expect(check(r, "range.end").detail).to.contain("closed");
  });

  it("recomputes the assessment the API gives, from the bundle alone", async () => {
    const r = await verifyPeriodBundle(bundle);
    const served = await s.h.node.assessments.assess(s.period);
    expect(r.assessment).to.deep.equal(served);
    expect(bundle.assessment).to.deep.equal(served);
    const tax = served.departments.find((d) => d.department === D.tax)!;
    expect(tax.asConsumer).to.deep.include({ calls: 8, served: 4, refused: 4, records: 83 });
    expect(tax.asConsumer.refusedByReason).to.deep.equal({ AGREEMENT_UNKNOWN: 1, CONSENT_MISSING: 1, QUOTA_EXCEEDED: 1, SUBJECT_REQUIRED: 1 });
    expect(tax.asConsumer.personalData).to.deep.include({ calls: 3, withValidConsent: 1 });
    expect(tax.asConsumer.nonConforming.value).to.equal("0.5000");
    expect(tax.scoring.pointsDeducted).to.equal("0.2");
    const fees = tax.asConsumer.agreements.find((a) => a.agreementId === s.fees)!;
    expect(fees).to.deep.include({ served: 3, records: 80, quota: "100", shareOfQuota: "0.8000" });
    expect(served.basis).to.deep.equal({ treeSize: 13, root: bundle.checkpoint.root, begin: 2, end: 11, closed: true });
    expect(served.departments.map((d) => d.department)).to.include.members([D.tax, D.water, D.civil, D.cad]);
  });

  it("fails naming the range when an entry of the period is dropped, even re-sealed", async () => {
    const r = await verifyPeriodBundle(resealed((b) => {
      b.entries.splice(4, 1);
      b.range.end -= 1;
    }));
    expect(check(r, "seal").ok).to.equal(true);
    expect(check(r, "range.proof")).to.deep.include({ ok: false });
    expect(check(r, "range.proof").detail).to.contain("not exactly the log's entries [2, 10)");
    expect(r.ok).to.equal(false);
  });

  it("fails when an entry from outside the period is added, whether the proof is left or rebuilt for the larger range", async () => {
    const naive = await verifyPeriodBundle(resealed((b) => {
      b.entries.push(b.after!);
      b.range.end += 1;
    }));
    expect(check(naive, "range.proof").ok).to.equal(false);
    expect(check(naive, "range.proof").detail).to.contain("[2, 12)");
    // An operator can prove the larger range honestly; the entry's time then betrays it.
    const after = await hexAt(12);
    const proof = await proofFor(1, 13);
    const rebuilt = await verifyPeriodBundle(resealed((b) => {
      b.entries.push(b.after!);
      b.range.end += 1;
      b.after = after;
      b.proof = proof;
    }));
    expect(check(rebuilt, "range.proof").ok).to.equal(true);
    expect(check(rebuilt, "range.times")).to.deep.include({ ok: false, where: "entries[9]" });
    expect(check(rebuilt, "range.times").detail).to.contain("log index 11").and.contain("outside the period");
    expect(rebuilt.ok).to.equal(false);
  });

  it("fails when entries are reordered", async () => {
    const r = await verifyPeriodBundle(resealed((b) => {
      [b.entries[1], b.entries[7]] = [b.entries[7], b.entries[1]];
    }));
    expect(check(r, "range.proof").ok).to.equal(false);
    expect(r.ok).to.equal(false);
  });

  it("fails when the operator hides the period's first entry as the 'entry before', with an honest proof", async () => {
    const proof = await proofFor(2, 12);
    const r = await verifyPeriodBundle(resealed((b) => {
      b.before = b.entries.shift()!;
      b.range.begin += 1;
      b.proof = proof;
    }));
    expect(check(r, "range.proof").ok).to.equal(true);
    expect(check(r, "range.start")).to.deep.include({ ok: false, where: "before" });
    expect(check(r, "range.start").detail).to.contain("not before the period's start");
  });

  it("fails when the operator stops the range early, with the period's last entry as the 'entry after'", async () => {
    const proof = await proofFor(1, 11);
    const r = await verifyPeriodBundle(resealed((b) => {
      b.after = b.entries.pop()!;
      b.range.end -= 1;
      b.proof = proof;
    }));
    expect(check(r, "range.proof").ok).to.equal(true);
    expect(check(r, "range.end")).to.deep.include({ ok: false, where: "after" });
  });

  it("fails when the assessment is not the one its entries give, naming the figure", async () => {
    const r = await verifyPeriodBundle(resealed((b) => {
      const tax = b.assessment.departments.find((d) => d.department === D.tax)!;
      tax.scoring.pointsDeducted = "0.0";
    }));
    const a = check(r, "assessment");
    expect(a.ok).to.equal(false);
    expect(a.where).to.match(/^assessment\.departments\[\d\]\.scoring\.pointsDeducted$/);
    expect(a.detail).to.contain('"0.0" in the bundle, "0.2" recomputed');
  });

  it("fails the seal when any byte changes without re-sealing", async () => {
    const copy = structuredClone(bundle);
    copy.entries[0] = copy.entries[0].slice(0, -2) + (copy.entries[0].endsWith("00") ? "01" : "00");
    const r = await verifyPeriodBundle(copy);
    expect(check(r, "seal").ok).to.equal(false);
    expect(check(r, "range.proof").ok).to.equal(false);
  });

  it("is authentic against the deployment's trust root, and the anchor is on chain", async () => {
    const provider = await connectRpc(s.h.anvil.url);
    const trust = await exportTrustRoot(provider, s.h.addresses.registry).finally(() => provider.destroy());
    const r = await verifyPeriodBundle(bundle, { trust, rpcUrl: s.h.anvil.url });
    expect(failed(r)).to.deep.equal([]);
    expect(r.authenticated).to.equal(true);
    expect(check(r, "chain.anchor").ok).to.equal(true);
    expect(check(r, "trust.operator").ok).to.equal(true);
  });

  it("takes the period from the log's first entry, and leaves it open when no later entry is anchored", async () => {
    const r0 = await verifyPeriodBundle(await s.h.node.assessments.bundle({ from: 0, to: s.T + 11 }));
    expect(failed(r0)).to.deep.equal([]);
    expect(check(r0, "range.start").detail).to.contain("log's first entry");
    const open = await s.h.node.assessments.bundle({ from: s.T + 20, to: s.T + 3600 });
    expect(open.after).to.equal(null);
    expect(open.range).to.deep.equal({ begin: 11, end: 13 });
    const r = await verifyPeriodBundle(open);
    expect(failed(r)).to.deep.equal([]);
    expect(check(r, "range.end").detail).to.contain("still open");
    expect(r.assessment!.basis.closed).to.equal(false);
  });
});
