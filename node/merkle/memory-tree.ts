/**
 * An RFC 6962 tree held in memory, for bounded sets such as one transfer batch's records (the
 * access log, which grows without bound, lives in LevelDB: log/merkle-log.ts). Built bottom-up:
 * pairs are hashed level by level and a lone last node is carried up unchanged, which yields exactly
 * RFC 6962's left-balanced tree (split at the largest power of two below n). Hashed by OpenSSL
 * (node/log/tree-hasher.ts): the operator builds one per commit for its receipts, and with
 * @noble/hashes that was 7 % of a 1,000-call request's CPU (npm run bench -- --profile).
 */
import { leafHash, nodeHash } from "../log/tree-hasher";
import { emptyRoot } from "../verify";

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
    return this.inclusionPath(index).map(([level, position]) => this.levels[level][position]);
  }

  /** Where the hashes of leaf `index`'s inclusion proof are, bottom up: [level, position] for node(level, position). */
  inclusionPath(index: number): [number, number][] {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) throw new RangeError(`leaf ${index} not in a tree of ${this.size}`);
    const path: [number, number][] = [];
    let i = index;
    for (let level = 0; level < this.levels.length - 1; level++) {
      const sibling = i ^ 1;
      if (sibling < this.levels[level].length) path.push([level, sibling]);
      i >>= 1;
    }
    return path;
  }

  /**
   * The node at `position` of `level` as built (pairs hashed, a lone last node carried up), so
   * node(l, p) for a complete subtree is subtree(l, p); for the receipts of one batch, which share
   * their upper nodes (node/access/access-ledger.ts encodes each once).
   */
  node(level: number, position: number): Uint8Array {
    const row = this.levels[level];
    if (!row || !Number.isInteger(position) || position < 0 || position >= row.length) throw new RangeError(`no node ${position} at level ${level} in a tree of ${this.size}`);
    return row[position];
  }
}
