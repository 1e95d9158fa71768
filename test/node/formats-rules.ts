/**
 * The rules of docs/formats.md written out again, independently of dcl's code, for the
 * formats-*.test.ts tests: byte concatenation by hand, SHA-256 from node:crypto, and only the raw
 * primitives from libraries (keccak256 from @noble/hashes, secp256k1 from @noble/curves). Nothing
 * here imports node/ — a test that rebuilds a vector with these functions checks the document's
 * rules, not the implementation.
 */
import { createHash } from "node:crypto";
import { secp256k1 } from "@noble/curves/secp256k1";
import { keccak_256 } from "@noble/hashes/sha3";

// ---- §1 conventions --------------------------------------------------------------------------

export const bytes = (hex: string): Buffer => {
  if (!/^0x([0-9a-fA-F]{2})*$/.test(hex)) throw new Error(`not hex: ${hex}`);
  return Buffer.from(hex.slice(2), "hex");
};
export const hex = (b: Uint8Array): string => "0x" + Buffer.from(b).toString("hex");
export const utf8 = (s: string): Buffer => Buffer.from(s, "utf8");
export const cat = (...parts: Uint8Array[]): Buffer => Buffer.concat(parts);
export const sha256 = (b: Uint8Array | string): Buffer => createHash("sha256").update(typeof b === "string" ? utf8(b) : b).digest();
export const keccak = (b: Uint8Array | string): Buffer => Buffer.from(keccak_256(typeof b === "string" ? utf8(b) : b));

/** Big-endian unsigned integer of `width` bytes. */
export function uintBE(value: bigint | number, width: number): Buffer {
  let v = BigInt(value);
  if (v < 0n || v >= 1n << BigInt(8 * width)) throw new Error(`${value} does not fit in ${width} bytes`);
  const out = Buffer.alloc(width);
  for (let i = width - 1; i >= 0; i--, v >>= 8n) out[i] = Number(v & 0xffn);
  return out;
}

/** keccak256(0x19 ‖ "Ethereum Signed Message:\n" ‖ decimal(len(m)) ‖ m). */
export function eip191Digest(m: Uint8Array): Buffer {
  return keccak(cat(Buffer.from([0x19]), utf8(`Ethereum Signed Message:\n${m.length}`), m));
}

/** The address of a secp256k1 public key: last 20 bytes of keccak256 of its 64-byte uncompressed form. */
export function addressOfPublicKey(uncompressed: Uint8Array): string {
  return hex(keccak(uncompressed.subarray(1)).subarray(12));
}

export function addressOfKey(privateKey: string): string {
  return addressOfPublicKey(secp256k1.getPublicKey(bytes(privateKey).toString("hex"), false));
}

/** r ‖ s ‖ v (v = 27 + recovery id), RFC 6979 deterministic, low s. */
export function signDigest(digest: Uint8Array, privateKey: string): string {
  const sig = secp256k1.sign(Buffer.from(digest).toString("hex"), bytes(privateKey).toString("hex"), { lowS: true });
  return hex(cat(uintBE(sig.r, 32), uintBE(sig.s, 32), Buffer.from([27 + sig.recovery])));
}

/** The address (lower case) that made `signature` over `digest`, or null; rejects v ∉ {27, 28} and high s. */
export function recover(digest: Uint8Array, signature: string): string | null {
  const s = bytes(signature);
  if (s.length !== 65 || (s[64] !== 27 && s[64] !== 28)) return null;
  const r = BigInt(hex(s.subarray(0, 32)));
  const sv = BigInt(hex(s.subarray(32, 64)));
  if (sv > secp256k1.CURVE.n / 2n) return null;
  try {
    const pub = new secp256k1.Signature(r, sv).addRecoveryBit(s[64] - 27).recoverPublicKey(Buffer.from(digest).toString("hex"));
    return addressOfPublicKey(pub.toRawBytes(false));
  } catch {
    return null;
  }
}

export const sameAddress = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

// ---- §2 access-log entries -------------------------------------------------------------------

export interface EntryJson {
  time: number;
  consumerDept: string;
  providerDept: string;
  resourceId: string;
  agreementId: string;
  purposeHash: string;
  recordCount: number;
  requestHash: string;
  responseHash: string;
  subjectCommitment: string | null;
  outcome: string;
  refusalReason: string;
}

