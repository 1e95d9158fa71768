import { expect } from "chai";
import fc from "fast-check";
import * as fs from "fs";
import * as path from "path";
import { Wallet } from "ethers";
import {
  VerificationError,
  emptyRoot,
  formatCheckpoint,
  formatSignedCheckpoint,
  fromBase64,
  fromHex,
  leafHash,
  nodeHash,
  parseCheckpoint,
  checkpointSigningPayload,
  toBase64,
  toHex,
  verifyCheckpointSignature,
  verifyConsistency,
  verifyInclusion,
  rootFromInclusionProof,
} from "../../node/verify";
import { referenceConsistencyProof, referenceInclusionProof, referenceRoot } from "./reference-tree";

const VECTORS = path.resolve(__dirname, "../../../shared/testdata/rfc6962-proofs");

function jsonFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? jsonFiles(path.join(dir, e.name)) : e.name.endsWith(".json") ? [path.join(dir, e.name)] : []))
    .sort();
}

function b64(s: string | null | undefined): Uint8Array {
  // The vectors hold Go's []byte(nil) as null and short non-hash values: decode as given.
  return s == null ? new Uint8Array(0) : Uint8Array.from(Buffer.from(s, "base64"));
}

/** Runs `fn` and returns the VerificationError it throws, failing if it throws nothing or something else. */
function errorOf(fn: () => unknown): VerificationError {
  try {
    fn();
  } catch (e) {
    expect(e).to.be.instanceOf(VerificationError);
    return e as VerificationError;
  }
  expect.fail("expected a VerificationError");
}

describe("node/verify against the transparency-dev/merkle RFC 6962 vectors", function () {
  const files = jsonFiles(VECTORS);
  if (files.length === 0) {
    it(`skips: no vectors at ${VECTORS} (clone the project beside shared/ to run them)`, function () {
      this.skip();
    });
    return;
  }

  for (const file of files) {
    const rel = path.relative(VECTORS, file);
    const c = JSON.parse(fs.readFileSync(file, "utf8"));
    it(`${c.wantErr ? "rejects" : "accepts"} ${rel} (${c.desc})`, function () {
      const proof: Uint8Array[] = (c.proof ?? []).map(b64);
      const run = rel.startsWith("inclusion")
        ? () => verifyInclusion(c.leafIdx, c.treeSize, b64(c.leafHash), proof, b64(c.root))
        : () => verifyConsistency(c.size1, c.size2, b64(c.root1), b64(c.root2), proof);
      if (c.wantErr) expect(errorOf(run).code).to.be.a("string");
      else expect(run).not.to.throw();
    });
  }
});

// The eight classic Certificate Transparency test leaves (RFC 6962 test data).
const CT_LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"].map((h) =>
  leafHash(fromHex("0x" + h)),
);
const zeros = (n: number) => new Uint8Array(n);
const flip = (b: Uint8Array) => {
  const c = Uint8Array.from(b);
  c[0] ^= 1;
  return c;
};

