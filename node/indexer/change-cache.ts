/**
 * Reads of the indexer's tables, shared while the indexer applies nothing new (its tables change
 * only then): `read()` runs once per key while `generation()` (the indexer's change count) stays the
 * same. A failed read is not kept, and at most `limit` keys are (all forgotten beyond it).
 */
export class ChangeCache {
  private readonly reads = new Map<string, Promise<unknown>>();
  private at = -1;

  constructor(
    private readonly generation: () => number,
    private readonly limit: number,
  ) {}

  /** What `read()` gave for `key` in this generation, read now if nothing did yet. */
  get<T>(key: string, read: () => Promise<T>): Promise<T> {
    const at = this.generation();
    if (at !== this.at || this.reads.size >= this.limit) {
      this.reads.clear();
      this.at = at;
    }
    let p = this.reads.get(key);
    if (!p) {
      const started = read();
      this.reads.set(key, started);
      started.catch(() => this.reads.get(key) === started && this.reads.delete(key));
      p = started;
    }
    return p as Promise<T>;
  }
}
