/** zod schemas shared by the routes: the wire forms of ids, hashes, signatures and numbers. */
import { z } from "zod";

export const Bytes32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "0x + 64 hex characters").transform((s) => s.toLowerCase()).describe("bytes32, 0x-hex");
export const Address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "0x + 40 hex characters").describe("Ethereum address");
export const Signature = z.string().regex(/^0x[0-9a-fA-F]{130}$/, "0x + 130 hex characters").describe("65-byte ECDSA signature (EIP-712 or EIP-191)");

/** Canonical decimal: no sign, no leading zeros, no fraction or exponent. */
const DECIMAL = /^(0|[1-9][0-9]*)$/;

/**
 * An unsigned integer bounded by the type it ends up in on chain or in the log's encoding (`bits`:
 * 8 for uint8 … 256 for uint256), in one of its wire forms:
 * - `"string"`: a JSON string in canonical decimal, kept as the string (for uint64 and wider amounts);
 * - `"number"`: a JSON number, an integer;
 * - `"param"`: a path or query parameter in canonical decimal, read as a number.
 * A number (the last two forms) is also at most 2^53 − 1, the largest a JSON number holds exactly.
 * `min` and `max` narrow the range further (e.g. a page size, a plausible unix time). A value out
 * of range or not in that form fails validation (400 VALIDATION_FAILED), with a message naming the
 * type and its range, so it never reaches the chain.
 */
export function uint(bits: number, form: "string", range?: { min?: bigint; max?: bigint }): z.ZodType<string, string>;
export function uint(bits: number, form: "number", range?: { min?: number; max?: number }): z.ZodType<number, number>;
export function uint(bits: number, form: "param", range?: { min?: number; max?: number }): z.ZodType<number, string>;
export function uint(bits: number, form: "string" | "number" | "param", range: { min?: number | bigint; max?: number | bigint } = {}): z.ZodType {
  const typeMax = (1n << BigInt(bits)) - 1n;
  const exact = form === "string" ? typeMax : BigInt(Number.MAX_SAFE_INTEGER) < typeMax ? BigInt(Number.MAX_SAFE_INTEGER) : typeMax;
  const max = range.max !== undefined && BigInt(range.max) < exact ? BigInt(range.max) : exact;
  const min = range.min !== undefined ? BigInt(range.min) : 0n;
  const what = `a uint${bits}`;
  const bounds = `from ${min} to ${max}${max < typeMax ? ` (uint${bits} holds up to ${typeMax})` : ""}`;
  const message = form === "number" ? `must be ${what}: a JSON number, an integer ${bounds}` : `must be ${what} in decimal (no sign, leading zeros, fraction or exponent) ${bounds}`;
  if (form === "number") {
    return z.number({ error: message }).int({ error: message, abort: true }).min(Number(min), { error: message }).max(Number(max), { error: message });
  }
  // At most as many digits as the bound has (so a 10,000-digit string is not parsed into a BigInt), then the value.
  const digits = z
    .string({ error: message })
    .max(max.toString().length, { error: message, abort: true })
    .regex(DECIMAL, { error: message, abort: true })
    .refine((s) => DECIMAL.test(s) && BigInt(s) >= min && BigInt(s) <= max, { error: message });
  return form === "string" ? digits : digits.transform(Number);
}

/** uint64 amounts and nonces as decimal strings. */
export const Uint64 = uint(64, "string").describe("uint64 as a decimal string");
/** Unix time in seconds: a uint64 on chain, limited to 2^40 (year 36812) here. */
export const UnixSeconds = uint(64, "number", { max: 2 ** 40 }).describe("unix time in seconds");
/** A log index or tree size (uint64 on chain) as a path or query parameter. */
export const Index = uint(64, "param").describe("an index or size, decimal");
export const Code = z.string().min(1).max(64).regex(/^[a-z0-9][a-z0-9._-]*$/, "lower-case code like cq.tax").describe("human-readable code; its keccak256 is the on-chain id");
/** Purpose: a text (hashed with keccak256) or its hash. */
export const PurposeText = z.string().min(1).max(500);

/** The one error shape of every failure. */
export const ErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) }).describe("error");

/** EIP-712 typed data ready for eth_signTypedData_v4. */
export const TypedDataSchema = z.object({
  domain: z.record(z.string(), z.unknown()),
  types: z.record(z.string(), z.array(z.object({ name: z.string(), type: z.string() }))),
  primaryType: z.string(),
  message: z.record(z.string(), z.unknown()),
});

/** A signature-carrying body. */
export const SignatureBody = z.strictObject({ signature: Signature });

/** The `id` path parameter. */
export const IdParam = z.strictObject({ id: Bytes32 });

/** Common error responses of an authenticated route, for the OpenAPI document. */
export const authErrors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 413: ErrorBody, 429: ErrorBody, 503: ErrorBody };

/** A documented error code and its message, for a check whose failure is not a plain VALIDATION_FAILED. */
export interface CodedFailure {
  code: string;
  message: string;
}

/**
 * An array of `min` to `max` items. A size out of range fails validation with the given code
 * (e.g. TRANSFER_EMPTY, BATCH_TOO_LARGE), or VALIDATION_FAILED when none is given: the issue
 * carries the code in `params.code` and the error handler answers with it (see `codedIssue`). The
 * size is checked even when items fail too, and wins over them. minItems and maxItems stay in the
 * OpenAPI document.
 */
export function sizedArray<T extends z.ZodType>(item: T, limits: { min: number; max: number; tooFew?: CodedFailure; tooMany?: CodedFailure }) {
  const isArray = (p: { value: unknown }) => Array.isArray(p.value);
  const { min, max, tooFew, tooMany } = limits;
  let a = z.array(item);
  a = tooFew ? a.refine((x) => x.length >= min, { error: tooFew.message, params: { code: tooFew.code }, when: isArray, abort: true }) : a.min(min);
  a = tooMany ? a.refine((x) => x.length <= max, { error: tooMany.message, params: { code: tooMany.code }, when: isArray, abort: true }) : a.max(max);
  return a.meta({ minItems: min, maxItems: max });
}

/** The documented code a validation issue carries (from `sizedArray`), if any. */
export function codedIssue(issue: { params?: Record<string, unknown> }): string | undefined {
  const code = (issue.params?.params as { code?: unknown } | undefined)?.code;
  return typeof code === "string" ? code : undefined;
}
