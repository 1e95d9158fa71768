/**
 * `npm run bench`: ingest throughput and latency of dcl beside the ceilings it is measured against,
 * side by side in one run, on each Node version at hand (the one running this, and Node 24 from the
 * devDependency `node` when installed), written to docs/bench.md with the command and the machine.
 *
 *   npm run bench                              quick mode (a few minutes)
 *   npm run bench -- --full                    more requests, 3 interleaved rounds (medians), longer seed load
 *   npm run bench -- --profile                 also a CPU-profiled pass (node --cpu-prof) of the single-call
 *                                              and 1,000-call loads; .cpuprofile files kept in a temp dir
 *   npm run bench -- --update-readme           also copy the table into README.md's Benchmarks section
 *   npm run bench -- --out FILE | --no-node24  write elsewhere | the running Node only
 *
 * Every load comes from one generator (scripts/bench/load-generator.ts, its own process, node:http
 * keep-alive, `CONCURRENCY` connections, requests signed beforehand) against a server in its own
 * process: a bare Fastify (scripts/bench/bare-server.ts) or dcl as `npm start` runs it
 * (scripts/bench/dcl-under-test.ts). The disk's ceiling and the log alone run in
 * scripts/bench/store-bench.ts. Servers and store run on the Node version under test; the generator
 * always on the one running this script, so it is the same for every row.
 */
import { execFileSync, fork, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release, tmpdir, totalmem } from "node:os";
import { join, relative } from "node:path";
import { createInterface } from "node:readline";
import { JsonRpcProvider } from "ethers";
import { DclClient } from "../../api/client";
import { LogAnchors__factory } from "../../typechain-types";
import { summariseProfile, type ProfileSummary } from "./cpu-profile";
import { liveServers, setUpScenario, signedAccessRequests, startDcl, type RunningDcl, type Scenario } from "./dcl-under-test";
import { percentile, type LoadJob, type LoadResult, type PreparedRequest } from "./load-generator";
import type { PacedResult, StoreJob, StoreResult } from "./store-bench";
import { twoCoreBound, type FloorsJob, type FloorsResult } from "./ingest-floors";

// Runs compiled (npm run bench builds first): the servers it starts are dist/ JavaScript on each Node.
if (!/[\\/]dist[\\/]scripts[\\/]bench$/.test(__dirname)) throw new Error("run the benchmark as `npm run bench` (compiled into dist/), not from its TypeScript source");
const ROOT = join(__dirname, "..", "..", "..");
const HERE = __dirname; // dist/scripts/bench
const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(name);
const option = (name: string) => (argv.indexOf(name) >= 0 ? argv[argv.indexOf(name) + 1] : undefined);

const FULL = flag("--full");
const PROFILE = flag("--profile");
const OUT = option("--out") ?? join(ROOT, "docs", "bench.md");
/** Connections the generator keeps open (and requests in flight at most). */
const CONCURRENCY = 32;
/** The offered rate of the latency rows (calls per second). */
const LATENCY_RATE = 1000;
/** The seed scenario's average load (29 million calls a day). */
const SEED_RATE = 336;
/** DCL_ANCHOR_INTERVAL_MS's default: the seed-load rows run with it. */
const ANCHOR_INTERVAL_S = 5;

const MODE = flag("--smoke") // a few seconds per row, to check the script itself
  ? { name: "smoke", rounds: 1, warmup: 50, single: 300, batch100: 20, batch1000: 8, latencySeconds: 1, seedSeconds: 12, storeEntries: 8000 }
  : FULL
  ? { name: "full", rounds: 3, warmup: 500, single: 3000, batch100: 300, batch1000: 160, latencySeconds: 10, seedSeconds: 90, storeEntries: 200_000 }
  : { name: "quick", rounds: 1, warmup: 300, single: 2000, batch100: 200, batch1000: 40, latencySeconds: 5, seedSeconds: 20, storeEntries: 32_000 };

/** A Node binary the servers and the store run on. */
interface Runtime {
  bin: string;
  version: string;
  /** Where it comes from, for the report. */
  source: string;
  /** The first runtime runs every row; the others all but the seed load in quick mode. */
  primary: boolean;
}

/** Throughput of one row: per round, items per second (calls, entries or requests), or why it is missing. */
interface Row {
  perRound: number[];
  /** Per round, CPU time the server process spent (all its threads) per item, µs. */
  cpuUsPerItem: number[];
  /** Per round, CPU time the load generator spent per request, µs. */
  generatorUsPerRequest: number[];
  failed?: string;
}

/** What the seed load measured. */
interface SeedResult {
  key: "session key" | "department key";
  offeredPerSecond: number;
  seconds: number;
  entries: number;
  anchors: { treeSize: number; entries: number; gas: number; seenAt: number }[];
  usageReports: { gas: number }[];
  gasPerEntry: number;
  gasPerEntryWithUsage: number;
  anchoredLatencyS: { p50: number; p99: number; max: number };
  ackLatencyMs: { p50: number; p99: number };
  failed?: string;
}

/** One load's share of a CPU profile. */
interface ProfileWindow {
  label: string;
  calls: number;
  summary: ProfileSummary;
  /** Busy time of the other threads profiled (the signature-check and receipt-signing workers), when there are any. */
  workerBusyMs?: number;
}

/** Everything measured on one runtime. */
interface RuntimeResult {
  runtime: Runtime;
  bare: Row;
  single: Row;
  /** Single calls signed with a session key, or why there are none. */
  session: Row;
  batch100: Row;
  batch1000: Row;
  /** 1,000 calls per request with `?proofs=batch`: one range proof per request instead of a receipt per call. */
  batch1000Proofs: Row;
  store?: StoreResult;
  /** CPU per entry of the steps no ingest in this runtime skips (scripts/bench/ingest-floors.ts): what two cores allow at best. */
  floors?: FloorsResult;
  /** Synced puts of one entry at the latency rows' rate, just before them: the disk's floor under a call's latency. */
  diskPaced?: PacedResult;
  latency: { bare?: LoadResult; single?: LoadResult; session?: LoadResult; batch100?: LoadResult };
  /** The same single-call windows' warm-ups (the first second at the rate, not counted), kept to say what they were. */
  latencyWarmup: { bare?: LoadResult; single?: LoadResult; session?: LoadResult };
  seed?: SeedResult;
  profiles?: { file: string; windows: ProfileWindow[] };
}

const say = (s = "") => process.stdout.write(s + "\n");
const began = Date.now();
/** Prints a step with the time since the run began. */
const step = (s: string) => say(`  [${((Date.now() - began) / 1000).toFixed(0).padStart(4)} s] ${s}`);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits }) : "—");
const ms = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? "—" : n < 10 ? n.toFixed(1) : fmt(n));

// ---- processes ----

