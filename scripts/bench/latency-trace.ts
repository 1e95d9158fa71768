/**
 * Where a single call's tail latency comes from: offers session-key single calls to a fresh dcl at
 * a fixed rate (open loop, each timed from when it was due, as `npm run bench` does), then prints
 * the latency over time in 100 ms slices and every stretch of slow answers beside what the node
 * logged then, so a p99 can be told apart as the node's own pauses, the disk's or the machine's.
 *
 *   npm run build && node dist/scripts/bench/latency-trace.js [--rate 1000] [--seconds 10] [--slow 25] [--cpu-prof-dir DIR]
 *
 * With --cpu-prof-dir the node runs under `node --cpu-prof` and its profile is left in DIR.
 *
 * Set DCL_* variables in its environment to change the node under test (they are passed on), e.g.
 * DCL_ANCHOR_INTERVAL_MS=3600000 to see the same load without anchoring.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DclClient } from "../../api/client";
import { setUpScenario, signedAccessRequests, startDcl } from "./dcl-under-test";
import { percentile, runLoad } from "./load-generator";

const option = (name: string, fallback: number) => (process.argv.indexOf(name) >= 0 ? Number(process.argv[process.argv.indexOf(name) + 1]) : fallback);

async function main(): Promise<void> {
  const rate = option("--rate", 1000);
  const seconds = option("--seconds", 10);
  const slow = option("--slow", 25);
  const dir = mkdtempSync(join(tmpdir(), "dcl-latency-trace-"));
  const profDir = process.argv.indexOf("--cpu-prof-dir") >= 0 ? process.argv[process.argv.indexOf("--cpu-prof-dir") + 1] : undefined;
  const dcl = await startDcl(process.execPath, dir, randomBytes(16).toString("hex"), { cpuProfDir: profDir });
  try {
    const s = await setUpScenario(dcl);
    if (!(s.session instanceof DclClient)) throw new Error(`no session key: ${s.session.unavailable}`);
    await runLoad({ url: dcl.baseUrl, path: "/v1/access", requests: await signedAccessRequests(s, 3000, 1, s.session), concurrency: 32 });
    const requests = await signedAccessRequests(s, Math.round(rate * seconds), 1, s.session);
    const load = await runLoad({ url: dcl.baseUrl, path: "/v1/access", requests, concurrency: 32, rate, collectTimeline: true });
    const answers = load.timeline!.map(([due, ms]) => ({ due, ms }));
    const ok = answers.filter((a) => a.ms >= 0).map((a) => a.ms).sort((a, b) => a - b);
    console.log(`${answers.length} session-key single calls at ${rate}/s for ${seconds} s (Node ${process.version}): ${answers.length - ok.length} failed; p50 ${percentile(ok, 50).toFixed(1)} ms, p99 ${percentile(ok, 99).toFixed(1)} ms, max ${ok[ok.length - 1].toFixed(1)} ms`);
    console.log(`(node dist/scripts/bench/latency-trace.js ${process.argv.slice(2).join(" ")})\n`);

    // 100 ms slices: how many answers were slower than --slow, and the slice's worst.
    const start = answers[0].due;
    const slices = new Map<number, number[]>();
    for (const a of answers) {
      const k = Math.floor((a.due - start) / 100);
      slices.set(k, [...(slices.get(k) ?? []), a.ms]);
    }
    const log = readdirSync(dir).filter((f) => f.startsWith("dcl-")).flatMap((f) => readFileSync(join(dir, f), "utf8").split("\n"));
    const logged = log.flatMap((line) => {
      try {
        const j = JSON.parse(line) as { time: number; msg: string; level: number };
        return j.time >= start - 200 && j.time <= start + seconds * 1000 + 1000 ? [j] : [];
      } catch {
        return [];
      }
    });
    let slowCalls = 0;
    console.log(`slices of 100 ms with an answer slower than ${slow} ms (t from the first call's due time):`);
    for (const [k, ms] of [...slices].sort((a, b) => a[0] - b[0])) {
      const n = ms.filter((x) => x > slow).length;
      slowCalls += n;
      if (n === 0) continue;
      const near = logged.filter((l) => l.time >= start + k * 100 - 300 && l.time < start + (k + 1) * 100).map((l) => `${l.msg} (t ${l.time - start} ms)`);
      console.log(`  t ${String(k * 100).padStart(6)} ms: ${String(n).padStart(3)} slow, worst ${Math.max(...ms).toFixed(0)} ms${near.length ? `; logged: ${[...new Set(near)].slice(0, 4).join("; ")}` : ""}`);
    }
    console.log(`${slowCalls} of ${answers.length} answers slower than ${slow} ms`);
  } finally {
    await dcl.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.stack ?? err.message : err);
  process.exit(1);
});
