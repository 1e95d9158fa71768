// Benchmark of node/log/MerkleLog: append throughput (group commit vs one synced batch per
// append, in the same run) and median proof generation time and store reads at 1e4 and 1e6
// entries (1e7 with --with-1e7). Reproduce with the command printed at the end.
//
//   npx ts-node scripts/bench/log-bench.ts [--entries N] [--proofs P] [--with-1e7] [--dir D]
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { performance } from "perf_hooks";
import { createHash } from "crypto";
import type { AccessLogEntry } from "../../node/log/entry";
import { MerkleLog } from "../../node/log/merkle-log";
import { verifyConsistency, verifyInclusion } from "../../node/verify";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const ENTRIES = arg("--entries", 20_000);
const PROOFS = arg("--proofs", 1_000);
const WITH_1E7 = process.argv.includes("--with-1e7");
const dirArg = process.argv.indexOf("--dir");
const ROOT = dirArg >= 0 ? process.argv[dirArg + 1] : os.tmpdir();

const h = (s: string) => "0x" + createHash("sha256").update(s).digest("hex");
const base = { consumerDept: h("dept:tax"), providerDept: h("dept:civil"), resourceId: h("res:1"), agreementId: h("agr:1"), purposeHash: h("purpose:1") };
function entry(n: number): AccessLogEntry {
  return {
    ...base,
    time: 1767225600 + n,
    recordCount: 1,
    requestHash: h(`req:${n}`),
    responseHash: h(`resp:${n}`),
    subjectCommitment: n % 2 ? h(`subj:${n}`) : null,
    outcome: "served",
    refusalReason: "",
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function withLog<T>(name: string, fn: (log: MerkleLog) => Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(ROOT, `dcl-bench-${name}-`));
  const log = await MerkleLog.open(dir);
  try {
    return await fn(log);
  } finally {
    await log.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function throughput(): Promise<void> {
  const concurrency = 256;
  await withLog("group", async (log) => {
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < ENTRIES) await log.append(entry(next++));
      }),
    );
    const s = (performance.now() - t0) / 1000;
    const st = log.stats();
    console.log(`append, group commit (${concurrency} concurrent appenders): ${ENTRIES} entries in ${s.toFixed(2)} s = ${Math.round(ENTRIES / s)} entries/s, ${st.batches} synced batches (${(ENTRIES / st.batches).toFixed(1)} entries/batch)`);
  });
  const single = Math.min(ENTRIES, 2_000);
  await withLog("single", async (log) => {
    const t0 = performance.now();
    for (let i = 0; i < single; i++) await log.append(entry(i));
    const s = (performance.now() - t0) / 1000;
    console.log(`append, one synced batch per append (sequential):    ${single} entries in ${s.toFixed(2)} s = ${Math.round(single / s)} entries/s, ${log.stats().batches} synced batches`);
  });
}

async function proofs(size: number): Promise<void> {
  await withLog(`proofs-${size}`, async (log) => {
    const chunk = 10_000;
    const t0 = performance.now();
    for (let start = 0; start < size; start += chunk) {
      await log.appendMany(Array.from({ length: Math.min(chunk, size - start) }, (_, i) => entry(start + i)));
      if (size >= 1_000_000 && (start / chunk) % 100 === 99) process.stderr.write(`  filled ${start + chunk}\n`);
    }
    const fillS = (performance.now() - t0) / 1000;
    const root = await log.root();
    const rand = (n: number) => Math.floor(Math.random() * n);
    const time = async (f: () => Promise<unknown>) => {
      const r0 = log.stats().reads;
      const t = performance.now();
      const out = await f();
      return { ms: performance.now() - t, reads: log.stats().reads - r0, out };
    };
    const incl: { ms: number; reads: number }[] = [];
    const cons: { ms: number; reads: number }[] = [];
    const roots: { ms: number; reads: number }[] = [];
    for (let k = 0; k < PROOFS; k++) {
      const index = rand(size);
      const r = await time(() => log.inclusionProof(index, size));
      incl.push(r);
      if (k < 20) verifyInclusion(index, size, await log.leafHashAt(index), r.out as Uint8Array[], root);
      const m = 1 + rand(size - 1);
      const c = await time(() => log.consistencyProof(m, size));
      cons.push(c);
      const rm = await time(() => log.root(m));
      roots.push(rm);
      if (k < 20) verifyConsistency(m, size, rm.out as Uint8Array, root, c.out as Uint8Array[]);
    }
    const fmt = (xs: { ms: number; reads: number }[]) =>
      `median ${(median(xs.map((x) => x.ms)) * 1000).toFixed(0)} µs, median ${median(xs.map((x) => x.reads))} reads (max ${Math.max(...xs.map((x) => x.reads))})`;
    console.log(`size ${size.toLocaleString("en")}: filled by appendMany(10k) at ${Math.round(size / fillS)} entries/s (${fillS.toFixed(1)} s)`);
    console.log(`  inclusion proof:   ${fmt(incl)}   over ${PROOFS} random indices`);
    console.log(`  consistency proof: ${fmt(cons)}   over ${PROOFS} random old sizes`);
    console.log(`  root(old size):    ${fmt(roots)}`);
  });
}

async function main(): Promise<void> {
  console.log(`node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, store in ${ROOT}`);
  await throughput();
  for (const size of [10_000, 1_000_000, ...(WITH_1E7 ? [10_000_000] : [])]) await proofs(size);
  const cmd = ["npx ts-node scripts/bench/log-bench.ts", `--entries ${ENTRIES}`, `--proofs ${PROOFS}`, ...(WITH_1E7 ? ["--with-1e7"] : [])];
  console.log(`reproduce: ${cmd.join(" ")}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
