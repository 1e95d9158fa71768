/**
 * `dcl assess`: the quarterly assessment of the departments' sharing.
 *   --bundle FILE   verify a period bundle and recompute the assessment from it alone; compare it with
 *                   the assessment the API gave (--against FILE, or asked again with --api and a key)
 *   otherwise       ask the API for the assessment of --period (or --from/--to; default: this quarter), as the regulator
 * Exit codes: 0 reproduced and authentic (or, without --bundle, answered), 1 a check failed or the
 * assessments differ, 2 bad usage or unreadable input, 3 reproduced but not authenticated (no trust root).
 */
import { readFile, writeFile } from "node:fs/promises";
import { DclClient, publicGet } from "../../api/client";
import type { Assessment } from "../../node/assessment/assess";
import { assessmentCsv } from "../../node/assessment/csv";
import { firstDifference, valueAt } from "../../node/assessment/compare";
import { quarter, quarterOf, type Period } from "../../node/assessment/period";
import type { PeriodBundle } from "../../node/assessment/period-bundle";
import { recomputeFor, verifyPeriodBundle } from "../../node/assessment/verify-period-bundle";
import { codeId } from "../../node/chain/ids";
import { loadKeystore } from "../../node/keys/keystore";
import { readDeployment } from "../../node/runtime/deployment";
import { connectRpc, exportTrustRoot } from "../../node/trust/export-trust-root";
import { parseTrustRoot, type TrustRoot } from "../../node/trust/trust-root";
import { canonicalJson } from "../../node/verify";
import { assessmentTable, namesOf } from "./assessment-table";

const EXIT = { ok: 0, failed: 1, usage: 2, unauthenticated: 3 } as const;
const HASH_RE = /^0x[0-9a-fA-F]{64}$/;
const ADDRESS_RE = /^0x[0-9a-fA-F]{40}$/;

/** Options of `dcl assess`. */
export interface AssessOptions {
  bundle?: string;
  trust?: string;
  rpc?: string;
  registry?: string;
  against?: string;
  period?: string;
  from?: string;
  to?: string;
  of?: string;
  api: string;
  department?: string;
  key?: string;
  deployment: string;
  codes?: string;
  saveBundle?: string;
  json?: boolean;
  csv?: boolean;
}

/** Usage or input problem: the message is printed and the command exits 2. */
class UsageError extends Error {}

const out = (line = "") => process.stdout.write(line + "\n");
const departmentId = (text: string) => (HASH_RE.test(text) ? text.toLowerCase() : codeId(text));

async function readJson(file: string): Promise<unknown> {
  const text = await readFile(file, "utf8").catch((err: Error) => {
    throw new UsageError(`cannot read ${file}: ${err.message}`);
  });
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${file} is not JSON: ${(err as Error).message}`);
  }
}

function periodOf(o: AssessOptions): Period {
  if (o.period !== undefined) {
    if (o.from !== undefined || o.to !== undefined) throw new UsageError("give either --period or --from and --to");
    const p = quarter(o.period);
    if (!p) throw new UsageError(`--period ${o.period} is not a quarter like 2026Q4`);
    return p;
  }
  if (o.from === undefined && o.to === undefined) return quarterOf(Math.floor(Date.now() / 1000));
  const n = (v: string | undefined, what: string) => {
    if (v === undefined || !/^(0|[1-9][0-9]{0,14})$/.test(v)) throw new UsageError(`${what} must be unix seconds (or give --period)`);
    return Number(v);
  };
  const p = { from: n(o.from, "--from"), to: n(o.to, "--to") };
  if (p.from >= p.to) throw new UsageError(`--from ${p.from} is not before --to ${p.to}`);
  return p;
}

/** A signed client of the API acting as --department with --key (its chain from the log's origin; its registry `registry`, else --registry, else from --deployment). */
async function apiClient(o: AssessOptions, password: () => Promise<string>, registryOf?: string): Promise<DclClient> {
  if (!o.department || !o.key) throw new UsageError("asking the API needs --department and --key (a signer of a department whose key has the regulator role)");
  const checkpoint = await publicGet<{ origin: string }>(o.api, "/v1/log/checkpoint");
  const chainId = /^dcl\/(\d+)\//.exec(checkpoint.origin)?.[1];
  if (!chainId) throw new Error(`cannot tell the chain id from the log origin ${checkpoint.origin}`);
  const registry = registryOf ?? o.registry ?? (await readDeployment(o.deployment))?.addresses.registry;
  if (!registry) throw new UsageError(`no registry address: pass --registry or --deployment (no file ${o.deployment})`);
  const key = await loadKeystore(o.key, await password()).catch((err: Error) => {
    throw new UsageError(err.message);
  });
  return new DclClient({ baseUrl: o.api, chainId: BigInt(chainId), registry }, departmentId(o.department), key);
}

const query = (p: Period, extra: Record<string, string | number | undefined>) =>
  Object.entries({ ...(p.label ? { period: p.label } : { from: p.from, to: p.to }), ...extra })
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${v}`)
    .join("&");

function print(a: Assessment, o: AssessOptions): void {
  if (o.json) out(JSON.stringify(a, null, 2));
  else if (o.csv) process.stdout.write(assessmentCsv(a));
  else assessmentTable(a, namesOf((o.codes ?? "").split(",").map((c) => c.trim()).filter(Boolean))).forEach((l) => out(l));
}

