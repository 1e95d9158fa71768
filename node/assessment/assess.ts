/**
 * The assessment of a period: per department, as provider and as consumer, the calls, refusals by
 * reason, reply rate, records against quota and personal-data consent share, and the Reply 0535
 * scoring (scoring.ts). It is a fold over the period's log entries in log order plus the terms of
 * the agreements they name, and nothing else — so the node computes it from its log, and anyone
 * recomputes it from a period bundle, with this same code, to the same bytes. Pure: runs in a browser.
 */
import type { AccessLogEntry } from "../log/entry";
import type { Period } from "./period";
import { decimal, ratio, REFUSAL_SIDE, RULES, RULES_VERSION, score, type Deduction, type Ratio, type RuleText } from "./scoring";

export const ASSESSMENT_VERSION = "dcl-assessment/v1";

const ZERO32 = "0x" + "00".repeat(32);

/** What an assessment needs of an agreement: its parties and quota (records, decimal). */
export interface AgreementTerms {
  provider: string;
  consumer: string;
  quota: string;
}

/** An agreement's figures in one role of one department. */
export interface AgreementFigures {
  agreementId: string;
  /** The other party (zero when the agreement is unknown). */
  counterpart: string;
  calls: number;
  served: number;
  records: number;
  /** Total quota in records (the agreement's whole life), null when the agreement's terms are not known. */
  quota: string | null;
  /** records / quota as a decimal (4 places), null when the quota is not known. */
  shareOfQuota: string | null;
}

/** Nearest-rank percentiles of integer values: median, 95th, and the maximum. */
export interface Spread {
  median: number;
  p95: number;
  max: number;
}

/** Timeliness of the calls that reported it — rule `timeliness`. */
export interface Timeliness {
  /** Calls that reported when they were made, and the seconds from then to their log entry (0 when reported within the clock skew after it). */
  reported: number;
  logDelaySeconds: Spread | null;
  /** Calls that reported the provider's response time, and that time in ms. */
  withLatency: number;
  latencyMs: Spread | null;
}

/** A department's figures in one role. */
export interface RoleFigures {
  calls: number;
  served: number;
  refused: number;
  /** Refusals by code, codes in ascending order. */
  refusedByReason: Record<string, number>;
  /** Records in served calls (delivered as provider, received as consumer). */
  records: number;
  /** served / (served + refusals on the provider's side) — rule `reply-rate`. */
  replyRate: Ratio;
  /** refusals on the consumer's side / calls — rule `non-conforming-20-30`, scored in the consumer role (in the provider role: calls to it that did not conform, reported only). */
  nonConforming: Ratio;
  /** Calls involving personal data, and those served under a valid consent — rule `personal-data-consent`. */
  personalData: { calls: number; withValidConsent: number; share: Ratio };
  /** Per agreement, ascending by id — rule `records-vs-quota`. */
  agreements: AgreementFigures[];
  timeliness: Timeliness;
}

/** One department's assessment. */
export interface DepartmentAssessment {
  department: string;
  asProvider: RoleFigures;
  asConsumer: RoleFigures;
  /** Reply 0535 §3.1: reply rate as provider, non-conforming share as consumer. */
  scoring: { deductions: Deduction[]; pointsDeducted: string };
}

/** Which entries an assessment was computed over: the log's [begin, end) in the tree of `treeSize`; `closed` when the entry at `end` shows the period over. */
export interface AssessmentBasis {
  treeSize: number;
  root: string;
  begin: number;
  end: number;
  closed: boolean;
}

/** The assessment of a period, every department that appears in it (or the ones asked for). */
export interface Assessment {
  version: typeof ASSESSMENT_VERSION;
  rulesVersion: typeof RULES_VERSION;
  period: Period;
  basis: AssessmentBasis;
  rules: RuleText[];
  departments: DepartmentAssessment[];
}

interface AgreementCount {
  calls: number;
  served: number;
  records: number;
  counterpart: string;
}

interface RoleCount {
  calls: number;
  served: number;
  refusedByReason: Map<string, number>;
  records: number;
  providerSide: number;
  consumerSide: number;
  personal: number;
  personalServed: number;
  agreements: Map<string, AgreementCount>;
  /** Value → how many calls had it. */
  delays: Map<number, number>;
  latencies: Map<number, number>;
}

const emptyRole = (): RoleCount => ({
  calls: 0, served: 0, refusedByReason: new Map(), records: 0, providerSide: 0, consumerSide: 0, personal: 0, personalServed: 0, agreements: new Map(),
  delays: new Map(), latencies: new Map(),
});

/** Nearest-rank percentiles of the values counted in `m` (value → count); null when there are none. */
function spread(m: Map<number, number>): { n: number; spread: Spread | null } {
  const values = [...m.keys()].sort((a, b) => a - b);
  const n = values.reduce((k, v) => k + m.get(v)!, 0);
  if (n === 0) return { n, spread: null };
  const rank = (p: number) => {
    const want = Math.ceil((p * n) / 100);
    let seen = 0;
    for (const v of values) if ((seen += m.get(v)!) >= want) return v;
    return values[values.length - 1];
  };
  return { n, spread: { median: rank(50), p95: rank(95), max: values[values.length - 1] } };
}

