/**
 * The period bundle: every entry of a period with the proof that they are exactly the log's entries
 * between the period's bounds, so that its assessment can be recomputed by anyone from the bundle
 * alone. The entries are the log's [begin, end) in the tree of an anchored checkpoint; a range proof
 * (node/verify/range.ts) over them and their two neighbours recomputes that checkpoint's root, and
 * the neighbours' times show the range's ends fall outside the period (the log is in time order).
 * Sealed by the log operator like an evidence bundle. Format: docs/formats.md.
 */
import type { DclAddresses } from "../chain/deploy";
import type { BundleAgreement } from "../evidence/bundle";
import type { Seal } from "../verify";
import type { Assessment } from "./assess";
import type { Period } from "./period";

export const PERIOD_BUNDLE_VERSION = "dcl-period/v1";

/** An agreement named by the period's entries: its terms (bound to the id by hashStruct) and, when the node holds them, its co-signatures. */
export type PeriodAgreement = Pick<BundleAgreement, "id" | "terms"> & Partial<Pick<BundleAgreement, "signatures" | "activation">>;

/** The bundle without its seal: what the seal signs. */
export interface UnsealedPeriodBundle {
  version: typeof PERIOD_BUNDLE_VERSION;
  createdAt: number;
  chain: { chainId: string; contracts: DclAddresses };
  log: { logId: string; origin: string; operatorDepartment: string; operatorSigners: string[] };
  period: Period;
  /** An anchored checkpoint the range is proven against. */
  checkpoint: {
    note: string;
    treeSize: number;
    root: string;
    anchor: { index: number; tx: string; block: number; timestamp: number };
  };
  /** The period's entries are the log's [begin, end). */
  range: { begin: number; end: number };
  /** Canonical entry at begin − 1 (its time is before the period); null iff begin = 0. */
  before: string | null;
  /** Canonical entry at end (its time is at or after the period's end); null iff end = treeSize: the period was still open at the checkpoint. */
  after: string | null;
  /** Canonical entries [begin, end), in log order (0x-hex). */
  entries: string[];
  /** Range proof of [lo, hi) = the entries with their neighbours: hashes of compactRange(0, lo) and compactRange(hi, treeSize). */
  proof: { left: string[]; right: string[] };
  agreements: PeriodAgreement[];
  /** The operator's assessment of the period, computed over exactly these entries. */
  assessment: Assessment;
}

/** A sealed period bundle. */
export interface PeriodBundle extends UnsealedPeriodBundle {
  seal: Seal;
}
