import { expect } from "chai";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ethers, Wallet } from "ethers";
import { Level } from "level";
import { Anchorer } from "../../node/anchor/anchorer";
import { ChainClient } from "../../node/chain/client";
import { codeId, DepartmentLevel, SharingCondition } from "../../node/chain/ids";
import { AGREEMENT_TYPES, DOMAIN_NAMES, domainOf, type AgreementTerms } from "../../node/chain/typed-data";
import { MerkleLog } from "../../node/log/merkle-log";
import { toHex } from "../../node/verify";
import { startAnvilDeployment, type AnvilDeployment } from "../support/anvil-deployment";
import { sampleEntry } from "./entry-samples";

const BIGDATA = codeId("cq.bigdata");
const LOG_ID = codeId("log.cq.bigdata.0");

/** Polls `check` until it holds (the anchorer works on its own timer). */
async function eventually(check: () => Promise<boolean> | boolean, what: string, tries = 400): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for: ${what}`);
}

describe("anchoring (against a separately started anvil node with persisted state)", function () {
  let d: AnvilDeployment;
  let dir: string;
  let log: MerkleLog;
  let client: ChainClient;
  let outboxDb: Level<string, unknown>;
  let anchorer: Anchorer;
  const operator = new Wallet(Wallet.createRandom().privateKey);
  let appended = 0;
  const append = async (n: number) => {
    const results = await log.appendMany(Array.from({ length: n }, () => sampleEntry(appended++)));
    return results;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "dcl-anchoring-"));
    d = await startAnvilDeployment({ stateFile: join(dir, "chain.json"), stateIntervalSeconds: 1 });
    await d.provider.send("anvil_setBalance", [operator.address, "0x56BC75E2D63100000"]);
    const reg = d.contracts.registry.connect(d.accounts[1]);
    await (await reg.registerDepartment(BIGDATA, DepartmentLevel.City, ethers.ZeroHash, [operator.address])).wait();
    await (await d.contracts.anchors.connect(d.accounts[1]).registerLog(LOG_ID, BIGDATA)).wait();
    log = await MerkleLog.open(join(dir, "log"));
    client = new ChainClient({ rpcUrl: d.anvil.url, chainId: 31337n, addresses: d.addresses, pollingMs: 50 }, operator);
    // The anchorer sends through the relay outbox, kept in a store of its own here.
    outboxDb = new Level<string, unknown>(join(dir, "outbox"), { valueEncoding: "json" });
    await client.openOutbox(outboxDb);
    anchorer = new Anchorer({ log, client, logId: LOG_ID, intervalMs: 100, everyEntries: 1_000_000 });
  });

  after(async () => {
    await anchorer?.stop();
    await client?.close();
    await outboxDb?.close();
    await log?.close();
    await d?.anvil.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("anchors the latest checkpoint, and sends nothing when nothing is new", async () => {
    await append(50);
    const first = await anchorer.anchorOnce();
    expect(first?.treeSize).to.equal(50);
    expect(await anchorer.anchorOnce()).to.equal(undefined);
    const latest = await d.contracts.anchors.latestCheckpoint(LOG_ID);
    expect(latest.treeSize).to.equal(50n);
    expect(latest.root).to.equal(toHex(await log.root(50)));
    expect(await d.contracts.anchors.checkpointCount(LOG_ID)).to.equal(1n);
  });

  it("keeps accepting appends through a chain outage and catches up with one anchor", async () => {
    const nonceBefore = await d.provider.getTransactionCount(operator.address);
    anchorer.start();
    await d.anvil.stop("SIGTERM");
    // The chain is down: appends keep being acknowledged, anchoring fails and waits.
    const acked = [];
    for (let i = 0; i < 10; i++) acked.push(...(await append(20)));
    await eventually(() => !anchorer.health().ok, "anchoring to notice the outage");
    expect(anchorer.anchored).to.equal(50);
    expect(log.size()).to.equal(250);

    await d.anvil.restart();
    await eventually(() => anchorer.anchored === 250, "anchoring to catch up");
    await new Promise((r) => setTimeout(r, 400)); // a few more ticks: none may send a transaction
    expect(await d.contracts.anchors.checkpointCount(LOG_ID)).to.equal(2n);
    const latest = await d.contracts.anchors.latestCheckpoint(LOG_ID);
    expect(latest.treeSize).to.equal(250n);
    expect(latest.root).to.equal(toHex(await log.root(250)));
    expect(await d.provider.getTransactionCount(operator.address)).to.equal(nonceBefore + 1);
    for (const a of acked) expect(toHex(await log.leafHashAt(a.index))).to.equal(toHex(a.leafHash));
    expect(anchorer.health().ok).to.equal(true);
  });

  it("reconciles with the chain after a restart and does not anchor twice", async () => {
    await anchorer.stop();
    const again = new Anchorer({ log, client, logId: LOG_ID, intervalMs: 100, everyEntries: 1_000_000 });
    expect(await again.anchorOnce()).to.equal(undefined);
    expect(again.anchored).to.equal(250);
    expect(await d.contracts.anchors.checkpointCount(LOG_ID)).to.equal(2n);
  });

  it("refuses to anchor when the chain holds a checkpoint the local log does not have", async () => {
    const empty = await MerkleLog.open(join(dir, "other-log"));
    try {
      const stranger = new Anchorer({ log: empty, client, logId: LOG_ID, intervalMs: 100, everyEntries: 1 });
      const err = await stranger.anchorOnce().then(() => undefined, (e: unknown) => e);
      expect((err as { code?: string }).code).to.equal("ANCHOR_CHAIN_AHEAD");
    } finally {
      await empty.close();
    }
  });

  it("reports the cumulative usage of agreements on chain, only when it changed", async () => {
    const [water, tax] = [new Wallet(Wallet.createRandom().privateKey), new Wallet(Wallet.createRandom().privateKey)];
    const [WATER, TAX, RES] = [codeId("cq.water"), codeId("cq.tax"), codeId("res.water.fees")];
    const reg = d.contracts.registry.connect(d.accounts[1]);
    await (await reg.registerDepartment(WATER, DepartmentLevel.City, ethers.ZeroHash, [water.address])).wait();
    await (await reg.registerDepartment(TAX, DepartmentLevel.City, ethers.ZeroHash, [tax.address])).wait();
    await (await d.contracts.catalog.connect(d.accounts[1]).registerResource(RES, WATER, ethers.ZeroHash, SharingCondition.Conditional, false)).wait();
    const now = BigInt((await d.provider.getBlock("latest"))!.timestamp);
    const terms: AgreementTerms = {
      provider: WATER, consumer: TAX, resource: RES, purposeHash: ethers.id("fees"), quota: 100n,
      validFrom: now, validUntil: now + 3600n, nonce: 1n, meteringLog: LOG_ID,
    };
    const domain = domainOf(DOMAIN_NAMES.agreements, 31337n, d.addresses.agreements);
    const id = await d.contracts.agreements.hashTerms(terms);
    await (await d.contracts.agreements.connect(d.accounts[0]).activate(
      terms,
      { signer: water.address, signature: await water.signTypedData(domain, AGREEMENT_TYPES, terms) },
      { signer: tax.address, signature: await tax.signTypedData(domain, AGREEMENT_TYPES, terms) },
    )).wait();

    let used = 7n;
    const reporting = new Anchorer({ log, client, logId: LOG_ID, intervalMs: 100, everyEntries: 1, usage: async () => new Map([[id, used]]) });
    await reporting.anchorOnce();
    expect((await d.contracts.agreements.agreement(id)).used).to.equal(7n);
    const nonce = await d.provider.getTransactionCount(operator.address);
    await reporting.anchorOnce();
    expect(await d.provider.getTransactionCount(operator.address)).to.equal(nonce);
    used = 9n;
    await reporting.anchorOnce();
    expect((await d.contracts.agreements.agreement(id)).used).to.equal(9n);

    // An agreement another log meters: its report reverts the whole batch on chain. The anchorer sets it
    // aside, says so, and reports the rest, instead of retrying the failing batch for ever.
    const OTHER = codeId("log.cq.other.0");
    await (await d.contracts.anchors.connect(d.accounts[1]).registerLog(OTHER, BIGDATA)).wait();
    const elsewhere: AgreementTerms = { ...terms, nonce: 2n, meteringLog: OTHER };
    const otherId = await d.contracts.agreements.hashTerms(elsewhere);
    await (await d.contracts.agreements.connect(d.accounts[0]).activate(
      elsewhere,
      { signer: water.address, signature: await water.signTypedData(domain, AGREEMENT_TYPES, elsewhere) },
      { signer: tax.address, signature: await tax.signTypedData(domain, AGREEMENT_TYPES, elsewhere) },
    )).wait();
    const warnings: unknown[] = [];
    const logger = { info: () => undefined, warn: (o: unknown) => warnings.push(o) } as never;
    const mixed = new Anchorer({ log, client, logId: LOG_ID, intervalMs: 100, everyEntries: 1, logger, usage: async () => new Map([[otherId, 50n], [id, used + 1n]]) });
    await mixed.anchorOnce();
    expect((await d.contracts.agreements.agreement(id)).used).to.equal(10n);
    expect((await d.contracts.agreements.agreement(otherId)).used).to.equal(0n);
    expect([...mixed.setAsideAgreements().keys()]).to.deep.equal([otherId.toLowerCase()]);
    expect(mixed.setAsideAgreements().get(otherId.toLowerCase())).to.match(/^AgreementsWrongLog/);
    expect(warnings).to.have.length(1);
    const before = await d.provider.getTransactionCount(operator.address);
    await mixed.anchorOnce(); // nothing new, and the set-aside agreement is not tried again
    expect(await d.provider.getTransactionCount(operator.address)).to.equal(before);
  });
});
