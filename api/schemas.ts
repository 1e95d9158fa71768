/** zod schemas shared by the routes: the wire forms of ids, hashes, signatures and numbers. */
import { z } from "zod";

export const Bytes32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "0x + 64 hex characters").transform((s) => s.toLowerCase()).describe("bytes32, 0x-hex");
export const Address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "0x + 40 hex characters").describe("Ethereum address");
export const Signature = z.string().regex(/^0x[0-9a-fA-F]{130}$/, "0x + 130 hex characters").describe("65-byte ECDSA signature (EIP-712 or EIP-191)");
export const Uint = z.string().regex(/^(0|[1-9][0-9]{0,29})$/, "a non-negative integer in decimal").describe("unsigned integer as a decimal string");
export const UnixSeconds = z.number().int().nonnegative().max(2 ** 40).describe("unix time in seconds");
export const Index = z.coerce.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
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
