/**
 * The facts a ledger node judges receipts posted back to it by (POST /v1/receipts/check): its
 * indexer's view of the chain (who operates each log, which keys each department had, the latest
 * anchored checkpoint of each log — read from the chain's events, never from the log itself) and,
 * for proofs, its own log. A node can prove inclusion only in the log it operates; receipts of
 * other logs that an anchor covers are left unchecked (ask that log's node, or `dcl receipts check`).
 */
import type { Indexer } from "../indexer/indexer";
import type { MerkleLog } from "../log/merkle-log";
import { toHex } from "../verify";
import { DclError } from "../errors";
import type { AnchoredCheckpoint, ReceiptSources } from "./receipt-check";

/** What the node's sources read. */
export interface NodeSourceOptions {
  chainId: bigint;
  indexer: Pick<Indexer, "logOperator" | "checkpoints" | "isSigner" | "wasSigner">;
  log: Pick<MerkleLog, "size" | "leafHashAt" | "inclusionProof" | "root">;
  /** The id of the log this node operates. */
  logId: string;
}

/** Sources over a node's indexer and log. */
export function nodeReceiptSources(o: NodeSourceOptions): ReceiptSources {
  return {
    chainId: o.chainId,
    operatorOf: (logId) => o.indexer.logOperator(logId.toLowerCase()),
    // The indexer keeps signer changes by block, not time: the key is judged as having held office at
    // some point (and whether it still does); `dcl receipts check` judges it at the entry's time.
    async keyValid(department, key) {
      if (await o.indexer.isSigner(department, key)) return { ok: true, detail: `${key} is a current signer of the operating department ${department}` };
      if (await o.indexer.wasSigner(department, key)) return { ok: true, detail: `${key} was a signer of the operating department ${department} and has been removed since (not judged at the entry's time here: dcl receipts check does)` };
      return { ok: false, detail: `${key} was never a signer of department ${department}` };
    },
    async latestAnchor(logId): Promise<AnchoredCheckpoint | undefined> {
      const a = (await o.indexer.checkpoints(logId.toLowerCase())).at(-1);
      return a && { index: a.index, treeSize: a.treeSize, root: a.root.toLowerCase(), block: a.block, timestamp: a.timestamp, tx: a.tx };
    },
    async inclusion(logId, index, treeSize) {
      if (logId.toLowerCase() !== o.logId.toLowerCase()) {
        throw new DclError("unavailable", "RECEIPT_OTHER_LOG", `this node operates log ${o.logId}, not log ${logId}: ask that log's node`);
      }
      if (treeSize > o.log.size()) return { notServed: `this node's log holds ${o.log.size()} entries, fewer than the anchored ${treeSize}` };
      return {
        served: {
          index, treeSize,
          leafHash: toHex(await o.log.leafHashAt(index)),
          proof: (await o.log.inclusionProof(index, treeSize)).map(toHex),
          root: toHex(await o.log.root(treeSize)),
        },
      };
    },
  };
}
