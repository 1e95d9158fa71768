/**
 * Backup and restore of the embedded default, over real HTTP: `dcl backup` copies the store of the
 * product (started as `npm start` starts it) while clients keep appending; `dcl restore` brings the
 * copy, with its keys, deployment file and chain state, into a fresh data directory; the product
 * started there serves every entry up to the backup's size, each with an inclusion proof that leads to
 * the root the backup recorded, and goes on logging and anchoring.
 *
 * The first product anchors nothing while the test runs (a one-hour anchor interval): the chain then
 * never holds an anchor beyond the backup, which is the case where a restored node may serve. Once the
 * restored node has anchored one entry more, the same backup restored again makes it refuse to start
 * (STORE_BEHIND_ANCHOR; README, "Restore from backup").
 */
import { expect } from "chai";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ethers, Wallet } from "ethers";
import { DclClient, publicGet, type ApiTypedData } from "../../api/client";
import { freePort } from "../../node/chain/anvil";
import { codeId } from "../../node/chain/ids";
import { loadKeystore } from "../../node/keys/keystore";
import { readDeployment } from "../../node/runtime/deployment";
import { fromHex, verifyInclusion } from "../../node/verify";
import { backup, BackupError, restore, type BackupManifest } from "../../scripts/cli/backup";
import { ProductProcess } from "../support/product-process";

