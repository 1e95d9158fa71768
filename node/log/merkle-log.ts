import type { AbstractLevel, AbstractSublevel } from "abstract-level";
import { Level } from "level";
import { emptyRoot, toHex } from "../verify";
import { AccessLogEntry, decodeEntry, encodeEntry } from "./entry";
import { writeRaw, type RawPut } from "../store/raw-batch";
import { LogError } from "./errors";
import { leafHash as hashLeaf, nodeHash } from "./tree-hasher";

/*
 * An append-only RFC 6962 log in LevelDB, stored as C2SP tlog-tiles store a log (as Tessera does):
 * entries in bundles of 256, hashes in tiles of 256. Store layout 2 (sublevels of the given database):
 *
 *   bundle <N: 16 hex><offset: 2 hex>   → a piece of bundle N: entries from 256·N + offset on, each as
 *                                          a uint16 big-endian length and its canonical bytes. Bundle N
 *                                          holds entries [256·N, 256·N + 256); a full bundle is one piece
 *                                          at offset 00, the last (partial) one a piece per commit that
 *                                          added to it
 *   tile   <L: 2 hex><N: 16 hex><offset: 2 hex> → a piece of tile N of level L: 32-byte hashes,
 *                                          concatenated, from position 256·N + offset on. Tile N of
 *                                          level L holds the hashes of the complete subtrees of height
 *                                          8·L at positions [256·N, 256·N + 256): level 0 the leaf hashes,
 *                                          level 1 the hashes of complete 256-leaf subtrees, and so on;
 *                                          pieces as for bundles
 *   hash   <leaf hash: 64 hex><index: 16 hex> → empty (leaf hash → indices, first is lowest): a
 *                                          projection of level 0, written behind the commit
 *   meta   "size"      → committed tree size, decimal
 *          "layout"    → "2" (absent: layout 1, converted on open, see below)
 *          "hashed"    → entries [0, hashed) are in the `hash` projection
 *          "migrated"  → while converting a layout-1 store: entries [0, migrated) are in bundles and tiles
 *          "migratedroot" → while converting: the converted root, once checked against the layout-1 root
 *
 * A commit is one synced batch of what it adds to bundles and tiles, a piece per bundle or tile it
 * adds to, and the size: about the entries' bytes plus 32 bytes per entry in ⌈k / 256⌉ + 1 bundle
 * pieces and as many tile pieces per level, instead of a few keys per entry. The commit that fills a
 * bundle or tile writes it whole at offset 00 and deletes its other pieces, so small commits do not
 * rewrite the partial last bundle (C2SP and Tessera rewrite it; here commits can be one entry each).
 * A crash leaves the log at some committed size with everything below it intact; readers take only
 * the entries and hashes below the size, and refuse pieces that do not join up (LOG_CORRUPT).
 *
 * A subtree of height h = 8·L + r (r < 8) is hashed from 2^r hashes of its tile at level L. Each
 * full tile is immutable, so its inner nodes are computed once, as needed, and kept in a bounded
 * cache; the partial last tile of each level (the tree's right border) is kept in memory with all
 * its complete inner nodes. Root, inclusion and consistency proofs so read O(log n) hashes from at
 * most ⌈log₂ n / 8⌉ tiles per path, most of them cached.
 *
 * The leaf-hash projection (`indexOfLeafHash`) is derivable from level 0, so it is written after
 * the commit (not synced) with its cursor `hashed`; a lookup also scans the leaf hashes beyond the
 * cursor (in memory), and on open the projection is rebuilt from the tiles when it is behind.
 *
 * Layout 1 (before this one) kept a key per entry and per subtree: `leaf <index>` → entry,
 * `node <level: 2 hex><index>` → subtree hash, the same `hash` keys, `meta size`. A layout-1 store
 * is converted on open in chunks of 4,096 entries, each chunk's bundles and tiles written with the
 * `migrated` cursor in one synced batch so that a crash resumes; the root of the converted tree must
 * equal the layout-1 root; then the old keys are deleted in batches and `layout` = 2 written last.
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

/**
 * Told of a batch as soon as its entries have their indices and leaf hashes, before it is written;
 * `written` settles when the synced write does (rejects if it failed: the batch is then not in the
 * log, and its indices go to later entries). For work that needs only the hashes and can overlap
 * the disk, whose result must not be released unless `written` resolves (the operator's receipt
 * signature: node/access/access-ledger.ts).
 */
export type OnStaged = (commit: CommitGroup, written: Promise<void>) => void;

/** Counters of store work, for tests and benchmarks. */
export interface MerkleLogStats {
  appends: number;
  batches: number;
  /** Keys read from the store (bundles, tiles, projection keys). */
  reads: number;
}

/** Tuning of a MerkleLog. */
export interface MerkleLogOptions {
  /** Most entries committed in one batch (a single appendMany call is never split). Default 4096. */
  maxBatchEntries?: number;
  /** Entries per synced batch when converting a layout-1 store (a multiple of 256). Default 4096. */
  migrationChunk?: number;
  /** Called after each converted chunk is on disk, with the entries converted so far (tests stop a conversion here by throwing). */
  onMigrationChunk?: (migrated: number) => void;
}

/** Entries per bundle and hashes per tile. */
const WIDTH = 256;
/** Tree levels per tile level (log2 WIDTH). */
const TILE_HEIGHT = 8;
/** Full tiles (with their computed inner nodes) and full bundles kept in memory. */
const TILE_CACHE = 64;
const BUNDLE_CACHE = 16;
/** Keys per batch when the projection is rebuilt or layout-1 keys are deleted. */
const KEY_BATCH = 4096;

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
  onStaged?: OnStaged;
  resolve: (r: { results: AppendResult[]; commit: CommitGroup }) => void;
  reject: (e: unknown) => void;
}

