import { bytesEqual, toHex } from "./encoding";
import { VerificationError } from "./errors";
import { checkHashLength } from "./hasher";
import { chainBorderRight, chainInner, chainInnerRight } from "./inclusion";
import { checkSize, decomposeInclusionProof, trailingZeros } from "./tree-math";

// RFC 9162 §2.1.4.2, in the shape of transparency-dev/merkle's proof.VerifyConsistency.

function rootMismatch(which: "root1" | "root2", size1: number, size2: number, computed: Uint8Array, expected: Uint8Array): VerificationError {
  return new VerificationError(
    "CONSISTENCY_ROOT_MISMATCH",
    `consistency proof ${size1} → ${size2} leads to ${which} ${toHex(computed)}, want ${toHex(expected)}`,
    { which, size1, size2, computed: toHex(computed), expected: toHex(expected) },
  );
}

/** Throws a VerificationError unless `proof` shows the tree (`size1`, `root1`) is a prefix of (`size2`, `root2`). */
export function verifyConsistency(size1: number, size2: number, root1: Uint8Array, root2: Uint8Array, proof: Uint8Array[]): void {
  checkSize(size1, "size1");
  checkSize(size2, "size2");
  if (size2 < size1) {
    throw new VerificationError("CONSISTENCY_SIZE_ORDER", `size1 ${size1} is greater than size2 ${size2}`, { size1, size2 });
  }
  if (size1 === 0) {
    // Every tree extends the empty tree: such a proof would prove nothing, so it is refused.
    throw new VerificationError("CONSISTENCY_FROM_EMPTY", `consistency from size 0 to ${size2} proves nothing`, { size1, size2 });
  }
  if (size1 === size2) {
    if (proof.length !== 0) {
      throw new VerificationError("CONSISTENCY_PROOF_LENGTH", `equal sizes ${size1} need an empty proof, got ${proof.length} hashes`, {
        size1, size2, got: proof.length, want: 0,
      });
    }
    if (!bytesEqual(root1, root2)) throw rootMismatch("root2", size1, size2, root2, root1);
    return;
  }
  checkHashLength(root1, "root1");
  checkHashLength(root2, "root2");

  // The proof is the tail of an inclusion proof of leaf size1-1 in size2, starting at the
  // level of the largest complete subtree that ends at size1.
  let { inner, border } = decomposeInclusionProof(size1 - 1, size2);
  const shift = trailingZeros(BigInt(size1));
  inner -= shift;
  // When size1 is itself a power of two that subtree is root1 and the proof omits it.
  const s1 = BigInt(size1);
  const start = (s1 & (s1 - 1n)) === 0n ? 0 : 1;
  const want = start + inner + border;
  if (proof.length !== want) {
    throw new VerificationError(
      "CONSISTENCY_PROOF_LENGTH",
      `consistency proof ${size1} → ${size2} has ${proof.length} hashes, want ${want}`,
      { size1, size2, got: proof.length, want },
    );
  }
  proof.forEach((h, i) => checkHashLength(h, `consistency proof hash ${i}`));
  const seed = start === 0 ? root1 : proof[0];
  const path = proof.slice(start);
  const mask = Number(BigInt(size1 - 1) >> BigInt(shift));

  const hash1 = chainBorderRight(chainInnerRight(seed, path.slice(0, inner), mask), path.slice(inner));
  if (!bytesEqual(hash1, root1)) throw rootMismatch("root1", size1, size2, hash1, root1);
  const hash2 = chainBorderRight(chainInner(seed, path.slice(0, inner), mask), path.slice(inner));
  if (!bytesEqual(hash2, root2)) throw rootMismatch("root2", size1, size2, hash2, root2);
}
