import { expect } from "chai";
import fc from "fast-check";
import { decodeEntry, encodeEntry, AccessLogEntry } from "../../node/log/entry";
import { LogError } from "../../node/log/errors";
import { fromHex, leafHash, toHex } from "../../node/verify";
import vectors from "../vectors/access-entry.json";
import { entryArbitrary, sampleEntry } from "./entry-samples";

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).to.be.instanceOf(LogError);
    return (e as LogError).code;
  }
  return expect.fail("expected a LogError");
}

describe("access-log entry canonical encoding", function () {
  for (const v of vectors.cases) {
    it(`matches test/vectors/access-entry.json: ${v.name}`, function () {
      const entry = v.entry as AccessLogEntry;
      expect(toHex(encodeEntry(entry))).to.equal(v.canonical);
      expect(toHex(leafHash(fromHex(v.canonical)))).to.equal(v.leafHash);
      expect(decodeEntry(fromHex(v.canonical))).to.deep.equal(entry);
    });
  }

  it("decodes what it encodes, for any entry", function () {
    fc.assert(fc.property(entryArbitrary, (e) => {
        expect(decodeEntry(encodeEntry(e))).to.deep.equal(e);
      }), { numRuns: 300 });
  });

  it("gives distinct entries distinct bytes", function () {
    fc.assert(
      fc.property(entryArbitrary, entryArbitrary, (a, b) => {
        fc.pre(JSON.stringify(a) !== JSON.stringify(b));
        expect(toHex(encodeEntry(a))).not.to.equal(toHex(encodeEntry(b)));
      }),
      { numRuns: 300 },
    );
  });

  it("refuses malformed fields, naming the field", function () {
    const ok = sampleEntry(1);
    const bad: [Partial<AccessLogEntry>, string][] = [
      [{ time: -1 }, "time"],
      [{ time: 1.5 }, "time"],
      [{ consumerDept: ok.consumerDept.toUpperCase().replace("0X", "0x") }, "consumerDept"],
      [{ providerDept: "0x1234" }, "providerDept"],
      // the hand-written hex check (node/log/entry.ts NIBBLE) is exactly /^0x[0-9a-f]{64}$/:
      [{ resourceId: "0X" + ok.resourceId.slice(2) }, "resourceId"],
      [{ resourceId: "1x" + ok.resourceId.slice(2) }, "resourceId"],
      [{ agreementId: ok.agreementId.slice(0, 65) + "g" }, "agreementId"],
      [{ agreementId: ok.agreementId.slice(0, 65) + "F" }, "agreementId"],
      [{ agreementId: ok.agreementId.slice(0, 65) + "\u0661" }, "agreementId"], // an Arabic-Indic digit one
      [{ purposeHash: ok.purposeHash + "0" }, "purposeHash"],
      [{ requestHash: ok.requestHash.slice(0, 65) + "/" }, "requestHash"], // the char before "0"
      [{ responseHash: ok.responseHash.slice(0, 65) + ":" }, "responseHash"], // the char after "9"
      [{ responseHash: ok.responseHash.slice(0, 65) + "`" }, "responseHash"], // the char before "a"
      [{ responseHash: 42 as unknown as string }, "responseHash"],
      [{ recordCount: 2 ** 32 }, "recordCount"],
      [{ subjectCommitment: "0x" }, "subjectCommitment"],
      [{ refusalReason: "NO_CONSENT" }, "refusalReason"], // on a served entry
      [{ outcome: "refused", refusalReason: "" }, "refusalReason"],
      [{ outcome: "refused", refusalReason: "no consent" }, "refusalReason"],
      [{ outcome: "maybe" as "served" }, "outcome"],
    ];
    for (const [patch, field] of bad) {
      try {
        encodeEntry({ ...ok, ...patch });
        expect.fail(`accepted ${JSON.stringify(patch)}`);
      } catch (e) {
        expect((e as LogError).code).to.equal("ENTRY_FIELD_INVALID");
        expect((e as LogError).details.field).to.equal(field);
      }
    }
  });

  it("refuses any bytes that are not a canonical encoding", function () {
    const good = encodeEntry(sampleEntry(1)); // served, subject commitment present
    const with_ = (i: number, v: number) => {
      const b = Uint8Array.from(good);
      b[i] = v;
      return b;
    };
    expect(codeOf(() => decodeEntry(good.slice(0, -1)))).to.equal("ENTRY_DECODE_FAILED");
    expect(codeOf(() => decodeEntry(new Uint8Array([...good, 0])))).to.equal("ENTRY_DECODE_FAILED");
    expect(codeOf(() => decodeEntry(with_(0, 2)))).to.equal("ENTRY_DECODE_FAILED"); // version
    expect(codeOf(() => decodeEntry(with_(237, 2)))).to.equal("ENTRY_DECODE_FAILED"); // subject flag
    expect(codeOf(() => decodeEntry(with_(270, 2)))).to.equal("ENTRY_DECODE_FAILED"); // outcome
    expect(codeOf(() => decodeEntry(with_(1, 0xff)))).to.equal("ENTRY_DECODE_FAILED"); // time beyond 2^53
    const refused = encodeEntry(sampleEntry(5));
    const lowercase = Uint8Array.from(refused);
    lowercase[lowercase.length - 1] = "a".charCodeAt(0);
    expect(codeOf(() => decodeEntry(lowercase))).to.equal("ENTRY_DECODE_FAILED");
  });

  describe("reported timing (encoding 0x02)", function () {
    const timed = { ...sampleEntry(5), calledAt: 1767225590, latencyMs: 250 }; // refused, with a reason
    const v1 = encodeEntry(sampleEntry(5));

    it("appends the timing flags and fields to the 0x01 layout, and uses 0x01 whenever there is no timing", function () {
      const bytes = encodeEntry(timed);
      expect(bytes[0]).to.equal(2);
      expect(toHex(bytes.subarray(1, v1.length))).to.equal(toHex(v1.subarray(1))); // the same fields, in the same places
      expect(toHex(bytes.subarray(v1.length))).to.equal("0x03" + "000000006955b8f6" + "000000fa");
      expect(toHex(encodeEntry({ ...timed, latencyMs: undefined }).subarray(v1.length))).to.equal("0x01000000006955b8f6");
      expect(toHex(encodeEntry({ ...sampleEntry(5), latencyMs: 7 }).subarray(v1.length))).to.equal("0x0200000007");
      expect(encodeEntry({ ...timed, calledAt: undefined, latencyMs: undefined })[0]).to.equal(1);
      expect(decodeEntry(bytes)).to.deep.equal(timed);
      expect(leafHash(bytes)).to.not.deep.equal(leafHash(v1));
    });

    it("refuses timing flags of 0 or above 3, timing that does not end the entry, and a version that does not match the bytes", function () {
      const bytes = encodeEntry(timed);
      const at = (i: number, v: number) => Uint8Array.from(bytes, (b, k) => (k === i ? v : b));
      for (const flags of [0, 4, 0xff]) expect(codeOf(() => decodeEntry(at(v1.length, flags))), `flags ${flags}`).to.equal("ENTRY_DECODE_FAILED");
      expect(codeOf(() => decodeEntry(at(v1.length, 1)))).to.equal("ENTRY_DECODE_FAILED"); // says calledAt only: 4 bytes too many
      expect(codeOf(() => decodeEntry(bytes.slice(0, -1)))).to.equal("ENTRY_DECODE_FAILED");
      expect(codeOf(() => decodeEntry(new Uint8Array([...bytes, 0])))).to.equal("ENTRY_DECODE_FAILED");
      expect(codeOf(() => decodeEntry(at(0, 1)))).to.equal("ENTRY_DECODE_FAILED"); // 0x01 with timing after the reason
      expect(codeOf(() => decodeEntry(Uint8Array.from(v1, (b, k) => (k === 0 ? 2 : b))))).to.equal("ENTRY_DECODE_FAILED"); // 0x02 without timing
      expect(codeOf(() => decodeEntry(at(v1.length + 1, 0xff)))).to.equal("ENTRY_DECODE_FAILED"); // calledAt beyond 2^53
    });

    it("refuses malformed timing fields, naming them", function () {
      for (const [patch, field] of [[{ calledAt: -1 }, "calledAt"], [{ calledAt: 2.5 }, "calledAt"], [{ latencyMs: 2 ** 32 }, "latencyMs"], [{ latencyMs: -1 }, "latencyMs"]] as const) {
        try {
          encodeEntry({ ...timed, ...patch });
          expect.fail(`accepted ${JSON.stringify(patch)}`);
        } catch (e) {
          expect((e as LogError).details.field).to.equal(field);
        }
      }
    });
  });
});
