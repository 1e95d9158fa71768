// Two ledger nodes on one chain, each operating its own log, check each other's checkpoints.
import { expect } from "chai";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ethers, Wallet } from "ethers";
import { Level } from "level";
import type { FastifyInstance } from "fastify";
import { buildApp } from "../../api/app";
import { Anvil } from "../../node/chain/anvil";
import { makeProvider } from "../../node/chain/client";
import { deployDcl, type DclAddresses } from "../../node/chain/deploy";
import { codeId, DepartmentLevel } from "../../node/chain/ids";
import { LedgerNode } from "../../node/ledger-node";
import { CheckpointSigner } from "../../node/log/checkpoint-signer";
import type { AccessLogEntry } from "../../node/log/entry";
import { MerkleLog } from "../../node/log/merkle-log";
import { PeerMonitor, type Peer } from "../../node/peers/peer-monitor";
import { toHex } from "../../node/verify";
import { sampleEntry } from "../node/entry-samples";

const CHAIN_ID = 31337n;
const TAX = { dept: "cq.tax", log: "log.cq.tax.0" };
const WATER = { dept: "cq.water", log: "log.cq.water.0" };

interface Running {
  node: LedgerNode;
  operator: Wallet;
  url: string;
  app: FastifyInstance;
  /** Every entry appended to this node's log, in order. */
  entries: AccessLogEntry[];
}

async function serve(node: LedgerNode): Promise<{ app: FastifyInstance; url: string }> {
  const app = (await buildApp({ node, logger: false, rateLimitPerMinute: 100_000 })) as unknown as FastifyInstance;
  await app.listen({ host: "127.0.0.1", port: 0 });
  return { app, url: `http://127.0.0.1:${(app.server.address() as { port: number }).port}` };
}

