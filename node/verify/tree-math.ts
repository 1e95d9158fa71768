import { VerificationError } from "./errors";

// Tree positions are JS numbers (safe integers, up to 2^53 - 1 leaves); bit operations go
// through bigint because JS bitwise operators truncate to 32 bits.

/** Throws unless `n` is a non-negative safe integer; `what` names it. */
export function checkSize(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new VerificationError("TREE_SIZE_INVALID", `${what} ${n} is not a non-negative safe integer`, { what, value: n });
  }
}

/** Number of bits needed to write `x` (0 for 0). */
export function bitLength(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length;
}

/** Number of set bits in `x`. */
export function popCount(x: bigint): number {
  let n = 0;
  for (; x > 0n; x >>= 1n) n += Number(x & 1n);
  return n;
}

/** Number of trailing zero bits of `x` (x > 0). */
export function trailingZeros(x: bigint): number {
  let n = 0;
  for (; (x & 1n) === 0n; x >>= 1n) n++;
  return n;
}

/** Splits an inclusion proof for `index` in a tree of `size` into its inner and right-border parts. */
export function decomposeInclusionProof(index: number, size: number): { inner: number; border: number } {
  const inner = bitLength(BigInt(index) ^ BigInt(size - 1));
  const border = popCount(BigInt(index) >> BigInt(inner));
  return { inner, border };
}