/** Compares the recomputed assessment with the API's; prints the outcome; true when identical. */
function compare(recomputed: Assessment, given: Assessment, source: string): boolean {
  const diff = firstDifference(JSON.parse(canonicalJson(recomputed)), JSON.parse(canonicalJson(given)));
  if (diff) {
    out(`✘ the assessment ${source} differs from the one recomputed from the bundle at ${diff}: ${JSON.stringify(valueAt(given, diff))} there, ${JSON.stringify(valueAt(recomputed, diff))} recomputed`);
    return false;
  }
  out(`✔ the assessment ${source} is exactly the one recomputed from the bundle (${given.departments.length} departments)`);
  return true;
}

async function fromBundle(o: AssessOptions, password: () => Promise<string>): Promise<number> {
  if (o.registry && !o.rpc) throw new UsageError("--registry needs --rpc");
  if (o.registry && !ADDRESS_RE.test(o.registry)) throw new UsageError(`--registry ${o.registry} is not an 0x-hex address`);
  if (o.trust && o.registry) throw new UsageError("give either --trust FILE or --rpc URL --registry ADDRESS, not both");
  let trust: TrustRoot | undefined;
  if (o.trust) {
    try {
      trust = parseTrustRoot(await readJson(o.trust));
    } catch (err) {
      throw new UsageError(`${o.trust}: ${(err as Error).message}`);
    }
  } else if (o.registry) {
    const provider = await connectRpc(o.rpc!);
    trust = await exportTrustRoot(provider, o.registry).finally(() => provider.destroy());
  }
  const bundle = (await readJson(o.bundle!)) as PeriodBundle;
  if (typeof bundle !== "object" || bundle === null || Array.isArray(bundle)) throw new UsageError(`${o.bundle} is not a period bundle (not a JSON object)`);
  const report = await verifyPeriodBundle(bundle, { trust, rpcUrl: o.rpc });
  const failedChecks = report.checks.filter((c) => !c.ok);
  const quiet = o.json || o.csv;
  if (!quiet) for (const c of report.checks) out(`${c.ok ? "✔" : "✘"} ${c.name}${c.where ? ` [${c.where}]` : ""}: ${c.detail}`);
  const range = bundle.range ? `entries [${bundle.range.begin}, ${bundle.range.end})` : "its entries";
  if (!report.ok) {
    out(`✘ ${o.bundle}: ${failedChecks.length} of ${report.checks.length} checks fail for ${range} of period [${bundle.period?.from}, ${bundle.period?.to}): the assessment is not reproduced`);
    return EXIT.failed;
  }
  if (!quiet) out("");
  print(report.assessment!, o);
  let same = true;
  if (o.against || (o.department && o.key)) {
    const given = o.against
      ? ((await readJson(o.against)) as Assessment)
      : await (await apiClient(o, password, trust?.registry ?? bundle.chain?.contracts?.registry)).get<Assessment>(`/v1/audit/assessments?${query(bundle.period, { treeSize: bundle.checkpoint.treeSize })}`);
    if (!given || !Array.isArray(given.departments)) throw new UsageError(`${o.against ?? "the API's answer"} is not an assessment`);
    same = compare(recomputeFor(bundle, report, given.departments.map((d) => d.department)), given, o.against ? `in ${o.against}` : `the API gives (${o.api})`);
  }
  if (!same) return EXIT.failed;
  if (!quiet) {
    out(report.authenticated
      ? `✔ ${o.bundle}: reproduced from all ${bundle.entries.length} entries of the period (${range} of the anchored tree of size ${bundle.checkpoint.treeSize}); authentic for registry ${report.trust!.registry}`
      : `✔ ${o.bundle}: reproduced from all ${bundle.entries.length} entries of the period (${range}); authenticity NOT established (no trust root: pass --trust FILE, or --rpc URL --registry ADDRESS)`);
  }
  return report.authenticated ? EXIT.ok : EXIT.unauthenticated;
}

async function fromApi(o: AssessOptions, password: () => Promise<string>): Promise<number> {
  const period = periodOf(o);
  const client = await apiClient(o, password);
  const a = await client.get<Assessment>(`/v1/audit/assessments?${query(period, { department: o.of ? departmentId(o.of) : undefined })}`);
  print(a, o);
  if (o.saveBundle) {
    const bundle = await client.get<PeriodBundle>(`/v1/audit/period-bundle?${query(period, { treeSize: a.basis.treeSize })}`);
    await writeFile(o.saveBundle, JSON.stringify(bundle) + "\n");
    if (!o.json && !o.csv) out(`\nperiod bundle of ${bundle.entries.length} entries saved to ${o.saveBundle} (reproduce it with: dcl assess --bundle ${o.saveBundle} --trust trust-root.json)`);
  }
  return EXIT.ok;
}

/** Runs `dcl assess`; returns its exit code (usage problems: printed, 2). */
export async function assessCommand(o: AssessOptions, password: () => Promise<string>): Promise<number> {
  try {
    if (o.json && o.csv) throw new UsageError("give --json or --csv, not both");
    if (o.bundle) {
      if (o.period || o.from || o.to || o.saveBundle || o.of) throw new UsageError("--bundle takes its period from the bundle: no --period, --from, --to, --of or --save-bundle");
      return await fromBundle(o, password);
    }
    if (o.trust || o.against) throw new UsageError("--trust and --against go with --bundle");
    return await fromApi(o, password);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`dcl: ${err.message}\n`);
    return EXIT.usage;
  }
}
