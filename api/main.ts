/**
 * The product's entry point (`npm start`): reads the configuration, unlocks (or on first start
 * creates) the operator key, starts or adopts the embedded chain (or connects to DCL_RPC_URL),
 * deploys the contracts once, opens the ledger node and serves the API. Ctrl-C (SIGINT) or SIGTERM
 * stops everything cleanly; a kill -9 loses nothing acknowledged (see node/runtime/embedded-chain.ts).
 */
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import pino from "pino";
import { parseEther } from "ethers";
import { makeProvider } from "../node/chain/client";
import { loadOrCreateKeystore, readPassword, type PasswordSource } from "../node/keys/keystore";
import { LedgerNode } from "../node/ledger-node";
import { checkDeployment, deployAndRegister, readDeployment, writeDeployment } from "../node/runtime/deployment";
import { startEmbeddedChain, type EmbeddedChain } from "../node/runtime/embedded-chain";
import { loadConfig, type Config } from "./config";
import { startServer } from "./server";

/** Departments of the demo scenario whose keys the embedded default creates on first start. */
export const DEMO_DEPARTMENTS = ["cq.tax", "cq.water", "cq.cad", "cq.civil", "cq.yuzhong.bigdata", "cq.regulator", "cq.wdex"];
/** scrypt work factor of the demo departments' keystores (the operator's uses the full 2^17). */
const DEMO_SCRYPT_N = 1 << 14;

/** The embedded default's password source: DCL_KEYSTORE_PASSWORD(_FILE), else `<data>/keys/password`, created once (0600). */
async function passwordFor(config: Config): Promise<PasswordSource> {
  if (config.password.password || config.password.passwordFile) return config.password;
  if (!config.embeddedChain) return config.password; // readPassword will say what to set
  const file = join(config.dataDir, "keys", "password");
  const existing = await readFile(file, "utf8").catch(() => undefined);
  if (existing === undefined) {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, randomBytes(24).toString("base64url") + "\n", { mode: 0o600, flag: "wx" });
  }
  return { passwordFile: file };
}

/** Starts dcl; resolves with a `stop()` once the API is listening. Logs go to standard output, or to `options.logStream`. */
export async function main(env: Record<string, string | undefined> = process.env, options: { logStream?: pino.DestinationStream } = {}) {
  const config = loadConfig(env);
  const logOptions = { level: config.logLevel, base: { service: "dcl" }, redact: ["req.headers.authorization", "password", "privateKey"] };
  const logger = options.logStream ? pino(logOptions, options.logStream) : pino(logOptions);
  const password = await readPassword(await passwordFor(config));
  const operator = await loadOrCreateKeystore(config.keystore, password);
  logger.info({ operator: operator.address, keystore: config.keystore }, "operator key unlocked");

  let chain: EmbeddedChain | undefined;
  if (config.embeddedChain) {
    chain = await startEmbeddedChain(config.dataDir, config.chainPort, config.chainId);
    logger.info({ rpc: chain.url, state: chain.stateFile }, "embedded chain ready");
  }
  const provider = makeProvider(config.rpcUrl, config.chainId);
  try {
    if (chain && (await provider.getBalance(operator.address)) < parseEther("100")) {
      await provider.send("anvil_setBalance", [operator.address, "0x" + parseEther("10000").toString(16)]);
    }
    let deployment = await readDeployment(config.deploymentFile);
    if (!deployment) {
      if (!chain) throw new Error(`no deployment file ${config.deploymentFile}: deploy first (npm run deploy) or set DCL_DEPLOYMENT`);
      deployment = await deployAndRegister(operator.connect(provider), config.operatorDepartment, config.logCode);
      await chain.persist();
      await writeDeployment(config.deploymentFile, deployment);
      logger.info({ addresses: deployment.addresses }, "contracts deployed");
    } else {
      await checkDeployment(provider, deployment);
    }
    if (chain) {
      for (const code of DEMO_DEPARTMENTS) {
        await loadOrCreateKeystore(join(config.dataDir, "keys", "demo", `${code}.json`), password, DEMO_SCRYPT_N);
      }
    }

    const node = await LedgerNode.open({
      dataDir: config.dataDir, rpcUrl: config.rpcUrl, chainId: config.chainId, addresses: deployment.addresses,
      startBlock: deployment.startBlock, operator, logCode: config.logCode, subjectPepperFile: config.subjectPepperFile,
      alerts: { config: config.alerts.rules, ...(config.alerts.webhook ? { webhook: { url: config.alerts.webhook } } : {}) },
      periodBundleMaxEntries: config.periodBundleMaxEntries, storeFaultFile: config.storeFaultFile,
      anchorIntervalMs: config.anchorIntervalMs, anchorEveryEntries: config.anchorEveryEntries, relayWaitMs: config.relayWaitMs,
      relayBumpAfterMs: config.relayBumpAfterMs, relayMaxFeePerGas: config.relayMaxFeePerGas,
      confirmations: config.confirmations, indexerPollMs: config.indexerPollMs,
      logger: logger.child({ module: "node" }), afterMined: chain?.persist,
      ...(chain ? { durableChain: { block: chain.durableBlock, persist: chain.persist } } : {}),
    });
    await node.indexer.syncOnce();
    node.start();
    if (config.peers.length > 0) {
      // Each peer is named by its URL; the log it serves is learned from its first verified checkpoint.
      node.monitorPeers(config.peers.map((url) => ({ name: url, url }))).start(config.peerPollMs);
      logger.info({ peers: config.peers, pollMs: config.peerPollMs }, "watching peers' logs");
    }
    const app = await startServer(node, config, logger.child({ module: "api" }));
    const base = `http://${config.host}:${config.port}`;
    logger.info({ api: base, docs: `${base}/docs`, openapi: `${base}/openapi.json`, metrics: `${base}/metrics`, data: config.dataDir }, "dcl is running");
    let stopping: Promise<void> | undefined;
    const stop = () =>
      (stopping ??= (async () => {
        await app.close();
        await node.close();
        await chain?.stop();
        provider.destroy();
      })());
    return { config, node, app, chain, stop, baseUrl: base };
  } catch (err) {
    provider.destroy();
    await chain?.stop();
    throw err;
  }
}