/** The canonical encoding of §2, field by field. */
export function encodeEntry(e: EntryJson): Buffer {
  const b32 = (h: string) => {
    const b = bytes(h);
    if (b.length !== 32 || h !== h.toLowerCase()) throw new Error(`not lower-case hex32: ${h}`);
    return b;
  };
  if (e.time > Number.MAX_SAFE_INTEGER) throw new Error("time beyond 2^53 - 1");
  const served = e.outcome === "served";
  if (!served && e.outcome !== "refused") throw new Error(`outcome ${e.outcome}`);
  if (served ? e.refusalReason !== "" : !/^[A-Z0-9_]{1,64}$/.test(e.refusalReason)) throw new Error(`reason ${e.refusalReason}`);
  return cat(
    Buffer.from([0x01]),
    uintBE(e.time, 8),
    b32(e.consumerDept), b32(e.providerDept), b32(e.resourceId), b32(e.agreementId), b32(e.purposeHash),
    uintBE(e.recordCount, 4),
    b32(e.requestHash), b32(e.responseHash),
    e.subjectCommitment === null ? Buffer.from([0x00]) : cat(Buffer.from([0x01]), b32(e.subjectCommitment)),
    Buffer.from([served ? 0x00 : 0x01, e.refusalReason.length]),
    Buffer.from(e.refusalReason, "ascii"),
  );
}

// ---- §3 Merkle trees (RFC 6962 §2.1, RFC 9162 §2.1.3.2 and §2.1.4.2) ---------------------------

export const leafHash = (d: Uint8Array): Buffer => sha256(cat(Buffer.from([0x00]), d));
export const nodeHash = (l: Uint8Array, r: Uint8Array): Buffer => sha256(cat(Buffer.from([0x01]), l, r));
export const EMPTY_ROOT = sha256(Buffer.alloc(0));

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH over leaf hashes. */
export function mth(h: Uint8Array[]): Buffer {
  if (h.length === 0) return EMPTY_ROOT;
  if (h.length === 1) return Buffer.from(h[0]);
  const k = largestPowerOfTwoBelow(h.length);
  return nodeHash(mth(h.slice(0, k)), mth(h.slice(k)));
}

/** PATH(m, D[n]) over leaf hashes. */
export function path(m: number, h: Uint8Array[]): Buffer[] {
  if (h.length <= 1) return [];
  const k = largestPowerOfTwoBelow(h.length);
  return m < k ? [...path(m, h.slice(0, k)), mth(h.slice(k))] : [...path(m - k, h.slice(k)), mth(h.slice(0, k))];
}

/** PROOF(m, D[n]) over leaf hashes, 0 < m ≤ n. */
export function proof(m: number, h: Uint8Array[]): Buffer[] {
  const sub = (m: number, d: Uint8Array[], complete: boolean): Buffer[] => {
    if (m === d.length) return complete ? [] : [mth(d)];
    const k = largestPowerOfTwoBelow(d.length);
    return m <= k ? [...sub(m, d.slice(0, k), complete), mth(d.slice(k))] : [...sub(m - k, d.slice(k), false), mth(d.slice(0, k))];
  };
  return sub(m, h, true);
}

