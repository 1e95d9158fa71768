/**
 * What two cores allow at best (run by `npm run bench` once per Node version, beside store-bench):
 * the CPU time per entry of the steps that no ingest of a dcl call can skip in this runtime, each
 * timed alone on the entries store-bench writes —
 *
 *   - parse the call's JSON (JSON.parse of a body of 1,000 calls shaped as the bench sends them);
 *   - encode the entry: check its fields and write its canonical bytes (node/log/entry.ts; the
 *     bytes every leaf hash is of, docs/formats.md);
 *   - hash its leaf, SHA-256(0x00 ‖ entry), and one interior node, SHA-256(0x01 ‖ left ‖ right) —
 *     a tree of n leaves has n − 1 — by OpenSSL through node:crypto (node/log/tree-hasher.ts);
 *   - write the least answer a caller needs for it: its index and leaf hash, as JSON.
 *
 * Everything else a call costs (HTTP, the signature check, zod, the agreement and quota checks, the
 * receipts and their proofs, LevelDB's own work, the load generator beside it) is left out, so
 * `2 cores / the sum` is an upper bound that no design in this runtime exceeds on this machine,
 * however the work is spread over threads: the log alone cannot beat 2 / (encode + leaf + node)
 * entries a microsecond, a batched call 2 / (all five). `npm run bench` sets that bound beside the
 * disk's ceiling it measured in the same run.
 *
 *   node dist/scripts/bench/ingest-floors.js '{"entries":32000,"rounds":5}'
 *   → one line of JSON (FloorsResult) on stdout
 */
import { performance } from "node:perf_hooks";
import { encodeEntry } from "../../node/log/entry";
import { leafHash, nodeHash } from "../../node/log/tree-hasher";
import { toHex } from "../../node/verify";
import { percentile } from "./load-generator";
import { makeEntries } from "./store-bench";

export interface FloorsJob {
  entries: number;
  rounds: number;
}

/** One step: what it is, its median CPU time per entry over the rounds (µs), and whether the log alone does it too. */
export interface FloorStep {
  step: string;
  us: number;
  logAlone: boolean;
}

export interface FloorsResult {
  steps: FloorStep[];
}

/** Results are folded into this so that no step's work can be optimised away. */
let sink = 0;

/** Median over `rounds` of the time `f` takes per item, `n` items a round (µs). */
function perItem(rounds: number, n: number, f: () => void): number {
  const xs: number[] = [];
  f(); // once for the JIT, not counted
  for (let r = 0; r < rounds; r++) {
    const t = performance.now();
    f();
    xs.push(((performance.now() - t) * 1000) / n);
  }
  return percentile(xs.sort((a, b) => a - b), 50);
}

export function runFloors(job: FloorsJob): FloorsResult {
  const n = Math.max(1000, Math.floor(job.entries / 1000) * 1000);
  const entries = makeEntries(n);
  // The request's calls as the bench sends them (scripts/bench/dcl-under-test.ts), 1,000 to a body.
  const bodies: string[] = [];
  for (let i = 0; i < n; i += 1000) {
    bodies.push(JSON.stringify({ calls: entries.slice(i, i + 1000).map((e) => ({ agreementId: e.agreementId, recordCount: e.recordCount, requestHash: e.requestHash, responseHash: e.responseHash })) }));
  }
  const bytes = entries.map(encodeEntry);
  const leaves = bytes.map(leafHash);
  const leafHexes = leaves.map(toHex);
  const steps: FloorStep[] = [
    {
      step: "parse the call's JSON (JSON.parse of a 1,000-call body)",
      logAlone: false,
      us: perItem(job.rounds, n, () => {
        for (const b of bodies) sink += (JSON.parse(b) as { calls: unknown[] }).calls.length;
      }),
    },
    {
      step: "encode the entry: check its fields, write its canonical bytes (`encodeEntry`)",
      logAlone: true,
      us: perItem(job.rounds, n, () => {
        for (const e of entries) sink += encodeEntry(e).length;
      }),
    },
    {
      step: "hash its leaf, SHA-256(0x00 ‖ entry), node:crypto",
      logAlone: true,
      us: perItem(job.rounds, n, () => {
        for (const b of bytes) sink += leafHash(b)[0];
      }),
    },
    {
      step: "hash one interior node, SHA-256(0x01 ‖ left ‖ right) (n − 1 for n leaves)",
      logAlone: true,
      us: perItem(job.rounds, n, () => {
        for (let i = 0; i + 1 < n; i += 2) sink += nodeHash(leaves[i], leaves[i + 1])[0] + nodeHash(leaves[i + 1], leaves[i])[0];
      }),
    },
    {
      step: "write the least answer a caller needs: its index and leaf hash, as JSON",
      logAlone: false,
      us: perItem(job.rounds, n, () => {
        for (let i = 0; i < n; i += 1000) sink += JSON.stringify({ results: leafHexes.slice(i, i + 1000).map((leafHash, k) => ({ index: i + k, leafHash })) }).length;
      }),
    },
  ];
  return { steps };
}

/** The most entries a second two cores could take through `steps` (and `extraUs` more per entry) if they did nothing else. */
export function twoCoreBound(steps: FloorStep[], logAloneOnly: boolean, extraUs = 0): { us: number; perSecond: number } {
  const us = steps.filter((s) => s.logAlone || !logAloneOnly).reduce((sum, s) => sum + s.us, extraUs);
  return { us, perSecond: (2 * 1e6) / us };
}

if (require.main === module) {
  const job = JSON.parse(process.argv[2] ?? '{"entries":32000,"rounds":5}') as FloorsJob;
  const result = runFloors(job);
  if (sink === 0.5) process.stderr.write("(unreachable: keeps the sink live)\n");
  process.stdout.write(JSON.stringify(result) + "\n");
}
