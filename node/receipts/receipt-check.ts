/**
 * Was a receipt's promise kept? A receipt (docs/formats.md §4) is the log operator's signed promise
 * that an entry is at an index of its log. The promise is kept when the entry is at that index in the
 * latest checkpoint anchored on chain: the log's inclusion proof for (index, leaf hash) leads to the
 * root the chain holds — the chain's root, never one the operator states. Until an anchor covers the
 * index the promise is pending, for one anchor interval (plus a grace for the anchoring transaction
 * and the chain's confirmations) after the entry's time; past that it is overdue. A receipt whose entry
 * is not at its index in the anchored tree — the log serves another leaf there, or a proof that does
 * not lead to the anchored root, or nothing — is broken: the operator signed a promise its anchored
 * history contradicts, which is evidence against it.
 *
 * A receipt is judged only when it is the operator's: well-formed, its batch proof and signature
 * valid, signed by a key of the department operating the log (at the entry's time, when the entry is
 * known); otherwise it is invalid, and proves nothing against anyone. Where the facts come from (the
 * chain and the log's API for `dcl receipts check`, the node's own indexer and log for the API) is
 * the caller's: see ReceiptSources.
 */
import { codeId } from "../chain/ids";
import { encodeEntry, type AccessLogEntry } from "../log/entry";
import { fromHex, leafHash, rootFromInclusionProof, toHex, verifyInclusion, verifyReceipt, VerificationError, type Receipt } from "../verify";

/** A receipt to check, with the entry it was given for when known (its time dates the promise; its hash must be the receipt's leaf hash). */
export interface ReceiptItem {
  receipt: Receipt;
  entry?: AccessLogEntry;
}

/** kept: in the anchored tree; pending / overdue: not anchored yet, within / past the interval; broken: contradicted by the anchored tree; invalid: not the operator's receipt; unchecked: the log could not be asked. */
export type Verdict = "kept" | "pending" | "overdue" | "broken" | "invalid" | "unchecked";

/** The latest checkpoint of a log anchored on chain. */
export interface AnchoredCheckpoint {
  /** Its position in the log's anchor history (from 0). */
  index: number;
  treeSize: number;
  root: string;
  block: number;
  timestamp: number;
  tx?: string;
}

/** An inclusion proof as the log served it (its `root` is the log's own claim, never used to decide). */
export interface ServedInclusion {
  index: number;
  treeSize: number;
  leafHash: string;
  proof: string[];
  root?: string;
}

/** Whether a key could sign for a department at a moment, and why (or why not). */
export interface KeyJudgement {
  ok: boolean;
  detail: string;
}

/** Where the facts come from. Each method may throw when its source cannot be reached. */
export interface ReceiptSources {
  /** The chain the receipts are checked against (a receipt's origin names its chain). */
  chainId: bigint;
  /** The department operating `logId`, or undefined when no such log is registered. */
  operatorOf(logId: string): Promise<string | undefined>;
  /** Was `key` a signer of department `department` at unix time `time` (when given; else at any time)? */
  keyValid(department: string, key: string, time: number | undefined): Promise<KeyJudgement>;
  /** The latest checkpoint of `logId` anchored on chain, or undefined when none is. */
  latestAnchor(logId: string): Promise<AnchoredCheckpoint | undefined>;
  /** The log's inclusion proof of entry `index` in its tree of `treeSize`, or `notServed` with the log's answer when it does not hold that entry. */
  inclusion(logId: string, index: number, treeSize: number): Promise<{ served: ServedInclusion } | { notServed: string }>;
}

