/**
 * A local JSON-RPC chain in its own process: Foundry's anvil, from the npm package
 * `@foundry-rs/anvil` (the binary ships inside the platform package, nothing is downloaded). Used by
 * the embedded default (loading a state the node writes, so the chain survives restarts) and the
 * integration tests.
 * The binary is started directly, not through its npm wrapper, so stopping our child stops anvil.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { request } from "node:http";
import { promisify } from "node:util";
import { gunzip } from "node:zlib";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { JsonRpcProvider, Network } from "ethers";
import { writeFileWhole } from "../runtime/whole-file";

const gunzipAsync = promisify(gunzip);

/** Where anvil listens and what it keeps. */
export interface AnvilOptions {
  port?: number;
  chainId?: number;
  /** File to load chain state from at start and dump it to (`--state`). anvil rewrites it in place: a kill -9 mid-dump leaves it cut short. */
  stateFile?: string;
  /** File to load chain state from at start, never written by anvil (`--load-state`); instead of `stateFile`. */
  loadState?: string;
  /** File anvil dumps its state to, every `stateIntervalSeconds` and on SIGTERM (`--dump-state`); instead of `stateFile`. */
  dumpState?: string;
  /** Seconds between state dumps while running (`--state-interval`), so a kill -9 loses little. */
  stateIntervalSeconds?: number;
  /** Seconds per block when not auto-mining only on transactions. */
  blockTime?: number;
  /** Run anvil in its own process group, so that it outlives a kill of this process (the embedded default). */
  detached?: boolean;
}

/** Path of the anvil binary for this platform. */
export function anvilBinary(): string {
  const arch = { x64: "amd64", arm64: "arm64" }[process.arch as string] ?? process.arch;
  const pkg = `@foundry-rs/anvil-${process.platform}-${arch}/package.json`;
  return join(dirname(require.resolve(pkg)), "bin", "anvil");
}

/** anvil exited before it answered. */
class AnvilExitedError extends Error {}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** A running anvil process. */
export class Anvil {
  private child?: ChildProcess;
  private output = "";

  private constructor(
    readonly port: number,
    readonly options: AnvilOptions,
  ) {}

  /** JSON-RPC URL of this node. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts anvil and waits until it answers JSON-RPC. */
  static async start(options: AnvilOptions = {}): Promise<Anvil> {
    const anvil = new Anvil(options.port ?? (await freePort()), options);
    await anvil.restart();
    return anvil;
  }

  /**
   * Starts (again) on the same port and state file. An anvil that exits at once is started again a few
   * times with a growing pause: after a kill -9 the port can still be held for a moment by the process
   * being reaped (anvil exits 1, "Address already in use"), which is no reason to fail a start. (Exit 2
   * is a refused argument, such as a state file that is not whole JSON; a retry does not change that.)
   */
  async restart(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.startOnce();
      } catch (err) {
        if (!(err instanceof AnvilExitedError) || attempt >= 5) throw err;
        await new Promise((r) => setTimeout(r, 400 * attempt));
      }
    }
  }

  private async startOnce(): Promise<void> {
    const o = this.options;
    const args = ["--host", "127.0.0.1", "--port", String(this.port), "--chain-id", String(o.chainId ?? 31337)];
    if (o.stateFile) args.push("--state", o.stateFile);
    if (o.loadState) args.push("--load-state", o.loadState);
    if (o.dumpState) args.push("--dump-state", o.dumpState);
    if (o.stateFile || o.dumpState) args.push("--state-interval", String(o.stateIntervalSeconds ?? 1));
    if (o.blockTime) args.push("--block-time", String(o.blockTime));
    this.output = "";
    const child = o.detached
      ? spawn(anvilBinary(), args, { stdio: "ignore", detached: true })
      : spawn(anvilBinary(), args, { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout?.on("data", (d) => (this.output = (this.output + d).slice(-4000)));
    child.stderr?.on("data", (d) => (this.output = (this.output + d).slice(-4000)));
    if (o.detached) child.unref();
    this.child = child;
    const network = Network.from(o.chainId ?? 31337);
    const provider = new JsonRpcProvider(this.url, network, { staticNetwork: network });
    try {
      for (let i = 0; i < 200; i++) {
        if (child.exitCode !== null) throw new AnvilExitedError(`anvil exited with ${child.exitCode}: ${this.output}`);
        try {
          await provider.send("eth_chainId", []);
          return;
        } catch {
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      throw new Error(`anvil did not answer on ${this.url}: ${this.output}`);
    } finally {
      provider.destroy();
    }
  }

  /** Stops anvil: SIGTERM (it dumps its state) or SIGKILL (an outage or crash), and waits for the exit. */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.ref(); // a detached child is unref'd: keep the event loop alive until it has exited
    child.kill(signal);
    await exited;
    this.child = undefined;
  }

  /** The last lines anvil printed (for error messages). */
  log(): string {
    return this.output;
  }

  /** PID of the running anvil process, if started by this object. */
  get pid(): number | undefined {
    return this.child?.pid;
  }
}

/**
 * Writes the chain state of the anvil at `url` to `file` now (atomically: temp file, fsync, rename),
 * in the format `--state` loads. The embedded default calls this after every acknowledged
 * transaction, so that even a kill -9 of anvil itself loses nothing that was acknowledged.
 *
 * Fetched with node:http and parsed with JSON.parse, not through an ethers provider: the dump is a
 * ~220 kB hex string, which ethers decodes code point by code point in JavaScript — 40 ms of the
 * main thread per mined transaction against 3 ms this way (a 660 kB state, /tmp bench on this
 * machine), about 5 % of a loaded node's main thread with an anchor every 5 s. Unzipped off the
 * main thread too (zlib's thread pool).
 */
export async function persistAnvilState(url: string, file: string): Promise<void> {
  const hex = await rpcCall<string>(url, "anvil_dumpState", []);
  await writeFileWhole(file, await gunzipAsync(Buffer.from(hex.slice(2), "hex")));
}

/** The latest block number of the chain at `url` (one call on a connection of its own). */
export async function anvilBlockNumber(url: string): Promise<number> {
  return Number(await rpcCall<string>(url, "eth_blockNumber", []));
}

/** One JSON-RPC call to `url` on a connection of its own (none left open to keep the process alive). */
function rpcCall<T>(url: string, method: string, params: unknown[]): Promise<T> {
  const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method, params });
  return new Promise<T>((resolve, reject) => {
    const req = request(url, { method: "POST", agent: false, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () => {
        try {
          const text = Buffer.concat(chunks).toString("utf8");
          if (res.statusCode !== 200) throw new Error(`${method}: HTTP ${res.statusCode} ${text.slice(0, 200)}`);
          const answer = JSON.parse(text) as { result?: T; error?: { code: number; message: string } };
          if (answer.error) throw new Error(`${method}: ${answer.error.message} (${answer.error.code})`);
          resolve(answer.result as T);
        } catch (err) {
          reject(err);
        }
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}
