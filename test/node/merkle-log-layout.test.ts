/**
 * The log's store layout 2 (node/log/merkle-log.ts: entries in bundles of 256, hashes in tiles of
 * 256) on real LevelDB: roots and proofs across tile boundaries, and the conversion of a layout-1
 * store written key by key as the old code wrote it (test/fixtures/log-layout1.ts) — equal roots and
 * proofs, the same bundles and tiles as a log appended natively, resumed after a stop or a kill -9.
 */
import { expect } from "chai";
import { spawn } from "node:child_process";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { Level } from "level";
import { encodeEntry, type AccessLogEntry } from "../../node/log/entry";
import { LogError } from "../../node/log/errors";
import { MerkleLog } from "../../node/log/merkle-log";
import { MemoryTree } from "../../node/merkle/memory-tree";
import { leafHash, nodeHash, toHex, verifyConsistency, verifyInclusion } from "../../node/verify";
import { writeLayout1 } from "../fixtures/log-layout1";
import { sampleEntry } from "./entry-samples";
import { removeDir, tempDir } from "./log-helpers";
import { referenceConsistencyProof, referenceInclusionProof, referenceRoot } from "./reference-tree";

const MIGRATOR = resolve(__dirname, "../fixtures/log-migrator.ts");
const entries = (n: number): AccessLogEntry[] => Array.from({ length: n }, (_, i) => sampleEntry(i));
const hexes = (hs: Uint8Array[]) => hs.map(toHex);
const hex16 = (n: number) => n.toString(16).padStart(16, "0");

/** Every key and value (hex) of each table of the log stored at `dir`. */
async function tables(dir: string, names = ["bundle", "tile", "hash", "leaf", "node", "meta"]): Promise<Record<string, [string, string][]>> {
  const db = new Level<string, unknown>(dir);
  await db.open();
  try {
    const out: Record<string, [string, string][]> = {};
    for (const name of names) {
      const table = db.sublevel<string, Uint8Array | string>(name, { keyEncoding: "utf8", valueEncoding: name === "meta" ? "utf8" : "view" });
      out[name] = (await table.iterator().all()).map(([k, v]) => [k, typeof v === "string" ? v : toHex(v)]);
    }
    return out;
  } finally {
    await db.close();
  }
}

/** Bundles or tiles whole: their pieces (`<key><offset: 2 hex>`) joined, by key. */
function wholes(pieces: [string, string][]): [string, string][] {
  const out = new Map<string, string>();
  for (const [key, value] of pieces) out.set(key.slice(0, -2), (out.get(key.slice(0, -2)) ?? "0x") + value.slice(2));
  return [...out];
}

/** RFC 6962 MTH of leaves [start, end) from an in-memory tree's complete subtrees. */
function mth(tree: MemoryTree, start: number, end: number): Uint8Array {
  const n = end - start;
  if ((n & (n - 1)) === 0 && start % n === 0) return tree.subtree(Math.log2(n), start / n);
  let k = 1;
  while (k * 2 < n) k *= 2;
  return nodeHash(mth(tree, start, start + k), mth(tree, start + k, end));
}

/** A log of `n` sample entries appended natively (layout 2) in `dir`. */
async function nativeLog(dir: string, n: number): Promise<void> {
  const log = await MerkleLog.open(dir);
  for (let i = 0; i < n; i += 1000) await log.appendMany(entries(Math.min(n, i + 1000)).slice(i));
  await log.close();
}

