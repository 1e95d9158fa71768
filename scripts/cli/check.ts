/**
 * `dcl check`: is a stopped node's store the log it signed and anchored? Runs the node's own start-up
 * check (node/integrity/store-check.ts) on `<data>/node` — by default deep: every entry and stored
 * hash recomputed — against the checkpoint the node last signed and, with `--rpc`, the chain's latest
 * anchor of its log. Exit codes as `dcl verify`'s: 0 the store holds and agrees with the chain, 1 a
 * problem found, 2 bad usage or a store that cannot be read (missing directory, a running node), 3 the
 * store holds as far as checked but the chain part was not checked (no --rpc, or the chain did not answer).
 */
import { readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { loadConfig } from "../../api/config";
import { checkDataDir, StoreUnreadableError, type StoreCheckReport } from "../../node/integrity/store-check";
import { readDeployment } from "../../node/runtime/deployment";

/** Exit codes of `dcl check`. */
export const CHECK_EXIT = { ok: 0, problems: 1, usage: 2, chainNotChecked: 3 } as const;

/** Ends `dcl check` with `exitCode` and this message only. */
export class CheckError extends Error {
  constructor(message: string, readonly exitCode: number) {
    super(message);
  }
}

/** Options of `dcl check`. */
export interface CheckOptions {
  data?: string;
  rpc?: string;
  deployment?: string;
  log?: string;
  quick?: boolean;
  json?: boolean;
}

/** The operator's address from its keystore (the address field; no password needed), if the keystore is there. */
async function operatorAddress(file: string): Promise<string | undefined> {
  const text = await readFile(file, "utf8").catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const address = (JSON.parse(text) as { address?: string }).address;
    return address ? (address.startsWith("0x") ? address : `0x${address}`) : undefined;
  } catch {
    return undefined;
  }
}

/** Runs the check; prints the report; resolves with the exit code. */
export async function checkCommand(o: CheckOptions, out: (line?: string) => void, env: Record<string, string | undefined> = process.env): Promise<number> {
  let config: ReturnType<typeof loadConfig> | undefined;
  try {
    config = loadConfig(env);
  } catch {
    config = undefined;
  }
  const dataDir = resolve(o.data ?? config?.dataDir ?? "./data");
  if (!(await stat(dataDir).then((s) => s.isDirectory(), () => false))) throw new CheckError(`no data directory ${dataDir}`, CHECK_EXIT.usage);
  const deploymentFile = o.deployment ?? join(dataDir, "deployment.json");
  const deployment = o.rpc ? await readDeployment(deploymentFile).catch(() => undefined) : undefined;
  if (o.rpc && !deployment) throw new CheckError(`--rpc needs the deployment file (contract addresses): ${deploymentFile} is missing or unreadable (--deployment FILE)`, CHECK_EXIT.usage);
  const keystore = o.data || !config ? join(dataDir, "keys", "operator.json") : config.keystore;
  const operator = await operatorAddress(keystore);
  let report: StoreCheckReport;
  try {
    report = await checkDataDir(dataDir, { rpcUrl: o.rpc, deployment, logCode: o.log ?? config?.logCode, operator, deep: !o.quick });
  } catch (err) {
    if (err instanceof StoreUnreadableError) throw new CheckError(err.message, CHECK_EXIT.usage);
    throw err;
  }
  const code = report.problems.length > 0 ? CHECK_EXIT.problems : report.chain.checked ? CHECK_EXIT.ok : CHECK_EXIT.chainNotChecked;
  if (o.json) {
    out(JSON.stringify({ ...report, dataDir, exitCode: code }, null, 2));
    return code;
  }
  const failed = new Set<string>(report.problems.map((p) => p.code));
  const mark = (codes: string[]) => (codes.some((c) => failed.has(c)) ? "✘" : "✔");
  out(`store ${join(dataDir, "node")}: ${report.size} entries${report.root ? `, root ${report.root}` : ""}`);
  out(`${mark(["STORE_CORRUPT", "STORE_LEAF_MISMATCH", "STORE_NODE_MISMATCH"])} the store against itself: ${report.deep.checked ? `every entry and stored hash recomputed (${report.deep.entries} entries)` : "committed size, the tree's border and the last entries (--quick)"}`);
  if (report.checkpoint) out(`${mark(["STORE_BEHIND_CHECKPOINT", "CHECKPOINT_MISMATCH", "CHECKPOINT_SIGNATURE_INVALID"])} the checkpoint the node last signed: size ${report.checkpoint.size}, root ${report.checkpoint.root}, signer ${report.checkpoint.signer}${operator ? "" : " (no operator keystore found: any valid signer accepted)"}`);
  else out(`– no signed checkpoint recorded in the store${report.size > 0 ? " (a store from before checkpoints were recorded, or one whose node never anchored)" : ""}`);
  if (report.chain.checked) out(`${mark(["STORE_EMPTY_BUT_ANCHORED", "STORE_BEHIND_ANCHOR", "STORE_ROOT_MISMATCH"])} the chain's latest anchor of the log: size ${report.chain.anchored.size}${report.chain.anchored.size ? `, root ${report.chain.anchored.root}` : " (nothing anchored yet)"}`);
  else out(`– the chain part was NOT checked: ${o.rpc ? report.chain.reason : "no --rpc given (offline)"}`);
  for (const p of report.problems) out(`✘ ${p.code}: ${p.message}`);
  out(
    code === CHECK_EXIT.ok ? "ok: the store is the log this node signed and anchored"
      : code === CHECK_EXIT.chainNotChecked ? "the store holds as far as checked; its agreement with the chain was NOT established"
        : "PROBLEMS: the node would refuse to serve this store; restore it from a backup (dcl restore)",
  );
  return code;
}
