/**
 * RFC 6962 roots and consistency proofs of a tree of any size (10^9 included) whose leaves are all
 * the same hash: the hash of a run of identical leaves depends only on its length, so MTH and
 * SUBPROOF (RFC 6962 §2.1, §2.1.2) recurse on sizes with a memo instead of on leaves. Used to
 * measure anchoring gas at sizes no test could build leaf by leaf.
 */
import { createHash } from "node:crypto";

const sha256 = (...parts: Uint8Array[]): Buffer => createHash("sha256").update(Buffer.concat(parts)).digest();
const largestPowerOfTwoBelow = (n: number): number => 2 ** Math.floor(Math.log2(n - 1));

/** A tree of identical leaves `leaf` (a leaf hash). */
export class UniformTree {
  private readonly memo = new Map<number, Buffer>();

  constructor(private readonly leaf: Buffer) {}

  /** MTH of the first `n` leaves (n ≥ 1). */
  root(n: number): Buffer {
    if (n === 1) return this.leaf;
    const hit = this.memo.get(n);
    if (hit) return hit;
    const k = largestPowerOfTwoBelow(n);
    const h = sha256(Buffer.from([0x01]), this.root(k), this.root(n - k));
    this.memo.set(n, h);
    return h;
  }

  /** PROOF(m, D[n]): the consistency proof from size m to size n (0 < m ≤ n). */
  consistency(m: number, n: number): Buffer[] {
    return this.subproof(m, n, true);
  }

  private subproof(m: number, n: number, complete: boolean): Buffer[] {
    if (m === n) return complete ? [] : [this.root(m)];
    const k = largestPowerOfTwoBelow(n);
    // D[k:n] holds n − k identical leaves, so its hash is root(n − k).
    if (m <= k) return [...this.subproof(m, k, complete), this.root(n - k)];
    return [...this.subproof(m - k, n - k, false), this.root(k)];
  }
}
