/**
 * The city's quarterly assessment of data sharing (Reply 0535 §3.1, §1.3), as far as the access log
 * can measure it, with the rule text beside each figure. Ratios are exact fractions; thresholds are
 * compared on the fractions (cross-multiplied integers), never on rounded decimals, so a figure of
 * exactly 95 % or exactly 20 % is on the right side of its rule. Pure: runs in a browser.
 */
import { REFUSAL } from "../access/refusals";

/** A fraction with its decimal value (4 places, rounded half up); value is null when nothing was counted. */
export interface Ratio {
  numerator: number;
  denominator: number;
  value: string | null;
}

/** numerator / denominator as a decimal with 4 places, rounded half up (exact integer arithmetic); null for a zero denominator. */
export function decimal(numerator: bigint, denominator: bigint): string | null {
  if (denominator === 0n) return null;
  const scaled = (numerator * 20000n + denominator) / (2n * denominator);
  return `${scaled / 10000n}.${(scaled % 10000n).toString().padStart(4, "0")}`;
}

/** The fraction numerator / denominator. */
export function ratio(numerator: number, denominator: number): Ratio {
  return { numerator, denominator, value: decimal(BigInt(numerator), BigInt(denominator)) };
}

/** Whose side a refusal is on: the provider's (it did not answer), the consumer's (the call did not conform), or the regulator's. */
export type RefusalSide = "provider" | "consumer" | "regulator";

/**
 * The side of each refusal code. The provider revoked the agreement, or catalogued its resource as
 * not shareable while the agreement stood: the provider did not answer. The regulator suspended the
 * agreement, or the governor deactivated one of the departments: neither party's figure. Every other
 * refusal is a call that did not conform to its agreement (including one sent to a log other than
 * the agreement's metering log) or to the consent rules: the consumer's. A code not listed here (a
 * newer node's) is counted in `refusedByReason` and on no side; every code this node writes is listed
 * (test/node/assessment.test.ts checks it).
 */
export const REFUSAL_SIDE: Readonly<Record<string, RefusalSide>> = {
  [REFUSAL.AGREEMENT_REVOKED]: "provider",
  [REFUSAL.RESOURCE_NOT_SHAREABLE]: "provider",
  [REFUSAL.AGREEMENT_SUSPENDED]: "regulator",
  [REFUSAL.DEPARTMENT_INACTIVE]: "regulator",
  [REFUSAL.AGREEMENT_UNKNOWN]: "consumer",
  [REFUSAL.NOT_AGREEMENT_CONSUMER]: "consumer",
  [REFUSAL.AGREEMENT_NOT_YET_VALID]: "consumer",
  [REFUSAL.AGREEMENT_EXPIRED]: "consumer",
  [REFUSAL.AGREEMENT_OTHER_LOG]: "consumer",
  [REFUSAL.PURPOSE_MISMATCH]: "consumer",
  [REFUSAL.QUOTA_EXCEEDED]: "consumer",
  [REFUSAL.SUBJECT_REQUIRED]: "consumer",
  [REFUSAL.CONSENT_MISSING]: "consumer",
  [REFUSAL.SUBJECT_ERASED]: "consumer",
};

/** A rule of the assessment: id, where it comes from, what it says and how dcl measures it. */
export interface RuleText {
  id: string;
  source: string;
  text: string;
}

/** Identifies the rule set below: an assessment names it, and a verifier recomputes with the same. */
export const RULES_VERSION = "dcl-0535/v2";

/** Every rule an assessment applies or reports, with its text. */
export const RULES = {
  replyRate: {
    id: "reply-rate",
    source: "Reply 0535 §3.1 (reply rate); figure of the department as provider",
    text: "Calls to the department served, over the calls it served plus those refused on its own side (an agreement it revoked, or a resource it catalogued as not shareable while the agreement stood). Calls refused for the consumer's non-conformity, by the regulator's suspension or because a department was deactivated are not held against it.",
  },
  sharingTarget: {
    id: "sharing-target-95",
    source: "Reply 0535 §3.1: a department whose collected-and-shared data falls short of 95 % loses 0.1 point",
    text: "As provider, a reply rate below 95 % deducts 0.1 point; exactly 95 % deducts nothing. No calls to the department: not applicable.",
  },
  nonConforming: {
    id: "non-conforming-20-30",
    source: "Reply 0535 §3.1: when non-conforming data exceeds 20 % or 30 %, 0.1 or 0.2 points are deducted",
    text: "As consumer, the share of the department's calls refused for its own non-conformity (unknown or foreign agreement, an agreement metered by another log, outside the window, other purpose, beyond the quota, no subject, no valid consent, erased subject). Above 20 % deducts 0.1 point, above 30 % deducts 0.2 (not both); exactly 20 % or 30 % is not above. No calls by the department: not applicable.",
  },
  consent: {
    id: "personal-data-consent",
    source: "Reply 0073 §4.3 (separate and explicit authorisation); reported, not scored",
    text: "Calls involving personal data (a subject named, or refused for naming none) that were served, each after the node found a consent valid at that moment; the others were refused. The consents themselves are checked with an evidence bundle (POST /v1/evidence).",
  },
  timeliness: {
    id: "timeliness",
    source: "Reply 0535 §3.1 (timeliness of sharing); reported, not scored (the reply gives no threshold)",
    text: "Of the calls that reported when they were made (calledAt), the seconds from then to their log entry — how late calls are reported — as median, 95th percentile (nearest rank) and maximum; of the calls that reported the provider's response time (latencyMs), the same in ms. Both are logged with the entry (encoding 0x02), so they are in the anchored log.",
  },
  quota: {
    id: "records-vs-quota",
    source: "Reply 0535 §2.4 (total volume controlled); reported, not scored",
    text: "Records served in the period under each agreement, against the agreement's total quota in records (its whole life, not the period).",
  },
} as const satisfies Record<string, RuleText>;

/** One scoring rule applied to one department: the figure, the threshold, whether it deducts and how much. */
export interface Deduction {
  rule: string;
  figure: Ratio;
  threshold: string;
  applies: boolean;
  points: string;
}

/** Points in tenths as a decimal ("0.1"). */
const points = (tenths: number) => `${Math.floor(tenths / 10)}.${tenths % 10}`;

/** Reply 0535 §3.1 applied to a department's reply rate (as provider) and non-conforming share (as consumer). */
export function score(replyRate: Ratio, nonConforming: Ratio): { deductions: Deduction[]; pointsDeducted: string } {
  const below95 = replyRate.denominator > 0 && replyRate.numerator * 100 < 95 * replyRate.denominator;
  const over = (pct: number) => nonConforming.denominator > 0 && nonConforming.numerator * 100 > pct * nonConforming.denominator;
  const ncTenths = over(30) ? 2 : over(20) ? 1 : 0;
  const deductions: Deduction[] = [
    { rule: RULES.sharingTarget.id, figure: replyRate, threshold: "reply rate < 0.95", applies: below95, points: points(below95 ? 1 : 0) },
    { rule: RULES.nonConforming.id, figure: nonConforming, threshold: "share > 0.20: 0.1; share > 0.30: 0.2", applies: ncTenths > 0, points: points(ncTenths) },
  ];
  return { deductions, pointsDeducted: points((below95 ? 1 : 0) + ncTenths) };
}