/** The run's scratch directory, removed at the end (or on Ctrl-C). */
let scratch: string | undefined;

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    // Stop every server still running (starting ones too), so that no dcl or chain outlives the run.
    say(`\n${signal}: stopping ${liveServers.size} server(s) ...`);
    const exits = [...liveServers].map(({ child, group }) =>
      new Promise((r) => {
        if (child.exitCode !== null) return r(null);
        child.once("exit", r);
        if (group) process.kill(-child.pid!, "SIGINT");
        else child.kill("SIGINT");
      }),
    );
    void Promise.allSettled(exits).then(() => {
      if (scratch) rmSync(scratch, { recursive: true, force: true });
      process.exit(130);
    });
  });
}

/** Runs a script of dist/scripts/bench with `bin` and resolves with the JSON line it prints. */
function runJsonChild<T>(bin: string, script: string, args: string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, [join(HERE, script), ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => (out += c));
    child.stderr.on("data", (c: Buffer) => (err += c));
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`${script} exited with ${code}: ${err.slice(-2000)}`));
      try {
        resolve(JSON.parse(out.trim().split("\n").pop()!) as T);
      } catch {
        reject(new Error(`${script} printed no result: ${out.slice(-500)} ${err.slice(-500)}`));
      }
    });
  });
}

/** The load generator: one child process on this script's Node for the whole run (so its JIT stays warm), a job at a time. */
let generator: ChildProcess | undefined;