describe("backup of a running node, restore into a fresh data directory", function () {
  this.timeout(600_000);
  let root: string;
  const products: ProductProcess[] = [];
  const quiet = () => undefined;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), "dcl-backup-"));
  });

  after(async () => {
    for (const p of products) await p.cleanUp();
    await rm(root, { recursive: true, force: true });
  });

  async function product(dir: string, env: Record<string, string> = {}): Promise<ProductProcess> {
    const p = new ProductProcess({
      dataDir: dir,
      env: { DCL_PORT: String(await freePort()), DCL_CHAIN_PORT: String(await freePort()), DCL_LOG_LEVEL: "warn", DCL_INDEXER_POLL_MS: "100", ...env },
    });
    products.push(p);
    await p.start();
    return p;
  }

  it("copies the store while clients append; the restored node serves every entry up to the backup with proofs to its root", async () => {
    const dirA = join(root, "a");
    const a = await product(dirA, { DCL_ANCHOR_INTERVAL_MS: "3600000", DCL_ANCHOR_EVERY_ENTRIES: "1000000000" });
    const deployment = (await readDeployment(join(dirA, "deployment.json")))!;
    const password = (await readFile(join(dirA, "keys", "password"), "utf8")).trim();
    const options = { baseUrl: a.baseUrl, chainId: BigInt(deployment.chainId), registry: deployment.addresses.registry };
    const governor = new DclClient(options, codeId("cq.bigdata"), (await loadKeystore(join(dirA, "keys", "operator.json"), password)) as Wallet);
    const key = () => new Wallet(Wallet.createRandom().privateKey);
    const [tax, water] = [new DclClient(options, codeId("cq.tax"), key()), new DclClient(options, codeId("cq.water"), key())];
    for (const [code, c] of [["cq.tax", tax], ["cq.water", water]] as const) await governor.post("/v1/departments", { code, level: "city", signers: [c.key.address] });
    await governor.post("/v1/resources", { code: "res.fees", owner: water.department, schemaHash: ethers.ZeroHash, condition: "conditional", personal: false });
    const now = Math.floor(Date.now() / 1000);
    const ag = await tax.post<{ id: string; typedData: ApiTypedData }>("/v1/agreements", { provider: water.department, consumer: tax.department, resource: codeId("res.fees"), purpose: "fees", quota: "100000000", validFrom: now - 60, validUntil: now + 86400 });
    await water.post(`/v1/agreements/${ag.id}/signatures`, { signature: await water.signTypedData(ag.typedData) });
    await tax.post(`/v1/agreements/${ag.id}/signatures`, { signature: await tax.signTypedData(ag.typedData) });

    // Four clients append all along; the backup is taken in the middle.
    const acked = new Map<number, string>();
    const call = () => ({ agreementId: ag.id, recordCount: 1, requestHash: ethers.hexlify(ethers.randomBytes(32)), responseHash: ethers.hexlify(ethers.randomBytes(32)) });
    let appending = true;
    const clients = Array.from({ length: 4 }, async () => {
      while (appending) {
        const r = await tax.post<{ results: { index: number; leafHash: string }[] }>("/v1/access", { calls: Array.from({ length: 10 }, call) });
        for (const o of r.results) acked.set(o.index, o.leafHash);
      }
    });
    while (acked.size < 200) await new Promise((r) => setTimeout(r, 50));
    const ackedBeforeBackup = new Map(acked);
    const backupDir = join(root, "backup");
    const manifest: BackupManifest = await backup(backupDir, { api: a.baseUrl, data: dirA }, {}, quiet);
    const sizeAtBackupEnd = (await publicGet<{ treeSize: number }>(a.baseUrl, "/v1/log/checkpoint")).treeSize;
    while (acked.size < ackedBeforeBackup.size + 200) await new Promise((r) => setTimeout(r, 50));
    appending = false;
    await Promise.all(clients);

    expect(manifest.via).to.deep.equal({ api: a.baseUrl });
    expect(manifest.store.logSize, "the snapshot holds everything acknowledged before it was asked for").to.be.at.least(Math.max(...ackedBeforeBackup.keys()) + 1);
    expect(manifest.store.logSize).to.be.at.most(sizeAtBackupEnd);
    expect(Math.max(...acked.keys()) + 1, "appends went on after the backup").to.be.greaterThan(manifest.store.logSize);
    const kept = manifest.files.filter((f) => f.path).map((f) => f.path).sort();
    expect(kept).to.include.members(["keys/operator.json", "keys/password", "keys/subject-pepper", "deployment.json", "chain/state.json"]);
    expect((await stat(join(backupDir, "keys", "subject-pepper"))).mode & 0o777).to.equal(0o600);
    // A second backup never writes into the first.
    const again = await backup(backupDir, { api: a.baseUrl, data: dirA }, {}, quiet).catch((e: unknown) => e);
    expect(again).to.be.instanceOf(BackupError);
    await a.stop();

    // Restore into a fresh directory, with the chain's state (this machine lost everything).
    const dirB = join(root, "b");
    const restored = await restore(backupDir, { data: dirB, withChain: true }, {}, quiet);
    expect(restored.logSize).to.equal(manifest.store.logSize);
    expect(restored.check.problems, "the start-up check on the restored store").to.deep.equal([]);
    expect(restored.check.size).to.equal(manifest.store.logSize);
    expect((await readdir(join(dirB, "keys"))).sort()).to.include.members(["operator.json", "password", "subject-pepper"]);
    // Restoring over it again is refused without --force: the store is there now.
    expect(await restore(backupDir, { data: dirB, withChain: true }, {}, quiet).catch((e: unknown) => e)).to.be.instanceOf(BackupError);

    const b = await product(dirB, { DCL_ANCHOR_INTERVAL_MS: "300" });
    const cp = await publicGet<{ treeSize: number }>(b.baseUrl, "/v1/log/checkpoint");
    expect(cp.treeSize).to.equal(manifest.store.logSize);
    const rootAtBackup = fromHex(manifest.store.logRoot);
    let checked = 0;
    for (const [index, leafHash] of acked) {
      if (index >= manifest.store.logSize) continue;
      const p = await publicGet<{ leafHash: string; proof: string[]; root: string }>(b.baseUrl, `/v1/log/proofs/inclusion?index=${index}&treeSize=${manifest.store.logSize}`);
      expect(p.leafHash, `entry ${index}`).to.equal(leafHash);
      verifyInclusion(index, manifest.store.logSize, fromHex(leafHash), p.proof.map(fromHex), rootAtBackup);
      checked++;
    }
    expect(checked).to.equal([...acked.keys()].filter((i) => i < manifest.store.logSize).length);
    expect(checked).to.be.at.least(ackedBeforeBackup.size);

    // The restored node knows the chain's state (the agreement) and goes on logging and anchoring.
    const bOptions = { ...options, baseUrl: b.baseUrl };
    const taxB = new DclClient(bOptions, tax.department, tax.key);
    expect((await taxB.get<{ onChain: { status: string } }>(`/v1/agreements/${ag.id}`)).onChain.status).to.equal("active");
    const more = await taxB.post<{ results: { index: number }[] }>("/v1/access", { calls: [call()] });
    expect(more.results[0].index).to.equal(manifest.store.logSize);
    let anchored = 0;
    for (let i = 0; i < 200 && anchored < manifest.store.logSize + 1; i++) {
      anchored = (await publicGet<{ anchored: { treeSize: number } | null }>(b.baseUrl, "/v1/log/checkpoint")).anchored?.treeSize ?? 0;
      if (anchored < manifest.store.logSize + 1) await new Promise((r) => setTimeout(r, 100));
    }
    expect(anchored).to.equal(manifest.store.logSize + 1);

    // Only the node's operator key may read the store: a department's key is refused, an unsigned request too.
    const refused = await taxB.send("GET", "/v1/operator/backup");
    expect(refused.status).to.equal(403);
    expect(((await refused.json()) as { error: { code: string } }).error.code).to.equal("FORBIDDEN_ROLE");
    expect((await fetch(b.baseUrl + "/v1/operator/backup")).status).to.equal(401);

    // The same backup again, now that the chain has anchored an entry it does not hold: the node refuses to start.
    await b.stop();
    const behind = await restore(backupDir, { data: dirB, force: true }, {}, quiet);
    expect(behind.check.size).to.equal(manifest.store.logSize);
    const refusal = await b.start().then(() => undefined, (e: Error) => e);
    expect(refusal, "a restored store behind the chain's anchor is not served").to.be.instanceOf(Error);
    expect(refusal!.message).to.contain("STORE_BEHIND_ANCHOR");

    // With the chain's state too, the chain is the backup's again: anvil's own dump of the later chain is moved aside, not started from.
    const withChain = await restore(backupDir, { data: dirB, force: true, withChain: true }, {}, quiet);
    expect(withChain.check.size).to.equal(manifest.store.logSize);
    const chainFiles = await readdir(join(dirB, "chain"));
    expect(chainFiles).to.not.include("anvil-dump.json");
    expect(chainFiles.some((f) => f.startsWith("anvil-dump.json.before-restore-")), "moved aside, not deleted").to.equal(true);
    await b.start();
    expect((await publicGet<{ treeSize: number }>(b.baseUrl, "/v1/log/checkpoint")).treeSize).to.equal(manifest.store.logSize);
    await b.stop();
  });
});
