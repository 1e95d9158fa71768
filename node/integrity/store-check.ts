/**
 * Is this store the log it claims to be? The check the node runs at start, whenever its anchorer
 * sees the chain disagree, and that `dcl check` (and a restore) runs on a stopped node's data
 * directory. It compares the store with:
 *
 * - itself: the committed size, the stored hashes of the tree's right border, the last entries
 *   against their stored leaf hashes, no entry or leaf hash beyond the committed size; with `deep`,
 *   every entry and every stored subtree hash recomputed (O(n) reads);
 * - the last checkpoint the node signed of it (checkpoint-record.ts): the store holds at least
 *   that many entries and, recomputed from the stored hashes, the same root at that size;
 * - the chain's latest anchor of the log (LogAnchors), when the chain can be asked: the store
 *   holds at least that many entries and the same root at that size.
 *
 * A store that was lost (empty, while the chain has anchors), truncated or altered fails with a
 * problem per finding, each with a stable code; the report says what was and was not checked.
 */
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Level } from "level";
import { connectDcl } from "../chain/deploy";
import { makeProvider } from "../chain/client";
import { codeId } from "../chain/ids";
import { LogStoreReader, MerkleLog } from "../log/merkle-log";
import type { Deployment } from "../runtime/deployment";
import { leafHash, toHex, verifyCheckpointSignature, parseCheckpoint } from "../verify";
import { CheckpointRecord } from "./checkpoint-record";

/** Stable codes of what a store check can find. */
export type StoreProblemCode =
  /** The store holds no entries while the chain has anchored some: it was lost or replaced. */
  | "STORE_EMPTY_BUT_ANCHORED"
  /** The store holds fewer entries than the chain has anchored: truncated, or an older copy. */
  | "STORE_BEHIND_ANCHOR"
  /** The store's root at the anchored size is not the anchored root: altered, or another log. */
  | "STORE_ROOT_MISMATCH"
  /** The store holds fewer entries than the last checkpoint the node signed. */
  | "STORE_BEHIND_CHECKPOINT"
  /** The store's root at the signed checkpoint's size is not the signed root. */
  | "CHECKPOINT_MISMATCH"
  /** The recorded checkpoint's signature does not verify, or is not by the operator. */
  | "CHECKPOINT_SIGNATURE_INVALID"
  /** A stored hash, entry or size is missing or unreadable, or an entry lies beyond the committed size. */
  | "STORE_CORRUPT"
  /** An entry does not hash to its stored leaf hash. */
  | "STORE_LEAF_MISMATCH"
  /** A stored subtree hash is not the hash of the stored hashes below it (deep check). */
  | "STORE_NODE_MISMATCH";

/** One finding. */
export interface StoreProblem {
  code: StoreProblemCode;
  message: string;
}

/** The chain's latest anchor of the log: tree size and root (0x hex). */
export interface AnchorView {
  size: number;
  root: string;
}

/** What a check found, and what it could check. */
export interface StoreCheckReport {
  ok: boolean;
  /** Committed entries in the store (0 when it could not be read). */
  size: number;
  /** RFC 6962 root of them, from the stored hashes (absent when they could not be read). */
  root?: string;
  /** The last checkpoint the node signed, as recorded in the store. */
  checkpoint: { size: number; root: string; signer: string } | null;
  /** The chain part: the latest anchor, or why it was not checked. */
  chain: { checked: true; anchored: AnchorView } | { checked: false; reason: string };
  /** Whether every entry and stored hash was recomputed, and how many entries were. */
  deep: { checked: boolean; entries: number };
  problems: StoreProblem[];
  /** When the check ran (unix seconds). */
  checkedAt: number;
}

