/**
 * One operator signature per receipt batch (a synced commit of the log, or the consecutive commits
 * that landed while the one before was being signed), not per request: requests whose entries land
 * in one batch share its signed root; each receipt still verifies on its own, is the one
 * kept for evidence, and can be rebuilt from the smaller `proofs: "batch"` answer. Also the pure
 * rebuilding of inclusion proofs from a range proof (node/verify receiptsFromBatch), against an
 * in-memory tree, for every range of trees up to 16 leaves and random ranges of larger ones.
 */
import { expect } from "chai";
import fc from "fast-check";
import { ethers } from "ethers";
import type { AccessCall, LoggedCall } from "../../node/access/access-ledger";
import { Level } from "level";
import { MerkleLog, type CommitGroup } from "../../node/log/merkle-log";
import { MemoryTree } from "../../node/merkle/memory-tree";
import { compactRange, fromHex, inclusionProofsFromRange, receiptsFromBatch, toHex, verifyReceipt, type Receipt } from "../../node/verify";
import { D, R, signTyped, startNodeHarness, type NodeHarness } from "../support/node-harness";
import { sampleEntry } from "./entry-samples";
import { removeDir, tempDir } from "./log-helpers";

const h32 = (s: string) => ethers.id(s);
let seq = 0;
const call = (agreementId: string, n = 1): AccessCall => ({ agreementId, recordCount: n, requestHash: h32(`cr req ${++seq}`), responseHash: h32(`cr res ${seq}`) });