/** Sends `requests` with the generator. */
async function load(tmp: string, url: string, requests: PreparedRequest[], options: { rate?: number; collectAcks?: boolean } = {}): Promise<LoadResult> {
  const file = join(tmp, `job-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
  const job: LoadJob = { url, path: "/v1/access", requests, concurrency: CONCURRENCY, ...options };
  writeFileSync(file, JSON.stringify(job));
  try {
    const g = (generator ??= fork(join(HERE, "load-generator.js"), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] }));
    const answer = await new Promise<LoadResult | { error: string }>((resolve, reject) => {
      const exited = (code: number | null) => reject(new Error(`the load generator exited with ${code}`));
      g.once("exit", exited);
      g.once("message", (m) => {
        g.off("exit", exited);
        resolve(m as LoadResult | { error: string });
      });
      g.send(file);
    });
    if ("error" in answer) throw new Error(`load generator: ${answer.error}`);
    return answer;
  } finally {
    rmSync(file, { force: true });
  }
}

/** Starts the bare Fastify server on `bin`. */
async function startBare(bin: string): Promise<{ url: string; pid?: number; stop: () => Promise<void> }> {
  const child = spawn(bin, [join(HERE, "bare-server.js")], { stdio: ["ignore", "pipe", "inherit"] });
  const live = { child, group: false };
  liveServers.add(live);
  child.once("exit", () => liveServers.delete(live));
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once("line", resolve);
    child.once("exit", (code) => reject(new Error(`bare server exited with ${code}`)));
  });
  const { port } = JSON.parse(line) as { port: number };
  return { url: `http://127.0.0.1:${port}`, pid: child.pid, stop: async () => void (child.kill("SIGTERM"), await exited) };
}

/** Items per second of a closed-loop load, or the reason it does not count (a refusal, an error). */
function throughput(r: LoadResult, itemsPerRequest: number): number | string {
  if (r.ok !== r.sent) return `${r.sent - r.ok} of ${r.sent} requests failed: ${r.firstError ?? JSON.stringify(r.statuses)}`;
  return r.requestsPerSecond * itemsPerRequest;
}

function record(row: Row, [r, cpuMs]: [LoadResult, number], itemsPerRequest: number): void {
  const t = throughput(r, itemsPerRequest);
  if (typeof t === "string") row.failed ??= t;
  else row.perRound.push(t);
  row.cpuUsPerItem.push((cpuMs * 1000) / (r.sent * itemsPerRequest));
  row.generatorUsPerRequest.push((r.generatorCpuMs * 1000) / r.sent);
}

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time (user + system, all threads) a process has used so far, ms; NaN where /proc is not there. */
function cpuMsOf(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // fields from the 3rd on (state)
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}

/** Runs a load and says how much CPU the server process `pid` spent meanwhile (ms). */
async function loadOn(pid: number | undefined, tmp: string, url: string, requests: PreparedRequest[], options: { rate?: number; collectAcks?: boolean } = {}): Promise<[LoadResult, number]> {
  const before = cpuMsOf(pid);
  const r = await load(tmp, url, requests, options);
  return [r, cpuMsOf(pid) - before];
}

// ---- the measures ----

/**
 * Interleaved rounds, so that drift in the machine's load spreads over every row: per round the
 * store (LevelDB puts, the log alone), then the single-call requests sent to the bare server and the
 * same requests (same bytes, same signed headers) to dcl, then dcl's batches of 100 and of 1,000.
 * Then the latency rows, open loop at LATENCY_RATE calls/s, on the bare server and on dcl, each
 * after a warm-up second at the same rate that is not counted.
 */
async function interleavedRows(rt: Runtime, dcl: RunningDcl, s: Scenario, tmp: string, result: RuntimeResult): Promise<void> {
  const bare = await startBare(rt.bin);
  try {
    const warm = await signedAccessRequests(s, MODE.warmup, 1);
    await load(tmp, bare.url, warm);
    await load(tmp, dcl.baseUrl, warm);
    if (s.session instanceof DclClient) await load(tmp, dcl.baseUrl, await signedAccessRequests(s, MODE.warmup, 1, s.session));
    const store: StoreResult[] = [];
    for (let round = 0; round < MODE.rounds; round++) {
      const r = `round ${round + 1}/${MODE.rounds}:`;
      step(`${r} LevelDB synced puts and the log alone`);
      store.push(await runJsonChild<StoreResult>(rt.bin, "store-bench.js", [JSON.stringify({ entries: MODE.storeEntries, batch: 1000, concurrency: CONCURRENCY, rounds: 1, dir: tmp } satisfies StoreJob)]));
      step(`${r} single calls, bare Fastify then dcl (same requests)`);
      const singles = await signedAccessRequests(s, MODE.single, 1);
      // The bare server ignores nonces: the same requests warm it up, and three times over make its point long enough to read.
      await load(tmp, bare.url, [...singles, ...singles]);
      record(result.bare, await loadOn(bare.pid, tmp, bare.url, [...singles, ...singles, ...singles]), 1);
      record(result.single, await loadOn(dcl.process.pid, tmp, dcl.baseUrl, singles), 1);
      if (s.session instanceof DclClient) {
        step(`${r} single calls signed with a session key`);
        record(result.session, await loadOn(dcl.process.pid, tmp, dcl.baseUrl, await signedAccessRequests(s, MODE.single, 1, s.session)), 1);
      } else result.session.failed ??= s.session.unavailable;
      if (rt.primary || FULL) {
        step(`${r} 100 calls per request`);
        record(result.batch100, await loadOn(dcl.process.pid, tmp, dcl.baseUrl, await signedAccessRequests(s, MODE.batch100, 100)), 100);
      }
      step(`${r} 1,000 calls per request`);
      record(result.batch1000, await loadOn(dcl.process.pid, tmp, dcl.baseUrl, await signedAccessRequests(s, MODE.batch1000, 1000)), 1000);
      if (rt.primary || FULL) {
        step(`${r} 1,000 calls per request, ?proofs=batch`);
        record(result.batch1000Proofs, await loadOn(dcl.process.pid, tmp, dcl.baseUrl, await signedAccessRequests(s, MODE.batch1000, 1000, s.tax, "/v1/access?proofs=batch")), 1000);
      }
    }
    result.store = {
      entryBytes: store[0].entryBytes,
      levelConcurrent: store.flatMap((x) => x.levelConcurrent),
      levelSequential: store.flatMap((x) => x.levelSequential),
      levelRawConcurrent: store.flatMap((x) => x.levelRawConcurrent),
      levelRawSequential: store.flatMap((x) => x.levelRawSequential),
      logAlone: store.flatMap((x) => x.logAlone),
      logBatches: store.flatMap((x) => x.logBatches),
      logWindowsUs: store.flatMap((x) => x.logWindowsUs),
    };
    step("what two cores allow at best: the CPU per entry of the steps no ingest skips");
    result.floors = await runJsonChild<FloorsResult>(rt.bin, "ingest-floors.js", [JSON.stringify({ entries: MODE.storeEntries, rounds: 5 } satisfies FloorsJob)]);
    step(`the disk's floor: LevelDB synced puts of one entry at ${fmt(LATENCY_RATE)}/s offered`);
    result.diskPaced = await runJsonChild<PacedResult>(rt.bin, "store-bench.js", [JSON.stringify({ entries: 0, batch: 1, concurrency: 1, rounds: 0, dir: tmp, paced: { rate: LATENCY_RATE, seconds: MODE.latencySeconds } } satisfies StoreJob)]);
    step(`latency at ${fmt(LATENCY_RATE)} calls/s offered: single calls on bare Fastify, then dcl (same requests)${s.session instanceof DclClient ? ", then with the session key" : ""}${rt.primary || FULL ? ", then 100-call requests" : ""}`);
    // A server coming from the closed-loop rows to a steady 1,000 calls/s answered its first second
    // slower in some runs here (p99 2–3 × the following seconds'; in others no different): one second
    // at the rate first, not counted, its figures printed under the tables beside the counted ones.
    const paced = await signedAccessRequests(s, LATENCY_RATE * (MODE.latencySeconds + 1), 1);
    const [warmPaced, measuredPaced] = [paced.slice(0, LATENCY_RATE), paced.slice(LATENCY_RATE)];
    result.latencyWarmup.bare = await load(tmp, bare.url, warmPaced, { rate: LATENCY_RATE });
    result.latency.bare = await load(tmp, bare.url, measuredPaced, { rate: LATENCY_RATE });
    result.latencyWarmup.single = await load(tmp, dcl.baseUrl, warmPaced, { rate: LATENCY_RATE });
    result.latency.single = await load(tmp, dcl.baseUrl, measuredPaced, { rate: LATENCY_RATE });
    if (s.session instanceof DclClient) {
      const sessionPaced = await signedAccessRequests(s, LATENCY_RATE * (MODE.latencySeconds + 1), 1, s.session);
      result.latencyWarmup.session = await load(tmp, dcl.baseUrl, sessionPaced.slice(0, LATENCY_RATE), { rate: LATENCY_RATE });
      result.latency.session = await load(tmp, dcl.baseUrl, sessionPaced.slice(LATENCY_RATE), { rate: LATENCY_RATE });
    }
    if (rt.primary || FULL) result.latency.batch100 = await load(tmp, dcl.baseUrl, await signedAccessRequests(s, (LATENCY_RATE / 100) * Math.max(MODE.latencySeconds, 10), 100), { rate: LATENCY_RATE / 100 });
  } finally {
    await bare.stop();
  }
}

/**
 * The seed load: single calls at SEED_RATE per second for MODE.seedSeconds with the default anchor
 * interval. Watches the chain's latest checkpoint of the log every 100 ms; afterwards reads the gas of
 * every transaction the operator sent meanwhile (anchors, usage reports).
 */
async function seedLoad(dcl: RunningDcl, s: Scenario, tmp: string): Promise<SeedResult> {
  const provider = new JsonRpcProvider(dcl.rpcUrl, undefined, { staticNetwork: true, polling: false });
  try {
    const cp = (await (await fetch(`${dcl.baseUrl}/v1/log/checkpoint`)).json()) as { logId: string; treeSize: number };
    const anchors = LogAnchors__factory.connect(s.deployment.addresses.anchors, provider);
    const anchoredSize = async () => Number((await anchors.latestCheckpoint(cp.logId)).treeSize);
    // Start from a fully anchored log, so that every anchor in the window covers seed-load entries only.
    const until = async (size: number, timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs;
      while ((await anchoredSize()) < size) {
        if (Date.now() > deadline) return false;
        await new Promise((r) => setTimeout(r, 100));
      }
      return true;
    };
    if (!(await until(cp.treeSize, 60_000))) throw new Error(`the log's ${cp.treeSize} entries were not anchored within 60 s`);
    const firstBlock = (await provider.getBlockNumber()) + 1;
    const seen: { treeSize: number; seenAt: number }[] = [{ treeSize: await anchoredSize(), seenAt: Date.now() }];
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const size = await anchoredSize();
        if (size > seen[seen.length - 1].treeSize) seen.push({ treeSize: size, seenAt: Date.now() });
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    // A gateway reporting calls one by one would sign with a session key, where there are session keys.
    const requests = await signedAccessRequests(s, SEED_RATE * MODE.seedSeconds, 1, s.session instanceof DclClient ? s.session : s.tax);
    const r = await load(tmp, dcl.baseUrl, requests, { rate: SEED_RATE, collectAcks: true });
    const acks = r.acks ?? [];
    const last = Math.max(...acks.map(([, index, count]) => index + count));
    const anchoredAll = await until(last, (3 * ANCHOR_INTERVAL_S + 30) * 1000);
    await new Promise((res) => setTimeout(res, 300)); // let the watcher see the last anchor
    watching = false;
    await watcher;
    const lastBlock = await provider.getBlockNumber();

    const anchorsAt = seen.slice(1);
    const anchoredLatency = acks
      .flatMap(([at, index, count]) => Array.from({ length: count }, (_, k) => index + k).map((i) => ({ at, i })))
      .map(({ at, i }) => {
        const a = anchorsAt.find((x) => x.treeSize > i);
        return a ? (a.seenAt - at) / 1000 : NaN;
      })
      .sort((a, b) => a - b);
    // Gas of the operator's transactions in the window, by contract.
    const anchorGas: { gas: number; block: number }[] = [];
    const usageReports: { gas: number }[] = [];
    for (let b = firstBlock; b <= lastBlock; b++) {
      const block = await provider.getBlock(b, true);
      for (const tx of block?.prefetchedTransactions ?? []) {
        if (tx.from.toLowerCase() !== s.operator.toLowerCase()) continue;
        const receipt = await provider.getTransactionReceipt(tx.hash);
        const gas = Number(receipt?.gasUsed ?? 0);
        if (tx.to?.toLowerCase() === s.deployment.addresses.anchors.toLowerCase()) anchorGas.push({ gas, block: b });
        else if (tx.to?.toLowerCase() === s.deployment.addresses.agreements.toLowerCase()) usageReports.push({ gas });
      }
    }
    const entries = last - seen[0].treeSize;
    const totalAnchorGas = anchorGas.reduce((n, a) => n + a.gas, 0);
    const totalUsageGas = usageReports.reduce((n, a) => n + a.gas, 0);
    const ackLat = r.latencyMs;
    return {
      key: s.session instanceof DclClient ? "session key" : "department key",
      offeredPerSecond: SEED_RATE,
      seconds: r.seconds,
      entries,
      anchors: anchorsAt.map((a, k) => ({ treeSize: a.treeSize, entries: a.treeSize - (k === 0 ? seen[0].treeSize : anchorsAt[k - 1].treeSize), gas: anchorGas[k]?.gas ?? NaN, seenAt: a.seenAt })),
      usageReports,
      gasPerEntry: totalAnchorGas / entries,
      gasPerEntryWithUsage: (totalAnchorGas + totalUsageGas) / entries,
      anchoredLatencyS: { p50: percentile(anchoredLatency, 50), p99: percentile(anchoredLatency, 99), max: anchoredLatency[anchoredLatency.length - 1] },
      ackLatencyMs: { p50: ackLat.p50, p99: ackLat.p99 },
      ...(r.ok !== r.sent ? { failed: `${r.sent - r.ok} of ${r.sent} requests failed: ${r.firstError}` } : !anchoredAll ? { failed: "not every entry was anchored before the wait ran out" } : anchorGas.length !== anchorsAt.length ? { failed: `saw ${anchorsAt.length} anchors but found ${anchorGas.length} anchor transactions` } : {}),
    };
  } finally {
    provider.destroy();
  }
}

/** Restarts dcl under --cpu-prof on the same data and profiles single calls (department key, then session key) and 1,000-call requests. */
async function profilePass(rt: Runtime, dataDir: string, password: string, s: Scenario, tmp: string, profileDir: string): Promise<RuntimeResult["profiles"]> {
  const dir = mkdtempSync(join(profileDir, `node${rt.version.replace(/^v/, "").split(".")[0]}-`));
  const dcl = await startDcl(rt.bin, dataDir, password, { cpuProfDir: dir });
  const loads: { label: string; calls: number; r: LoadResult }[] = [];
  try {
    // Signing binds the path, not the server's address: the scenario's clients sign for the restarted server too.
    await load(tmp, dcl.baseUrl, await signedAccessRequests(s, MODE.warmup, 1));
    loads.push({ label: "one call per request, department key", calls: MODE.single, r: await load(tmp, dcl.baseUrl, await signedAccessRequests(s, MODE.single, 1)) });
    if (s.session instanceof DclClient) {
      await load(tmp, dcl.baseUrl, await signedAccessRequests(s, MODE.warmup, 1, s.session));
      loads.push({ label: "one call per request, session key", calls: MODE.single, r: await load(tmp, dcl.baseUrl, await signedAccessRequests(s, MODE.single, 1, s.session)) });
    }
    loads.push({ label: "1,000 calls per request, department key", calls: 32 * 1000, r: await load(tmp, dcl.baseUrl, await signedAccessRequests(s, 32, 1000)) });
  } finally {
    await dcl.stop();
  }
  // One file per thread (CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile): thread 0 is the main thread, the others the workers (signature checks; receipt signing only without libsecp256k1).
  const files = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"));
  const threadOf = (f: string) => Number(f.split(".").at(-3));
  const file = files.find((f) => threadOf(f) === 0) ?? files[0];
  if (!file) throw new Error(`no .cpuprofile written in ${dir}`);
  const path = join(dir, file);
  const workers = files.filter((f) => f !== file).map((f) => join(dir, f));
  return {
    file: path,
    windows: loads.map((l) => ({
      label: l.label,
      calls: l.calls,
      summary: summariseProfile(path, l.r.monotonicUs.start, l.r.monotonicUs.end),
      workerBusyMs: workers.length ? workers.reduce((ms, w) => ms + summariseProfile(w, l.r.monotonicUs.start, l.r.monotonicUs.end).busyMs, 0) : undefined,
    })),
  };
}

/** Everything on one runtime: one dcl (fresh data) and a bare server for the interleaved rows, then the seed load and the profile. */
async function measure(rt: Runtime, tmp: string, profileDir?: string): Promise<RuntimeResult> {
  const row = (): Row => ({ perRound: [], cpuUsPerItem: [], generatorUsPerRequest: [] });
  const result: RuntimeResult = { runtime: rt, bare: row(), single: row(), session: row(), batch100: row(), batch1000: row(), batch1000Proofs: row(), latency: {}, latencyWarmup: {} };
  say(`\n== Node ${rt.version} (${rt.source})`);
  step("starting dcl as npm start does (compiled, embedded chain) and setting up departments and an agreement");
  const dataDir = mkdtempSync(join(tmp, "dcl-"));
  const password = Math.random().toString(36).slice(2) + Math.random().toString(36).slice(2);
  const dcl = await startDcl(rt.bin, dataDir, password);
  try {
    const s = await setUpScenario(dcl);
    await interleavedRows(rt, dcl, s, tmp, result);
    if (rt.primary || FULL) {
      step(`seed load: ${SEED_RATE} calls/s for ${MODE.seedSeconds} s, anchors every ${ANCHOR_INTERVAL_S} s`);
      result.seed = await seedLoad(dcl, s, tmp).catch((err: Error) => ({ failed: err.message }) as SeedResult);
    }
    await dcl.stop();
    if (profileDir) {
      step("CPU-profiled pass (node --cpu-prof): single calls, then 1,000-call requests");
      result.profiles = await profilePass(rt, dataDir, password, s, tmp, profileDir);
    }
  } finally {
    await dcl.stop();
  }
  step("done");
  return result;
}

// ---- the report ----

interface Check {
  what: string;
  target: string;
  value: (r: RuntimeResult) => { text: string; met?: boolean };
  /** The same ratio from the servers' CPU time per call (what each would reach on a core of its own), where it applies. */
  byCpu?: (r: RuntimeResult) => number;
}

/** The disk's ceiling: the best of the four LevelDB rows (two ways of writing a batch, many writers or one). */
const levelCeiling = (r: RuntimeResult) =>
  [r.store?.levelRawConcurrent, r.store?.levelRawSequential, r.store?.levelConcurrent, r.store?.levelSequential]
    .map((x) => median(x ?? []))
    .reduce((best, x) => (Number.isFinite(x) && !(x <= best) ? x : best), NaN);
const rowValue = (row: Row) => (row.failed ? NaN : median(row.perRound));
const cpuValue = (row: Row) => (row.failed ? NaN : median(row.cpuUsPerItem));
const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(x < 0.1 ? 1 : 0)} %` : "—");

const CHECKS: Check[] = [
  { what: "signed single call, session key / bare Fastify", target: "≥ 15 %", value: (r) => (r.session.failed ? { text: r.session.failed } : ratio(rowValue(r.session) / rowValue(r.bare), 0.15)), byCpu: (r) => cpuValue(r.bare) / cpuValue(r.session) },
  { what: "signed single call, department key / bare Fastify", target: "≥ 5 %", value: (r) => ratio(rowValue(r.single) / rowValue(r.bare), 0.05), byCpu: (r) => cpuValue(r.bare) / cpuValue(r.single) },
  { what: "1,000-call batches / LevelDB synced puts", target: "≥ 50 %", value: (r) => ratio(rowValue(r.batch1000) / levelCeiling(r), 0.5) },
  { what: "1,000-call batches with `?proofs=batch` / LevelDB synced puts", target: "≥ 50 %", value: (r) => ratio(rowValue(r.batch1000Proofs) / levelCeiling(r), 0.5) },
  { what: "log alone / LevelDB synced puts", target: "≥ 70 %", value: (r) => ratio(median(r.store?.logAlone ?? []) / levelCeiling(r), 0.7) },
  { what: `single-call p99 at ${fmt(LATENCY_RATE)} calls/s offered, session key`, target: "≤ 25 ms", value: (r) => (r.session.failed ? { text: r.session.failed } : p99Check(r.latency.session)) },
  { what: `single-call p99 at ${fmt(LATENCY_RATE)} calls/s offered, department key`, target: "≤ 25 ms", value: (r) => p99Check(r.latency.single) },
];

function p99Check(l?: LoadResult): { text: string; met?: boolean } {
  if (!l) return { text: "—" };
  return { text: `${ms(l.latencyMs.p99)} ms${l.ok !== l.sent ? ` (${l.sent - l.ok} failed)` : ""}`, met: l.ok === l.sent && l.latencyMs.p99 <= 25 };
}

function ratio(x: number, target: number): { text: string; met?: boolean } {
  return Number.isFinite(x) ? { text: pct(x), met: x >= target } : { text: "—" };
}

const yes = (m?: boolean) => (m === undefined ? "—" : m ? "**met**" : "not met");

function rowsTable(results: RuntimeResult[]): string[] {
  const seedKey = results.find((r) => r.seed?.key)?.seed?.key;
  const head = `| what | unit | ${results.map((r) => `Node ${r.runtime.version}: throughput | server CPU per unit | p50 / p99 at ${fmt(LATENCY_RATE)} calls/s`).join(" | ")} |`;
  const sep = `|---|---|${results.map(() => "---:|---:|---:").join("|")}|`;
  const lat = (l?: LoadResult) => (l ? `${ms(l.latencyMs.p50)} / ${ms(l.latencyMs.p99)} ms${l.ok !== l.sent ? ` (${l.sent - l.ok} failed)` : ""}` : "");
  const thr = (row: Row) => (row.failed ? `failed: ${row.failed.slice(0, 80)}` : row.perRound.length ? fmt(median(row.perRound)) : "not run");
  const cpu = (row: Row) => (row.cpuUsPerItem.length && !row.failed ? `${fmt(median(row.cpuUsPerItem), median(row.cpuUsPerItem) < 100 ? 1 : 0)} µs` : "");
  const line = (what: string, unit: string, cells: (r: RuntimeResult) => [string, string] | [string, string, string]) =>
    `| ${what} | ${unit} | ${results.map((r) => { const c = cells(r); return (c.length === 3 ? c : [c[0], "", c[1]]).join(" | "); }).join(" | ")} |`;
  return [
    head,
    sep,
    line("bare Fastify, same JSON body parsed (separate process)", "req/s", (r) => [thr(r.bare), cpu(r.bare), lat(r.latency.bare)]),
    line("signed `POST /v1/access`, 1 call, department key", "calls/s", (r) => [thr(r.single), cpu(r.single), lat(r.latency.single)]),
    line("signed `POST /v1/access`, 1 call, session key", "calls/s", (r) => (r.session.failed ? [r.session.failed, "", ""] : [thr(r.session), cpu(r.session), lat(r.latency.session)])),
    line("signed `POST /v1/access`, 100 calls per request", "calls/s", (r) => [thr(r.batch100), cpu(r.batch100), lat(r.latency.batch100)]),
    line("signed `POST /v1/access`, 1,000 calls per request (a receipt per call)", "calls/s", (r) => [thr(r.batch1000), cpu(r.batch1000), ""]),
    line("signed `POST /v1/access?proofs=batch`, 1,000 calls per request (one batch proof)", "calls/s", (r) => [thr(r.batch1000Proofs), cpu(r.batch1000Proofs), ""]),
    line(`LevelDB synced batches of 1,000 puts, same entry bytes, raw chained batch (as the log writes), ${CONCURRENCY} writers`, "puts/s", (r) => [fmt(median(r.store?.levelRawConcurrent ?? [])), ""]),
    line("… raw, one writer", "puts/s", (r) => [fmt(median(r.store?.levelRawSequential ?? [])), ""]),
    line(`… abstract-level's public \`batch([...])\`, ${CONCURRENCY} writers`, "puts/s", (r) => [fmt(median(r.store?.levelConcurrent ?? [])), ""]),
    line("… public `batch([...])`, one writer", "puts/s", (r) => [fmt(median(r.store?.levelSequential ?? [])), ""]),
    line(`the log alone: MerkleLog.appendMany(1,000) × ${CONCURRENCY}, group commit`, "entries/s", (r) => [fmt(median(r.store?.logAlone ?? [])), ""]),
    line(`LevelDB synced put of one entry at ${fmt(LATENCY_RATE)}/s offered, open loop, just before the latency rows: the disk's floor under a call's latency`, "puts", (r) => ["", r.diskPaced ? `${ms(r.diskPaced.p50)} / ${ms(r.diskPaced.p99)} ms (max ${ms(r.diskPaced.max)})` : ""]),
    line(`seed load ${SEED_RATE} calls/s (1 call per request${seedKey ? `, ${seedKey}` : ""}), ${ANCHOR_INTERVAL_S} s anchor interval: anchor gas per entry`, "gas", (r) => [r.seed ? (Number.isFinite(r.seed.gasPerEntry) ? fmt(r.seed.gasPerEntry, 1) : "—") + (r.seed.failed ? ` (${r.seed.failed.slice(0, 100)})` : "") : "not run", ""]),
    line("… with the usage reports sent in the same ticks", "gas", (r) => [r.seed && Number.isFinite(r.seed.gasPerEntryWithUsage) ? fmt(r.seed.gasPerEntryWithUsage, 1) : "—", ""]),
    line("… entry acknowledged → anchored on chain, p50 / p99", "s", (r) => [r.seed?.anchoredLatencyS ? `${r.seed.anchoredLatencyS.p50.toFixed(1)} / ${r.seed.anchoredLatencyS.p99.toFixed(1)}` : "—", r.seed?.ackLatencyMs ? `ack ${ms(r.seed.ackLatencyMs.p50)} / ${ms(r.seed.ackLatencyMs.p99)} ms at ${SEED_RATE}/s` : ""]),
  ];
}

