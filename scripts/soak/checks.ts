/**
 * The soak's checks, as pure functions over what the clients were told and what the node serves at
 * the end: each returns the figures and what failed, so that a test can feed one a missing entry and
 * see it reported (test/node/soak-checks.test.ts). No I/O here.
 */
import { fromHex, rootFromInclusionProof, toHex, verifyReceipt, type Receipt } from "../../node/verify";

/** The outcome of one check, a row of the soak's table. */
export interface CheckResult {
  name: string;
  ok: boolean;
  /** The figure(s), as a person reads them. */
  figure: string;
  /** What failed, at most a few examples. */
  failures: string[];
  /** Set when the check could not apply here (a feature the build lacks): shown, never a failure. */
  notApplicable?: string;
}

const examples = (xs: string[], n = 5) => (xs.length > n ? [...xs.slice(0, n), `… and ${xs.length - n} more`] : xs);

/** Every acknowledged entry (index → leaf hash) is in the log with the same leaf hash. */
export function checkEntries(acked: Map<number, string>, logged: Map<number, string>, logSize: number): CheckResult {
  const failures: string[] = [];
  for (const [index, leaf] of acked) {
    if (index >= logSize) failures.push(`entry ${index}: beyond the log's size ${logSize}`);
    else if (!logged.has(index)) failures.push(`entry ${index}: missing`);
    else if (logged.get(index)!.toLowerCase() !== leaf.toLowerCase()) failures.push(`entry ${index}: leaf ${logged.get(index)} in the log, ${leaf} acknowledged`);
  }
  return { name: "acknowledged entries present", ok: failures.length === 0 && acked.size > 0, figure: `${acked.size - failures.length} / ${acked.size} (log size ${logSize})`, failures: examples(acked.size === 0 ? ["no entry was acknowledged"] : failures) };
}

/** Every receipt verifies (batch proof, operator signature) and names the entry that was acknowledged. */
export function checkReceipts(receipts: Receipt[], acked: Map<number, string>, operator: string): CheckResult {
  const failures: string[] = [];
  const goodSignatures = new Set<string>();
  for (const r of receipts) {
    if (acked.get(r.index)?.toLowerCase() !== r.leafHash.toLowerCase()) failures.push(`receipt ${r.index}: names leaf ${r.leafHash}, not the acknowledged one`);
    try {
      // The signature is over the batch: recover it once per batch, check every entry's batch proof.
      const key = `${r.origin}/${r.batch.first}/${r.batch.count}/${r.batch.root}/${r.signer}/${r.signature}`.toLowerCase();
      if (goodSignatures.has(key)) {
        const position = r.index - r.batch.first;
        if (position < 0 || position >= r.batch.count) throw new Error(`index ${r.index} is not in the batch [${r.batch.first}, ${r.batch.first + r.batch.count})`);
        const root = toHex(rootFromInclusionProof(position, r.batch.count, fromHex(r.leafHash), r.batch.proof.map(fromHex)));
        if (root !== r.batch.root.toLowerCase()) throw new Error(`leaf ${r.leafHash} at index ${r.index} does not lead to batch root ${r.batch.root}`);
      } else {
        verifyReceipt(r, [operator]);
        goodSignatures.add(key);
      }
    } catch (err) {
      failures.push(`receipt ${r.index}: ${(err as Error).message}`);
    }
  }
  return { name: "receipts verify (node/verify)", ok: failures.length === 0 && receipts.length > 0, figure: `${receipts.length - failures.length} / ${receipts.length}`, failures: examples(receipts.length === 0 ? ["no receipt was given"] : failures) };
}

/** Every acknowledged object (agreement, consent, transfer …) is found in its final state. */
export function checkPresent(kind: string, acked: string[], found: Map<string, boolean>): CheckResult {
  const failures = acked.filter((id) => !found.get(id)).map((id) => `${kind} ${id}: ${found.has(id) ? "not in the state acknowledged" : "missing"}`);
  return { name: `acknowledged ${kind}s present`, ok: failures.length === 0 && acked.length > 0, figure: `${acked.length - failures.length} / ${acked.length}`, failures: examples(acked.length === 0 ? [`no ${kind} was acknowledged`] : failures) };
}