/** Roots at every size, every inclusion proof at the full size and every consistency proof to it equal the RFC 6962 reference. */
async function expectReference(log: MerkleLog, n: number): Promise<void> {
  const leaves = entries(n).map((e) => leafHash(encodeEntry(e)));
  expect(log.size()).to.equal(n);
  for (let m = 1; m <= n; m++) expect(toHex(await log.root(m)), `root(${m})`).to.equal(toHex(referenceRoot(leaves.slice(0, m))));
  for (let i = 0; i < n; i++) {
    expect(hexes(await log.inclusionProof(i)), `inclusion ${i}`).to.deep.equal(hexes(referenceInclusionProof(i, leaves)));
    expect(toHex(await log.leafHashAt(i))).to.equal(toHex(leaves[i]));
    expect(await log.indexOfLeafHash(leaves[i])).to.equal(i);
  }
  for (let m = 1; m <= n; m += 7) expect(hexes(await log.consistencyProof(m)), `consistency ${m}`).to.deep.equal(hexes(referenceConsistencyProof(m, leaves)));
  const read: string[] = [];
  for await (const bytes of log.range(0, n)) read.push(toHex(bytes));
  expect(read).to.deep.equal(entries(n).map((e) => toHex(encodeEntry(e))));
}

describe("MerkleLog store layout 2", function () {
  this.timeout(300_000);
  let dirs: string[] = [];
  const dir = () => {
    const d = tempDir("dcl-layout-");
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs) removeDir(d);
    dirs = [];
  });

  it("serves roots and proofs equal to the reference across tile boundaries (256, 65,536), reopened at each", async function () {
    const n = 65_536 + 300;
    const all = entries(n);
    const leaves = all.map((e) => leafHash(encodeEntry(e)));
    const tree = MemoryTree.fromLeafHashes(leaves);
    const location = dir();
    let log = await MerkleLog.open(location);
    try {
      const stops = [1, 255, 256, 257, 4096, 65_535, 65_536, 65_537, n];
      const sizes = [1, 2, 255, 256, 257, 511, 512, 513, 4095, 4096, 65_535, 65_536, 65_537, n];
      let at = 0;
      for (const stop of stops) {
        while (at < stop) {
          const to = Math.min(stop, at + 4096);
          await log.appendMany(all.slice(at, to));
          at = to;
        }
        await log.close(); // reopened at every stop: the partial last bundle and tiles are read back
        log = await MerkleLog.open(location);
        const size = log.size();
        expect(size).to.equal(stop);
        expect(toHex(await log.root()), `root at ${size}`).to.equal(toHex(mth(tree, 0, size)));
        for (const s of sizes.filter((x) => x <= size)) {
          const root = await log.root(s);
          expect(toHex(root), `root(${s}) at ${size}`).to.equal(toHex(mth(tree, 0, s)));
          for (const i of new Set([0, 255, 256, s >> 1, s - 1, 65_535].filter((x) => x < s))) {
            const before = log.stats().reads;
            verifyInclusion(i, s, leaves[i], await log.inclusionProof(i, s), root);
            expect(log.stats().reads - before, `tiles read for inclusion ${i} in ${s}`).to.be.at.most(3);
          }
          for (const s1 of sizes.filter((x) => x <= s)) verifyConsistency(s1, s, mth(tree, 0, s1), root, await log.consistencyProof(s1, s));
        }
        for (const i of [0, 255, 256, 65_535, 65_536, size - 1].filter((x) => x < size)) {
          expect(toHex(await log.get(i))).to.equal(toHex(encodeEntry(all[i])));
          expect(toHex(await log.leafHashAt(i))).to.equal(toHex(leaves[i]));
          expect(await log.indexOfLeafHash(leaves[i])).to.equal(i);
        }
      }
      const read: string[] = [];
      for await (const bytes of log.range(65_000, 65_600)) read.push(toHex(bytes));
      expect(read).to.deep.equal(all.slice(65_000, 65_600).map((e) => toHex(encodeEntry(e))));
    } finally {
      await log.close();
    }
    const stored = await tables(location, ["bundle", "tile", "leaf", "node"]);
    expect(stored.bundle.length, "full bundles are one piece each, and so is the last").to.equal(Math.ceil(n / 256));
    expect(wholes(stored.tile).map(([k]) => k.slice(0, 2))).to.deep.equal([...Array(Math.ceil(n / 256)).fill("00"), "01", "01", "02"]);
    expect(wholes(stored.tile).find(([k]) => k.startsWith("02"))![1]).to.equal(toHex(tree.subtree(16, 0)));
    expect(stored.leaf.length + stored.node.length).to.equal(0);
  });

  it("writes a piece per small commit, and a bundle whole (its pieces deleted) by the commit that fills it", async function () {
    const location = dir();
    let log = await MerkleLog.open(location);
    for (let i = 0; i < 300; i += 10) {
      await log.appendMany(entries(i + 10).slice(i));
      if (i === 120) {
        await log.close(); // reopened mid-bundle: its pieces are read back
        log = await MerkleLog.open(location);
      }
    }
    try {
      await expectReference(log, 300);
    } finally {
      await log.close();
    }
    const stored = await tables(location, ["bundle", "tile"]);
    const pieces = (rows: [string, string][], prefix: string) => rows.filter(([k]) => k.startsWith(prefix)).map(([k]) => k.slice(-2));
    expect(pieces(stored.bundle, "0".repeat(16))).to.deep.equal(["00"]);
    expect(pieces(stored.bundle, "0".repeat(15) + "1")).to.deep.equal(["00", "04", "0e", "18", "22"]); // [256, 260), [260, 270) …
    expect(pieces(stored.tile, "00" + "0".repeat(16))).to.deep.equal(["00"]);
    expect(pieces(stored.tile, "00" + "0".repeat(15) + "1")).to.deep.equal(["00", "04", "0e", "18", "22"]);
    expect(wholes(stored.bundle).map(([, v]) => (v.length - 2) / 2)).to.deep.equal([256 * 2 + entries(256).reduce((n, e) => n + encodeEntry(e).length, 0), 44 * 2 + entries(300).slice(256).reduce((n, e) => n + encodeEntry(e).length, 0)]);
  });

  it("converts a layout-1 store in chunks: roots and proofs equal to the reference, the same bundles and tiles as a native log, old keys gone", async function () {
    const [old, native] = [dir(), dir()];
    await writeLayout1(old, entries(700), { batch: 100 });
    expect((await tables(old, ["leaf"])).leaf.length).to.equal(700);
    const chunks: number[] = [];
    const log = await MerkleLog.open(old, { migrationChunk: 256, onMigrationChunk: (n) => chunks.push(n) });
    try {
      expect(chunks).to.deep.equal([256, 512, 700]);
      await expectReference(log, 700);
    } finally {
      await log.close();
    }
    await nativeLog(native, 700);
    const [converted, appended] = [await tables(old), await tables(native)];
    expect(wholes(converted.bundle)).to.deep.equal(wholes(appended.bundle));
    expect(wholes(converted.tile)).to.deep.equal(wholes(appended.tile));
    expect(converted.hash).to.deep.equal(appended.hash);
    expect(converted.leaf.length + converted.node.length).to.equal(0);
    expect(Object.fromEntries(converted.meta)).to.deep.equal({ hashed: "700", layout: "2", size: "700" });
  });

  it("resumes a conversion stopped after a chunk from its cursor", async function () {
    const location = dir();
    await writeLayout1(location, entries(700));
    const stop = new Error("stopped after a chunk");
    const err = await MerkleLog.open(location, { migrationChunk: 256, onMigrationChunk: (n) => { if (n === 512) throw stop; } }).then(() => undefined, (e: unknown) => e);
    expect(err).to.equal(stop);
    const half = await tables(location, ["bundle", "leaf", "meta"]);
    expect(half.bundle.map(([k]) => k)).to.deep.equal([hex16(0) + "00", hex16(1) + "00"]);
    expect(half.leaf.length).to.equal(700);
    expect(Object.fromEntries(half.meta)).to.deep.equal({ migrated: "512", size: "700" });
    const chunks: number[] = [];
    const log = await MerkleLog.open(location, { migrationChunk: 256, onMigrationChunk: (n) => chunks.push(n) });
    try {
      expect(chunks).to.deep.equal([700]);
      await expectReference(log, 700);
    } finally {
      await log.close();
    }
  });

  it("resumes a conversion across kill -9 at random moments, ending with the native store", async function () {
    const [location, native] = [dir(), dir()];
    const n = 3000;
    await writeLayout1(location, entries(n));
    let rounds = 0;
    for (let opened = false; !opened; rounds++) {
      expect(rounds, "the conversion ends").to.be.below(20);
      opened = await new Promise<boolean>((done, fail) => {
        const child = spawn(process.execPath, ["-r", require.resolve("ts-node/register"), MIGRATOR, location, "256"], {
          env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" },
          stdio: ["ignore", "pipe", "pipe"],
        });
        let stderr = "";
        let open = false;
        child.stderr.on("data", (d) => (stderr += d));
        createInterface({ input: child.stdout }).on("line", (line) => {
          if (line.startsWith("open ")) open = true;
          // Killed at a random moment after its first chunk: mid-chunk, between chunks, or while deleting old keys.
          else if (line.startsWith("chunk ")) setTimeout(() => child.kill("SIGKILL"), Math.floor(Math.random() * 40));
        });
        child.on("close", (code, signal) => (signal === "SIGKILL" || code === 0 ? done(open || code === 0) : fail(new Error(`migrator exited ${code}: ${stderr}`))));
      });
    }
    expect(rounds).to.be.greaterThan(1);
    const log = await MerkleLog.open(location);
    try {
      const leaves = entries(n).map((e) => leafHash(encodeEntry(e)));
      expect(toHex(await log.root())).to.equal(toHex(referenceRoot(leaves)));
      for (const i of [0, 255, 256, 1500, n - 1]) verifyInclusion(i, n, leaves[i], await log.inclusionProof(i), await log.root());
    } finally {
      await log.close();
    }
    await nativeLog(native, n);
    const [converted, appended] = [await tables(location), await tables(native)];
    expect(wholes(converted.bundle)).to.deep.equal(wholes(appended.bundle));
    expect(wholes(converted.tile)).to.deep.equal(wholes(appended.tile));
    expect(converted.leaf.length + converted.node.length).to.equal(0);
    expect(Object.fromEntries(converted.meta)).to.deep.include({ layout: "2", size: String(n) });
  });

  it("refuses to convert a layout-1 store whose stored root is not the root of its leaf hashes", async function () {
    const location = dir();
    await writeLayout1(location, entries(300));
    const db = new Level<string, unknown>(location);
    await db.sublevel<string, Uint8Array>("node", { keyEncoding: "utf8", valueEncoding: "view" }).put("08" + "0".repeat(16), new Uint8Array(32).fill(1));
    await db.close();
    const err = await MerkleLog.open(location).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(LogError);
    expect((err as LogError).code).to.equal("LOG_CORRUPT");
    const meta = Object.fromEntries((await tables(location, ["meta"])).meta);
    expect(meta.layout).to.equal(undefined);
    expect((await tables(location, ["leaf"])).leaf.length).to.equal(300);
  });

  it("finds a just-committed leaf before its projection is written, and rebuilds a projection left behind on open", async function () {
    const location = dir();
    let log = await MerkleLog.open(location);
    const all = entries(600);
    const results = await log.appendMany(all);
    expect(await log.indexOfLeafHash(results[599].leafHash)).to.equal(599);
    await log.close();
    // As after a crash before the projection's write: its cursor and keys behind the log.
    const db = new Level<string, unknown>(location);
    const hashes = db.sublevel<string, Uint8Array>("hash", { keyEncoding: "utf8", valueEncoding: "view" });
    const keys = await hashes.keys().all();
    await hashes.batch(keys.filter((k) => parseInt(k.slice(64), 16) >= 100).map((key) => ({ type: "del" as const, key })));
    await db.sublevel<string, string>("meta", { keyEncoding: "utf8", valueEncoding: "utf8" }).put("hashed", "100");
    await db.close();
    log = await MerkleLog.open(location);
    try {
      for (const i of [0, 99, 100, 599]) expect(await log.indexOfLeafHash(results[i].leafHash)).to.equal(i);
    } finally {
      await log.close();
    }
    const stored = await tables(location, ["hash", "meta"]);
    expect(stored.hash.length).to.equal(600);
    expect(Object.fromEntries(stored.meta).hashed).to.equal("600");
  });
});
