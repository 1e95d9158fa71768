/**
 * The embedded default survives kill -9: the product (`scripts/start.ts`, as `npm start` runs it) is
 * killed with SIGKILL at random moments while it appends, once together with its anvil; after each
 * restart every acknowledged department, agreement, consent, transfer and log entry is there, and
 * the log's latest anchor matches the chain.
 */
import { expect } from "chai";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ethers, Wallet } from "ethers";
import { ApiError, DclClient, publicGet, type ApiTypedData } from "../../api/client";
import { freePort } from "../../node/chain/anvil";
import { codeId } from "../../node/chain/ids";
import { loadKeystore } from "../../node/keys/keystore";
import { readDeployment } from "../../node/runtime/deployment";
import { ProductProcess } from "../support/product-process";

describe("embedded default under kill -9", function () {
  this.timeout(600_000);
  let dir: string;
  let baseUrl: string;
  let product: ProductProcess;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "dcl-sigkill-"));
    product = new ProductProcess({
      dataDir: dir,
      env: { DCL_PORT: String(await freePort()), DCL_CHAIN_PORT: String(await freePort()), DCL_LOG_LEVEL: "warn", DCL_ANCHOR_INTERVAL_MS: "300", DCL_INDEXER_POLL_MS: "100" },
    });
    baseUrl = product.baseUrl;
  });

  after(async () => {
    await product.cleanUp();
    await rm(dir, { recursive: true, force: true });
  });

  it("keeps every acknowledged write across SIGKILLs of the node, and of the node with its chain", async () => {
    await product.start();
    const deployment = (await readDeployment(join(dir, "deployment.json")))!;
    const password = (await readFile(join(dir, "keys", "password"), "utf8")).trim();
    const options = { baseUrl, chainId: BigInt(deployment.chainId), registry: deployment.addresses.registry };
    const governor = new DclClient(options, codeId("cq.bigdata"), (await loadKeystore(join(dir, "keys", "operator.json"), password)) as Wallet);
    const key = () => new Wallet(Wallet.createRandom().privateKey);
    const water = new DclClient(options, codeId("cq.water"), key());
    const tax = new DclClient(options, codeId("cq.tax"), key());
    const civil = new DclClient(options, codeId("cq.civil"), key());
    for (const [code, c] of [["cq.water", water], ["cq.tax", tax], ["cq.civil", civil]] as const) {
      await governor.post("/v1/departments", { code, level: "city", signers: [c.key.address] });
    }
    await governor.post("/v1/resources", { code: "res.fees", owner: water.department, schemaHash: ethers.ZeroHash, condition: "conditional", personal: false });
    await governor.post("/v1/resources", { code: "res.people", owner: civil.department, schemaHash: ethers.ZeroHash, condition: "conditional", personal: true });
    const now = Math.floor(Date.now() / 1000);
    const ag = await tax.post<{ id: string; typedData: ApiTypedData }>("/v1/agreements", { provider: water.department, consumer: tax.department, resource: codeId("res.fees"), purpose: "fees", quota: "100000000", validFrom: now - 60, validUntil: now + 86400 });
    await water.post(`/v1/agreements/${ag.id}/signatures`, { signature: await water.signTypedData(ag.typedData) });
    await tax.post(`/v1/agreements/${ag.id}/signatures`, { signature: await tax.signTypedData(ag.typedData) });
    const consent = await civil.post<{ id: string; typedData: ApiTypedData }>("/v1/consents", { subjectId: "500101199001011234", grantee: tax.department, resource: codeId("res.people"), purpose: "p", kind: "separate", validUntil: now + 86400, evidenceHash: ethers.id("form") });
    await civil.post(`/v1/consents/${consent.id}/signatures`, { signature: await civil.signTypedData(consent.typedData) });
    const records = [{ payer: "91500000MA5U000001", permitNo: "QS-1", period: "202610", volumeM3: "10", rateFenPerM3: "15", amountFen: "150" }];
    const tr = await water.post<{ id: string; typedData: ApiTypedData }>("/v1/transfers", { to: tax.department, category: "water-resource-fee", period: 202610, records });
    await water.post(`/v1/transfers/${tr.id}/signatures`, { signature: await water.signTypedData(tr.typedData) });
    await tax.post(`/v1/transfers/${tr.id}/signatures`, { signature: await tax.signTypedData(tr.typedData) });

    const acked = new Map<number, string>();
    const call = () => ({ agreementId: ag.id, recordCount: 1, requestHash: ethers.hexlify(ethers.randomBytes(32)), responseHash: ethers.hexlify(ethers.randomBytes(32)) });
    const rounds = 4;
    for (let round = 0; round < rounds; round++) {
      // Append in a loop; kill -9 at a random moment while requests are in flight.
      let stopAppending = false;
      const appending = (async () => {
        while (!stopAppending) {
          try {
            const r = await tax.post<{ results: { index: number; leafHash: string }[] }>("/v1/access", { calls: Array.from({ length: 20 }, call) });
            for (const o of r.results) acked.set(o.index, o.leafHash);
          } catch {
            return; // the product died mid-request: that batch was not acknowledged
          }
        }
      })();
      await new Promise((r) => setTimeout(r, 300 + Math.floor(Math.random() * 1200)));
      await product.kill9(round === rounds - 1);
      stopAppending = true;
      await appending;
      await product.start();

      // Everything acknowledged is there.
      expect((await governor.get<{ signers: string[] }>(`/v1/departments/${water.department}`)).signers).to.deep.equal([water.key.address.toLowerCase()]);
      expect((await tax.get<{ onChain: { status: string } }>(`/v1/agreements/${ag.id}`)).onChain.status).to.equal("active");
      expect((await civil.get<{ onChain: { revokedAt: number } }>(`/v1/consents/${consent.id}`)).onChain.revokedAt).to.equal(0);
      expect((await tax.get<{ onChain: { recordCount: string } }>(`/v1/transfers/${tr.id}`)).onChain.recordCount).to.equal("1");
      for (const [index, leafHash] of acked) {
        const p = await publicGet<{ leafHash: string }>(baseUrl, `/v1/log/proofs/inclusion?index=${index}`);
        expect(p.leafHash, `entry ${index}`).to.equal(leafHash);
      }
      // Anchoring resumes and the latest anchor matches the chain and the log.
      let cp = await publicGet<{ treeSize: number; anchored: { treeSize: number; root: string } | null }>(baseUrl, "/v1/log/checkpoint");
      for (let i = 0; i < 100 && (cp.anchored?.treeSize ?? 0) < cp.treeSize; i++) {
        await new Promise((r) => setTimeout(r, 100));
        cp = await publicGet(baseUrl, "/v1/log/checkpoint");
      }
      expect(cp.anchored?.treeSize).to.equal(cp.treeSize);
      const consistency = await publicGet<{ root1: string }>(baseUrl, `/v1/log/proofs/consistency?from=${cp.anchored!.treeSize}`);
      expect(consistency.root1).to.equal(cp.anchored!.root);
    }
    expect(acked.size).to.be.greaterThan(0);
    const err = await tax.get(`/v1/agreements/${ethers.id("none")}`).catch((e: ApiError) => e);
    expect((err as ApiError).status).to.equal(404);
  });
});
