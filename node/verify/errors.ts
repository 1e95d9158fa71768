/** Stable codes of every failure the verifier can report. */
export type VerificationErrorCode =
  | "HASH_LENGTH"
  | "TREE_SIZE_INVALID"
  | "INCLUSION_INDEX_OUT_OF_RANGE"
  | "INCLUSION_PROOF_LENGTH"
  | "INCLUSION_ROOT_MISMATCH"
  | "CONSISTENCY_SIZE_ORDER"
  | "CONSISTENCY_FROM_EMPTY"
  | "CONSISTENCY_PROOF_LENGTH"
  | "CONSISTENCY_ROOT_MISMATCH"
  | "RANGE_INVALID"
  | "RANGE_PROOF_LENGTH"
  | "RANGE_ROOT_MISMATCH"
  | "HEX_INVALID"
  | "BASE64_INVALID"
  | "CHECKPOINT_MALFORMED"
  | "CHECKPOINT_ORIGIN_INVALID"
  | "CHECKPOINT_SIZE_INVALID"
  | "CHECKPOINT_ROOT_INVALID"
  | "CHECKPOINT_SIGNATURE_MALFORMED"
  | "CHECKPOINT_SIGNATURE_MISSING"
  | "CHECKPOINT_SIGNATURE_INVALID"
  | "CHECKPOINT_SIGNER_UNKNOWN"
  | "RECEIPT_BATCH_INVALID"
  | "RECEIPT_SIGNATURE_INVALID"
  | "RECEIPT_SIGNER_UNEXPECTED"
  | "JSON_NOT_CANONICALIZABLE"
  | "SEAL_SIGNATURE_INVALID"
  | "SEAL_SIGNER_UNEXPECTED"
  | "WEBHOOK_STALE"
  | "WEBHOOK_SIGNATURE_INVALID"
  | "WEBHOOK_SIGNER_UNEXPECTED";

/** A failed verification: `code` is stable, `details` names the values involved. */
export class VerificationError extends Error {
  readonly code: VerificationErrorCode;
  readonly details: Readonly<Record<string, string | number>>;

  constructor(code: VerificationErrorCode, message: string, details: Record<string, string | number> = {}) {
    super(message);
    this.name = "VerificationError";
    this.code = code;
    this.details = details;
  }
}
