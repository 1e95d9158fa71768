/**
 * The disk's ceiling and the log alone, in one process (run by `npm run bench` once per Node
 * version): the same canonical entry bytes written
 *
 *   - as LevelDB synced batches of `batch` puts (key: 16-hex index, value: the entry bytes), by
 *     `concurrency` writers at once and by one writer, each in two ways — what the disk and LevelDB
 *     allow. The two differ in CPU, not in what reaches the disk: abstract-level's public array batch
 *     on a sublevel (`leaves.batch([...ops])`) copies, checks, encodes and prefixes every operation in
 *     JavaScript, ~16–25 µs a put on Node 20 (V8 11.3) against ~6–8 µs for the chained batch below
 *     that layer (node/store/raw-batch.ts, the way the log itself writes its per-entry keys); on
 *     Node 24 ~6–9 µs either way. So on Node 20 the array form alone put the "disk's ceiling" at a
 *     fraction of what the disk does (30–40k against 230–450k puts/s here, LevelDB grouping the
 *     concurrent writers' synced batches into one sync);
 *   - through the log, MerkleLog.appendMany of `batch` entries by `concurrency` appenders, group
 *     committed — what node/log adds on top (entry encoding, leaf and subtree hashing, bundles and
 *     tiles, the leaf-hash projection's keys).
 *
 * Rounds interleave the three so that drift in the machine's load spreads over all of them.
 *
 * With `paced`, instead: one entry's synced put at a time, offered at `rate` a second (open loop,
 * each put timed from when it was due, concurrent puts grouped by LevelDB into one sync as the log's
 * group commit groups calls) — the latency a single call's answer cannot go below on this disk at
 * that moment, printed by `npm run bench` beside the calls' own p99.
 *
 *   node dist/scripts/bench/store-bench.js '{"entries":64000,"batch":1000,"concurrency":32,"rounds":1,"dir":"/tmp/x"}'
 *   → one line of JSON (StoreResult) on stdout
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Level } from "level";
import { encodeEntry, type AccessLogEntry } from "../../node/log/entry";
import { MerkleLog } from "../../node/log/merkle-log";
import { writeRaw, type RawPut } from "../../node/store/raw-batch";
import { percentile } from "./load-generator";

/** What to write, and where. */
export interface StoreJob {
  entries: number;
  batch: number;
  concurrency: number;
  rounds: number;
  dir: string;
  /** Only the log alone (for a CPU-profiled run: scripts/bench/log-profile.ts). */
  logOnly?: boolean;
  /** Only synced puts of one entry each, `rate` a second for `seconds`, open loop: their latency. */
  paced?: { rate: number; seconds: number };
}

/** Latency of paced synced puts (ms, from when each was due). */
export interface PacedResult {
  rate: number;
  puts: number;
  p50: number;
  p99: number;
  max: number;
}

/** Per round, entries (or puts) per second, and the log's synced batches. */
export interface StoreResult {
  entryBytes: number;
  /** Array-form batches (`db.batch([...ops])`), `concurrency` writers / one writer. */
  levelConcurrent: number[];
  levelSequential: number[];
  /** Raw chained batches (node/store/raw-batch.ts, as the log writes), `concurrency` writers / one writer. */
  levelRawConcurrent: number[];
  levelRawSequential: number[];
  logAlone: number[];
  logBatches: number[];
  /** Each log-alone run's window on the monotonic clock (µs, as V8 stamps profile samples). */
  logWindowsUs: { start: number; end: number }[];
}

const hex32 = () => "0x" + randomBytes(32).toString("hex");

/** Entries shaped like the API's: one agreement, fresh request and response hashes, half with a subject. */
export function makeEntries(n: number): AccessLogEntry[] {
  const time = Math.floor(Date.now() / 1000);
  const fixed = { consumerDept: hex32(), providerDept: hex32(), resourceId: hex32(), agreementId: hex32(), purposeHash: hex32() };
  return Array.from({ length: n }, (_, i) => ({
    ...fixed,
    time,
    recordCount: 1,
    requestHash: hex32(),
    responseHash: hex32(),
    subjectCommitment: i % 2 ? hex32() : null,
    outcome: "served" as const,
    refusalReason: "",
  }));
}

/** Runs `writers` concurrent loops over chunks of `batch` items until all `total` are written; items per second. */
async function concurrently(total: number, batch: number, writers: number, write: (from: number, to: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (next < total) {
        const from = next;
        next = Math.min(total, next + batch);
        await write(from, next);
      }
    }),
  );
  return total / ((performance.now() - t0) / 1000);
}

const hex16 = (i: number) => i.toString(16).padStart(16, "0");