describe("two ledger nodes check each other", function () {
  this.timeout(180_000);
  let dir: string;
  let anvil: Anvil;
  let addresses: DclAddresses;
  let startBlock: number;
  let tax: Running;
  let water: Running;
  const closers: (() => Promise<void>)[] = [];
  let forks = 0;

  const taxPeer = (url = tax.url): Peer => ({ name: "tax bureau", url, logId: codeId(TAX.log) });
  const waterPeer = (url = water.url): Peer => ({ name: "water bureau", url, logId: codeId(WATER.log) });

  async function open(code: { dept: string; log: string }, operator: Wallet): Promise<Running> {
    const node = await LedgerNode.open({
      dataDir: join(dir, code.dept), rpcUrl: anvil.url, chainId: CHAIN_ID, addresses, startBlock,
      operator, logCode: code.log, anchorIntervalMs: 3_600_000, anchorEveryEntries: 1_000_000,
      confirmations: 0, indexerPollMs: 100,
    });
    await node.indexer.syncOnce();
    return { node, operator, ...(await serve(node)), entries: [] };
  }

  async function grow(r: Running, n: number, base: number): Promise<void> {
    const more = Array.from({ length: n }, (_, i) => sampleEntry(base + r.entries.length + i));
    await r.node.log.appendMany(more);
    r.entries.push(...more);
  }

  async function anchor(r: Running): Promise<void> {
    await r.node.anchorer.anchorOnce();
  }

  async function sync(): Promise<void> {
    await Promise.all([tax.node.indexer.syncOnce(), water.node.indexer.syncOnce()]);
  }

  /** Serves `entries` as `of`'s log, its checkpoints signed by `signer` under `of`'s origin: what a forking operator would present. */
  async function serveFork(of: Running, entries: AccessLogEntry[], signer: Wallet = of.operator): Promise<string> {
    const log = await MerkleLog.open(join(dir, `fork-${++forks}`));
    await log.appendMany(entries);
    const checkpoints = new CheckpointSigner(log, signer, of.node.checkpoints.origin);
    const facade = Object.create(of.node, { log: { value: log }, checkpoints: { value: checkpoints } }) as LedgerNode;
    const { app, url } = await serve(facade);
    closers.push(async () => {
      await app.close();
      await log.close();
    });
    return url;
  }

  /** `entries` with entry `i` replaced. */
  const rewritten = (entries: AccessLogEntry[], i: number) => entries.map((e, j) => (j === i ? { ...e, recordCount: e.recordCount + 1 } : e));

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "dcl-two-nodes-"));
    anvil = await Anvil.start({ chainId: Number(CHAIN_ID) });
    const provider = makeProvider(anvil.url, CHAIN_ID, 50);
    const governor = new Wallet(Wallet.createRandom().privateKey, provider);
    const taxOperator = new Wallet(Wallet.createRandom().privateKey);
    const waterOperator = new Wallet(Wallet.createRandom().privateKey);
    for (const a of [governor.address, taxOperator.address, waterOperator.address]) {
      await provider.send("anvil_setBalance", [a, "0x3635C9ADC5DEA00000"]);
    }
    startBlock = (await provider.getBlockNumber()) + 1;
    const c = await deployDcl(governor, governor.address);
    for (const [code, operator] of [[TAX, taxOperator], [WATER, waterOperator]] as const) {
      await (await c.registry.registerDepartment(codeId(code.dept), DepartmentLevel.City, ethers.ZeroHash, [operator.address])).wait();
      await (await c.anchors.registerLog(codeId(code.log), codeId(code.dept))).wait();
    }
    addresses = {
      registry: await c.registry.getAddress(), catalog: await c.catalog.getAddress(), anchors: await c.anchors.getAddress(),
      agreements: await c.agreements.getAddress(), consents: await c.consents.getAddress(), transfers: await c.transfers.getAddress(),
    };
    provider.destroy();
    tax = await open(TAX, taxOperator);
    water = await open(WATER, waterOperator);
    tax.node.monitorPeers([waterPeer()]);
    water.node.monitorPeers([taxPeer()]);
  });

  after(async () => {
    for (const close of closers) await close();
    for (const r of [tax, water]) {
      await r?.app.close();
      await r?.node.close();
    }
    await anvil?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("accepts each other's growing, anchored logs over several rounds with no alert", async () => {
    for (let round = 1; round <= 4; round++) {
      await grow(tax, 3 + round, 1000);
      await grow(water, 2 * round, 5000);
      if (round % 2 === 0) await Promise.all([anchor(tax), anchor(water)]);
      await sync();
      const [onTax] = await tax.node.peerMonitor!.checkOnce();
      const [onWater] = await water.node.peerMonitor!.checkOnce();
      expect(onTax, JSON.stringify(onTax)).to.include({ status: "accepted", size: water.entries.length, root: toHex(await water.node.log.root()) });
      expect(onWater, JSON.stringify(onWater)).to.include({ status: "accepted", size: tax.entries.length, root: toHex(await tax.node.log.root()) });
    }
    expect((await tax.node.indexer.checkpoints(codeId(WATER.log))).length).to.equal(2);
    const [again] = await tax.node.peerMonitor!.checkOnce();
    expect(again.status).to.equal("unchanged");
    expect(await tax.node.peerMonitor!.alerts()).to.deep.equal([]);
    expect(await water.node.peerMonitor!.alerts()).to.deep.equal([]);
  });

  it("does not accept a checkpoint signed by a key that is not a signer of the log's operating department, and raises no alert", async () => {
    const url = await serveFork(tax, tax.entries.concat([sampleEntry(9999)]), new Wallet(Wallet.createRandom().privateKey));
    const monitor = water.node.monitorPeers([taxPeer(url)]);
    const [check] = await monitor.checkOnce();
    expect(check.status).to.equal("failed");
    expect(check.error?.code).to.equal("CHECKPOINT_SIGNER_UNKNOWN");
    expect(await monitor.alerts()).to.deep.equal([]);
    expect((await water.node.monitorPeers([taxPeer()]).checkOnce())[0].status).to.equal("unchanged");
  });

  it("detects a log whose entry 0 was rewritten, against the checkpoint accepted earlier, and stops trusting the peer", async () => {
    const accepted = await water.node.peerMonitor!.accepted(codeId(TAX.log));
    const forked = rewritten(tax.entries, 0).concat([sampleEntry(7000), sampleEntry(7001)]);
    const url = await serveFork(tax, forked);
    // A new monitor over the same store: the accepted checkpoint survived, keyed by the peer's log.
    const monitor = water.node.monitorPeers([taxPeer(url)]);
    const [check] = await monitor.checkOnce();
    expect(check.status).to.equal("fork");
    const [alert] = await monitor.alerts();
    expect(alert).to.deep.include({ peer: "tax bureau", url, logId: codeId(TAX.log), against: "accepted" });
    expect(alert.trusted).to.deep.equal(accepted);
    expect(alert.trusted.root).to.equal(toHex(await tax.node.log.root()));
    expect(alert.presented.size).to.equal(forked.length);
    expect(alert.presented.root).to.not.equal(alert.trusted.root);
    expect(alert.presented.note).to.contain(tax.node.checkpoints.origin);
    expect(alert.error.code).to.equal("CONSISTENCY_ROOT_MISMATCH");
    expect(alert.proof).to.deep.include({ from: accepted!.size, to: forked.length });
    expect(alert.proof!.root1).to.not.equal(accepted!.root); // the peer's own tree at the accepted size differs
    // Distrusted from now on, even at its honest address.
    expect((await monitor.checkOnce())[0].status).to.equal("distrusted");
    expect((await water.node.monitorPeers([taxPeer()]).checkOnce())[0].status).to.equal("distrusted");
    expect(await water.node.peerMonitor!.alerts()).to.have.length(1);
  });

  it("detects a fork that extends the accepted checkpoint but contradicts a newer anchor on chain", async () => {
    const accepted = (await tax.node.peerMonitor!.accepted(codeId(WATER.log)))!;
    expect(accepted.size).to.equal(water.entries.length);
    // The water bureau grows and anchors honestly, then presents a log that agrees up to the
    // accepted size and diverges after it.
    await grow(water, 5, 5000);
    await anchor(water);
    await sync();
    const anchored = (await tax.node.indexer.checkpoints(codeId(WATER.log))).at(-1)!;
    expect(anchored.treeSize).to.equal(water.entries.length);
    const forked = rewritten(water.entries, accepted.size + 1).concat([sampleEntry(8000)]);
    const url = await serveFork(water, forked);
    const monitor = tax.node.monitorPeers([waterPeer(url)]);
    const [check] = await monitor.checkOnce();
    expect(check.status).to.equal("fork");
    const [alert] = await monitor.alerts();
    expect(alert.against).to.equal("anchored");
    expect(alert.trusted).to.deep.include({ size: anchored.treeSize, root: anchored.root });
    expect(alert.trusted.anchor).to.deep.equal({ index: anchored.index, tx: anchored.tx, block: anchored.block });
    expect(alert.presented).to.deep.include({ size: forked.length });
    expect(alert.presented.root).to.not.equal(anchored.root);
    expect(alert.error.code).to.equal("CONSISTENCY_ROOT_MISMATCH");
    expect(alert.proof).to.deep.include({ from: anchored.treeSize, to: forked.length });
  });

  it("lets a node that never saw the peer detect a same-size fork from the on-chain anchor alone", async () => {
    const anchored = (await tax.node.indexer.checkpoints(codeId(WATER.log))).at(-1)!;
    // Agrees with the earlier anchors, differs in the last entry of the latest.
    const forked = rewritten(water.entries, water.entries.length - 1);
    expect(forked.length).to.equal(anchored.treeSize);
    const url = await serveFork(water, forked);
    const db = new Level<string, unknown>(join(dir, "newcomer"), { valueEncoding: "json" });
    closers.push(() => db.close());
    const monitor = new PeerMonitor({ db, indexer: tax.node.indexer, chainId: CHAIN_ID, peers: [waterPeer(url)] });
    const [check] = await monitor.checkOnce();
    expect(check.status).to.equal("fork");
    const [alert] = await monitor.alerts();
    expect(alert.against).to.equal("anchored");
    expect(alert.trusted.root).to.equal(anchored.root);
    expect(alert.presented.size).to.equal(anchored.treeSize);
    expect(alert.proof).to.equal(undefined); // equal sizes: the roots themselves differ
    expect(alert.error.code).to.equal("CONSISTENCY_ROOT_MISMATCH");
    // The honest log passes the same check.
    const honest = new PeerMonitor({ db: db.sublevel("honest") as unknown as Level<string, unknown>, indexer: tax.node.indexer, chainId: CHAIN_ID, peers: [waterPeer()] });
    expect((await honest.checkOnce())[0].status).to.equal("accepted");
  });
});
