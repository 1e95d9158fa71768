/**
 * The product as a process, started the way `npm start` starts it: `scripts/start.ts` (through ts-node,
 * as the tests run the TypeScript) or the compiled `dist/scripts/start.js` (exactly `npm start`), on
 * the embedded default in a data directory of the caller's, with the caller's environment on top of
 * this one. Used by the kill -9 tests (test/integration/*-sigkill.test.ts), the backup test and the
 * soak (scripts/soak/), so they all kill, freeze and restart the same thing the same way.
 *
 * Nothing here asserts: a product that exits while starting, or is not ready in time, is an error
 * with the tail of its output.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";

const ROOT = join(__dirname, "..", "..");

/** How the product is started. */
export interface ProductOptions {
  /** The data directory (DCL_DATA_DIR). */
  dataDir: string;
  /** Environment added to this process's (DCL_PORT, DCL_CHAIN_PORT, DCL_LOG_LEVEL ...); DCL_DATA_DIR is set from `dataDir`. */
  env: Record<string, string>;
  /** "source": scripts/start.ts through ts-node (the tests); "dist": dist/scripts/start.js, as `npm start` runs it (built beforehand). */
  entry?: "source" | "dist";
  /** The Node binary (default: the one running this process). */
  nodeBin?: string;
  /** Characters of output kept for error messages (default 8,000). */
  keepOutput?: number;
}

/** The API's base URL for `env` (DCL_HOST / DCL_PORT, as api/config.ts reads them). */
export function productBaseUrl(env: Record<string, string>): string {
  return `http://${env.DCL_HOST ?? "127.0.0.1"}:${env.DCL_PORT ?? "8080"}`;
}

/** The pid in `<data>/chain/anvil.pid`, if any. */
export async function anvilPid(dataDir: string): Promise<number | undefined> {
  const pid = Number((await readFile(join(dataDir, "chain", "anvil.pid"), "utf8").catch(() => "")).trim());
  return pid > 0 ? pid : undefined;
}

/** Whether process `pid` exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** kill -9 of the embedded chain of `dataDir` (its `chain/anvil.pid`), waiting until it is gone; false when none runs. */
export async function killEmbeddedChain(dataDir: string): Promise<boolean> {
  const pid = await anvilPid(dataDir);
  if (!pid || !alive(pid)) return false;
  process.kill(pid, "SIGKILL");
  for (let i = 0; i < 250 && alive(pid); i++) await pause(20);
  return true;
}

/** One start of the product; `start()` again after a kill makes a new one. */
export class ProductProcess {
  child?: ChildProcess;
  /** The tail of the current run's standard output and error. */
  output = "";
  /** How many times the product was started. */
  starts = 0;
  readonly baseUrl: string;

  constructor(readonly options: ProductOptions) {
    this.baseUrl = productBaseUrl(options.env);
  }

  get dataDir(): string {
    return this.options.dataDir;
  }

  /** The running node's pid (undefined when not running). */
  get pid(): number | undefined {
    return this.child && this.child.exitCode === null && this.child.signalCode === null ? this.child.pid : undefined;
  }

  /** Starts the product and resolves once `/readyz` answers 200 (or `/healthz`, with `until: "healthz"`). */
  async start(opts: { until?: "readyz" | "healthz"; timeoutMs?: number } = {}): Promise<void> {
    const entry = this.options.entry ?? "source";
    const args = entry === "dist" ? [join(ROOT, "dist", "scripts", "start.js")] : ["-r", "ts-node/register/transpile-only", "scripts/start.ts"];
    const child = spawn(this.options.nodeBin ?? process.execPath, args, {
      cwd: ROOT,
      env: { ...process.env, ...this.options.env, DCL_DATA_DIR: this.options.dataDir },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const keep = this.options.keepOutput ?? 8000;
    this.output = "";
    child.stdout!.on("data", (d) => (this.output = (this.output + d).slice(-keep)));
    child.stderr!.on("data", (d) => (this.output = (this.output + d).slice(-keep)));
    this.child = child;
    this.starts++;
    const path = opts.until === "healthz" ? "/healthz" : "/readyz";
    const deadline = Date.now() + (opts.timeoutMs ?? 300_000);
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`product exited ${child.exitCode ?? child.signalCode}: ${this.output}`);
      if (await fetch(this.baseUrl + path).then((r) => r.ok, () => false)) return;
      if (Date.now() > deadline) throw new Error(`product not ready (${path}) within ${opts.timeoutMs ?? 300_000} ms: ${this.output}`);
      await pause(100);
    }
  }

  /** Resolves when the current run has exited (at once if it has). */
  async exited(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise((r) => child.once("exit", r));
  }

  /** kill -9 of the node; with `alsoChain`, of its anvil too (`<data>/chain/anvil.pid`), waiting until both are gone. */
  async kill9(alsoChain = false): Promise<void> {
    const done = this.exited();
    this.child?.kill("SIGKILL");
    await done;
    if (alsoChain) await killEmbeddedChain(this.dataDir);
  }

  /** Sends `signal` to the embedded chain's anvil (SIGSTOP freezes it, SIGCONT thaws it); false when there is none. */
  async signalChain(signal: NodeJS.Signals): Promise<boolean> {
    const pid = await anvilPid(this.dataDir);
    if (!pid || !alive(pid)) return false;
    process.kill(pid, signal);
    return true;
  }

  /** Stops the product as Ctrl-C does (SIGINT: it stops its anvil too). */
  async stop(): Promise<void> {
    const done = this.exited();
    if (this.pid) this.child!.kill("SIGINT");
    await done;
  }

  /** Stops everything this product left running: the node (SIGINT, then SIGKILL after `graceMs`) and a left-over anvil (SIGKILL). */
  async cleanUp(graceMs = 30_000): Promise<void> {
    if (this.pid) {
      const done = this.exited();
      this.child!.kill("SIGINT");
      const timer = setTimeout(() => this.child?.kill("SIGKILL"), graceMs);
      await done;
      clearTimeout(timer);
    }
    const pid = await anvilPid(this.dataDir);
    if (pid && alive(pid)) {
      try {
        process.kill(pid, "SIGCONT"); // a frozen anvil would not die of SIGKILL any later, but be sure it is not left stopped
        process.kill(pid, "SIGKILL");
      } catch {
        /* already gone */
      }
    }
  }
}