function checksTable(results: RuntimeResult[]): string[] {
  return [
    `| acceptance (issue 10), ratios within one run | target | ${results.map((r) => `Node ${r.runtime.version} | met? | by server CPU per call`).join(" | ")} |`,
    `|---|---|${results.map(() => "---:|---|---:").join("|")}|`,
    ...CHECKS.map((c) => `| ${c.what} | ${c.target} | ${results.map((r) => { const v = c.value(r); return `${v.text} | ${yes(v.met)} | ${c.byCpu ? pct(c.byCpu(r)) : ""}`; }).join(" | ")} |`),
  ];
}

/** What a reader must know to read the acceptance table of this run. */
function caveats(results: RuntimeResult[]): string[] {
  return results.flatMap((r) => {
    const g = median(r.bare.generatorUsPerRequest);
    const b = median(r.bare.cpuUsPerItem);
    const out = g > b
      ? ["", `On Node ${r.runtime.version} the load generator spent more CPU per request (${fmt(g)} µs) than the bare server (${fmt(b)} µs): the bare row measured the generator as much as Fastify, so the throughput ratios against it flatter dcl; the *by server CPU per call* column is the fairer reading.`]
      : [];
    const w = r.latencyWarmup;
    const first = (what: string, l?: LoadResult) => (l ? `${what} ${ms(l.latencyMs.p50)} / ${ms(l.latencyMs.p99)} ms` : undefined);
    const warm = [first("bare Fastify", w.bare), first("department key", w.single), first("session key", w.session)].filter(Boolean);
    if (warm.length) out.push("", `Latency at ${fmt(LATENCY_RATE)} calls/s is measured after one second at that rate which is not counted; on Node ${r.runtime.version} that first second's p50 / p99 were: ${warm.join("; ")}.`);
    return out;
  });
}

