/**
 * docs/formats.md quotes the vectors the other formats-*.test.ts tests check, names every vector
 * file, states every EIP-712 type string exactly, and its bundle layout names every member of the
 * vector bundle: the document, the vectors and (through the other tests) the code stay in step.
 */
import { expect } from "chai";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const doc = readFileSync(join(__dirname, "../../docs/formats.md"), "utf8");
const api = readFileSync(join(__dirname, "../../docs/api.md"), "utf8");
/* eslint-disable @typescript-eslint/no-explicit-any */
const load = (name: string): any => JSON.parse(readFileSync(join(__dirname, "../vectors", name), "utf8"));

describe("docs/formats.md", () => {
  it("says a client needs nothing else, and links the signed-request scheme instead of repeating it", () => {
    expect(doc.slice(0, 1200)).to.match(/client in\s+another language needs/);
    expect(doc).to.contain("(api.md#1-signed-requests)");
    expect(api).to.contain("## 1. Signed requests");
    expect(api).to.contain("## 2. Co-signatures (EIP-712)");
    expect(doc).to.not.contain("dcl-request/v1\n"); // the scheme itself lives in api.md
  });

  it("names every vector file", () => {
    for (const f of readdirSync(join(__dirname, "../vectors")).filter((f) => f.endsWith(".json"))) expect(doc, f).to.contain("`" + f + "`");
  });

  it("quotes the receipt's signed text, the checkpoint note and a canonical fee record from the vectors", () => {
    const receipt = load("receipt.json");
    expect(doc).to.contain("```\n" + receipt.signedText + "```");
    const cp = load("checkpoint.json");
    expect(doc).to.contain("```\n" + cp.note + "```");
    const fees = load("fee-records.json");
    expect(doc).to.contain("```\n" + fees.records[0].canonical + "\n```");
  });

  it("states every EIP-712 type string, domain name and the example id and digest of the vectors", () => {
    const v = load("eip712.json");
    for (const c of v.structs) expect(doc, c.primaryType).to.contain("**`" + c.typeString + "`**");
    for (const d of v.domains) {
      expect(doc).to.contain("`" + d.name + "`");
      expect(doc).to.contain(d.typeString);
    }
    const a = v.structs.find((c: any) => c.primaryType === "Agreement");
    for (const value of [a.id.value, a.digest, a.verifyingContract]) expect(doc).to.contain(value);
  });

  it("gives the tags, prefixes and constants the vectors use", () => {
    expect(doc).to.contain("dcl-subject-commitment-v1");
    expect(load("subject-commitment.json").cases[0].tag).to.equal("0x" + Buffer.from("dcl-subject-commitment-v1\u0000").toString("hex"));
    expect(doc).to.contain("dcl-evidence-seal/v1\\n0x<64 lower-case hex digits>");
    expect(load("evidence-seal.json").signedText).to.match(/^dcl-evidence-seal\/v1\n0x[0-9a-f]{64}$/);
    expect(doc).to.contain("dcl-receipt/v2\\n<origin>\\n<first>\\n<count>\\n<batch root>\\n");
    expect(doc).to.contain(load("merkle-tree.json").roots[0].root);
  });

  it("lays out every member of the vector bundle (§7.2)", () => {
    const { bundle } = load("evidence-bundle.json");
    const section = doc.slice(doc.indexOf("### 7.2"), doc.indexOf("## 8."));
    for (const k of Object.keys(bundle)) expect(section, k).to.contain("`" + k);
    for (const k of ["chain", "log", "checkpoint"]) for (const m of Object.keys(bundle[k])) expect(section, `${k}.${m}`).to.contain(`\`${k}.${m}\``);
    for (const k of ["entries", "agreements", "consents"]) {
      for (const item of bundle[k]) for (const m of Object.keys(item)) expect(section, `${k}[].${m}`).to.contain(`${k}[].${m}`);
    }
    for (const m of Object.keys(bundle.earlierCheckpoints[0])) expect(section, `earlierCheckpoints[].${m}`).to.contain("`" + m + "`");
  });
});
