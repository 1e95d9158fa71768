/**
 * Where the log alone spends its time: runs scripts/bench/store-bench.ts's "log alone" load
 * (MerkleLog.appendMany of `batch` entries by `concurrency` appenders, group commit) under
 * `node --cpu-prof` and prints the busy time per part of the stack and the hottest functions,
 * counting only the samples inside the load's window.
 *
 *   npm run build && node dist/scripts/bench/log-profile.js [--entries 32000] [--rounds 3]
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { summariseProfile } from "./cpu-profile";
import type { StoreJob, StoreResult } from "./store-bench";

const argv = process.argv.slice(2);
const option = (name: string, fallback: number) => (argv.indexOf(name) >= 0 ? Number(argv[argv.indexOf(name) + 1]) : fallback);

const dir = mkdtempSync(join(tmpdir(), "dcl-log-profile-"));
try {
  const job: StoreJob = { entries: option("--entries", 32_000), batch: 1000, concurrency: 32, rounds: option("--rounds", 3), dir, logOnly: true };
  const out = execFileSync(process.execPath, ["--cpu-prof", `--cpu-prof-dir=${dir}`, join(__dirname, "store-bench.js"), JSON.stringify(job)], { encoding: "utf8" });
  const result = JSON.parse(out) as StoreResult;
  const [profile] = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"));
  const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
  console.log(`log alone, ${job.entries} entries × ${job.rounds} rounds under --cpu-prof: ${result.logAlone.map((r) => Math.round(r)).join(", ")} entries/s, ${result.logBatches.join(", ")} synced batches`);
  for (const [i, w] of result.logWindowsUs.entries()) {
    const s = summariseProfile(join(dir, profile), w.start, w.end, 12);
    console.log(`\nround ${i + 1}: window ${s.windowMs.toFixed(0)} ms, busy (sampled, not idle) ${s.busyMs.toFixed(0)} ms${s.windowed ? "" : " (whole profile)"}`);
    for (const p of s.parts) console.log(`  ${pct(p.share).padStart(7)}  ${p.ms.toFixed(0).padStart(6)} ms  ${p.part}`);
    console.log("  hottest functions (self time):");
    for (const f of s.top) console.log(`  ${pct(f.share).padStart(7)}  ${f.ms.toFixed(0).padStart(6)} ms  ${f.name}  ${f.where}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
