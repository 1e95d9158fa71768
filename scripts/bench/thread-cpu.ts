/**
 * Where a signed single call's server CPU goes, thread by thread, at offered rates: the profiles of
 * `npm run bench -- --profile` sample the main thread, and the benchmark's "server CPU per call" is
 * one total; this reads every thread of the server process from /proc/<pid>/task/<tid>/schedstat
 * (the scheduler's run time in ns; /proc/<pid>/stat counts 10 ms ticks) around each window. Written
 * to find what a worker thread woken for small jobs costs on these VMs (scripts/bench/notes.md,
 * "Where the second core's time went"). Linux only.
 *
 * dcl is started as the benchmark starts it (dist/scripts/start.js, embedded chain, fresh data
 * directory: dcl-under-test.ts); 1,500 session-key calls warm it up; then each rate is offered open
 * loop for `--seconds`, then a closed loop of 4,000 calls (32 connections).
 *
 *   npm run build && node dist/scripts/bench/thread-cpu.js [--rates 336,1000] [--seconds 4] [--department-key]
 *
 * Threads are listed by id in the order the process made them: the main thread, then (Node 20–24)
 * V8's four helper threads, libuv's four, and the worker threads dcl starts.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { setUpScenario, signedAccessRequests, startDcl } from "./dcl-under-test";
import { runLoad, type LoadResult } from "./load-generator";
import { DclClient } from "../../api/client";
import { threadCpu } from "./proc-cpu";

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

async function main(): Promise<void> {
  if (process.platform !== "linux") throw new Error("thread-cpu reads /proc/<pid>/task: Linux only");
  const rates = arg("--rates", "336,1000").split(",").map(Number);
  const departmentKey = process.argv.includes("--department-key");
  const seconds = Number(arg("--seconds", "4"));
  if (rates.some((r) => !(r > 0)) || !(seconds > 0)) throw new Error("--rates: calls per second, comma-separated; --seconds: a positive number");
  const dir = mkdtempSync(join(tmpdir(), "dcl-thread-cpu-"));
  const dcl = await startDcl(process.execPath, dir, randomBytes(16).toString("hex"));
  const pid = dcl.process.pid!;
  const rows: { label: string; load: LoadResult; perThread: [number, number][] }[] = [];
  try {
    const s = await setUpScenario(dcl);
    const session = s.session;
    if (!(session instanceof DclClient) && !departmentKey) throw new Error(`no session key: ${session.unavailable}`);
    const client = departmentKey || !(session instanceof DclClient) ? s.tax : session;
    await runLoad({ url: dcl.baseUrl, path: "/v1/access", requests: await signedAccessRequests(s, 1500, 1, client), concurrency: 32 });
    const windows: [string, number, number | undefined][] = [...rates.map((r): [string, number, number] => [`${r} calls/s offered`, Math.round(r * seconds), r]), ["closed loop, 32 connections", 4000, undefined]];
    for (const [label, count, rate] of windows) {
      const requests = await signedAccessRequests(s, count, 1, client);
      const before = threadCpu(pid);
      const load = await runLoad({ url: dcl.baseUrl, path: "/v1/access", requests, concurrency: 32, ...(rate ? { rate } : {}) });
      const after = threadCpu(pid);
      const perThread = [...after].map(([tid, us]): [number, number] => [tid, (us - (before.get(tid) ?? 0)) / count]).sort((a, b) => a[0] - b[0]);
      rows.push({ label, load, perThread });
    }
  } finally {
    await dcl.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const µs = (n: number) => Math.round(n).toLocaleString("en-US");
  console.log(`Server CPU per call by thread, ${departmentKey ? "department" : "session"}-key single calls, Node ${process.version}`);
  console.log(`(node dist/scripts/bench/thread-cpu.js ${process.argv.slice(2).join(" ")})`.replace(/ \)$/, ")"));
  console.log("");
  console.log("| window | calls/s | p50 / p99 | all threads | main thread | other threads (by id, ≥ 5 µs) |");
  console.log("|---|---:|---:|---:|---:|---|");
  for (const r of rows) {
    const total = r.perThread.reduce((a, [, v]) => a + v, 0);
    const main = r.perThread.find(([tid]) => tid === pid)?.[1] ?? 0;
    const others = r.perThread.filter(([tid, v]) => tid !== pid && v >= 5).map(([tid, v]) => `${tid - pid}: ${µs(v)}`).join(", ");
    const { p50, p99 } = r.load.latencyMs;
    console.log(`| ${r.label} | ${µs(r.load.requestsPerSecond)} | ${p50.toFixed(1)} / ${p99.toFixed(1)} ms | ${µs(total)} µs | ${µs(main)} µs | ${others} |`);
  }
  console.log("");
  console.log("Other threads are named by their id's distance from the main thread's (the order they were made in).");
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
