/**
 * A ledger node whose log holds calls at chosen times around a period: the access ledger is given a
 * clock, so entries land before, inside and after [T + 10, T + 20) (T a little in the future, inside
 * the agreements' windows). Served and refused calls of three departments, personal data with and
 * without consent; the log anchored at the end.
 */
import { ethers } from "ethers";
import { AccessLedger, type AccessCall } from "../../node/access/access-ledger";
import type { Period } from "../../node/assessment/period";
import { ConsentKind } from "../../node/chain/typed-data";
import { D, R, signTyped, startNodeHarness, type NodeHarness } from "./node-harness";

const h32 = (s: string) => ethers.id(s);
const wall = () => Math.floor(Date.now() / 1000);
let nonce = 0;

/** A call under `agreementId` of `n` records. */
export const call = (agreementId: string, n: number, extra: Partial<AccessCall> = {}): AccessCall => ({
  agreementId, recordCount: n, requestHash: h32(`req${nonce++}`), responseHash: h32(`res${nonce++}`), ...extra,
});

/** Co-signs and activates an agreement through the node. */
export async function agree(h: NodeHarness, provider: keyof typeof D, consumer: keyof typeof D, resource: string, quota: number, purpose = h32("collect non-tax fees")): Promise<string> {
  const terms = {
    provider: D[provider], consumer: D[consumer], resource, purposeHash: purpose, quota: String(quota),
    validFrom: String(wall() - 60), validUntil: String(wall() + 86400), nonce: String(nonce++),
  };
  const { draft, typedData } = await h.node.agreements.draft(D[consumer], terms);
  await h.node.agreements.sign(draft.id, D[provider], await signTyped(h.keys[provider], typedData));
  await h.node.agreements.sign(draft.id, D[consumer], await signTyped(h.keys[consumer], typedData));
  return draft.id;
}

export interface PeriodScenario {
  h: NodeHarness;
  /** The period [T + 10, T + 20). */
  period: Period;
  T: number;
  fees: string;
  residents: string;
  /** Records calls of `consumer` at time `t`. */
  at(t: number, consumer: keyof typeof D, calls: AccessCall[]): ReturnType<AccessLedger["record"]>;
  /** Anchors the log and lets the indexer see it. */
  anchor(): Promise<void>;
}

/** The scenario; `after: false` leaves no entry after the period (it is still open at the checkpoint). */
export async function buildPeriodScenario(opts: { after?: boolean } = {}): Promise<PeriodScenario> {
  const h = await startNodeHarness();
  const T = wall() + 600;
  const fees = await agree(h, "water", "tax", R.waterFees, 100);
  const residents = await agree(h, "civil", "tax", R.residents, 1000);
  const { draft, typedData } = await h.node.consents.draft(D.civil, {
    subjectId: "500101199001011234", grantee: D.tax, resource: R.residents, purposeHash: h32("collect non-tax fees"),
    kind: ConsentKind.Explicit, validUntil: wall() + 3600, evidenceHash: h32("signed form"),
  }, wall());
  await h.node.consents.grant(draft.id, D.civil, await signTyped(h.keys.civil, typedData));
  const subject = draft.terms.subject;
  const at = (t: number, consumer: keyof typeof D, calls: AccessCall[]) =>
    new AccessLedger({ ...h.node.access.options, now: () => t }).record(D[consumer], calls);
  const anchor = async () => {
    await h.node.anchorer.anchorOnce();
    await h.node.indexer.syncOnce();
  };

  await at(T, "tax", [call(fees, 5), call(fees, 5)]); // before the period
  await at(T + 10, "tax", [call(fees, 40), call(fees, 30)]);
  await at(T + 11, "tax", [call(fees, 200), call(h32("no such agreement"), 1)]); // QUOTA_EXCEEDED, AGREEMENT_UNKNOWN
  await at(T + 12, "tax", [call(residents, 3, { subjectCommitment: subject }), call(residents, 2, { subjectCommitment: h32("a stranger") }), call(residents, 1)]);
  await at(T + 12, "cad", [call(fees, 1)]); // NOT_AGREEMENT_CONSUMER
  await at(T + 19, "tax", [call(fees, 10)]);
  if (opts.after !== false) await at(T + 20, "tax", [call(fees, 1), call(fees, 1)]); // after the period
  await anchor();
  return { h, period: { from: T + 10, to: T + 20 }, T, fees, residents, at, anchor };
}
