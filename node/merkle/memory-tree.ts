/**
 * An RFC 6962 tree held in memory, for bounded sets such as one transfer batch's records (the
 * access log, which grows without bound, lives in LevelDB: log/merkle-log.ts). Built bottom-up:
 * pairs are hashed level by level and a lone last node is carried up unchanged, which yields exactly
 * RFC 6962's left-balanced tree (split at the largest power of two below n).
 */
import { emptyRoot, leafHash, nodeHash } from "../verify";

/** A complete in-memory Merkle tree over a list of leaves. */
export class MemoryTree {
  private readonly levels: Uint8Array[][];

  /** Builds the tree over the leaf data `leaves` (each hashed with the 0x00 prefix). */
  constructor(leaves: Uint8Array[]) {
    this.levels = MemoryTree.build(leaves.map((l) => leafHash(l)));
  }

  /** A tree whose leaf hashes are `hashes` as given (e.g. the leaf hashes of log entries). */
  static fromLeafHashes(hashes: Uint8Array[]): MemoryTree {
    const tree = Object.create(MemoryTree.prototype) as MemoryTree;
    (tree as unknown as { levels: Uint8Array[][] }).levels = MemoryTree.build(hashes);
    return tree;
  }

  private static build(bottom: Uint8Array[]): Uint8Array[][] {
    const levels: Uint8Array[][] = [bottom];
    while (levels[levels.length - 1].length > 1) {
      const below = levels[levels.length - 1];
      const above: Uint8Array[] = [];
      for (let i = 0; i < below.length; i += 2) above.push(i + 1 < below.length ? nodeHash(below[i], below[i + 1]) : below[i]);
      levels.push(above);
    }
    return levels;
  }

  /** Number of leaves. */
  get size(): number {
    return this.levels[0].length;
  }

  /** Root hash (SHA-256 of the empty string for no leaves). */
  root(): Uint8Array {
    return this.size === 0 ? emptyRoot() : this.levels[this.levels.length - 1][0];
  }

  /** Leaf hash of leaf `index`. */
  leafHash(index: number): Uint8Array {
    return this.levels[0][index];
  }

  /** Hash of the complete subtree of height `level` at position `index`: leaves [index·2^level, (index+1)·2^level). */
  subtree(level: number, index: number): Uint8Array {
    if (!Number.isInteger(level) || !Number.isInteger(index) || level < 0 || index < 0 || (index + 1) * 2 ** level > this.size) {
      throw new RangeError(`no complete subtree of height ${level} at ${index} in a tree of ${this.size}`);
    }
    return this.levels[level][index];
  }

  /** Inclusion proof (audit path) of leaf `index`. */
  inclusionProof(index: number): Uint8Array[] {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) throw new RangeError(`leaf ${index} not in a tree of ${this.size}`);
    const proof: Uint8Array[] = [];
    let i = index;
    for (let level = 0; level < this.levels.length - 1; level++) {
      const nodes = this.levels[level];
      const sibling = i ^ 1;
      if (sibling < nodes.length) proof.push(nodes[sibling]);
      i >>= 1;
    }
    return proof;
  }
}