describe("receipts: one operator signature per receipt batch of commits", function () {
  this.timeout(120_000);
  let h: NodeHarness;
  let agreement: string;
  let signatures = 0;

  before(async () => {
    h = await startNodeHarness();
    const now = Math.floor(Date.now() / 1000);
    const terms = {
      provider: D.water, consumer: D.tax, resource: R.waterFees, purposeHash: h32("commit receipts"), quota: "1000000",
      validFrom: String(now - 60), validUntil: String(now + 86400), nonce: "1",
    };
    const { draft, typedData } = await h.node.agreements.draft(D.tax, terms);
    await h.node.agreements.sign(draft.id, D.water, await signTyped(h.keys.water, typedData));
    await h.node.agreements.sign(draft.id, D.tax, await signTyped(h.keys.tax, typedData));
    await h.node.indexer.syncOnce();
    agreement = draft.id;
    // Every signature counted, on whichever thread it is made (the node's signer makes them in a worker: node/keys/threaded-signer.ts).
    const signer = h.node.access.options.signer;
    const sign = signer.signMessageSync.bind(signer);
    signer.signMessageSync = (m: Uint8Array) => (signatures++, sign(m));
    expect(signer.signMessage, "the node signs receipts off the main thread").to.be.a("function");
    const signAsync = signer.signMessage!.bind(signer);
    signer.signMessage = (m: Uint8Array) => (signatures++, signAsync(m));
  });
  after(async () => h?.close());

  it("signs once per receipt batch of whole synced commits: concurrent requests share a signed root, each receipt verifies alone and is the one kept", async () => {
    const [signed0, batches0] = [signatures, h.node.log.stats().batches];
    const sizes = Array.from({ length: 24 }, (_, i) => 1 + (i % 3));
    const answers = await Promise.all(sizes.map((n) => h.node.access.recordCalls(D.tax, Array.from({ length: n }, () => call(agreement)), "entry")));
    const batches = h.node.log.stats().batches - batches0;
    const made = signatures - signed0;
    expect(made, "at most one signature per synced batch").to.be.within(1, batches);
    expect(batches, "the requests were group-committed").to.be.below(sizes.length);
    const receipts = answers.flatMap((a) => a.results.map((r) => r.receipt!));
    expect(receipts).to.have.length(sizes.reduce((a, b) => a + b, 0));
    expect(new Set(receipts.map((r) => r.signature)).size).to.equal(made);
    // A receipt batch is whole requests (so whole commits): no request's entries are in two batches.
    for (const a of answers) expect(new Set(a.results.map((r) => r.receipt!.batch.first)).size).to.equal(1);
    const shared = answers.filter((a, i) => a.results[0].receipt!.batch.count > sizes[i]);
    expect(shared.length, "some requests' batches hold other requests' entries").to.be.above(0);
    for (const r of receipts) {
      verifyReceipt(r, [h.operator.address]);
      expect(r.batch.first).to.be.at.most(r.index);
      expect(await h.node.access.originalReceipt(r.index, r.leafHash), `kept receipt of ${r.index}`).to.deep.equal(r);
    }
  });

  it("signs the commits that land while it signs as one batch, never more than maxReceiptBatch entries, each receipt still verifying", async () => {
    // A slow signer (as a loaded worker is): commits keep landing while each signature is made.
    const signer = h.node.access.options.signer;
    const fast = signer.signMessage!;
    const max = 6;
    const options = h.node.access.options as { maxReceiptBatch?: number };
    options.maxReceiptBatch = max;
    signer.signMessage = (m: Uint8Array) => new Promise((resolve) => setTimeout(resolve, 40)).then(() => fast(m));
    try {
      const [signed0, batches0] = [signatures, h.node.log.stats().batches];
      const answers: Awaited<ReturnType<typeof h.node.access.recordCalls>>[] = [];
      const pending: Promise<void>[] = [];
      for (let i = 0; i < 20; i++) { // one call at a time, 5 ms apart: a commit each, mostly
        pending.push(h.node.access.recordCalls(D.tax, [call(agreement)], "entry").then((a) => void answers.push(a)));
        await new Promise((r) => setTimeout(r, 5));
      }
      await Promise.all(pending);
      const commits = h.node.log.stats().batches - batches0;
      const receipts = answers.map((a) => a.results[0].receipt!);
      const byBatch = new Map<number, Receipt[]>();
      for (const r of receipts) byBatch.set(r.batch.first, [...(byBatch.get(r.batch.first) ?? []), r]);
      expect(byBatch.size, "batches signed").to.equal(new Set(receipts.map((r) => r.signature)).size);
      expect(byBatch.size, `fewer signatures than the ${commits} commits`).to.be.below(commits);
      expect(signatures - signed0).to.equal(byBatch.size);
      for (const [, rs] of byBatch) {
        expect(rs[0].batch.count, "no batch above maxReceiptBatch").to.be.at.most(max);
        expect(rs.length, "every entry of a batch was answered with it").to.equal(rs[0].batch.count);
        for (const r of rs) {
          verifyReceipt(r, [h.operator.address]);
          expect(await h.node.access.originalReceipt(r.index, r.leafHash)).to.deep.equal(r);
        }
      }
    } finally {
      signer.signMessage = fast;
      delete options.maxReceiptBatch;
    }
  });

  it("asks for a commit's receipt signature before its write is synced, and answers only after both", async () => {
    const signer = h.node.access.options.signer;
    const fast = signer.signMessage!;
    const log = h.node.log;
    const append = log.appendInCommit;
    const events: string[] = [];
    signer.signMessage = (m: Uint8Array) => (events.push("sign asked"), fast(m).then((sig) => (events.push("signed"), sig)));
    log.appendInCommit = (entries, onStaged) => append.call(log, entries, onStaged).then((r) => (events.push("written"), r));
    try {
      const answer = await h.node.access.recordCalls(D.tax, [call(agreement)], "entry");
      events.push("answered");
      expect(events.indexOf("sign asked"), "signature asked for before the write was synced").to.be.within(0, events.indexOf("written") - 1);
      expect(events.at(-1)).to.equal("answered");
      expect(events).to.include.members(["signed", "written"]);
      verifyReceipt(answer.results[0].receipt!, [h.operator.address]);
    } finally {
      signer.signMessage = fast;
      log.appendInCommit = append;
    }
  });

  it("never gives out or keeps a signature over a commit whose write failed: a written commit signed beside it is signed again alone", async () => {
    // A slow signer, so that two commits wait for it and are signed as one batch: the first
    // written, the second failing to write. Its signature covers entries the log does not have.
    const signer = h.node.access.options.signer;
    const fast = signer.signMessage!;
    const signedRoots: string[] = [];
    signer.signMessage = (m: Uint8Array) => new Promise((resolve) => setTimeout(resolve, 150)).then(() => (signedRoots.push(toHex(m)), fast(m)));
    const faults = h.node.storeGuard.faults;
    const log = h.node.log;
    const grown = async (size: number) => {
      while (log.size() <= size) await new Promise((r) => setTimeout(r, 2));
    };
    try {
      const size0 = log.size();
      const first = h.node.access.recordCalls(D.tax, [call(agreement)], "entry"); // keeps the signer busy
      await grown(size0);
      const written = h.node.access.recordCalls(D.tax, [call(agreement), call(agreement)], "entry");
      await grown(size0 + 1);
      faults.failWrites("receipt test");
      const failed = await h.node.access.recordCalls(D.tax, [call(agreement)], "entry").then(() => expect.fail("the append should fail"), (e: { code?: string }) => e);
      expect(failed.code).to.equal("LOG_WRITE_FAILED");
      faults.heal();
      expect(await h.node.storeGuard.probe(), "the store writes again").to.equal(true);
      const [, a] = await Promise.all([first, written]);
      const receipts = a.results.map((r) => r.receipt!);
      expect(receipts.map((r) => [r.batch.first, r.batch.count]), "signed alone: the two written entries only").to.deep.equal([[size0 + 1, 2], [size0 + 1, 2]]);
      for (const r of receipts) verifyReceipt(r, [h.operator.address]);
      expect(signedRoots.length, "the first commit, the batch with the failed one, then the written commit alone").to.equal(3);
      // The batch with the failed commit (3 entries from size0 + 1) was signed but is not kept; the kept receipt is the one given.
      await new Promise((r) => setTimeout(r, 50));
      for (const r of receipts) expect(await h.node.access.originalReceipt(r.index, r.leafHash)).to.deep.equal(r);
      // The failed entry's index goes to the next entry, receipted as usual.
      const next = await h.node.access.recordCalls(D.tax, [call(agreement)], "entry");
      expect(next.results[0].index).to.equal(size0 + 3);
      verifyReceipt(next.results[0].receipt!, [h.operator.address]);
    } finally {
      faults.heal();
      await h.node.storeGuard.probe();
      signer.signMessage = fast;
    }
  });

  it("answers proofs: 'batch' with one range proof from which every receipt is rebuilt exactly as kept; 'none' with no receipt, still kept", async () => {
    const pending = [
      h.node.access.recordCalls(D.tax, [call(agreement)], "entry"),
      h.node.access.recordCalls(D.tax, Array.from({ length: 7 }, () => call(agreement)), "batch"),
      h.node.access.recordCalls(D.tax, [call(agreement), call(agreement)], "none"),
      h.node.access.recordCalls(D.tax, [call(agreement)], "batch"),
    ];
    const [, many, none, one] = await Promise.all(pending);
    for (const answer of [many, one]) {
      expect(answer.results.every((r) => r.receipt === undefined)).to.equal(true);
      const b = answer.batch!;
      const rebuilt = receiptsFromBatch(b, answer.results[0].index, answer.results.map((r) => r.leafHash));
      for (const r of rebuilt) {
        verifyReceipt(r, [h.operator.address]);
        expect(await h.node.access.originalReceipt(r.index, r.leafHash)).to.deep.equal(r);
      }
    }
    expect(none.batch).to.equal(undefined);
    expect(none.results.every((r: LoggedCall) => r.receipt === undefined)).to.equal(true);
    for (const r of none.results) verifyReceipt(await h.node.access.originalReceipt(r.index, r.leafHash), [h.operator.address]);

    // A changed, dropped or foreign leaf does not lead to the signed root.
    const leaves = many.results.map((r) => r.leafHash);
    const wrong = [
      [h32("not logged"), ...leaves.slice(1)],
      leaves.slice(1),
      [...leaves.slice(0, 3), leaves[4], leaves[3], ...leaves.slice(5)],
    ];
    for (const w of wrong) {
      expect(() => receiptsFromBatch(many.batch!, many.results[0].index, w)).to.throw().with.property("code").that.matches(/^(RECEIPT_BATCH_INVALID|RANGE_PROOF_LENGTH)$/);
    }
  });

  it("reads an agreement once while the indexer applies nothing, and sees its suspension and resumption at once", async () => {
    const indexer = h.node.indexer;
    let reads = 0;
    const read = indexer.agreement;
    indexer.agreement = (id: string) => (reads++, read.call(indexer, id));
    try {
      await h.node.indexer.syncOnce();
      for (let i = 0; i < 5; i++) expect((await h.node.access.record(D.tax, [call(agreement)]))[0].outcome).to.equal("served");
      expect(reads, "one read for five requests").to.be.at.most(1);
      const suspend = async (target: "suspended" | "active") => {
        const td = await h.node.agreements.statusTypedData(agreement, target, h32("review"));
        await h.node.agreements.changeStatus(agreement, target, h32("review"), await signTyped(h.keys.regulator, td));
      };
      await suspend("suspended");
      expect((await h.node.access.record(D.tax, [call(agreement)]))[0].refusalReason).to.equal("AGREEMENT_SUSPENDED");
      await suspend("active");
      expect((await h.node.access.record(D.tax, [call(agreement)]))[0].outcome).to.equal("served");
    } finally {
      indexer.agreement = read;
    }
  });

  it("keeps quotas exact when requests share commits", async () => {
    const now = Math.floor(Date.now() / 1000);
    const terms = { provider: D.water, consumer: D.tax, resource: R.waterFees, purposeHash: h32("tight"), quota: "25", validFrom: String(now - 60), validUntil: String(now + 86400), nonce: "2" };
    const { draft, typedData } = await h.node.agreements.draft(D.tax, terms);
    await h.node.agreements.sign(draft.id, D.water, await signTyped(h.keys.water, typedData));
    await h.node.agreements.sign(draft.id, D.tax, await signTyped(h.keys.tax, typedData));
    await h.node.indexer.syncOnce();
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => h.node.access.recordCalls(D.tax, [call(draft.id, 1 + (i % 2))], i % 3 === 0 ? "none" : "batch")));
    const served = answers.flatMap((a) => a.results).filter((r) => r.outcome === "served").reduce((n, r) => n + r.entry.recordCount, 0);
    expect(served).to.be.at.most(25).and.at.least(24); // the first call that does not fit is refused; a later 1-record call may fill the last record
    expect(h.node.access.usageOf(draft.id)).to.equal(BigInt(served));
  });
});

