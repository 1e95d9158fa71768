/**
 * `npm run deploy`: deploys dcl to the EVM chain at DCL_RPC_URL, once. Reads the same configuration
 * as `npm start` (api/config.ts): DCL_RPC_URL, DCL_CHAIN_ID, DCL_KEYSTORE with
 * DCL_KEYSTORE_PASSWORD(_FILE), DCL_OPERATOR_DEPARTMENT, DCL_LOG_CODE, DCL_DEPLOYMENT. The operator
 * key becomes the registry's first governor and the only signer of the operating department, which
 * operates the log. The deployment file is written once: an existing one is never overwritten (it
 * is the only record of where this ledger's contracts live).
 *
 * A missing keystore is created (and its address printed) so that a new key can be allowlisted or
 * funded; on a chain that charges for gas the script stops before deploying if the key holds nothing.
 */
import { access } from "node:fs/promises";
import { NonceManager } from "ethers";
import { loadConfig, type Config } from "../api/config";
import { makeProvider } from "../node/chain/client";
import { codeId } from "../node/chain/ids";
import { loadOrCreateKeystore, readPassword } from "../node/keys/keystore";
import { deployAndRegister, readDeployment, writeDeployment, type Deployment } from "../node/runtime/deployment";

/** Deploys and registers per `config`; returns the deployment written to `config.deploymentFile`. */
export async function deploy(config: Config, say: (line: string) => void): Promise<Deployment> {
  if (config.embeddedChain) {
    throw new Error("DCL_RPC_URL is not set: `npm start` deploys to its embedded chain by itself; set DCL_RPC_URL to deploy to another chain");
  }
  const existing = await readDeployment(config.deploymentFile).catch(() => undefined);
  if (existing || (await access(config.deploymentFile).then(() => true, () => false))) {
    throw new Error(
      `deployment file ${config.deploymentFile} exists` +
        (existing ? ` (chain ${existing.chainId}, registry ${existing.addresses?.registry})` : "") +
        ": refusing to overwrite it; move it away or set DCL_DEPLOYMENT to another file",
    );
  }
  const provider = makeProvider(config.rpcUrl, config.chainId);
  try {
    const served = BigInt(await provider.send("eth_chainId", []));
    if (served !== config.chainId) throw new Error(`${config.rpcUrl} serves chain ${served}, DCL_CHAIN_ID is ${config.chainId}`);

    const operator = await loadOrCreateKeystore(config.keystore, await readPassword(config.password));
    say(`operator key ${operator.address} (keystore ${config.keystore})`);
    const fee = await provider.getFeeData();
    const price = fee.maxFeePerGas ?? fee.gasPrice ?? 0n;
    if (price > 0n && (await provider.getBalance(operator.address)) === 0n) {
      throw new Error(`operator ${operator.address} has no funds on chain ${served} and gas costs ${price} wei: fund it (or run the chain with gas price 0), then run again`);
    }

    // The contracts are deployed partly in parallel: take nonces locally, not from each pending count.
    const deployer = new NonceManager(operator.connect(provider));
    say(`deploying to ${config.rpcUrl} (chain ${served}) ...`);
    if (config.council && config.council.threshold > config.council.members.length) {
      throw new Error(`DCL_COUNCIL_THRESHOLD ${config.council.threshold} is more than the ${config.council.members.length} members of DCL_COUNCIL`);
    }
    const deployment = await deployAndRegister(deployer, config.operatorDepartment, config.logCode, config.council);
    await writeDeployment(config.deploymentFile, deployment, { overwrite: false });
    return deployment;
  } finally {
    provider.destroy();
  }
}

async function run(): Promise<void> {
  const config = loadConfig(process.env);
  const say = (line: string) => process.stdout.write(line + "\n");
  const d = await deploy(config, say);
  say(`deployed dcl on chain ${d.chainId}, from block ${d.startBlock}:`);
  for (const [name, address] of Object.entries(d.addresses)) say(`  ${name.padEnd(10)} ${address}`);
  say(`operating department ${config.operatorDepartment} (${codeId(config.operatorDepartment)})`);
  say(`log ${config.logCode} (${codeId(config.logCode)})`);
  if (d.council) say(`governance council ${d.council.address}: ${d.council.threshold} of ${d.council.members.join(", ")}; the operator key holds no governance role`);
  say(`deployment file ${config.deploymentFile}`);
  say(`next: npm start with the same DCL_RPC_URL, DCL_CHAIN_ID, DCL_KEYSTORE and DCL_DEPLOYMENT`);
}

if (require.main === module) {
  run().catch((err: Error) => {
    process.stderr.write(`deploy failed: ${err.message}\n`);
    process.exit(1);
  });
}
