/**
 * The relay outbox against a separately started anvil, with a real LevelDB: a relay is on disk before
 * anything is sent, the same call finds the same relay, a revert fails it with the contract's error and
 * nothing signed, and a "crash" (the worker stopped and a new client opened on the same store, as after a
 * kill -9) at the worst moments — signed and broadcast but not mined; broadcast and lost by the chain;
 * its nonce taken by another transaction — ends with the call on chain exactly once. A transaction
 * passed over by mined blocks (its fee below the base fee) is signed again with higher fees under its
 * nonce, and whichever signing is mined completes the relay; a chain that mines nothing, or a fee
 * limit with no room left, gets no replacement.
 */
import { expect } from "chai";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ethers, Transaction, Wallet } from "ethers";
import { Level } from "level";
import { Anvil } from "../../node/chain/anvil";
import { ChainClient, makeProvider } from "../../node/chain/client";
import { addressesOf, deployDcl, type DclAddresses } from "../../node/chain/deploy";
import { codeId, DepartmentLevel } from "../../node/chain/ids";
import { BUMP_AFTER_BLOCKS, relayId, relayView, type RelayRecord } from "../../node/chain/outbox";
import { StoreGuard } from "../../node/store/store-guard";

describe("relay outbox (anvil, LevelDB)", function () {
  this.timeout(120_000);
  let dir: string;
  let anvil: Anvil;
  let provider: ethers.JsonRpcProvider;
  let addresses: DclAddresses;
  let db: Level<string, unknown>;
  let client: ChainClient;
  const operator = new Wallet(Wallet.createRandom().privateKey);
  let seq = 0;

  const open = async (tuning: { bumpAfterMs?: number; maxFeePerGas?: bigint } = {}) => {
    client = new ChainClient({ rpcUrl: anvil.url, chainId: 31337n, addresses, pollingMs: 50, ...tuning }, operator);
    await client.openOutbox(db);
    return client;
  };
  /** "Crashes" the client: its worker stops where it is (the relays stay on disk as they are) and a new one opens the same store. */
  const crashAndReopen = async () => {
    await client.close();
    return open();
  };
  const register = (id: string) => client.submit((c) => c.registry.registerDepartment.populateTransaction(id, DepartmentLevel.City, ethers.ZeroHash, [Wallet.createRandom().address]));
  const registrations = async (id: string) => (await provider.getLogs({ address: addresses.registry, topics: [ethers.id("DepartmentRegistered(bytes32,uint8,bytes32,address[])"), id], fromBlock: 0 })).length;
  const until = async (what: string, check: () => Promise<boolean>) => {
    for (let i = 0; i < 400; i++) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`timed out waiting for ${what}`);
  };
  const stateOf = async (id: string) => (await client.outbox.get(id))!.state;
  const nonce = () => provider.getTransactionCount(operator.address, "latest");
  const fresh = () => codeId(`cq.outbox.${++seq}.${Date.now()}`);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "dcl-outbox-"));
    anvil = await Anvil.start({ stateFile: join(dir, "chain.json") });
    provider = makeProvider(anvil.url, 31337n, 50);
    await provider.send("anvil_setBalance", [operator.address, "0x3635C9ADC5DEA00000"]);
    addresses = await addressesOf(await deployDcl(operator.connect(provider), operator.address));
    db = new Level<string, unknown>(join(dir, "store"), { valueEncoding: "json" });
    await open();
  });

  after(async () => {
    await client?.close();
    await db?.close();
    provider?.destroy();
    await anvil?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("records a relay with the id of its call, mines it, and finds the same relay for the same call without a second transaction", async () => {
    const id = fresh();
    const r = await register(id);
    expect(r.id).to.equal(relayId(31337n, addresses.registry, r.call.data, 0));
    expect(r).to.include({ attempt: 0, repeatable: false });
    expect(r.call).to.include({ contract: "registry", method: "registerDepartment" });
    const done = (await client.outbox.wait(r.id, 30_000))!;
    expect(done.state).to.equal("mined");
    expect(done.block).to.be.a("number");
    const before = await nonce();
    const again = await client.outbox.submit(r.call);
    expect(again.id).to.equal(r.id);
    expect(again.state).to.equal("mined");
    await new Promise((r2) => setTimeout(r2, 300));
    expect(await nonce()).to.equal(before);
    expect(await registrations(id)).to.equal(1);
    expect(client.outbox.depth()).to.equal(0);
  });

  it("fails a relay the contract refuses with its custom error, signing nothing; the same call again is a new attempt", async () => {
    const before = await nonce();
    const unknown = fresh();
    const r = await client.submit((c) => c.registry.setDepartmentActive.populateTransaction(unknown, false));
    const done = (await client.outbox.wait(r.id, 30_000))!;
    expect(done.state).to.equal("failed");
    expect(done.error?.code).to.equal("RegistryUnknownDepartment");
    expect(done.error?.args?.[0]).to.equal(unknown);
    expect(done.nonce).to.equal(undefined);
    expect(await nonce()).to.equal(before);
    const retried = await client.outbox.submit(r.call);
    expect(retried.attempt).to.equal(1);
    expect(retried.id).to.equal(relayId(31337n, addresses.registry, r.call.data, 1));
    expect((await client.outbox.wait(retried.id, 30_000))!.state).to.equal("failed");
  });

  it("a relay signed and broadcast before a crash, mined while the node was down, is recognised by its hash and not sent again", async () => {
    await provider.send("evm_setAutomine", [false]);
    try {
      const id = fresh();
      const r = await register(id);
      // Signed and kept on disk (state sent) first, broadcast next: wait until the chain's pool has it.
      await until("the relay to be broadcast", async () => {
        const now = await client.outbox.get(r.id);
        return now?.state === "sent" && (await provider.getTransaction(now.tx!)) !== null;
      });
      const sent = { ...((await client.outbox.get(r.id)) as RelayRecord) };
      await client.close(); // the node dies with its relay sent, before any receipt
      await provider.send("evm_mine", []);
      const before = await nonce();
      await open();
      const done = (await client.outbox.wait(r.id, 30_000))!;
      expect(done.state).to.equal("mined");
      expect(done.tx).to.equal(sent.tx);
      expect(done.nonce).to.equal(sent.nonce);
      await provider.send("evm_mine", []);
      expect(await nonce()).to.equal(before);
      expect(await registrations(id)).to.equal(1);
    } finally {
      await provider.send("evm_setAutomine", [true]);
    }
  });

  it("a relay sent and then lost by the chain is broadcast again byte for byte after a restart", async () => {
    await provider.send("evm_setAutomine", [false]);
    const id = fresh();
    let sent: RelayRecord;
    try {
      const r = await register(id);
      await until("the relay to be sent", async () => (await stateOf(r.id)) === "sent");
      sent = { ...((await client.outbox.get(r.id)) as RelayRecord) };
      await client.close();
      await provider.send("anvil_dropTransaction", [sent.tx]);
      expect(await provider.getTransaction(sent.tx!)).to.equal(null);
    } finally {
      await provider.send("evm_setAutomine", [true]);
    }
    await open();
    const done = (await client.outbox.wait(sent.id, 30_000))!;
    expect(done.state).to.equal("mined");
    expect(done.tx, "the same signed transaction").to.equal(sent.tx);
    expect(await registrations(id)).to.equal(1);
  });

  it("a relay whose nonce went to another transaction is signed again with a new nonce, and lands once", async () => {
    await provider.send("evm_setAutomine", [false]);
    const id = fresh();
    let sent: RelayRecord;
    try {
      const r = await register(id);
      await until("the relay to be sent", async () => (await stateOf(r.id)) === "sent");
      sent = { ...((await client.outbox.get(r.id)) as RelayRecord) };
      await client.close();
      await provider.send("anvil_dropTransaction", [sent.tx]);
    } finally {
      await provider.send("evm_setAutomine", [true]);
    }
    // Another transaction of the same key takes the nonce (another process with the key, an operator's hand).
    await (await operator.connect(provider).sendTransaction({ to: operator.address, value: 0n, nonce: sent.nonce })).wait();
    await open();
    const done = (await client.outbox.wait(sent.id, 30_000))!;
    expect(done.state).to.equal("mined");
    expect(done.tx).to.not.equal(sent.tx);
    expect(done.nonce).to.equal(sent.nonce! + 1);
    expect(await registrations(id)).to.equal(1);
  });

  it("withdraws a relay only while it is unsigned (WITHDRAWN); a signed one goes on to its end", async () => {
    await anvil.stop("SIGTERM");
    const unsigned = await register(fresh());
    expect(await client.outbox.withdraw(unsigned.id)).to.equal(true);
    const withdrawn = (await client.outbox.get(unsigned.id))!;
    expect(withdrawn.state).to.equal("failed");
    expect(withdrawn.error?.code).to.equal("WITHDRAWN");
    expect(client.outbox.depth()).to.equal(0);
    await anvil.restart();
    await provider.send("evm_setAutomine", [false]);
    try {
      const id = fresh();
      const r = await register(id);
      await until("the relay to be broadcast", async () => {
        const now = await client.outbox.get(r.id);
        return now?.state === "sent" && (await provider.getTransaction(now.tx!)) !== null;
      });
      expect(await client.outbox.withdraw(r.id), "signed: it may land, so it is not withdrawn").to.equal(false);
      await provider.send("evm_mine", []);
      expect((await client.outbox.wait(r.id, 30_000))!.state).to.equal("mined");
      expect(await registrations(id)).to.equal(1);
    } finally {
      await provider.send("evm_setAutomine", [true]);
    }
  });

  it("a withdrawal the store cannot write leaves the relay pending and the worker pausing, not spinning; it is sent once both are back", async () => {
    // The soak found a node that stopped answering after a write fault: withdraw() marked the relay failed
    // before its save, the save was refused, and the worker looped on a "final" relay still open.
    const guarded = new Level<string, unknown>(join(dir, "guarded"), { valueEncoding: "json" });
    const guard = new StoreGuard(guarded, { probeMs: 50 }).install();
    const own = new ChainClient({ rpcUrl: anvil.url, chainId: 31337n, addresses, pollingMs: 50 }, operator);
    await own.openOutbox(guarded);
    try {
      await anvil.stop("SIGTERM");
      const id = fresh();
      const r = await own.submit((c) => c.registry.registerDepartment.populateTransaction(id, DepartmentLevel.City, ethers.ZeroHash, [Wallet.createRandom().address]));
      guard.faults.failWrites("test: the disk refuses writes");
      const refused = await own.outbox.withdraw(r.id).then(() => undefined, (err: Error) => err);
      expect(refused, "the withdrawal is refused, not acknowledged").to.be.instanceOf(Error);
      expect(own.outbox.depth(), "still open").to.equal(1);
      expect((await own.outbox.get(r.id))!.state, "not failed in memory when not on disk").to.equal("pending");
      let ticks = 0;
      const timer = setInterval(() => ticks++, 10);
      await new Promise((done) => setTimeout(done, 300));
      clearInterval(timer);
      expect(ticks, "timers still fire: the event loop is not starved").to.be.greaterThan(5);
      guard.faults.heal();
      await anvil.restart();
      const done = (await own.outbox.wait(r.id, 30_000))!;
      expect(done.state).to.equal("mined");
      expect(await registrations(id)).to.equal(1);
    } finally {
      guard.faults.heal();
      await own.close();
      await guard.close();
      await guarded.close();
    }
  });

  it("keeps a relay through a chain outage, retrying, and sends it once the chain is back", async () => {
    await anvil.stop("SIGTERM"); // anvil writes its state file and goes: connections are refused
    const id = fresh();
    const r = await register(id);
    expect(await client.outbox.wait(r.id, 1500), "not mined while the chain is down").to.equal(undefined);
    expect(await stateOf(r.id)).to.equal("pending");
    expect((await client.outbox.get(r.id))!.lastError, "the failure kept for the logs").to.be.a("string");
    expect(client.outbox.depth()).to.equal(1);
    expect(client.outbox.oldestAgeSeconds()).to.be.greaterThan(1);
    await anvil.restart();
    const done = (await client.outbox.wait(r.id, 30_000))!;
    expect(done.state).to.equal("mined");
    expect(await registrations(id)).to.equal(1);
    expect(client.outbox.depth()).to.equal(0);
    expect(client.outbox.oldestAgeSeconds()).to.equal(0);
  });

  describe("fees that fell behind", () => {
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const hex = (n: bigint) => "0x" + n.toString(16);
    /** Submits a registration with automine off and resolves once its first signing is in the pool. */
    async function sentInPool(id: string): Promise<RelayRecord> {
      const r = await register(id);
      await until("the relay to be broadcast", async () => {
        const now = await client.outbox.get(r.id);
        return now?.state === "sent" && (await provider.getTransaction(now.tx!)) !== null;
      });
      return { ...((await client.outbox.get(r.id)) as RelayRecord) };
    }
    /** Mines `n` blocks whose base fee is above what `raw` offers, so they pass it over. */
    async function passOver(raw: string, n = BUMP_AFTER_BLOCKS): Promise<void> {
      const offered = Transaction.from(raw).maxFeePerGas!;
      for (let i = 0; i < n; i++) {
        await provider.send("anvil_setNextBlockBaseFeePerGas", [hex(offered * 2n)]);
        await provider.send("evm_mine", []);
      }
    }

    beforeEach(async () => {
      await client.close();
      await open({ bumpAfterMs: 300 });
      await provider.send("evm_setAutomine", [false]);
    });
    afterEach(async () => {
      await provider.send("evm_setAutomine", [true]);
      await provider.send("evm_mine", []);
      await client.close();
      await open();
    });

    it("signs a transaction passed over by mined blocks again under its nonce with higher fees, once blocks pass, and it lands once", async () => {
      const id = fresh();
      const first = await sentInPool(id);
      await sleep(1000); // past bumpAfterMs, but no block mined: nothing to fall behind
      expect((await client.outbox.get(first.id))!.tx, "no replacement on a chain that mines nothing").to.equal(first.tx);

      await passOver(first.raw!, BUMP_AFTER_BLOCKS - 1);
      await sleep(500);
      expect((await client.outbox.get(first.id))!.tx, `no replacement before ${BUMP_AFTER_BLOCKS} blocks`).to.equal(first.tx);
      await passOver(first.raw!, 1);
      expect(await provider.getTransactionReceipt(first.tx!)).to.equal(null);
      await until("a replacement", async () => (await client.outbox.get(first.id))!.tx !== first.tx);
      const second = { ...((await client.outbox.get(first.id)) as RelayRecord) };
      const [a, b] = [Transaction.from(first.raw!), Transaction.from(second.raw!)];
      expect(second.state).to.equal("sent");
      expect(second.nonce).to.equal(first.nonce);
      expect(b.nonce).to.equal(a.nonce);
      expect(b.data).to.equal(a.data);
      expect(second.replaced).to.deep.equal([first.tx]);
      expect(relayView(second).replaced, "shown to API clients").to.deep.equal([first.tx]);
      expect(b.maxFeePerGas! * 1000n >= a.maxFeePerGas! * 1125n, `${b.maxFeePerGas} is not 12.5 % above ${a.maxFeePerGas}`).to.equal(true);
      expect(b.maxPriorityFeePerGas! * 1000n >= a.maxPriorityFeePerGas! * 1125n).to.equal(true);
      await until("the replacement in the pool", async () => (await provider.getTransaction(second.tx!)) !== null);

      const before = await nonce();
      await provider.send("evm_mine", []);
      const done = (await client.outbox.wait(first.id, 30_000))!;
      expect(done.state).to.equal("mined");
      expect(done.tx).to.equal(second.tx);
      expect(relayView(done).replaced).to.deep.equal([first.tx]);
      expect(done.raw).to.equal(undefined);
      expect(await nonce()).to.equal(before + 1);
      expect(await registrations(id)).to.equal(1);
    });

    it("completes the relay with the signing that was mined, though it was replaced, after a restart, sending nothing again", async () => {
      const id = fresh();
      const first = await sentInPool(id);
      await passOver(first.raw!);
      await until("a replacement", async () => (await client.outbox.get(first.id))!.tx !== first.tx);
      const second = { ...((await client.outbox.get(first.id)) as RelayRecord) };
      await client.close(); // the node dies with the replacement sent
      // The chain ends up mining the first signing after all (the replacement lost, the first broadcast again by someone).
      await provider.send("anvil_dropTransaction", [second.tx]);
      await provider.send("anvil_setNextBlockBaseFeePerGas", ["0x1"]); // the pool takes a transaction only at or above the next block's base fee
      await provider.broadcastTransaction(first.raw!);
      await provider.send("evm_mine", []);
      expect((await provider.getTransactionReceipt(first.tx!))?.status).to.equal(1);
      const before = await nonce();

      await open({ bumpAfterMs: 300 });
      const done = (await client.outbox.wait(first.id, 30_000))!;
      expect(done.state).to.equal("mined");
      expect(done.tx, "the hash that was mined").to.equal(first.tx);
      expect(done.nonce).to.equal(first.nonce);
      await sleep(300);
      await provider.send("evm_mine", []);
      expect(await nonce(), "nothing signed again").to.equal(before);
      expect(await registrations(id)).to.equal(1);
    });

    it("offers no more than the fee limit: at it, a passed-over transaction waits", async () => {
      await client.close();
      const id = fresh();
      await open({ bumpAfterMs: 300, maxFeePerGas: 1n }); // below anything a replacement must offer
      const first = await sentInPool(id);
      await passOver(first.raw!);
      await sleep(1000);
      const now = (await client.outbox.get(first.id))!;
      expect([now.state, now.tx, now.replaced]).to.deep.equal(["sent", first.tx, undefined]);
      // Then the base fee comes back down: the same signing is mined (broadcast again if the pool let it go).
      await provider.send("anvil_setNextBlockBaseFeePerGas", ["0x1"]);
      await until("the first signing mined", async () => {
        await provider.send("evm_mine", []);
        return (await stateOf(first.id)) === "mined";
      });
      const done = (await client.outbox.get(first.id))!;
      expect([done.state, done.tx]).to.deep.equal(["mined", first.tx]);
      expect(await registrations(id)).to.equal(1);
    });
  });
});
