/**
 * Remembers the nonces of signed requests for as long as their timestamp is acceptable, so a
 * replay inside the window is refused. Kept in memory (checked and set synchronously, so two
 * concurrent copies of a request cannot both pass) and in LevelDB (so a restart does not reopen
 * the window); entries older than the window are pruned.
 */
import type { AbstractSublevel } from "abstract-level";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Table = AbstractSublevel<any, any, string, number>;

/** Nonces seen per department, each until its timestamp leaves the acceptance window. */
export class NonceStore {
  private readonly seen = new Map<string, number>();
  private readonly table: Table;
  /** Claimed nonces not yet written: one batch per turn of the event loop instead of a put per request. */
  private unwritten: { type: "put"; key: string; value: number }[] = [];

  constructor(
    db: { sublevel: (name: string, options: object) => unknown },
    private readonly windowSeconds: number,
  ) {
    this.table = db.sublevel("nonces", { valueEncoding: "json" }) as Table;
  }

  /** Loads the nonces still inside the window. */
  async open(now: number): Promise<void> {
    for await (const [key, ts] of this.table.iterator()) {
      if (ts >= now - this.windowSeconds) this.seen.set(key, ts);
    }
  }

  /** Claims `nonce` for `department`: true the first time, false for a replay. */
  claim(department: string, nonce: string, timestamp: number): boolean {
    const key = `${department}!${nonce}`;
    if (this.seen.has(key)) return false;
    this.seen.set(key, timestamp);
    if (this.unwritten.length === 0) setImmediate(() => this.write());
    this.unwritten.push({ type: "put", key, value: timestamp });
    return true;
  }

  /** Writes the nonces claimed since the last write (memory is authoritative while running). */
  private write(): void {
    const ops = this.unwritten;
    this.unwritten = [];
    void this.table.batch(ops).catch(() => undefined);
  }

  /** Forgets nonces whose timestamp left the window. */
  async prune(now: number): Promise<void> {
    const stale = [...this.seen].filter(([, ts]) => ts < now - this.windowSeconds).map(([k]) => k);
    for (const k of stale) this.seen.delete(k);
    if (stale.length) await this.table.batch(stale.map((key) => ({ type: "del" as const, key })));
  }
}
