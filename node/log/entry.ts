import { toHex } from "../verify";
import { LogError } from "./errors";

/*
 * The access-log entry and its one canonical encoding (the bytes that are hashed into the
 * log as a leaf, so any change here changes every leaf hash: bump VERSION instead).
 *
 *   offset size  field
 *   0      1     version                 0x01
 *   1      8     time                    uint64 big-endian, unix seconds
 *   9      32    consumerDept            bytes32
 *   41     32    providerDept            bytes32
 *   73     32    resourceId              bytes32
 *   105    32    agreementId             bytes32
 *   137    32    purposeHash             bytes32
 *   169    4     recordCount             uint32 big-endian
 *   173    32    requestHash             bytes32
 *   205    32    responseHash            bytes32
 *   237    1     subjectCommitment flag  0x00 absent | 0x01 present
 *   238    0|32  subjectCommitment       bytes32, only when the flag is 0x01
 *   ..     1     outcome                 0x00 served | 0x01 refused
 *   ..     1     refusalReason length    uint8, 0 when served, 1..64 when refused
 *   ..     n     refusalReason           ASCII [A-Z0-9_]
 *
 * Version 0x02 is the same followed by the timing the consumer reported for the call, and is used
 * exactly when it reported some (an entry without timing is always 0x01, so each entry still has
 * one encoding):
 *   ..     1     timing flags            bit 0: calledAt follows, bit 1: latencyMs follows; 1..3
 *   ..     0|8   calledAt                uint64 big-endian, unix seconds when the consumer made the call
 *   ..     0|4   latencyMs               uint32 big-endian, the provider's response time in ms
 *
 * Fixed order, fixed widths, one length prefix, no optional padding: every entry has exactly
 * one encoding, decode rejects anything else (wrong version, flags other than 0/1, a reason
 * on a served entry, trailing bytes), and decode(encode(e)) deep-equals e. bytes32 values
 * are lower-case 0x-hex in the TypeScript type so that the round trip is exact.
 */

/** A bytes32 value as lower-case 0x-prefixed hex. */
export type Hex32 = string;

/** One call recorded in the access log (who asked whom for what, under which agreement, with what outcome). */
export interface AccessLogEntry {
  /** When the call was decided (unix seconds). */
  time: number;
  /** Department that asked for the data. */
  consumerDept: Hex32;
  /** Department that holds the data. */
  providerDept: Hex32;
  /** Resource (data set / API) that was asked for. */
  resourceId: Hex32;
  /** Sharing agreement the call was made under. */
  agreementId: Hex32;
  /** Hash of the declared purpose of use. */
  purposeHash: Hex32;
  /** Number of records served (0 when refused). */
  recordCount: number;
  /** Hash of the signed request. */
  requestHash: Hex32;
  /** Hash of the response body (of the refusal when refused). */
  responseHash: Hex32;
  /** Commitment to the data subject when the resource holds personal information, else null. */
  subjectCommitment: Hex32 | null;
  /** Whether the call was served or refused. */
  outcome: "served" | "refused";
  /** Machine-readable refusal code ("" when served). */
  refusalReason: string;
  /** When the consumer made the call (unix seconds), if it reported it (encoding 0x02). */
  calledAt?: number;
  /** The provider's response time (ms), if the consumer reported it (encoding 0x02). */
  latencyMs?: number;
}

/** Version byte of the encoding of an entry without reported timing. */
export const ENTRY_VERSION = 0x01;
/** Version byte of the encoding of an entry with reported timing (`calledAt`, `latencyMs`). */
export const ENTRY_VERSION_TIMED = 0x02;

const REASON_RE = /^[A-Z0-9_]{1,64}$/;
const BYTES32_FIELDS = ["consumerDept", "providerDept", "resourceId", "agreementId", "purposeHash"] as const;
const HASH_FIELDS = ["requestHash", "responseHash"] as const;

function invalid(field: string, value: unknown, want: string): LogError {
  return new LogError("ENTRY_FIELD_INVALID", `entry field ${field} = ${JSON.stringify(value)} is not ${want}`, {
    field,
    value: String(value),
  });
}

/**
 * The value of each lower-case hex digit by its UTF-16 code unit, -1 for every other unit.
 * Checking and converting bytes32 fields in one pass through this table instead of a regular
 * expression and a second pass took encoding from a third of the log's own CPU to a tenth (the
 * log alone, scripts/bench/log-profile.ts): an entry has seven or eight of them.
 */
const NIBBLE = new Int8Array(0x10000).fill(-1);
for (let c = 0; c < 10; c++) NIBBLE[48 + c] = c;
for (let c = 0; c < 6; c++) NIBBLE[97 + c] = 10 + c;

