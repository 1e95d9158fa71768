/**
 * The signed-request scheme (documented in docs/api.md; test vectors in
 * test/vectors/request-signature.json). Shared by the server's check and the TypeScript client, so
 * both build the same string.
 *
 * Headers:
 *   x-dcl-department  bytes32 id of the acting department (0x + 64 hex)
 *   x-dcl-signer      address of the department's signer key
 *   x-dcl-timestamp   unix seconds
 *   x-dcl-nonce       16–64 hex characters, never reused by a department
 *   x-dcl-signature   0x + 130 hex: EIP-191 personal_sign by the signer key of the string below
 *
 * or, signed with a session key (api/auth/session-keys.ts), x-dcl-session-key (the Ed25519 public
 * key, 0x + 64 hex) in place of x-dcl-signer, and x-dcl-signature 0x + 128 hex: the Ed25519
 * signature of the same string, whose signer line is then the session key.
 *
 * String signed (lines joined by "\n", no trailing newline):
 *   dcl-request/v1
 *   <chain id, decimal>
 *   <registry contract address, lower-case>
 *   <HTTP method, upper-case>
 *   <path and query exactly as sent, e.g. /v1/access?dryRun=false>
 *   <SHA-256 of the body bytes, 0x-hex lower-case; of the empty string when there is no body>
 *   <department id, lower-case>
 *   <signer address, lower-case; or the session key, lower-case>
 *   <timestamp>
 *   <nonce>
 */
import { sha256 } from "@noble/hashes/sha256";
import { toHex } from "../../node/verify";

export const AUTH_HEADERS = {
  department: "x-dcl-department",
  signer: "x-dcl-signer",
  timestamp: "x-dcl-timestamp",
  nonce: "x-dcl-nonce",
  signature: "x-dcl-signature",
} as const;

/** Names the Ed25519 session key that signed a request, in place of x-dcl-signer. */
export const SESSION_KEY_HEADER = "x-dcl-session-key";

/** The values a request signature binds. */
export interface SignedRequestFields {
  chainId: bigint;
  registry: string;
  method: string;
  pathAndQuery: string;
  body: Uint8Array;
  /** SHA-256 of `body` as 0x-hex, when the caller has it already (computed from `body` otherwise). */
  bodyDigest?: string;
  department: string;
  /** The signer's address, or the session key (0x + 64 hex). */
  signer: string;
  timestamp: number;
  nonce: string;
}

/** SHA-256 of the body, 0x-hex. */
export function bodyDigest(body: Uint8Array): string {
  return toHex(sha256(body));
}

/** The exact string a department signs for a request. */
export function stringToSign(f: SignedRequestFields): string {
  return [
    "dcl-request/v1",
    f.chainId.toString(),
    f.registry.toLowerCase(),
    f.method.toUpperCase(),
    f.pathAndQuery,
    f.bodyDigest ?? bodyDigest(f.body),
    f.department.toLowerCase(),
    f.signer.toLowerCase(),
    String(f.timestamp),
    f.nonce,
  ].join("\n");
}
