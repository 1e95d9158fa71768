/** Stable codes of every failure the log layer can report. */
export type LogErrorCode =
  | "ENTRY_FIELD_INVALID"
  | "ENTRY_DECODE_FAILED"
  | "LOG_INDEX_OUT_OF_RANGE"
  | "LOG_SIZE_OUT_OF_RANGE"
  | "LOG_CLOSED"
  | "LOG_CORRUPT"
  | "LOG_WRITE_FAILED"
  | "LOG_TIME_ORDER";

/** A log-layer failure with a stable `code`, the values involved in `details`, and the `cause` if any. */
export class LogError extends Error {
  readonly code: LogErrorCode;
  readonly details: Readonly<Record<string, string | number>>;

  constructor(code: LogErrorCode, message: string, details: Record<string, string | number> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "LogError";
    this.code = code;
    this.details = details;
  }
}
