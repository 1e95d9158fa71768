import type { AbstractLevel, AbstractSublevel } from "abstract-level";
import { Level } from "level";
import { emptyRoot, leafHash as hashLeaf, nodeHash, toHex } from "../verify";
import { AccessLogEntry, decodeEntry, encodeEntry } from "./entry";
import { LogError } from "./errors";

/*
 * An append-only RFC 6962 log in LevelDB. Store layout (sublevels of the given database):
 *
 *   leaf  <index: 16 hex>                   → canonical entry bytes
 *   node  <level: 2 hex><index: 16 hex>     → 32-byte hash of the complete subtree over
 *                                             leaves [index·2^level, (index+1)·2^level);
 *                                             level 0 holds the leaf hashes
 *   hash  <leaf hash: 64 hex><index: 16 hex> → empty (leaf hash → indices, first is lowest)
 *   meta  "size"                             → committed tree size, decimal
 *
 * Every committed subtree is immutable, so the hash of any range [0, n) for n ≤ size is a
 * right fold over at most log2(n) stored nodes, and each hash a proof needs is either one
 * stored node or (at most once per proof) such a fold: root, inclusion and consistency
 * proofs read O(log n) keys in one getMany. Append keeps only the right border of the tree
 * (≤ 64 hashes) in memory and writes one leaf hash plus the subtree hashes it completes
 * (amortised 2 per leaf). A commit is one synced batch across all four sublevels, so a
 * crash leaves the log at some committed size with everything below it intact.
 *
 * The log is in time order: an entry's `time` is never earlier than the time of the entry before
 * it. Appends are refused (LOG_TIME_ORDER) otherwise, so a time period is one index range, found
 * by binary search (`indexAtTime`), and a period's entries are all the leaves of that range.
 */

type Db = AbstractLevel<any, any, any>;

/** What the log needs of a level database or sublevel (structural, so any `level` / `classic-level` instance fits). */
export interface LevelDatabase {
  open(): Promise<void>;
  close(): Promise<void>;
  sublevel(name: string, options: { keyEncoding: string; valueEncoding: string }): unknown;
  batch(...args: never[]): unknown;
}
type Table<V> = AbstractSublevel<any, any, string, V>;

/** Where an appended entry landed. */
export interface AppendResult {
  index: number;
  leafHash: Uint8Array;
}

/**
 * One synced batch of the group commit: its first index and the leaf hashes of every entry it
 * committed, in index order, whichever appends they came from. The same object is handed to every
 * append the batch held, so a caller can do per-batch work once (the operator signs one receipt
 * root per batch: node/access/access-ledger.ts).
 */
export interface CommitGroup {
  first: number;
  leafHashes: Uint8Array[];
}

/** Counters of store work, for tests and benchmarks. */
export interface MerkleLogStats {
  appends: number;
  batches: number;
  reads: number;
}

/** Tuning of a MerkleLog. */
export interface MerkleLogOptions {
  /** Most entries committed in one batch (a single appendMany call is never split). Default 4096. */
  maxBatchEntries?: number;
}

/** The `time` of a canonical entry (uint64 big-endian at offset 1, see entry.ts). */
function timeOf(bytes: Uint8Array): number {
  return Number(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(1));
}

/** A complete subtree: `level` (height) and `index` (position among subtrees of that height). */
interface NodeId {
  level: number;
  index: number;
}

interface Pending {
  entries: Uint8Array[];
  resolve: (r: { results: AppendResult[]; commit: CommitGroup }) => void;
  reject: (e: unknown) => void;
}

type Op =
  | { type: "put"; sublevel: Table<Uint8Array>; key: string; value: Uint8Array }
  | { type: "put"; sublevel: Table<string>; key: string; value: string };

const hex16 = (n: number): string => n.toString(16).padStart(16, "0");
const nodeKey = (n: NodeId): string => n.level.toString(16).padStart(2, "0") + hex16(n.index);

/** The complete subtrees that make up leaves [start, end), left to right (start aligned as in RFC 6962 ranges). */
function rangeNodes(start: number, end: number): NodeId[] {
  const out: NodeId[] = [];
  while (start < end) {
    let level = 0;
    while (start % 2 ** (level + 1) === 0 && start + 2 ** (level + 1) <= end) level++;
    out.push({ level, index: start / 2 ** level });
    start += 2 ** level;
  }
  return out;
}

