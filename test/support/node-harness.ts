/**
 * A ledger node on a separately started anvil chain, with the demo departments registered: the
 * operator key is the governor and the big-data bureau's signer (as in the embedded default).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ethers, Wallet } from "ethers";
import { Anvil } from "../../node/chain/anvil";
import { addressesOf, deployDcl, type DclAddresses } from "../../node/chain/deploy";
import { codeId, DepartmentLevel, ROLES, SharingCondition } from "../../node/chain/ids";
import { makeProvider } from "../../node/chain/client";
import { LedgerNode } from "../../node/ledger-node";

export const D = {
  bigdata: codeId("cq.bigdata"),
  tax: codeId("cq.tax"),
  water: codeId("cq.water"),
  cad: codeId("cq.cad"),
  civil: codeId("cq.civil"),
  regulator: codeId("cq.regulator"),
  exchange: codeId("cq.wdex"),
};

export const R = {
  waterFees: codeId("res.water.fees"),
  residents: codeId("res.civil.residents"),
  secret: codeId("res.cad.secret"),
};

export type Keys = Record<keyof typeof D, Wallet>;

export interface NodeHarness {
  anvil: Anvil;
  dir: string;
  operator: Wallet;
  keys: Keys;
  addresses: DclAddresses;
  startBlock: number;
  node: LedgerNode;
  reopen(): Promise<LedgerNode>;
  close(): Promise<void>;
}

const randomWallet = () => new Wallet(Wallet.createRandom().privateKey);

/** Starts anvil, deploys, registers the departments, catalog and log, and opens a node. */
export async function startNodeHarness(opts: { anchorIntervalMs?: number } = {}): Promise<NodeHarness> {
  const dir = await mkdtemp(join(tmpdir(), "dcl-node-"));
  const anvil = await Anvil.start({ stateFile: join(dir, "chain.json") });
  const provider = makeProvider(anvil.url, 31337n, 50);
  const operator = randomWallet().connect(provider);
  const keys = Object.fromEntries(Object.keys(D).map((k) => [k, randomWallet()])) as Keys;
  await provider.send("anvil_setBalance", [operator.address, "0x3635C9ADC5DEA00000"]);
  const startBlock = (await provider.getBlockNumber()) + 1;
  const contracts = await deployDcl(operator, operator.address);
  const send = async (tx: Promise<ethers.ContractTransactionResponse>) => (await tx).wait();
  const reg = contracts.registry;
  await send(reg.registerDepartment(D.bigdata, DepartmentLevel.City, ethers.ZeroHash, [operator.address, keys.bigdata.address]));
  for (const k of ["tax", "water", "cad", "civil", "regulator", "exchange"] as const) {
    await send(reg.registerDepartment(D[k], DepartmentLevel.City, ethers.ZeroHash, [keys[k].address]));
  }
  await send(reg.grantRole(ROLES.regulator, keys.regulator.address));
  await send(reg.grantRole(ROLES.exchange, keys.exchange.address));
  await send(contracts.catalog.registerResource(R.waterFees, D.water, ethers.id("schema:water-fees"), SharingCondition.Conditional, false));
  await send(contracts.catalog.registerResource(R.residents, D.civil, ethers.id("schema:residents"), SharingCondition.Conditional, true));
  await send(contracts.catalog.registerResource(R.secret, D.cad, ethers.id("schema:secret"), SharingCondition.NotShareable, false));
  await send(contracts.anchors.registerLog(codeId("log.test"), D.bigdata));
  const addresses = await addressesOf(contracts);
  provider.destroy();

  const open = async () => {
    const node = await LedgerNode.open({
      dataDir: join(dir, "node-data"), rpcUrl: anvil.url, chainId: 31337n, addresses, startBlock,
      operator: new Wallet(operator.privateKey), logCode: "log.test", anchorIntervalMs: opts.anchorIntervalMs ?? 3_600_000,
      anchorEveryEntries: 1_000_000, confirmations: 0, indexerPollMs: 100,
    });
    await node.indexer.syncOnce();
    return node;
  };
  const h: NodeHarness = {
    anvil, dir, operator: new Wallet(operator.privateKey), keys, addresses, startBlock, node: await open(),
    async reopen() {
      await h.node.close();
      h.node = await open();
      return h.node;
    },
    async close() {
      await h.node.close();
      await anvil.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return h;
}

/** Signs EIP-712 typed data as served by the node (domain chainId as a string). */
export function signTyped(wallet: Wallet, td: { domain: Record<string, unknown>; types: Record<string, { name: string; type: string }[]>; message: Record<string, unknown> }): Promise<string> {
  return wallet.signTypedData(td.domain as ethers.TypedDataDomain, td.types, td.message);
}
