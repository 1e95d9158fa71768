/**
 * The access log's projection: secondary indexes for audit queries (by consumer, provider,
 * resource, agreement, subject, response hash), per-department statistics and per-agreement usage.
 *
 * It is derived state: everything here can be rebuilt from the log. The in-memory counters move
 * as soon as the log acknowledges entries (`add`, synchronously); the index keys, counters and
 * `projected` are written behind, off the request's path, in log order, one unsynced batch at a
 * time holding everything added since the last (so under load one write covers many requests).
 * On start the projection catches up from the stored `projected` to the log's size, so a crash
 * before a write lands loses nothing (the log is the truth, its batches are synced; these are
 * not). Readers of the keys (`indexes`) wait for the writes of what was added before them. A
 * failed write is reported and retried with the next one (its postings first), never dropped.
 *
 * On disk, under the root's `audit` sublevel:
 *
 *   - `px/<d>!<value>!<last>` → a posting list: the ascending log indexes, all of one write batch,
 *     of the entries whose dimension `d` (c consumer, p provider, r resource, a agreement,
 *     s subject, h response hash) is `value`; `<last>` is the list's last index as 12 hex digits.
 *     Keying by the last index lets a query `after` seek straight to the one list that holds the
 *     first index above it (the first key above `pad(after)`), then read on. The value is bytes:
 *     the first index then each gap to the previous one, as unsigned LEB128 varints — one byte per
 *     index while an agreement's calls are fewer than 128 log entries apart. So a batch writes one
 *     key per (dimension, value) it touched, not one per entry and dimension.
 *   - `ix/<d>!<value>!<index>` → "": the layout before posting lists, one key per entry and
 *     dimension. Stores written by it keep these keys for the entries below `meta/postingsFrom`
 *     and are read as they are; nothing is rewritten.
 *   - `meta/postingsFrom`: the first index whose keys are posting lists (the stored `projected`
 *     when this layout first opened the store; 0 for a new store).
 *   - `meta/projected`: entries whose keys, counters and usage are written (`writtenSize`).
 *   - `meta/usage!<agreement>`: served records per agreement; `stats/<department>`: DepartmentStats.
 */
import type { AbstractSublevel } from "abstract-level";
import type { AccessLogEntry } from "../log/entry";
import { writeRaw, type RawPut } from "../store/raw-batch";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Table = AbstractSublevel<any, any, string, any>;

