/**
 * Errors of the node's services: a stable code, a kind the API maps to an HTTP status, and a
 * message naming the value at fault. Nothing in node/ knows HTTP; the kinds are its vocabulary.
 */

/** What kind of failure: bad input, unknown id, state conflict, not allowed, or a dependency down. */
export type DclErrorKind = "invalid" | "not_found" | "conflict" | "forbidden" | "unavailable";

/** A service error with a stable machine-readable code. */
export class DclError extends Error {
  constructor(
    readonly kind: DclErrorKind,
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "DclError";
  }
}

/** Shorthands for the common kinds. */
export const fail = {
  invalid: (code: string, message: string) => new DclError("invalid", code, message),
  notFound: (what: string, id: string) => new DclError("not_found", "NOT_FOUND", `${what} ${id} not found`),
  conflict: (code: string, message: string) => new DclError("conflict", code, message),
  forbidden: (code: string, message: string) => new DclError("forbidden", code, message),
};