describe("node/verify hashes", function () {
  it("hashes the empty tree, a leaf and a node as RFC 6962 defines", function () {
    expect(toHex(emptyRoot())).to.equal("0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(toHex(CT_LEAVES[0])).to.equal("0x6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
    // Root of the 8 CT leaves, as published with the RFC 6962 test vectors.
    expect(toHex(referenceRoot(CT_LEAVES))).to.equal("0x5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328");
    expect(toHex(nodeHash(CT_LEAVES[0], CT_LEAVES[1]))).to.equal(toHex(referenceRoot(CT_LEAVES.slice(0, 2))));
  });

  it("round-trips hex and base64 and refuses malformed text", function () {
    const bytes = Uint8Array.from([0, 1, 2, 253, 254, 255, 7]);
    for (let n = 0; n <= bytes.length; n++) {
      const b = bytes.slice(0, n);
      expect(fromHex(toHex(b))).to.deep.equal(b);
      expect(fromBase64(toBase64(b))).to.deep.equal(b);
      expect(toBase64(b)).to.equal(Buffer.from(b).toString("base64"));
    }
    // toHex builds its text in chunks of 4,096 bytes: lengths around and past a chunk, every byte value.
    for (const n of [32, 255, 256, 4095, 4096, 4097, 9000]) {
      const b = Uint8Array.from({ length: n }, (_, i) => (i * 131 + n) & 0xff);
      expect(toHex(b)).to.equal("0x" + Buffer.from(b).toString("hex"));
    }
    expect(errorOf(() => fromHex("abcd")).code).to.equal("HEX_INVALID");
    expect(errorOf(() => fromHex("0xabc")).code).to.equal("HEX_INVALID");
    expect(errorOf(() => fromBase64("AB==")).code).to.equal("BASE64_INVALID"); // padding bits set
    expect(errorOf(() => fromBase64("AAA")).code).to.equal("BASE64_INVALID");
    expect(errorOf(() => fromBase64("AA-_")).code).to.equal("BASE64_INVALID");
  });

  it("decodes exactly the 0x-prefixed even-length hex strings, as a regular expression of them says", function () {
    const HEX = /^0x(?:[0-9a-fA-F]{2})*$/;
    // Hex digits of both cases, with the characters a decoder by character code could mistake for one.
    const chars = fc.constantFrom(..."0123456789abcdefABCDEF/:@G`gxX \u0130\u0660\u{1F600}");
    fc.assert(
      fc.property(fc.boolean(), fc.array(chars, { maxLength: 12 }), (prefixed, cs) => {
        const text = (prefixed ? "0x" : "") + cs.join("");
        if (HEX.test(text)) expect(fromHex(text)).to.deep.equal(Uint8Array.from(Buffer.from(text.slice(2), "hex")));
        else expect(errorOf(() => fromHex(text)).code).to.equal("HEX_INVALID");
      }),
      { numRuns: 500 },
    );
    expect(fromHex("0x")).to.deep.equal(new Uint8Array());
    expect(errorOf(() => fromHex("0X00")).code).to.equal("HEX_INVALID");
  });
});

describe("node/verify error codes", function () {
  const root8 = referenceRoot(CT_LEAVES);
  const root5 = referenceRoot(CT_LEAVES.slice(0, 5));
  const proof = referenceInclusionProof(2, CT_LEAVES);

  it("accepts every inclusion and consistency proof of the 8-leaf tree", function () {
    for (let n = 1; n <= 8; n++) {
      const leaves = CT_LEAVES.slice(0, n);
      for (let i = 0; i < n; i++) verifyInclusion(i, n, leaves[i], referenceInclusionProof(i, leaves), referenceRoot(leaves));
      for (let m = 1; m <= n; m++) {
        verifyConsistency(m, n, referenceRoot(leaves.slice(0, m)), referenceRoot(leaves), referenceConsistencyProof(m, leaves));
      }
    }
    expect(rootFromInclusionProof(2, 8, CT_LEAVES[2], proof)).to.deep.equal(root8);
  });

  it("INCLUSION_INDEX_OUT_OF_RANGE names the index and size", function () {
    const e = errorOf(() => verifyInclusion(8, 8, CT_LEAVES[2], proof, root8));
    expect(e.code).to.equal("INCLUSION_INDEX_OUT_OF_RANGE");
    expect(e.message).to.contain("8").and.contain("tree size 8");
    expect(e.details).to.deep.equal({ index: 8, size: 8 });
    expect(errorOf(() => verifyInclusion(-1, 8, CT_LEAVES[2], proof, root8)).code).to.equal("INCLUSION_INDEX_OUT_OF_RANGE");
    expect(errorOf(() => verifyInclusion(2 ** 64, 8, CT_LEAVES[2], proof, root8)).code).to.equal("INCLUSION_INDEX_OUT_OF_RANGE");
  });

  it("INCLUSION_PROOF_LENGTH for a proof one hash short or long", function () {
    const short = errorOf(() => verifyInclusion(2, 8, CT_LEAVES[2], proof.slice(1), root8));
    expect(short.code).to.equal("INCLUSION_PROOF_LENGTH");
    expect(short.details).to.include({ got: 2, want: 3 });
    expect(errorOf(() => verifyInclusion(2, 8, CT_LEAVES[2], [...proof, zeros(32)], root8)).code).to.equal("INCLUSION_PROOF_LENGTH");
  });

  it("INCLUSION_ROOT_MISMATCH for a changed leaf, proof hash or root", function () {
    expect(errorOf(() => verifyInclusion(2, 8, flip(CT_LEAVES[2]), proof, root8)).code).to.equal("INCLUSION_ROOT_MISMATCH");
    expect(errorOf(() => verifyInclusion(2, 8, CT_LEAVES[2], [proof[0], flip(proof[1]), proof[2]], root8)).code).to.equal(
      "INCLUSION_ROOT_MISMATCH",
    );
    const e = errorOf(() => verifyInclusion(2, 8, CT_LEAVES[2], proof, flip(root8)));
    expect(e.code).to.equal("INCLUSION_ROOT_MISMATCH");
    expect(e.message).to.contain(toHex(root8)).and.contain(toHex(flip(root8)));
  });

  it("HASH_LENGTH for a leaf, proof hash or root that is not 32 bytes", function () {
    expect(errorOf(() => verifyInclusion(2, 8, zeros(31), proof, root8)).details).to.include({ what: "leaf hash", length: 31 });
    expect(errorOf(() => verifyInclusion(2, 8, CT_LEAVES[2], [proof[0], zeros(33), proof[2]], root8)).code).to.equal("HASH_LENGTH");
    expect(errorOf(() => verifyInclusion(2, 8, CT_LEAVES[2], proof, zeros(0))).code).to.equal("HASH_LENGTH");
  });

  it("TREE_SIZE_INVALID for a negative, fractional or unsafe size", function () {
    expect(errorOf(() => verifyInclusion(0, 1.5, CT_LEAVES[0], [], CT_LEAVES[0])).code).to.equal("TREE_SIZE_INVALID");
    expect(errorOf(() => verifyConsistency(-1, 8, root5, root8, [])).code).to.equal("TREE_SIZE_INVALID");
    expect(errorOf(() => verifyConsistency(5, 2 ** 60, root5, root8, [])).code).to.equal("TREE_SIZE_INVALID");
  });

  it("CONSISTENCY_SIZE_ORDER names both sizes in order", function () {
    const e = errorOf(() => verifyConsistency(8, 5, root8, root5, []));
    expect(e.code).to.equal("CONSISTENCY_SIZE_ORDER");
    expect(e.message).to.equal("size1 8 is greater than size2 5");
    expect(e.details).to.deep.equal({ size1: 8, size2: 5 });
  });

  it("CONSISTENCY_FROM_EMPTY for any proof from size 0", function () {
    expect(errorOf(() => verifyConsistency(0, 8, emptyRoot(), root8, [])).code).to.equal("CONSISTENCY_FROM_EMPTY");
    expect(errorOf(() => verifyConsistency(0, 0, emptyRoot(), emptyRoot(), [])).code).to.equal("CONSISTENCY_FROM_EMPTY");
  });

  it("CONSISTENCY_PROOF_LENGTH for a wrong-length proof, or any proof between equal sizes", function () {
    const p = referenceConsistencyProof(5, CT_LEAVES);
    expect(errorOf(() => verifyConsistency(5, 8, root5, root8, p.slice(0, -1))).details).to.include({ got: p.length - 1, want: p.length });
    expect(errorOf(() => verifyConsistency(5, 8, root5, root8, [])).code).to.equal("CONSISTENCY_PROOF_LENGTH");
    expect(errorOf(() => verifyConsistency(8, 8, root8, root8, [root8])).code).to.equal("CONSISTENCY_PROOF_LENGTH");
  });

  it("CONSISTENCY_ROOT_MISMATCH says which root did not match", function () {
    const p = referenceConsistencyProof(5, CT_LEAVES);
    expect(errorOf(() => verifyConsistency(5, 8, flip(root5), root8, p)).details).to.include({ which: "root1" });
    expect(errorOf(() => verifyConsistency(5, 8, root5, flip(root8), p)).details).to.include({ which: "root2" });
    expect(errorOf(() => verifyConsistency(8, 8, root8, flip(root8), [])).code).to.equal("CONSISTENCY_ROOT_MISMATCH");
    expect(errorOf(() => verifyConsistency(5, 8, root5, root8, [flip(p[0]), ...p.slice(1)])).code).to.equal("CONSISTENCY_ROOT_MISMATCH");
  });
});

describe("node/verify checkpoints", function () {
  const wallet = new Wallet("0x" + "11".repeat(32));
  const other = new Wallet("0x" + "22".repeat(32));
  const checkpoint = { origin: "dcl.example.gov/log/v1", size: 8, root: referenceRoot(CT_LEAVES) };

  async function sign(cp = checkpoint, w: Wallet = wallet): Promise<string> {
    const signature = fromHex(await w.signMessage(checkpointSigningPayload(cp)));
    return formatSignedCheckpoint(cp, [{ signer: w.address, signature }]);
  }

  it("formats the C2SP body exactly", function () {
    expect(formatCheckpoint(checkpoint)).to.equal(`dcl.example.gov/log/v1\n8\n${Buffer.from(checkpoint.root).toString("base64")}\n`);
  });

  it("round-trips a signed checkpoint and recovers the operator's address", async function () {
    const note = await sign();
    expect(note).to.match(/^dcl\.example\.gov\/log\/v1\n8\n[A-Za-z0-9+/]{43}=\n\n\u2014 dcl\.example\.gov\/log\/v1 [A-Za-z0-9+/=]{116}\n$/);
    const parsed = parseCheckpoint(note);
    expect(parsed.checkpoint).to.deep.equal({ ...checkpoint, extensions: [] });
    expect(parsed.signatures[0].signer).to.equal(wallet.address);
    expect(verifyCheckpointSignature(note)).to.equal(wallet.address);
    expect(verifyCheckpointSignature(note, [wallet.address.toLowerCase()])).to.equal(wallet.address);
  });

  it("keeps extension lines and foreign signature lines", async function () {
    const cp = { ...checkpoint, extensions: ["anchored 0xabc"] };
    const note = (await sign(cp)) + "\u2014 witness.example AAAAAAAA\n";
    const parsed = parseCheckpoint(note);
    expect(parsed.checkpoint.extensions).to.deep.equal(["anchored 0xabc"]);
    expect(parsed.signatures.map((s) => s.keyName)).to.deep.equal([cp.origin, "witness.example"]);
    expect(verifyCheckpointSignature(parsed)).to.equal(wallet.address);
  });

  it("detects a changed size, root or origin (CHECKPOINT_SIGNATURE_INVALID)", async function () {
    const note = await sign();
    const sigLine = note.slice(note.indexOf("\n\n") + 2);
    const tampered = [
      note.replace("\n8\n", "\n9\n"),
      formatCheckpoint({ ...checkpoint, root: flip(checkpoint.root) }) + "\n" + sigLine,
      (await sign()).replace(/ [A-Za-z0-9+/=]+\n$/, (m) => m.replace(/[A-Z]/, (c) => (c === "A" ? "B" : "A"))),
    ];
    for (const t of tampered) {
      expect(parseCheckpoint(t).signatures).to.have.length(1);
      expect(errorOf(() => verifyCheckpointSignature(t)).code).to.be.oneOf(["CHECKPOINT_SIGNATURE_INVALID"]);
    }
    const e = errorOf(() => verifyCheckpointSignature(tampered[0]));
    expect(e.message).to.contain(wallet.address).and.contain("size 9");
  });

  it("detects a signature whose claimed signer was swapped for another address", async function () {
    const note = await sign();
    const parsed = parseCheckpoint(note);
    const swapped = formatSignedCheckpoint(checkpoint, [{ signer: other.address, signature: parsed.signatures[0].signature as Uint8Array }]);
    expect(errorOf(() => verifyCheckpointSignature(swapped)).code).to.equal("CHECKPOINT_SIGNATURE_INVALID");
  });

  it("CHECKPOINT_SIGNER_UNKNOWN when signed by a key that is not expected", async function () {
    const note = await sign(checkpoint, other);
    const e = errorOf(() => verifyCheckpointSignature(note, [wallet.address]));
    expect(e.code).to.equal("CHECKPOINT_SIGNER_UNKNOWN");
    expect(e.message).to.contain(other.address).and.contain(wallet.address);
  });

  it("CHECKPOINT_SIGNATURE_MISSING when no line is signed under the origin", async function () {
    const note = formatCheckpoint(checkpoint) + "\n\u2014 someone.else " + toBase64(zeros(85)) + "\n";
    expect(errorOf(() => verifyCheckpointSignature(note)).code).to.equal("CHECKPOINT_SIGNATURE_MISSING");
  });

  it("parses strictly, refusing malformed notes with a code", async function () {
    const note = await sign();
    const body = formatCheckpoint(checkpoint);
    const sig = note.slice(body.length + 1);
    const rootB64 = toBase64(checkpoint.root);
    const cases: [string, string][] = [
      [body, "CHECKPOINT_MALFORMED"], // no signatures
      [body + "\n", "CHECKPOINT_SIGNATURE_MALFORMED"],
      [note.slice(0, -1), "CHECKPOINT_SIGNATURE_MALFORMED"], // no final newline
      [note.replace("\u2014", "-"), "CHECKPOINT_SIGNATURE_MALFORMED"],
      [note.replace(/\n$/, " extra\n"), "CHECKPOINT_SIGNATURE_MALFORMED"],
      [note + "\n", "CHECKPOINT_SIGNATURE_MALFORMED"],
      [`dcl.example.gov/log/v1\n08\n${rootB64}\n\n${sig}`, "CHECKPOINT_SIZE_INVALID"],
      [`dcl.example.gov/log/v1\n-8\n${rootB64}\n\n${sig}`, "CHECKPOINT_SIZE_INVALID"],
      [`dcl.example.gov/log/v1\n99999999999999999999\n${rootB64}\n\n${sig}`, "CHECKPOINT_SIZE_INVALID"],
      [`dcl.example.gov/log/v1\n8\n${rootB64.slice(4)}\n\n${sig}`, "CHECKPOINT_ROOT_INVALID"],
      [`dcl.example.gov/log/v1\n8\n${rootB64.replace("=", "")}\n\n${sig}`, "CHECKPOINT_ROOT_INVALID"],
      [`dcl example\n8\n${rootB64}\n\n${sig}`, "CHECKPOINT_ORIGIN_INVALID"],
      [`\n8\n${rootB64}\n\n${sig}`, "CHECKPOINT_ORIGIN_INVALID"],
      [`dcl.example.gov/log/v1\n8\n\n${sig}`, "CHECKPOINT_MALFORMED"],
      [note.replace("\n8\n", "\r\n8\n"), "CHECKPOINT_MALFORMED"],
      [note.replace(/ ([A-Za-z0-9+/]{4})/, " "), "CHECKPOINT_SIGNATURE_MALFORMED"], // 82-byte signature under the origin
    ];
    for (const [text, code] of cases) {
      expect(errorOf(() => parseCheckpoint(text)).code, JSON.stringify(text)).to.equal(code);
    }
  });
});