type Op =
  | { type: "put"; sublevel: Table<Uint8Array>; key: string; value: Uint8Array }
  | { type: "put" | "del"; sublevel: Table<string>; key: string; value?: string }
  | { type: "del"; sublevel: Table<Uint8Array>; key: string };

const EMPTY = new Uint8Array(0);
const hex16 = (n: number): string => n.toString(16).padStart(16, "0");
const hex2 = (n: number): string => n.toString(16).padStart(2, "0");
const tileKey = (level: number, index: number): string => hex2(level) + hex16(index);
/** Lower-case hex without 0x (Buffer's native encoder: the projection hexes every leaf hash). */
const hexOf = (hash: Uint8Array): string => Buffer.from(hash.buffer, hash.byteOffset, hash.byteLength).toString("hex");
const projectionKey = (hash: Uint8Array, index: number): string => hexOf(hash) + hex16(index);

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

/**
 * Appends a leaf hash to the right border of a tree (its complete subtrees, left to right, heights
 * strictly decreasing), merging equal-height subtrees at the right edge; `completed` is told each
 * subtree a merge completes (height ≥ 1), lowest first.
 */
export function pushLeaf(border: { level: number; hash: Uint8Array }[], hash: Uint8Array, completed: (level: number, hash: Uint8Array) => void): void {
  border.push({ level: 0, hash });
  while (border.length >= 2 && border[border.length - 1].level === border[border.length - 2].level) {
    const right = border.pop()!;
    const left = border.pop()!;
    const merged = { level: left.level + 1, hash: nodeHash(left.hash, right.hash) };
    border.push(merged);
    completed(merged.level, merged.hash);
  }
}

/** Right fold of subtree hashes: the RFC 6962 hash of the range they cover. */
function foldRight(hashes: Uint8Array[]): Uint8Array {
  let acc = hashes[hashes.length - 1];
  for (let i = hashes.length - 2; i >= 0; i--) acc = nodeHash(hashes[i], acc);
  return acc;
}

/** One atomic batch across sublevels, fsynced before it resolves (classic-level's `sync`, absent from abstract-level's types). */
function syncedBatch(db: Db, ops: Op[], sync = true): Promise<void> {
  const batch = db.batch as (ops: Op[], options: { sync: boolean }) => Promise<void>;
  return batch.call(db, ops, { sync });
}

// ---- bundles and tiles ----

/** A bundle's value: each entry as uint16 big-endian length, then its bytes. */
function encodeBundle(entries: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const e of entries) length += 2 + e.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const e of entries) {
    if (e.length > 0xffff) throw new LogError("ENTRY_FIELD_INVALID", `entry of ${e.length} bytes does not fit a bundle's uint16 length`, { length: e.length });
    out[at] = e.length >> 8;
    out[at + 1] = e.length & 0xff;
    out.set(e, at + 2);
    at += 2 + e.length;
  }
  return out;
}

/** The entries of a bundle's value (views into it); LOG_CORRUPT when a length runs past its end. */
function decodeBundle(bytes: Uint8Array, key: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  while (at < bytes.length) {
    const length = at + 2 <= bytes.length ? (bytes[at] << 8) | bytes[at + 1] : Infinity;
    if (at + 2 + length > bytes.length) throw new LogError("LOG_CORRUPT", `bundle ${key} is cut off after ${out.length} entries`, { key, entries: out.length });
    out.push(bytes.subarray(at + 2, at + 2 + length));
    at += 2 + length;
  }
  return out;
}

/** A tile's value: its hashes concatenated. */
function encodeTile(hashes: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(32 * hashes.length);
  for (let i = 0; i < hashes.length; i++) out.set(hashes[i], 32 * i);
  return out;
}

/** The hashes of a tile's value (views into it); LOG_CORRUPT unless it is whole hashes. */
function decodeTile(bytes: Uint8Array, key: string): Uint8Array[] {
  if (bytes.length % 32 !== 0 || bytes.length > 32 * WIDTH) throw new LogError("LOG_CORRUPT", `tile ${key} is ${bytes.length} bytes, not up to ${WIDTH} hashes`, { key, length: bytes.length });
  return Array.from({ length: bytes.length / 32 }, (_, i) => bytes.subarray(32 * i, 32 * i + 32));
}

/**
 * A bundle or tile as stored: its pieces `<key><offset: 2 hex>` in key order, each starting where
 * the one before it ends. Returns the items (entries or hashes) and the offsets of the pieces.
 */
async function readPieces(table: Table<Uint8Array>, key: string, decode: (bytes: Uint8Array, key: string) => Uint8Array[]): Promise<{ items: Uint8Array[]; pieces: number[] }> {
  const items: Uint8Array[] = [];
  const pieces: number[] = [];
  for await (const [k, value] of table.iterator({ gte: key + "00", lte: key + "ff" })) {
    const offset = parseInt(k.slice(key.length), 16);
    if (offset !== items.length) throw new LogError("LOG_CORRUPT", `piece ${k} starts at ${offset}, not where the pieces before it end (${items.length})`, { key: k, offset });
    pieces.push(offset);
    for (const item of decode(value, k)) items.push(item);
  }
  return { items, pieces };
}

/**
 * The complete subtrees inside one tile: rows[r] holds the hashes of height 8·L + r (r = 0…7) at
 * positions within the tile, left to right. Rows above 0 are computed from row 0 when first asked.
 */
class TileNodes {
  constructor(readonly rows: Uint8Array[][] = [[]]) {}

  /** A copy that can grow without changing this one (for a commit that may fail). */
  copy(): TileNodes {
    return new TileNodes(this.rows.map((r) => r.slice()));
  }

