import { expect } from "chai";
import fc from "fast-check";
import { canonicalJson, VerificationError } from "../../node/verify";

/** The double whose IEEE 754 bits are the 16 hex digits `bits` (RFC 8785 Appendix B lists numbers this way). */
function fromBits(bits: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt("0x" + bits));
  return view.getFloat64(0);
}

describe("RFC 8785 canonical JSON", () => {
  it("serialises the primitive-data example of §3.2.2", () => {
    // The RFC's input, parsed by JSON.parse exactly as the RFC's text shows it.
    const input = JSON.parse(
      '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],' +
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}',
    );
    expect(canonicalJson(input)).to.equal(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it("sorts members by UTF-16 code units, as in the example of §3.2.3", () => {
    const input = {
      "\u20ac": "Euro Sign",
      "\r": "Carriage Return",
      "\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\ud83d\ude00": "Emoji: Grinning Face",
      "\u0080": "Control",
      "\u00f6": "Latin Small Letter O With Diaeresis",
    };
    expect(canonicalJson(input)).to.equal(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",' +
        '"\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it("serialises the numbers of Appendix B as ECMAScript does", () => {
    const cases: [string, string][] = [
      ["0000000000000000", "0"],
      ["8000000000000000", "0"],
      ["0000000000000001", "5e-324"],
      ["8000000000000001", "-5e-324"],
      ["7fefffffffffffff", "1.7976931348623157e+308"],
      ["ffefffffffffffff", "-1.7976931348623157e+308"],
      ["4340000000000000", "9007199254740992"],
      ["c340000000000000", "-9007199254740992"],
      ["4430000000000000", "295147905179352830000"],
      ["44b52d02c7e14af5", "9.999999999999997e+22"],
      ["44b52d02c7e14af6", "1e+23"],
      ["44b52d02c7e14af7", "1.0000000000000001e+23"],
      ["444b1ae4d6e2ef4e", "999999999999999700000"],
      ["444b1ae4d6e2ef4f", "999999999999999900000"],
      ["444b1ae4d6e2ef50", "1e+21"],
      ["3eb0c6f7a0b5ed8c", "9.999999999999997e-7"],
      ["3eb0c6f7a0b5ed8d", "0.000001"],
      ["41b3de4355555553", "333333333.3333332"],
      ["41b3de4355555554", "333333333.33333325"],
      ["41b3de4355555555", "333333333.3333333"],
      ["41b3de4355555556", "333333333.3333334"],
      ["41b3de4355555557", "333333333.33333343"],
      ["becbf647612f3696", "-0.0000033333333333333333"],
      ["43143ff3c1cb0959", "1424953923781206.2"],
    ];
    for (const [bits, text] of cases) expect(canonicalJson(fromBits(bits)), bits).to.equal(text);
  });

  it("refuses NaN and infinities (Appendix B) and other values JSON cannot carry", () => {
    for (const bad of [fromBits("7fffffffffffffff"), fromBits("7ff0000000000000"), -Infinity, 1n, () => 1, Symbol("s")]) {
      expect(() => canonicalJson({ a: [bad] }), String(bad)).to.throw(VerificationError).with.property("code", "JSON_NOT_CANONICALIZABLE");
    }
    expect(() => canonicalJson([undefined])).to.throw(VerificationError);
    expect(() => canonicalJson({ d: new Date(0) })).to.throw(VerificationError);
    expect(() => canonicalJson("\ud800x")).to.throw(VerificationError);
    expect(() => canonicalJson({ ["\udc00"]: 1 })).to.throw(VerificationError);
  });

  it("has no whitespace and leaves out members whose value is undefined, as JSON.stringify does", () => {
    expect(canonicalJson({ b: [1, { d: true, c: null }], a: "x y", u: undefined })).to.equal('{"a":"x y","b":[1,{"c":null,"d":true}]}');
    expect(canonicalJson([])).to.equal("[]");
    expect(canonicalJson({})).to.equal("{}");
  });

  it("gives a value and any JSON round trip of it the same text, and parses back to the value", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const text = canonicalJson(v);
        expect(canonicalJson(JSON.parse(JSON.stringify(v, null, 2)))).to.equal(text);
        expect(JSON.parse(text)).to.deep.equal(JSON.parse(JSON.stringify(v)));
      }),
      { numRuns: 300 },
    );
  });
});