/**
 * The upper bound on the two ratios against the disk: the CPU per entry of the steps no ingest in
 * this runtime skips, measured in this run (scripts/bench/ingest-floors.ts), and what two cores
 * doing nothing else would reach with them, set against the disk's ceiling of the same run.
 */
function boundsTable(results: RuntimeResult[]): string[] {
  const measured = results.filter((r) => r.floors);
  if (measured.length === 0) return [];
  const us = (x: number) => `${x.toFixed(2)} µs`;
  const best = (r: RuntimeResult, logAloneOnly: boolean, target: number, extraUs = 0) => {
    const b = twoCoreBound(r.floors!.steps, logAloneOnly, extraUs);
    const share = b.perSecond / levelCeiling(r);
    if (!Number.isFinite(share)) return "—";
    return `${us(b.us)}; at most ${fmt(b.perSecond)}/s = **${pct(share)}** (target ${pct(target)}: ${share >= target ? "within reach" : "out of reach"})`;
  };
  /** The load generator's CPU per call in the run's 1,000-call row: it runs on the same two cores. */
  const generatorPerCall = (r: RuntimeResult) => median(r.batch1000.generatorUsPerRequest) / 1000;
  return [
    "**What two cores allow at best** (`scripts/bench/ingest-floors.ts`, on the Node under test, in this run): the CPU per entry of the steps no ingest of a call can skip in this runtime, each timed alone. Everything else a call costs — HTTP, its signature check, validation, the agreement and quota checks, receipts and proofs, LevelDB's own work, the load generator on the same two cores — is left out, so two cores doing nothing but these steps reach at most 2 / (their sum) entries a microsecond, whatever the design and however it spreads the work over threads. Set against the disk's ceiling of this run, that bounds the two ratios above: where the bound is below a target, the target cannot be met on this machine in this runtime.",
    "",
    `| step, CPU per entry | the log alone does it | ${measured.map((r) => `Node ${r.runtime.version}`).join(" | ")} |`,
    `|---|---|${measured.map(() => "---:").join("|")}|`,
    ...measured[0].floors!.steps.map((s, i) => `| ${s.step} | ${s.logAlone ? "yes" : ""} | ${measured.map((r) => us(r.floors!.steps[i]?.us ?? NaN)).join(" | ")} |`),
    `| **the log alone**: the sum of its steps; the most two cores reach with it, against the disk's ceiling | | ${measured.map((r) => best(r, true, 0.7)).join(" | ")} |`,
    `| **1,000-call batches**: the sum of all five; the most two cores reach with it, against the disk's ceiling | | ${measured.map((r) => best(r, false, 0.5)).join(" | ")} |`,
    `| … with the load generator's CPU per call in this run's 1,000-call row (${measured.map((r) => us(generatorPerCall(r))).join(", ")}), which shares the two cores | | ${measured.map((r) => best(r, false, 0.5, generatorPerCall(r))).join(" | ")} |`,
  ];
}

