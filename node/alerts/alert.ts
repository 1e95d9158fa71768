/**
 * Risk warnings (Reply 0073 §4.1, §4.4: monitoring and early warning): the alert, its rules and their
 * thresholds. Every alert is derived from the log and the chain, and its id from what raised it, so
 * a node that derives them again — after a restart, from the same log and chain — raises the same
 * alerts with the same ids: nothing lost, nothing doubled.
 */
import { sha256 } from "@noble/hashes/sha2";
import { toHex } from "../verify";

/** The rules. */
export const ALERT_RULES = ["quota_warning", "quota_exhausted", "refusal_rate", "consent_refusals", "outside_window", "anchor_lag", "peer_fork", "log_diverged"] as const;
export type AlertRule = (typeof ALERT_RULES)[number];

/** How urgent: a warning wants a look, critical wants action. */
export type AlertSeverity = "warning" | "critical";

/** One alert. */
export interface Alert {
  /** 0x + 32 hex: the first 16 bytes of SHA-256 of `key` — the same for the same cause on every derivation. */
  id: string;
  /** What raised it, readable: `<rule>:<what>:<where>` (e.g. `quota_exhausted:0xagreement`). */
  key: string;
  /** Order in which this node raised its alerts (1, 2, …): for paging and for resuming a stream. */
  seq: number;
  rule: AlertRule;
  severity: AlertSeverity;
  /** When the condition was met (unix seconds), from the log or the chain, not from the clock of the derivation. */
  raisedAt: number;
  /** The department concerned (the consumer of the calls, the provider of an agreement), when there is one. */
  department?: string;
  agreementId?: string;
  message: string;
  /** What shows it: the log index that crossed the threshold, the window, the figures, the peer's alert. */
  evidence: Record<string, unknown>;
}

/** An alert with its acknowledgement, if the regulator acknowledged it. */
export interface AlertView extends Alert {
  acknowledged: { at: number; department: string; signer: string; note?: string } | null;
}

/** Thresholds of the rules (configuration: DCL_ALERT_*). */
export interface AlertConfig {
  /** quota_warning when an agreement's records served reach this share of its quota (percent). */
  quotaWarnPercent: number;
  /** Length of the windows (aligned to multiples of it in unix seconds) of refusal_rate, consent_refusals and outside_window. */
  windowSeconds: number;
  /** refusal_rate when a department's refused calls in a window exceed this share (percent) ... */
  refusalRatePercent: number;
  /** ... of at least this many calls. */
  refusalMinCalls: number;
  /** consent_refusals at this many CONSENT_MISSING / SUBJECT_ERASED refusals of one department in a window. */
  consentRefusals: number;
  /** The anchor interval (ms): anchor_lag when an entry waits more than twice this for its anchor. */
  anchorIntervalMs: number;
}

/** The defaults: 80 % of quota; windows of an hour; over 20 % refused of at least 20 calls; 3 consent refusals. */
export const DEFAULT_ALERT_CONFIG: AlertConfig = {
  quotaWarnPercent: 80,
  windowSeconds: 3600,
  refusalRatePercent: 20,
  refusalMinCalls: 20,
  consentRefusals: 3,
  anchorIntervalMs: 5000,
};

/** The id of the alert raised for `key`. */
export function alertId(key: string): string {
  return toHex(sha256(new TextEncoder().encode(key)).subarray(0, 16));
}

/** An alert before it is numbered. */
export type AlertDraft = Omit<Alert, "id" | "seq">;
