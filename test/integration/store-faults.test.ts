/**
 * The product (`scripts/start.ts`, as `npm start` runs it, with its anvil as a separate process) when its
 * store fails it, over real HTTP:
 * - writes failed through DCL_STORE_FAULT_FILE: 503 STORAGE_UNAVAILABLE, /readyz says `storage`, nothing
 *   logged and no receipt; the file removed, writes resume by themselves, the log has no gap, every
 *   acknowledged entry's proof verifies and the next anchor covers it all;
 * - the store moved away while the chain holds anchors: the start exits non-zero saying
 *   STORE_EMPTY_BUT_ANCHORED; an altered stored hash and a truncated store are refused the same way;
 *   `dcl check` exits 0 / 1 / 3 on them;
 * - the chain anchoring a checkpoint the log does not have (another signer of the same key): the node
 *   finds it when it next anchors, refuses writes with 503 LOG_DIVERGED, /readyz fails `integrity`, one
 *   log_diverged alert, and the conflict is logged once, not at every tick.
 */
import { expect } from "chai";
import { spawn } from "node:child_process";
import { cp, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ethers, Wallet } from "ethers";
import { Level } from "level";
import { DclClient, publicGet } from "../../api/client";
import { freePort } from "../../node/chain/anvil";
import { makeProvider } from "../../node/chain/client";
import { connectDcl } from "../../node/chain/deploy";
import { codeId } from "../../node/chain/ids";
import { loadKeystore } from "../../node/keys/keystore";
import { readDeployment, type Deployment } from "../../node/runtime/deployment";
import { startEmbeddedChain } from "../../node/runtime/embedded-chain";
import { fromHex, leafHash, toHex, verifyInclusion } from "../../node/verify";
import { referenceConsistencyProof, referenceRoot } from "../node/reference-tree";
import { ProductProcess } from "../support/product-process";

const ROOT = join(__dirname, "..", "..");
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Answer {
  status: number;
  body: { error?: { code: string; message: string }; results?: { index: number; leafHash: string; receipt?: unknown }[] };
}
interface Readiness {
  ready: boolean;
  checks: Record<string, { ok: boolean; detail?: string }>;
}
interface Checkpoint {
  treeSize: number;
  root: string;
  anchored: { treeSize: number; root: string } | null;
}

/** `npm run dcl -- <args>`: exit code and output. */
function dcl(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", "scripts/cli/dcl.ts", ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, out }));
  });
}

