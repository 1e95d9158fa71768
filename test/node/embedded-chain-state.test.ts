/**
 * The embedded chain's state file under kill -9. CI once saw the product refuse to start after a
 * kill -9 of the node with its chain ("anvil exited with 2", test/integration/restart-sigkill.test.ts):
 * anvil's own periodic dump rewrites its `--state` file in place, a kill -9 in the middle of one
 * leaves it cut short, and anvil then refuses the file at start (exit 2: "failed to parse json file").
 * Now the file the chain starts from is only ever replaced whole (temporary file, fsync, rename);
 * anvil dumps to a file of its own, used at a start only when it is whole and further along.
 */
import { expect } from "chai";
import { mkdtemp, readFile, rm, stat, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../node/chain/anvil";
import { makeProvider } from "../../node/chain/client";
import { startEmbeddedChain, type EmbeddedChain } from "../../node/runtime/embedded-chain";
import { killEmbeddedChain } from "../support/product-process";

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("embedded chain's state file under kill -9", function () {
  this.timeout(120_000);
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "dcl-embedded-state-"));
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it("never has the file it starts from written in place, only replaced whole", async () => {
    const chain = await startEmbeddedChain(dir, await freePort(), 31337n);
    const provider = makeProvider(chain.url, 31337n, 50);
    try {
      await chain.persist();
      let last = await stat(chain.stateFile);
      let inPlace = 0;
      // Blocks the node did not write; anvil's own dumps (every second) must not touch the file.
      for (let i = 0; i < 30; i++) {
        if (i % 5 === 0) await provider.send("evm_mine", []);
        if (i === 15) await chain.persist(); // the node's own write: a new file renamed over it
        await pause(100);
        const now = await stat(chain.stateFile);
        if (now.ino === last.ino && (now.size !== last.size || now.mtimeMs !== last.mtimeMs)) inPlace++;
        last = now;
      }
      expect(inPlace, "writes into the file in place").to.equal(0);
      expect(JSON.parse(await readFile(chain.stateFile, "utf8"))).to.be.an("object");
    } finally {
      provider.destroy();
      await chain.stop();
    }
  });

  it("starts from anvil's own dump when it is whole and further along, and without it when it was cut short", async () => {
    const port = await freePort();
    let chain: EmbeddedChain = await startEmbeddedChain(dir, port, 31337n);
    const provider = makeProvider(chain.url, 31337n, 50);
    try {
      await chain.persist();
      const written = chain.durableBlock();
      for (let i = 0; i < 3; i++) await provider.send("evm_mine", []);
      const head = await provider.getBlockNumber();
      await pause(2500); // anvil's own dump (every second) holds the three blocks; the node's file does not
      await killEmbeddedChain(dir);
      chain = await startEmbeddedChain(dir, port, 31337n);
      expect(await provider.getBlockNumber(), "the blocks anvil alone had written").to.equal(head);
      expect(chain.durableBlock()).to.equal(head);

      // A dump cut short by a kill -9 in the middle of it: the chain starts from the node's file.
      await chain.persist();
      await killEmbeddedChain(dir);
      await writeFile(chain.dumpFile, '{"block":{"number":"0x');
      chain = await startEmbeddedChain(dir, port, 31337n);
      expect(await provider.getBlockNumber()).to.be.at.least(head);
      expect(head).to.be.greaterThan(written);
    } finally {
      provider.destroy();
      await chain.stop();
    }
  });

  it("refuses to start from a state file cut short with a message that names it, not anvil's exit code", async () => {
    let chain = await startEmbeddedChain(dir, await freePort(), 31337n);
    await chain.persist();
    await chain.stop();
    const size = (await stat(chain.stateFile)).size;
    await truncate(chain.stateFile, Math.floor(size / 2)); // as a data directory from before this fix can be
    await rm(chain.dumpFile, { force: true });
    const err = await startEmbeddedChain(dir, await freePort(), 31337n).then(
      (c) => ((chain = c), c.stop().then(() => expect.fail("started"))),
      (e: Error) => e,
    );
    expect((err as Error).message).to.match(/state\.json/).and.to.match(/not whole|cut short/);
  });
});
