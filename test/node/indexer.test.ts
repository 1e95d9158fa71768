import { expect } from "chai";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ethers } from "ethers";
import { Level } from "level";
import { codeId, DepartmentLevel, SharingCondition } from "../../node/chain/ids";
import { Indexer, IndexerReorgTooDeepError, recordedByRule } from "../../node/indexer/indexer";
import { mine, startAnvilDeployment, type AnvilDeployment } from "../support/anvil-deployment";

const TAX = codeId("cq.tax");
const WATER = codeId("cq.water");
const CIVIL = codeId("cq.civil");
const RES = codeId("res.civil.residents");

describe("indexer (against a separately started anvil node)", function () {
  let d: AnvilDeployment;
  let dir: string;
  let db: Level<string, unknown>;
  let indexer: Indexer;
  const confirmations = 2;

  before(async () => {
    d = await startAnvilDeployment();
    dir = await mkdtemp(join(tmpdir(), "dcl-indexer-"));
    db = new Level(dir);
    indexer = new Indexer(db, { provider: d.provider, addresses: d.addresses, confirmations, startBlock: d.deployBlock });
    const reg = d.contracts.registry.connect(d.accounts[1]);
    await (await reg.registerDepartment(TAX, DepartmentLevel.City, ethers.ZeroHash, [d.accounts[2].address])).wait();
    await (await reg.registerDepartment(CIVIL, DepartmentLevel.City, ethers.ZeroHash, [d.accounts[3].address])).wait();
    await (await d.contracts.catalog.connect(d.accounts[1]).registerResource(RES, CIVIL, ethers.ZeroHash, SharingCondition.Conditional, true)).wait();
  });

  after(async () => {
    await db?.close();
    await d?.anvil.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("applies only blocks at least `confirmations` deep", async () => {
    await indexer.syncOnce();
    const head = await d.provider.getBlockNumber();
    expect((await indexer.cursor()).block).to.equal(head - confirmations);
    // The resource was registered in the head block: not yet confirmed.
    expect(await indexer.resource(RES)).to.equal(undefined);
    await mine(d.provider, confirmations);
    await indexer.syncOnce();
    expect((await indexer.resource(RES))?.personal).to.equal(true);
    expect(await indexer.isSigner(TAX, d.accounts[2].address)).to.equal(true);
  });

  it("answers the signers of a department now and at a past block", async () => {
    await indexer.syncOnce();
    const cached = await indexer.department(TAX);
    expect(await indexer.department(TAX), "read once while nothing new is applied").to.equal(cached);
    expect(Object.isFrozen(cached) && Object.isFrozen(cached!.signers), "a shared record is frozen").to.equal(true);
    // A department changes its own keys (the governor no longer can).
    const reg = d.contracts.registry.connect(d.accounts[2]);
    await (await reg.addSigner(TAX, d.accounts[4].address)).wait();
    const before = await d.provider.getBlockNumber();
    await (await reg.removeSigner(TAX, d.accounts[2].address)).wait();
    await mine(d.provider, confirmations);
    await indexer.syncOnce();
    expect(await indexer.isSigner(TAX, d.accounts[2].address)).to.equal(false);
    expect(await indexer.isSigner(TAX, d.accounts[4].address)).to.equal(true);
    expect((await indexer.department(TAX))!.signers, "the change is read once applied").to.not.include(d.accounts[2].address.toLowerCase());
    expect((await indexer.signersAt(TAX, before)).sort()).to.deep.equal(
      [d.accounts[2].address, d.accounts[4].address].map((a) => a.toLowerCase()).sort(),
    );
  });

  it("keeps the right state through a reorg shallower than the confirmation depth", async () => {
    await indexer.syncOnce();
    const snapshot = await d.provider.send("evm_snapshot", []);
    // On the branch that will vanish: WATER registered, one block on top (still unconfirmed).
    await (await d.contracts.registry.connect(d.accounts[1]).registerDepartment(WATER, DepartmentLevel.City, ethers.ZeroHash, [d.accounts[5].address])).wait();
    await mine(d.provider, 1);
    await indexer.syncOnce();
    expect(await indexer.department(WATER)).to.equal(undefined);
    // The reorg: back to the snapshot, and a different history of the same length and more.
    expect(await d.provider.send("evm_revert", [snapshot])).to.equal(true);
    await (await d.contracts.registry.connect(d.accounts[1]).registerDepartment(WATER, DepartmentLevel.District, TAX, [d.accounts[6].address])).wait();
    await mine(d.provider, confirmations + 1);
    await indexer.syncOnce();
    const water = await indexer.department(WATER);
    expect(water?.level).to.equal(DepartmentLevel.District);
    expect(water?.signers).to.deep.equal([d.accounts[6].address.toLowerCase()]);
  });

  it("continues from its persisted cursor after a restart", async () => {
    const cursor = await indexer.cursor();
    await db.close();
    db = new Level(dir);
    indexer = new Indexer(db, { provider: d.provider, addresses: d.addresses, confirmations, startBlock: d.deployBlock });
    expect(await indexer.cursor()).to.deep.equal(cursor);
    expect((await indexer.department(WATER))?.level).to.equal(DepartmentLevel.District);
  });

  it("counts as caught up when it reached the head at its last poll, not only at lag 0 (a block between two polls does not make a node unready)", async () => {
    let now = 1_000_000;
    const polled = new Indexer(db, { provider: d.provider, addresses: d.addresses, confirmations, startBlock: d.deployBlock, pollMs: 100, now: () => now });
    await polled.syncOnce();
    expect(await polled.readiness()).to.deep.include({ ok: true, lag: 0 });
    // A block arrives after the poll: one block behind, at the head 200 ms ago.
    await mine(d.provider, 1);
    now += 200;
    const fresh = await polled.readiness();
    expect(fresh).to.deep.include({ ok: true, lag: 1 });
    expect(fresh.detail).to.equal("1 blocks behind; at the head 200 ms ago");
    // No poll reached the head for longer than the window (3 s or 3 polls, whichever is longer): not caught up.
    now += 3_000;
    const stale = await polled.readiness();
    expect(stale).to.deep.include({ ok: false, lag: 1 });
    expect(stale.detail).to.equal("1 blocks behind; at the head 3200 ms ago");
    await polled.syncOnce();
    expect(await polled.readiness()).to.deep.include({ ok: true, lag: 0 });
  });

  it("stops with INDEXER_REORG_TOO_DEEP when an applied block is reorganised away", async () => {
    const snapshot = await d.provider.send("evm_snapshot", []);
    await mine(d.provider, confirmations + 3);
    await indexer.syncOnce();
    await d.provider.send("evm_revert", [snapshot]);
    await mine(d.provider, confirmations + 4);
    const err = await indexer.syncOnce().then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(IndexerReorgTooDeepError);
    expect((err as IndexerReorgTooDeepError).code).to.equal("INDEXER_REORG_TOO_DEEP");
  });
});

// Review finding "Self-granted consent" (issue 9): the consent checks ignored who recorded a consent.
describe("indexer: which consents count, by who recorded them", () => {
  const NOBODY = "0x" + "00".repeat(20);
  const consent = (recorder: string, grantee: string, subjectSigner = NOBODY) => ({ recorder, grantee, subjectSigner });

  it("counts a consent recorded by another department than the grantee", () => {
    expect(recordedByRule(consent(CIVIL, TAX), CIVIL)).to.equal(true);
    expect(recordedByRule(consent(WATER, TAX), CIVIL)).to.equal(true);
  });

  it("counts a consent the grantee recorded for itself only over its own resource or with the subject's key", () => {
    expect(recordedByRule(consent(TAX, TAX), CIVIL)).to.equal(false);
    expect(recordedByRule(consent(TAX, TAX), undefined)).to.equal(false);
    expect(recordedByRule(consent(CIVIL, CIVIL), CIVIL)).to.equal(true);
    expect(recordedByRule(consent(TAX, TAX, "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"), CIVIL)).to.equal(true);
  });
});