/** Where a failed background write, and the end of the failures, are reported (a pino logger fits). */
export interface AuditIndexLogger {
  error(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** Counters per department. */
export interface DepartmentStats {
  callsAsConsumer: number;
  refusedAsConsumer: number;
  recordsReceived: number;
  callsAsProvider: number;
  recordsProvided: number;
  refusalsByReason: Record<string, number>;
}

/** Which secondary index a query scans. */
export type AuditDimension = "consumer" | "provider" | "resource" | "agreement" | "subject" | "response";

const PREFIX: Record<AuditDimension, string> = {
  consumer: "c",
  provider: "p",
  resource: "r",
  agreement: "a",
  subject: "s",
  response: "h",
};

const pad = (n: number) => n.toString(16).padStart(12, "0");

/** Packs ascending indexes as varints: the first one, then each gap to the one before. */
export function packPostings(indexes: readonly number[]): Uint8Array {
  // Arithmetic rather than bit operators: indexes may pass 2^31. Sized first: one allocation per list (most hold one index).
  let length = 0;
  let previous = 0;
  for (const i of indexes) {
    for (let n = i - previous; n >= 0x80; n = Math.floor(n / 0x80)) length++;
    length++;
    previous = i;
  }
  const out = new Uint8Array(length);
  let at = 0;
  previous = 0;
  for (const i of indexes) {
    let n = i - previous;
    previous = i;
    while (n >= 0x80) {
      out[at++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    out[at++] = n;
  }
  return out;
}

/** The indexes `packPostings` packed. */
export function unpackPostings(bytes: Uint8Array): number[] {
  const out: number[] = [];
  let previous = 0;
  for (let at = 0; at < bytes.length; ) {
    let n = 0;
    let scale = 1;
    let b: number;
    do {
      b = bytes[at++];
      n += (b & 0x7f) * scale;
      scale *= 0x80;
    } while (b & 0x80);
    previous += n;
    out.push(previous);
  }
  return out;
}

/** Appends index `i` to the posting list of `prefix`. */
function post(lists: Map<string, number[]>, i: number, prefix: string): void {
  const list = lists.get(prefix);
  if (list) list.push(i);
  else lists.set(prefix, [i]);
}

function emptyStats(): DepartmentStats {
  return { callsAsConsumer: 0, refusedAsConsumer: 0, recordsReceived: 0, callsAsProvider: 0, recordsProvided: 0, refusalsByReason: {} };
}

/** Secondary indexes, statistics and usage over the access log. */
export class AuditIndex {
  /** Posting lists (the layout since `postingsFrom`). */
  private readonly postings: Table;
  /** One key per entry and dimension (the layout below `postingsFrom`, read only). */
  private readonly legacy: Table;
  private readonly stats: Table;
  private readonly meta: Table;
  /** Entries projected into the counters and `unwritten` (written or not). */
  private projected = 0;
  /** Entries whose keys are on disk (the stored `projected`). */
  private written = 0;
  /** The first index whose keys are posting lists; `legacy` keys hold the ones below. */
  private postingsFrom = 0;
  private readonly usage = new Map<string, bigint>();
  private readonly statsCache = new Map<string, DepartmentStats>();
  private readonly pending = new Map<number, AccessLogEntry>();
  /** Posting lists projected but not yet written, by key prefix (`<d>!<value>!`); counters touched since the last write. */
  private unwritten = new Map<string, number[]>();
  private readonly touchedStats = new Set<string>();
  private readonly touchedUsage = new Set<string>();
  private writing: Promise<void> | null = null;
  private lastError: unknown;
  /** Writes failed in a row (the current outage). */
  private failedWrites = 0;
  private retry: NodeJS.Timeout | undefined;

  constructor(db: { sublevel: (name: string, options: object) => unknown }, private readonly options: { logger?: AuditIndexLogger; retryMs?: number } = {}) {
    const root = db.sublevel("audit", { valueEncoding: "json" }) as Table;
    this.postings = root.sublevel("px", { valueEncoding: "view" }) as Table;
    this.legacy = root.sublevel("ix", { valueEncoding: "utf8" }) as Table;
    this.stats = root.sublevel("stats", { valueEncoding: "json" }) as Table;
    this.meta = root.sublevel("meta", { valueEncoding: "json" }) as Table;
  }

  /** Loads counters and catches up with the log's first `size` entries, reading them with `read`; resolves once that is written. */
  async open(size: number, read: (index: number) => Promise<AccessLogEntry>): Promise<void> {
    this.projected = this.written = ((await this.meta.get("projected")) as number | undefined) ?? 0;
    const from = (await this.meta.get("postingsFrom")) as number | undefined;
    // A store first opened by this layout: what is written is in `legacy` keys, what comes next in posting lists.
    if (from === undefined) await this.meta.put("postingsFrom", this.written);
    this.postingsFrom = from ?? this.written;
    for await (const [k, v] of this.meta.iterator({ gt: "usage!", lt: "usage!~" })) {
      this.usage.set((k as string).slice(6), BigInt(v as string));
    }
    for await (const [k, v] of this.stats.iterator()) this.statsCache.set(k as string, v as DepartmentStats);
    for (let i = this.projected; i < size; i++) {
      this.pending.set(i, await read(i));
      if (this.pending.size >= 10_000) this.project(); // bounded memory on a long catch-up
    }
    this.project();
    await this.settled();
  }

  /** Entries projected so far (counted in the statistics; their index keys may still be being written). */
  size(): number {
    return this.projected;
  }

  /** Entries whose index keys are written (readers of `indexes` wait for the rest). */
  writtenSize(): number {
    return this.written;
  }

  /** Served records per agreement so far (projected entries only). */
  usageOf(agreementId: string): bigint {
    return this.usage.get(agreementId) ?? 0n;
  }

  /** Every agreement's cumulative usage (for the anchorer's usage reports). */
  allUsage(): Map<string, bigint> {
    return new Map(this.usage);
  }

  /**
   * Adds entries that the log acknowledged at `first`, `first+1`, …: counted at once (in log
   * order, once the entries before them are added), written behind. Never waits and never throws
   * for the write: a failed write is logged and retried.
   */
  add(first: number, entries: AccessLogEntry[]): void {
    entries.forEach((e, i) => this.pending.set(first + i, e));
    this.project();
  }

  /** Resolves once everything projected before the call is written; rejects with the last write error while writes fail. */
  async settled(): Promise<void> {
    const target = this.projected;
    while (this.written < target) {
      if (!this.writing) {
        if (this.lastError !== undefined) throw this.lastError; // a retry is scheduled
        this.startWrite();
      }
      await this.writing;
    }
  }

  /** Statistics of department `id`. */
  statsOf(id: string): DepartmentStats {
    return this.statsCache.get(id) ?? emptyStats();
  }

  /** Log indexes of entries matching `value` on `dimension`, ascending, after `after`, at most `limit` (waits for the keys of entries added before). */
  async indexes(dimension: AuditDimension, value: string, after: number, limit: number): Promise<number[]> {
    await this.settled();
    const prefix = `${PREFIX[dimension]}!${value}!`;
    const out: number[] = [];
    if (limit <= 0) return out;
    if (after < this.postingsFrom - 1) {
      for await (const key of this.legacy.keys({ gt: prefix + pad(after), lt: prefix + pad(this.postingsFrom), limit })) {
        out.push(parseInt((key as string).slice(prefix.length), 16));
      }
      if (out.length === limit) return out;
    }
    // A list is keyed by its last index: the first key above `after` is the list holding the first index above it.
    for await (const packed of this.postings.values({ gt: prefix + pad(after), lt: prefix + "~" })) {
      for (const i of unpackPostings(packed as Uint8Array)) {
        if (i <= after) continue;
        out.push(i);
        if (out.length === limit) return out;
      }
    }
    return out;
  }

  /** Waits for the write in flight, then stops retrying. */
  async close(): Promise<void> {
    clearTimeout(this.retry);
    this.retry = undefined;
    await this.writing?.catch(() => undefined);
  }

  /** Counts the contiguous pending entries and queues their postings; starts a write if none is in flight. */
  private project(): void {
    const lists = this.unwritten;
    while (this.pending.has(this.projected)) {
      const i = this.projected;
      const e = this.pending.get(i)!;
      this.pending.delete(i);
      post(lists, i, PREFIX.consumer + "!" + e.consumerDept + "!");
      post(lists, i, PREFIX.provider + "!" + e.providerDept + "!");
      post(lists, i, PREFIX.resource + "!" + e.resourceId + "!");
      post(lists, i, PREFIX.agreement + "!" + e.agreementId + "!");
      if (e.subjectCommitment) post(lists, i, PREFIX.subject + "!" + e.subjectCommitment + "!");
      if (e.outcome === "served") post(lists, i, PREFIX.response + "!" + e.responseHash + "!");
      const consumer = this.mutableStats(e.consumerDept);
      consumer.callsAsConsumer++;
      this.touchedStats.add(e.consumerDept);
      if (e.outcome === "served") {
        consumer.recordsReceived += e.recordCount;
        const provider = this.mutableStats(e.providerDept);
        provider.callsAsProvider++;
        provider.recordsProvided += e.recordCount;
        this.touchedStats.add(e.providerDept);
        this.usage.set(e.agreementId, this.usageOf(e.agreementId) + BigInt(e.recordCount));
        this.touchedUsage.add(e.agreementId);
      } else {
        consumer.refusedAsConsumer++;
        consumer.refusalsByReason[e.refusalReason] = (consumer.refusalsByReason[e.refusalReason] ?? 0) + 1;
      }
      this.projected++;
    }
    if (this.written < this.projected && !this.writing && this.retry === undefined) this.startWrite();
  }

  /** Writes everything projected and not yet written in one batch; when more was projected meanwhile, writes again. */
  private startWrite(): void {
    const upTo = this.projected;
    // The counters go in as absolute values (as of `upTo`), once per batch however many entries touched them.
    const lists = this.unwritten;
    this.unwritten = new Map();
    const counters: [Table, string, unknown][] = [];
    for (const id of this.touchedStats) counters.push([this.stats, id, structuredClone(this.statsCache.get(id))]);
    for (const id of this.touchedUsage) counters.push([this.meta, `usage!${id}`, this.usage.get(id)!.toString()]);
    const [stats, usage] = [[...this.touchedStats], [...this.touchedUsage]];
    this.touchedStats.clear();
    this.touchedUsage.clear();
    counters.push([this.meta, "projected", upTo]);
    // About one posting list per entry (its response hash): prefixed here once and written below
    // abstract-level's per-operation layer (node/store/raw-batch.ts); the counters as their json encoding.
    const write = () => {
      const puts: RawPut[] = [];
      for (const [prefix, list] of lists) puts.push({ key: this.postings.prefixKey(prefix + pad(list[list.length - 1]), "utf8"), value: packPostings(list) });
      for (const [sublevel, key, value] of counters) puts.push({ key: sublevel.prefixKey(key, "utf8"), value: JSON.stringify(value) });
      return writeRaw(this.meta.db, puts, { sync: false });
    };
    this.writing = write().then(
      () => {
        this.written = upTo;
        if (this.lastError !== undefined) this.options.logger?.warn({ written: this.written, failedWrites: this.failedWrites }, "audit index writes resumed");
        this.lastError = undefined;
        this.failedWrites = 0;
        this.writing = null;
        if (this.written < this.projected) this.startWrite();
      },
      (err: unknown) => {
        // Nothing of it landed (a batch is atomic): put its postings back in front, its counters touched again.
        for (const [prefix, list] of this.unwritten) {
          const before = lists.get(prefix);
          lists.set(prefix, before ? before.concat(list) : list);
        }
        this.unwritten = lists;
        for (const id of stats) this.touchedStats.add(id);
        for (const id of usage) this.touchedUsage.add(id);
        this.lastError = err;
        this.writing = null;
        // Logged once per outage (and then every 60 retries), not once a second while the store is down.
        if (this.failedWrites++ % 60 === 0) this.options.logger?.error({ err, written: this.written, projected: this.projected, failedWrites: this.failedWrites }, "audit index write failed; retrying");
        this.retry = setTimeout(() => {
          this.retry = undefined;
          if (this.written < this.projected && !this.writing) this.startWrite();
        }, this.options.retryMs ?? 1000);
        this.retry.unref?.();
      },
    );
  }

  private mutableStats(id: string): DepartmentStats {
    let s = this.statsCache.get(id);
    if (!s) this.statsCache.set(id, (s = emptyStats()));
    return s;
  }
}
