/**
 * The embedded default's chain: an anvil node on 127.0.0.1 whose state lives in `<data>/chain/`.
 *
 * Survives restarts: anvil loads `state.json` at start (`--state`), dumps it every second and on
 * SIGTERM, and the node also writes it after every transaction it acknowledges (persistAnvilState),
 * so a kill -9 of anvil loses nothing acknowledged. The indexer applies no block beyond the last one
 * written (`durableBlock`; it writes the state first when the head is further): what a kill -9 of
 * both loses, anvil mines again after the restart with other hashes, which an index that had
 * applied the lost blocks would refuse as a reorg deeper than its confirmations.
 *
 * anvil runs as its own process and outlives a kill -9 of the node; its pid is kept in `anvil.pid`,
 * and a restart adopts a running anvil that answers on the port with our chain id instead of
 * starting a second one.
 */
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { JsonRpcProvider, Network } from "ethers";
import { Anvil, anvilBlockNumber, persistAnvilState } from "../chain/anvil";

/** A running embedded chain. */
export interface EmbeddedChain {
  url: string;
  stateFile: string;
  /** Writes the chain state to disk now. */
  persist(): Promise<void>;
  /** The highest block the state on disk is known to hold (anvil's own periodic dumps may hold more). */
  durableBlock(): number;
  /** Stops anvil (SIGTERM: it dumps its state) if this process started or adopted it. */
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

/** Starts (or adopts) the embedded anvil for data directory `dataDir`. */
export async function startEmbeddedChain(dataDir: string, port: number, chainId: bigint): Promise<EmbeddedChain> {
  const dir = join(dataDir, "chain");
  await mkdir(dir, { recursive: true });
  const stateFile = join(dir, "state.json");
  const pidFile = join(dir, "anvil.pid");
  const url = `http://127.0.0.1:${port}`;
  let durable = 0;
  let writing: Promise<unknown> = Promise.resolve();
  /** Dumps the state, one dump at a time (they share a temporary file); every block up to the head read before the dump is in it. */
  const persist = (): Promise<void> => {
    const run = writing.then(async () => {
      const head = await anvilBlockNumber(url);
      await persistAnvilState(url, stateFile);
      durable = Math.max(durable, head);
    });
    writing = run.catch(() => undefined);
    return run;
  };
  const durableBlock = () => durable;

  const oldPid = Number((await readFile(pidFile, "utf8").catch(() => "")).trim()) || undefined;
  if (oldPid && alive(oldPid) && (await answers(url, chainId))) {
    // anvil outlived a killed node: adopt it (its state is newer than the file, and now on disk).
    await persist();
    return {
      url, stateFile, persist, durableBlock,
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
  const anvil = await Anvil.start({ port, chainId: Number(chainId), stateFile, stateIntervalSeconds: 1, detached: true });
  await writeFile(pidFile, String(anvil.pid));
  durable = await anvilBlockNumber(url); // what it loaded from the file
  return {
    url, stateFile, persist, durableBlock,
    async stop() {
      await persist().catch(() => undefined);
      await anvil.stop("SIGTERM");
      await rm(pidFile, { force: true });
    },
  };
}
