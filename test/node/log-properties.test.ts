import { expect } from "chai";
import fc from "fast-check";
import type { AccessLogEntry } from "../../node/log/entry";
import { MerkleLog } from "../../node/log/merkle-log";
import { VerificationError, leafHash, toHex, verifyConsistency, verifyInclusion } from "../../node/verify";
import { encodeEntry } from "../../node/log/entry";
import { entryArbitrary } from "./entry-samples";
import { removeDir, tempDir } from "./log-helpers";
import { referenceRoot } from "./reference-tree";

// Distinct entries (no two identical leaves: with duplicate leaves a proof for one index is
// honestly also a proof for the other, so the "changed index" property would not hold).
// Tree sizes 1..300, spread over the whole range (fast-check would otherwise favour tiny ones).
const sizeArb = fc.oneof(fc.integer({ min: 1, max: 20 }), fc.noBias(fc.integer({ min: 21, max: 300 })));
// The log is in time order: the times drawn are sorted before they are appended.
const inTimeOrder = (entries: AccessLogEntry[]) => {
  const times = entries.map((e) => e.time).sort((a, b) => a - b);
  return entries.map((e, i) => ({ ...e, time: times[i] }));
};
const entriesArb = sizeArb.chain((n) => fc.uniqueArray(entryArbitrary, { minLength: n, maxLength: n, selector: (e) => e.requestHash }).map(inTimeOrder));
// How the entries arrive: chunk sizes, each chunk as one appendMany or as concurrent appends.
const chunksArb = fc.array(fc.record({ size: fc.integer({ min: 1, max: 64 }), concurrent: fc.boolean() }), { minLength: 1, maxLength: 12 });

interface Built {
  log: MerkleLog;
  dir: string;
  leaves: Uint8Array[];
}

/** A log holding `entries`, appended chunk by chunk and reopened once halfway. */
async function build(entries: AccessLogEntry[], chunks: { size: number; concurrent: boolean }[]): Promise<Built> {
  const dir = tempDir("dcl-prop-");
  let log = await MerkleLog.open(dir);
  let next = 0;
  let reopened = false;
  for (let c = 0; next < entries.length; c++) {
    const { size, concurrent } = chunks[c % chunks.length];
    const chunk = entries.slice(next, next + size);
    const results = concurrent ? await Promise.all(chunk.map((e) => log.append(e))) : await log.appendMany(chunk);
    expect(results.map((r) => r.index)).to.deep.equal(chunk.map((_, i) => next + i));
    next += chunk.length;
    if (!reopened && next * 2 >= entries.length) {
      await log.close();
      log = await MerkleLog.open(dir);
      reopened = true;
    }
  }
  return { log, dir, leaves: entries.map((e) => leafHash(encodeEntry(e))) };
}

async function withLog(entries: AccessLogEntry[], chunks: { size: number; concurrent: boolean }[], body: (b: Built) => Promise<void>): Promise<void> {
  const built = await build(entries, chunks);
  try {
    await body(built);
  } finally {
    await built.log.close();
    removeDir(built.dir);
  }
}

function rejects(fn: () => void): void {
  expect(fn).to.throw(VerificationError);
}

function flipBit(b: Uint8Array, bit: number): Uint8Array {
  const c = Uint8Array.from(b);
  c[(bit >> 3) % c.length] ^= 1 << (bit & 7);
  return c;
}

