/**
 * Every error the API answers with, declared once: stable code, HTTP status, message template.
 * The body is always `{ "error": { "code", "message" } }` (see app.ts's error handler).
 */
import createError from "@fastify/error";

const e = (code: string, message: string, status: number) => createError(code, message, status);

export const Errors = {
  // 400: the request is malformed
  VALIDATION_FAILED: e("VALIDATION_FAILED", "invalid request: %s", 400),
  MALFORMED_JSON: e("MALFORMED_JSON", "body is not valid JSON: %s", 400),
  BATCH_TOO_LARGE: e("BATCH_TOO_LARGE", "a batch holds at most %s entries", 400),
  BAD_URL: e("BAD_URL", "'%s' is not a valid url component", 400),
  BAD_REQUEST: e("BAD_REQUEST", "%s", 400),
  SESSION_WINDOW_INVALID: e("SESSION_WINDOW_INVALID", "session key window [%s, %s) %s", 400),
  SESSION_SIGNATURE_INVALID: e("SESSION_SIGNATURE_INVALID", "the certificate's signature is not by %s over the SessionKey typed data", 400),
  // 401: who is asking cannot be established
  AUTH_MISSING: e("AUTH_MISSING", "signed request headers missing: %s", 401),
  AUTH_MALFORMED: e("AUTH_MALFORMED", "signed request header malformed: %s", 401),
  AUTH_STALE_TIMESTAMP: e("AUTH_STALE_TIMESTAMP", "request timestamp %s is more than %s s from the server's clock", 401),
  AUTH_BAD_SIGNATURE: e("AUTH_BAD_SIGNATURE", "signature does not match the request and signer %s", 401),
  AUTH_NONCE_REUSED: e("AUTH_NONCE_REUSED", "nonce %s was already used", 401),
  SESSION_UNKNOWN: e("SESSION_UNKNOWN", "session key %s is not registered for department %s", 401),
  SESSION_EXPIRED: e("SESSION_EXPIRED", "session key %s expired at %s", 401),
  SESSION_NOT_YET_VALID: e("SESSION_NOT_YET_VALID", "session key %s is not valid before %s", 401),
  // 403: established, but not allowed
  AUTH_UNKNOWN_DEPARTMENT: e("AUTH_UNKNOWN_DEPARTMENT", "department %s is not registered", 403),
  AUTH_DEPARTMENT_INACTIVE: e("AUTH_DEPARTMENT_INACTIVE", "department %s is deactivated", 403),
  AUTH_KEY_REVOKED: e("AUTH_KEY_REVOKED", "key %s was removed from department %s", 403),
  AUTH_NOT_DEPARTMENT_SIGNER: e("AUTH_NOT_DEPARTMENT_SIGNER", "key %s is not a signer of department %s", 403),
  FORBIDDEN_ROLE: e("FORBIDDEN_ROLE", "this needs the %s role", 403),
  SESSION_REVOKED: e("SESSION_REVOKED", "session key %s was revoked by %s", 403),
  SESSION_CERTIFIER_REMOVED: e("SESSION_CERTIFIER_REMOVED", "session key %s was certified by %s, since removed from department %s", 403),
  SESSION_CERTIFIER_NOT_SIGNER: e("SESSION_CERTIFIER_NOT_SIGNER", "certifier %s is not a current signer of department %s", 403),
  SESSION_SCOPE: e("SESSION_SCOPE", "%s", 403),
  FORBIDDEN_NOT_PARTY: e("FORBIDDEN_NOT_PARTY", "department %s is not a party to %s", 403),
  SIGNATURE_INVALID: e("SIGNATURE_INVALID", "signature is not a valid signature by a current signer of %s", 403),
  // 404
  NOT_FOUND: e("NOT_FOUND", "%s %s not found", 404),
  ROUTE_NOT_FOUND: e("ROUTE_NOT_FOUND", "no route %s %s", 404),
  // 409: the state does not allow it
  CHAIN_REJECTED: e("CHAIN_REJECTED", "the chain refused the transaction: %s", 409),
  NOT_YET_ANCHORED: e("NOT_YET_ANCHORED", "entry %s is not covered by an anchored checkpoint yet (anchored size %s)", 409),
  SESSION_EXISTS: e("SESSION_EXISTS", "session key %s is already registered", 409),
  SESSION_ALREADY_REVOKED: e("SESSION_ALREADY_REVOKED", "session key %s was already revoked", 409),
  // 413, 414, 415, 429
  URI_TOO_LONG: e("URI_TOO_LONG", "a path parameter of '%s' exceeds the maximum length", 414),
  BODY_TOO_LARGE: e("BODY_TOO_LARGE", "body larger than %s bytes", 413),
  UNSUPPORTED_MEDIA_TYPE: e("UNSUPPORTED_MEDIA_TYPE", "content type %s is not supported; send application/json", 415),
  RATE_LIMITED: e("RATE_LIMITED", "rate limit of %s requests per minute exceeded; retry in %s", 429),
  // 503: a dependency is down (not a bug; retry later)
  CHAIN_UNAVAILABLE: e("CHAIN_UNAVAILABLE", "the chain is unreachable: %s", 503),
} as const;

/** An error code the API can answer with. */
export type ErrorCode = keyof typeof Errors;