function profileSection(results: RuntimeResult[]): string[] {
  const out: string[] = [];
  for (const r of results) {
    const p = r.profiles;
    if (!p) continue;
    const perCall = (w: ProfileWindow) => (w.summary.busyMs * 1000) / w.calls;
    const parts = [...new Set(p.windows.flatMap((w) => w.summary.parts.filter((x) => x.share >= 0.005).map((x) => x.part)))]
      .sort((x, y) => (p.windows[0].summary.parts.find((q) => q.part === y)?.ms ?? 0) - (p.windows[0].summary.parts.find((q) => q.part === x)?.ms ?? 0));
    out.push(
      "",
      `### Node ${r.runtime.version}`,
      "",
      ...p.windows.map((w) => {
        const biggest = w.summary.parts.slice(0, 4).map((x) => `${x.part} ${pct(x.share)}`).join(", ");
        const worker = w.workerBusyMs === undefined ? "" : `; the worker threads (signature checks; receipt signing only without libsecp256k1) ${fmt((w.workerBusyMs * 1000) / w.calls, 1)} µs per call`;
        return `- ${w.label}: the server's main thread was busy (sampled) ${fmt(w.summary.busyMs)} ms of the ${fmt(w.summary.windowMs)} ms load${w.summary.windowed ? "" : " (the whole profile: the load's window did not fit it)"} — **${fmt(perCall(w), perCall(w) < 100 ? 1 : 0)} µs per call**${worker}; most of it: ${biggest}.`;
      }),
      "",
      `| part of the stack | ${p.windows.map((w) => `${w.label}: share | µs per call`).join(" | ")} |`,
      `|---|${p.windows.map(() => "---:|---:").join("|")}|`,
      ...parts.map((part) => `| ${part} | ${p.windows.map((w) => { const x = w.summary.parts.find((q) => q.part === part); return x ? `${pct(x.share)} | ${fmt((x.ms * 1000) / w.calls, (x.ms * 1000) / w.calls < 10 ? 1 : 0)}` : "— | —"; }).join(" | ")} |`),
      ...p.windows.filter((w) => w.label.startsWith("one call")).flatMap((w) => [
        "",
        `Top functions by self time, ${w.label}:`,
        "",
        "| function | where | part | share |",
        "|---|---|---|---:|",
        ...w.summary.top.map((f) => `| \`${f.name}\` | ${f.where} | ${f.part} | ${pct(f.share)} |`),
      ]),
    );
  }
  return out;
}