/** A relay answered 202 and how it ended. */
export interface RelayFate {
  id: string;
  flow: string;
  status: "pending" | "mined" | "failed" | "unknown";
}

/** Every 202 relay reached a final state (mined or failed); n/a when the build answers no 202. */
export function checkRelays(relays: RelayFate[], featurePresent: boolean): CheckResult {
  if (!featurePresent) return { name: "202 relays final", ok: true, figure: "—", failures: [], notApplicable: "this build has no relay outbox (GET /v1/relays/:id)" };
  const failures = relays.filter((r) => r.status !== "mined" && r.status !== "failed").map((r) => `relay ${r.id} (${r.flow}): ${r.status}`);
  const mined = relays.filter((r) => r.status === "mined").length;
  return { name: "202 relays final", ok: failures.length === 0, figure: `${relays.length - failures.length} / ${relays.length} (${mined} mined, ${relays.length - failures.length - mined} failed)`, failures: examples(failures) };
}

/** One answer with status ≥ 500. */
export interface ServerError {
  status: number;
  code: string;
  route: string;
  at: number;
}

/** No 5xx, except 503 STORAGE_UNAVAILABLE while writes were made to fail (and `graceMs` after). */
export function checkServerErrors(errors: ServerError[], storeFaults: { from: number; to: number }[], answers: number, graceMs = 5000): CheckResult {
  const expected = (e: ServerError) => e.status === 503 && e.code === "STORAGE_UNAVAILABLE" && storeFaults.some((w) => e.at >= w.from && e.at <= w.to + graceMs);
  const bad = errors.filter((e) => !expected(e));
  const byCode = new Map<string, number>();
  for (const e of bad) byCode.set(`${e.status} ${e.code} ${e.route}`, (byCode.get(`${e.status} ${e.code} ${e.route}`) ?? 0) + 1);
  return {
    name: "no 5xx answered",
    ok: bad.length === 0,
    figure: `${bad.length} of ${answers} answers (${errors.length - bad.length} expected 503 STORAGE_UNAVAILABLE during the write fault)`,
    failures: examples([...byCode].map(([k, n]) => `${n} × ${k}`)),
  };
}

/** One RSS sample of the node: which run (start) of the product, seconds into that run, kilobytes. */
export interface RssSample {
  run: number;
  second: number;
  kb: number;
}

/**
 * Memory flat: in the last run (restarts reset RSS), the RSS at its end ≤ `limit` × the RSS after
 * warm-up (the first sample at least `warmupS` seconds into that run).
 */
export function checkMemory(samples: RssSample[], warmupS: number, limit = 1.5): CheckResult & { warm?: number; end?: number; ratio?: number; lastRunS?: number } {
  const name = `memory flat (RSS end ≤ ${limit} × after warm-up, last run)`;
  if (samples.length === 0) return { name, ok: false, figure: "no samples", failures: ["no RSS sample of the node"] };
  const lastRun = Math.max(...samples.map((s) => s.run));
  const run = samples.filter((s) => s.run === lastRun).sort((a, b) => a.second - b.second);
  const warm = run.find((s) => s.second >= warmupS);
  const end = run[run.length - 1];
  if (!warm || warm === end) return { name, ok: false, figure: `last run ${end.second} s`, failures: [`the last run lasted ${end.second} s: no sample after a ${warmupS} s warm-up to compare with`] };
  const ratio = end.kb / warm.kb;
  const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;
  return {
    name, ok: ratio <= limit, warm: warm.kb, end: end.kb, ratio, lastRunS: end.second,
    figure: `${mb(warm.kb)} at ${warm.second} s → ${mb(end.kb)} at ${end.second} s: × ${ratio.toFixed(2)}`,
    failures: ratio <= limit ? [] : [`RSS grew × ${ratio.toFixed(2)} in the last run (limit × ${limit})`],
  };
}

/** Renders rows as a Markdown table (the soak prints it, and the README quotes it). */
export function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}