/** Largest power of two strictly below n (n ≥ 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** Right fold of subtree hashes: the RFC 6962 hash of the range they cover. */
function foldRight(hashes: Uint8Array[]): Uint8Array {
  let acc = hashes[hashes.length - 1];
  for (let i = hashes.length - 2; i >= 0; i--) acc = nodeHash(hashes[i], acc);
  return acc;
}

/** One atomic batch across sublevels, fsynced before it resolves (classic-level's `sync`, absent from abstract-level's types). */
function syncedBatch(db: Db, ops: Op[]): Promise<void> {
  const batch = db.batch as (ops: Op[], options: { sync: boolean }) => Promise<void>;
  return batch.call(db, ops, { sync: true });
}

/** An append-only RFC 6962 Merkle log of access entries, persisted in LevelDB with group commit. */
export class MerkleLog {
  private committedSize = 0;
  private border: { level: number; hash: Uint8Array }[] = [];
  private queue: Pending[] = [];
  private flushing: Promise<void> | null = null;
  private stale = false;
  private closed = false;
  /** Time of the latest entry committed or queued: no append may be earlier (a failed batch's times still count). */
  private latestTime = 0;
  private readonly counters: MerkleLogStats = { appends: 0, batches: 0, reads: 0 };
  private readonly maxBatchEntries: number;

  private constructor(
    private readonly db: Db,
    private readonly ownsDb: boolean,
    private readonly leaves: Table<Uint8Array>,
    private readonly nodes: Table<Uint8Array>,
    private readonly hashes: Table<Uint8Array>,
    private readonly meta: Table<string>,
    options: MerkleLogOptions,
  ) {
    this.maxBatchEntries = options.maxBatchEntries ?? 4096;
  }

  /** Opens (creating if needed) the log at a directory path, or inside an open level database or sublevel. */
  static async open(location: string | LevelDatabase, options: MerkleLogOptions = {}): Promise<MerkleLog> {
    const owns = typeof location === "string";
    const db = (typeof location === "string" ? new Level(location) : location) as unknown as Db;
    await db.open();
    const table = <V>(name: string, valueEncoding: "view" | "utf8") =>
      db.sublevel<string, V>(name, { keyEncoding: "utf8", valueEncoding }) as unknown as Table<V>;
    const log = new MerkleLog(db, owns, table("leaf", "view"), table("node", "view"), table("hash", "view"), table("meta", "utf8"), options);
    await log.reload();
    return log;
  }

  /** Committed tree size (entries acknowledged so far). */
  size(): number {
    return this.committedSize;
  }

  /** Entries waiting for the next synced batch (the group-commit queue's depth). */
  queued(): number {
    return this.queue.reduce((n, p) => n + p.entries.length, 0);
  }

  /** Time (unix seconds) of the latest entry appended or queued, 0 for an empty log: the next append must not be earlier. */
  lastTime(): number {
    return this.latestTime;
  }

  /** Counters of appends, synced batches and keys read. */
  stats(): MerkleLogStats {
    return { ...this.counters };
  }

  /** Appends one entry; resolves once the batch holding it is synced to disk. */
  async append(entry: AccessLogEntry): Promise<AppendResult> {
    const { results } = await this.enqueue([encodeEntry(entry)]);
    return results[0];
  }

  /** Appends entries at consecutive indices in one batch; resolves once it is synced to disk. */
  async appendMany(entries: AccessLogEntry[]): Promise<AppendResult[]> {
    if (entries.length === 0) return [];
    return (await this.enqueue(entries.map(encodeEntry))).results;
  }

  /**
   * As appendMany (at least one entry), and also says which synced batch the entries landed in:
   * they are within `commit`, possibly beside other appends' entries.
   */
  appendInCommit(entries: AccessLogEntry[]): Promise<{ results: AppendResult[]; commit: CommitGroup }> {
    if (entries.length === 0) return Promise.reject(new RangeError("appendInCommit needs at least one entry"));
    return this.enqueue(entries.map(encodeEntry));
  }