describe("MerkleLog.appendInCommit", () => {
  it("tells a listener of each batch once its indices and leaf hashes are known, before its write is synced, and whether the write succeeded", async () => {
    const dir = tempDir();
    const db = new Level<string, unknown>(dir);
    const sub = db.sublevel("log");
    const batch = sub.batch.bind(sub) as (...args: unknown[]) => Promise<void>;
    let fail = false;
    let writes = 0;
    // The store's batch, slowed (and failing on demand), so the order of events is visible.
    (sub as unknown as { batch: unknown }).batch = async (...args: unknown[]) => {
      writes++;
      await new Promise((r) => setTimeout(r, 30));
      if (fail) throw new Error("disk says no");
      return batch(...args);
    };
    const log = await MerkleLog.open(sub as never);
    try {
      const events: string[] = [];
      const staged: { commit: CommitGroup; written: Promise<void> }[] = [];
      const onStaged = (commit: CommitGroup, written: Promise<void>) => {
        events.push(`staged ${commit.first}+${commit.leafHashes.length}`);
        staged.push({ commit, written });
        written.then(() => events.push("written"), () => events.push("not written"));
      };
      const writes0 = writes;
      const [a, b] = await Promise.all([log.appendInCommit([sampleEntry(1), sampleEntry(2)], onStaged), log.appendInCommit([sampleEntry(3)], onStaged)]);
      events.push("appended");
      expect(writes - writes0).to.equal(1);
      expect(events, "each append told of its batch before the write was synced").to.deep.equal(["staged 0+3", "staged 0+3", "written", "written", "appended"]);
      expect(staged[0].commit, "one object per batch, the one the appends are given").to.equal(a.commit).and.to.equal(b.commit).and.to.equal(staged[1].commit);
      expect(staged[0].commit.leafHashes.map(toHex)).to.deep.equal([...a.results, ...b.results].map((r) => toHex(r.leafHash)));

      fail = true;
      const failed = await log.appendInCommit([sampleEntry(4)], onStaged).then(() => expect.fail("should not append"), (e: { code?: string }) => e);
      expect(failed.code).to.equal("LOG_WRITE_FAILED");
      const last = staged.at(-1)!;
      expect([last.commit.first, last.commit.leafHashes.length]).to.deep.equal([3, 1]);
      expect(await last.written.then(() => "written", () => "not written")).to.equal("not written");
      fail = false;
      const again = await log.appendInCommit([sampleEntry(5)], onStaged);
      expect(again.results[0].index, "the failed batch's index goes to the next entry").to.equal(3);
      expect(await staged.at(-1)!.written.then(() => "written")).to.equal("written");
      // A listener that throws does not stop the batch.
      const thrown = await log.appendInCommit([sampleEntry(6)], () => {
        throw new Error("listener failed");
      });
      expect(thrown.results[0].index).to.equal(4);
      expect(log.size()).to.equal(5);
    } finally {
      await log.close();
      await db.close();
      removeDir(dir);
    }
  });

  it("tells each append the synced batch it landed in: one object for every append of it, with all its leaf hashes in order", async () => {
    const dir = tempDir();
    const log = await MerkleLog.open(dir);
    try {
      const sizes = [2, 1, 3, 1];
      let n = 0;
      const appends = await Promise.all(sizes.map((k) => log.appendInCommit(Array.from({ length: k }, () => sampleEntry(n++)))));
      const commit = appends[0].commit;
      for (const a of appends) expect(a.commit).to.equal(commit); // appended in one turn: one batch
      expect(commit.first).to.equal(0);
      expect(commit.leafHashes.map(toHex)).to.deep.equal(appends.flatMap((a) => a.results.map((r) => toHex(r.leafHash))));
      expect(toHex(MemoryTree.fromLeafHashes(commit.leafHashes).root())).to.equal(toHex(await log.root()));
      const alone = await log.appendInCommit([sampleEntry(n++)]);
      expect(alone.commit).to.not.equal(commit);
      expect([alone.commit.first, alone.commit.leafHashes.length, alone.results[0].index]).to.deep.equal([7, 1, 7]);
      expect(log.stats().batches).to.equal(2);
    } finally {
      await log.close();
      removeDir(dir);
    }
  });
});