describe("the product when its store fails", function () {
  this.timeout(600_000);
  let scratch: string;
  let dataDir: string;
  let faultFile: string;
  let chainPort: number;
  let product: ProductProcess;
  let deployment: Deployment;
  let tax: DclClient;
  let regulator: DclClient;
  let operator: Wallet;
  const acked = new Map<number, string>();

  const access = async (n = 1): Promise<Answer> => {
    const calls = Array.from({ length: n }, () => ({ agreementId: ethers.id("no agreement"), recordCount: 1, requestHash: ethers.hexlify(ethers.randomBytes(32)), responseHash: ethers.hexlify(ethers.randomBytes(32)) }));
    const res = await tax.send("POST", "/v1/access", { calls });
    const answer = { status: res.status, body: (await res.json()) as Answer["body"] };
    if (res.status === 200) for (const r of answer.body.results!) acked.set(r.index, r.leafHash);
    return answer;
  };
  const readiness = async (): Promise<{ status: number; body: Readiness }> => {
    const res = await fetch(product.baseUrl + "/readyz");
    return { status: res.status, body: (await res.json()) as Readiness };
  };
  const checkpoint = () => publicGet<Checkpoint>(product.baseUrl, "/v1/log/checkpoint");
  /** Waits until every entry is anchored; resolves with the checkpoint. */
  const anchoredAll = async (): Promise<Checkpoint> => {
    for (let i = 0; i < 300; i++) {
      const cp = await checkpoint();
      if (cp.anchored?.treeSize === cp.treeSize) return cp;
      await pause(100);
    }
    throw new Error("anchoring did not catch up within 30 s");
  };
  /** Starting must fail: resolves with what the product printed. */
  const startRefused = async (): Promise<string> => {
    const err = await product.start({ timeoutMs: 120_000 }).then(() => undefined, (e: Error) => e);
    expect(err, "the start is refused").to.be.instanceOf(Error);
    expect(err!.message).to.match(/^product exited 1:/);
    return err!.message;
  };
  /** The store's raw tables, as node/log/merkle-log.ts lays them out (layout 2: bundles and tiles), on a stopped node. */
  const withStore = async (f: (t: { db: Level<string, unknown>; table: (name: string) => ReturnType<Level<string, unknown>["sublevel"]> }) => Promise<void>) => {
    const db = new Level<string, unknown>(join(dataDir, "node"), { valueEncoding: "json" });
    await db.open();
    try {
      const log = db.sublevel("log");
      await f({ db, table: (name) => log.sublevel(name, { keyEncoding: "utf8", valueEncoding: name === "meta" ? "utf8" : "view" }) as never });
    } finally {
      await db.close();
    }
  };

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), "dcl-store-faults-"));
    dataDir = join(scratch, "data");
    faultFile = join(scratch, "store-fault");
    chainPort = await freePort();
    product = new ProductProcess({
      dataDir,
      env: { DCL_PORT: String(await freePort()), DCL_CHAIN_PORT: String(chainPort), DCL_LOG_LEVEL: "warn", DCL_ANCHOR_INTERVAL_MS: "300", DCL_INDEXER_POLL_MS: "100", DCL_STORE_FAULT_FILE: faultFile },
    });
    await product.start();
    deployment = (await readDeployment(join(dataDir, "deployment.json")))!;
    const password = (await readFile(join(dataDir, "keys", "password"), "utf8")).trim();
    operator = (await loadKeystore(join(dataDir, "keys", "operator.json"), password)) as Wallet;
    const options = { baseUrl: product.baseUrl, chainId: BigInt(deployment.chainId), registry: deployment.addresses.registry };
    const governor = new DclClient(options, codeId("cq.bigdata"), operator);
    const key = () => new Wallet(Wallet.createRandom().privateKey);
    tax = new DclClient(options, codeId("cq.tax"), key());
    regulator = new DclClient(options, codeId("cq.regulator"), key());
    await governor.post("/v1/departments", { code: "cq.tax", level: "city", signers: [tax.key.address] });
    await governor.post("/v1/departments", { code: "cq.regulator", level: "city", signers: [regulator.key.address] });
    await governor.post("/v1/roles", { role: "regulator", account: regulator.key.address });
  });

  after(async () => {
    await product?.cleanUp();
    await rm(scratch, { recursive: true, force: true });
  });

  it("answers 503 STORAGE_UNAVAILABLE while its store cannot write, says why in /readyz, and resumes by itself", async () => {
    for (let i = 0; i < 3; i++) expect((await access(5)).status).to.equal(200);
    const before = await checkpoint();

    await writeFile(faultFile, "");
    for (let i = 0; i < 3; i++) {
      const a = await access(2);
      expect([a.status, a.body.error?.code], a.body.error?.message).to.deep.equal([503, "STORAGE_UNAVAILABLE"]);
      expect(a.body.results, "no receipt for a refused write").to.equal(undefined);
      expect(a.body.error!.message).to.match(/cannot write/);
    }
    const ready = await readiness();
    expect(ready.status).to.equal(503);
    expect(ready.body.checks.storage.ok).to.equal(false);
    expect(ready.body.checks.storage.detail).to.match(/fault file .*exists/);
    expect((await checkpoint()).treeSize, "nothing logged while the store failed").to.equal(before.treeSize);
    const metrics = async () => (await fetch(product.baseUrl + "/metrics")).text();
    const down = await metrics();
    expect(down).to.match(/^dcl_store_writable 0$/m);
    expect(down).to.match(/^dcl_store_unavailable_total 1$/m);

    await rm(faultFile);
    let storage = ready.body.checks.storage;
    for (let i = 0; i < 100 && !storage.ok; i++) {
      await pause(100);
      storage = (await readiness()).body.checks.storage;
    }
    expect(storage.ok, "the storage check passes again by itself").to.equal(true);
    const resumed = await access(3);
    expect(resumed.status).to.equal(200);
    expect(resumed.body.results![0].index, "no gap where the refused writes were").to.equal(before.treeSize);

    const cp = await anchoredAll();
    expect(cp.treeSize).to.equal(acked.size);
    for (const [index, hash] of acked) {
      const p = await publicGet<{ leafHash: string; treeSize: number; root: string; proof: string[] }>(product.baseUrl, `/v1/log/proofs/inclusion?index=${index}&treeSize=${cp.treeSize}`);
      expect(p.leafHash, `entry ${index}`).to.equal(hash);
      verifyInclusion(index, p.treeSize, fromHex(p.leafHash), p.proof.map(fromHex), fromHex(cp.anchored!.root));
    }
    expect((await readiness()).status).to.equal(200);
    const up = await metrics();
    expect(up).to.match(/^dcl_store_writable 1$/m);
    expect(up).to.match(/^dcl_store_unavailable_total 1$/m);
  });

  it("refuses to start on a store moved away while the chain holds its anchors; dcl check says why", async () => {
    const cp = await anchoredAll();
    await product.stop();
    const offline = await dcl(["check", "--data", dataDir]);
    expect(offline.code, offline.out).to.equal(3);
    expect(offline.out).to.match(/chain part was NOT checked/);

    await rename(join(dataDir, "node"), join(scratch, "node.moved"));
    const printed = await startRefused();
    expect(printed).to.contain("STORE_EMPTY_BUT_ANCHORED");
    expect(printed).to.contain(`anchored ${cp.treeSize} entries`);

    // With the chain up (its anvil, from its state file, as the product starts it), dcl check sees the same.
    const chain = await startEmbeddedChain(dataDir, chainPort, BigInt(deployment.chainId));
    try {
      const lost = await dcl(["check", "--data", dataDir, "--rpc", chain.url]);
      expect(lost.code, lost.out).to.equal(1);
      expect(lost.out).to.contain("STORE_EMPTY_BUT_ANCHORED");
      await rm(join(dataDir, "node"), { recursive: true, force: true });
      await rename(join(scratch, "node.moved"), join(dataDir, "node"));
      const back = await dcl(["check", "--data", dataDir, "--rpc", chain.url]);
      expect(back.code, back.out).to.equal(0);
      expect(back.out).to.contain(`every entry and stored hash recomputed (${cp.treeSize} entries)`);
      const down = await dcl(["check", "--data", dataDir, "--rpc", `http://127.0.0.1:${await freePort()}`]);
      expect(down.code, down.out).to.equal(3);
    } finally {
      await chain.stop();
    }
    await product.start();
    expect((await checkpoint()).treeSize).to.equal(cp.treeSize);
  });

  it("refuses to start on an altered or truncated store", async () => {
    const cp = await anchoredAll();
    const anchored = cp.anchored!.treeSize;
    await product.stop();
    const good = join(scratch, "node.good");
    await cp_(join(dataDir, "node"), good);

    // One stored hash changed: entry 0's leaf hash, on every root's path (level-0 tile 0, its first
    // piece: tile <level 2 hex><tile 16 hex><offset 2 hex>, node/log/merkle-log.ts).
    await withStore(async ({ table }) => {
      const key = "00" + "0".repeat(16) + "00";
      const tile = Uint8Array.from((await table("tile").get(key)) as unknown as Uint8Array);
      tile[0] ^= 1;
      await table("tile").put(key, tile as never);
    });
    const altered = await startRefused();
    expect(altered).to.contain("STORE_ROOT_MISMATCH");
    expect(altered).to.contain("CHECKPOINT_MISMATCH");
    const checked = await dcl(["check", "--data", dataDir]);
    expect(checked.code, checked.out).to.equal(1);
    expect(checked.out).to.contain("STORE_LEAF_MISMATCH");

    // The recorded size lowered below the anchored one (the entries beyond it left where they were).
    await restoreFrom(good);
    await withStore(async ({ table }) => {
      await table("meta").put("size", String(anchored - 2) as never);
    });
    const truncated = await startRefused();
    expect(truncated).to.contain("STORE_BEHIND_ANCHOR");
    expect(truncated).to.contain("STORE_BEHIND_CHECKPOINT");

    await restoreFrom(good);
    await product.start();
    expect((await checkpoint()).treeSize).to.equal(cp.treeSize);
  });

  it("stops accepting writes when the chain anchors what its log does not hold: 503 LOG_DIVERGED, /readyz, one alert, logged once", async () => {
    expect((await access(4)).status).to.equal(200);
    const cp = await anchoredAll();
    // Another holder of the operator key anchors a longer log: the node's entries and three more.
    const leaves = [...Array.from({ length: cp.treeSize }, (_, i) => fromHex(acked.get(i)!)), ...[1, 2, 3].map((i) => leafHash(new Uint8Array([i])))];
    const provider = makeProvider(`http://127.0.0.1:${chainPort}`, BigInt(deployment.chainId));
    try {
      const anchors = connectDcl(deployment.addresses, operator.connect(provider)).anchors;
      const proof = referenceConsistencyProof(cp.treeSize, leaves).map(toHex);
      await (await anchors.anchor(codeId("log.cq.bigdata.0"), leaves.length, toHex(referenceRoot(leaves)), proof)).wait();
    } finally {
      provider.destroy();
    }
    product.output = "";
    // The node learns it when it next anchors: accepted until then (it cannot know sooner), refused after.
    expect((await access(1)).status).to.equal(200);
    let ready = await readiness();
    for (let i = 0; i < 150 && ready.body.checks.integrity.ok; i++) {
      await pause(100);
      ready = await readiness();
    }
    expect(ready.status).to.equal(503);
    expect(ready.body.checks.integrity.ok).to.equal(false);
    expect(ready.body.checks.integrity.detail).to.match(/LOG DIVERGED.*STORE_BEHIND_ANCHOR/);
    const refused = await access(1);
    expect([refused.status, refused.body.error?.code], refused.body.error?.message).to.deep.equal([503, "LOG_DIVERGED"]);

    await pause(3000); // ten anchoring ticks and more
    const alerts = await regulator.get<{ alerts: { id: string; rule: string; evidence: { problems: { code: string }[] } }[] }>("/v1/alerts?rule=log_diverged");
    expect(alerts.alerts).to.have.length(1);
    expect(alerts.alerts[0].evidence.problems.map((p) => p.code)).to.include("STORE_BEHIND_ANCHOR");
    // The regulator can still acknowledge it: a write beside the log, not in it.
    const acknowledged = await regulator.post<{ acknowledged: { note: string } }>(`/v1/alerts/${alerts.alerts[0].id}/acknowledge`, { note: "store to be restored" });
    expect(acknowledged.acknowledged.note).to.equal("store to be restored");
    expect(product.output.match(/the chain disagrees with the local log/g), product.output).to.have.length(1);
    expect(product.output.match(/log diverged: writes refused/g), product.output).to.have.length(1);
    expect((await access(1)).status).to.equal(503);
  });

  /** Copies a store directory. */
  async function cp_(from: string, to: string): Promise<void> {
    await rm(to, { recursive: true, force: true });
    await cp(from, to, { recursive: true });
  }
  /** Puts the good copy of the store back. */
  async function restoreFrom(good: string): Promise<void> {
    await rm(join(dataDir, "node"), { recursive: true, force: true });
    await cp(good, join(dataDir, "node"), { recursive: true });
  }
});
