/**
 * The relay outbox against a separately started anvil, with a real LevelDB: a relay is on disk before
 * anything is sent, the same call finds the same relay, a revert fails it with the contract's error and
 * nothing signed, and a "crash" (the worker stopped and a new client opened on the same store, as after a
 * kill -9) at the worst moments — signed and broadcast but not mined; broadcast and lost by the chain;
 * its nonce taken by another transaction — ends with the call on chain exactly once.
 */
import { expect } from "chai";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ethers, Wallet } from "ethers";
import { Level } from "level";
import { Anvil } from "../../node/chain/anvil";
import { ChainClient, makeProvider } from "../../node/chain/client";
import { addressesOf, deployDcl, type DclAddresses } from "../../node/chain/deploy";
import { codeId, DepartmentLevel } from "../../node/chain/ids";
import { relayId, type RelayRecord } from "../../node/chain/outbox";
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

  const open = async () => {
    client = new ChainClient({ rpcUrl: anvil.url, chainId: 31337n, addresses, pollingMs: 50 }, operator);
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
});
