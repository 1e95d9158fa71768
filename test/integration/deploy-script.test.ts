// `npm run deploy` against a separately started chain, then the product started on that deployment.
import { expect } from "chai";
import { execFile } from "node:child_process";
import { access, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseEther, Wallet } from "ethers";
import { main } from "../../api/main";
import { Anvil, freePort } from "../../node/chain/anvil";
import { makeProvider } from "../../node/chain/client";
import { codeId, ROLES } from "../../node/chain/ids";
import { DepartmentRegistry__factory, GovernanceCouncil__factory } from "../../typechain-types";
import { createKeystore } from "../../node/keys/keystore";
import type { Deployment } from "../../node/runtime/deployment";

const ROOT = resolve(__dirname, "../..");
const CHAIN_ID = 1337;
const PASSWORD = "correct horse battery staple";

const exists = (file: string) => access(file).then(() => true, () => false);

/** Runs scripts/deploy.ts as `npm run deploy` does (ts-node, transpile only), with `env` added. */
function runDeploy(env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ["-r", "ts-node/register/transpile-only", "scripts/deploy.ts"],
      { cwd: ROOT, env: { ...process.env, ...env }, timeout: 90_000 },
      (err, stdout, stderr) => done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe("deploy script", function () {
  this.timeout(180_000);
  let dir: string;
  let anvil: Anvil;
  let env: Record<string, string>;
  let operator: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "dcl-deploy-"));
    anvil = await Anvil.start({ chainId: CHAIN_ID });
    const keystore = join(dir, "keys", "operator.json");
    operator = (await createKeystore(keystore, PASSWORD, 1 << 12)).address;
    env = {
      DCL_RPC_URL: anvil.url,
      DCL_CHAIN_ID: String(CHAIN_ID),
      DCL_KEYSTORE: keystore,
      DCL_KEYSTORE_PASSWORD: PASSWORD,
      DCL_OPERATOR_DEPARTMENT: "cq.tax",
      DCL_LOG_CODE: "log.cq.tax.0",
      DCL_DEPLOYMENT: join(dir, "deployment.json"),
    };
  });

  after(async () => {
    await anvil?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("refuses a chain whose id is not DCL_CHAIN_ID, before deploying anything", async () => {
    const r = await runDeploy({ ...env, DCL_CHAIN_ID: "31337" });
    expect(r.code).to.not.equal(0);
    expect(r.stderr).to.contain(`serves chain ${CHAIN_ID}, DCL_CHAIN_ID is 31337`);
    expect(await exists(env.DCL_DEPLOYMENT)).to.equal(false);
  });

  it("refuses to deploy from a key with no funds on a chain that charges for gas", async () => {
    const r = await runDeploy(env);
    expect(r.code).to.not.equal(0);
    expect(r.stderr).to.contain(`operator ${operator} has no funds`);
    expect(await exists(env.DCL_DEPLOYMENT)).to.equal(false);
  });

  it("deploys, registers the operating department and its log, writes the deployment file and prints the addresses", async () => {
    const provider = makeProvider(anvil.url, BigInt(CHAIN_ID));
    await provider.send("anvil_setBalance", [operator, "0x" + parseEther("100").toString(16)]);
    provider.destroy();

    const r = await runDeploy(env);
    expect(r.code, r.stderr).to.equal(0);
    const d = JSON.parse(await readFile(env.DCL_DEPLOYMENT, "utf8")) as Deployment;
    expect(d.chainId).to.equal(String(CHAIN_ID));
    for (const [name, address] of Object.entries(d.addresses)) expect(r.stdout).to.match(new RegExp(`${name}\\s+${address}`));
    expect(r.stdout).to.contain(codeId("log.cq.tax.0"));
  });

  it("refuses to overwrite an existing deployment file", async () => {
    const before = await readFile(env.DCL_DEPLOYMENT, "utf8");
    const r = await runDeploy(env);
    expect(r.code).to.not.equal(0);
    expect(r.stderr).to.contain("refusing to overwrite");
    expect(await readFile(env.DCL_DEPLOYMENT, "utf8")).to.equal(before);
  });

  it("starts the product on that chain: ready, contracts present, its log operated by its department", async () => {
    const d = JSON.parse(await readFile(env.DCL_DEPLOYMENT, "utf8")) as Deployment;
    const started = await main({
      ...env,
      DCL_DATA_DIR: join(dir, "data"),
      DCL_PORT: String(await freePort()),
      DCL_LOG_LEVEL: "silent",
      DCL_CONFIRMATIONS: "0",
      DCL_INDEXER_POLL_MS: "100",
    });
    try {
      expect(started.chain).to.equal(undefined); // no embedded chain: the one at DCL_RPC_URL
      const res = await fetch(`${started.baseUrl}/readyz`);
      expect(res.status).to.equal(200);
      expect(((await res.json()) as { ready: boolean }).ready).to.equal(true);
      expect(await started.node.client.provider.getCode(d.addresses.registry)).to.not.equal("0x");
      expect(await started.node.indexer.logOperator(codeId("log.cq.tax.0"))).to.equal(codeId("cq.tax"));
      expect(await started.node.indexer.isSigner(codeId("cq.tax"), operator)).to.equal(true);
    } finally {
      await started.stop();
    }
  });

  it("with DCL_COUNCIL hands governance to a council: the registry's governor and admin roles move to it, the operator key keeps none", async () => {
    const members = [Wallet.createRandom().address, Wallet.createRandom().address, Wallet.createRandom().address];
    const file = join(dir, "council-deployment.json");
    const bad = await runDeploy({ ...env, DCL_DEPLOYMENT: file, DCL_COUNCIL: members.join(","), DCL_COUNCIL_THRESHOLD: "4" });
    expect(bad.code).to.not.equal(0);
    expect(bad.stderr).to.contain("DCL_COUNCIL_THRESHOLD 4 is more than the 3 members");
    const r = await runDeploy({ ...env, DCL_DEPLOYMENT: file, DCL_COUNCIL: members.join(",") });
    expect(r.code, r.stderr).to.equal(0);
    const d = JSON.parse(await readFile(file, "utf8")) as Deployment;
    expect(d.council?.threshold).to.equal(2); // a majority by default
    expect(d.council?.members).to.deep.equal(members.map((m) => m.toLowerCase()));
    expect(r.stdout).to.contain(`governance council ${d.council!.address}`);
    const provider = makeProvider(anvil.url, BigInt(CHAIN_ID));
    try {
      const registry = DepartmentRegistry__factory.connect(d.addresses.registry, provider);
      const admin = await registry.DEFAULT_ADMIN_ROLE();
      expect(await registry.hasRole(ROLES.governor, d.council!.address)).to.equal(true);
      expect(await registry.hasRole(admin, d.council!.address)).to.equal(true);
      expect(await registry.hasRole(ROLES.governor, operator)).to.equal(false);
      expect(await registry.hasRole(admin, operator)).to.equal(false);
      const council = GovernanceCouncil__factory.connect(d.council!.address, provider);
      expect(await council.members()).to.deep.equal(members);
      expect(await council.threshold()).to.equal(2n);
      // The operating department and its log were registered before the handover.
      expect(await registry.isSigner(codeId("cq.tax"), operator)).to.equal(true);
    } finally {
      provider.destroy();
    }
  });
});
