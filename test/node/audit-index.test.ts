import { expect } from "chai";
import { spawn } from "node:child_process";
import * as path from "node:path";
import * as readline from "node:readline";
import { Level } from "level";
import { AuditIndex, packPostings, unpackPostings, type AuditDimension, type DepartmentStats } from "../../node/access/audit-index";
import type { AccessLogEntry } from "../../node/log/entry";
import { MerkleLog } from "../../node/log/merkle-log";
import { auditSample } from "../fixtures/audit-writer";
import { sampleEntry } from "./entry-samples";
import { removeDir, tempDir } from "./log-helpers";

const WRITER = path.resolve(__dirname, "../fixtures/audit-writer.ts");

/** What the index must say of `entries` (the log's first entries, in order), recomputed from them alone. */
function expected(entries: AccessLogEntry[]) {
  const stats = new Map<string, DepartmentStats>();
  const of = (id: string) => {
    if (!stats.has(id)) stats.set(id, { callsAsConsumer: 0, refusedAsConsumer: 0, recordsReceived: 0, callsAsProvider: 0, recordsProvided: 0, refusalsByReason: {} });
    return stats.get(id)!;
  };
  const usage = new Map<string, bigint>();
  const byAgreement = new Map<string, number[]>();
  const byConsumer = new Map<string, number[]>();
  entries.forEach((e, i) => {
    const c = of(e.consumerDept);
    c.callsAsConsumer++;
    if (e.outcome === "served") {
      c.recordsReceived += e.recordCount;
      of(e.providerDept).callsAsProvider++;
      of(e.providerDept).recordsProvided += e.recordCount;
      usage.set(e.agreementId, (usage.get(e.agreementId) ?? 0n) + BigInt(e.recordCount));
    } else {
      c.refusedAsConsumer++;
      c.refusalsByReason[e.refusalReason] = (c.refusalsByReason[e.refusalReason] ?? 0) + 1;
    }
    byAgreement.set(e.agreementId, [...(byAgreement.get(e.agreementId) ?? []), i]);
    byConsumer.set(e.consumerDept, [...(byConsumer.get(e.consumerDept) ?? []), i]);
  });
  return { stats, usage, byAgreement, byConsumer };
}

/** Every index of `value` on `dimension`, all pages. */
async function allIndexes(audit: AuditIndex, dimension: AuditDimension, value: string): Promise<number[]> {
  const out: number[] = [];
  for (let page = await audit.indexes(dimension, value, -1, 100); page.length > 0; page = await audit.indexes(dimension, value, out[out.length - 1], 100)) out.push(...page);
  return out;
}

/** Checks that `audit` says exactly what the first `size` entries of `log` call for. */
async function expectMatchesLog(audit: AuditIndex, log: MerkleLog, what: string): Promise<void> {
  const entries: AccessLogEntry[] = [];
  for (let i = 0; i < log.size(); i++) entries.push(await log.getEntry(i));
  const want = expected(entries);
  expect(audit.size(), `${what}: projected`).to.equal(log.size());
  for (const [id, s] of want.stats) expect(audit.statsOf(id), `${what}: stats of ${id}`).to.deep.equal(s);
  for (const [id, u] of want.usage) expect(audit.usageOf(id), `${what}: usage of ${id}`).to.equal(u);
  for (const [id, indexes] of want.byAgreement) expect(await allIndexes(audit, "agreement", id), `${what}: by agreement ${id}`).to.deep.equal(indexes);
  for (const [id, indexes] of want.byConsumer) expect(await allIndexes(audit, "consumer", id), `${what}: by consumer ${id}`).to.deep.equal(indexes);
}


/**
 * Makes `db`'s batch writes fail as a full disk does, where the index writes and
 * node/store/store-guard.ts watches them (the implementation's chained batch):
 * `fault(ops)` returns a rejection for a write that fails (nothing of it lands), or undefined to let it through.
 */