describe("MerkleLog properties (fast-check)", function () {
  it("serves roots equal to the reference, and inclusion and consistency proofs that verify, at every size", async function () {
    await fc.assert(
      fc.asyncProperty(entriesArb, chunksArb, async (entries, chunks) => {
        await withLog(entries, chunks, async ({ log, leaves }) => {
          const n = leaves.length;
          expect(log.size()).to.equal(n);
          const roots: Uint8Array[] = [new Uint8Array(0)];
          for (let m = 1; m <= n; m++) roots.push(await log.root(m));
          // Reference roots for every size, by the RFC's recursion over the leaves in memory.
          for (let m = 1; m <= n; m++) expect(toHex(roots[m]), `root(${m})`).to.equal(toHex(referenceRoot(leaves.slice(0, m))));
          for (let i = 0; i < n; i++) verifyInclusion(i, n, leaves[i], await log.inclusionProof(i, n), roots[n]);
          for (let m = 1; m <= n; m++) verifyConsistency(m, n, roots[m], roots[n], await log.consistencyProof(m, n));
          // And between earlier sizes.
          for (let m = 1; m < n; m += 7) {
            const size = m + ((m * 13) % (n - m + 1));
            verifyInclusion(m - 1, size, leaves[m - 1], await log.inclusionProof(m - 1, size), roots[size]);
            verifyConsistency(m, size, roots[m], roots[size], await log.consistencyProof(m, size));
          }
        });
      }),
      { numRuns: 30 },
    );
  });

  it("serves no inclusion proof that verifies for a changed leaf, index or size", async function () {
    await fc.assert(
      fc.asyncProperty(
        entriesArb.filter((e) => e.length >= 2),
        chunksArb,
        fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 20 }),
        async (entries, chunks, picks) => {
          await withLog(entries, chunks, async ({ log, leaves }) => {
            const N = leaves.length;
            for (const [a, b, c, bit] of picks) {
              const n = 1 + (a % N);
              const i = b % n;
              const proof = await log.inclusionProof(i, n);
              const root = await log.root(n);
              verifyInclusion(i, n, leaves[i], proof, root);
              rejects(() => verifyInclusion(i, n, flipBit(leaves[i], bit), proof, root));
              if (n >= 2) {
                const j = (i + 1 + (c % (n - 1))) % n; // any other index in the tree
                rejects(() => verifyInclusion(j, n, leaves[i], proof, root));
              }
              const n2 = i + 1 + (c % (N - i)); // any other size that holds leaf i
              if (n2 !== n) rejects(() => verifyInclusion(i, n2, leaves[i], proof, referenceRoot(leaves.slice(0, n2))));
              if (proof.length > 0) {
                const k = c % proof.length;
                rejects(() => verifyInclusion(i, n, leaves[i], proof.map((h, x) => (x === k ? flipBit(h, bit) : h)), root));
              }
            }
          });
        },
      ),
      { numRuns: 40 },
    );
  });

  it("serves no consistency proof that verifies for a changed size, root or proof hash", async function () {
    await fc.assert(
      fc.asyncProperty(
        entriesArb.filter((e) => e.length >= 3),
        chunksArb,
        fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 20 }),
        async (entries, chunks, picks) => {
          await withLog(entries, chunks, async ({ log, leaves }) => {
            const N = log.size();
            const rootAt = (size: number) => referenceRoot(leaves.slice(0, size));
            for (const [a, b, c, bit] of picks) {
              const n = 2 + (a % (N - 1));
              const m = 1 + (b % (n - 1)); // m < n
              const proof = await log.consistencyProof(m, n);
              const [r1, r2] = [await log.root(m), await log.root(n)];
              verifyConsistency(m, n, r1, r2, proof);
              rejects(() => verifyConsistency(m, n, flipBit(r1, bit), r2, proof));
              rejects(() => verifyConsistency(m, n, r1, flipBit(r2, bit), proof));
              const k = c % proof.length;
              rejects(() => verifyConsistency(m, n, r1, r2, proof.map((h, x) => (x === k ? flipBit(h, bit) : h))));
              const m2 = 1 + (c % n); // another old size (≤ n)
              if (m2 !== m) rejects(() => verifyConsistency(m2, n, rootAt(m2), r2, proof));
              const n2 = m + 1 + (c % (N - m)); // another new size (> m)
              if (n2 !== n) rejects(() => verifyConsistency(m, n2, r1, rootAt(n2), proof));
            }
          });
        },
      ),
      { numRuns: 40 },
    );
  });
});
