/**
 * The embedded chain and the index across a kill -9 of the chain. A kill -9 of the node with its
 * chain once left the node unable to start ("block 36 was 0xc02c… when indexed, now 0x9637…: reorg
 * deeper than the confirmation depth", test/integration/restart-sigkill.test.ts): the indexer had
 * applied a block the chain had mined but not yet written to its state file, and the restarted chain
 * mined that height again with another hash. Now the indexer applies no block beyond the last one the
 * file holds, writing the state first, so the index is never ahead of the chain that restarts.
 */
import { expect } from "chai";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ethers, Wallet } from "ethers";
import { Level } from "level";
import { freePort } from "../../node/chain/anvil";
import { makeProvider } from "../../node/chain/client";
import { addressesOf, deployDcl } from "../../node/chain/deploy";
import { codeId, DepartmentLevel } from "../../node/chain/ids";
import { Indexer } from "../../node/indexer/indexer";
import { startEmbeddedChain, type EmbeddedChain } from "../../node/runtime/embedded-chain";
import { killEmbeddedChain } from "../support/product-process";

describe("embedded chain under kill -9, and the index", function () {
  this.timeout(120_000);
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "dcl-embedded-index-"));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it("writes the chain's state before it indexes a block the node did not write, so the index resumes after the chain is killed", async () => {
    const port = await freePort();
    let chain: EmbeddedChain = await startEmbeddedChain(dir, port, 31337n);
    const provider = makeProvider(chain.url, 31337n, 50);
    const db = new Level<string, unknown>(join(dir, "index"));
    try {
      const operator = new Wallet(Wallet.createRandom().privateKey).connect(provider);
      await provider.send("anvil_setBalance", [operator.address, "0x3635C9ADC5DEA00000"]);
      const contracts = await deployDcl(operator, operator.address);
      const addresses = await addressesOf(contracts);
      await chain.persist();
      const durable = { block: () => chain.durableBlock(), persist: () => chain.persist() };
      const indexer = () => new Indexer(db, { provider, addresses, confirmations: 0, startBlock: 0, durable });
      await indexer().syncOnce();

      // A transaction the node did not send (a council member's, say): mined, not yet in the file.
      const id = codeId(`cq.kill9.${Date.now()}`);
      await (await contracts.registry.registerDepartment(id, DepartmentLevel.City, ethers.ZeroHash, [Wallet.createRandom().address])).wait();
      const head = await provider.getBlockNumber();
      expect(chain.durableBlock()).to.be.lessThan(head);
      await indexer().syncOnce();
      expect(await indexer().department(id), "indexed").to.not.equal(undefined);
      expect(chain.durableBlock(), "written before it was indexed").to.be.at.least(head);

      // kill -9 of the chain at once (before its own dump, a second later), then a start on its file.
      await killEmbeddedChain(dir);
      chain = await startEmbeddedChain(dir, port, 31337n);
      expect(await provider.getBlockNumber(), "the restarted chain holds the indexed block").to.be.at.least(head);
      await indexer().syncOnce(); // refused as a deep reorg if the index were ahead of the chain
      expect((await indexer().department(id))?.level).to.equal(DepartmentLevel.City);
    } finally {
      provider.destroy();
      await db.close();
      await chain.stop();
    }
  });
});
