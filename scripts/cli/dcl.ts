/**
 * `dcl`, the command line of the Data Circulation Ledger (`npm run dcl -- <command>`):
 *   verify      check an evidence bundle offline (and against the chain with --rpc)
 *   provenance  ask the API where a data product (file or content hash) came from
 *   keys new    create an encrypted keystore with a new signing key
 *   status      the node's readiness, log size and anchoring lag
 *   trust export  read a deployment's trust root off the chain from its registry address
 *   assess      the quarterly assessment from the API, or reproduced from a period bundle alone
 *   receipts check  were the operator's receipts kept (their entries in the latest anchored checkpoint)?
 *   check       is a stopped node's store the log it signed and anchored?
 *   backup      a consistent copy of a running node's store, and the keys and files it needs
 *   restore     a backup into a stopped node's data directory
 * Exit codes: 0 all good (for verify: authentic and intact), 1 a check or request failed, 2 bad usage
 * or unreadable input, 3 (verify) intact but not authenticated: no trust root was given.
 */
import { readFile, writeFile } from "node:fs/promises";
import { sha256 } from "@noble/hashes/sha2";
import { SingleBar, Presets } from "cli-progress";
import { Command, CommanderError } from "commander";
import { loadConfig } from "../../api/config";
import { ApiError, DclClient, publicGet } from "../../api/client";
import { codeId } from "../../node/chain/ids";
import type { EvidenceBundle } from "../../node/evidence/bundle";
import type { ProvenanceReport } from "../../node/evidence/evidence-service";
import { verifyBundle, type Report } from "../../node/evidence/verify-bundle";
import { createKeystore, loadKeystore, readPassword } from "../../node/keys/keystore";
import { readDeployment } from "../../node/runtime/deployment";
import { toHex } from "../../node/verify";
import { assessCommand } from "./assess";
import { connectRpc, exportTrustRoot } from "../../node/trust/export-trust-root";
import { parseTrustRoot, trustRootFingerprint, type TrustRoot } from "../../node/trust/trust-root";
import { DEFAULT_GRACE_SECONDS } from "../../node/receipts/receipt-check";
import { receiptsCheckCommand, ReceiptsCheckError } from "./receipts-check";
import { CheckError, checkCommand } from "./check";
import { backup, BackupError, restore } from "./backup";

/** Exit codes of every command. */
export const EXIT = { ok: 0, failed: 1, usage: 2, unauthenticated: 3 } as const;

/** An error that ends the command with `exitCode` and prints only its message. */
class CliError extends Error {
  constructor(message: string, readonly exitCode: number) {
    super(message);
  }
}

const HASH_RE = /^0x[0-9a-fA-F]{64}$/;
/** The API's address from the configuration (DCL_API_URL, or DCL_HOST and DCL_PORT). */
const DEFAULT_API = (() => {
  try {
    return loadConfig().apiUrl;
  } catch {
    return "http://127.0.0.1:8080";
  }
})();
/** The anchor interval from the configuration (DCL_ANCHOR_INTERVAL_MS). */
const DEFAULT_INTERVAL_MS = (() => {
  try {
    return loadConfig().anchorIntervalMs;
  } catch {
    return 5000;
  }
})();
const out = (line = "") => process.stdout.write(line + "\n");

/** A department id from a bytes32 id or an organisation code. */
function departmentId(text: string): string {
  return HASH_RE.test(text) ? text.toLowerCase() : codeId(text);
}

/** The keystore password from DCL_KEYSTORE_PASSWORD or DCL_KEYSTORE_PASSWORD_FILE (via the one config module). */
async function password(): Promise<string> {
  return readPassword(loadConfig().password).catch((err: Error) => {
    throw new CliError(err.message, EXIT.usage);
  });
}