function failWrites(db: unknown, fault: (ops: number) => Promise<void> | undefined): void {
  type Chained = { _put: (...a: unknown[]) => void; _write: (...a: unknown[]) => Promise<void> };
  const level = db as { _chainedBatch: () => Chained };
  const original = level._chainedBatch.bind(level);
  level._chainedBatch = () => {
    const b = original();
    let ops = 0;
    const [put, write] = [b._put.bind(b), b._write.bind(b)];
    b._put = (...a: unknown[]) => {
      ops++;
      put(...a);
    };
    b._write = (...w: unknown[]) => fault(ops) ?? write(...w);
    return b;
  };
}

describe("AuditIndex: written behind the answer", () => {
  let dir: string;
  beforeEach(() => (dir = tempDir("dcl-audit-")));
  afterEach(() => removeDir(dir));

  it("counts added entries at once and finds them in a query made right after add, without the caller waiting", async () => {
    const db = new Level(dir);
    const audit = new AuditIndex(db);
    await audit.open(0, async () => { throw new Error("nothing to read"); });
    const entries = Array.from({ length: 40 }, (_, i) => auditSample(i));
    audit.add(0, entries.slice(0, 25));
    audit.add(25, entries.slice(25));
    expect(audit.size()).to.equal(40);
    expect(audit.writtenSize()).to.be.below(40); // the write is behind
    const want = expected(entries);
    for (const [id, s] of want.stats) expect(audit.statsOf(id)).to.deep.equal(s);
    for (const [id, indexes] of want.byAgreement) expect(await allIndexes(audit, "agreement", id)).to.deep.equal(indexes);
    expect(audit.writtenSize()).to.equal(40);
    await audit.close();
    await db.close();
  });

  it("applies entries added out of order only once the ones before them are added", async () => {
    const db = new Level(dir);
    const audit = new AuditIndex(db);
    await audit.open(0, async () => { throw new Error("nothing to read"); });
    const entries = Array.from({ length: 10 }, (_, i) => auditSample(i));
    audit.add(5, entries.slice(5));
    expect(audit.size()).to.equal(0);
    audit.add(0, entries.slice(0, 5));
    expect(audit.size()).to.equal(10);
    await audit.settled();
    await audit.close();
    await db.close();
  });

  it("retries a failed write with its keys, refusing readers meanwhile, and loses nothing", async () => {
    const db = new Level(dir);
    const logged: string[] = [];
    const audit = new AuditIndex(db, { retryMs: 20, logger: { error: (_o, msg) => logged.push(`error: ${msg}`), warn: (_o, msg) => logged.push(`warn: ${msg}`) } });
    await audit.open(0, async () => { throw new Error("nothing to read"); });
    let failures = 5;
    failWrites(db, () => (failures-- > 0 ? Promise.reject(new Error("disk full")) : undefined));
    const entries = Array.from({ length: 30 }, (_, i) => auditSample(i));
    audit.add(0, entries.slice(0, 10));
    const refused = await audit.settled().then(() => null, (e: Error) => e);
    expect(refused?.message).to.equal("disk full");
    audit.add(10, entries.slice(10));
    for (let i = 0; i < 100 && audit.writtenSize() < 30; i++) await new Promise((r) => setTimeout(r, 20));
    expect(audit.writtenSize()).to.equal(30);
    // One line when the outage starts and one when it ends, not one per retry.
    expect(logged).to.deep.equal(["error: audit index write failed; retrying", "warn: audit index writes resumed"]);
    await audit.close();
    await db.close();
    // Reopened from disk alone: the keys of the failed writes are there.
    const db2 = new Level(dir);
    const again = new AuditIndex(db2);
    await again.open(30, async () => { throw new Error("nothing to catch up"); });
    const want = expected(entries);
    for (const [id, indexes] of want.byAgreement) expect(await allIndexes(again, "agreement", id)).to.deep.equal(indexes);
    for (const [id, s] of want.stats) expect(again.statsOf(id)).to.deep.equal(s);
    await again.close();
    await db2.close();
  });

  it("catches up from the log on open when its writes fell behind (kill -9 at random moments, 5 times)", async function () {
    this.timeout(180_000);
    const acked = new Set<number>();
    let behind = 0; // rounds in which the kill left the index's writes behind the log
    for (let round = 0; round < 5; round++) {
      await new Promise<void>((resolve, reject) => {
        const child = spawn(process.execPath, ["-r", require.resolve("ts-node/register"), WRITER, dir], {
          env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" },
          stdio: ["ignore", "pipe", "pipe"],
        });
        let stderr = "";
        let acks = 0;
        const killAfter = 50 + Math.floor(Math.random() * 400);
        child.stderr.on("data", (d) => (stderr += d));
        readline.createInterface({ input: child.stdout }).on("line", (line) => {
          const [kind, index] = line.split(" ");
          if (kind !== "ack") return;
          acked.add(Number(index));
          if (++acks === killAfter) setTimeout(() => child.kill("SIGKILL"), Math.floor(Math.random() * 20));
        });
        child.on("error", reject);
        child.on("close", (code, signal) => (signal === "SIGKILL" ? resolve() : reject(new Error(`writer exited by itself (code ${code}): ${stderr}`))));
      });
      const db = new Level(dir);
      await db.open();
      const log = await MerkleLog.open(db.sublevel("log") as never);
      expect(log.size(), `round ${round}: every acknowledged entry is in the log`).to.be.at.least(Math.max(...acked) + 1);
      const stored = ((await db.sublevel("audit", { valueEncoding: "json" }).sublevel("meta", { valueEncoding: "json" }).get("projected")) as number | undefined) ?? 0;
      if (stored < log.size()) behind++;
      const audit = new AuditIndex(db);
      await audit.open(log.size(), (i) => log.getEntry(i));
      await expectMatchesLog(audit, log, `round ${round}`);
      await audit.close();
      await log.close();
      await db.close();
    }
    // The writer adds without waiting and is killed under load: its index writes are behind nearly always.
    expect(behind, "rounds that needed a catch-up").to.be.greaterThan(0);
  });
});