/** The judgement of one receipt, with the evidence it rests on. */
export interface ReceiptResult {
  verdict: Verdict;
  /** Stable code, e.g. RECEIPT_KEPT, RECEIPT_LEAF_MISMATCH, INCLUSION_ROOT_MISMATCH. */
  code: string;
  detail: string;
  origin: string;
  logId?: string;
  index: number;
  leafHash: string;
  signer: { address: string; department?: string; ok: boolean; detail: string };
  /** The entry's time (unix seconds), when the entry was given. */
  loggedAt?: number;
  /** When an anchor must cover the entry by: loggedAt + interval + grace. */
  dueBy?: number;
  /** The latest anchored checkpoint the receipt was judged against. */
  anchor?: AnchoredCheckpoint;
  /** What the log served for the entry in the anchored tree. */
  inclusion?: ServedInclusion;
  /** The log's answer when it did not serve the entry. */
  notServed?: string;
  /** The receipt itself, on a broken promise: with `anchor` and `inclusion`, the evidence. */
  receipt?: Receipt;
}

/** Counts by verdict. */
export type ReceiptSummary = Record<Verdict, number>;

/** How receipts are judged. */
export interface CheckOptions {
  /** The log's anchor interval (DCL_ANCHOR_INTERVAL_MS): how long a receipt may wait for an anchor. */
  anchorIntervalMs: number;
  /** Seconds allowed beyond the interval for the anchoring transaction and the chain's confirmations. */
  graceSeconds: number;
  /** Unix seconds to judge at. */
  now: number;
  /** Receipts checked at once (each may cost a round trip to the log). Default 8. */
  concurrency?: number;
}

/** Seconds beyond the anchor interval before a receipt is overdue, by default. */
export const DEFAULT_GRACE_SECONDS = 30;

const ORIGIN_RE = /^dcl\/([0-9]+)\/(.+)$/;

/** What one run asks once: each log's anchor, each proof, each batch's signature. */
interface Memo {
  anchor: (logId: string) => Promise<AnchoredCheckpoint | undefined>;
  inclusion: (logId: string, index: number, size: number) => Promise<{ served: ServedInclusion } | { notServed: string }>;
  /** Signed batches whose signature was verified (one secp256k1 recovery, ~2-5 ms, per batch rather than per receipt). */
  signed: Set<string>;
}

/**
 * verifyReceipt, with the signature recovered once per signed batch: a receipt of a batch already
 * verified (same origin, first, count, root, signer and signature: the same signed bytes) needs only
 * its own place in the batch checked.
 */
function verifyReceiptOnce(receipt: Receipt, signed: Set<string>): void {
  const { origin, index, leafHash: leaf, batch, signer, signature } = receipt;
  const key = [origin, batch.first, batch.count, batch.root.toLowerCase(), signer.toLowerCase(), signature.toLowerCase()].join("\n");
  if (!signed.has(key)) {
    verifyReceipt(receipt);
    signed.add(key);
    return;
  }
  const position = index - batch.first;
  if (!Number.isSafeInteger(position) || position < 0 || position >= batch.count) {
    throw new VerificationError("RECEIPT_BATCH_INVALID", `index ${index} is not in the batch [${batch.first}, ${batch.first + batch.count})`);
  }
  // As verifyReceipt checks it.
  if (toHex(rootFromInclusionProof(position, batch.count, fromHex(leaf), batch.proof.map(fromHex))) !== batch.root.toLowerCase()) {
    throw new VerificationError("RECEIPT_BATCH_INVALID", `leaf ${leaf} at index ${index} does not lead to batch root ${batch.root}`);
  }
}

/** Thrown inside a check to end it with a verdict. */
class Judged {
  constructor(readonly verdict: Verdict, readonly code: string, readonly detail: string) {}
}

