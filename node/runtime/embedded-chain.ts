/**
 * The embedded default's chain: an anvil node on 127.0.0.1 whose state lives in `<data>/chain/`.
 *
 * Survives restarts: anvil starts from `state.json` (`--load-state`), which only the node writes,
 * always whole (temporary file, fsync, rename: persistAnvilState), after every transaction it
 * acknowledges and at stop; so a kill -9 of anvil loses nothing acknowledged. anvil itself dumps to
 * `anvil-dump.json` every second and on SIGTERM (`--dump-state`), in place: a kill -9 in the middle
 * of one leaves that file cut short, which is why the chain never starts from it directly (anvil
 * refuses such a file, exit 2). A start takes anvil's dump instead of `state.json` only when it is
 * whole and further along (blocks mined by others while the node was not writing).
 *
 * The indexer applies no block beyond the last one the node wrote (`durableBlock`; it writes the
 * state first when the head is further): what a kill -9 of both loses, anvil mines again after the
 * restart with other hashes, which an index that had applied the lost blocks would refuse as a reorg
 * deeper than its confirmations.
 *
 * anvil runs as its own process and outlives a kill -9 of the node; its pid is kept in `anvil.pid`,
 * and a restart adopts a running anvil that answers on the port with our chain id instead of
 * starting a second one.
 */
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { JsonRpcProvider, Network } from "ethers";
import { Anvil, anvilBlockNumber, persistAnvilState } from "../chain/anvil";
import { writeFileWhole } from "./whole-file";
import { coalesced } from "./coalesced";

/** A running embedded chain. */
export interface EmbeddedChain {
  url: string;
  /** What the chain starts from; only the node writes it, always whole. */
  stateFile: string;
  /** What anvil dumps to by itself (every second, on SIGTERM), in place. */
  dumpFile: string;
  /** Writes the chain state to disk now. */
  persist(): Promise<void>;
  /** The highest block `stateFile` is known to hold (anvil's own dumps may hold more). */
  durableBlock(): number;
  /** Writes the state and stops anvil (SIGTERM) if this process started or adopted it. */
  stop(): Promise<void>;
}

async function answers(url: string, chainId: bigint): Promise<boolean> {
  const provider = new JsonRpcProvider(url, Network.from(chainId), { staticNetwork: true });
  try {
    return BigInt(await provider.send("eth_chainId", [])) === chainId;
  } catch {
    return false;
  } finally {
    provider.destroy();
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A state file's bytes and latest block; "cut short" when it is not whole JSON with a block number. */
async function readState(file: string): Promise<{ data: Buffer; block: number } | "missing" | "cut short"> {
  const data = await readFile(file).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return undefined;
    throw err;
  });
  if (!data) return "missing";
  try {
    const block = Number((JSON.parse(data.toString("utf8")) as { block?: { number?: unknown } }).block?.number);
    return Number.isSafeInteger(block) ? { data, block } : "cut short";
  } catch {
    return "cut short";
  }
}

/**
 * Makes `stateFile` the state to start from: anvil's dump replaces it when the dump is whole and
 * further along (or the state file is not whole). False when there is no state yet (a new chain).
 */
async function prepareStartingState(stateFile: string, dumpFile: string): Promise<boolean> {
  const [state, dump] = await Promise.all([readState(stateFile), readState(dumpFile)]);
  if (typeof dump === "object" && (typeof state !== "object" || dump.block > state.block)) {
    await writeFileWhole(stateFile, dump.data);
    return true;
  }
  if (state === "cut short") {
    throw new Error(
      `${stateFile} is not whole JSON (cut short while it was written) and ${dumpFile} holds no whole state either: ` +
        "restore the chain directory from a backup, or move it away to start a new chain",
    );
  }
  return state !== "missing";
}

/** Starts (or adopts) the embedded anvil for data directory `dataDir`. */
export async function startEmbeddedChain(dataDir: string, port: number, chainId: bigint): Promise<EmbeddedChain> {
  const dir = join(dataDir, "chain");
  await mkdir(dir, { recursive: true });
  const stateFile = join(dir, "state.json");
  const dumpFile = join(dir, "anvil-dump.json");
  const pidFile = join(dir, "anvil.pid");
  const url = `http://127.0.0.1:${port}`;
  let durable = 0;
  /**
   * Dumps the state, one dump at a time (they share a temporary file), the calls made during a dump
   * sharing the next (a dump's time grows with the chain); every block up to the head read before
   * the dump is in it.
   */
  const persist = coalesced(async () => {
    const head = await anvilBlockNumber(url);
    await persistAnvilState(url, stateFile);
    durable = Math.max(durable, head);
  });
  const durableBlock = () => durable;

  const oldPid = Number((await readFile(pidFile, "utf8").catch(() => "")).trim()) || undefined;
  if (oldPid && alive(oldPid) && (await answers(url, chainId))) {
    // anvil outlived a killed node: adopt it (its state is newer than the file, and now on disk).
    await persist();
    return {
      url, stateFile, dumpFile, persist, durableBlock,
      async stop() {
        await persist().catch(() => undefined);
        process.kill(oldPid, "SIGTERM");
        for (let i = 0; i < 100 && alive(oldPid); i++) await new Promise((r) => setTimeout(r, 50));
        await rm(pidFile, { force: true });
      },
    };
  }
  if (await answers(url, chainId)) {
    throw new Error(`port ${port} already serves chain ${chainId} but not from ${pidFile}: stop it or set DCL_CHAIN_PORT`);
  }
  const loadState = (await prepareStartingState(stateFile, dumpFile)) ? stateFile : undefined;
  const anvil = await Anvil.start({ port, chainId: Number(chainId), loadState, dumpState: dumpFile, stateIntervalSeconds: 1, detached: true });
  await writeFile(pidFile, String(anvil.pid));
  durable = await anvilBlockNumber(url); // what it loaded from the file
  return {
    url, stateFile, dumpFile, persist, durableBlock,
    async stop() {
      await persist().catch(() => undefined);
      await anvil.stop("SIGTERM");
      await rm(pidFile, { force: true });
    },
  };
}
