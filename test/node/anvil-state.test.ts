/**
 * persistAnvilState, the embedded chain's write after every acknowledged transaction: what it writes
 * is a state anvil starts from (a balance set before the write is there after a restart on the file
 * alone), the write replaces the file whole, and a JSON-RPC error or a dead endpoint rejects instead of
 * writing anything.
 */
import { expect } from "chai";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ethers } from "ethers";
import { Anvil, freePort, persistAnvilState } from "../../node/chain/anvil";

describe("anvil state written by the node (persistAnvilState)", function () {
  this.timeout(60_000);
  let dir: string;
  const who = ethers.Wallet.createRandom().address;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "dcl-anvil-state-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes a state anvil restarts from, replacing the file whole", async () => {
    const file = join(dir, "state.json");
    await writeFile(file, "not the state"); // an older file: replaced, not appended to
    // No --state: only the node's write can have put the balance in the file.
    const first = await Anvil.start({ port: await freePort() });
    const setter = new ethers.JsonRpcProvider(first.url);
    try {
      await setter.send("anvil_setBalance", [who, "0x1234"]);
      await persistAnvilState(first.url, file);
    } finally {
      setter.destroy();
      await first.stop("SIGKILL");
    }
    expect(JSON.parse(await readFile(file, "utf8"))).to.be.an("object");
    const second = await Anvil.start({ port: await freePort(), stateFile: file });
    const provider = new ethers.JsonRpcProvider(second.url);
    try {
      expect(await provider.getBalance(who)).to.equal(0x1234n);
    } finally {
      provider.destroy();
      await second.stop("SIGKILL");
    }
  });

  it("rejects, writing nothing, on a JSON-RPC error or when nothing answers", async () => {
    const file = join(dir, "refused.json");
    const server: Server = createServer((_req, res) => res.end(JSON.stringify({ jsonrpc: "2.0", id: 1, error: { code: -32601, message: "method not found" } })));
    const port = await freePort();
    await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
    try {
      await persistAnvilState(`http://127.0.0.1:${port}`, file).then(() => expect.fail("resolved"), (err: Error) => expect(err.message).to.match(/method not found/));
    } finally {
      await new Promise((r) => server.close(r));
    }
    await persistAnvilState(`http://127.0.0.1:${port}`, file).then(() => expect.fail("resolved"), (err: NodeJS.ErrnoException) => expect(err.code).to.equal("ECONNREFUSED"));
    await readFile(file).then(() => expect.fail("a file was written"), (err: NodeJS.ErrnoException) => expect(err.code).to.equal("ENOENT"));
  });
});