async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`, EXIT.usage);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CliError(`${file} is not JSON: ${(err as Error).message}`, EXIT.usage);
  }
}

/** The report as lines a person reads: one ✔/✘ per check with where it looked. */
export function formatReport(report: Report, file: string): string[] {
  const lines = report.checks.map((c) => `${c.ok ? "✔" : "✘"} ${c.name}${c.where ? ` [${c.where}]` : ""}: ${c.detail}`);
  const failed = report.checks.filter((c) => !c.ok).length;
  lines.push("");
  if (!report.ok) lines.push(`✘ ${file}: ${failed} of ${report.checks.length} checks fail`);
  else if (report.authenticated && report.trust) {
    const t = report.trust;
    lines.push(`✔ ${file}: all ${report.checks.length} checks hold; authentic for the deployment of registry ${t.registry} on chain ${t.chainId} (trust root ${t.source === "rpc" ? "read live" : "file"} at block ${t.block}, fingerprint ${t.fingerprint})`);
  } else lines.push(`✔ ${file}: integrity holds (all ${report.checks.length} checks); authenticity NOT established (no trust root: pass --trust FILE, or --rpc URL --registry ADDRESS)`);
  return lines;
}

const ADDRESS_RE = /^0x[0-9a-fA-F]{40}$/;

async function readTrustRoot(file: string): Promise<TrustRoot> {
  const json = await readJson(file);
  try {
    return parseTrustRoot(json);
  } catch (err) {
    throw new CliError(`${file}: ${(err as Error).message}`, EXIT.usage);
  }
}

async function verifyCommand(file: string, o: { rpc?: string; registry?: string; trust?: string; json?: boolean }): Promise<number> {
  if (o.registry && !o.rpc) throw new CliError("--registry needs --rpc (the chain to read the registry from)", EXIT.usage);
  if (o.registry && !ADDRESS_RE.test(o.registry)) throw new CliError(`--registry ${o.registry} is not an 0x-hex address`, EXIT.usage);
  if (o.registry && o.trust) throw new CliError("give either --trust FILE or --rpc URL --registry ADDRESS, not both", EXIT.usage);
  const trust = o.trust ? await readTrustRoot(o.trust) : undefined;
  const bundle = await readJson(file);
  if (typeof bundle !== "object" || bundle === null || Array.isArray(bundle)) throw new CliError(`${file} is not an evidence bundle (not a JSON object)`, EXIT.usage);
  const total = Array.isArray((bundle as EvidenceBundle).entries) ? (bundle as EvidenceBundle).entries.length : 0;
  const bar = !o.json && process.stderr.isTTY && total >= 50 ? new SingleBar({ stream: process.stderr, format: "verifying entries {bar} {value}/{total}" }, Presets.shades_classic) : undefined;
  bar?.start(total, 0);
  const report = await verifyBundle(bundle as EvidenceBundle, { rpcUrl: o.rpc, registry: o.registry, trust, onProgress: (done) => bar?.update(done) }).finally(() => bar?.stop());
  if (o.json) out(JSON.stringify(report, null, 2));
  else formatReport(report, file).forEach((l) => out(l));
  return !report.ok ? EXIT.failed : report.authenticated ? EXIT.ok : EXIT.unauthenticated;
}

async function trustExportCommand(o: { rpc: string; registry: string; block?: string; out?: string }): Promise<number> {
  if (!ADDRESS_RE.test(o.registry)) throw new CliError(`--registry ${o.registry} is not an 0x-hex address`, EXIT.usage);
  if (o.block !== undefined && !/^(0|[1-9][0-9]{0,14})$/.test(o.block)) throw new CliError(`--block ${o.block} is not a block number`, EXIT.usage);
  const provider = await connectRpc(o.rpc).catch((err: Error) => {
    throw new CliError(`cannot reach the chain at ${o.rpc}: ${err.message.split(" (")[0]}`, EXIT.failed);
  });
  try {
    const root = await exportTrustRoot(provider, o.registry, o.block === undefined ? {} : { block: Number(o.block) });
    const text = JSON.stringify(root, null, 2) + "\n";
    if (o.out) {
      await writeFile(o.out, text, { flag: "wx" }).catch((err: NodeJS.ErrnoException) => {
        throw new CliError(err.code === "EEXIST" ? `${o.out} exists: refusing to overwrite a trust root` : `cannot write ${o.out}: ${err.message}`, EXIT.failed);
      });
      const signers = root.departments.reduce((n, d) => n + d.signers.length, 0);
      process.stderr.write(`trust root of registry ${root.registry} on chain ${root.chainId} at block ${root.takenAt.block} (${root.takenAt.hash}): ${root.departments.length} departments, ${signers} signer keys, ${root.roles.length} roles, ${root.logs.length} logs\nfingerprint ${trustRootFingerprint(root)}\nwritten to ${o.out}\n`);
    } else out(text.trimEnd());
    return EXIT.ok;
  } finally {
    provider.destroy();
  }
}

async function provenanceCommand(target: string, o: { api: string; department?: string; key?: string; registry?: string; deployment: string; bundle?: string }): Promise<number> {
  let hash: string;
  if (HASH_RE.test(target)) {
    hash = target.toLowerCase();
  } else {
    const bytes = await readFile(target).catch((err: Error) => {
      throw new CliError(`${target} is neither a 0x-hex SHA-256 nor a readable file: ${err.message}`, EXIT.usage);
    });
    hash = toHex(sha256(bytes));
    out(`${target}: SHA-256 ${hash}`);
  }
  if (!o.department || !o.key) throw new CliError("provenance needs --department and --key (a signer of a department with the exchange or regulator role)", EXIT.usage);
  const checkpoint = await publicGet<{ origin: string }>(o.api, "/v1/log/checkpoint");
  const chainId = /^dcl\/(\d+)\//.exec(checkpoint.origin)?.[1];
  if (!chainId) throw new CliError(`cannot tell the chain id from the log origin ${checkpoint.origin}`, EXIT.failed);
  const registry = o.registry ?? (await readDeployment(o.deployment))?.addresses.registry;
  if (!registry) throw new CliError(`no registry address: pass --registry or --deployment (no file ${o.deployment})`, EXIT.usage);
  const key = await loadKeystore(o.key, await password()).catch((err: Error) => {
    throw new CliError(err.message, EXIT.usage);
  });
  const client = new DclClient({ baseUrl: o.api, chainId: BigInt(chainId), registry }, departmentId(o.department), key);
  const report = await client.get<ProvenanceReport>(`/v1/provenance/${hash}`);
  out(`provenance of ${report.hash}`);
  for (const t of report.transfers) {
    const c = t.onChain;
    out(`  transfer ${t.id}`);
    out(`    ${c.from} → ${c.to}, ${c.category} period ${c.period}: ${c.recordCount} records, ${c.totalFen} fen`);
    out(`    payload ${c.payloadHash}, records root ${c.recordsRoot}, tx ${c.submitTx}`);
    if (c.reconciliation) out(`    reconciled: ${c.reconciliation.collectedCount} records, ${c.reconciliation.collectedFen} fen collected (tx ${c.reconciliation.tx})`);
    for (const d of c.disputes) out(`    disputed by ${d.department}: record ${d.leafIndex}`);
    out(`    parents: ${t.parents.length ? t.parents.join(", ") : "none"}`);
  }
  const b = report.accesses;
  if (b) {
    out(`  data calls: ${b.entries.length} logged entries (checkpoint size ${b.checkpoint.treeSize}, anchor tx ${b.checkpoint.anchor.tx})`);
    for (const e of b.entries) out(`    #${e.index} ${e.entry.outcome} at ${e.entry.time}: ${e.entry.providerDept} → ${e.entry.consumerDept}, ${e.entry.recordCount} records, agreement ${e.entry.agreementId}`);
    for (const a of b.agreements) out(`    agreement ${a.id}: ${a.terms.provider} → ${a.terms.consumer}, resource ${a.terms.resource}, quota ${a.terms.quota}, ${a.state.status}`);
    for (const c of b.consents) out(`    consent ${c.id}: subject ${c.terms.subject} → ${c.terms.grantee}, granted ${c.grantedAt}${c.revokedAt ? `, revoked ${c.revokedAt}` : ""}`);
    if (o.bundle) {
      await writeFile(o.bundle, JSON.stringify(b, null, 2) + "\n");
      out(`  bundle saved to ${o.bundle} (check it with: dcl verify ${o.bundle})`);
    }
  } else if (o.bundle) {
    out("  no logged data calls: no bundle to save");
  }
  return EXIT.ok;
}

