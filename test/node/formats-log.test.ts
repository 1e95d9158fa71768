/**
 * docs/formats.md §2–§5 against test/vectors/{access-entry,merkle-tree,receipt,checkpoint}.json:
 * every value is rebuilt from the document's rules (formats-rules.ts, independent of dcl's code),
 * and dcl's own code (node/log, node/merkle, node/access, node/verify) must give the same bytes.
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Wallet } from "ethers";
import { AccessLedger } from "../../node/access/access-ledger";
import { CheckpointSigner } from "../../node/log/checkpoint-signer";
import { decodeEntry, encodeEntry as dclEncodeEntry, type AccessLogEntry } from "../../node/log/entry";
import type { MerkleLog } from "../../node/log/merkle-log";
import { MemoryTree } from "../../node/merkle/memory-tree";
import {
  emptyRoot, fromHex, leafHash as dclLeafHash, parseCheckpoint, receiptSigningPayload, rootFromInclusionProof, toHex,
  verifyCheckpointSignature, verifyConsistency as dclVerifyConsistency, verifyInclusion as dclVerifyInclusion, verifyReceipt, type Receipt,
} from "../../node/verify";
import * as spec from "./formats-rules";

const load = <T>(name: string): T => JSON.parse(readFileSync(join(__dirname, "../vectors", name), "utf8")) as T;
const hexes = (a: Uint8Array[]) => a.map(spec.hex);
const throws = (f: () => unknown) => {
  try {
    f();
  } catch {
    return true;
  }
  return false;
};

interface Key { hardhatAccount: number; privateKey: string; address: string }

describe("formats §2: access-log entries (test/vectors/access-entry.json)", () => {
  const v = load<{ cases: { name: string; entry: spec.EntryJson; canonical: string; leafHash: string }[] }>("access-entry.json");

  for (const c of v.cases) {
    it(`rebuilds "${c.name}" field by field, and dcl encodes and decodes it alike`, () => {
      const bytes = spec.encodeEntry(c.entry);
      expect(spec.hex(bytes)).to.equal(c.canonical);
      expect(bytes.length).to.be.within(240, 336);
      expect(spec.hex(spec.leafHash(bytes))).to.equal(c.leafHash);
      expect(toHex(dclEncodeEntry(c.entry as AccessLogEntry))).to.equal(c.canonical);
      expect(toHex(dclLeafHash(fromHex(c.canonical)))).to.equal(c.leafHash);
      expect(decodeEntry(fromHex(c.canonical))).to.deep.equal(c.entry);
    });
  }

  it("has dcl refuse every byte string §2 says a decoder MUST reject", () => {
    const served = v.cases.find((c) => c.entry.outcome === "served" && c.entry.subjectCommitment !== null)!;
    const refused = v.cases.find((c) => c.entry.outcome === "refused")!;
    const s = spec.bytes(served.canonical);
    const r = spec.bytes(refused.canonical);
    const patched = (b: Buffer, i: number, x: number) => {
      const c = Buffer.from(b);
      c[i] = x;
      return c;
    };
    const flagAt = 237;
    const bad: [string, Buffer][] = [
      ["version 0x02", patched(s, 0, 2)],
      ["time above 2^53 - 1", Buffer.concat([Buffer.from([1]), spec.uintBE(2n ** 53n, 8), s.subarray(9)])],
      ["subject flag 0x02", patched(s, flagAt, 2)],
      ["outcome byte 0x02", patched(s, flagAt + 33, 2)],
      ["a reason on a served entry", Buffer.concat([patched(s, s.length - 1, 1), Buffer.from("X")])],
      ["a refused entry without a reason", Buffer.concat([r.subarray(0, r.length - refused.entry.refusalReason.length - 1), Buffer.from([0])])],
      ["a reason outside [A-Z0-9_]", patched(r, r.length - 1, "a".charCodeAt(0))],
      ["a trailing byte", Buffer.concat([s, Buffer.from([0])])],
      ["a missing byte", s.subarray(0, -1)],
    ];
    for (const [why, b] of bad) expect(throws(() => decodeEntry(b)), why).to.equal(true);
  });
});

interface MerkleVector {
  leaves: string[];
  leafHashes: string[];
  roots: { size: number; root: string }[];
  inclusion: { index: number; size: number; leafHash: string; proof: string[]; root: string }[];
  consistency: { size1: number; size2: number; root1: string; root2: string; proof: string[] }[];
  invalid: {
    inclusion: { why: string; index: number; size: number; leafHash: string; proof: string[]; root: string }[];
    consistency: { why: string; size1: number; size2: number; root1: string; root2: string; proof: string[] }[];
  };
}

describe("formats §3: Merkle trees (test/vectors/merkle-tree.json)", () => {
  const v = load<MerkleVector>("merkle-tree.json");
  const leaves = v.leaves.map(spec.bytes);
  const hashes = leaves.map(spec.leafHash);

  it("hashes leaves as SHA-256(0x00 ‖ d) and has the published certificate-transparency roots", () => {
    expect(hexes(hashes)).to.deep.equal(v.leafHashes);
    for (const { size, root } of v.roots) expect(spec.hex(spec.mth(hashes.slice(0, size))), `size ${size}`).to.equal(root);
    // Roots of the same leaves in certificate-transparency's merkle_tree_test (an outside reference).
    expect(v.roots.map((r) => r.root.slice(2, 18))).to.deep.equal([
      "e3b0c44298fc1c14", "6e340b9cffb37a98", "fac54203e7cc696c", "aeb6bcfe274b70a1", "d37ee418976dd957",
      "4e3bbb1f7b478dcf", "76e67dadbcdf1e10", "ddb89be403809e32", "5dc9da79a70659a9",
    ]);
    expect(v.roots[0].root).to.equal(toHex(emptyRoot()));
    for (const { size, root } of v.roots) expect(toHex(new MemoryTree(leaves.slice(0, size)).root())).to.equal(root);
  });

  it("rebuilds every inclusion proof as PATH(m, D[n]); RFC 9162 and dcl both accept it", () => {
    expect(v.inclusion.length).to.equal(36);
    for (const c of v.inclusion) {
      const p = c.proof.map(spec.bytes);
      expect(hexes(spec.path(c.index, hashes.slice(0, c.size))), `${c.index}/${c.size}`).to.deep.equal(c.proof);
      expect(spec.verifyInclusion(c.index, c.size, spec.bytes(c.leafHash), p, spec.bytes(c.root))).to.equal(true);
      expect(new MemoryTree(leaves.slice(0, c.size)).inclusionProof(c.index).map(toHex)).to.deep.equal(c.proof);
      expect(toHex(rootFromInclusionProof(c.index, c.size, fromHex(c.leafHash), c.proof.map(fromHex)))).to.equal(c.root);
      dclVerifyInclusion(c.index, c.size, fromHex(c.leafHash), c.proof.map(fromHex), fromHex(c.root));
    }
  });

  it("rebuilds every consistency proof as PROOF(m, D[n]); RFC 9162 and dcl both accept it", () => {
    expect(v.consistency.length).to.equal(36);
    for (const c of v.consistency) {
      expect(hexes(spec.proof(c.size1, hashes.slice(0, c.size2))), `${c.size1}→${c.size2}`).to.deep.equal(c.proof);
      expect(spec.verifyConsistency(c.size1, c.size2, spec.bytes(c.root1), spec.bytes(c.root2), c.proof.map(spec.bytes))).to.equal(true);
      dclVerifyConsistency(c.size1, c.size2, fromHex(c.root1), fromHex(c.root2), c.proof.map(fromHex));
    }
  });

  it("rejects the invalid proofs, by the rules and in dcl", () => {
    for (const c of v.invalid.inclusion) {
      expect(spec.verifyInclusion(c.index, c.size, spec.bytes(c.leafHash), c.proof.map(spec.bytes), spec.bytes(c.root)), c.why).to.equal(false);
      expect(throws(() => dclVerifyInclusion(c.index, c.size, fromHex(c.leafHash), c.proof.map(fromHex), fromHex(c.root))), c.why).to.equal(true);
    }
    for (const c of v.invalid.consistency) {
      expect(spec.verifyConsistency(c.size1, c.size2, spec.bytes(c.root1), spec.bytes(c.root2), c.proof.map(spec.bytes)), c.why).to.equal(false);
      expect(throws(() => dclVerifyConsistency(c.size1, c.size2, fromHex(c.root1), fromHex(c.root2), c.proof.map(fromHex))), c.why).to.equal(true);
    }
  });
});

interface ReceiptVector {
  signer: Key;
  origin: string;
  first: number;
  count: number;
  leafHashes: string[];
  batchRoot: string;
  signedText: string;
  signedBytes: string;
  eip191Digest: string;
  signature: string;
  receipts: Receipt[];
}

describe("formats §4: receipts (test/vectors/receipt.json)", () => {
  const v = load<ReceiptVector>("receipt.json");
  const hashes = v.leafHashes.map(spec.bytes);

  it("rebuilds the batch root, the signed text, its EIP-191 digest and the signature", () => {
    expect(spec.hex(spec.mth(hashes))).to.equal(v.batchRoot); // leaf hashes used as they are
    const text = spec.receiptText(v.origin, v.first, v.count, v.batchRoot);
    expect(text).to.equal(v.signedText);
    expect(text.split("\n")).to.deep.equal(["dcl-receipt/v2", v.origin, String(v.first), String(v.count), v.batchRoot, ""]);
    expect(spec.hex(spec.utf8(text))).to.equal(v.signedBytes);
    const digest = spec.eip191Digest(spec.utf8(text));
    expect(spec.hex(digest)).to.equal(v.eip191Digest);
    expect(spec.signDigest(digest, v.signer.privateKey)).to.equal(v.signature);
    expect(spec.addressOfKey(v.signer.privateKey)).to.equal(v.signer.address.toLowerCase());
  });

  it("has each receipt verify on its own by the rules", () => {
    expect(v.receipts.length).to.equal(v.count);
    v.receipts.forEach((r, i) => {
      expect(r).to.deep.equal({
        origin: v.origin, index: v.first + i, leafHash: v.leafHashes[i],
        batch: { first: v.first, count: v.count, root: v.batchRoot, proof: hexes(spec.path(i, hashes)) },
        signer: v.signer.address, signature: v.signature,
      });
      expect(spec.verifyInclusion(r.index - r.batch.first, r.batch.count, spec.bytes(r.leafHash), r.batch.proof.map(spec.bytes), spec.bytes(r.batch.root))).to.equal(true);
      const digest = spec.eip191Digest(spec.utf8(spec.receiptText(r.origin, r.batch.first, r.batch.count, r.batch.root)));
      expect(spec.recover(digest, r.signature)).to.equal(r.signer.toLowerCase());
    });
  });

  it("is what dcl's access ledger signs, and dcl's verifier accepts it", () => {
    expect(toHex(receiptSigningPayload(v.origin, v.first, v.count, v.batchRoot))).to.equal(v.signedBytes);
    const ledger = new AccessLedger({
      log: undefined as never, indexer: undefined as never, audit: { allUsage: () => new Map() } as never,
      signer: new Wallet(v.signer.privateKey), origin: v.origin,
    });
    expect(ledger.receipts(v.first, v.leafHashes.map(fromHex))).to.deep.equal(v.receipts);
    for (const r of v.receipts) verifyReceipt(r, [v.signer.address]);
    const forged = { ...v.receipts[1], batch: { ...v.receipts[1].batch, first: v.first + 1 } };
    expect(throws(() => verifyReceipt(forged))).to.equal(true);
  });
});

interface CheckpointVector {
  signer: Key;
  origin: string;
  treeSize: number;
  root: string;
  rootBase64: string;
  body: string;
  bodyBytes: string;
  eip191Digest: string;
  signature: string;
  signatureLineBytes: string;
  signatureLine: string;
  note: string;
}

describe("formats §5: checkpoints (test/vectors/checkpoint.json)", () => {
  const v = load<CheckpointVector>("checkpoint.json");

  it("rebuilds the body, the signature over it, the signature line and the note", () => {
    const root = spec.bytes(v.root);
    expect(Buffer.from(v.rootBase64, "base64").equals(root)).to.equal(true);
    const body = spec.checkpointBody(v.origin, v.treeSize, root);
    expect(body).to.equal(v.body);
    expect(spec.hex(spec.utf8(body))).to.equal(v.bodyBytes);
    const digest = spec.eip191Digest(spec.utf8(body));
    expect(spec.hex(digest)).to.equal(v.eip191Digest);
    expect(spec.signDigest(digest, v.signer.privateKey)).to.equal(v.signature);
    expect(spec.hex(spec.cat(spec.bytes(v.signer.address), spec.bytes(v.signature)))).to.equal(v.signatureLineBytes);
    const line = spec.signatureLine(v.origin, v.signer.address, v.signature);
    expect(line).to.equal(v.signatureLine);
    expect(spec.utf8(line).subarray(0, 4).toString("hex")).to.equal("e2809420"); // em dash, space
    expect(body + "\n" + line).to.equal(v.note);
    expect(v.origin).to.match(/^dcl\/31337\/[^\s+\u2014]+$/u);
  });

  it("is what dcl's checkpoint signer writes, and dcl's parser and verifier accept it", async () => {
    const log = { size: () => v.treeSize, root: async (n: number) => (n === v.treeSize ? fromHex(v.root) : expect.fail(`size ${n}`)) };
    const signed = await new CheckpointSigner(log as unknown as MerkleLog, new Wallet(v.signer.privateKey), v.origin).sign();
    expect(signed.note).to.equal(v.note);
    const parsed = parseCheckpoint(v.note);
    expect(parsed.body).to.equal(v.body);
    expect(parsed.checkpoint).to.deep.include({ origin: v.origin, size: v.treeSize });
    expect(toHex(parsed.checkpoint.root)).to.equal(v.root);
    expect(verifyCheckpointSignature(v.note, [v.signer.address])).to.equal(v.signer.address);
    // Another key's line under another name is ignored; a changed body no longer verifies.
    const witness = `\u2014 witness.example/w1 ${Buffer.alloc(68, 7).toString("base64")}\n`;
    expect(verifyCheckpointSignature(v.note + witness, [v.signer.address])).to.equal(v.signer.address);
    expect(throws(() => verifyCheckpointSignature(v.note.replace(`\n${v.treeSize}\n`, `\n${v.treeSize + 1}\n`), [v.signer.address]))).to.equal(true);
  });
});
