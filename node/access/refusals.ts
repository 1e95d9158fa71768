/** Why a data call was refused: stable codes, written into the refused entry's `refusalReason`. */
export const REFUSAL = {
  AGREEMENT_UNKNOWN: "AGREEMENT_UNKNOWN",
  NOT_AGREEMENT_CONSUMER: "NOT_AGREEMENT_CONSUMER",
  AGREEMENT_SUSPENDED: "AGREEMENT_SUSPENDED",
  AGREEMENT_REVOKED: "AGREEMENT_REVOKED",
  AGREEMENT_NOT_YET_VALID: "AGREEMENT_NOT_YET_VALID",
  AGREEMENT_EXPIRED: "AGREEMENT_EXPIRED",
  /**
   * The agreement's provider or consumer is deactivated in the registry. The agreement stays active on chain
   * (a deactivated department's keys cannot sign anything meanwhile); the node refuses its calls.
   */
  DEPARTMENT_INACTIVE: "DEPARTMENT_INACTIVE",
  /** The agreement's resource is now catalogued as not shareable; the agreement stays active on chain, the node refuses its calls. */
  RESOURCE_NOT_SHAREABLE: "RESOURCE_NOT_SHAREABLE",
  /** The agreement names another log as its metering log: only that log may serve (and count) its calls. */
  AGREEMENT_OTHER_LOG: "AGREEMENT_OTHER_LOG",
  PURPOSE_MISMATCH: "PURPOSE_MISMATCH",
  QUOTA_EXCEEDED: "QUOTA_EXCEEDED",
  SUBJECT_REQUIRED: "SUBJECT_REQUIRED",
  CONSENT_MISSING: "CONSENT_MISSING",
  SUBJECT_ERASED: "SUBJECT_ERASED",
} as const;

/** One refusal code. */
export type RefusalCode = (typeof REFUSAL)[keyof typeof REFUSAL];