  /** Row r, computed from the row below where it is shorter than the row below allows. */
  row(r: number): Uint8Array[] {
    for (let k = 1; k <= r; k++) {
      const below = this.rows[k - 1];
      const row = (this.rows[k] ??= []);
      for (let j = row.length; 2 * j + 1 < below.length; j++) row.push(nodeHash(below[2 * j], below[2 * j + 1]));
    }
    return this.rows[r];
  }
}

/** A bounded map that forgets the least recently used key. */
class Lru<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly limit: number) {}
  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }
  set(key: string, v: V): void {
    this.map.delete(key);
    this.map.set(key, v);
    if (this.map.size > this.limit) this.map.delete(this.map.keys().next().value!);
  }
  delete(key: string): void {
    this.map.delete(key);
  }
}

/** The store's tables, by name (one place for the layout). */
interface Tables {
  bundles: Table<Uint8Array>;
  tiles: Table<Uint8Array>;
  hashes: Table<Uint8Array>;
  meta: Table<string>;
  /** Layout 1, read only to convert it. */
  leaves: Table<Uint8Array>;
  nodes: Table<Uint8Array>;
}

function openTables(db: Db): Tables {
  const table = <V>(name: string, valueEncoding: "view" | "utf8") =>
    db.sublevel<string, V>(name, { keyEncoding: "utf8", valueEncoding }) as unknown as Table<V>;
  return { bundles: table("bundle", "view"), tiles: table("tile", "view"), hashes: table("hash", "view"), meta: table("meta", "utf8"), leaves: table("leaf", "view"), nodes: table("node", "view") };
}

/** The log's state at a committed size that a commit builds on: the right border, the partial last bundle and tiles. */
interface Edge {
  size: number;
  /** The complete subtrees of [0, size), left to right (the right border of the tree). */
  border: { level: number; hash: Uint8Array }[];
  /** Entries of bundle ⌊size / 256⌋ (fewer than 256), and the offsets of its stored pieces. */
  bundle: Uint8Array[];
  bundlePieces: number[];
  /** Per tile level L: the index of its last tile, the complete subtrees in it (fewer than 256 at row 0) and the offsets of its stored pieces. */
  tiles: { index: number; nodes: TileNodes; pieces: number[] }[];
}

/** The writes of a commit and the state they lead to. */
interface Staged {
  edge: Edge;
  ops: Op[];
  leafHashes: Uint8Array[];
  /** Tiles and bundles that became full in this commit (immutable from now on). */
  fullTiles: [string, TileNodes][];
  fullBundles: [string, Uint8Array[]][];
}

/**
 * Appends `entries` (with their leaf hashes when known) to the state `from`: the ops of one batch
 * and the state after it. `from` is not changed. What the commit adds to a bundle or tile is written
 * as one piece at the offset where it starts; the commit that fills a bundle or tile writes it whole
 * as the piece at offset 0 and deletes its other pieces, so a commit writes about its own bytes.
 */
function stage(t: Tables, from: Edge, entries: Uint8Array[], knownHashes?: Uint8Array[]): Staged {
  const border = [...from.border];
  const tiles = from.tiles.map((x) => ({ index: x.index, nodes: x.nodes.copy(), pieces: x.pieces }));
  let bundle = from.bundle.slice();
  let bundlePieces = from.bundlePieces;
  let bundleIndex = Math.floor(from.size / WIDTH);
  /** Per bundle or tile this commit adds to: where its addition starts, all its items, its pieces before. */
  type Dirty = { start: number; items: Uint8Array[]; pieces: number[] };
  const dirtyBundles = new Map<string, Dirty>();
  let dirtyBundleIndex = -1;
  const dirtyTiles = new Map<string, Dirty>();
  /** Per level, the tile this commit last marked dirty (its key's hex made once, not per hash). */
  const dirtyTileAt: number[] = [];
  const fullTiles: [string, TileNodes][] = [];
  const fullBundles: [string, Uint8Array[]][] = [];
  const leafHashes: Uint8Array[] = [];
  /** A complete subtree of height h: into the last tile of its level, starting a new tile when that one is full. */
  const add = (h: number, hash: Uint8Array) => {
    const level = Math.floor(h / TILE_HEIGHT);
    const r = h % TILE_HEIGHT;
    let tile = (tiles[level] ??= { index: 0, nodes: new TileNodes(), pieces: [] });
    if (r === 0 && tile.nodes.rows[0].length === WIDTH) {
      fullTiles.push([tileKey(level, tile.index), tile.nodes]);
      tile = tiles[level] = { index: tile.index + 1, nodes: new TileNodes(), pieces: [] };
    }
    const row = (tile.nodes.rows[r] ??= []);
    if (r === 0 && dirtyTileAt[level] !== tile.index) {
      dirtyTileAt[level] = tile.index;
      dirtyTiles.set(tileKey(level, tile.index), { start: row.length, items: row, pieces: tile.pieces });
      tile.pieces = [...tile.pieces, row.length];
    }
    row.push(hash);
  };
  for (const [i, bytes] of entries.entries()) {
    const hash = knownHashes ? knownHashes[i] : hashLeaf(bytes);
    leafHashes.push(hash);
    if (bundle.length === WIDTH) {
      fullBundles.push([hex16(bundleIndex), bundle]);
      [bundle, bundlePieces] = [[], []];
      bundleIndex++;
    }
    // Once per bundle this commit adds to, not per entry (the key's hex was 5 % of the log alone's CPU).
    if (bundleIndex !== dirtyBundleIndex) {
      dirtyBundleIndex = bundleIndex;
      dirtyBundles.set(hex16(bundleIndex), { start: bundle.length, items: bundle, pieces: bundlePieces });
      bundlePieces = [...bundlePieces, bundle.length];
    }
    bundle.push(bytes);
    add(0, hash);
    pushLeaf(border, hash, add);
  }
  if (bundle.length === WIDTH) {
    fullBundles.push([hex16(bundleIndex), bundle]);
    [bundle, bundlePieces] = [[], []];
  }
  for (const [level, tile] of tiles.entries()) {
    if (tile.nodes.rows[0].length === WIDTH) {
      fullTiles.push([tileKey(level, tile.index), tile.nodes]);
      tiles[level] = { index: tile.index + 1, nodes: new TileNodes(), pieces: [] };
    }
  }
  const ops: Op[] = [];
  const write = (table: Table<Uint8Array>, key: string, d: Dirty, encode: (items: Uint8Array[]) => Uint8Array) => {
    if (d.items.length === WIDTH && d.start > 0) {
      ops.push({ type: "put", sublevel: table, key: key + "00", value: encode(d.items) });
      for (const offset of d.pieces) if (offset > 0) ops.push({ type: "del", sublevel: table, key: key + hex2(offset) });
    } else {
      ops.push({ type: "put", sublevel: table, key: key + hex2(d.start), value: encode(d.items.slice(d.start)) });
    }
  };
  for (const [key, d] of dirtyBundles) write(t.bundles, key, d, encodeBundle);
  for (const [key, d] of dirtyTiles) write(t.tiles, key, d, encodeTile);
  const size = from.size + entries.length;
  ops.push({ type: "put", sublevel: t.meta, key: "size", value: String(size) });
  return { edge: { size, border, bundle, bundlePieces, tiles }, ops, leafHashes, fullTiles, fullBundles };
}

