// Access-log entries for tests: a fast-check arbitrary and a deterministic sample by number.
import fc from "fast-check";
import { sha256 } from "@noble/hashes/sha2";
import { toHex } from "../../node/verify";
import type { AccessLogEntry } from "../../node/log/entry";

const hex32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map(toHex);
const reason = fc.stringMatching(/^[A-Z0-9_]{1,64}$/);

/** Any well-formed access-log entry. */
export const entryArbitrary: fc.Arbitrary<AccessLogEntry> = fc
  .record({
    time: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    consumerDept: hex32,
    providerDept: hex32,
    resourceId: hex32,
    agreementId: hex32,
    purposeHash: hex32,
    recordCount: fc.integer({ min: 0, max: 0xffffffff }),
    requestHash: hex32,
    responseHash: hex32,
    subjectCommitment: fc.option(hex32, { nil: null }),
    refused: fc.option(reason, { nil: null }),
    calledAt: fc.option(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), { nil: null }),
    latencyMs: fc.option(fc.integer({ min: 0, max: 0xffffffff }), { nil: null }),
  })
  .map(({ refused, calledAt, latencyMs, ...rest }) => ({
    ...rest,
    outcome: refused === null ? ("served" as const) : ("refused" as const),
    refusalReason: refused ?? "",
    // Reported timing (encoding 0x02) only when there is some: absent members, not undefined ones.
    ...(calledAt === null ? {} : { calledAt }),
    ...(latencyMs === null ? {} : { latencyMs }),
  }));

const h = (s: string) => toHex(sha256(new TextEncoder().encode(s)));

/** A deterministic, distinct entry for each `n`. */
export function sampleEntry(n: number): AccessLogEntry {
  return {
    time: 1767225600 + n,
    consumerDept: h("dept:tax"),
    providerDept: h("dept:civil-affairs"),
    resourceId: h("resource:marriage-records"),
    agreementId: h("agreement:1"),
    purposeHash: h("purpose:deduction-check"),
    recordCount: n % 7,
    requestHash: h(`request:${n}`),
    responseHash: h(`response:${n}`),
    subjectCommitment: n % 3 === 0 ? null : h(`subject:${n}`),
    outcome: n % 5 === 0 ? "refused" : "served",
    refusalReason: n % 5 === 0 ? "NO_VALID_CONSENT" : "",
  };
}
