/**
 * Reads a V8 CPU profile (`node --cpu-prof` writes one .cpuprofile per process at exit) and says
 * where the time went within a window of the monotonic clock: self time per function, and per
 * part of the stack (signature math, hashing, Fastify, validation, logging, LevelDB, dcl's own
 * code, garbage collection ...). V8 stamps samples with the monotonic clock in µs, the clock of
 * `process.hrtime`, so a window measured by another process on the same machine applies.
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** A function's self time. */
export interface HotFunction {
  name: string;
  where: string;
  part: string;
  ms: number;
  share: number;
}

/** Where a profile's busy time went within a window. */
export interface ProfileSummary {
  /** Sampled time in the window that was not idle (ms). */
  busyMs: number;
  /** Length of the window (ms). */
  windowMs: number;
  /** Whether the window lay within the profile; if not, the whole profile was used. */
  windowed: boolean;
  parts: { part: string; ms: number; share: number }[];
  top: HotFunction[];
}

/** The part of the stack a frame belongs to, from its script URL and name. */
export function partOf(url: string, name: string): string {
  if (name === "(garbage collector)") return "garbage collection";
  if (name === "(program)") return "V8 / native (unattributed)";
  if (url === "") return "V8 builtins and native bindings (JSON, writev ...)";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (pkg) {
    if (pkg === "@noble/curves") return "secp256k1 (@noble/curves: recover, sign)";
    if (pkg === "@noble/hashes") return "hashing (@noble/hashes: SHA-256, keccak)";
    if (pkg === "ethers") return "ethers (signing wrappers, ABI, JSON-RPC)";
    if (["fastify", "find-my-way", "avvio", "light-my-request", "fast-json-stringify", "secure-json-parse", "fast-querystring", "toad-cache", "process-warning"].includes(pkg) || pkg.startsWith("@fastify/")) return "Fastify";
    if (pkg === "zod" || pkg === "fastify-type-provider-zod") return "validation (zod)";
    if (["pino", "sonic-boom", "thread-stream", "pino-std-serializers", "fast-redact", "quick-format-unescaped", "atomic-sleep", "on-exit-leak-free", "safe-stable-stringify"].includes(pkg)) return "logging (pino)";
    if (["level", "classic-level", "abstract-level", "level-transcoder", "module-error", "level-supports", "maybe-combine-errors", "napi-macros", "node-gyp-build"].includes(pkg)) return "LevelDB (classic-level)";
    if (pkg === "prom-client") return "metrics (prom-client)";
    return `other package: ${pkg}`;
  }
  if (url.startsWith("node:") || !url.includes("/")) {
    if (/crypto/.test(url)) return "node:crypto (OpenSSL: Ed25519, SHA-256 ...)";
    if (/_http|http_|net|stream|tls/.test(url)) return "Node http / net / streams";
    return "Node internals (other)";
  }
  const own = /\/(api|node|scripts)\/([^/]+)/.exec(url);
  if (own) return own[1] === "node" ? `dcl node/${own[2].replace(/\.js$/, "")}` : `dcl ${own[1]}/${own[2].replace(/\.js$/, "")}`;
  return "other";
}

/** Summarises `file` over [fromUs, toUs] of the monotonic clock (the whole profile when the window does not fit). */
export function summariseProfile(file: string, fromUs?: number, toUs?: number, top = 15): ProfileSummary {
  const p = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const windowed = fromUs !== undefined && toUs !== undefined && fromUs >= p.startTime && toUs <= p.endTime;
  const from = windowed ? fromUs! : p.startTime;
  const to = windowed ? toUs! : p.endTime;
  const self = new Map<number, number>();
  let t = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i];
    if (t < from || t > to) continue;
    const next = p.timeDeltas[i + 1] ?? 0; // a sample stands for the interval until the next one
    self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + next);
  }
  const fns = new Map<string, HotFunction>();
  const parts = new Map<string, number>();
  let busy = 0;
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === "(idle)" || functionName === "(root)") continue;
    busy += us;
    const part = partOf(url, functionName);
    parts.set(part, (parts.get(part) ?? 0) + us);
    const where = url ? `${url.replace(/^.*?(node_modules\/|\/dist\/)/, (_m, g: string) => (g === "/dist/" ? "" : g))}:${lineNumber + 1}` : "";
    const key = `${functionName}@${where}`;
    const f = fns.get(key) ?? { name: functionName || "(anonymous)", where, part, ms: 0, share: 0 };
    f.ms += us / 1000;
    fns.set(key, f);
  }
  const busyMs = busy / 1000;
  return {
    busyMs,
    windowMs: (to - from) / 1000,
    windowed,
    parts: [...parts].map(([part, us]) => ({ part, ms: us / 1000, share: us / busy })).sort((a, b) => b.ms - a.ms),
    top: [...fns.values()].map((f) => ({ ...f, share: (f.ms * 1000) / busy })).sort((a, b) => b.ms - a.ms).slice(0, top),
  };
}
