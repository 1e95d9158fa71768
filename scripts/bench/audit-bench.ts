// Benchmark of the audit index's writes (node/access/audit-index.ts): the key-per-entry layout it
// had before posting lists against posting lists, in one run, on the same entries — shaped like
// 1,000-call requests (`makeEntries` of store-bench: one agreement, consumer, provider and resource,
// a fresh response hash per call, a fresh subject on half of them) — written in batches of 1,000
// as the index writes them (unsynced, one after the other). Rounds interleave the variants so that
// drift in the machine's load spreads over all of them; medians are printed.
//
//   - `key per entry`: the keys the index wrote before (`ix/<d>!<value>!<index>` → "", four to six
//     per entry) and `projected`, one batch per 1,000 entries; kept here only, for the comparison.
//   - `posting lists`: the same batches with the keys the index writes now (one per dimension and
//     value of the batch, `packPostings` values) and `projected`: the like-for-like comparison.
//   - `AuditIndex`: the index itself (add, then settled): posting lists plus its in-memory
//     counting and the statistics and usage counters it writes with each batch.
//
// Then queries on each store, through AuditIndex (which reads the key-per-entry layout below
// `postingsFrom`): every index of the agreement in pages of 500 (as GET /v1/audit/entries scans)
// and single response-hash lookups (as POST /v1/evidence does).
//
//   npx ts-node --transpile-only scripts/bench/audit-bench.ts [--entries 64000] [--batch 1000] [--rounds 5] [--dir D]
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { performance } from "perf_hooks";
import { Level } from "level";
import { AuditIndex, packPostings, type AuditDimension } from "../../node/access/audit-index";
import type { AccessLogEntry } from "../../node/log/entry";
import { makeEntries } from "./store-bench";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const ENTRIES = arg("--entries", 64_000);
const BATCH = arg("--batch", 1_000);
const ROUNDS = arg("--rounds", 5);
const dirArg = process.argv.indexOf("--dir");
const ROOT = dirArg >= 0 ? process.argv[dirArg + 1] : os.tmpdir();

const LETTER: Record<AuditDimension, string> = { consumer: "c", provider: "p", resource: "r", agreement: "a", subject: "s", response: "h" };
const pad = (n: number) => n.toString(16).padStart(12, "0");

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** The (dimension, value) pairs an entry is indexed under. */
function postingsOf(e: AccessLogEntry): Array<[AuditDimension, string]> {
  const out: Array<[AuditDimension, string]> = [["consumer", e.consumerDept], ["provider", e.providerDept], ["resource", e.resourceId], ["agreement", e.agreementId]];
  if (e.subjectCommitment) out.push(["subject", e.subjectCommitment]);
  if (e.outcome === "served") out.push(["response", e.responseHash]);
  return out;
}

type Ops = Array<{ type: "put"; sublevel: unknown; key: string; value: unknown }>;

/** The batch the index wrote before posting lists: a key per entry and dimension. */
function keyPerEntryOps(tables: Tables, entries: AccessLogEntry[], first: number): Ops {
  const ops: Ops = [];
  entries.forEach((e, k) => {
    for (const [d, v] of postingsOf(e)) ops.push({ type: "put", sublevel: tables.legacy, key: `${LETTER[d]}!${v}!${pad(first + k)}`, value: "" });
  });
  ops.push({ type: "put", sublevel: tables.meta, key: "projected", value: first + entries.length });
  return ops;
}

/** The batch the index writes now: a posting list per dimension and value. */
function postingListOps(tables: Tables, entries: AccessLogEntry[], first: number): Ops {
  const lists = new Map<string, number[]>();
  entries.forEach((e, k) => {
    for (const [d, v] of postingsOf(e)) {
      const prefix = `${LETTER[d]}!${v}!`;
      const list = lists.get(prefix);
      if (list) list.push(first + k);
      else lists.set(prefix, [first + k]);
    }
  });
  const ops: Ops = [];
  for (const [prefix, list] of lists) ops.push({ type: "put", sublevel: tables.postings, key: prefix + pad(list[list.length - 1]), value: packPostings(list) });
  ops.push({ type: "put", sublevel: tables.meta, key: "projected", value: first + entries.length });
  return ops;
}

interface Tables {
  legacy: unknown;
  postings: unknown;
  meta: unknown;
}

function tables(db: Level<string, string>): Tables {
  const root = db.sublevel("audit", { valueEncoding: "json" });
  return {
    legacy: root.sublevel("ix", { valueEncoding: "utf8" }),
    postings: root.sublevel("px", { valueEncoding: "view" }),
    meta: root.sublevel("meta", { valueEncoding: "json" }),
  };
}

interface Written {
  dir: string;
  usPerEntry: number;
  cpuUsPerEntry: number;
  keysPerEntry: number;
  bytesPerEntry: number;
}

/** Counts the puts and their key and value bytes of every batch the store is given. */
function counting(db: Level<string, string>): { keys: number; bytes: number } {
  const seen = { keys: 0, bytes: 0 };
  const batch = db.batch.bind(db) as (ops: Ops, ...rest: unknown[]) => Promise<void>;
  (db as unknown as { batch: unknown }).batch = (ops: Ops, ...rest: unknown[]) => {
    for (const op of ops) {
      seen.keys++;
      seen.bytes += op.key.length + (op.value instanceof Uint8Array ? op.value.length : JSON.stringify(op.value ?? "").length);
    }
    return batch(ops, ...rest);
  };
  return seen;
}