function gitDescription(): string {
  try {
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT }).toString().trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd: ROOT }).toString().split("\n").filter(Boolean).length;
    return dirty ? `commit ${head} plus uncommitted changes in ${dirty} tracked files (the working tree as built into dist/)` : `commit ${head}`;
  } catch {
    return "unknown commit";
  }
}

function render(results: RuntimeResult[], meta: { command: string; startedAt: Date; minutes: number; load: [number[], number[]]; profileDir?: string }): string {
  const cpu = cpus();
  const primary = results[0];
  const seed = results.find((r) => r.seed && !r.seed.failed)?.seed;
  const gen = (row: Row) => fmt(median(row.generatorUsPerRequest));
  const secondary = results.length > 1 && !FULL ? ` On Node ${results.slice(1).map((r) => r.runtime.version).join(", ")} quick mode leaves out the 100-call rows, the \`?proofs=batch\` row and the seed load (\`--full\` runs them).` : "";
  return [
    "# Benchmarks",
    "",
    `Generated by \`${meta.command}\` (${MODE.name} mode, ${meta.minutes.toFixed(1)} minutes) on ${meta.startedAt.toISOString().slice(0, 16).replace("T", " ")} UTC; run it again to reproduce (\`npm run bench -- --full\` for more requests and three interleaved rounds; \`--profile\` adds the CPU profile below).`,
    "",
    `Machine: ${cpu.length} × ${cpu[0]?.model.trim() ?? "CPU"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${release()}; load average ${meta.load[0].map((x) => x.toFixed(1)).join(" / ")} (1 / 5 / 15 min) before, ${meta.load[1].map((x) => x.toFixed(1)).join(" / ")} after. ` +
      `Servers and store on Node ${results.map((r) => `${r.runtime.version} (${r.runtime.source})`).join(" and ")}; the load generator on ${process.version}. Code: ${gitDescription()}.`,
    "",
    "**These machines are shared and noisy** (2 cores, other agents' builds and tests running beside the benchmark, so a load average well above 2 means this run had a fraction of the cores): compare the figures of one run with each other — every ratio below is within one run, its two sides measured minutes apart at most — never with another run's. The server CPU per call (from /proc, all the server's threads) is the steadiest figure.",
    "",
    ...rowsTable(results),
    "",
    ...checksTable(results),
    ...caveats(results),
    "",
    ...boundsTable(results),
    "",
    "## How it is measured",
    "",
    `- **One load generator** (\`scripts/bench/load-generator.ts\`, one process on Node ${process.version} for the whole run, so warm for every row): node:http keep-alive agent, ${CONCURRENCY} connections, every request signed *before* the clock starts (so signing does not count), each with its own nonce. Throughput: closed loop, ${fmt(MODE.single)} requests of 1 call (the *same* requests, bytes and signed headers, go to dcl and — after twice as many for warm-up, and three times over — to the bare server), ${fmt(MODE.batch100)} of 100 calls, ${fmt(MODE.batch1000)} of 1,000 (with the default \`proofs=entry\`, a receipt and its proof per call, then as many with \`?proofs=batch\`, one proof per request)${MODE.rounds > 1 ? `; median of ${MODE.rounds} interleaved rounds` : ""}; after ${fmt(MODE.warmup)} warm-up requests. The generator itself spent ${gen(primary.bare)} µs of CPU per request on the bare server (${gen(primary.single)} µs on dcl): on two cores it competes with the server, and bounds the bare figure too.${secondary}`,
    `- **Latency**: open loop at ${fmt(LATENCY_RATE)} calls/s offered — ${MODE.latencySeconds} s of single calls after one second at the rate that is not counted (its figures are under the tables), 10 requests of 100 calls per second for ${Math.max(MODE.latencySeconds, 10)} s — each request timed from when it was *due*, so a server that falls behind shows its queue instead of slowing the generator (no coordinated omission). A server that cannot sustain the rate has a queue that grows for as long as the window lasts: its p99 then says "not sustained", and the figure grows with the window.`,
    `- **The disk's floor under a call's latency** (\`scripts/bench/store-bench.ts\` with \`paced\`, on the Node under test, right before the latency rows): LevelDB synced puts of one entry each, offered at ${fmt(LATENCY_RATE)}/s for ${MODE.latencySeconds} s, open loop, each timed from when it was due (concurrent puts grouped into one sync by LevelDB, as the log's group commit groups calls). No call's answer, which waits for its entry's synced write, can be faster than this at that moment; what a call's p99 has above it is dcl's (and the machine's: on two cores the node's main thread, its signature-check worker and the load generator compete).`,
    "- **Bare Fastify** (`scripts/bench/bare-server.ts`, own process): Fastify's own JSON parser on the same bodies and headers, a small JSON answer, no logging.",
    "- **Server CPU per unit**: user + system time of the server process (all its threads, from /proc) over the load, per call (per request for the bare server). The acceptance table's *by server CPU per call* column divides the bare server's CPU per request by dcl's per call: the throughput ratio if each server had a core of its own, which depends far less on what else the machine runs than the throughput ratio does.",
    `- **dcl**: \`dist/scripts/start.js\` — the compiled product exactly as \`npm start\` runs it — on its embedded chain in a fresh data directory, product defaults (info logs, to a file; ${ANCHOR_INTERVAL_S} s anchor interval), only DCL_RATE_LIMIT_PER_MIN and DCL_IP_RATE_LIMIT_PER_MIN raised; two departments, a resource and a co-signed agreement set up through the API first, and a session key certified when the build has them.`,
    `- **LevelDB and the log alone** (\`scripts/bench/store-bench.ts\`, on the Node under test): ${fmt(MODE.storeEntries)} canonical entries (${fmt(primary.store?.entryBytes ?? NaN)} bytes on average, shaped as the API logs them) written as synced batches of 1,000 puts (key: index, value: entry bytes) by ${CONCURRENCY} writers and by one, in each of two ways (a raw chained batch, \`node/store/raw-batch.ts\`, the way the log writes its per-entry keys, and abstract-level's public array \`batch([...])\` on a sublevel: the same writes, but the public form copies, checks, encodes and prefixes each operation in JavaScript, ~16–25 µs of CPU a put on Node 20 against ~6–8 µs raw, so on Node 20 it measures that JavaScript rather than the disk; runs before 2 December 2026 had only the public rows, and their ratios against the disk were three to five times too kind on Node 20), and through \`MerkleLog.appendMany\` of 1,000 entries by ${CONCURRENCY} appenders (group commit: ${fmt(median(primary.store?.logBatches ?? []))} synced batches for ${fmt(MODE.storeEntries)} entries). The ratios take the best of the four LevelDB rows as the disk's ceiling.`,
    `- **Seed load**: single calls at ${SEED_RATE}/s (29 million a day)${seed ? `, signed with the ${seed.key}` : ""}, for ${MODE.seedSeconds} s from a fully anchored log; the chain's latest checkpoint polled every 100 ms; gas from the receipts of the operator's transactions in the window${seed ? ` (${seed.anchors.length} anchors of ${fmt(median(seed.anchors.map((a) => a.entries)))} entries (median), ${seed.usageReports.length} usage reports)` : ""}. Anchored latency: from the call's acknowledgement to the first poll that saw a checkpoint covering it (≤ 100 ms late). When the server does not keep up with ${SEED_RATE}/s, fewer entries share each anchor and the gas per entry is higher than at the real rate.`,
    ...(meta.profileDir ? [`- **Profiles**: \`node --cpu-prof\` on dcl restarted on the same data, ${fmt(MODE.single)} single calls (then as many with a session key, when there are session keys) then 32 requests of 1,000 calls; only the samples inside each load's window count (the generator reports it on the monotonic clock V8 stamps samples with). Sampled time runs on while the OS has the thread off the core, so on a loaded machine it is larger than the CPU time in the table; the shares are what to read. Files kept in \`${meta.profileDir}\`.`] : []),
    ...(results.some((r) => r.profiles) ? ["", "## Where the time goes", ...profileSection(results)] : []),
    ...notes(),
    "",
  ].join("\n");
}