async function keysNewCommand(file: string): Promise<number> {
  const wallet = await createKeystore(file, await password()).catch((err: NodeJS.ErrnoException) => {
    throw new CliError(err.code === "EEXIST" ? `${file} exists: refusing to overwrite a keystore` : `cannot write ${file}: ${err.message}`, EXIT.failed);
  });
  out(wallet.address);
  return EXIT.ok;
}

interface Readiness {
  ready: boolean;
  checks: Record<string, { ok: boolean; detail?: string }>;
}

async function statusCommand(o: { api: string }): Promise<number> {
  const readyRes = await fetch(o.api + "/readyz");
  const ready = (await readyRes.json()) as Readiness;
  const cp = await publicGet<{ origin: string; treeSize: number; anchored: { treeSize: number; block: number; tx: string } | null }>(o.api, "/v1/log/checkpoint");
  const anchored = cp.anchored?.treeSize ?? 0;
  out(`log ${cp.origin}`);
  out(`  tree size      ${cp.treeSize}`);
  out(`  anchored size  ${anchored}${cp.anchored ? ` (block ${cp.anchored.block})` : ""}`);
  out(`  lag            ${cp.treeSize - anchored} entries`);
  for (const [name, c] of Object.entries(ready.checks)) out(`${c.ok ? "✔" : "✘"} ${name}: ${c.detail ?? ""}`);
  out(ready.ready ? "ready" : "not ready");
  return ready.ready ? EXIT.ok : EXIT.failed;
}

