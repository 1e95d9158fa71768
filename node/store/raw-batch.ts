/**
 * Many puts in one LevelDB batch, below abstract-level's per-operation layer. The log's leaf-hash
 * projection and the audit index's posting lists write about one key per logged entry each; through
 * abstract-level's public batch every put is copied into an options object, its encodings looked up,
 * its key and value checked, encoded and prefixed — about three times the CPU of the put itself
 * (scripts/bench micro-run: ~14 µs against ~4.5 µs per key, the native write included), which made
 * those keys a fifth of a 1,000-call request's CPU.
 *
 * So the keys are prefixed by the caller once (a sublevel's public `prefixKey`) and handed, with
 * values in a form classic-level stores as they are (a Uint8Array or a utf8 string), to the
 * database's chained batch through abstract-level's documented interface for implementations
 * (`_chainedBatch`, `_put`, `_write`), which is also where node/store/store-guard.ts watches writes,
 * so a failing disk is seen the same way. When the database is not open (opening, closing, or being
 * reopened by the guard) the public chained batch is used instead, which waits or refuses properly.
 */

/** One put: `key` already prefixed for the root database. */
export interface RawPut {
  key: string;
  value: Uint8Array | string;
}

/* eslint-disable @typescript-eslint/no-explicit-any */
type Root = { status: string; batch(): any; _chainedBatch(): any };

/** Writes `puts` into `root` (the root database of the sublevels the keys were prefixed for) in one batch. */
export async function writeRaw(root: unknown, puts: Iterable<RawPut>, options: { sync: boolean }): Promise<void> {
  const db = root as Root;
  if (db.status !== "open" || typeof db._chainedBatch !== "function") {
    const batch = db.batch();
    try {
      for (const { key, value } of puts) batch.put(key, value, { keyEncoding: "utf8", valueEncoding: typeof value === "string" ? "utf8" : "view" });
    } catch (err) {
      await batch.close();
      throw err;
    }
    return batch.write(options);
  }
  const batch = db._chainedBatch();
  for (const { key, value } of puts) batch._put(key, value, {});
  await batch._write(options);
}