/** Judges every item (in order); sources are asked once per log and per (index, tree size). */
export async function checkReceipts(items: ReceiptItem[], sources: ReceiptSources, options: CheckOptions): Promise<{ results: ReceiptResult[]; summary: ReceiptSummary }> {
  const anchors = new Map<string, Promise<AnchoredCheckpoint | undefined>>();
  const proofs = new Map<string, Promise<{ served: ServedInclusion } | { notServed: string }>>();
  const lookups = {
    anchor: (logId: string) => {
      if (!anchors.has(logId)) anchors.set(logId, sources.latestAnchor(logId));
      return anchors.get(logId)!;
    },
    inclusion: (logId: string, index: number, size: number) => {
      const key = `${logId}/${index}/${size}`;
      if (!proofs.has(key)) proofs.set(key, sources.inclusion(logId, index, size));
      return proofs.get(key)!;
    },
  };
  const memo = { ...lookups, signed: new Set<string>() };
  const results: ReceiptResult[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await checkOne(items[i], sources, memo, options);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 8, items.length)) }, worker));
  const summary: ReceiptSummary = { kept: 0, pending: 0, overdue: 0, broken: 0, invalid: 0, unchecked: 0 };
  for (const r of results) summary[r.verdict]++;
  return { results, summary };
}

/** True when every receipt was kept or is still pending within its interval. */
export function allKeptOrPending(summary: ReceiptSummary): boolean {
  return summary.overdue + summary.broken + summary.invalid + summary.unchecked === 0;
}

