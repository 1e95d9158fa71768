/**
 * The receipts the operator gave, kept: one record per signed batch — one synced commit of the log
 * or several consecutive ones, which may hold several requests' entries — (its first index, count, batch root, signer and signature), so that an evidence bundle carries the very promise a
 * department received when its call was logged — signed by the key valid then — rather than a new
 * signature made when the bundle is. Not derivable from the log (signatures are not in it), so a
 * lost record only means the bundle falls back to a fresh receipt; writes are not synced.
 */
import type { AbstractSublevel } from "abstract-level";
import type { MerkleLog } from "../log/merkle-log";
import { MemoryTree } from "../merkle/memory-tree";
import { toHex, type Receipt } from "../verify";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Table = AbstractSublevel<any, any, string, any>;

/** One signed batch of receipts. */
export interface ReceiptBatch {
  first: number;
  count: number;
  root: string;
  signer: string;
  signature: string;
}

const pad = (n: number) => n.toString(16).padStart(12, "0");

/** Signed receipt batches by first index. */
export class ReceiptStore {
  private readonly table: Table;
  /** Batch trees recently rebuilt (a bundle often holds several entries of one batch). */
  private readonly trees = new Map<number, MemoryTree>();

  constructor(db: { sublevel: (name: string, options: object) => unknown }, private readonly log: MerkleLog) {
    this.table = db.sublevel("receipts", { valueEncoding: "json" }) as Table;
  }

  /** Batches being written, by first index: found by receiptFor before their write lands (callers need not wait for it). */
  private readonly writing = new Map<number, ReceiptBatch>();

  /** Keeps batch `b`: found at once, on disk when the promise resolves (not synced: see above). */
  put(b: ReceiptBatch): Promise<void> {
    this.writing.set(b.first, b);
    const written = this.table.put(pad(b.first), b);
    const done = () => void (this.writing.get(b.first) === b && this.writing.delete(b.first));
    written.then(done, done);
    return written;
  }

  /** The receipt given for entry `index` when it was logged, or undefined when none was kept. */
  async receiptFor(index: number, origin: string): Promise<Receipt | undefined> {
    let batch: ReceiptBatch | undefined;
    for (const b of this.writing.values()) if (b.first <= index && index < b.first + b.count) batch = b;
    if (!batch) for await (const value of this.table.values({ lte: pad(index), reverse: true, limit: 1 })) batch = value as ReceiptBatch;
    if (!batch || index >= batch.first + batch.count) return undefined;
    let tree = this.trees.get(batch.first);
    if (!tree) {
      const leaves = await Promise.all(Array.from({ length: batch.count }, (_, i) => this.log.leafHashAt(batch!.first + i)));
      tree = MemoryTree.fromLeafHashes(leaves);
      if (toHex(tree.root()) !== batch.root.toLowerCase()) return undefined; // not this log's batch: never hand out a receipt that cannot verify
      if (this.trees.size >= 16) this.trees.delete(this.trees.keys().next().value!);
      this.trees.set(batch.first, tree);
    }
    const position = index - batch.first;
    return {
      origin, index, leafHash: toHex(tree.leafHash(position)),
      batch: { first: batch.first, count: batch.count, root: batch.root, proof: tree.inclusionProof(position).map(toHex) },
      signer: batch.signer, signature: batch.signature,
    };
  }
}