/** What the check reads. */
export interface StoreCheckInput {
  /** The node's root level database (its `log` and `integrity` sublevels are read). */
  db: { sublevel: (name: string, options: object) => unknown };
  /** The log over `db`'s `log` sublevel, when already open (else it is opened here). */
  log?: MerkleLog;
  /** Expected signer of the recorded checkpoint (the operator's address); any valid signer when absent. */
  operator?: string;
  /** The chain's latest anchor of the log; rejects when the chain cannot be asked. Absent: offline. */
  anchor?: () => Promise<AnchorView>;
  /** Recompute every entry and stored hash (O(n)); default: the border, the last `tail` entries. */
  deep?: boolean;
  /** Entries at the end checked against their leaf hashes without `deep` (default 64). */
  tail?: number;
}

/** A store the node refuses to serve: the report says why. */
export class StoreIntegrityError extends Error {
  readonly code = "STORE_INTEGRITY";

  constructor(readonly report: StoreCheckReport, readonly where: string) {
    super(describeReport(report, where));
    this.name = "StoreIntegrityError";
  }
}

const MAX_PROBLEMS = 20;

/** The problems of a report in a few readable lines, with what to do. */
export function describeReport(report: StoreCheckReport, where = "the store"): string {
  if (report.ok) return `${where}: ${report.size} entries, consistent with ${report.checkpoint ? `the signed checkpoint of ${report.checkpoint.size}` : "no recorded checkpoint"}${report.chain.checked ? ` and the chain's anchor of ${report.chain.anchored.size}` : ` (chain not checked: ${report.chain.reason})`}`;
  const lines = report.problems.map((p) => `  ${p.code}: ${p.message}`);
  return [
    `${where} does not hold the log this node signed and anchored; dcl refuses to serve it, since receipts from it could never be anchored:`,
    ...lines,
    "Restore the store from a backup (dcl restore) and run dcl check on it before starting the node.",
  ].join("\n");
}

/** Checks a store (see the file comment); never throws for what it finds, only for bad input. */
export async function checkStore(input: StoreCheckInput): Promise<StoreCheckReport> {
  const problems: StoreProblem[] = [];
  const add = (code: StoreProblemCode, message: string) => {
    if (problems.length < MAX_PROBLEMS) problems.push({ code, message });
  };
  const report: StoreCheckReport = {
    ok: false, size: 0, checkpoint: null, chain: { checked: false, reason: "no chain given (offline)" },
    deep: { checked: false, entries: 0 }, problems, checkedAt: Math.floor(Date.now() / 1000),
  };
  const logDb = input.db.sublevel("log", { keyEncoding: "utf8", valueEncoding: "json" }) as { sublevel: (name: string, options: object) => unknown };
  let log = input.log;
  const owned = !log;
  try {
    try {
      log ??= await MerkleLog.open(logDb as never);
    } catch (err) {
      add("STORE_CORRUPT", `the log cannot be read: ${(err as Error).message}`);
    }
    if (log) {
      report.size = log.size();
      await checkItself(log, logDb, input, report, add);
    }
    await checkCheckpoint(log, input, report, add);
    await checkChain(log, input, report, add);
  } finally {
    if (owned) await log?.close();
  }
  report.ok = problems.length === 0;
  return report;
}

type Add = (code: StoreProblemCode, message: string) => void;

/** The store against itself: root from the border, the tail (or everything) against its leaf hashes, nothing beyond the size. */
async function checkItself(log: MerkleLog, logDb: { sublevel: (name: string, options: object) => unknown }, input: StoreCheckInput, report: StoreCheckReport, add: Add): Promise<void> {
  const size = log.size();
  // The stored bytes as they are on disk (the log's layout is known to node/log alone).
  const store = new LogStoreReader(logDb as never);
  try {
    report.root = toHex(await log.root());
    const beyond = await store.beyond(size);
    if (beyond !== undefined) add("STORE_CORRUPT", `${beyond}: the recorded size was changed (truncated store)`);
    if (input.deep) {
      await deepCheck(size, store, report, add);
      return;
    }
    for await (const { index, bytes, leafHash: stored } of store.entries(Math.max(0, size - (input.tail ?? 64)), size)) {
      if (toHex(leafHash(bytes)) !== toHex(stored)) add("STORE_LEAF_MISMATCH", `entry ${index} hashes to ${toHex(leafHash(bytes))}, its stored leaf hash is ${toHex(stored)}`);
    }
  } catch (err) {
    add("STORE_CORRUPT", `the log's stored data is incomplete: ${(err as Error).message}`);
  }
}

