/**
 * The access log's projection: secondary indexes for audit queries (by consumer, provider,
 * resource, agreement, subject, response hash), per-department statistics and per-agreement usage.
 *
 * It is derived state: everything here can be rebuilt from the log. Writes are applied in log
 * order, one batch per appended run, together with `projectedSize`; on start the projection
 * catches up from `projectedSize` to the log's size, so a crash between an append and its
 * projection loses nothing (the log is the truth, its batches are synced; these are not).
 */
import type { AbstractSublevel } from "abstract-level";
import type { AccessLogEntry } from "../log/entry";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Table = AbstractSublevel<any, any, string, any>;

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

function emptyStats(): DepartmentStats {
  return { callsAsConsumer: 0, refusedAsConsumer: 0, recordsReceived: 0, callsAsProvider: 0, recordsProvided: 0, refusalsByReason: {} };
}

/** Secondary indexes, statistics and usage over the access log. */
export class AuditIndex {
  private readonly index: Table;
  private readonly stats: Table;
  private readonly meta: Table;
  private projected = 0;
  private readonly usage = new Map<string, bigint>();
  private readonly statsCache = new Map<string, DepartmentStats>();
  private pending = new Map<number, AccessLogEntry>();
  private applying: Promise<void> = Promise.resolve();

  constructor(db: { sublevel: (name: string, options: object) => unknown }) {
    const root = db.sublevel("audit", { valueEncoding: "json" }) as Table;
    this.index = root.sublevel("ix", { valueEncoding: "utf8" }) as Table;
    this.stats = root.sublevel("stats", { valueEncoding: "json" }) as Table;
    this.meta = root.sublevel("meta", { valueEncoding: "json" }) as Table;
  }

  /** Loads counters and catches up with the log's first `size` entries, reading them with `read`. */
  async open(size: number, read: (index: number) => Promise<AccessLogEntry>): Promise<void> {
    this.projected = ((await this.meta.get("projected")) as number | undefined) ?? 0;
    for await (const [k, v] of this.meta.iterator({ gt: "usage!", lt: "usage!~" })) {
      this.usage.set((k as string).slice(6), BigInt(v as string));
    }
    for await (const [k, v] of this.stats.iterator()) this.statsCache.set(k as string, v as DepartmentStats);
    for (let i = this.projected; i < size; i++) this.pending.set(i, await read(i));
    await this.flush();
  }

  /** Entries projected so far. */
  size(): number {
    return this.projected;
  }

  /** Served records per agreement so far (projected entries only). */
  usageOf(agreementId: string): bigint {
    return this.usage.get(agreementId) ?? 0n;
  }

  /** Every agreement's cumulative usage (for the anchorer's usage reports). */
  allUsage(): Map<string, bigint> {
    return new Map(this.usage);
  }

  /** Adds entries that the log acknowledged at `first`, `first+1`, …; applied in log order. */
  add(first: number, entries: AccessLogEntry[]): Promise<void> {
    entries.forEach((e, i) => this.pending.set(first + i, e));
    return this.flush();
  }

  /** Statistics of department `id`. */
  statsOf(id: string): DepartmentStats {
    return this.statsCache.get(id) ?? emptyStats();
  }

  /** Log indexes of entries matching `value` on `dimension`, ascending, after `after`, at most `limit`. */
  async indexes(dimension: AuditDimension, value: string, after: number, limit: number): Promise<number[]> {
    const prefix = `${PREFIX[dimension]}!${value}!`;
    const out: number[] = [];
    for await (const key of this.index.keys({ gt: prefix + pad(after), lt: prefix + "~", limit })) {
      out.push(parseInt((key as string).slice(prefix.length), 16));
    }
    return out;
  }

  private flush(): Promise<void> {
    this.applying = this.applying.then(() => this.applyContiguous());
    return this.applying;
  }

  private async applyContiguous(): Promise<void> {
    const ops: object[] = [];
    const touched = new Set<string>();
    while (this.pending.has(this.projected)) {
      const i = this.projected;
      const e = this.pending.get(i)!;
      this.pending.delete(i);
      const key = (d: AuditDimension, v: string) => ({ type: "put", sublevel: this.index, key: `${PREFIX[d]}!${v}!${pad(i)}`, value: "" });
      ops.push(key("consumer", e.consumerDept), key("provider", e.providerDept), key("resource", e.resourceId), key("agreement", e.agreementId));
      if (e.subjectCommitment) ops.push(key("subject", e.subjectCommitment));
      if (e.outcome === "served") ops.push(key("response", e.responseHash));
      const consumer = this.mutableStats(e.consumerDept);
      consumer.callsAsConsumer++;
      touched.add(e.consumerDept);
      if (e.outcome === "served") {
        consumer.recordsReceived += e.recordCount;
        const provider = this.mutableStats(e.providerDept);
        provider.callsAsProvider++;
        provider.recordsProvided += e.recordCount;
        touched.add(e.providerDept);
        this.usage.set(e.agreementId, this.usageOf(e.agreementId) + BigInt(e.recordCount));
        ops.push({ type: "put", sublevel: this.meta, key: `usage!${e.agreementId}`, value: this.usage.get(e.agreementId)!.toString() });
      } else {
        consumer.refusedAsConsumer++;
        consumer.refusalsByReason[e.refusalReason] = (consumer.refusalsByReason[e.refusalReason] ?? 0) + 1;
      }
      this.projected++;
    }
    if (ops.length === 0) return;
    for (const id of touched) ops.push({ type: "put", sublevel: this.stats, key: id, value: this.statsCache.get(id) });
    ops.push({ type: "put", sublevel: this.meta, key: "projected", value: this.projected });
    await this.meta.db.batch(ops as never);
  }

  private mutableStats(id: string): DepartmentStats {
    let s = this.statsCache.get(id);
    if (!s) this.statsCache.set(id, (s = emptyStats()));
    return s;
  }
}