const DIMENSIONS: AuditDimension[] = ["consumer", "provider", "resource", "agreement", "subject", "response"];
const tag = (s: string) => "0x" + Buffer.from(s.padEnd(32, ".")).toString("hex");
/** A few values per dimension, so that every value has many entries and lists of every length. */
const POOL: Record<AuditDimension, string[]> = {
  consumer: [tag("consumer 0"), tag("consumer 1"), tag("consumer 2")],
  provider: [tag("provider 0"), tag("provider 1")],
  resource: [tag("resource 0"), tag("resource 1"), tag("resource 2")],
  agreement: [tag("agreement 0"), tag("agreement 1"), tag("agreement 2"), tag("agreement 3")],
  subject: [tag("subject 0"), tag("subject 1"), tag("subject 2")],
  response: [tag("response 0"), tag("response 1"), tag("response 2"), tag("response 3"), tag("response 4")],
};

/** A seeded generator (mulberry32), so that a failing run can be replayed from its seed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An entry with its values drawn from POOL; a fifth refused, some without a subject. */
function randomEntry(rand: () => number, n: number): AccessLogEntry {
  const pick = (d: AuditDimension) => POOL[d][Math.floor(rand() * POOL[d].length)];
  const served = rand() < 0.8;
  return {
    ...sampleEntry(n),
    consumerDept: pick("consumer"),
    providerDept: pick("provider"),
    resourceId: pick("resource"),
    agreementId: pick("agreement"),
    subjectCommitment: rand() < 0.3 ? null : pick("subject"),
    responseHash: pick("response"),
    outcome: served ? "served" : "refused",
    refusalReason: served ? "" : "QUOTA_EXCEEDED",
    recordCount: served ? 1 + Math.floor(rand() * 5) : 0,
  };
}

/** The value of `e` on `dimension`, or undefined when the entry is not indexed there. */
function valueOf(e: AccessLogEntry, dimension: AuditDimension): string | undefined {
  switch (dimension) {
    case "consumer": return e.consumerDept;
    case "provider": return e.providerDept;
    case "resource": return e.resourceId;
    case "agreement": return e.agreementId;
    case "subject": return e.subjectCommitment ?? undefined;
    case "response": return e.outcome === "served" ? e.responseHash : undefined;
  }
}

