/**
 * The benchmark's load generator, run as its own process so that its work is not the server's:
 * sends pre-signed requests (headers and body bytes prepared beforehand by `npm run bench`, so no
 * signing happens here) over node:http keep-alive connections, at most `concurrency` at a time.
 *
 * Closed loop (no `rate`): `concurrency` senders, each sending its next request when the last one
 * is answered: the server's throughput. Open loop (`rate`, requests per second): request i is due
 * at start + i / rate whatever the answers, and its latency counts from when it was due, so a
 * server that falls behind shows its queueing delay rather than slowing the generator down.
 *
 * `npm run bench` forks it once and sends it the path of each job over IPC, answered with the
 * LoadResult: one process for the whole run, so its JIT is warm for every row (a fresh process per
 * row spent three times the CPU per request on its first few thousand requests). By hand:
 *
 *   node dist/scripts/bench/load-generator.js JOB.json   → one line of JSON (LoadResult) on stdout
 */
import { readFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { performance } from "node:perf_hooks";

/** One request, ready to send. */
export interface PreparedRequest {
  /** Path and query, as signed (default: the job's). */
  path?: string;
  headers: Record<string, string>;
  body: string;
}

/** What to send where, and how. */
export interface LoadJob {
  url: string;
  path: string;
  requests: PreparedRequest[];
  concurrency: number;
  /** Requests per second offered (open loop); absent: as fast as answers come (closed loop). */
  rate?: number;
  /** Return, for each answered request, when it was answered and the log indices of its results. */
  collectAcks?: boolean;
  /** Return, for each request in order, when it was due and its latency (-1 when not answered 200). */
  collectTimeline?: boolean;
}

/** What one job measured. */
export interface LoadResult {
  sent: number;
  ok: number;
  statuses: Record<string, number>;
  firstError?: string;
  seconds: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  /** [answered at (epoch ms), first index, count] per answered request, with collectAcks. */
  acks?: [number, number, number][];
  /** [due at (epoch ms), latency (ms, -1 when not answered 200)] per request, in order, with collectTimeline. */
  timeline?: [number, number][];
  /** Monotonic clock (µs, the clock of V8's CPU profiles) when sending started and ended. */
  monotonicUs: { start: number; end: number };
  /** CPU time the generator itself spent sending and receiving (ms, user + system). */
  generatorCpuMs: number;
}

/** The p-th percentile (0..100) of sorted values, nearest rank. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

/** Runs `job` and resolves with its measures. */
export async function runLoad(job: LoadJob): Promise<LoadResult> {
  const target = new URL(job.path, job.url);
  const agent = new Agent({ keepAlive: true, maxSockets: job.concurrency });
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const acks: [number, number, number][] = [];
  const timeline: [number, number][] = job.collectTimeline ? new Array(job.requests.length) : [];
  let firstError: string | undefined;
  let ok = 0;

  // Everything a request needs is built before the clock starts: the generator's own work per request stays small.
  const prepared = job.requests.map((r) => {
    const body = Buffer.from(r.body);
    const path = r.path ?? target.pathname + target.search;
    return { body, options: { agent, host: target.hostname, port: target.port, path, method: "POST", headers: { ...r.headers, "content-length": String(body.length) } } };
  });
  const send = (i: number, dueAt: number) =>
    new Promise<void>((resolve) => {
      const r = prepared[i];
      const req = request(r.options, (res) => {
        const chunks: Buffer[] = [];
        if (job.collectAcks || res.statusCode !== 200) res.on("data", (c: Buffer) => chunks.push(c));
        else res.resume();
        res.on("end", () => {
          const latency = performance.now() - dueAt;
          latencies.push(latency);
          if (job.collectTimeline) timeline[i] = [epochAtStart + (dueAt - start), res.statusCode === 200 ? latency : -1];
          const status = String(res.statusCode);
          statuses[status] = (statuses[status] ?? 0) + 1;
          if (res.statusCode === 200) {
            ok++;
            if (job.collectAcks) {
              const results = (JSON.parse(Buffer.concat(chunks).toString("utf8")) as { results: { index: number }[] }).results;
              acks.push([Date.now(), results[0].index, results.length]);
            }
          } else firstError ??= `${status} ${Buffer.concat(chunks).toString("utf8").slice(0, 300)}`;
          resolve();
        });
      });
      req.on("error", (err) => {
        statuses.error = (statuses.error ?? 0) + 1;
        if (job.collectTimeline) timeline[i] = [epochAtStart + (dueAt - start), -1];
        firstError ??= err.message;
        resolve();
      });
      req.end(r.body);
    });

  const start = performance.now();
  const epochAtStart = Date.now();
  const startUs = monotonicUs();
  const cpu0 = process.cpuUsage();
  if (job.rate === undefined) {
    let next = 0;
    await Promise.all(
      Array.from({ length: job.concurrency }, async () => {
        while (next < prepared.length) {
          await send(next++, performance.now());
        }
      }),
    );
  } else {
    const interval = 1000 / job.rate;
    const pending: Promise<void>[] = [];
    for (let i = 0; i < prepared.length; ) {
      const now = performance.now();
      // Send every request that is due; the agent queues those beyond `concurrency` connections.
      while (i < prepared.length && start + i * interval <= now) {
        pending.push(send(i, start + i * interval));
        i++;
      }
      if (i < prepared.length) await new Promise((r) => setTimeout(r, Math.max(0, start + i * interval - performance.now())));
    }
    await Promise.all(pending);
  }
  const seconds = (performance.now() - start) / 1000;
  const endUs = monotonicUs();
  const cpu = process.cpuUsage(cpu0);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    sent: job.requests.length,
    ok,
    statuses,
    ...(firstError ? { firstError } : {}),
    seconds,
    requestsPerSecond: job.requests.length / seconds,
    latencyMs: { p50: percentile(latencies, 50), p90: percentile(latencies, 90), p99: percentile(latencies, 99), max: latencies[latencies.length - 1] ?? NaN },
    ...(job.collectAcks ? { acks } : {}),
    ...(job.collectTimeline ? { timeline } : {}),
    monotonicUs: { start: startUs, end: endUs },
    generatorCpuMs: (cpu.user + cpu.system) / 1000,
  };
}

const readJob = (file: string) => JSON.parse(readFileSync(file, "utf8")) as LoadJob;

if (require.main === module && process.send) {
  // Forked with IPC: a job file per message, a result (or { error }) per answer, until disconnected.
  process.on("message", (file: string) => {
    runLoad(readJob(file)).then(
      (r) => process.send!(r),
      (err) => process.send!({ error: (err as Error).stack ?? String(err) }),
    );
  });
  process.on("disconnect", () => process.exit(0));
} else if (require.main === module) {
  runLoad(readJob(process.argv[2])).then(
    (r) => process.stdout.write(JSON.stringify(r) + "\n"),
    (err) => {
      process.stderr.write(`load generator failed: ${(err as Error).stack ?? err}\n`);
      process.exit(1);
    },
  );
}
