import { bytesEqual, toHex } from "./encoding";
import { VerificationError } from "./errors";
import { checkHashLength, emptyRoot, nodeHash } from "./hasher";
import { checkSize } from "./tree-math";

/*
 * RFC 6962 range proofs ("compact ranges", as transparency-dev/merkle's compact package): that the
 * leaves [begin, end) of the tree of `size` are exactly a given list, no more, no fewer, in that
 * order. Any range [a, b) of leaves splits into the fewest complete subtrees (perfect binary trees
 * aligned to their size): `compactRange(a, b)`. The proof gives the subtree hashes of
 * compactRange(0, begin) (left of the range) and of compactRange(end, size) (right of it); the
 * verifier appends the range's leaf hashes to the left subtrees and then the right subtrees, merging
 * equal-height neighbours as a log's append does, which yields the subtrees of compactRange(0, size),
 * and folds them from the right into the root. A dropped, added, changed or reordered leaf changes
 * that root.
 */

/** A complete subtree: `level` (height: it covers 2^level leaves) and `index` (its position among subtrees of that height). */
export interface Subtree {
  level: number;
  index: number;
}

function checkRange(begin: number, end: number, size: number): void {
  checkSize(size, "tree size");
  if (!Number.isSafeInteger(begin) || !Number.isSafeInteger(end) || begin < 0 || begin > end || end > size) {
    throw new VerificationError("RANGE_INVALID", `range [${begin}, ${end}) is not within the tree of size ${size}`, { begin, end, size });
  }
}

/** The fewest complete subtrees covering leaves [begin, end), left to right; each the largest aligned one that fits. */
export function compactRange(begin: number, end: number): Subtree[] {
  const out: Subtree[] = [];
  let start = begin;
  while (start < end) {
    let level = 0;
    while (start % 2 ** (level + 1) === 0 && start + 2 ** (level + 1) <= end) level++;
    out.push({ level, index: start / 2 ** level });
    start += 2 ** level;
  }
  return out;
}

/** How many subtree hashes a range proof of [begin, end) in the tree of `size` has left and right of the range. */
export function rangeProofShape(begin: number, end: number, size: number): { left: number; right: number } {
  checkRange(begin, end, size);
  return { left: compactRange(0, begin).length, right: compactRange(end, size).length };
}

/**
 * The root of the tree of `size` whose leaves from `begin` on are `leaves`, given the hashes of
 * compactRange(0, begin) (`left`) and of compactRange(begin + leaves.length, size) (`right`).
 */
export function rootFromRange(begin: number, size: number, left: Uint8Array[], leaves: Uint8Array[], right: Uint8Array[]): Uint8Array {
  const end = begin + leaves.length;
  const shape = rangeProofShape(begin, end, size);
  if (left.length !== shape.left || right.length !== shape.right) {
    throw new VerificationError(
      "RANGE_PROOF_LENGTH",
      `range proof of [${begin}, ${end}) in size ${size} has ${left.length} left and ${right.length} right hashes, want ${shape.left} and ${shape.right}`,
      { begin, end, size, left: left.length, right: right.length, wantLeft: shape.left, wantRight: shape.right },
    );
  }
  left.forEach((h, i) => checkHashLength(h, `range proof left hash ${i}`));
  leaves.forEach((h, i) => checkHashLength(h, `leaf hash ${begin + i}`));
  right.forEach((h, i) => checkHashLength(h, `range proof right hash ${i}`));
  if (size === 0) return emptyRoot();
  // The stack holds compactRange(0, covered): strictly decreasing heights, as a log's right border.
  const stack = compactRange(0, begin).map((s, i) => ({ level: s.level, hash: left[i] }));
  const push = (level: number, hash: Uint8Array) => {
    stack.push({ level, hash });
    while (stack.length >= 2 && stack[stack.length - 1].level === stack[stack.length - 2].level) {
      const r = stack.pop()!;
      const l = stack.pop()!;
      stack.push({ level: l.level + 1, hash: nodeHash(l.hash, r.hash) });
    }
  };
  for (const h of leaves) push(0, h);
  compactRange(end, size).forEach((s, i) => push(s.level, right[i]));
  let root = stack[stack.length - 1].hash;
  for (let i = stack.length - 2; i >= 0; i--) root = nodeHash(stack[i].hash, root);
  return root;
}

/** Throws a VerificationError unless `leaves` are exactly the leaves [begin, begin + leaves.length) of the tree of `size` with `root`. */
export function verifyRange(begin: number, size: number, left: Uint8Array[], leaves: Uint8Array[], right: Uint8Array[], root: Uint8Array): void {
  checkHashLength(root, "root");
  const computed = rootFromRange(begin, size, left, leaves, right);
  if (!bytesEqual(computed, root)) {
    const end = begin + leaves.length;
    throw new VerificationError(
      "RANGE_ROOT_MISMATCH",
      `the ${leaves.length} leaves given as [${begin}, ${end}) with the range proof lead to root ${toHex(computed)} of size ${size}, want ${toHex(root)}: they are not exactly the log's leaves [${begin}, ${end})`,
      { begin, end, size, computed: toHex(computed), expected: toHex(root) },
    );
  }
}