/** What `indexes(dimension, value, after, limit)` must answer for `entries`, from the entries alone. */
function referenceIndexes(entries: AccessLogEntry[], dimension: AuditDimension, value: string, after: number, limit: number): number[] {
  const out: number[] = [];
  for (let i = after + 1; i < entries.length && out.length < limit; i++) if (i >= 0 && valueOf(entries[i], dimension) === value) out.push(i);
  return out;
}

/** Random queries on every dimension and value (and one value never seen): `after` before, inside and past the lists, `limit` small enough to cut them. */
async function expectQueriesMatch(audit: AuditIndex, entries: AccessLogEntry[], rand: () => number, what: string): Promise<number> {
  let checked = 0;
  for (const dimension of DIMENSIONS) {
    for (const value of [...POOL[dimension], tag("never seen")]) {
      const all = referenceIndexes(entries, dimension, value, -1, Infinity);
      expect(await allIndexes(audit, dimension, value), `${what}: every ${dimension} ${value}`).to.deep.equal(all);
      for (let q = 0; q < 25; q++) {
        const r = rand();
        // after: -1, a listed index (so inside a stored list), just below one, or anywhere up to past the end.
        const after = r < 0.1 ? -1 : r < 0.5 && all.length ? all[Math.floor(rand() * all.length)] : r < 0.7 && all.length ? all[Math.floor(rand() * all.length)] - 1 : Math.floor(rand() * (entries.length + 2)) - 1;
        const limit = 1 + Math.floor(rand() * 12);
        expect(await audit.indexes(dimension, value, after, limit), `${what}: ${dimension} ${value} after ${after} limit ${limit}`).to.deep.equal(referenceIndexes(entries, dimension, value, after, limit));
        checked++;
      }
    }
  }
  return checked;
}

/** Stats and usage as `expected` computes them, checked for every department and agreement of POOL. */
function expectCountersMatch(audit: AuditIndex, entries: AccessLogEntry[], what: string): void {
  const want = expected(entries);
  expect(audit.size(), `${what}: size`).to.equal(entries.length);
  for (const id of [...POOL.consumer, ...POOL.provider]) expect(audit.statsOf(id), `${what}: stats of ${id}`).to.deep.equal(want.stats.get(id) ?? { callsAsConsumer: 0, refusedAsConsumer: 0, recordsReceived: 0, callsAsProvider: 0, recordsProvided: 0, refusalsByReason: {} });
  for (const id of POOL.agreement) expect(audit.usageOf(id), `${what}: usage of ${id}`).to.equal(want.usage.get(id) ?? 0n);
  expect(audit.allUsage(), `${what}: all usage`).to.deep.equal(want.usage);
}

/** The audit tables as the node's store holds them. */
function tables(db: Level<string, string>) {
  const root = db.sublevel("audit", { valueEncoding: "json" });
  return {
    postings: root.sublevel<string, Uint8Array>("px", { valueEncoding: "view" }),
    legacy: root.sublevel<string, string>("ix", { valueEncoding: "utf8" }),
    stats: root.sublevel<string, DepartmentStats>("stats", { valueEncoding: "json" }),
    meta: root.sublevel<string, unknown>("meta", { valueEncoding: "json" }),
  };
}

/** Writes `entries` as the layout before posting lists did: a key `ix/<d>!<value>!<12 hex index>` per entry and dimension, stats, usage, `projected`. */
async function writeLegacyStore(db: Level<string, string>, entries: AccessLogEntry[]): Promise<void> {
  const t = tables(db);
  const letter: Record<AuditDimension, string> = { consumer: "c", provider: "p", resource: "r", agreement: "a", subject: "s", response: "h" };
  const ops: object[] = [];
  entries.forEach((e, i) => {
    for (const d of DIMENSIONS) {
      const v = valueOf(e, d);
      if (v !== undefined) ops.push({ type: "put", sublevel: t.legacy, key: `${letter[d]}!${v}!${i.toString(16).padStart(12, "0")}`, value: "" });
    }
  });
  const want = expected(entries);
  for (const [id, s] of want.stats) ops.push({ type: "put", sublevel: t.stats, key: id, value: s });
  for (const [id, u] of want.usage) ops.push({ type: "put", sublevel: t.meta, key: `usage!${id}`, value: u.toString() });
  ops.push({ type: "put", sublevel: t.meta, key: "projected", value: entries.length });
  await db.batch(ops as never);
}

