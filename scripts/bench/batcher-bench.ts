/**
 * Calls reported one at a time, as a gateway plugin sees them: each sent as its own request (a
 * pre-signed `POST /v1/access` of one call, as `npm run bench` sends them) beside the same calls
 * reported through the access batcher (api/access-batcher.ts: held up to `--linger` ms, sent many
 * to a request, each answered with its own receipt), side by side in one run, open loop at each
 * offered rate: how many calls a second were answered, latency from when each call was due to its
 * answer (p50 / p99), and the server's CPU per call (all its threads, /proc; Linux only).
 *
 * dcl is started as the benchmark starts it (dist/scripts/start.js, embedded chain, fresh data
 * directory), session key for both; both ways are warmed up first, then alternate at each rate.
 *
 *   npm run build && node dist/scripts/bench/batcher-bench.js [--rates 336,1000,3360] [--seconds 5] [--linger 5]
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AccessBatcher } from "../../api/access-batcher";
import { DclClient } from "../../api/client";
import { setUpScenario, signedAccessRequests, startDcl } from "./dcl-under-test";
import { percentile, runLoad } from "./load-generator";
import { processCpu } from "./proc-cpu";

interface Measured {
  way: string;
  rate: number;
  answered: number;
  failed: number;
  callsPerSecond: number;
  p50: number;
  p99: number;
  cpuUsPerCall: number;
  requests?: number;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const hash = () => "0x" + randomBytes(32).toString("hex");

/** Reports `count` calls through `batcher` at `rate` a second, open loop: each timed from when it was due. */
async function throughBatcher(batcher: AccessBatcher, agreementId: string, count: number, rate: number): Promise<{ latencies: number[]; failed: number; seconds: number }> {
  const calls = Array.from({ length: count }, () => ({ agreementId, recordCount: 1, requestHash: hash(), responseHash: hash() }));
  const latencies: number[] = [];
  let failed = 0;
  const pending: Promise<void>[] = [];
  const interval = 1000 / rate;
  const start = performance.now();
  for (let i = 0; i < count; ) {
    const now = performance.now();
    while (i < count && start + i * interval <= now) {
      const due = start + i * interval;
      pending.push(batcher.report(calls[i]).then(() => void latencies.push(performance.now() - due), () => void failed++));
      i++;
    }
    if (i < count) await new Promise((r) => setTimeout(r, Math.max(0, start + i * interval - performance.now())));
  }
  await Promise.all(pending);
  return { latencies, failed, seconds: (performance.now() - start) / 1000 };
}

async function main(): Promise<void> {
  if (process.platform !== "linux") throw new Error("batcher-bench reads /proc/<pid>/task: Linux only");
  const rates = arg("--rates", "336,1000,3360").split(",").map(Number);
  const seconds = Number(arg("--seconds", "5"));
  const lingerMs = Number(arg("--linger", "5"));
  if (rates.some((r) => !(r > 0)) || !(seconds > 0) || !(lingerMs >= 0)) throw new Error("--rates: calls per second, comma-separated; --seconds, --linger: numbers");
  const dir = mkdtempSync(join(tmpdir(), "dcl-batcher-bench-"));
  const dcl = await startDcl(process.execPath, dir, randomBytes(16).toString("hex"));
  const pid = dcl.process.pid!;
  const rows: Measured[] = [];
  try {
    const s = await setUpScenario(dcl);
    if (!(s.session instanceof DclClient)) throw new Error(`no session key: ${s.session.unavailable}`);
    const session = s.session;
    const batcher = new AccessBatcher(session, { lingerMs });
    await runLoad({ url: dcl.baseUrl, path: "/v1/access", requests: await signedAccessRequests(s, 1500, 1, session), concurrency: 32 });
    await throughBatcher(batcher, s.agreementId, 5000, 2000);
    for (const rate of rates) {
      const count = Math.round(rate * seconds);
      const requests = await signedAccessRequests(s, count, 1, session);
      let cpu = processCpu(pid);
      const single = await runLoad({ url: dcl.baseUrl, path: "/v1/access", requests, concurrency: 32, rate });
      rows.push({
        way: "a request per call", rate, answered: single.ok, failed: single.sent - single.ok, callsPerSecond: single.ok / single.seconds,
        p50: single.latencyMs.p50, p99: single.latencyMs.p99, cpuUsPerCall: (processCpu(pid) - cpu) / count,
      });
      const sent = batcher.stats().requests;
      cpu = processCpu(pid);
      const batched = await throughBatcher(batcher, s.agreementId, count, rate);
      const sorted = batched.latencies.sort((a, b) => a - b);
      rows.push({
        way: `through the batcher (linger ${lingerMs} ms)`, rate, answered: sorted.length, failed: batched.failed, callsPerSecond: sorted.length / batched.seconds,
        p50: percentile(sorted, 50), p99: percentile(sorted, 99), cpuUsPerCall: (processCpu(pid) - cpu) / count, requests: batcher.stats().requests - sent,
      });
    }
    await batcher.close();
  } finally {
    await dcl.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const n = (x: number, d = 0) => x.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
  console.log(`Session-key calls reported one at a time, Node ${process.version}, ${seconds} s at each rate`);
  console.log(`(node dist/scripts/bench/batcher-bench.js ${process.argv.slice(2).join(" ")})`.replace(/ \)$/, ")"));
  console.log("");
  console.log("| offered calls/s | sent as | answered calls/s | p50 / p99 | server CPU per call | requests |");
  console.log("|---:|---|---:|---:|---:|---:|");
  for (const r of rows) {
    const failed = r.failed ? ` (${n(r.failed)} failed)` : "";
    console.log(`| ${n(r.rate)} | ${r.way} | ${n(r.callsPerSecond)}${failed} | ${n(r.p50, 1)} / ${n(r.p99, 1)} ms | ${n(r.cpuUsPerCall)} µs | ${r.requests === undefined ? n(r.answered + r.failed) : n(r.requests)} |`);
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.stack ?? err.message : err);
  process.exit(1);
});