describe("receiptsFromBatch: inclusion proofs from a range proof", () => {
  /** The range proof of [begin, end) in `tree`, as the ledger gives it. */
  const rangeProof = (tree: MemoryTree, begin: number, end: number) => ({
    left: compactRange(0, begin).map((s) => tree.subtree(s.level, s.index)),
    right: compactRange(end, tree.size).map((s) => tree.subtree(s.level, s.index)),
  });
  const leavesOf = (n: number) => Array.from({ length: n }, (_, i) => fromHex(h32(`leaf ${i}`)));

  const trees = new Map<number, { leaves: Uint8Array[]; tree: MemoryTree; paths: string[][] }>();
  function check(size: number, begin: number, end: number): void {
    if (!trees.has(size)) {
      const l = leavesOf(size);
      const t = MemoryTree.fromLeafHashes(l);
      trees.set(size, { leaves: l, tree: t, paths: [] });
    }
    const { leaves, tree, paths } = trees.get(size)!;
    for (let i = begin; i < end; i++) paths[i] ??= tree.inclusionProof(i).map(toHex);
    const { left, right } = rangeProof(tree, begin, end);
    const proofs = inclusionProofsFromRange(begin, size, left, leaves.slice(begin, end), right);
    proofs.forEach((p, i) => expect(p.map(toHex), `size ${size} [${begin}, ${end}) leaf ${begin + i}`).to.deep.equal(paths[begin + i]));
  }

  it("gives every leaf's RFC 6962 audit path, for every range of every tree up to 16 leaves", () => {
    for (let size = 1; size <= 16; size++) for (let begin = 0; begin < size; begin++) for (let end = begin + 1; end <= size; end++) check(size, begin, end);
  });

  it("does so for random ranges of larger trees", () => {
    fc.assert(
      fc.property(fc.integer({ min: 17, max: 3000 }).chain((size) => fc.tuple(fc.constant(size), fc.integer({ min: 0, max: size - 1 }), fc.integer({ min: 1, max: 40 }))), ([size, begin, len]) => {
        check(size, begin, Math.min(size, begin + len));
      }),
      { numRuns: 30 },
    );
  });

  it("rebuilds receipts that verify, with the batch's signed values", () => {
    const leaves = leavesOf(11);
    const tree = MemoryTree.fromLeafHashes(leaves);
    const { left, right } = rangeProof(tree, 4, 9);
    const batch = { origin: "dcl/31337/log.test", first: 100, count: 11, root: toHex(tree.root()), signer: "0x" + "11".repeat(20), signature: "0x" + "22".repeat(65), left: left.map(toHex), right: right.map(toHex) };
    const receipts: Receipt[] = receiptsFromBatch(batch, 104, leaves.slice(4, 9).map(toHex));
    expect(receipts.map((r) => [r.index, r.batch.first, r.batch.count, r.batch.root, r.signature])).to.deep.equal(
      [104, 105, 106, 107, 108].map((i) => [i, 100, 11, batch.root, batch.signature]),
    );
    receipts.forEach((r, i) => expect(r.batch.proof).to.deep.equal(tree.inclusionProof(4 + i).map(toHex)));
    expect(() => receiptsFromBatch(batch, 99, leaves.slice(0, 2).map(toHex))).to.throw(/not within the batch/);
    expect(() => receiptsFromBatch(batch, 108, leaves.slice(8, 11).map(toHex))).to.throw();
  });
});