/** Adds `entries[from..]` in runs of 1 to `maxRun`, each run its own write batch (the next is added once it is written); the runs. */
async function addInBatches(audit: AuditIndex, entries: AccessLogEntry[], from: number, rand: () => number, maxRun: number): Promise<Array<[number, number]>> {
  const runs: Array<[number, number]> = [];
  for (let at = from; at < entries.length; ) {
    const end = Math.min(entries.length, at + 1 + Math.floor(rand() * maxRun));
    audit.add(at, entries.slice(at, end));
    await audit.settled();
    runs.push([at, end]);
    at = end;
  }
  return runs;
}

const count = async (table: { keys(): AsyncIterable<unknown> }) => {
  let n = 0;
  for await (const _ of table.keys()) n++;
  return n;
};

describe("AuditIndex: posting lists", () => {
  let dir: string;
  beforeEach(() => (dir = tempDir("dcl-audit-px-")));
  afterEach(() => removeDir(dir));

  it("packs indexes as a first index then gaps, in varints, and unpacks them back", () => {
    expect([...packPostings([0, 1, 2, 130])]).to.deep.equal([0, 1, 1, 0x80, 0x01]);
    expect(unpackPostings(packPostings([]))).to.deep.equal([]);
    const rand = seeded(7);
    for (let round = 0; round < 200; round++) {
      const list: number[] = [];
      // Gaps from 1 to past 2^31 and up to the 48 bits of a key's index.
      for (let i = Math.floor(rand() * 1000); list.length < 1 + rand() * 50 && i < 2 ** 48; i += 1 + Math.floor(rand() ** 8 * 2 ** (8 + rand() * 36))) list.push(i);
      expect(unpackPostings(packPostings(list)), `round ${round}`).to.deep.equal(list);
    }
    expect(unpackPostings(packPostings([2 ** 48 - 2, 2 ** 48 - 1]))).to.deep.equal([2 ** 48 - 2, 2 ** 48 - 1]);
  });

  for (const seed of [1, 2, 3]) {
    it(`answers every query as the entries do, writing one key per dimension and value of each batch (seed ${seed})`, async function () {
      this.timeout(60_000);
      const rand = seeded(seed);
      const entries = Array.from({ length: 300 + Math.floor(rand() * 300) }, (_, n) => randomEntry(rand, n));
      const db = new Level<string, string>(dir);
      const audit = new AuditIndex(db);
      await audit.open(0, async () => { throw new Error("nothing to read"); });
      const runs = await addInBatches(audit, entries, 0, rand, 60);
      // One key per (dimension, value) a batch touched: the lists of one value never share a key.
      let touched = 0;
      for (const [from, to] of runs) {
        const values = new Set<string>();
        for (const e of entries.slice(from, to)) for (const d of DIMENSIONS) if (valueOf(e, d) !== undefined) values.add(`${d} ${valueOf(e, d)}`);
        touched += values.size;
      }
      expect(await count(tables(db).postings), "posting keys").to.equal(touched);
      expect(await count(tables(db).legacy), "keys of the layout before").to.equal(0);
      expect(await expectQueriesMatch(audit, entries, rand, `seed ${seed}`)).to.be.greaterThan(500);
      expectCountersMatch(audit, entries, `seed ${seed}`);
      await audit.close();
      await db.close();
      // Reopened: the same answers from disk alone.
      const db2 = new Level<string, string>(dir);
      const again = new AuditIndex(db2);
      await again.open(entries.length, async () => { throw new Error("nothing to catch up"); });
      await expectQueriesMatch(again, entries, rand, `seed ${seed}, reopened`);
      expectCountersMatch(again, entries, `seed ${seed}, reopened`);
      await again.close();
      await db2.close();
    });
  }

  for (const seed of [11, 12, 13]) {
    it(`reads a store written with a key per entry below where posting lists start, and both beyond (seed ${seed})`, async function () {
      this.timeout(60_000);
      const rand = seeded(seed);
      const entries = Array.from({ length: 400 + Math.floor(rand() * 200) }, (_, n) => randomEntry(rand, n));
      const legacy = 50 + Math.floor(rand() * 200);
      const caughtUp = legacy + Math.floor(rand() * 40); // in the log, not yet in the index (a kill -9 before the upgrade)
      const db = new Level<string, string>(dir);
      await writeLegacyStore(db, entries.slice(0, legacy));
      const legacyKeys = await count(tables(db).legacy);
      const audit = new AuditIndex(db);
      await audit.open(caughtUp, async (i) => entries[i]);
      expect(await tables(db).meta.get("postingsFrom"), "where posting lists start").to.equal(legacy);
      await expectQueriesMatch(audit, entries.slice(0, caughtUp), rand, `seed ${seed}, caught up`);
      await addInBatches(audit, entries, caughtUp, rand, 40);
      await expectQueriesMatch(audit, entries, rand, `seed ${seed}, extended`);
      expectCountersMatch(audit, entries, `seed ${seed}, extended`);
      expect(await count(tables(db).legacy), "the keys of the layout before are neither rewritten nor added to").to.equal(legacyKeys);
      await audit.close();
      await db.close();
      // Reopened: the boundary is where it was first put, not the new `projected`.
      const db2 = new Level<string, string>(dir);
      const again = new AuditIndex(db2);
      await again.open(entries.length, async () => { throw new Error("nothing to catch up"); });
      expect(await tables(db2).meta.get("postingsFrom"), "where posting lists start, reopened").to.equal(legacy);
      await expectQueriesMatch(again, entries, rand, `seed ${seed}, reopened`);
      expectCountersMatch(again, entries, `seed ${seed}, reopened`);
      await again.close();
      await db2.close();
    });
  }

  it("puts a failed batch's postings back in front of the next and writes them together, in order", async function () {
    this.timeout(60_000);
    const rand = seeded(21);
    const entries = Array.from({ length: 400 }, (_, n) => randomEntry(rand, n));
    const db = new Level<string, string>(dir);
    const audit = new AuditIndex(db, { retryMs: 5, logger: { error: () => undefined, warn: () => undefined } });
    await audit.open(0, async () => { throw new Error("nothing to read"); });
    const written: number[] = [];
    failWrites(db, (ops) => {
      // Failing a few ms later, as a disk does: entries added meanwhile wait behind the failed batch.
      if (rand() < 0.5) return new Promise((_, reject) => setTimeout(() => reject(new Error("disk full")), 1 + Math.floor(rand() * 6)));
      written.push(ops);
      return undefined;
    });
    for (let at = 0; at < entries.length; ) {
      const end = Math.min(entries.length, at + 1 + Math.floor(rand() * 30));
      audit.add(at, entries.slice(at, end));
      at = end;
      await new Promise((r) => setTimeout(r, Math.floor(rand() * 8)));
    }
    for (let i = 0; i < 500 && audit.writtenSize() < entries.length; i++) await new Promise((r) => setTimeout(r, 5));
    expect(audit.writtenSize(), "written").to.equal(entries.length);
    expect(written.length, "batches that landed").to.be.greaterThan(1);
    await expectQueriesMatch(audit, entries, rand, "after failures");
    await audit.close();
    await db.close();
    const db2 = new Level<string, string>(dir);
    const again = new AuditIndex(db2);
    await again.open(entries.length, async () => { throw new Error("nothing to catch up"); });
    await expectQueriesMatch(again, entries, rand, "after failures, reopened");
    expectCountersMatch(again, entries, "after failures, reopened");
    await again.close();
    await db2.close();
  });
});