/** Every entry against its stored leaf hash, every stored subtree hash against the hashes below it: one pass in key order. */
async function deepCheck(size: number, store: LogStoreReader, report: StoreCheckReport, add: Add): Promise<void> {
  for await (const { index, bytes, leafHash: stored } of store.entries(0, size)) {
    if (toHex(leafHash(bytes)) !== toHex(stored)) add("STORE_LEAF_MISMATCH", `entry ${index} hashes to ${toHex(leafHash(bytes))}, its stored leaf hash is ${toHex(stored)}`);
  }
  report.deep = { checked: true, entries: size };
  for await (const { level, index, stored, computed } of store.subtrees(size)) {
    if (toHex(computed) !== toHex(stored)) add("STORE_NODE_MISMATCH", `the stored hash of the subtree of height ${8 * level} at ${index} is ${toHex(stored)}, the hashes below it give ${toHex(computed)}`);
  }
}

/** The store against the last checkpoint the node signed and recorded. */
async function checkCheckpoint(log: MerkleLog | undefined, input: StoreCheckInput, report: StoreCheckReport, add: Add): Promise<void> {
  let recorded;
  try {
    recorded = await new CheckpointRecord(input.db).last();
  } catch (err) {
    return add("STORE_CORRUPT", `the recorded checkpoint cannot be read: ${(err as Error).message}`);
  }
  if (!recorded) return;
  report.checkpoint = { size: recorded.size, root: recorded.root, signer: recorded.signer };
  try {
    const parsed = parseCheckpoint(recorded.note);
    verifyCheckpointSignature(parsed, input.operator ? [input.operator] : undefined);
    if (parsed.checkpoint.size !== recorded.size || toHex(parsed.checkpoint.root) !== recorded.root.toLowerCase()) throw new Error(`the note says size ${parsed.checkpoint.size} root ${toHex(parsed.checkpoint.root)}, the record size ${recorded.size} root ${recorded.root}`);
  } catch (err) {
    return add("CHECKPOINT_SIGNATURE_INVALID", `the recorded checkpoint of size ${recorded.size} is not validly signed${input.operator ? ` by the operator ${input.operator}` : ""}: ${(err as Error).message}`);
  }
  if (!log) return;
  if (log.size() < recorded.size) {
    return add("STORE_BEHIND_CHECKPOINT", `the store holds ${log.size()} entries, fewer than the ${recorded.size} of the checkpoint the node signed (recorded ${new Date(recorded.recordedAt * 1000).toISOString()}): entries were lost`);
  }
  try {
    const root = toHex(await log.root(recorded.size));
    if (root !== recorded.root.toLowerCase()) add("CHECKPOINT_MISMATCH", `the store's root at size ${recorded.size} is ${root}, the signed checkpoint's is ${recorded.root}: the store was altered`);
  } catch (err) {
    add("STORE_CORRUPT", `the root at the signed checkpoint's size ${recorded.size} cannot be computed: ${(err as Error).message}`);
  }
}

