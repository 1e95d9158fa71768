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
});