/** The hand-written part of docs/bench.md (scripts/bench/notes.md: what was changed and measured by hand, designs), kept across runs. */
function notes(): string[] {
  const file = join(ROOT, "scripts", "bench", "notes.md");
  return existsSync(file) ? ["", readFileSync(file, "utf8").trimEnd()] : [];
}

// ---- main ----

function runtimes(): Runtime[] {
  const out: Runtime[] = [{ bin: process.execPath, version: process.version, source: "this machine's", primary: true }];
  const n24 = join(ROOT, "node_modules", "node", "bin", "node");
  if (!flag("--no-node24") && existsSync(n24)) {
    const version = execFileSync(n24, ["--version"]).toString().trim();
    if (version !== process.version) out.push({ bin: n24, version, source: "npm package node@24", primary: false });
  }
  return out;
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const load0 = loadavg();
  const tmp = (scratch = mkdtempSync(join(tmpdir(), "dcl-bench-")));
  const profileDir = PROFILE ? mkdtempSync(join(tmpdir(), "dcl-bench-profiles-")) : undefined;
  const rts = runtimes();
  const shown = argv.filter((a, i) => !["--out", "--update-readme"].includes(a) && argv[i - 1] !== "--out");
  const command = ["npm run bench", ...(shown.length ? ["--", ...shown] : [])].join(" ");
  say(`${command}: ${MODE.name} mode on ${cpus().length} cores, Node ${rts.map((r) => r.version).join(" and ")}; scratch in ${tmp}`);
  const results: RuntimeResult[] = [];
  try {
    for (const rt of rts) results.push(await measure(rt, tmp, profileDir));
  } finally {
    generator?.disconnect();
    rmSync(tmp, { recursive: true, force: true });
  }
  const md = render(results, { command, startedAt, minutes: (Date.now() - startedAt.getTime()) / 60_000, load: [load0, loadavg()], profileDir });
  writeFileSync(OUT, md);
  say("");
  say([...rowsTable(results), "", ...checksTable(results)].join("\n"));
  for (const r of results) {
    for (const w of r.profiles?.windows ?? []) {
      say(`\nNode ${r.runtime.version}, ${w.label}: main thread busy ${fmt((w.summary.busyMs * 1000) / w.calls, 1)} µs per call; top self time (${r.profiles!.file}):`);
      for (const f of w.summary.top.slice(0, 10)) say(`  ${pct(f.share).padStart(6)}  ${f.name}  ${f.where}  [${f.part}]`);
    }
  }
  say(`\nwritten: ${relative(process.cwd(), OUT)}`);
  if (flag("--update-readme")) updateReadme(results, command);
}

/** Replaces what lies between README.md's bench markers with the table and its command. */
function updateReadme(results: RuntimeResult[], command: string): void {
  const file = join(ROOT, "README.md");
  const text = readFileSync(file, "utf8");
  const begin = "<!-- bench:begin -->";
  const end = "<!-- bench:end -->";
  const a = text.indexOf(begin);
  const b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`README.md has no ${begin} … ${end} markers`);
  const body = [begin, "", `\`${command}\` (${MODE.name} mode; details, machine and profile in [docs/bench.md](docs/bench.md)):`, "", ...rowsTable(results), "", ...checksTable(results), ...caveats(results), "", ...boundsTable(results), "", end].join("\n");
  writeFileSync(file, text.slice(0, a) + body + text.slice(b + end.length));
  say("README.md's Benchmarks table updated");
}

main().catch((err: Error) => {
  process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