/** RFC 9162 §2.1.3.2, as docs/formats.md §3.3 states it. */
export function verifyInclusion(index: number, size: number, hash: Uint8Array, proofHashes: Uint8Array[], root: Uint8Array): boolean {
  if (index >= size) return false;
  let fn = BigInt(index);
  let sn = BigInt(size - 1);
  let r: Buffer = Buffer.from(hash);
  for (const p of proofHashes) {
    if (p.length !== 32) return false;
    if (sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      r = nodeHash(p, r);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      r = nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n && r.equals(Buffer.from(root));
}

/** RFC 9162 §2.1.4.2 with dcl's edge cases, as docs/formats.md §3.4 states it. */
export function verifyConsistency(m: number, n: number, first: Uint8Array, second: Uint8Array, proofHashes: Uint8Array[]): boolean {
  if (m > n || m === 0) return false;
  if (m === n) return proofHashes.length === 0 && Buffer.from(first).equals(Buffer.from(second));
  if (proofHashes.length === 0 || proofHashes.some((p) => p.length !== 32)) return false;
  const path = (m & (m - 1)) === 0 ? [first, ...proofHashes] : proofHashes;
  let fn = BigInt(m - 1);
  let sn = BigInt(n - 1);
  while ((fn & 1n) === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let fr: Buffer = Buffer.from(path[0]);
  let sr: Buffer = Buffer.from(path[0]);
  for (const c of path.slice(1)) {
    if (sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return fr.equals(Buffer.from(first)) && sr.equals(Buffer.from(second)) && sn === 0n;
}

// ---- §4 receipts, §5 checkpoints, §7.1 seal ---------------------------------------------------

export const receiptText = (origin: string, first: number, count: number, root: string) =>
  `dcl-receipt/v2\n${origin}\n${first}\n${count}\n${root.toLowerCase()}\n`;

export const checkpointBody = (origin: string, size: number, root: Uint8Array) =>
  `${origin}\n${size}\n${Buffer.from(root).toString("base64")}\n`;

export const signatureLine = (origin: string, address: string, signature: string) =>
  `\u2014 ${origin} ${cat(bytes(address), bytes(signature)).toString("base64")}\n`;

export const sealText = (canonicalSha256: Uint8Array) => `dcl-evidence-seal/v1\n${hex(canonicalSha256)}`;

/** RFC 8785 for the JSON values dcl writes (integers only among numbers). */
export function jcs(v: unknown): string {
  if (v === null) return "null";
  if (v === true) return "true";
  if (v === false) return "false";
  if (typeof v === "number") {
    if (!Number.isSafeInteger(v)) throw new Error(`not a safe integer: ${v}`);
    return v === 0 ? "0" : v.toString(10);
  }
  if (typeof v === "string") return jcsString(v);
  if (Array.isArray(v)) return "[" + v.map(jcs).join(",") + "]";
  if (typeof v === "object") {
    const o = v as Record<string, unknown>;
    const names = Object.keys(o).filter((k) => o[k] !== undefined).sort(byUtf16CodeUnits);
    return "{" + names.map((k) => jcsString(k) + ":" + jcs(o[k])).join(",") + "}";
  }
  throw new Error(`not JSON: ${typeof v}`);
}

function byUtf16CodeUnits(a: string, b: string): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const d = a.charCodeAt(i) - b.charCodeAt(i);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

function jcsString(s: string): string {
  const short: Record<number, string> = { 0x22: '\\"', 0x5c: "\\\\", 0x08: "\\b", 0x0c: "\\f", 0x0a: "\\n", 0x0d: "\\r", 0x09: "\\t" };
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (short[c]) out += short[c];
    else if (c < 0x20) out += "\\u" + c.toString(16).padStart(4, "0");
    else out += s[i];
  }
  return out + '"';
}

// ---- §9 subject commitments --------------------------------------------------------------------

export const COMMITMENT_TAG = cat(Buffer.from("dcl-subject-commitment-v1", "ascii"), Buffer.from([0x00]));
export const normaliseId = (id: string) => id.replace(/^\s+|\s+$/g, "").replace(/[a-z]/g, (c) => c.toUpperCase());
export const subjectCommitment = (secret: string, id: string) => sha256(cat(COMMITMENT_TAG, bytes(secret), utf8(normaliseId(id))));

// ---- §10 EIP-712 -------------------------------------------------------------------------------

/** The members of a type string "Name(type name,…)". */
export function members(typeString: string): { name: string; type: string }[] {
  const m = /^([A-Za-z0-9]+)\((.*)\)$/.exec(typeString);
  if (!m) throw new Error(`not a type string: ${typeString}`);
  return m[2].split(",").map((p) => {
    const [type, name] = p.split(" ");
    return { type, name };
  });
}

function encodeValue(type: string, value: unknown): Buffer {
  if (type === "bytes32") {
    const b = bytes(String(value));
    if (b.length !== 32) throw new Error(`bytes32 of ${b.length} bytes`);
    return b;
  }
  if (type === "bytes32[]") return keccak(cat(...(value as string[]).map((v) => encodeValue("bytes32", v))));
  if (type === "address") return cat(Buffer.alloc(12), bytes(String(value)));
  if (type === "string") return keccak(String(value));
  if (type === "bytes") return keccak(bytes(String(value))); // dynamic bytes: keccak256 of their contents
  const u = /^uint(\d+)$/.exec(type);
  if (u) {
    const v = BigInt(value as string | number);
    if (v >= 1n << BigInt(u[1])) throw new Error(`${v} does not fit ${type}`);
    return uintBE(v, 32);
  }
  throw new Error(`type ${type} is not one dcl uses`);
}

/** typeHash ‖ enc(member 1) ‖ … */
export function encodeData(typeString: string, message: Record<string, unknown>): Buffer {
  return cat(keccak(typeString), ...members(typeString).map(({ type, name }) => encodeValue(type, message[name])));
}

export const hashStruct = (typeString: string, message: Record<string, unknown>) => keccak(encodeData(typeString, message));

export const EIP712_DOMAIN = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)";

export const domainSeparator = (d: { name: string; version: string; chainId: string | bigint; verifyingContract: string }) =>
  hashStruct(EIP712_DOMAIN, d);

export const typedDigest = (separator: Uint8Array, structHash: Uint8Array) => keccak(cat(Buffer.from([0x19, 0x01]), separator, structHash));