/** Checks that `value` is lower-case 0x-hex of 32 bytes, and writes them at `offset` of `out` when given (garbage when it is not: the caller throws). */
function putHex32(out: Uint8Array | null, offset: number, value: unknown): boolean {
  if (typeof value !== "string" || value.length !== 66 || value.charCodeAt(0) !== 48 || value.charCodeAt(1) !== 120) return false;
  let bad = 0;
  for (let i = 0; i < 32; i++) {
    const hi = NIBBLE[value.charCodeAt(2 + 2 * i)];
    const lo = NIBBLE[value.charCodeAt(3 + 2 * i)];
    bad |= hi | lo; // negative once any unit is not a digit
    if (out) out[offset + i] = (hi << 4) | lo;
  }
  return bad >= 0;
}

function checkHex32(field: string, value: unknown, out: Uint8Array | null = null, offset = 0): void {
  if (!putHex32(out, offset, value)) throw invalid(field, value, "lower-case 0x-hex of 32 bytes");
}

function checkTime(e: AccessLogEntry): void {
  if (!Number.isSafeInteger(e.time) || e.time < 0) throw invalid("time", e.time, "a non-negative safe integer");
}

function checkRecordCount(e: AccessLogEntry): void {
  if (!Number.isInteger(e.recordCount) || e.recordCount < 0 || e.recordCount > 0xffffffff) throw invalid("recordCount", e.recordCount, "a uint32");
}

/** The checks of the fields that are not bytes32: outcome and reason, reported timing. */
function checkOutcomeAndTiming(e: AccessLogEntry): void {
  if (e.outcome === "served") {
    if (e.refusalReason !== "") throw invalid("refusalReason", e.refusalReason, "empty on a served entry");
  } else if (e.outcome === "refused") {
    if (typeof e.refusalReason !== "string" || !REASON_RE.test(e.refusalReason)) {
      throw invalid("refusalReason", e.refusalReason, "1-64 characters of [A-Z0-9_] on a refused entry");
    }
  } else {
    throw invalid("outcome", e.outcome, '"served" or "refused"');
  }
  if (e.calledAt !== undefined && (!Number.isSafeInteger(e.calledAt) || e.calledAt < 0)) throw invalid("calledAt", e.calledAt, "a non-negative safe integer");
  if (e.latencyMs !== undefined && (!Number.isInteger(e.latencyMs) || e.latencyMs < 0 || e.latencyMs > 0xffffffff)) throw invalid("latencyMs", e.latencyMs, "a uint32");
}

/** Throws ENTRY_FIELD_INVALID, naming the field, unless `e` is a well-formed entry. */
export function validateEntry(e: AccessLogEntry): void {
  checkTime(e);
  for (const f of BYTES32_FIELDS) checkHex32(f, e[f]);
  checkRecordCount(e);
  for (const f of HASH_FIELDS) checkHex32(f, e[f]);
  if (e.subjectCommitment !== null) checkHex32("subjectCommitment", e.subjectCommitment);
  checkOutcomeAndTiming(e);
}

/**
 * Encoded entries are cut from shared slabs, as Buffer.allocUnsafe cuts small buffers from its
 * pool: a Uint8Array of its own per entry (a backing store allocated, zeroed and tracked by the
 * GC) cost more than all the encoding (1–1.6 µs of ~2 µs, this machine). A slab is kept alive by
 * any entry cut from it; the log holds at most a few bundles of entries, so that stays small.
 * Every byte of an entry is written by encodeEntry, and no slab region is handed out twice.
 */
const SLAB = 64 * 1024;
let slab = new Uint8Array(0);
let slabAt = 0;

function take(length: number): Uint8Array {
  if (slabAt + length > slab.length) {
    slab = new Uint8Array(Math.max(SLAB, length));
    slabAt = 0;
  }
  const out = slab.subarray(slabAt, slabAt + length);
  slabAt += length;
  return out;
}

/** `n` (a safe integer) as uint64 big-endian at `offset`, without a BigInt. */
function putUint64(out: Uint8Array, offset: number, n: number): void {
  const hi = Math.floor(n / 0x1_0000_0000);
  const lo = n >>> 0;
  putUint32(out, offset, hi);
  putUint32(out, offset + 4, lo);
}

function putUint32(out: Uint8Array, offset: number, n: number): void {
  out[offset] = n >>> 24;
  out[offset + 1] = (n >>> 16) & 0xff;
  out[offset + 2] = (n >>> 8) & 0xff;
  out[offset + 3] = n & 0xff;
}

function getHex(bytes: Uint8Array, offset: number): string {
  return toHex(bytes.subarray(offset, offset + 32));
}

