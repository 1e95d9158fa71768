/**
 * A relay survives kill -9 of the node and is mined exactly once (issue 13). The product (`scripts/start.ts`,
 * as `npm start` runs it) serves an external chain: an anvil this test starts separately, so it can freeze it
 * (SIGSTOP) and switch its mining off. Twice a co-signature that activates an agreement is answered 202 and the
 * node is killed with SIGKILL: once while its relay cannot even be estimated (the chain frozen), once after its
 * transaction was signed and broadcast but not mined (mining off; the block is mined while the node is dead, so
 * its receipt is lost with the process). After each restart the relay ends mined and the chain holds exactly
 * one activation of the agreement.
 */
import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ethers, Wallet } from "ethers";
import { DclClient, type ApiRelay, type ApiTypedData } from "../../api/client";
import { Anvil, freePort } from "../../node/chain/anvil";
import { makeProvider } from "../../node/chain/client";
import { codeId } from "../../node/chain/ids";
import { createKeystore, loadKeystore } from "../../node/keys/keystore";
import { deployAndRegister, writeDeployment, type Deployment } from "../../node/runtime/deployment";
import { SharingAgreements__factory } from "../../typechain-types";

const ROOT = join(__dirname, "..", "..");

describe("relay outbox under kill -9 of the node (external anvil)", function () {
  this.timeout(300_000);
  let dir: string;
  let anvil: Anvil;
  let provider: ethers.JsonRpcProvider;
  let deployment: Deployment;
  let env: Record<string, string>;
  let baseUrl: string;
  let child: ChildProcess | undefined;
  let output = "";
  let frozen = false;

  async function start(): Promise<void> {
    output = "";
    const c = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", "scripts/start.ts"], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    c.stdout!.on("data", (d) => (output = (output + d).slice(-8000)));
    c.stderr!.on("data", (d) => (output = (output + d).slice(-8000)));
    child = c;
    for (let i = 0; i < 600; i++) {
      if (c.exitCode !== null) throw new Error(`product exited ${c.exitCode}: ${output}`);
      if (await fetch(baseUrl + "/readyz").then((r) => r.ok, () => false)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`product not ready: ${output}`);
  }
  async function kill9(): Promise<void> {
    const c = child!;
    const exited = new Promise((r) => c.once("exit", r));
    c.kill("SIGKILL");
    await exited;
    child = undefined;
  }
  const relayOf = async (id: string) => ((await (await fetch(`${baseUrl}/v1/relays/${id}`)).json()) as { relay: ApiRelay }).relay;
  const activations = async (id: string) => {
    const agreements = SharingAgreements__factory.connect(deployment.addresses.agreements, provider);
    return (await agreements.queryFilter(agreements.filters.AgreementActivated(id), 0)).length;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "dcl-relay-sigkill-"));
    anvil = await Anvil.start();
    provider = makeProvider(anvil.url, 31337n, 50);
    const password = "relay-sigkill";
    const operator = await createKeystore(join(dir, "operator.json"), password, 1 << 12);
    await provider.send("anvil_setBalance", [operator.address, "0x3635C9ADC5DEA00000"]);
    deployment = await deployAndRegister(operator.connect(provider), "cq.bigdata", "log.cq.bigdata.0");
    await writeDeployment(join(dir, "deployment.json"), deployment);
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    env = {
      DCL_DATA_DIR: join(dir, "data"), DCL_PORT: String(port), DCL_RPC_URL: anvil.url, DCL_CHAIN_ID: "31337",
      DCL_DEPLOYMENT: join(dir, "deployment.json"), DCL_KEYSTORE: join(dir, "operator.json"), DCL_KEYSTORE_PASSWORD: password,
      DCL_LOG_LEVEL: "warn", DCL_RELAY_WAIT_MS: "500", DCL_INDEXER_POLL_MS: "100", DCL_ANCHOR_INTERVAL_MS: "1000",
    };
  });

  after(async () => {
    if (frozen) process.kill(anvil.pid!, "SIGCONT");
    if (child && child.exitCode === null) await kill9();
    provider?.destroy();
    await anvil?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("resumes a pending relay and a sent one after kill -9: each agreement is activated exactly once", async () => {
    await start();
    const options = { baseUrl, chainId: 31337n, registry: deployment.addresses.registry };
    const governor = new DclClient(options, codeId("cq.bigdata"), await loadKeystore(join(dir, "operator.json"), "relay-sigkill"));
    const key = () => new Wallet(Wallet.createRandom().privateKey);
    const water = new DclClient(options, codeId("cq.water"), key());
    const tax = new DclClient(options, codeId("cq.tax"), key());
    for (const [code, c] of [["cq.water", water], ["cq.tax", tax]] as const) await governor.post("/v1/departments", { code, level: "city", signers: [c.key.address] });
    await governor.post("/v1/resources", { code: "res.fees", owner: water.department, schemaHash: ethers.ZeroHash, condition: "conditional", personal: false });
    const halfSigned = async (purpose: string) => {
      const now = Math.floor(Date.now() / 1000);
      const d = await tax.post<{ id: string; typedData: ApiTypedData }>("/v1/agreements", { provider: water.department, consumer: tax.department, resource: codeId("res.fees"), purpose, quota: "1000", validFrom: now - 60, validUntil: now + 86400 });
      await water.post(`/v1/agreements/${d.id}/signatures`, { signature: await water.signTypedData(d.typedData) });
      return { id: d.id, signature: await tax.signTypedData(d.typedData) };
    };

    // 1. The chain frozen: the relay is recorded, not even estimated, when the node dies.
    const a = await halfSigned("pending at the kill");
    process.kill(anvil.pid!, "SIGSTOP");
    frozen = true;
    const first = await tax.post<{ relay: ApiRelay }>(`/v1/agreements/${a.id}/signatures`, { signature: a.signature }, { accept202: true });
    expect(first.relay.state).to.equal("pending");
    await kill9();
    process.kill(anvil.pid!, "SIGCONT");
    frozen = false;
    await start();
    const minedA = await tax.waitForRelay(first.relay.id, { timeoutMs: 60_000 });
    expect(minedA.state).to.equal("mined");
    expect(await activations(a.id)).to.equal(1);

    // 2. Mining off: the relay is signed and broadcast, in the chain's pool, when the node dies; mined while it is dead.
    const b = await halfSigned("sent at the kill");
    await provider.send("evm_setAutomine", [false]);
    let sent: ApiRelay;
    try {
      const second = await tax.post<{ relay: ApiRelay }>(`/v1/agreements/${b.id}/signatures`, { signature: b.signature }, { accept202: true });
      for (sent = second.relay; sent.state !== "sent"; sent = await relayOf(second.relay.id)) await new Promise((r) => setTimeout(r, 50));
      for (let i = 0; i < 100 && !(await provider.getTransaction(sent.tx!)); i++) await new Promise((r) => setTimeout(r, 50));
      expect(await provider.getTransaction(sent.tx!), "broadcast before the kill").to.not.equal(null);
      await kill9();
      await provider.send("evm_mine", []);
    } finally {
      await provider.send("evm_setAutomine", [true]);
    }
    const nonceAfterMine = await provider.getTransactionCount(await governor.key.getAddress(), "latest");
    await start();
    const minedB = await tax.waitForRelay(sent.id, { timeoutMs: 60_000 });
    expect(minedB.tx, "recognised by its hash").to.equal(sent.tx);
    expect(minedB.nonce).to.equal(sent.nonce);
    expect(await activations(b.id), "not sent twice").to.equal(1);
    expect(await provider.getTransactionCount(await governor.key.getAddress(), "latest"), "no transaction after the restart for it").to.equal(nonceAfterMine);

    // Both read active through the API (the indexer followed the chain).
    for (const id of [a.id, b.id]) {
      let view = await tax.get<{ onChain?: { status: string } }>(`/v1/agreements/${id}`);
      for (let i = 0; i < 100 && !view.onChain; i++) {
        await new Promise((r) => setTimeout(r, 100));
        view = await tax.get(`/v1/agreements/${id}`);
      }
      expect(view.onChain?.status, id).to.equal("active");
    }
  });
});