  /** Canonical bytes of the committed entry at `index`. */
  async get(index: number): Promise<Uint8Array> {
    this.checkIndex(index, this.committedSize);
    const [bytes] = await this.read(this.leaves, [hex16(index)], "leaf");
    return bytes;
  }

  /** The committed entry at `index`, decoded. */
  async getEntry(index: number): Promise<AccessLogEntry> {
    return decodeEntry(await this.get(index));
  }

  /** The committed entries at indices [begin, end), in order, as canonical bytes (one range read, not one read per entry). */
  async *range(begin: number, end: number): AsyncGenerator<Uint8Array> {
    this.checkSize(end, 0, "end");
    if (!Number.isSafeInteger(begin) || begin < 0 || begin > end) {
      throw new LogError("LOG_INDEX_OUT_OF_RANGE", `range start ${begin} is not within [0, ${end}]`, { begin, end });
    }
    let expected = begin;
    for await (const [key, bytes] of this.leaves.iterator({ gte: hex16(begin), lt: hex16(end) })) {
      this.counters.reads++;
      if (key !== hex16(expected)) throw new LogError("LOG_CORRUPT", `leaf ${hex16(expected)} is missing below committed size ${this.committedSize}`, { key: hex16(expected), size: this.committedSize });
      expected++;
      yield bytes;
    }
    if (expected !== end) throw new LogError("LOG_CORRUPT", `leaf ${hex16(expected)} is missing below committed size ${this.committedSize}`, { key: hex16(expected), size: this.committedSize });
  }