/** The canonical bytes of an entry (see the layout above). */
export function encodeEntry(e: AccessLogEntry): Uint8Array {
  // The checks of validateEntry in its order; the bytes32 fields are checked as they are written.
  checkTime(e);
  const reasonLen = typeof e.refusalReason === "string" ? e.refusalReason.length : 0;
  const flags = (e.calledAt !== undefined ? 1 : 0) | (e.latencyMs !== undefined ? 2 : 0);
  const timing = flags === 0 ? 0 : 1 + (flags & 1 ? 8 : 0) + (flags & 2 ? 4 : 0);
  const out = take(238 + (e.subjectCommitment === null ? 0 : 32) + 2 + reasonLen + timing);
  out[0] = flags === 0 ? ENTRY_VERSION : ENTRY_VERSION_TIMED;
  putUint64(out, 1, e.time);
  let o = 9;
  for (const f of BYTES32_FIELDS) {
    checkHex32(f, e[f], out, o);
    o += 32;
  }
  checkRecordCount(e);
  putUint32(out, o, e.recordCount);
  o += 4;
  for (const f of HASH_FIELDS) {
    checkHex32(f, e[f], out, o);
    o += 32;
  }
  out[o++] = e.subjectCommitment === null ? 0 : 1;
  if (e.subjectCommitment !== null) {
    checkHex32("subjectCommitment", e.subjectCommitment, out, o);
    o += 32;
  }
  checkOutcomeAndTiming(e);
  out[o++] = e.outcome === "served" ? 0 : 1;
  out[o++] = reasonLen;
  for (let i = 0; i < reasonLen; i++) out[o++] = e.refusalReason.charCodeAt(i);
  if (flags !== 0) {
    out[o++] = flags;
    if (flags & 1) {
      putUint64(out, o, e.calledAt!);
      o += 8;
    }
    if (flags & 2) putUint32(out, o, e.latencyMs!);
  }
  return out;
}

function decodeError(message: string, length: number): LogError {
  return new LogError("ENTRY_DECODE_FAILED", `cannot decode entry of ${length} bytes: ${message}`, { length });
}

/** The entry whose canonical encoding is `bytes`; throws ENTRY_DECODE_FAILED for any other bytes. */
export function decodeEntry(bytes: Uint8Array): AccessLogEntry {
  const len = bytes.length;
  if (len < 240) throw decodeError("shorter than the smallest entry (240 bytes)", len);
  const version = bytes[0];
  if (version !== ENTRY_VERSION && version !== ENTRY_VERSION_TIMED) throw decodeError(`unknown version ${version}`, len);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const time = view.getBigUint64(1);
  if (time > BigInt(Number.MAX_SAFE_INTEGER)) throw decodeError(`time ${time} is beyond 2^53`, len);
  const fixed: string[] = [];
  let o = 9;
  for (let i = 0; i < BYTES32_FIELDS.length; i++, o += 32) fixed.push(getHex(bytes, o));
  const recordCount = view.getUint32(o);
  o += 4;
  const requestHash = getHex(bytes, o);
  const responseHash = getHex(bytes, o + 32);
  o += 64;
  const flag = bytes[o++];
  if (flag > 1) throw decodeError(`subject commitment flag ${flag}`, len);
  if (o + (flag ? 32 : 0) + 2 > len) throw decodeError("truncated", len);
  const subjectCommitment = flag ? getHex(bytes, o) : null;
  if (flag) o += 32;
  const outcomeByte = bytes[o++];
  if (outcomeByte > 1) throw decodeError(`outcome byte ${outcomeByte}`, len);
  const reasonLen = bytes[o++];
  if (o + reasonLen > len || (version === ENTRY_VERSION && o + reasonLen !== len)) throw decodeError(`reason length ${reasonLen} does not end the entry`, len);
  const refusalReason = String.fromCharCode(...bytes.subarray(o, o + reasonLen));
  o += reasonLen;
  const timing: { calledAt?: number; latencyMs?: number } = {};
  if (version === ENTRY_VERSION_TIMED) {
    const flags = o < len ? bytes[o++] : 0;
    if (flags < 1 || flags > 3) throw decodeError(`timing flags ${flags} (an entry without timing is version 1)`, len);
    if (o + (flags & 1 ? 8 : 0) + (flags & 2 ? 4 : 0) !== len) throw decodeError("timing does not end the entry", len);
    if (flags & 1) {
      const calledAt = view.getBigUint64(o);
      if (calledAt > BigInt(Number.MAX_SAFE_INTEGER)) throw decodeError(`calledAt ${calledAt} is beyond 2^53`, len);
      timing.calledAt = Number(calledAt);
      o += 8;
    }
    if (flags & 2) timing.latencyMs = view.getUint32(o);
  }
  const entry: AccessLogEntry = {
    time: Number(time),
    consumerDept: fixed[0],
    providerDept: fixed[1],
    resourceId: fixed[2],
    agreementId: fixed[3],
    purposeHash: fixed[4],
    recordCount,
    requestHash,
    responseHash,
    subjectCommitment,
    outcome: outcomeByte === 0 ? "served" : "refused",
    refusalReason,
    ...timing,
  };
  // The bytes32 fields, record count and timing are well formed by construction; what the bytes
  // can still get wrong is the reason against the outcome.
  try {
    checkOutcomeAndTiming(entry);
  } catch (e) {
    throw decodeError((e as Error).message, len);
  }
  return entry;
}
