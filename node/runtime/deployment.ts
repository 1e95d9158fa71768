/**
 * The deployment record (`<data>/deployment.json`): chain id, contract addresses, the first block
 * to index, and the log this node operates. Written once by the deploy step; read at every start,
 * and checked against the chain (a chain that lost our contracts is an error, never a redeploy).
 */
import { readFile } from "node:fs/promises";
import { ethers, type Provider, type Signer } from "ethers";
import { addressesOf, connectDcl, deployDcl, type DclAddresses } from "../chain/deploy";
import { codeId, DepartmentLevel, ROLES } from "../chain/ids";
import { GovernanceCouncil__factory } from "../../typechain-types";
import { writeFileWhole } from "./whole-file";

/** What a deployment file holds. */
export interface Deployment {
  chainId: string;
  addresses: DclAddresses;
  startBlock: number;
  deployedAt: string;
  /** The governance council holding the registry's GOVERNOR and admin roles, when the deploy handed them over. */
  council?: { address: string; members: string[]; threshold: number };
}

/** Reads the deployment file, or undefined when absent; a file that is not whole JSON is an error naming it. */
export async function readDeployment(file: string): Promise<Deployment | undefined> {
  const text = await readFile(file, "utf8").catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as Deployment;
  } catch (err) {
    throw new Error(`deployment file ${file} is not whole JSON (${(err as Error).message}; ${text.length} bytes): restore it from a backup (dcl restore), or move it aside to deploy anew`);
  }
}

/** Writes the deployment file whole (node/runtime/whole-file.ts); with `overwrite: false` an existing file is an error (EEXIST), never replaced. */
export async function writeDeployment(file: string, d: Deployment, options: { overwrite?: boolean } = {}): Promise<void> {
  await writeFileWhole(file, JSON.stringify(d, null, 2) + "\n", { exclusive: options.overwrite === false });
}

/** Throws when the chain at `provider` does not hold the contracts of `d`. */
export async function checkDeployment(provider: Provider, d: Deployment): Promise<void> {
  const { chainId } = await provider.getNetwork();
  if (chainId.toString() !== d.chainId) throw new Error(`deployment is for chain ${d.chainId}, the RPC serves chain ${chainId}`);
  for (const [name, address] of Object.entries(d.addresses)) {
    if ((await provider.getCode(address)) === "0x") {
      throw new Error(`no ${name} contract at ${address} on chain ${chainId}: the chain lost its state, or the deployment file belongs to another chain`);
    }
  }
}

/**
 * Deploys dcl with `deployer` as governor, registers the operating department `operatorCode`
 * (city level) with the deployer as its signer, and registers log `logCode` to it.
 */
export async function deployAndRegister(
  deployer: Signer,
  operatorCode: string,
  logCode: string,
  council?: { members: string[]; threshold: number },
): Promise<Deployment> {
  const provider = deployer.provider!;
  const startBlock = (await provider.getBlockNumber()) + 1;
  const governor = await deployer.getAddress();
  const contracts = await deployDcl(deployer, governor);
  const addresses = await addressesOf(contracts);
  const c = connectDcl(addresses, deployer);
  await (await c.registry.registerDepartment(codeId(operatorCode), DepartmentLevel.City, ethers.ZeroHash, [governor])).wait();
  await (await c.anchors.registerLog(codeId(logCode), codeId(operatorCode))).wait();
  const { chainId } = await provider.getNetwork();
  const deployment: Deployment = { chainId: chainId.toString(), addresses, startBlock, deployedAt: new Date().toISOString() };
  if (!council) return deployment; // the embedded default: the operator key is a council of one
  // A real deployment: hand governance to the council, and the node's key keeps none of it.
  const gc = await new GovernanceCouncil__factory(deployer).deploy(council.members, council.threshold);
  await gc.waitForDeployment();
  const at = await gc.getAddress();
  const admin = await c.registry.DEFAULT_ADMIN_ROLE();
  await (await c.registry.grantRole(ROLES.governor, at)).wait();
  await (await c.registry.grantRole(admin, at)).wait();
  await (await c.registry.renounceRole(ROLES.governor, governor)).wait();
  await (await c.registry.renounceRole(admin, governor)).wait();
  return { ...deployment, council: { address: at.toLowerCase(), members: council.members.map((m) => m.toLowerCase()), threshold: council.threshold } };
}