/** A call involves personal data when it names a subject, or was refused for naming none on a personal resource. */
function isPersonal(e: AccessLogEntry): boolean {
  return e.subjectCommitment !== null || e.refusalReason === "SUBJECT_REQUIRED";
}

/** Folds a period's entries, in log order, into per-department counts; `finish` turns them into the assessment. */
export class AssessmentBuilder {
  private readonly counts = new Map<string, { provider: RoleCount; consumer: RoleCount }>();
  private entries = 0;

  constructor(readonly period: Period) {}

  /** Entries added so far. */
  get size(): number {
    return this.entries;
  }

  /** Counts one entry of the period; throws if its time is outside the period. */
  add(e: AccessLogEntry): void {
    if (e.time < this.period.from || e.time >= this.period.to) {
      throw new Error(`entry at time ${e.time} is outside the period [${this.period.from}, ${this.period.to})`);
    }
    this.entries++;
    this.count(this.department(e.consumerDept).consumer, e, e.providerDept);
    if (e.providerDept !== ZERO32) this.count(this.department(e.providerDept).provider, e, e.consumerDept);
  }

  /**
   * The assessment of every department seen (or of `departments` only, in that order; one never seen
   * has zero figures), with each agreement's quota from `terms` (undefined: not known).
   */
  finish(basis: AssessmentBasis, terms: (agreementId: string) => AgreementTerms | undefined, departments?: string[]): Assessment {
    const ids = departments ?? [...this.counts.keys()].sort();
    return {
      version: ASSESSMENT_VERSION,
      rulesVersion: RULES_VERSION,
      period: this.period,
      basis,
      rules: Object.values(RULES),
      departments: ids.map((id) => {
        const c = this.counts.get(id) ?? { provider: emptyRole(), consumer: emptyRole() };
        const asProvider = figures(c.provider, terms);
        const asConsumer = figures(c.consumer, terms);
        return { department: id, asProvider, asConsumer, scoring: score(asProvider.replyRate, asConsumer.nonConforming) };
      }),
    };
  }

  private department(id: string) {
    let c = this.counts.get(id);
    if (!c) this.counts.set(id, (c = { provider: emptyRole(), consumer: emptyRole() }));
    return c;
  }

  private count(r: RoleCount, e: AccessLogEntry, counterpart: string): void {
    r.calls++;
    let a = r.agreements.get(e.agreementId);
    if (!a) r.agreements.set(e.agreementId, (a = { calls: 0, served: 0, records: 0, counterpart }));
    a.calls++;
    if (e.calledAt !== undefined) {
      const delay = Math.max(0, e.time - e.calledAt);
      r.delays.set(delay, (r.delays.get(delay) ?? 0) + 1);
    }
    if (e.latencyMs !== undefined) r.latencies.set(e.latencyMs, (r.latencies.get(e.latencyMs) ?? 0) + 1);
    const personal = isPersonal(e);
    if (personal) r.personal++;
    if (e.outcome === "served") {
      r.served++;
      r.records += e.recordCount;
      a.served++;
      a.records += e.recordCount;
      if (personal) r.personalServed++;
      return;
    }
    r.refusedByReason.set(e.refusalReason, (r.refusedByReason.get(e.refusalReason) ?? 0) + 1);
    const side = REFUSAL_SIDE[e.refusalReason];
    if (side === "provider") r.providerSide++;
    else if (side === "consumer") r.consumerSide++;
  }
}

function figures(r: RoleCount, terms: (agreementId: string) => AgreementTerms | undefined): RoleFigures {
  const reasons = [...r.refusedByReason.keys()].sort();
  return {
    calls: r.calls,
    served: r.served,
    refused: r.calls - r.served,
    refusedByReason: Object.fromEntries(reasons.map((k) => [k, r.refusedByReason.get(k)!])),
    records: r.records,
    replyRate: ratio(r.served, r.served + r.providerSide),
    nonConforming: ratio(r.consumerSide, r.calls),
    personalData: { calls: r.personal, withValidConsent: r.personalServed, share: ratio(r.personalServed, r.personal) },
    agreements: [...r.agreements.keys()].sort().map((id) => {
      const a = r.agreements.get(id)!;
      const quota = terms(id)?.quota ?? null;
      return {
        agreementId: id, counterpart: a.counterpart, calls: a.calls, served: a.served, records: a.records, quota,
        shareOfQuota: quota === null ? null : decimal(BigInt(a.records), BigInt(quota)),
      };
    }),
    timeliness: timeliness(r),
  };
}

function timeliness(r: RoleCount): Timeliness {
  const delays = spread(r.delays);
  const latencies = spread(r.latencies);
  return { reported: delays.n, logDelaySeconds: delays.spread, withLatency: latencies.n, latencyMs: latencies.spread };
}