/** An append-only RFC 6962 Merkle log of access entries, persisted in LevelDB with group commit. */
export class MerkleLog {
  private edge: Edge = { size: 0, border: [], bundle: [], bundlePieces: [], tiles: [] };
  private queue: Pending[] = [];
  private flushing: Promise<void> | null = null;
  private stale = false;
  private closed = false;
  /** Time of the latest entry committed or queued: no append may be earlier (a failed batch's times still count). */
  private latestTime = 0;
  private readonly counters: MerkleLogStats = { appends: 0, batches: 0, reads: 0 };
  private readonly maxBatchEntries: number;
  /** Full tiles (immutable), by tile key; promises so that concurrent readers share one read. */
  private readonly tileCache = new Lru<Promise<TileNodes>>(TILE_CACHE);
  private readonly bundleCache = new Lru<Promise<Uint8Array[]>>(BUNDLE_CACHE);
  /** The `hash` projection: entries [0, hashed) are written; lookups of later ones scan their leaf hashes. */
  private hashed = 0;
  /** The projection's writes, one after another. */
  private projecting: Promise<void> = Promise.resolve();

  private constructor(
    private readonly db: Db,
    private readonly ownsDb: boolean,
    private readonly t: Tables,
    private readonly options: MerkleLogOptions,
  ) {
    this.maxBatchEntries = options.maxBatchEntries ?? 4096;
  }

  /** Opens (creating if needed) the log at a directory path, or inside an open level database or sublevel; converts a layout-1 store first. */
  static async open(location: string | LevelDatabase, options: MerkleLogOptions = {}): Promise<MerkleLog> {
    const owns = typeof location === "string";
    const db = (typeof location === "string" ? new Level(location) : location) as unknown as Db;
    await db.open();
    const log = new MerkleLog(db, owns, openTables(db), options);
    try {
      await log.upgrade();
      await log.reload();
      await log.catchUpProjection();
    } catch (err) {
      if (owns) await db.close();
      throw err;
    }
    return log;
  }