async function checkOne(
  item: ReceiptItem,
  sources: ReceiptSources,
  memo: Memo,
  options: CheckOptions,
): Promise<ReceiptResult> {
  const { receipt, entry } = item;
  const result: ReceiptResult = {
    verdict: "invalid", code: "", detail: "", origin: receipt.origin, index: receipt.index, leafHash: receipt.leafHash.toLowerCase(),
    signer: { address: receipt.signer, ok: false, detail: "not checked" },
  };
  try {
    // The receipt itself: its chain, its batch proof and signature, its entry.
    const origin = ORIGIN_RE.exec(receipt.origin);
    if (!origin) throw new Judged("invalid", "RECEIPT_ORIGIN_INVALID", `origin ${JSON.stringify(receipt.origin)} is not dcl/<chain id>/<log code>`);
    if (BigInt(origin[1]) !== sources.chainId) throw new Judged("invalid", "RECEIPT_ORIGIN_INVALID", `the receipt is for chain ${origin[1]}; the chain checked is ${sources.chainId}`);
    const logId = codeId(origin[2]);
    result.logId = logId;
    try {
      verifyReceiptOnce(receipt, memo.signed);
    } catch (err) {
      if (err instanceof VerificationError) throw new Judged("invalid", err.code, err.message);
      throw err;
    }
    if (entry) {
      let hash: string;
      try {
        hash = toHex(leafHash(encodeEntry(entry)));
      } catch (err) {
        throw new Judged("invalid", "RECEIPT_ENTRY_INVALID", `the entry given with receipt ${receipt.index} does not encode: ${(err as Error).message}`);
      }
      if (hash !== result.leafHash) throw new Judged("invalid", "RECEIPT_ENTRY_MISMATCH", `the entry given with receipt ${receipt.index} hashes to ${hash}, not the receipt's leaf hash ${result.leafHash}`);
      result.loggedAt = entry.time;
    }
    // Whose receipt: a key of the log's operating department, when the entry was made.
    const operator = await sources.operatorOf(logId);
    if (!operator) throw new Judged("invalid", "RECEIPT_LOG_UNKNOWN", `log ${origin[2]} (${logId}) is not registered on this chain's LogAnchors`);
    const key = await sources.keyValid(operator, receipt.signer, result.loggedAt);
    result.signer = { address: receipt.signer, department: operator, ...key };
    if (!key.ok) throw new Judged("invalid", "RECEIPT_SIGNER_NOT_OPERATOR", `signed by ${receipt.signer}, not a key of the log's operating department ${operator}: ${key.detail}`);

    // Covered by the latest anchor?
    let anchor: AnchoredCheckpoint | undefined;
    try {
      anchor = await memo.anchor(logId);
    } catch (err) {
      throw new Judged("unchecked", (err as { code?: string }).code ?? "RECEIPT_CHAIN_UNAVAILABLE", `could not read the latest anchor of log ${logId}: ${(err as Error).message}`);
    }
    if (anchor) result.anchor = anchor;
    if (!anchor || receipt.index >= anchor.treeSize) {
      const anchored = anchor ? `the latest anchor (checkpoint ${anchor.index}, block ${anchor.block}) covers ${anchor.treeSize} entries` : "no checkpoint of the log is anchored yet";
      if (result.loggedAt === undefined) {
        throw new Judged("pending", "RECEIPT_PENDING", `entry ${receipt.index} is not anchored yet (${anchored}); its time is unknown (give the entry with the receipt, as POST /v1/access answers it) so it cannot be found overdue`);
      }
      result.dueBy = result.loggedAt + Math.ceil(options.anchorIntervalMs / 1000) + options.graceSeconds;
      if (options.now > result.dueBy) {
        throw new Judged("overdue", "RECEIPT_OVERDUE", `entry ${receipt.index}, logged at ${result.loggedAt}, is still not anchored at ${options.now}, past its due time ${result.dueBy} (anchor interval ${options.anchorIntervalMs} ms + ${options.graceSeconds} s); ${anchored}`);
      }
      throw new Judged("pending", "RECEIPT_PENDING", `entry ${receipt.index}, logged at ${result.loggedAt}, is not anchored yet (${anchored}); due by ${result.dueBy}`);
    }

    // In the anchored tree, at its index: the log's proof against the chain's root.
    let answer: { served: ServedInclusion } | { notServed: string };
    try {
      answer = await memo.inclusion(logId, receipt.index, anchor.treeSize);
    } catch (err) {
      throw new Judged("unchecked", (err as { code?: string }).code ?? "RECEIPT_LOG_UNAVAILABLE", `could not ask the log for entry ${receipt.index}: ${(err as Error).message}`);
    }
    if ("notServed" in answer) {
      result.notServed = answer.notServed;
      throw new Judged("broken", "RECEIPT_NOT_SERVED", `entry ${receipt.index} is in the anchored tree of ${anchor.treeSize} entries, but the log does not serve it: ${answer.notServed}`);
    }
    const served = answer.served;
    result.inclusion = served;
    if (served.index !== receipt.index || served.treeSize !== anchor.treeSize) {
      throw new Judged("unchecked", "RECEIPT_LOG_ANSWER_INVALID", `asked for entry ${receipt.index} in the tree of ${anchor.treeSize}, the log answered entry ${served.index} in a tree of ${served.treeSize}`);
    }
    if (served.leafHash.toLowerCase() !== result.leafHash) {
      throw new Judged("broken", "RECEIPT_LEAF_MISMATCH", `the log holds leaf ${served.leafHash.toLowerCase()} at index ${receipt.index} of the anchored tree, the receipt promised ${result.leafHash}`);
    }
    try {
      verifyInclusion(receipt.index, anchor.treeSize, fromHex(result.leafHash), served.proof.map(fromHex), fromHex(anchor.root));
    } catch (err) {
      if (err instanceof VerificationError) {
        throw new Judged("broken", err.code, `the log's proof of leaf ${result.leafHash} at index ${receipt.index} does not lead to the root anchored on chain ${anchor.root} (size ${anchor.treeSize}): ${err.message}`);
      }
      throw err;
    }
    return {
      ...result, verdict: "kept", code: "RECEIPT_KEPT",
      detail: `entry ${receipt.index} is in the checkpoint anchored on chain (checkpoint ${anchor.index}: size ${anchor.treeSize}, block ${anchor.block}${anchor.tx ? `, tx ${anchor.tx}` : ""}): its inclusion proof leads to the anchored root ${anchor.root}`,
    };
  } catch (err) {
    if (!(err instanceof Judged)) throw err;
    return { ...result, verdict: err.verdict, code: err.code, detail: err.detail, ...(err.verdict === "broken" && { receipt }) };
  }
}
