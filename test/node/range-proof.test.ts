/**
 * RFC 6962 range proofs (node/verify/range.ts) against the naive reference tree: the proof the log
 * serves for any [begin, end) leads to the root, and no proof leads to it for a list of leaves that
 * is not exactly the range — one dropped, one added (from outside the range or anywhere), two
 * swapped, one changed, or the range shifted.
 */
import { expect } from "chai";
import fc from "fast-check";
import { sha256 } from "@noble/hashes/sha2";
import { MerkleLog } from "../../node/log/merkle-log";
import { encodeEntry } from "../../node/log/entry";
import { compactRange, emptyRoot, leafHash, rangeProofShape, rootFromRange, verifyRange, VerificationError } from "../../node/verify";
import { sampleEntry } from "./entry-samples";
import { removeDir, tempDir } from "./log-helpers";
import { referenceRoot } from "./reference-tree";

/** Distinct leaf hashes 0..n-1. */
const leavesOf = (n: number) => Array.from({ length: n }, (_, i) => sha256(new TextEncoder().encode(`leaf ${i}`)));

/** The reference hashes of compactRange(a, b) over `leaves`. */
const subtreeHashes = (leaves: Uint8Array[], a: number, b: number) =>
  compactRange(a, b).map(({ level, index }) => referenceRoot(leaves.slice(index * 2 ** level, (index + 1) * 2 ** level)));

/** A tree size and a range in it. */
const rangeArb = fc
  .oneof(fc.integer({ min: 0, max: 20 }), fc.noBias(fc.integer({ min: 21, max: 300 })))
  .chain((size) => fc.tuple(fc.constant(size), fc.integer({ min: 0, max: size }), fc.integer({ min: 0, max: size })))
  .map(([size, x, y]) => ({ size, begin: Math.min(x, y), end: Math.max(x, y) }));

function code(fn: () => void): string {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(VerificationError);
    return (err as VerificationError).code;
  }
  return "accepted";
}

describe("RFC 6962 range proofs", function () {
  it("splits a range into the fewest aligned complete subtrees", () => {
    expect(compactRange(0, 7)).to.deep.equal([{ level: 2, index: 0 }, { level: 1, index: 2 }, { level: 0, index: 6 }]);
    expect(compactRange(3, 13)).to.deep.equal([{ level: 0, index: 3 }, { level: 2, index: 1 }, { level: 2, index: 2 }, { level: 0, index: 12 }]);
    expect(compactRange(5, 5)).to.deep.equal([]);
    expect(rangeProofShape(3, 13, 16)).to.deep.equal({ left: 2, right: 2 });
    expect(code(() => rangeProofShape(4, 3, 10))).to.equal("RANGE_INVALID");
    expect(code(() => rangeProofShape(0, 11, 10))).to.equal("RANGE_INVALID");
  });

  it("recomputes the root of every size from any range and its left and right subtree hashes (fast-check)", () => {
    fc.assert(
      fc.property(rangeArb, ({ size, begin, end }) => {
        const leaves = leavesOf(size);
        const left = subtreeHashes(leaves, 0, begin);
        const right = subtreeHashes(leaves, end, size);
        const root = referenceRoot(leaves);
        expect(rootFromRange(begin, size, left, leaves.slice(begin, end), right)).to.deep.equal(root);
        verifyRange(begin, size, left, leaves.slice(begin, end), right, root);
      }),
      { numRuns: 400 },
    );
    expect(rootFromRange(0, 0, [], [], [])).to.deep.equal(emptyRoot());
  });

  it("accepts no list of leaves that is not exactly the range: dropped, added, swapped, changed or shifted (fast-check)", () => {
    const mutation = fc.constantFrom("drop", "add-outside", "add-any", "swap", "change", "shift", "proof");
    fc.assert(
      fc.property(rangeArb.filter((r) => r.end > r.begin && r.size >= 2), mutation, fc.nat(), fc.nat(), ({ size, begin, end }, how, x, y) => {
        const leaves = leavesOf(size);
        const left = subtreeHashes(leaves, 0, begin);
        const right = subtreeHashes(leaves, end, size);
        const root = referenceRoot(leaves);
        let range = leaves.slice(begin, end);
        let at = begin;
        let [l, r] = [left, right];
        const i = x % range.length;
        switch (how) {
          case "drop":
            range = range.filter((_, k) => k !== i);
            break;
          case "add-outside": {
            const outside = leaves.filter((_, k) => k < begin || k >= end);
            if (outside.length === 0) return;
            range = [...range.slice(0, i), outside[y % outside.length], ...range.slice(i)];
            break;
          }
          case "add-any":
            range = [...range.slice(0, i), leaves[y % size], ...range.slice(i)];
            break;
          case "swap": {
            const j = y % range.length;
            if (i === j) return;
            range = range.map((h, k) => (k === i ? range[j] : k === j ? range[i] : h));
            break;
          }
          case "change":
            range = range.map((h, k) => (k === i ? sha256(h) : h));
            break;
          case "shift":
            at = begin + (begin > 0 && y % 2 === 0 ? -1 : 1);
            if (at + range.length > size) return;
            break;
          case "proof":
            if (left.length + right.length === 0) return;
            if (y % 2 === 0 && left.length > 0) l = left.map((h, k) => (k === y % left.length ? sha256(h) : h));
            else if (right.length > 0) r = right.map((h, k) => (k === y % right.length ? sha256(h) : h));
            else l = left.map((h, k) => (k === y % left.length ? sha256(h) : h));
            break;
        }
        expect(code(() => verifyRange(at, size, l, range, r, root))).to.be.oneOf(["RANGE_ROOT_MISMATCH", "RANGE_PROOF_LENGTH", "RANGE_INVALID"]);
      }),
      { numRuns: 1000 },
    );
  });

  it("gets from the log the same subtree hashes as the reference, for any range of a 300-entry log (fast-check)", async function () {
    this.timeout(120_000);
    const dir = tempDir("dcl-range-");
    const log = await MerkleLog.open(dir);
    try {
      const entries = Array.from({ length: 300 }, (_, i) => sampleEntry(i));
      await log.appendMany(entries);
      const leaves = entries.map((e) => leafHash(encodeEntry(e)));
      await fc.assert(
        fc.asyncProperty(rangeArb, async ({ size, begin, end }) => {
          const proof = await log.rangeProof(begin, end, size);
          expect(proof.left).to.deep.equal(subtreeHashes(leaves, 0, begin));
          expect(proof.right).to.deep.equal(subtreeHashes(leaves, end, size));
          verifyRange(begin, size, proof.left, leaves.slice(begin, end), proof.right, await log.root(size));
        }),
        { numRuns: 150 },
      );
    } finally {
      await log.close();
      removeDir(dir);
    }
  });
});