/** Writes every entry in batches with `variant`; the store is left on disk for the queries. */
async function write(variant: "key per entry" | "posting lists" | "AuditIndex", entries: AccessLogEntry[]): Promise<Written> {
  const dir = fs.mkdtempSync(path.join(ROOT, "dcl-audit-bench-"));
  const db = new Level<string, string>(dir);
  await db.open();
  const t = tables(db);
  // A store in the layout before has no `postingsFrom` (AuditIndex puts it at its `projected` when it opens it for the queries).
  const audit = variant === "AuditIndex" ? new AuditIndex(db) : undefined;
  await audit?.open(0, async () => { throw new Error("nothing to read"); });
  if (variant === "posting lists") await (t.meta as Level<string, unknown>).put("postingsFrom", 0);
  const seen = counting(db);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let first = 0; first < entries.length; first += BATCH) {
    const batch = entries.slice(first, first + BATCH);
    if (audit) {
      audit.add(first, batch);
      await audit.settled();
    } else {
      await db.batch((variant === "key per entry" ? keyPerEntryOps : postingListOps)(t, batch, first) as never);
    }
  }
  const us = (performance.now() - t0) * 1000;
  const cpu = process.cpuUsage(cpu0);
  await audit?.close();
  await db.close();
  return { dir, usPerEntry: us / entries.length, cpuUsPerEntry: (cpu.user + cpu.system) / entries.length, keysPerEntry: seen.keys / entries.length, bytesPerEntry: seen.bytes / entries.length };
}

/** Query times on a written store, µs: a full scan of the agreement in pages of 500, and one response-hash lookup (median of `lookups`). */
async function query(dir: string, entries: AccessLogEntry[], lookups: number): Promise<{ scanMs: number; lookupUs: number }> {
  const db = new Level<string, string>(dir);
  await db.open();
  const audit = new AuditIndex(db);
  await audit.open(entries.length, async () => { throw new Error("nothing to catch up"); });
  let t0 = performance.now();
  let found = 0;
  for (let after = -1, page = await audit.indexes("agreement", entries[0].agreementId, after, 500); page.length; page = await audit.indexes("agreement", entries[0].agreementId, after, 500)) {
    found += page.length;
    after = page[page.length - 1];
  }
  const scanMs = performance.now() - t0;
  if (found !== entries.length) throw new Error(`agreement scan found ${found} of ${entries.length} entries`);
  const times: number[] = [];
  for (let q = 0; q < lookups; q++) {
    const i = Math.floor((q * entries.length) / lookups);
    t0 = performance.now();
    const got = await audit.indexes("response", entries[i].responseHash, -1, 100);
    times.push((performance.now() - t0) * 1000);
    if (got.length !== 1 || got[0] !== i) throw new Error(`response of entry ${i}: found ${JSON.stringify(got)}`);
  }
  await audit.close();
  await db.close();
  return { scanMs, lookupUs: median(times) };
}

async function main(): Promise<void> {
  const entries = makeEntries(ENTRIES);
  const variants = ["key per entry", "posting lists", "AuditIndex"] as const;
  const results = new Map<string, Array<Written & { scanMs: number; lookupUs: number }>>(variants.map((v) => [v, []]));
  for (let r = 0; r < ROUNDS; r++) {
    // Each round in another order, so that no variant always runs first (or after the same one).
    const order = variants.map((_, k) => variants[(k + r) % variants.length]);
    for (const v of order) {
      const w = await write(v, entries);
      const q = await query(w.dir, entries, 200);
      fs.rmSync(w.dir, { recursive: true, force: true });
      results.get(v)!.push({ ...w, ...q });
    }
  }
  const f = (x: number, digits = 1) => x.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
  console.log(`${ENTRIES} entries in batches of ${BATCH}, ${ROUNDS} rounds, medians; Node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(" / ")}`);
  console.log("| layout | keys per entry | bytes per entry (keys + values) | µs per entry (wall) | CPU µs per entry (all threads) | agreement scan, pages of 500 | response lookup |");
  console.log("|---|---:|---:|---:|---:|---:|---:|");
  for (const v of variants) {
    const rs = results.get(v)!;
    const m = (k: keyof (typeof rs)[number]) => median(rs.map((x) => x[k] as number));
    console.log(`| ${v} | ${f(m("keysPerEntry"), 3)} | ${f(m("bytesPerEntry"))} | ${f(m("usPerEntry"))} | ${f(m("cpuUsPerEntry"))} | ${f(m("scanMs"))} ms | ${f(m("lookupUs"))} µs |`);
  }
  console.log(`reproduce: npx ts-node --transpile-only scripts/bench/audit-bench.ts --entries ${ENTRIES} --batch ${BATCH} --rounds ${ROUNDS}`);
}

main().catch((e) => {
  process.stderr.write(`audit bench failed: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