/** The store against the chain's latest anchor of the log. */
async function checkChain(log: MerkleLog | undefined, input: StoreCheckInput, report: StoreCheckReport, add: Add): Promise<void> {
  if (!input.anchor) return;
  let anchored: AnchorView;
  try {
    anchored = await input.anchor();
  } catch (err) {
    report.chain = { checked: false, reason: `the chain could not be asked: ${(err as Error).message}` };
    return;
  }
  report.chain = { checked: true, anchored };
  if (anchored.size === 0 || !log) return;
  const size = log.size();
  if (size === 0) return add("STORE_EMPTY_BUT_ANCHORED", `the store holds no entries, but the chain has anchored ${anchored.size} entries of this log (root ${anchored.root}): the store was lost or replaced`);
  if (size < anchored.size) return add("STORE_BEHIND_ANCHOR", `the store holds ${size} entries, fewer than the ${anchored.size} the chain has anchored: the store was truncated or is an older copy`);
  try {
    const root = toHex(await log.root(anchored.size));
    if (root !== anchored.root.toLowerCase()) add("STORE_ROOT_MISMATCH", `the store's root at the anchored size ${anchored.size} is ${root}, the chain's is ${anchored.root}: the store was altered or holds another log`);
  } catch (err) {
    add("STORE_CORRUPT", `the root at the anchored size ${anchored.size} cannot be computed: ${(err as Error).message}`);
  }
}

/** The chain's latest anchor of log `logId` through a LogAnchors contract, within `timeoutMs`. */
export function chainAnchor(anchors: { latestCheckpoint(logId: string): Promise<{ treeSize: bigint; root: string }> }, logId: string, timeoutMs = 10_000): () => Promise<AnchorView> {
  return async () => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs)));
    try {
      const latest = await Promise.race([anchors.latestCheckpoint(logId), timeout]);
      return { size: Number(latest.treeSize), root: latest.root.toLowerCase() };
    } finally {
      clearTimeout(timer);
    }
  };
}

/** Why a data directory could not be checked at all (missing, in use): bad usage, not a finding. */
export class StoreUnreadableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StoreUnreadableError";
  }
}

/** How to check a stopped node's data directory. */
export interface DataDirCheckOptions {
  /** The chain's JSON-RPC URL; without it only the store and its checkpoint are checked. */
  rpcUrl?: string;
  /** The deployment (contract addresses, chain id), needed with `rpcUrl`. */
  deployment?: Deployment;
  /** Code of the node's log (default log.cq.bigdata.0). */
  logCode?: string;
  /** Expected checkpoint signer (the operator's address). */
  operator?: string;
  deep?: boolean;
  timeoutMs?: number;
}

/**
 * Checks the store of a stopped node's data directory (`<dataDir>/node`). A missing store counts as
 * an empty one (it is not created). Throws StoreUnreadableError when the store is in use or unreadable.
 */
export async function checkDataDir(dataDir: string, o: DataDirCheckOptions = {}): Promise<StoreCheckReport> {
  const location = join(dataDir, "node");
  const exists = await stat(location).then((s) => s.isDirectory(), () => false);
  let anchor: (() => Promise<AnchorView>) | undefined;
  let destroy = () => {};
  if (o.rpcUrl) {
    if (!o.deployment) throw new StoreUnreadableError("checking against the chain needs the deployment (contract addresses)");
    const provider = makeProvider(o.rpcUrl, BigInt(o.deployment.chainId));
    destroy = () => provider.destroy();
    anchor = chainAnchor(connectDcl(o.deployment.addresses, provider).anchors, codeId(o.logCode ?? "log.cq.bigdata.0"), o.timeoutMs);
  }
  try {
    // No store at all counts as an empty one (made in a scratch directory: the data directory is not touched).
    const scratch = exists ? undefined : await mkdtemp(join(tmpdir(), "dcl-check-empty-"));
    const db = new Level<string, unknown>(scratch ?? location, { valueEncoding: "json", createIfMissing: scratch !== undefined });
    try {
      await db.open();
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      if (cause?.code === "LEVEL_LOCKED") throw new StoreUnreadableError(`the store ${location} is in use: stop the node first (dcl check reads a stopped node's store)`, { cause: err });
      throw new StoreUnreadableError(`the store ${location} cannot be opened: ${cause?.message ?? (err as Error).message}`, { cause: err });
    }
    try {
      return await checkStore({ db, anchor, operator: o.operator, deep: o.deep });
    } finally {
      await db.close();
      if (scratch) await rm(scratch, { recursive: true, force: true });
    }
  } finally {
    destroy();
  }
}