  /** Committed tree size (entries acknowledged so far). */
  size(): number {
    return this.edge.size;
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
  appendInCommit(entries: AccessLogEntry[], onStaged?: OnStaged): Promise<{ results: AppendResult[]; commit: CommitGroup }> {
    if (entries.length === 0) return Promise.reject(new RangeError("appendInCommit needs at least one entry"));
    return this.enqueue(entries.map(encodeEntry), onStaged);
  }

  /** Canonical bytes of the committed entry at `index`. */
  async get(index: number): Promise<Uint8Array> {
    this.checkIndex(index, this.edge.size);
    const edge = this.edge;
    const n = Math.floor(index / WIDTH);
    // Copies: the cached bundles must not change under a caller that writes into what it got.
    if (n === Math.floor(edge.size / WIDTH)) return edge.bundle[index % WIDTH].slice();
    return (await this.fullBundle(n))[index % WIDTH].slice();
  }

  /** The committed entry at `index`, decoded. */
  async getEntry(index: number): Promise<AccessLogEntry> {
    return decodeEntry(await this.get(index));
  }

  /** The committed entries at indices [begin, end), in order, as canonical bytes (one range read of bundles, not one read per entry). */
  async *range(begin: number, end: number): AsyncGenerator<Uint8Array> {
    this.checkSize(end, 0, "end");
    if (!Number.isSafeInteger(begin) || begin < 0 || begin > end) {
      throw new LogError("LOG_INDEX_OUT_OF_RANGE", `range start ${begin} is not within [0, ${end}]`, { begin, end });
    }
    const reads = { count: 0 };
    for await (const { bytes } of readEntries(this.t, begin, end, reads)) {
      this.counters.reads += reads.count;
      reads.count = 0;
      yield bytes.slice();
    }
    this.counters.reads += reads.count;
  }

  /**
   * The lowest index among the first `size` entries (default: all committed) whose time is at least
   * `time`, or `size` when none is: with the log in time order, entries [0, i) are before `time`
   * and [i, size) are not. O(log size) reads.
   */
  async indexAtTime(time: number, size: number = this.edge.size): Promise<number> {
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
  async rangeProof(begin: number, end: number, size: number = this.edge.size): Promise<{ left: Uint8Array[]; right: Uint8Array[] }> {
    this.checkSize(size, 0, "size");
    this.checkSize(end, 0, "end");
    if (end > size || !Number.isSafeInteger(begin) || begin < 0 || begin > end) {
      throw new LogError("LOG_SIZE_OUT_OF_RANGE", `range [${begin}, ${end}) is not within the tree of size ${size}`, { begin, end, size });
    }
    const left = rangeNodes(0, begin);
    const right = rangeNodes(end, size);
    const hashes = await this.nodes([...left, ...right]);
    return { left: hashes.slice(0, left.length), right: hashes.slice(left.length) };
  }

  /** Leaf hash of the committed entry at `index`. */
  async leafHashAt(index: number): Promise<Uint8Array> {
    this.checkIndex(index, this.edge.size);
    const [hash] = await this.nodes([{ level: 0, index }]);
    return hash;
  }

  /** Lowest committed index holding a leaf with this hash, or undefined. */
  async indexOfLeafHash(hash: Uint8Array): Promise<number | undefined> {
    const prefix = hexOf(hash);
    // Entries not yet in the projection first, by their leaf hashes (a commit or two): once `hashed`
    // is read, every entry below it is in the store by the time the store is read.
    const [from, size] = [this.hashed, this.edge.size];
    let found: number | undefined = (await this.leafHashes(from, size)).findIndex((h) => Buffer.compare(h, hash) === 0);
    found = found < 0 ? undefined : from + found;
    for await (const key of this.t.hashes.keys({ gt: prefix, lt: prefix + "~", limit: 1 })) {
      this.counters.reads++;
      const index = parseInt(key.slice(prefix.length), 16);
      if (found === undefined || index < found) found = index;
    }
    return found !== undefined && found < this.edge.size ? found : undefined;
  }

  /** RFC 6962 root hash of the first `size` entries (default: all committed). */
  async root(size: number = this.edge.size): Promise<Uint8Array> {
    this.checkSize(size, 0, "size");
    if (size === 0) return emptyRoot();
    if (size === this.edge.size) return foldRight(this.edge.border.map((b) => b.hash)).slice();
    const [root] = await this.resolve([rangeNodes(0, size)]);
    return root;
  }

  /** RFC 6962 audit path for the leaf at `index` in the tree of `size` (default: all committed). */
  async inclusionProof(index: number, size: number = this.edge.size): Promise<Uint8Array[]> {
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
  async consistencyProof(size1: number, size2: number = this.edge.size): Promise<Uint8Array[]> {
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

  /** Waits for queued appends to commit and their projection to be written, then closes the store if this log opened it. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.flushing) await this.flushing;
    await this.projecting;
    if (this.ownsDb) await this.db.close();
  }

  // ---- reads ----

  private checkSize(size: number, min: number, what: string): void {
    if (!Number.isSafeInteger(size) || size < min || size > this.edge.size) {
      throw new LogError("LOG_SIZE_OUT_OF_RANGE", `${what} ${size} is not within [${min}, ${this.edge.size}]`, {
        [what]: size,
        committed: this.edge.size,
      });
    }
  }

  private checkIndex(index: number, size: number): void {
    if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
      throw new LogError("LOG_INDEX_OUT_OF_RANGE", `index ${index} is not within tree size ${size}`, { index, size });
    }
  }

  private missing(what: string, key: string, size = this.edge.size): LogError {
    return new LogError("LOG_CORRUPT", `${what} ${key} is missing below committed size ${size}`, { key, size });
  }

  /** The entries of full bundle `n` (cached). */
  private fullBundle(n: number): Promise<Uint8Array[]> {
    const key = hex16(n);
    let p = this.bundleCache.get(key);
    if (!p) {
      p = readPieces(this.t.bundles, key, decodeBundle).then(({ items, pieces }) => {
        this.counters.reads += pieces.length;
        if (items.length < WIDTH) throw this.missing("entry", hex16(n * WIDTH + items.length));
        return items.slice(0, WIDTH);
      });
      p.catch(() => this.bundleCache.delete(key));
      this.bundleCache.set(key, p);
    }
    return p;
  }

  /** The nodes of full tile `index` at `level` (cached; inner nodes computed as asked). */
  private fullTile(level: number, index: number): Promise<TileNodes> {
    const key = tileKey(level, index);
    let p = this.tileCache.get(key);
    if (!p) {
      p = readPieces(this.t.tiles, key, decodeTile).then(({ items, pieces }) => {
        this.counters.reads += pieces.length;
        if (items.length < WIDTH) throw this.missing(`hash of height ${TILE_HEIGHT * level} at`, String(index * WIDTH + items.length));
        return new TileNodes([items.slice(0, WIDTH)]);
      });
      p.catch(() => this.tileCache.delete(key));
      this.tileCache.set(key, p);
    }
    return p;
  }

  /** Hashes of complete subtrees (each committed, so in the last tile of its level or in a full one). */
  private async nodes(ids: NodeId[]): Promise<Uint8Array[]> {
    const edge = this.edge;
    return Promise.all(
      ids.map(async ({ level: h, index }) => {
        const level = Math.floor(h / TILE_HEIGHT);
        const r = h % TILE_HEIGHT;
        const position = index * 2 ** r; // of its leftmost descendant of height 8·level
        const n = Math.floor(position / WIDTH);
        const last = edge.tiles[level];
        const tile = last && last.index === n ? last.nodes : await this.fullTile(level, n);
        const hash = tile.row(r)[(position % WIDTH) / 2 ** r];
        if (!hash) throw this.missing(`hash of height ${h} at`, String(index));
        return hash.slice(); // a copy, as for entries
      }),
    );
  }

  /** Hashes of each group of complete subtrees, each folded to one. */
  private async resolve(plan: NodeId[][]): Promise<Uint8Array[]> {
    const flat = await this.nodes(plan.flat());
    let offset = 0;
    return plan.map((group) => foldRight(flat.slice(offset, (offset += group.length))));
  }

  /** Loads the committed size, the right border and the partial last bundle and tiles from the store. */
  private async reload(): Promise<void> {
    const size = await readSize(this.t);
    this.edge = await readEdge(this.t, size, (n) => (this.counters.reads += n));
    if (size > 0) this.latestTime = Math.max(this.latestTime, timeOf(await this.get(size - 1)));
    this.stale = false;
  }

  // ---- the leaf-hash projection ----

  /** Leaf hashes of committed entries [from, to), a tile at a time. */
  private async leafHashes(from: number, to: number): Promise<Uint8Array[]> {
    const edge = this.edge;
    const out: Uint8Array[] = [];
    for (let n = Math.floor(from / WIDTH); n * WIDTH < to; n++) {
      const tile = edge.tiles[0].index === n ? edge.tiles[0].nodes : await this.fullTile(0, n);
      const row = tile.rows[0];
      for (let i = Math.max(from, n * WIDTH); i < Math.min(to, n * WIDTH + WIDTH); i++) {
        if (!row[i % WIDTH]) throw this.missing("leaf hash", hex16(i));
        out.push(row[i % WIDTH]);
      }
    }
    return out;
  }

  /** After a commit: the projection's write behind it (not synced; rebuilt on open if lost). */
  private project(): void {
    this.projecting = this.projecting.then(async () => void (await this.writeProjection(this.edge.size, false)));
  }

  /** Writes the projection keys of entries [hashed, to) and the cursor in one batch; whether it did. */
  private async writeProjection(to: number, sync: boolean): Promise<boolean> {
    const from = this.hashed;
    if (from >= to) return true;
    const hashes = await this.leafHashes(from, to);
    // A key per entry, prefixed here once and written below abstract-level's per-operation layer (node/store/raw-batch.ts).
    const { hashes: table, meta } = this.t;
    const puts: RawPut[] = new Array(hashes.length + 1);
    for (let i = 0; i < hashes.length; i++) puts[i] = { key: table.prefixKey(projectionKey(hashes[i], from + i), "utf8"), value: EMPTY };
    puts[hashes.length] = { key: meta.prefixKey("hashed", "utf8"), value: String(to) };
    try {
      await writeRaw(table.db, puts, { sync });
    } catch {
      // Handled: the entries stay in memory, where lookups find them, and the next write (after the next commit, or on open) retries them.
      return false;
    }
    this.hashed = to;
    return true;
  }

  /** On open: brings the projection up to the committed size from the level-0 tiles, in batches. */
  private async catchUpProjection(): Promise<void> {
    const text = await this.t.meta.get("hashed");
    const hashed = text === undefined ? 0 : Number(text);
    if (!Number.isSafeInteger(hashed) || hashed < 0) throw new LogError("LOG_CORRUPT", `stored projection cursor ${text} is not a size`, { hashed: String(text) });
    this.hashed = Math.min(hashed, this.edge.size);
    while (this.hashed < this.edge.size) {
      const to = Math.min(this.edge.size, this.hashed + KEY_BATCH);
      if (!(await this.writeProjection(to, true))) throw new LogError("LOG_WRITE_FAILED", `the leaf-hash projection could not be written at ${this.hashed}`, { hashed: this.hashed });
    }
  }

  // ---- layout 1 → layout 2 ----

  /** Converts a layout-1 store (see the file comment); resumes a conversion a crash interrupted. */
  private async upgrade(): Promise<void> {
    const layout = await this.t.meta.get("layout");
    if (layout === "2") return;
    if (layout !== undefined) throw new LogError("LOG_CORRUPT", `stored layout ${layout} is not one this log reads`, { layout });
    const size = await readSize(this.t);
    const chunk = this.options.migrationChunk ?? 4096;
    if (chunk <= 0 || chunk % WIDTH !== 0) throw new RangeError(`migrationChunk ${chunk} is not a positive multiple of ${WIDTH}`);
    const cursor = await this.t.meta.get("migrated");
    let edge = await readEdge(this.t, Number(cursor ?? 0), () => undefined);
    while (edge.size < size) {
      const to = Math.min(size, edge.size + chunk);
      const keys = Array.from({ length: to - edge.size }, (_, i) => hex16(edge.size + i));
      const [entries, hashes] = await Promise.all([this.t.leaves.getMany(keys), this.t.nodes.getMany(keys.map((k) => "00" + k))]);
      const gap = entries.findIndex((e, i) => e === undefined || hashes[i] === undefined);
      if (gap >= 0) throw this.missing("layout-1 entry or leaf hash", keys[gap], size);
      const staged = stage(this.t, edge, entries as Uint8Array[], hashes as Uint8Array[]);
      staged.ops.pop(); // the size stays the layout-1 size until the end
      staged.ops.push({ type: "put", sublevel: this.t.meta, key: "migrated", value: String(to) });
      await syncedBatch(this.db, staged.ops);
      edge = staged.edge;
      this.options.onMigrationChunk?.(to);
    }
    if (size > 0 && (await this.t.meta.get("migratedroot")) === undefined) {
      const ids = rangeNodes(0, size);
      const old = await this.t.nodes.getMany(ids.map((n) => n.level.toString(16).padStart(2, "0") + hex16(n.index)));
      const gap = old.findIndex((h) => h === undefined);
      if (gap >= 0) throw this.missing("layout-1 subtree hash", JSON.stringify(ids[gap]), size);
      const [was, now] = [toHex(foldRight(old as Uint8Array[])), toHex(foldRight(edge.border.map((b) => b.hash)))];
      if (was !== now) throw new LogError("LOG_CORRUPT", `the layout-1 store's root ${was} is not the root ${now} of its leaf hashes: not converted`, { was, now });
      // Checked once: a crash while the layout-1 keys are deleted must not check against half of them.
      await syncedBatch(this.db, [{ type: "put", sublevel: this.t.meta, key: "migratedroot", value: now }]);
    }
    for (const table of [this.t.leaves, this.t.nodes]) {
      for (;;) {
        const keys = await table.keys({ limit: KEY_BATCH }).all();
        if (keys.length === 0) break;
        await syncedBatch(this.db, keys.map((key) => ({ type: "del" as const, sublevel: table, key })));
      }
    }
    // The layout-1 `hash` keys are the projection of every entry.
    await syncedBatch(this.db, [
      { type: "put", sublevel: this.t.meta, key: "hashed", value: String(size) },
      { type: "del", sublevel: this.t.meta, key: "migrated" },
      { type: "del", sublevel: this.t.meta, key: "migratedroot" },
      { type: "put", sublevel: this.t.meta, key: "layout", value: "2" },
    ]);
  }

  // ---- group commit ----

  private enqueue(entries: Uint8Array[], onStaged?: OnStaged): Promise<{ results: AppendResult[]; commit: CommitGroup }> {
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
      this.queue.push({ entries, onStaged, resolve, reject });
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
        let commit: CommitGroup | undefined;
        const results = await this.commit(group.flatMap((p) => p.entries), (staged, written) => {
          commit = staged;
          for (const p of group) p.onStaged?.(staged, written);
        });
        let offset = 0;
        for (const p of group) p.resolve({ results: results.slice(offset, (offset += p.entries.length)), commit: commit! });
      } catch (cause) {
        const err = cause instanceof LogError ? cause : new LogError("LOG_WRITE_FAILED", `batch of ${count} entries was not committed`, { count }, { cause });
        for (const p of group) p.reject(err);
      }
    }
    this.flushing = null;
  }

  /** Writes `entries` at the next indices in one synced batch; in-memory state moves only once it is on disk. */
  private async commit(entries: Uint8Array[], onStaged: OnStaged): Promise<AppendResult[]> {
    if (this.stale) await this.reload();
    const first = this.edge.size;
    const staged = stage(this.t, this.edge, entries);
    let written: Promise<void>;
    try {
      written = syncedBatch(this.db, staged.ops);
    } catch (err) {
      written = Promise.reject(err);
    }
    // A listener's own handling decides what a failed write means to it; unhandled here, it is not an unhandled rejection.
    written.catch(() => undefined);
    try {
      onStaged({ first, leafHashes: staged.leafHashes }, written);
    } catch {
      // A listener's failure is its own; the batch is written all the same.
    }
    try {
      await written;
    } catch (cause) {
      // The batch may or may not have reached the disk: re-read the committed state before the next one.
      this.stale = true;
      throw new LogError("LOG_WRITE_FAILED", `batch of ${entries.length} entries at ${first} was not committed`, {
        count: entries.length,
        size: first,
      }, { cause });
    }
    this.edge = staged.edge;
    for (const [key, nodes] of staged.fullTiles) this.tileCache.set(key, Promise.resolve(nodes));
    for (const [key, bundle] of staged.fullBundles) this.bundleCache.set(key, Promise.resolve(bundle));
    this.counters.appends += entries.length;
    this.counters.batches++;
    this.project();
    return staged.leafHashes.map((leafHash, i) => ({ index: first + i, leafHash }));
  }
}

// ---- reads shared by the log and the store check ----

async function readSize(t: Tables): Promise<number> {
  const text = await t.meta.get("size");
  const size = text === undefined ? 0 : Number(text);
  if (!Number.isSafeInteger(size) || size < 0) throw new LogError("LOG_CORRUPT", `stored size ${text} is not a size`, { size: String(text) });
  return size;
}

/** The state at committed size `size` from the store: the partial last bundle and tile of each level, and the border from them. */
async function readEdge(t: Tables, size: number, reads: (n: number) => void): Promise<Edge> {
  /** The first `have` items of a bundle or tile, and its pieces below them. */
  const head = async (table: Table<Uint8Array>, key: string, have: number, decode: (bytes: Uint8Array, key: string) => Uint8Array[], what: string) => {
    if (have === 0) return { items: [], pieces: [] };
    const { items, pieces } = await readPieces(table, key, decode);
    reads(pieces.length);
    if (items.length < have) throw new LogError("LOG_CORRUPT", `${what} ${key} holds ${items.length}, fewer than the ${have} below committed size ${size}`, { key, size });
    return { items: items.slice(0, have), pieces: pieces.filter((o) => o < have) };
  };
  const tiles: Edge["tiles"] = [];
  for (let level = 0, count = size; count > 0; level++, count = Math.floor(count / WIDTH)) {
    const index = Math.floor(count / WIDTH);
    const { items, pieces } = await head(t.tiles, tileKey(level, index), count % WIDTH, decodeTile, "tile");
    const nodes = new TileNodes([items]);
    nodes.row(TILE_HEIGHT - 1); // every complete subtree in it, as commits keep them
    tiles.push({ index, nodes, pieces });
  }
  const bundle = await head(t.bundles, hex16(Math.floor(size / WIDTH)), size % WIDTH, decodeBundle, "bundle");
  // The border's subtrees all lie in the last tile of their level (each is shorter than a full tile above it).
  const border = rangeNodes(0, size).map(({ level: h, index }) => {
    const r = h % TILE_HEIGHT;
    const hash = tiles[Math.floor(h / TILE_HEIGHT)].nodes.row(r)[((index * 2 ** r) % WIDTH) / 2 ** r];
    return { level: h, hash };
  });
  return { size, border, bundle: bundle.items, bundlePieces: bundle.pieces, tiles };
}

/** Entries [begin, end) with their stored leaf hashes, in order, a bundle (and level-0 tile, when asked) at a time; LOG_CORRUPT at the first one missing. */
async function* readEntries(t: Tables, begin: number, end: number, reads: { count: number }): AsyncGenerator<{ index: number; bytes: Uint8Array; tileHash: () => Promise<Uint8Array> }> {
  let tile: { n: number; hashes: Uint8Array[] } | undefined;
  const hashOf = async (index: number): Promise<Uint8Array> => {
    const n = Math.floor(index / WIDTH);
    if (tile?.n !== n) {
      const { items, pieces } = await readPieces(t.tiles, tileKey(0, n), decodeTile);
      reads.count += pieces.length;
      tile = { n, hashes: items };
    }
    const hash = tile.hashes[index % WIDTH];
    if (!hash) throw new LogError("LOG_CORRUPT", `leaf hash ${hex16(index)} is missing below committed size ${end}`, { key: hex16(index), size: end });
    return hash;
  };
  for (let n = Math.floor(begin / WIDTH); n * WIDTH < end; n++) {
    const { items, pieces } = await readPieces(t.bundles, hex16(n), decodeBundle);
    reads.count += pieces.length;
    for (let i = Math.max(begin, n * WIDTH); i < Math.min(end, n * WIDTH + WIDTH); i++) {
      const bytes = items[i % WIDTH];
      if (!bytes) throw new LogError("LOG_CORRUPT", `leaf ${hex16(i)} is missing below committed size ${end}`, { key: hex16(i), size: end });
      yield { index: i, bytes, tileHash: () => hashOf(i) };
    }
  }
}

/** What the store check reads of a log's store, raw and unverified, so that the layout is known in this file alone. */
export class LogStoreReader {
  private readonly t: Tables;

  /** A reader of the log stored in `location` (an open level database or sublevel, as given to MerkleLog.open). */
  constructor(location: LevelDatabase) {
    this.t = openTables(location as unknown as Db);
  }

  /** Describes an entry or hash stored at or beyond the committed `size`, if there is one (a lowered size, a truncated store). */
  async beyond(size: number): Promise<string | undefined> {
    const n = Math.floor(size / WIDTH);
    if ((await readPieces(this.t.bundles, hex16(n), decodeBundle)).items.length > size % WIDTH) return `entry ${size} is stored beyond the committed size ${size}`;
    for await (const key of this.t.bundles.keys({ gt: hex16(n) + "ff", limit: 1 })) return `entries from ${parseInt(key.slice(0, 16), 16) * WIDTH} are stored beyond the committed size ${size}`;
    // Each tile level: nothing past the count of complete subtrees of its height.
    for (let level = 0, count = size; ; level++, count = Math.floor(count / WIDTH)) {
      const key = tileKey(level, Math.floor(count / WIDTH));
      const stored = (await readPieces(this.t.tiles, key, decodeTile)).items.length;
      const later = await this.t.tiles.keys({ gt: key + "ff", lt: tileKey(level + 1, 0), limit: 1 }).all();
      if (stored > count % WIDTH || later.length > 0) return `hashes of height ${TILE_HEIGHT * level} are stored beyond the ${count} complete subtrees of the committed size ${size}`;
      if (count === 0) return undefined;
    }
  }

  /** Entries [begin, end) as stored, each with its stored leaf hash, in order; throws LOG_CORRUPT at the first one missing. */
  async *entries(begin: number, end: number): AsyncGenerator<{ index: number; bytes: Uint8Array; leafHash: Uint8Array }> {
    for await (const e of readEntries(this.t, begin, end, { count: 0 })) yield { index: e.index, bytes: e.bytes, leafHash: await e.tileHash() };
  }

  /**
   * Each stored hash above the leaves in the tree of `size`: the hash of a complete subtree of
   * height 8·level at `index`, beside the root recomputed from the 256 stored hashes it covers one
   * tile level below. Throws LOG_CORRUPT when a tile is missing or short.
   */
  async *subtrees(size: number): AsyncGenerator<{ level: number; index: number; stored: Uint8Array; computed: Uint8Array }> {
    for (let level = 1; WIDTH ** level <= size; level++) {
      const count = Math.floor(size / WIDTH ** level);
      const tile = async (l: number, n: number, need: number): Promise<Uint8Array[]> => {
        const key = tileKey(l, n);
        const hashes = (await readPieces(this.t.tiles, key, decodeTile)).items;
        if (hashes.length < need) throw new LogError("LOG_CORRUPT", `tile ${key} holds ${hashes.length} hashes, fewer than the ${need} below committed size ${size}`, { key, size });
        return hashes;
      };
      let above: Uint8Array[] = [];
      for (let index = 0; index < count; index++) {
        if (index % WIDTH === 0) above = await tile(level, index / WIDTH, Math.min(WIDTH, count - index));
        const below = await tile(level - 1, index, WIDTH);
        yield { level, index, stored: above[index % WIDTH], computed: new TileNodes([below.slice(0, WIDTH)]).row(TILE_HEIGHT - 1).reduce((l, r) => nodeHash(l, r)) };
      }
    }
  }
}
