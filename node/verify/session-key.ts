import { ed25519 } from "@noble/curves/ed25519";
import { keccak_256 } from "@noble/hashes/sha3";
import { concatBytes, fromHex } from "./encoding";
import { recoverAddress } from "./eip191";

/*
 * Session-key certificates (docs/formats.md §10.3 `SessionKey`, docs/api.md §1 "Session keys"): a
 * current signer of a department certifies a short-lived Ed25519 key with an EIP-712 signature over
 *
 *   SessionKey(bytes32 department,bytes32 publicKey,uint64 notBefore,uint64 notAfter,string scope)
 *
 * in the domain { name "dcl SessionKey", version "1", chainId, verifyingContract: the deployment's
 * DepartmentRegistry }. No contract verifies it: the node does, and the registry's address binds the
 * certificate to one deployment as it binds request signatures. Encoded here by hand (EIP-712 §
 * encodeData) so that the verifier needs only keccak-256 and secp256k1.
 */

/** The scopes a session key can be certified for, and what each allows. */
export const SESSION_SCOPES = {
  /** POST /v1/access: log data calls. */
  "access:write": "POST /v1/access",
} as const;

/** A scope a session key can be certified for. */
export type SessionScope = keyof typeof SESSION_SCOPES;

/** Longest a certificate may be valid: notAfter − notBefore, in seconds (7 days). */
export const SESSION_MAX_LIFETIME_S = 7 * 24 * 3600;

/** The name of the EIP-712 domain of session-key certificates. */
export const SESSION_DOMAIN_NAME = "dcl SessionKey";

/** The EIP-712 type of a session-key certificate, as encodeType writes it. */
export const SESSION_KEY_TYPE = "SessionKey(bytes32 department,bytes32 publicKey,uint64 notBefore,uint64 notAfter,string scope)";

/** What a department's signer certifies: `publicKey` (Ed25519, 32 bytes as 0x-hex) acts for `department` in `scope` during [notBefore, notAfter). */
export interface SessionCertificate {
  department: string;
  publicKey: string;
  notBefore: number;
  notAfter: number;
  scope: string;
}

const EIP712_DOMAIN_TYPE = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)";
const utf8 = (s: string) => new TextEncoder().encode(s);
const keccakText = (s: string) => keccak_256(utf8(s));

/** A big-endian 32-byte word holding `value` (0 ≤ value < 2^256). */
function word(value: bigint): Uint8Array {
  const out = new Uint8Array(32);
  let v = value;
  for (let i = 31; i >= 0 && v > 0n; i--, v >>= 8n) out[i] = Number(v & 0xffn);
  return out;
}

/** 32 bytes from 0x + 64 hex; throws otherwise. */
function bytes32(hex: string, what: string): Uint8Array {
  const b = fromHex(hex);
  if (b.length !== 32) throw new RangeError(`${what} must be 32 bytes, got ${b.length}`);
  return b;
}

/** A uint64 from a safe non-negative integer; throws otherwise. */
function uint64(n: number, what: string): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${what} must be a non-negative integer, got ${n}`);
  return word(BigInt(n));
}

/** EIP-712 domain separator of session-key certificates on chain `chainId` for the registry at `registry`. */
export function sessionDomainSeparator(chainId: bigint, registry: string): Uint8Array {
  const address = fromHex(registry);
  if (address.length !== 20) throw new RangeError(`registry must be 20 bytes, got ${address.length}`);
  return keccak_256(concatBytes(keccakText(EIP712_DOMAIN_TYPE), keccakText(SESSION_DOMAIN_NAME), keccakText("1"), word(chainId), concatBytes(new Uint8Array(12), address)));
}

/** hashStruct(SessionKey) of `c`. */
export function sessionKeyStructHash(c: SessionCertificate): Uint8Array {
  return keccak_256(
    concatBytes(
      keccakText(SESSION_KEY_TYPE),
      bytes32(c.department, "department"),
      bytes32(c.publicKey, "publicKey"),
      uint64(c.notBefore, "notBefore"),
      uint64(c.notAfter, "notAfter"),
      keccakText(c.scope),
    ),
  );
}

/** The EIP-712 digest the certifier signs: keccak256(0x19 0x01 ‖ domainSeparator ‖ hashStruct). */
export function sessionKeyDigest(c: SessionCertificate, chainId: bigint, registry: string): Uint8Array {
  return keccak_256(concatBytes(new Uint8Array([0x19, 0x01]), sessionDomainSeparator(chainId, registry), sessionKeyStructHash(c)));
}

/** The address whose key made `signature` (65 bytes r‖s‖v, 0x-hex) over certificate `c`, or null when it is not a signature. */
export function recoverSessionCertifier(c: SessionCertificate, chainId: bigint, registry: string, signature: string): string | null {
  let sig: Uint8Array;
  try {
    sig = fromHex(signature);
  } catch {
    return null;
  }
  return recoverAddress(sessionKeyDigest(c, chainId, registry), sig);
}

/** `c` as EIP-712 typed data, ready for eth_signTypedData_v4 (ethers signTypedData takes `domain`, `types`, `message`). */
export function sessionKeyTypedData(c: SessionCertificate, chainId: bigint, registry: string) {
  return {
    domain: { name: SESSION_DOMAIN_NAME, version: "1", chainId: chainId.toString(), verifyingContract: registry },
    types: {
      SessionKey: [
        { name: "department", type: "bytes32" },
        { name: "publicKey", type: "bytes32" },
        { name: "notBefore", type: "uint64" },
        { name: "notAfter", type: "uint64" },
        { name: "scope", type: "string" },
      ],
    },
    primaryType: "SessionKey" as const,
    message: { department: c.department.toLowerCase(), publicKey: c.publicKey.toLowerCase(), notBefore: c.notBefore, notAfter: c.notAfter, scope: c.scope },
  };
}

/**
 * True when `hex` (0x + 64 hex) is the canonical encoding of an Ed25519 point of prime order, as
 * every key made by Ed25519 key generation is. A small-order or mixed-order point is refused: for
 * such a key some signatures verify for every message (the all-zero key accepts the all-zero
 * signature), whoever holds no private key.
 */
export function isEd25519PublicKey(hex: string): boolean {
  try {
    const bytes = fromHex(hex);
    if (bytes.length !== 32) return false;
    const point = ed25519.ExtendedPoint.fromHex(bytes); // refuses a non-canonical y (≥ p)
    return !point.isSmallOrder() && point.isTorsionFree();
  } catch {
    return false;
  }
}
