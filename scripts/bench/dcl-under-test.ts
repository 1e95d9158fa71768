/**
 * dcl as the benchmark drives it: the compiled product started exactly as `npm start` starts it
 * (dist/scripts/start.js on the embedded chain, product defaults — info logs, 5 s anchor interval),
 * in its own process and data directory, with only the per-department and per-address request
 * budgets raised so the load is not refused. Then the scenario the load needs, through the API as a
 * user would: the water and tax departments registered with their keys, water's resource catalogued,
 * and a sharing agreement co-signed; and requests to POST /v1/access prepared (signed) beforehand.
 */
import { randomBytes } from "node:crypto";
import { spawn, type ChildProcess } from "node:child_process";
import { openSync, closeSync } from "node:fs";
import { join } from "node:path";
import { ethers, type Wallet } from "ethers";
import { DclClient, type ApiTypedData } from "../../api/client";
import { freePort } from "../../node/chain/anvil";
import { codeId } from "../../node/chain/ids";
import { loadKeystore } from "../../node/keys/keystore";
import { readDeployment, type Deployment } from "../../node/runtime/deployment";
import type { PreparedRequest } from "./load-generator";

const ROOT = join(__dirname, "..", "..", "..");
const START = join(ROOT, "dist", "scripts", "start.js");

/**
 * Server processes started and not yet exited (dcl here, the bare server in bench.ts), for a Ctrl-C to
 * stop; `group`: the process leads its own process group (dcl and its chain), signalled as a whole.
 */
export const liveServers = new Set<{ child: ChildProcess; group: boolean }>();

/** A running dcl started by `startDcl`. */
export interface RunningDcl {
  baseUrl: string;
  rpcUrl: string;
  dataDir: string;
  password: string;
  process: ChildProcess;
  /** Stops it as Ctrl-C would (SIGINT), so that a CPU profile is written; resolves on exit. */
  stop(): Promise<void>;
}