/** The two ways of writing a batch (see the top of this file). */
type BatchForm = "array" | "raw";

async function levelPuts(job: StoreJob, bytes: Uint8Array[], writers: number, form: BatchForm): Promise<number> {
  const dir = mkdtempSync(join(job.dir, "level-"));
  const db = new Level(dir);
  const leaves = db.sublevel<string, Uint8Array>("leaf", { keyEncoding: "utf8", valueEncoding: "view" });
  await db.open();
  try {
    if (form === "raw") {
      return await concurrently(bytes.length, job.batch, writers, (from, to) => {
        const puts: RawPut[] = [];
        for (let i = from; i < to; i++) puts.push({ key: leaves.prefixKey(hex16(i), "utf8"), value: bytes[i] });
        return writeRaw(db, puts, { sync: true });
      });
    }
    const batch = leaves.batch as unknown as (ops: { type: "put"; key: string; value: Uint8Array }[], o: { sync: boolean }) => Promise<void>;
    return await concurrently(bytes.length, job.batch, writers, (from, to) =>
      batch.call(leaves, bytes.slice(from, to).map((value, k) => ({ type: "put" as const, key: hex16(from + k), value })), { sync: true }),
    );
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

async function logAlone(job: StoreJob, entries: AccessLogEntry[]): Promise<{ rate: number; batches: number; window: { start: number; end: number } }> {
  const dir = mkdtempSync(join(job.dir, "log-"));
  const log = await MerkleLog.open(dir);
  try {
    const start = monotonicUs();
    const rate = await concurrently(entries.length, job.batch, job.concurrency, (from, to) => log.appendMany(entries.slice(from, to)));
    return { rate, batches: log.stats().batches, window: { start, end: monotonicUs() } };
  } finally {
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Synced puts of one entry each, offered at `rate` a second for `seconds`, each timed from when it was due. */
export async function pacedPuts(job: StoreJob, rate: number, seconds: number): Promise<PacedResult> {
  const bytes = makeEntries(1000).map(encodeEntry);
  const dir = mkdtempSync(join(job.dir, "paced-"));
  const db = new Level(dir);
  const leaves = db.sublevel<string, Uint8Array>("leaf", { keyEncoding: "utf8", valueEncoding: "view" });
  await db.open();
  try {
    const n = Math.round(rate * seconds);
    const latencies: number[] = [];
    const writes: Promise<void>[] = [];
    const t0 = performance.now();
    for (let i = 0; i < n; ) {
      // Every put due by now goes out now (a timer fires no more often than every millisecond or so).
      for (const now = performance.now(); i < n && t0 + (i * 1000) / rate <= now; i++) {
        const due = t0 + (i * 1000) / rate;
        writes.push(writeRaw(db, [{ key: leaves.prefixKey(hex16(i), "utf8"), value: bytes[i % bytes.length] }], { sync: true }).then(() => void latencies.push(performance.now() - due)));
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.all(writes);
    latencies.sort((a, b) => a - b);
    return { rate, puts: n, p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies[latencies.length - 1] };
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs the job's rounds. */
export async function runStore(job: StoreJob): Promise<StoreResult> {
  const entries = makeEntries(job.entries);
  const bytes = entries.map(encodeEntry);
  const out: StoreResult = { entryBytes: bytes.reduce((n, b) => n + b.length, 0) / bytes.length, levelConcurrent: [], levelSequential: [], levelRawConcurrent: [], levelRawSequential: [], logAlone: [], logBatches: [], logWindowsUs: [] };
  for (let r = 0; r < job.rounds; r++) {
    if (!job.logOnly) out.levelRawConcurrent.push(await levelPuts(job, bytes, job.concurrency, "raw"));
    if (!job.logOnly) out.levelConcurrent.push(await levelPuts(job, bytes, job.concurrency, "array"));
    const log = await logAlone(job, entries);
    out.logAlone.push(log.rate);
    out.logBatches.push(log.batches);
    out.logWindowsUs.push(log.window);
    if (!job.logOnly) out.levelRawSequential.push(await levelPuts(job, bytes, 1, "raw"));
    if (!job.logOnly) out.levelSequential.push(await levelPuts(job, bytes, 1, "array"));
  }
  return out;
}

if (require.main === module) {
  const job = JSON.parse(process.argv[2]) as StoreJob;
  (job.paced ? pacedPuts(job, job.paced.rate, job.paced.seconds) : runStore(job)).then(
    (r) => process.stdout.write(JSON.stringify(r) + "\n"),
    (err) => {
      process.stderr.write(`store bench failed: ${(err as Error).stack ?? err}\n`);
      process.exit(1);
    },
  );
}
