import type { AccessLogEntry } from "./entry";

/**
 * The entries logged last, as the objects that were encoded, for readers that follow right behind
 * the log (the alert rules, node/alerts/alert-engine.ts): reading them back and decoding them again
 * was a tenth of a 1,000-call request's CPU (npm run bench -- --profile). Only what a caller adds is
 * here, in one run of consecutive indices: an addition that does not continue the run starts a new
 * one. A reader asks for a range and reads the log itself when it is not all here.
 */
export class RecentEntries {
  private readonly ring: (AccessLogEntry | undefined)[];
  /** The run held: indices [from, to). */
  private from = 0;
  private to = 0;

  constructor(readonly capacity = 32_768) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`capacity ${capacity} is not a positive integer`);
    this.ring = new Array(capacity);
  }

  /** Entries logged at `first`, `first` + 1, … (exactly as encoded into the log). */
  add(first: number, entries: readonly AccessLogEntry[]): void {
    if (first !== this.to) this.from = this.to = first;
    for (const e of entries) this.ring[this.to++ % this.capacity] = e;
    this.from = Math.max(this.from, this.to - this.capacity);
  }

  /** Entries [from, to) when all of them are held, else undefined. */
  range(from: number, to: number): AccessLogEntry[] | undefined {
    if (from < this.from || to > this.to || from > to) return undefined;
    const out: AccessLogEntry[] = new Array(to - from);
    for (let i = from; i < to; i++) out[i - from] = this.ring[i % this.capacity]!;
    return out;
  }
}