/** Starts dist/scripts/start.js with `nodeBin` on `dataDir` (fresh or from an earlier start); resolves once /healthz answers. */
export async function startDcl(nodeBin: string, dataDir: string, password: string, options: { cpuProfDir?: string } = {}): Promise<RunningDcl> {
  const [port, chainPort] = [await freePort(), await freePort()];
  const env = {
    ...process.env,
    DCL_DATA_DIR: dataDir,
    DCL_PORT: String(port),
    DCL_CHAIN_PORT: String(chainPort),
    DCL_KEYSTORE_PASSWORD: password,
    DCL_RATE_LIMIT_PER_MIN: "1000000000",
    DCL_IP_RATE_LIMIT_PER_MIN: "1000000000",
  };
  const out = openSync(join(dataDir, `dcl-${Date.now()}.log`), "a");
  const args = [...(options.cpuProfDir ? ["--cpu-prof", `--cpu-prof-dir=${options.cpuProfDir}`] : []), START];
  // Its own process group: an interrupted run can stop dcl and the chain it started even mid-start.
  const child = spawn(nodeBin, args, { cwd: ROOT, env, stdio: ["ignore", out, out], detached: true });
  const live = { child, group: true };
  liveServers.add(live);
  child.once("exit", () => liveServers.delete(live));
  closeSync(out);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 180_000;
  for (;;) {
    const up = await fetch(`${baseUrl}/healthz`).then((r) => r.ok, () => false);
    if (up) break;
    if (child.exitCode !== null) throw new Error(`dcl exited with ${child.exitCode} while starting (log in ${dataDir})`);
    if (Date.now() > deadline) throw new Error(`dcl did not answer /healthz within 180 s (log in ${dataDir})`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    baseUrl,
    rpcUrl: `http://127.0.0.1:${chainPort}`,
    dataDir,
    password,
    process: child,
    async stop() {
      if (child.exitCode === null) child.kill("SIGINT");
      await exited;
    },
  };
}

/** The scenario a run needs: the tax department's client and the agreement its calls are logged under. */
export interface Scenario {
  deployment: Deployment;
  /** The operator's address: it sends the anchor and usage-report transactions. */
  operator: string;
  tax: DclClient;
  /**
   * The tax department's client signing POST /v1/access with an Ed25519 session key its signer
   * certified, when this build's client and API have session keys (`DclClient.startSession`); else
   * why not.
   */
  session: DclClient | { unavailable: string };
  agreementId: string;
}

/** Certifies a session key for `client` when the client (and so the API) of this build knows how. */
async function startSession(client: DclClient): Promise<DclClient | { unavailable: string }> {
  // Looked up at run time: the bench builds and runs on trees with and without session keys.
  const start = (client as unknown as { startSession?: () => Promise<DclClient> }).startSession;
  if (typeof start !== "function") return { unavailable: "not available yet" };
  try {
    return await start.call(client);
  } catch (err) {
    return { unavailable: `failed: ${(err as Error).message.slice(0, 120)}` };
  }
}

/** Registers water and tax, water's fee data and a water → tax agreement with a quota no run can reach (first start only). */
export async function setUpScenario(dcl: RunningDcl): Promise<Scenario> {
  const deployment = (await readDeployment(join(dcl.dataDir, "deployment.json")))!;
  const options = { baseUrl: dcl.baseUrl, chainId: BigInt(deployment.chainId), registry: deployment.addresses.registry };
  const key = async (file: string) => (await loadKeystore(join(dcl.dataDir, "keys", file), dcl.password)) as Wallet;
  const governor = new DclClient(options, codeId("cq.bigdata"), await key("operator.json"));
  const tax = new DclClient(options, codeId("cq.tax"), await key("demo/cq.tax.json"));
  const water = new DclClient(options, codeId("cq.water"), await key("demo/cq.water.json"));
  for (const [code, c] of [["cq.tax", tax], ["cq.water", water]] as const) {
    await governor.post("/v1/departments", { code, level: "city", signers: [c.key.address] });
  }
  const resource = "res.water.fee-assessments";
  await governor.post("/v1/resources", { code: resource, owner: water.department, schemaHash: ethers.id(`schema:${resource}:v1`), condition: "conditional", personal: false });
  const now = Math.floor(Date.now() / 1000);
  const draft = await tax.post<{ id: string; typedData: ApiTypedData }>("/v1/agreements", {
    provider: water.department, consumer: tax.department, resource: codeId(resource), purpose: "collect water-resource fees",
    quota: "1000000000000", validFrom: now - 60, validUntil: now + 30 * 86400,
  });
  for (const party of [water, tax]) await party.post(`/v1/agreements/${draft.id}/signatures`, { signature: await party.signTypedData(draft.typedData) });
  return { deployment, operator: governor.key.address, tax, session: await startSession(tax), agreementId: draft.id };
}

/** A call as a gateway reports it: the agreement, one record, fresh request and response hashes. */
function call(agreementId: string) {
  return { agreementId, recordCount: 1, requestHash: "0x" + randomBytes(32).toString("hex"), responseHash: "0x" + randomBytes(32).toString("hex") };
}

/**
 * `count` requests of `size` calls each to `path` (POST /v1/access, or with a query such as
 * `?proofs=batch`), signed by `client` (the tax department's key by default), each with its own nonce.
 */
export async function signedAccessRequests(s: Scenario, count: number, size: number, client: DclClient = s.tax, path = "/v1/access"): Promise<PreparedRequest[]> {
  const out: PreparedRequest[] = [];
  for (let i = 0; i < count; i++) {
    const body = JSON.stringify({ calls: Array.from({ length: size }, () => call(s.agreementId)) });
    const headers = await client.signHeaders("POST", path, new TextEncoder().encode(body));
    out.push({ path, headers: { ...headers, "content-type": "application/json" }, body });
  }
  return out;
}
