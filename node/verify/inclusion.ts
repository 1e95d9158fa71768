import { bytesEqual, toHex } from "./encoding";
import { VerificationError } from "./errors";
import { checkHashLength, nodeHash } from "./hasher";
import { checkSize, decomposeInclusionProof } from "./tree-math";

// RFC 9162 §2.1.3.2, in the shape of transparency-dev/merkle's proof.RootFromInclusionProof.

/** Hashes `seed` up the inner part of a path, taking the side from the bits of `index`. */
export function chainInner(seed: Uint8Array, proof: Uint8Array[], index: number): Uint8Array {
  let bits = BigInt(index);
  for (const h of proof) {
    seed = (bits & 1n) === 0n ? nodeHash(seed, h) : nodeHash(h, seed);
    bits >>= 1n;
  }
  return seed;
}

/** Like chainInner but only through nodes where `index` has a 1 bit (the old root's right border). */
export function chainInnerRight(seed: Uint8Array, proof: Uint8Array[], index: number): Uint8Array {
  let bits = BigInt(index);
  for (const h of proof) {
    if ((bits & 1n) === 1n) seed = nodeHash(h, seed);
    bits >>= 1n;
  }
  return seed;
}

/** Hashes `seed` with each left sibling on the tree's right border. */
export function chainBorderRight(seed: Uint8Array, proof: Uint8Array[]): Uint8Array {
  return proof.reduce((acc, h) => nodeHash(h, acc), seed);
}

/** The root that an inclusion proof of `leafHash` at `index` in a tree of `size` leads to. */
export function rootFromInclusionProof(index: number, size: number, leafHash: Uint8Array, proof: Uint8Array[]): Uint8Array {
  checkSize(size, "tree size");
  if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
    throw new VerificationError("INCLUSION_INDEX_OUT_OF_RANGE", `leaf index ${index} is not within tree size ${size}`, { index, size });
  }
  checkHashLength(leafHash, "leaf hash");
  const { inner, border } = decomposeInclusionProof(index, size);
  if (proof.length !== inner + border) {
    throw new VerificationError(
      "INCLUSION_PROOF_LENGTH",
      `inclusion proof for index ${index} in size ${size} has ${proof.length} hashes, want ${inner + border}`,
      { index, size, got: proof.length, want: inner + border },
    );
  }
  proof.forEach((h, i) => checkHashLength(h, `inclusion proof hash ${i}`));
  const res = chainInner(leafHash, proof.slice(0, inner), index);
  return chainBorderRight(res, proof.slice(inner));
}

/** Throws a VerificationError unless `proof` shows `leafHash` at `index` in the tree of `size` with `root`. */
export function verifyInclusion(index: number, size: number, leafHash: Uint8Array, proof: Uint8Array[], root: Uint8Array): void {
  checkHashLength(root, "root");
  const computed = rootFromInclusionProof(index, size, leafHash, proof);
  if (!bytesEqual(computed, root)) {
    throw new VerificationError(
      "INCLUSION_ROOT_MISMATCH",
      `inclusion proof for index ${index} in size ${size} leads to root ${toHex(computed)}, want ${toHex(root)}`,
      { index, size, computed: toHex(computed), expected: toHex(root) },
    );
  }
}
