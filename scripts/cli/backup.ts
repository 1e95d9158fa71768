/**
 * `dcl backup DIR` and `dcl restore DIR --data DATA`.
 *
 * Backup: the running node holds its LevelDB locked, so the copy is made by the node itself — the CLI
 * asks `GET /v1/operator/backup`, signed with the node's operator key, and writes the stream (one
 * snapshot of the whole store, node/backup/store-snapshot.ts) into `DIR/node`, a new LevelDB. A node
 * that does not answer may be stopped: then the store is opened and copied directly (it is not locked).
 * Then the secrets and files the store needs that are not in it: the operator keystore (and, on the
 * embedded default, the password file), the subject pepper, the demo departments' keystores, the
 * deployment file, and on the embedded default the chain's state; each copied (mode 0600 for secrets)
 * or, when it is not a file this CLI can read, named as something to keep. `DIR/manifest.json` lists it all.
 *
 * Restore: into a STOPPED node's data directory (the store must not be locked): `DIR/node` becomes
 * `DATA/node`, and each kept file goes back where the configuration looks for it, when absent there.
 * A store or a different file already there is refused without --force; with --force it is moved aside
 * (`*.before-restore-<time>`), never deleted. The chain's state is restored only with --with-chain.
 */
import { createHash } from "node:crypto";
import { chmod, copyFile, cp, mkdir, readdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import type { Wallet } from "ethers";
import { Level } from "level";
import { loadConfig, type Config } from "../../api/config";
import { DclClient } from "../../api/client";
import { codeId } from "../../node/chain/ids";
import { isEmptyDir, readLog, snapshotStream, writeSnapshot, type SnapshotSummary } from "../../node/backup/store-snapshot";
import { loadKeystore, readPassword } from "../../node/keys/keystore";
import { readDeployment } from "../../node/runtime/deployment";
import { checkDataDir, describeReport, type StoreCheckReport } from "../../node/integrity/store-check";

/** An error that ends the command with an exit code (1: failed, 2: bad usage). */
export class BackupError extends Error {
  constructor(message: string, readonly exitCode: number) {
    super(message);
  }
}

/** One file the store needs beside it. */
export interface KeptFile {
  /** What it is, for a person. */
  what: string;
  /** Path inside the backup directory (absent: not copied, see `keep`). */
  path?: string;
  /** Where it was read from. */
  source: string;
  sha256?: string;
  secret: boolean;
  /** Set when the file was not copied: what the operator must keep instead. */
  keep?: string;
}

/** DIR/manifest.json. */
export interface BackupManifest {
  format: "dcl-backup/1";
  takenAt: string;
  /** How the store was read: from the running node over its API, or from a stopped node's directory. */
  via: { api: string } | { dataDir: string };
  dataDir: string;
  store: SnapshotSummary & { path: "node" };
  deployment?: { chainId: number | string; registry: string; logCode: string };
  files: KeptFile[];
}

const sha256 = (bytes: Uint8Array) => "0x" + createHash("sha256").update(bytes).digest("hex");

/** The configuration for data directory `data` (the environment's settings otherwise). */
export function configFor(data: string | undefined, env: Record<string, string | undefined>): Config {
  return loadConfig(data ? { ...env, DCL_DATA_DIR: data } : env);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

/** Whether the LevelDB at `dir` is held by a running process (its LOCK taken). */
async function storeLocked(dir: string): Promise<boolean> {
  const db = new Level(dir, { createIfMissing: false });
  try {
    await db.open();
    await db.close();
    return false;
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    return cause?.code === "LEVEL_LOCKED" || /lock/i.test(String((err as Error).message) + String((cause as Error | undefined)?.message));
  }
}

/** The operator's keystore password: DCL_KEYSTORE_PASSWORD(_FILE), else the embedded default's `<data>/keys/password`. */
async function operatorPassword(config: Config): Promise<{ password: string; file?: string }> {
  if (config.password.password) return { password: config.password.password };
  if (config.password.passwordFile) return { password: await readPassword(config.password), file: config.password.passwordFile };
  const file = join(config.dataDir, "keys", "password");
  return { password: await readPassword({ passwordFile: file }), file };
}

/** Copies `source` into the backup at `path`; records it (mode 0600 when secret). */
async function keep(backupDir: string, files: KeptFile[], what: string, source: string, path: string, secret: boolean): Promise<void> {
  let bytes: Buffer;
  try {
    bytes = await readFile(source);
  } catch (err) {
    files.push({ what, source, secret, keep: `could not be read here (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): back it up yourself` });
    return;
  }
  const target = join(backupDir, path);
  await mkdir(dirname(target), { recursive: true, mode: 0o700 });
  await writeFile(target, bytes, { mode: secret ? 0o600 : 0o644, flag: "wx" });
  files.push({ what, source, path, sha256: sha256(bytes), secret });
}

/** `dcl backup DIR`: a consistent copy of the node's store and the files it needs; returns the manifest. */
export async function backup(dir: string, o: { api?: string; data?: string }, env: Record<string, string | undefined>, say: (line: string) => void): Promise<BackupManifest> {
  const backupDir = resolve(dir);
  if (!(await isEmptyDir(backupDir))) throw new BackupError(`${backupDir} is not empty: a backup goes into a new directory`, 2);
  const config = configFor(o.data, env);
  const api = o.api ?? config.apiUrl;
  const deployment = await readDeployment(config.deploymentFile);
  await mkdir(backupDir, { recursive: true, mode: 0o700 });
  const storeDir = join(backupDir, "node");

  let store: SnapshotSummary;
  let via: BackupManifest["via"];
  const up = await fetch(api + "/healthz").then(() => true, () => false);
  if (up) {
    if (!deployment) throw new BackupError(`no deployment file ${config.deploymentFile}: the request is signed for the deployment's chain and registry (pass --data)`, 2);
    const { password } = await operatorPassword(config).catch((err: Error) => {
      throw new BackupError(`${err.message}: the backup request is signed with the operator key ${config.keystore}`, 2);
    });
    const operator = (await loadKeystore(config.keystore, password)) as Wallet;
    const client = new DclClient({ baseUrl: api, chainId: BigInt(deployment.chainId), registry: deployment.addresses.registry }, codeId(config.operatorDepartment), operator);
    const res = await client.send("GET", "/v1/operator/backup");
    if (!res.ok || !res.body) {
      const body = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
      throw new BackupError(`the node at ${api} refused the backup: ${res.status} ${body.error?.code ?? ""} ${body.error?.message ?? ""}`.trim(), 1);
    }
    say(`reading the store of the node at ${api} (one snapshot) into ${storeDir} ...`);
    store = await writeSnapshot(res.body as unknown as AsyncIterable<Uint8Array>, storeDir);
    via = { api };
  } else {
    const source = join(config.dataDir, "node");
    if (!(await exists(source))) throw new BackupError(`no node answers at ${api} and there is no store at ${source}: pass --api or --data`, 2);
    if (await storeLocked(source)) throw new BackupError(`no node answers at ${api}, but the store ${source} is locked by a running process: pass the node's --api`, 1);
    say(`no node answers at ${api}: copying the stopped node's store ${source} into ${storeDir} ...`);
    const db = new Level(source, { createIfMissing: false });
    await db.open();
    try {
      store = await writeSnapshot(snapshotStream(db as never), storeDir);
    } finally {
      await db.close();
    }
    via = { dataDir: config.dataDir };
  }

  const files: KeptFile[] = [];
  await keep(backupDir, files, "operator keystore (encrypted; signs checkpoints, receipts, anchors and relays)", config.keystore, "keys/operator.json", true);
  const pw = await operatorPassword(config).catch(() => undefined);
  if (pw?.file) await keep(backupDir, files, "operator keystore password file", pw.file, "keys/password", true);
  else files.push({ what: "operator keystore password", source: "DCL_KEYSTORE_PASSWORD", secret: true, keep: "it is in the environment, not a file: keep it with the keystore" });
  await keep(backupDir, files, "subject pepper (without it no ID number finds its subject again)", config.subjectPepperFile, "keys/subject-pepper", true);
  for (const name of (await readdir(join(config.dataDir, "keys", "demo")).catch(() => [])).filter((n) => n.endsWith(".json")).sort()) {
    await keep(backupDir, files, `demo department keystore ${name.slice(0, -5)}`, join(config.dataDir, "keys", "demo", name), `keys/demo/${name}`, true);
  }
  await keep(backupDir, files, "deployment file (contract addresses, first block)", config.deploymentFile, "deployment.json", false);
  if (config.embeddedChain) {
    // After the store's snapshot: the chain copy is never older than the store (see the README's "Restore from backup").
    await keep(backupDir, files, "embedded chain state (anvil --state), taken after the store", join(config.dataDir, "chain", "state.json"), "chain/state.json", false);
  } else {
    files.push({ what: "the chain", source: config.rpcUrl, secret: false, keep: "an external chain keeps its own state: nothing to copy" });
  }

  const manifest: BackupManifest = {
    format: "dcl-backup/1",
    takenAt: new Date().toISOString(),
    via,
    dataDir: config.dataDir,
    store: { ...store, path: "node" },
    ...(deployment && { deployment: { chainId: deployment.chainId, registry: deployment.addresses.registry, logCode: config.logCode } }),
    files,
  };
  await writeFile(join(backupDir, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n", { mode: 0o600 });
  say(`store: ${store.keys} keys, ${store.bytes} bytes (SHA-256 ${store.sha256}); log of ${store.logSize} entries, root ${store.logRoot}`);
  for (const f of files) say(f.path ? `  kept ${f.path.padEnd(34)} ${f.what}${f.secret ? " [secret, 0600]" : ""}` : `  NOT copied: ${f.what} (${f.source}): ${f.keep}`);
  say(`backup written to ${backupDir}; it holds secrets (keys, pepper, subject secrets in the store): store it encrypted, access-controlled`);
  return manifest;
}

/** Moves `path` aside to `path.before-restore-<stamp>`; returns the new name. */
async function moveAside(path: string, stamp: string): Promise<string> {
  const aside = `${path}.before-restore-${stamp}`;
  await rename(path, aside);
  return aside;
}

/** Where each kept file of a backup goes back, for the configuration of the data directory. */
function targetOf(config: Config, path: string): string {
  if (path === "keys/operator.json") return config.keystore;
  if (path === "keys/password") return config.password.passwordFile ?? join(config.dataDir, "keys", "password");
  if (path === "keys/subject-pepper") return config.subjectPepperFile;
  if (path === "deployment.json") return config.deploymentFile;
  return join(config.dataDir, path);
}

/** `dcl restore DIR --data DATA`: the backup's store and files into a stopped node's data directory. */
export async function restore(dir: string, o: { data?: string; force?: boolean; withChain?: boolean; rpc?: string }, env: Record<string, string | undefined>, say: (line: string) => void): Promise<{ manifest: BackupManifest; logSize: number; logRoot: string; check: StoreCheckReport }> {
  const backupDir = resolve(dir);
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(await readFile(join(backupDir, "manifest.json"), "utf8")) as BackupManifest;
  } catch (err) {
    throw new BackupError(`${backupDir} is not a dcl backup (manifest.json: ${(err as Error).message})`, 2);
  }
  if (manifest.format !== "dcl-backup/1") throw new BackupError(`${backupDir}: unknown backup format ${manifest.format}`, 2);
  const config = configFor(o.data, env);
  const { logSize, logRoot } = await readLog(join(backupDir, "node")).catch((err: Error) => {
    throw new BackupError(`the backup's store ${join(backupDir, "node")} does not open: ${err.message}`, 1);
  });
  if (logSize !== manifest.store.logSize || logRoot !== manifest.store.logRoot) {
    throw new BackupError(`the backup's store holds a log of ${logSize} entries, root ${logRoot}; its manifest says ${manifest.store.logSize}, ${manifest.store.logRoot}: altered`, 1);
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const target = join(config.dataDir, "node");
  const conflicts: string[] = [];
  if (!(await isEmptyDir(target))) {
    if (await storeLocked(target)) throw new BackupError(`the store ${target} is in use by a running node: stop it first (restore goes into a stopped node's data directory)`, 1);
    conflicts.push(target);
  }
  const plan: { from: string; to: string; secret: boolean }[] = [];
  for (const f of manifest.files) {
    if (!f.path) continue;
    if (f.path === "chain/state.json" && !o.withChain) continue;
    const from = join(backupDir, f.path);
    const to = targetOf(config, f.path);
    const current = await readFile(to).catch(() => undefined);
    if (current && sha256(current) === f.sha256) continue; // already the same
    if (current) conflicts.push(to);
    plan.push({ from, to, secret: f.secret });
  }
  // anvil's own dump of the chain being replaced: a start would take it over the restored state when it is further along.
  const anvilDump = join(config.dataDir, "chain", "anvil-dump.json");
  if (o.withChain && manifest.files.some((f) => f.path === "chain/state.json") && (await exists(anvilDump))) conflicts.push(anvilDump);
  if (o.withChain) {
    const pid = Number((await readFile(join(config.dataDir, "chain", "anvil.pid"), "utf8").catch(() => "")).trim());
    if (pid > 0 && (() => { try { process.kill(pid, 0); return true; } catch { return false; } })()) {
      throw new BackupError(`the embedded chain of ${config.dataDir} is running (anvil pid ${pid}): stop the node and its chain before restoring the chain's state`, 1);
    }
  }
  if (conflicts.length && !o.force) {
    throw new BackupError(`restore would replace ${conflicts.join(", ")}: pass --force to move them aside (*.before-restore-${stamp}); nothing was changed`, 1);
  }
  for (const c of conflicts) say(`  moved aside: ${await moveAside(c, stamp)}`);
  await mkdir(config.dataDir, { recursive: true });
  await cp(join(backupDir, "node"), target, { recursive: true, errorOnExist: true, force: false });
  say(`restored the store into ${target}: log of ${logSize} entries, root ${logRoot} (backup of ${manifest.takenAt})`);
  for (const p of plan) {
    await mkdir(dirname(p.to), { recursive: true, mode: 0o700 });
    await copyFile(p.from, p.to);
    if (p.secret) await chmod(p.to, 0o600);
    say(`  restored ${relative(backupDir, p.from).padEnd(34)} → ${p.to}`);
  }
  for (const f of manifest.files) if (!f.path) say(`  not in the backup: ${f.what} (${f.source}): ${f.keep}`);
  if (!o.withChain && manifest.files.some((f) => f.path === "chain/state.json")) say("  the chain's state was left as it is (pass --with-chain only when the chain's own state was lost too)");
  // The start-up check, run now: the store against itself, its signed checkpoint and, if the chain answers, its latest anchor.
  const deployment = await readDeployment(config.deploymentFile);
  const operator = await readFile(targetOf(config, "keys/operator.json"), "utf8").then((t) => "0x" + String((JSON.parse(t) as { address?: string }).address ?? "").replace(/^0x/, ""), () => undefined);
  const check = await checkDataDir(config.dataDir, {
    ...(deployment && { rpcUrl: o.rpc ?? config.rpcUrl, deployment }), logCode: config.logCode, operator: operator && operator.length === 42 ? operator : undefined, timeoutMs: 5000,
  });
  say(describeReport(check, `the restored store ${target}`));
  if (check.ok && !check.chain.checked) say(`the chain was not checked (${check.chain.reason}): with the chain up, run dcl check --data ${config.dataDir} --rpc URL before npm start`);
  else if (check.ok) say("next: npm start");
  return { manifest, logSize, logRoot, check };
}