  /**
   * The lowest index among the first `size` entries (default: all committed) whose time is at least
   * `time`, or `size` when none is: with the log in time order, entries [0, i) are before `time`
   * and [i, size) are not. O(log size) reads.
   */
  async indexAtTime(time: number, size: number = this.committedSize): Promise<number> {
    this.checkSize(size, 0, "size");
    let [lo, hi] = [0, size];
    while (lo < hi) {
      const mid = lo + Math.floor((hi - lo) / 2);
      if (timeOf(await this.get(mid)) < time) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Hashes of the complete subtrees covering [0, begin) and [end, size), left to right: an RFC 6962 range proof of [begin, end) in the tree of `size` (node/verify/range.ts). */
  async rangeProof(begin: number, end: number, size: number = this.committedSize): Promise<{ left: Uint8Array[]; right: Uint8Array[] }> {
    this.checkSize(size, 0, "size");
    this.checkSize(end, 0, "end");
    if (end > size || !Number.isSafeInteger(begin) || begin < 0 || begin > end) {
      throw new LogError("LOG_SIZE_OUT_OF_RANGE", `range [${begin}, ${end}) is not within the tree of size ${size}`, { begin, end, size });
    }
    const left = rangeNodes(0, begin);
    const right = rangeNodes(end, size);
    const hashes = await this.read(this.nodes, [...left, ...right].map(nodeKey), "node");
    return { left: hashes.slice(0, left.length), right: hashes.slice(left.length) };
  }

  /** Leaf hash of the committed entry at `index`. */
  async leafHashAt(index: number): Promise<Uint8Array> {
    this.checkIndex(index, this.committedSize);
    const [hash] = await this.read(this.nodes, [nodeKey({ level: 0, index })], "node");
    return hash;
  }

  /** Lowest committed index holding a leaf with this hash, or undefined. */
  async indexOfLeafHash(hash: Uint8Array): Promise<number | undefined> {
    const prefix = toHex(hash).slice(2);
    for await (const key of this.hashes.keys({ gt: prefix, lt: prefix + "~", limit: 1 })) {
      this.counters.reads++;
      const index = parseInt(key.slice(prefix.length), 16);
      return index < this.committedSize ? index : undefined;
    }
    return undefined;
  }

  /** RFC 6962 root hash of the first `size` entries (default: all committed). */
  async root(size: number = this.committedSize): Promise<Uint8Array> {
    this.checkSize(size, 0, "size");
    if (size === 0) return emptyRoot();
    if (size === this.committedSize) return foldRight(this.border.map((b) => b.hash));
    const [root] = await this.resolve([rangeNodes(0, size)]);
    return root;
  }

  /** RFC 6962 audit path for the leaf at `index` in the tree of `size` (default: all committed). */
  async inclusionProof(index: number, size: number = this.committedSize): Promise<Uint8Array[]> {
    this.checkSize(size, 1, "size");
    this.checkIndex(index, size);
    const plan: NodeId[][] = [];
    // PATH(m, D[start:end]) of RFC 6962 §2.1.1, iteratively, collecting siblings top-down.
    let [m, start, end] = [index, 0, size];
    while (end - start > 1) {
      const k = splitPoint(end - start);
      if (m < k) {
        plan.push(rangeNodes(start + k, end));
        end = start + k;
      } else {
        plan.push(rangeNodes(start, start + k));
        start += k;
        m -= k;
      }
    }
    return (await this.resolve(plan)).reverse();
  }

  /** RFC 6962 consistency proof from the tree of `size1` to the tree of `size2` (default: all committed). */
  async consistencyProof(size1: number, size2: number = this.committedSize): Promise<Uint8Array[]> {
    this.checkSize(size2, 1, "size2");
    this.checkSize(size1, 1, "size1");
    if (size1 > size2) {
      throw new LogError("LOG_SIZE_OUT_OF_RANGE", `size1 ${size1} is greater than size2 ${size2}`, { size1, size2 });
    }
    const plan: NodeId[][] = [];
    // SUBPROOF(m, D[start:end], complete) of RFC 6962 §2.1.2, iteratively, top-down.
    let [m, start, end, complete] = [size1, 0, size2, true];
    while (m !== end - start) {
      const k = splitPoint(end - start);
      if (m <= k) {
        plan.push(rangeNodes(start + k, end));
        end = start + k;
      } else {
        plan.push(rangeNodes(start, start + k));
        start += k;
        m -= k;
        complete = false;
      }
    }
    if (!complete) plan.push(rangeNodes(start, end));
    return (await this.resolve(plan)).reverse();
  }

  /** Waits for queued appends to commit, then closes the store if this log opened it. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.flushing) await this.flushing;
    if (this.ownsDb) await this.db.close();
  }

  // ---- reads ----

  private checkSize(size: number, min: number, what: string): void {
    if (!Number.isSafeInteger(size) || size < min || size > this.committedSize) {
      throw new LogError("LOG_SIZE_OUT_OF_RANGE", `${what} ${size} is not within [${min}, ${this.committedSize}]`, {
        [what]: size,
        committed: this.committedSize,
      });
    }
  }

  private checkIndex(index: number, size: number): void {
    if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
      throw new LogError("LOG_INDEX_OUT_OF_RANGE", `index ${index} is not within tree size ${size}`, { index, size });
    }
  }

  private async read<V>(table: Table<V>, keys: string[], what: string): Promise<V[]> {
    this.counters.reads += keys.length;
    const values = await table.getMany(keys);
    const missing = values.findIndex((v) => v === undefined);
    if (missing >= 0) {
      throw new LogError("LOG_CORRUPT", `${what} ${keys[missing]} is missing below committed size ${this.committedSize}`, {
        key: keys[missing],
        size: this.committedSize,
      });
    }
    return values as V[];
  }

  /** Hashes of each group of complete subtrees, fetched in one getMany. */
  private async resolve(plan: NodeId[][]): Promise<Uint8Array[]> {
    const flat = await this.read(this.nodes, plan.flat().map(nodeKey), "node");
    let offset = 0;
    return plan.map((group) => foldRight(flat.slice(offset, (offset += group.length))));
  }

  /** Loads the committed size and the right border of the tree from the store. */
  private async reload(): Promise<void> {
    const sizeText = await this.meta.get("size");
    const size = sizeText === undefined ? 0 : Number(sizeText);
    if (!Number.isSafeInteger(size) || size < 0) throw new LogError("LOG_CORRUPT", `stored size ${sizeText} is not a size`, { size: String(sizeText) });
    this.committedSize = size;
    const ids = rangeNodes(0, size);
    const hashes = ids.length === 0 ? [] : await this.read(this.nodes, ids.map(nodeKey), "node");
    this.border = ids.map((id, i) => ({ level: id.level, hash: hashes[i] }));
    if (size > 0) this.latestTime = Math.max(this.latestTime, timeOf((await this.read(this.leaves, [hex16(size - 1)], "leaf"))[0]));
    this.stale = false;
  }

  // ---- group commit ----

  private enqueue(entries: Uint8Array[]): Promise<{ results: AppendResult[]; commit: CommitGroup }> {
    if (this.closed) return Promise.reject(new LogError("LOG_CLOSED", "the log is closed"));
    // Time order is decided here, in queue order, which is the order of the indices.
    let latest = this.latestTime;
    for (const [i, bytes] of entries.entries()) {
      const time = timeOf(bytes);
      if (time < latest) {
        return Promise.reject(new LogError("LOG_TIME_ORDER", `entry ${i} of this append has time ${time}, before the log's latest entry time ${latest}: the log is in time order`, { time, latest }));
      }
      latest = time;
    }
    this.latestTime = latest;
    return new Promise((resolve, reject) => {
      this.queue.push({ entries, resolve, reject });
      this.flushing ??= this.flushLoop();
    });
  }

  private async flushLoop(): Promise<void> {
    // Let every append issued in this turn of the event loop join the first batch.
    await new Promise((r) => setImmediate(r));
    while (this.queue.length > 0) {
      let count = 0;
      let take = 0;
      while (take < this.queue.length && (take === 0 || count + this.queue[take].entries.length <= this.maxBatchEntries)) {
        count += this.queue[take++].entries.length;
      }
      const group = this.queue.splice(0, take);
      try {
        const results = await this.commit(group.flatMap((p) => p.entries));
        const commit: CommitGroup = { first: results[0].index, leafHashes: results.map((r) => r.leafHash) };
        let offset = 0;
        for (const p of group) p.resolve({ results: results.slice(offset, (offset += p.entries.length)), commit });
      } catch (cause) {
        const err = cause instanceof LogError ? cause : new LogError("LOG_WRITE_FAILED", `batch of ${count} entries was not committed`, { count }, { cause });
        for (const p of group) p.reject(err);
      }
    }
    this.flushing = null;
  }

  /** Writes `entries` at the next indices in one synced batch; in-memory state moves only once it is on disk. */
  private async commit(entries: Uint8Array[]): Promise<AppendResult[]> {
    if (this.stale) await this.reload();
    const ops: Op[] = [];
    const border = [...this.border];
    const results: AppendResult[] = [];
    let size = this.committedSize;
    for (const bytes of entries) {
      const index = size++;
      const hash = hashLeaf(bytes);
      results.push({ index, leafHash: hash });
      ops.push({ type: "put", sublevel: this.leaves, key: hex16(index), value: bytes });
      ops.push({ type: "put", sublevel: this.hashes, key: toHex(hash).slice(2) + hex16(index), value: new Uint8Array(0) });
      ops.push({ type: "put", sublevel: this.nodes, key: nodeKey({ level: 0, index }), value: hash });
      border.push({ level: 0, hash });
      // Merge equal-height subtrees at the right edge: each merge completes one stored subtree.
      while (border.length >= 2 && border[border.length - 1].level === border[border.length - 2].level) {
        const right = border.pop()!;
        const left = border.pop()!;
        const merged = { level: left.level + 1, hash: nodeHash(left.hash, right.hash) };
        border.push(merged);
        ops.push({ type: "put", sublevel: this.nodes, key: nodeKey({ level: merged.level, index: Math.floor(index / 2 ** merged.level) }), value: merged.hash });
      }
    }
    ops.push({ type: "put", sublevel: this.meta, key: "size", value: String(size) });
    try {
      await syncedBatch(this.db, ops);
    } catch (cause) {
      // The batch may or may not have reached the disk: re-read the committed state before the next one.
      this.stale = true;
      throw new LogError("LOG_WRITE_FAILED", `batch of ${entries.length} entries at ${this.committedSize} was not committed`, {
        count: entries.length,
        size: this.committedSize,
      }, { cause });
    }
    this.committedSize = size;
    this.border = border;
    this.counters.appends += entries.length;
    this.counters.batches++;
    return results;
  }
}
