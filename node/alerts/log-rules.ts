/**
 * The rules that read the access log, as a fold over its entries in log order: each entry either
 * raises alerts or not, from the entry, the agreement's quota and the state left by the entries
 * before it. The state is plain JSON, saved with the position it was taken at, so a restarted node
 * continues the fold exactly where it stopped. Windows are aligned ([k·w, (k+1)·w) in unix seconds),
 * and the log is in time order, so each window is counted once, in order.
 */
import type { AccessLogEntry } from "../log/entry";
import type { AlertConfig, AlertDraft } from "./alert";

/** Counts of one department in the current window. */
interface WindowCounts {
  calls: number;
  refused: number;
  consentRefusals: number;
}

/** The fold's state (JSON). */
export interface LogRulesState {
  /** Records served so far per agreement (over the whole log). */
  used: Record<string, string>;
  /** Agreements already warned / exhausted (each is raised once). */
  warned: Record<string, true>;
  exhausted: Record<string, true>;
  /** Start of the current window, its counts per consumer department, and what was raised in it. */
  window: number;
  counts: Record<string, WindowCounts>;
  raised: Record<string, true>;
}

/** An empty state. */
export function emptyLogRulesState(): LogRulesState {
  return { used: {}, warned: {}, exhausted: {}, window: 0, counts: {}, raised: {} };
}

const pct = (n: bigint, d: bigint) => `${(Number((n * 10000n) / d) / 100).toFixed(2)} %`;

/**
 * Applies the log rules to the entry at `index`, whose agreement has quota `quota` in records
 * (undefined when unknown), updating `state`; returns the alerts it raises.
 */
export function applyLogRules(state: LogRulesState, config: AlertConfig, index: number, e: AccessLogEntry, quota: bigint | undefined): AlertDraft[] {
  const out: AlertDraft[] = [];
  const w = config.windowSeconds;
  const window = Math.floor(e.time / w) * w;
  if (window !== state.window) {
    state.window = window;
    state.counts = {};
    state.raised = {};
  }
  const span = { from: window, to: window + w };
  const dept = e.consumerDept;
  const c = (state.counts[dept] ??= { calls: 0, refused: 0, consentRefusals: 0 });
  c.calls++;

  // Quota: records served against the agreement's total quota; a call refused for going beyond it.
  if (e.outcome === "served") {
    const used = BigInt(state.used[e.agreementId] ?? "0") + BigInt(e.recordCount);
    state.used[e.agreementId] = used.toString();
    if (quota !== undefined && quota > 0n) {
      if (used * 100n >= quota * BigInt(config.quotaWarnPercent) && !state.warned[e.agreementId] && used < quota) {
        state.warned[e.agreementId] = true;
        out.push({
          key: `quota_warning:${e.agreementId}`, rule: "quota_warning", severity: "warning", raisedAt: e.time, department: e.providerDept, agreementId: e.agreementId,
          message: `agreement ${e.agreementId} has served ${used} of its ${quota} records (${pct(used, quota)}), at or beyond the ${config.quotaWarnPercent} % warning`,
          evidence: { index, used: used.toString(), quota: quota.toString(), consumer: dept },
        });
      }
      if (used >= quota && !state.exhausted[e.agreementId]) {
        state.exhausted[e.agreementId] = true;
        out.push({
          key: `quota_exhausted:${e.agreementId}`, rule: "quota_exhausted", severity: "warning", raisedAt: e.time, department: e.providerDept, agreementId: e.agreementId,
          message: `agreement ${e.agreementId} has served all ${quota} records of its quota`,
          evidence: { index, used: used.toString(), quota: quota.toString(), consumer: dept },
        });
      }
    }
  } else {
    c.refused++;
    refusalRules(state, config, index, e, quota, window, out);
  }
  const rateKey = `refusal_rate:${dept}:${window}`;
  if (c.calls >= config.refusalMinCalls && c.refused * 100 > config.refusalRatePercent * c.calls && !state.raised[rateKey]) {
    state.raised[rateKey] = true;
    out.push({
      key: rateKey, rule: "refusal_rate", severity: "warning", raisedAt: e.time, department: dept,
      message: `${c.refused} of ${dept}'s ${c.calls} calls in the window from ${window} were refused, above ${config.refusalRatePercent} %`,
      evidence: { index, window: span, calls: c.calls, refused: c.refused },
    });
  }
  return out;
}

/** The rules of a refused entry: beyond the quota, outside the agreement's window, no valid consent. */
function refusalRules(state: LogRulesState, config: AlertConfig, index: number, e: AccessLogEntry, quota: bigint | undefined, window: number, out: AlertDraft[]): void {
  const dept = e.consumerDept;
  const c = state.counts[dept];
  const span = { from: window, to: window + config.windowSeconds };
  const reason = e.refusalReason;
  if (reason === "QUOTA_EXCEEDED" && !state.exhausted[e.agreementId]) {
    state.exhausted[e.agreementId] = true;
    const used = state.used[e.agreementId] ?? "0";
    out.push({
      key: `quota_exhausted:${e.agreementId}`, rule: "quota_exhausted", severity: "warning", raisedAt: e.time, department: e.providerDept, agreementId: e.agreementId,
      message: `a call by ${dept} under agreement ${e.agreementId} was refused for going beyond its quota (${used} of ${quota ?? "?"} records served)`,
      evidence: { index, used, quota: quota?.toString() ?? null, consumer: dept, refusalReason: reason },
    });
  }
  if (reason === "AGREEMENT_NOT_YET_VALID" || reason === "AGREEMENT_EXPIRED") {
    const key = `outside_window:${e.agreementId}:${window}`;
    if (!state.raised[key]) {
      state.raised[key] = true;
      out.push({
        key, rule: "outside_window", severity: "warning", raisedAt: e.time, department: dept, agreementId: e.agreementId,
        message: `${dept} called under agreement ${e.agreementId} outside its validity window (${reason})`,
        evidence: { index, window: span, refusalReason: reason },
      });
    }
  }
  if (reason === "CONSENT_MISSING" || reason === "SUBJECT_ERASED") {
    c.consentRefusals++;
    const key = `consent_refusals:${dept}:${window}`;
    if (c.consentRefusals >= config.consentRefusals && !state.raised[key]) {
      state.raised[key] = true;
      out.push({
        key, rule: "consent_refusals", severity: "critical", raisedAt: e.time, department: dept,
        message: `${dept} made ${c.consentRefusals} calls on personal data refused for no valid consent or an erased subject in the window from ${window}`,
        evidence: { index, window: span, consentRefusals: c.consentRefusals },
      });
    }
  }
}
