/**
 * Reads a trust root (trust-root.ts) off the chain: from one pinned registry address, the
 * deployment it records, and its history replayed from events between the registry's deployment
 * block and the chosen block — signers added and removed, departments activated and deactivated,
 * roles granted and revoked, logs registered. Nothing is taken from a node or a bundle.
 */
import { JsonRpcProvider, ZeroAddress, type EventLog, type Log } from "ethers";
import { makeProvider } from "../chain/client";
import { DepartmentRegistry__factory, LogAnchors__factory } from "../../typechain-types";
import { ROLES } from "../chain/ids";
import { TRUST_ROOT_VERSION, parseTrustRoot, type ChainPoint, type Interval, type TrustRoot } from "./trust-root";

/** Blocks per eth_getLogs call: providers limit the range of one query. */
const LOG_RANGE = 50_000;

const ROLE_NAMES = new Map<string, string>([
  [ROLES.governor, "GOVERNOR"],
  [ROLES.regulator, "REGULATOR"],
  [ROLES.exchange, "EXCHANGE"],
  ["0x" + "00".repeat(32), "DEFAULT_ADMIN"],
]);

/** Options of exportTrustRoot. */
export interface ExportOptions {
  /** The block to take the root at (default: the latest). */
  block?: number;
}

type Ev = EventLog & { point?: ChainPoint };

/** The trust root of the deployment whose registry is `registry`, as the chain says at `opts.block`. */
export async function exportTrustRoot(provider: JsonRpcProvider, registryAddress: string, opts: ExportOptions = {}): Promise<TrustRoot> {
  const { chainId } = await provider.getNetwork();
  const head = opts.block ?? (await provider.getBlockNumber());
  const at = await provider.getBlock(head);
  if (!at?.hash) throw new Error(`block ${head} is not on the chain at the RPC`);
  if ((await provider.getCode(registryAddress, head)) === "0x") throw new Error(`no contract at ${registryAddress} at block ${head} on chain ${chainId}`);
  const registry = DepartmentRegistry__factory.connect(registryAddress, provider);
  const overrides = { blockTag: head };
  let deployment: Awaited<ReturnType<typeof registry.deployment>>;
  let deployedAtBlock: number;
  try {
    deployment = await registry.deployment(overrides);
    deployedAtBlock = Number(await registry.deployedAtBlock(overrides));
  } catch (err) {
    throw new Error(`${registryAddress} is not a dcl DepartmentRegistry with a deployment record (${(err as Error).message.split(" (")[0]})`);
  }
  if (deployment.catalog === ZeroAddress) throw new Error(`registry ${registryAddress} has no deployment recorded at block ${head}`);
  const anchors = LogAnchors__factory.connect(deployment.anchors, provider);

  const times = new Map<number, number>();
  const pointOf = async (block: number): Promise<ChainPoint> => {
    if (!times.has(block)) {
      const b = await provider.getBlock(block);
      if (!b) throw new Error(`block ${block} is missing at the RPC`);
      times.set(block, b.timestamp);
    }
    return { block, timestamp: times.get(block)! };
  };
  const events = async (contract: typeof registry | typeof anchors, names: string[]): Promise<Ev[]> => {
    const out: Ev[] = [];
    for (let from = deployedAtBlock; from <= head; from += LOG_RANGE) {
      const to = Math.min(head, from + LOG_RANGE - 1);
      for (const name of names) {
        const found = await contract.queryFilter(name as never, from, to);
        out.push(...(found.filter((l: Log) => "eventName" in l) as EventLog[]));
      }
    }
    out.sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index);
    for (const e of out) e.point = await pointOf(e.blockNumber);
    return out;
  };

  const departments = new Map<string, TrustRoot["departments"][number]>();
  const open = (list: Interval[], from: ChainPoint) => list.push({ from, until: null });
  const close = (list: Interval[], until: ChainPoint) => {
    const last = list.at(-1);
    if (last && last.until === null) last.until = until;
  };
  for (const e of await events(registry, ["DepartmentRegistered", "DepartmentActiveSet", "SignerAdded", "SignerRemoved"])) {
    const id = String(e.args[0]).toLowerCase();
    const p = e.point!;
    if (e.eventName === "DepartmentRegistered") {
      departments.set(id, { id, level: Number(e.args[1]), parent: String(e.args[2]).toLowerCase(), registered: p, active: [{ from: p, until: null }], signers: [] });
      continue;
    }
    const d = departments.get(id);
    if (!d) throw new Error(`event ${e.eventName} of department ${id} before its registration (block ${e.blockNumber})`);
    if (e.eventName === "DepartmentActiveSet") {
      if (e.args[1]) {
        if (d.active.at(-1)?.until !== null) open(d.active, p);
      } else close(d.active, p);
    } else {
      const signer = String(e.args[1]).toLowerCase();
      const mine = d.signers.filter((s) => s.address === signer);
      if (e.eventName === "SignerAdded") d.signers.push({ address: signer, from: p, until: null });
      else close(mine, p);
    }
  }

  const roles: TrustRoot["roles"] = [];
  for (const e of await events(registry, ["RoleGranted", "RoleRevoked"])) {
    const roleId = String(e.args[0]).toLowerCase();
    const account = String(e.args[1]).toLowerCase();
    if (e.eventName === "RoleGranted") {
      roles.push({ role: ROLE_NAMES.get(roleId) ?? roleId, roleId, account, from: e.point!, until: null });
    } else {
      const held = roles.filter((r) => r.roleId === roleId && r.account === account && r.until === null).at(-1);
      if (held) held.until = e.point!;
    }
  }

  const logs: TrustRoot["logs"] = [];
  for (const e of await events(anchors, ["LogRegistered"])) {
    logs.push({ logId: String(e.args[0]).toLowerCase(), operator: String(e.args[1]).toLowerCase(), registered: e.point! });
  }

  const lower = (s: string) => s.toLowerCase();
  // Parsing our own output checks it against the published schema before anyone relies on it.
  return parseTrustRoot({
    version: TRUST_ROOT_VERSION,
    chainId: chainId.toString(),
    registry: lower(registryAddress),
    contracts: {
      registry: lower(registryAddress), catalog: lower(deployment.catalog), anchors: lower(deployment.anchors),
      agreements: lower(deployment.agreements), consents: lower(deployment.consents), transfers: lower(deployment.transfers),
    },
    deployedAtBlock,
    takenAt: { block: head, hash: at.hash.toLowerCase(), timestamp: at.timestamp },
    departments: [...departments.values()],
    roles,
    logs,
  });
}

/** A provider for `rpcUrl` on whatever chain it serves (asked once, then fixed). */
export async function connectRpc(rpcUrl: string): Promise<JsonRpcProvider> {
  const probe = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true, batchMaxCount: 1 });
  try {
    const chainId = BigInt(await probe.send("eth_chainId", []));
    return makeProvider(rpcUrl, chainId);
  } finally {
    probe.destroy();
  }
}