/** The command tree; `run` sets the exit code each action returns. */
export function program(run: (action: () => Promise<number>) => Promise<void>): Command {
  const p = new Command("dcl")
    .description("Data Circulation Ledger: verify evidence, trace provenance, manage keys, check a node")
    .exitOverride()
    .addHelpText("after", "\nExit codes: 0 everything holds, 1 a check or request failed, 2 bad usage or unreadable input, 3 (verify) intact but not authenticated.");

  p.command("verify")
    .description("Verify an evidence bundle: seal, checkpoint, every entry's encoding, inclusion proof and receipt, consistency, agreements and consents; with a trust root, that it belongs to that deployment and every signature was made by a key valid at that moment")
    .argument("<bundle.json>", "evidence bundle (POST /v1/evidence or dcl provenance --bundle)")
    .option("--trust <trust-root.json>", "trust root of the deployment (dcl trust export): check authenticity offline")
    .option("--rpc <url>", "JSON-RPC URL of the chain: also check the anchors and the acts' transactions on chain")
    .option("--registry <address>", "with --rpc: the deployment's pinned DepartmentRegistry; its trust root is read live")
    .option("--json", "print the report as JSON ({ ok, authenticated, trust, checks: [{ name, ok, detail, where }] })")
    .addHelpText("after", "\nExamples:\n  dcl verify bundle.json --trust trust-root.json\n  dcl verify bundle.json --rpc http://127.0.0.1:8545 --registry 0x5FbDB2315678afecb367f032d93F642f64180aa3 --json\n\nExit codes: 0 authentic and intact, 1 a check failed, 2 the input is unreadable or not JSON,\n3 intact but authenticity not established (no trust root given).")
    .action((file: string, o) => run(() => verifyCommand(file, o)));

  p.command("trust")
    .description("Trust roots: what a verifier knows of a deployment without trusting its operator")
    .command("export")
    .description("Read the trust root of a deployment off the chain from its pinned registry: chain id, contracts, every department's signer keys with the interval each was valid, roles, logs")
    .requiredOption("--rpc <url>", "JSON-RPC URL of the chain")
    .requiredOption("--registry <address>", "the deployment's DepartmentRegistry address (pin it: it identifies the deployment)")
    .option("--block <n>", "take the root at this block (default: the latest)")
    .option("--out <file>", "write it to this file (never overwritten) instead of standard output")
    .addHelpText("after", "\nExample:\n  dcl trust export --rpc http://127.0.0.1:8545 --registry 0x5FbDB2315678afecb367f032d93F642f64180aa3 --out trust-root.json\n\nExit codes: 0 written, 1 the chain or registry could not be read, 2 bad usage.")
    .action((o) => run(() => trustExportCommand(o)));

  p.command("provenance")
    .description("Where a data product came from: its transfers with their lineage, and the logged data calls (with agreements and consents) whose content it is")
    .argument("<file|hash>", "a file (hashed with SHA-256, as transfer payloads are) or a 0x-hex SHA-256")
    .option("--api <url>", "API base URL", DEFAULT_API)
    .option("--department <id>", "department to act as (bytes32 id or organisation code, e.g. cq.wdex); needs the exchange or regulator role")
    .option("--key <keystore.json>", "keystore of a signer of that department (password: DCL_KEYSTORE_PASSWORD or DCL_KEYSTORE_PASSWORD_FILE)")
    .option("--registry <address>", "DepartmentRegistry address the request signature is bound to (default: from --deployment)")
    .option("--deployment <file>", "deployment file with the contract addresses", "./data/deployment.json")
    .option("--bundle <out.json>", "save the evidence bundle of the logged data calls, if any")
    .addHelpText("after", "\nExamples:\n  DCL_KEYSTORE_PASSWORD=… dcl provenance product.json --department cq.wdex --key wdex.json\n  dcl provenance 0x<sha256> --api http://node:8080 --department cq.regulator --key reg.json --bundle calls.json\n\nExit codes: 0 found, 1 not found or the API refused, 2 bad usage.")
    .action((target: string, o) => run(() => provenanceCommand(target, o)));

  p.command("assess")
    .description("The quarterly assessment of each department's sharing (Reply 0535 §3.1): ask the API (--period), or verify a period bundle and recompute the assessment from it alone (--bundle), comparing it with the API's")
    .option("--bundle <period-bundle.json>", "a period bundle (GET /v1/audit/period-bundle, or --save-bundle): verify it and recompute its assessment")
    .option("--trust <trust-root.json>", "with --bundle: the deployment's trust root (dcl trust export): check authenticity offline")
    .option("--rpc <url>", "with --bundle: also check the checkpoint's anchor on chain")
    .option("--registry <address>", "with --rpc: read the trust root live from this DepartmentRegistry; without --bundle: the registry requests are bound to")
    .option("--against <assessment.json>", "with --bundle: compare with this assessment the API gave")
    .option("--period <quarter>", "a quarter like 2026Q4 (China Standard Time); default: the current quarter")
    .option("--from <unix-seconds>", "start of the period, with --to")
    .option("--to <unix-seconds>", "end of the period (not included)")
    .option("--of <department>", "only this department (bytes32 id or code)")
    .option("--api <url>", "API base URL", DEFAULT_API)
    .option("--department <id>", "department to act as (bytes32 id or code); its key needs the regulator role")
    .option("--key <keystore.json>", "keystore of a signer of that department (password: DCL_KEYSTORE_PASSWORD or DCL_KEYSTORE_PASSWORD_FILE)")
    .option("--deployment <file>", "deployment file with the registry address", "./data/deployment.json")
    .option("--codes <list>", "department codes, comma-separated, to name departments in the table (e.g. cq.tax,cq.water)")
    .option("--save-bundle <file>", "without --bundle: also save the period bundle of the same checkpoint")
    .option("--json", "print the assessment as JSON")
    .option("--csv", "print the assessment as CSV")
    .addHelpText("after", "\nExamples:\n  dcl assess --period 2026Q4 --department cq.regulator --key reg.json --save-bundle q4.json\n  dcl assess --bundle q4.json --trust trust-root.json --department cq.regulator --key reg.json\n  dcl assess --bundle q4.json --against q4-assessment.json\n\nExit codes: 0 reproduced and authentic (without --bundle: answered), 1 a check failed or the assessments differ,\n2 bad usage or unreadable input, 3 reproduced but authenticity not established (no trust root).")
    .action((o) => run(() => assessCommand(o, password)));

  p.command("keys")
    .description("Manage signing keys")
    .command("new")
    .description("Create an encrypted keystore (Web3 Secret Storage, scrypt) with a new random key; prints only its address")
    .argument("<file>", "where to write the keystore (never overwritten)")
    .addHelpText("after", "\nThe password comes from DCL_KEYSTORE_PASSWORD or DCL_KEYSTORE_PASSWORD_FILE.\nExample:\n  DCL_KEYSTORE_PASSWORD_FILE=pw.txt dcl keys new keys/tax.json")
    .action((file: string) => run(() => keysNewCommand(file)));

  p.command("receipts")
    .description("Receipts: the operator's signed promises to log calls")
    .command("check")
    .description("Were these receipts kept? Verifies each receipt and its signer (a key of the log's operating department at the entry's time, per the trust root read live), then proves its entry is in the latest checkpoint anchored on chain: the log's inclusion proof, checked against the root on chain (never the API's). Not yet anchored: pending within the anchor interval, OVERDUE past it; contradicted by the anchored tree: BROKEN, evidence against the operator")
    .argument("<file...>", "receipts: one, an array, objects with receipt and entry, or a saved POST /v1/access answer")
    .requiredOption("--rpc <url>", "JSON-RPC URL of the chain")
    .requiredOption("--registry <address>", "the deployment's pinned DepartmentRegistry")
    .option("--api <url>", "the log's API, for inclusion proofs", DEFAULT_API)
    .option("--interval <ms>", "the log's anchor interval: how long a receipt may wait for an anchor", String(DEFAULT_INTERVAL_MS))
    .option("--grace <seconds>", "allowed beyond the interval for the anchoring transaction and confirmations", String(DEFAULT_GRACE_SECONDS))
    .option("--json", "print the report as JSON ({ ok, summary, trust, results: [{ file, verdict, code, detail, anchor, inclusion, ... }] })")
    .addHelpText("after", "\nExample:\n  dcl receipts check access-answer.json --rpc http://127.0.0.1:8545 --registry 0x5FbDB2315678afecb367f032d93F642f64180aa3 --api http://127.0.0.1:8080\n\nExit codes: 0 every receipt kept (or pending within the interval), 1 any overdue, broken, invalid or unchecked\n(the chain or the log could not be asked), 2 bad usage or unreadable input.")
    .action((files: string[], o) =>
      run(() =>
        receiptsCheckCommand(files, o, out).catch((err: unknown) => {
          throw err instanceof ReceiptsCheckError ? new CliError(err.message, err.exitCode) : err;
        }),
      ),
    );

  p.command("backup")
    .description("A consistent copy of a running node's store (one LevelDB snapshot, streamed by the node: GET /v1/operator/backup signed with the operator key), with the keys and files it needs: operator keystore and password file, subject pepper, demo keystores, deployment file, the embedded chain's state. A node that does not answer is copied from its stopped data directory")
    .argument("<dir>", "a new (or empty) directory for the backup")
    .option("--api <url>", "API base URL of the running node", DEFAULT_API)
    .option("--data <dir>", "the node's data directory (keys, deployment file; default DCL_DATA_DIR or ./data)")
    .addHelpText("after", "\nExample:\n  dcl backup /backups/dcl-2026-12-01 --data ./data\n\nExit codes: 0 written, 1 the node refused or the copy failed, 2 bad usage (directory not empty, no key).")
    .action((dir: string, o) => run(async () => (await backup(dir, o, process.env, out), EXIT.ok)));

  p.command("restore")
    .description("Bring a backup back into a STOPPED node's data directory: its store, and each kept file where the configuration looks for it. Refuses to replace a store or a different file without --force (then moved aside, never deleted). Then run dcl check")
    .argument("<dir>", "a directory written by dcl backup")
    .option("--data <dir>", "the stopped node's data directory (default DCL_DATA_DIR or ./data)")
    .option("--force", "move an existing store and different files aside (*.before-restore-<time>) instead of refusing")
    .option("--with-chain", "also restore the embedded chain's state (only when the chain's own state was lost too)")
    .option("--rpc <url>", "the chain to check the restored store against (default: DCL_RPC_URL or the embedded chain's port)")
    .addHelpText("after", "\nExample:\n  dcl restore /backups/dcl-2026-12-01 --data ./data --rpc http://127.0.0.1:8545   # restores, then runs the store check against the chain\n\nExit codes: 0 restored and the store check holds, 1 refused (a running node, something to replace without --force, an altered backup) or restored but the store check fails (e.g. STORE_BEHIND_ANCHOR: the chain anchored more than the backup holds), 2 bad usage.")
    .action((dir: string, o) => run(async () => ((await restore(dir, o, process.env, out)).check.ok ? EXIT.ok : EXIT.failed)));

  p.command("check")
    .description("Is a stopped node's store the log it signed and anchored? Recomputes every entry and stored hash, compares the store with the checkpoint the node last signed and, with --rpc, with the chain's latest anchor of its log (the check the node runs at start)")
    .option("--data <dir>", "the stopped node's data directory (default DCL_DATA_DIR or ./data)")
    .option("--rpc <url>", "JSON-RPC URL of the chain: also check against the latest anchor of the log")
    .option("--deployment <file>", "with --rpc: the deployment file (default <data>/deployment.json)")
    .option("--log <code>", "code of the node's log (default DCL_LOG_CODE or log.cq.bigdata.0)")
    .option("--quick", "check the tree's border and the last entries only, as the node does at start (default: everything)")
    .option("--json", "print the report as JSON ({ ok, size, root, checkpoint, chain, deep, problems: [{ code, message }] })")
    .addHelpText("after", "\nExamples:\n  dcl check --data ./data --rpc http://127.0.0.1:8545\n  dcl check --data /restored/data --json\n\nExit codes: 0 the store holds and agrees with the chain, 1 a problem (lost, truncated or altered store),\n2 bad usage or the store cannot be read (no directory, a running node holds it), 3 the store holds as far as\nchecked but the chain part was not checked (no --rpc, or the chain did not answer).")
    .action((o) =>
      run(() =>
        checkCommand(o, out).catch((err: unknown) => {
          throw err instanceof CheckError ? new CliError(err.message, err.exitCode) : err;
        }),
      ),
    );

  p.command("status")
    .description("A node's health: log tree size, anchored size and lag, chain, indexer and anchoring checks")
    .option("--api <url>", "API base URL", DEFAULT_API)
    .addHelpText("after", "\nExample:\n  dcl status --api http://127.0.0.1:8080\n\nExit codes: 0 ready, 1 not ready or unreachable.")
    .action((o) => run(() => statusCommand(o)));
  return p;
}

/** Runs the CLI on `argv`; resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  let code: number = EXIT.ok;
  const run = async (action: () => Promise<number>) => {
    try {
      code = await action();
    } catch (err) {
      if (err instanceof CliError) {
        process.stderr.write(`dcl: ${err.message}\n`);
        code = err.exitCode;
      } else if (err instanceof BackupError) {
        process.stderr.write(`dcl: ${err.message}\n`);
        code = err.exitCode;
      } else if (err instanceof ApiError) {
        process.stderr.write(`dcl: the API answered ${err.message}\n`);
        code = EXIT.failed;
      } else {
        process.stderr.write(`dcl: ${(err as Error)?.message ?? String(err)}\n`);
        code = EXIT.failed;
      }
    }
  };
  try {
    await program(run).parseAsync(argv, { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    throw err;
  }
  return code;
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
