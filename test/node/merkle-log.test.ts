import { expect } from "chai";
import { Wallet } from "ethers";
import { Level } from "level";
import { CheckpointSigner } from "../../node/log/checkpoint-signer";
import { encodeEntry } from "../../node/log/entry";
import { LogError } from "../../node/log/errors";
import { MerkleLog } from "../../node/log/merkle-log";
import {
  emptyRoot,
  leafHash,
  parseCheckpoint,
  toHex,
  verifyCheckpointSignature,
  verifyConsistency,
  verifyInclusion,
} from "../../node/verify";
import { sampleEntry } from "./entry-samples";
import { removeDir, tempDir } from "./log-helpers";
import { referenceConsistencyProof, referenceInclusionProof, referenceRoot } from "./reference-tree";

async function rejection(p: Promise<unknown>): Promise<LogError> {
  try {
    await p;
  } catch (e) {
    expect(e).to.be.instanceOf(LogError);
    return e as LogError;
  }
  return expect.fail("expected a LogError");
}

function sampleLeaves(n: number, from = 0): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => leafHash(encodeEntry(sampleEntry(from + i))));
}

describe("MerkleLog", function () {
  let dir: string;
  let log: MerkleLog;

  beforeEach(async function () {
    dir = tempDir();
    log = await MerkleLog.open(dir);
  });

  afterEach(async function () {
    await log.close();
    removeDir(dir);
  });

  it("starts empty, with the RFC 6962 empty root", async function () {
    expect(log.size()).to.equal(0);
    expect(await log.root()).to.deep.equal(emptyRoot());
    expect((await rejection(log.get(0))).code).to.equal("LOG_INDEX_OUT_OF_RANGE");
    expect((await rejection(log.inclusionProof(0, 0))).code).to.equal("LOG_SIZE_OUT_OF_RANGE");
  });

  it("appends at dense indices and returns the stored bytes and leaf hash", async function () {
    for (let i = 0; i < 10; i++) {
      const r = await log.append(sampleEntry(i));
      expect(r.index).to.equal(i);
      expect(r.leafHash).to.deep.equal(leafHash(encodeEntry(sampleEntry(i))));
    }
    expect(log.size()).to.equal(10);
    expect(await log.get(7)).to.deep.equal(encodeEntry(sampleEntry(7)));
    expect(await log.getEntry(7)).to.deep.equal(sampleEntry(7));
    expect(await log.leafHashAt(3)).to.deep.equal(leafHash(encodeEntry(sampleEntry(3))));
    expect(await log.root()).to.deep.equal(referenceRoot(sampleLeaves(10)));
    expect(await log.root(6)).to.deep.equal(referenceRoot(sampleLeaves(6)));
  });

  it("finds the lowest index of a leaf hash, and nothing for an unknown one", async function () {
    const twin = { ...sampleEntry(1), time: sampleEntry(0).time }; // same second as entry 0, so entry 0 may follow it
    await log.appendMany([sampleEntry(0), twin, sampleEntry(0)]);
    expect(await log.indexOfLeafHash(leafHash(encodeEntry(twin)))).to.equal(1);
    expect(await log.indexOfLeafHash(leafHash(encodeEntry(sampleEntry(0))))).to.equal(0);
    expect(await log.indexOfLeafHash(leafHash(encodeEntry(sampleEntry(2))))).to.equal(undefined);
  });

  describe("time order", function () {
    const at = (n: number, time: number) => ({ ...sampleEntry(n), time });

    it("accepts equal and later times, and refuses an entry earlier than the latest, appending nothing of its batch", async function () {
      await log.appendMany([at(0, 100), at(1, 100), at(2, 105)]);
      expect(log.lastTime()).to.equal(105);
      const err = await rejection(log.appendMany([at(3, 106), at(4, 104)]));
      expect(err.code).to.equal("LOG_TIME_ORDER");
      expect(err.details).to.deep.equal({ time: 104, latest: 106 });
      expect(log.size()).to.equal(3);
      expect((await rejection(log.append(at(5, 104)))).code).to.equal("LOG_TIME_ORDER");
      expect((await log.append(at(6, 105))).index).to.equal(3);
    });

    it("orders concurrent appends by queue order: a later append with an earlier time is refused alone", async function () {
      const results = await Promise.allSettled([log.append(at(0, 200)), log.append(at(1, 199)), log.append(at(2, 201))]);
      expect(results.map((r) => r.status)).to.deep.equal(["fulfilled", "rejected", "fulfilled"]);
      expect(((results[1] as PromiseRejectedResult).reason as LogError).code).to.equal("LOG_TIME_ORDER");
      expect((await Promise.all([0, 1].map((i) => log.getEntry(i)))).map((e) => e.time)).to.deep.equal([200, 201]);
    });

    it("keeps the order across a reopen: the latest time is read back from the store", async function () {
      await log.appendMany([at(0, 300), at(1, 310)]);
      await log.close();
      log = await MerkleLog.open(dir);
      expect(log.lastTime()).to.equal(310);
      expect((await rejection(log.append(at(2, 309)))).code).to.equal("LOG_TIME_ORDER");
      expect((await log.append(at(3, 310))).index).to.equal(2);
    });

    it("finds a time's first index by binary search, and reads ranges in order", async function () {
      const times = [10, 10, 12, 15, 15, 15, 20];
      await log.appendMany(times.map((t, i) => at(i, t)));
      const expected = (t: number, size = times.length) => { const i = times.slice(0, size).findIndex((x) => x >= t); return i < 0 ? size : i; };
      for (const t of [0, 10, 11, 12, 13, 15, 16, 20, 21]) {
        expect(await log.indexAtTime(t), `time ${t}`).to.equal(expected(t));
        expect(await log.indexAtTime(t, 4), `time ${t} in size 4`).to.equal(expected(t, 4));
      }
      const read: Uint8Array[] = [];
      for await (const bytes of log.range(2, 6)) read.push(bytes);
      expect(read).to.deep.equal(await Promise.all([2, 3, 4, 5].map((i) => log.get(i))));
      expect((await rejection((async () => { for await (const _ of log.range(3, 8)) void _; })())).code).to.equal("LOG_SIZE_OUT_OF_RANGE");
    });
  });

  it("serves proofs equal to the RFC 6962 reference that verify", async function () {
    const n = 37;
    await log.appendMany(Array.from({ length: n }, (_, i) => sampleEntry(i)));
    const leaves = sampleLeaves(n);
    for (const size of [1, 2, 5, 16, 17, 37]) {
      const root = await log.root(size);
      for (const index of [0, size >> 1, size - 1]) {
        const proof = await log.inclusionProof(index, size);
        expect(proof.map(toHex)).to.deep.equal(referenceInclusionProof(index, leaves.slice(0, size)).map(toHex));
        verifyInclusion(index, size, leaves[index], proof, root);
      }
      for (const size1 of [1, 3, 8, size]) {
        if (size1 > size) continue;
        const proof = await log.consistencyProof(size1, size);
        expect(proof.map(toHex)).to.deep.equal(referenceConsistencyProof(size1, leaves.slice(0, size)).map(toHex));
        verifyConsistency(size1, size, await log.root(size1), root, proof);
      }
    }
  });

  it("reads O(log n) keys per root and proof", async function () {
    const n = 1000; // log2 ≈ 10
    await log.appendMany(Array.from({ length: n }, (_, i) => sampleEntry(i)));
    const reads = async (f: () => Promise<unknown>) => {
      const before = log.stats().reads;
      await f();
      return log.stats().reads - before;
    };
    expect(await reads(() => log.root())).to.equal(0); // the right border is in memory
    expect(await reads(() => log.root(999))).to.be.at.most(10);
    for (const [i, s] of [[0, 1000], [998, 999], [511, 777], [700, 1000]]) {
      expect(await reads(() => log.inclusionProof(i, s))).to.be.at.most(20);
    }
    for (const [a, b] of [[1, 1000], [999, 1000], [300, 777], [513, 999]]) {
      expect(await reads(() => log.consistencyProof(a, b))).to.be.at.most(20);
    }
  });

  it("commits concurrent appends at dense indices in fewer batches than appends (group commit)", async function () {
    const n = 200;
    const before = log.stats();
    const results = await Promise.all(Array.from({ length: n }, (_, i) => log.append(sampleEntry(i))));
    const after = log.stats();
    expect(results.map((r) => r.index).sort((a, b) => a - b)).to.deep.equal(Array.from({ length: n }, (_, i) => i));
    expect(after.appends - before.appends).to.equal(n);
    expect(after.batches - before.batches).to.be.greaterThan(0).and.lessThan(n);
    for (const r of results) expect(await log.leafHashAt(r.index)).to.deep.equal(r.leafHash);
  });

  it("keeps an appendMany at consecutive indices among concurrent appends", async function () {
    const single = log.append(sampleEntry(0));
    const many = log.appendMany([sampleEntry(1), sampleEntry(2), sampleEntry(3)]);
    const another = log.append(sampleEntry(4));
    const [a, m, b] = await Promise.all([single, many, another]);
    expect([a.index, ...m.map((r) => r.index), b.index]).to.deep.equal([0, 1, 2, 3, 4]);
  });

  it("rejects an invalid entry alone, without a gap in the indices", async function () {
    const bad = { ...sampleEntry(1), recordCount: -1 };
    const results = await Promise.allSettled([log.append(sampleEntry(0)), log.append(bad), log.append(sampleEntry(2))]);
    expect(results.map((r) => r.status)).to.deep.equal(["fulfilled", "rejected", "fulfilled"]);
    expect(((results[1] as PromiseRejectedResult).reason as LogError).code).to.equal("ENTRY_FIELD_INVALID");
    expect(results.filter((r) => r.status === "fulfilled").map((r) => (r as PromiseFulfilledResult<{ index: number }>).value.index)).to.deep.equal([0, 1]);
  });

  it("reopens at the same size, root and proofs, and continues at the next index", async function () {
    await log.appendMany(Array.from({ length: 21 }, (_, i) => sampleEntry(i)));
    const root = await log.root();
    const proof = await log.inclusionProof(5);
    await log.close();
    log = await MerkleLog.open(dir);
    expect(log.size()).to.equal(21);
    expect(await log.root()).to.deep.equal(root);
    expect(await log.inclusionProof(5)).to.deep.equal(proof);
    expect((await log.append(sampleEntry(21))).index).to.equal(21);
    expect(await log.root()).to.deep.equal(referenceRoot(sampleLeaves(22)));
  });

  it("refuses appends after close", async function () {
    await log.close();
    expect((await rejection(log.append(sampleEntry(0)))).code).to.equal("LOG_CLOSED");
    log = await MerkleLog.open(dir); // for afterEach
  });

  it("refuses proofs for sizes and indices it does not have", async function () {
    await log.appendMany([sampleEntry(0), sampleEntry(1), sampleEntry(2)]);
    expect((await rejection(log.inclusionProof(3, 3))).code).to.equal("LOG_INDEX_OUT_OF_RANGE");
    expect((await rejection(log.inclusionProof(0, 4))).code).to.equal("LOG_SIZE_OUT_OF_RANGE");
    expect((await rejection(log.consistencyProof(0, 3))).code).to.equal("LOG_SIZE_OUT_OF_RANGE");
    expect((await rejection(log.consistencyProof(3, 2))).code).to.equal("LOG_SIZE_OUT_OF_RANGE");
    expect((await rejection(log.root(4))).details).to.include({ size: 4, committed: 3 });
  });
});

describe("MerkleLog in a shared database", function () {
  let dir: string;
  let db: Level<string, string>;

  beforeEach(async function () {
    dir = tempDir();
    db = new Level<string, string>(dir);
    await db.open();
  });

  afterEach(async function () {
    await db.close();
    removeDir(dir);
  });

  it("lives in a sublevel beside other tables", async function () {
    await db.sublevel("other").put("k", "v");
    const log = await MerkleLog.open(db.sublevel("log"));
    await log.appendMany([sampleEntry(0), sampleEntry(1)]);
    await log.close();
    expect(await db.sublevel("other").get("k")).to.equal("v");
    const again = await MerkleLog.open(db.sublevel("log"));
    expect(again.size()).to.equal(2);
    // The leaf-hash projection, written on the root with keys prefixed by hand, is inside the log's sublevel too.
    expect(await again.indexOfLeafHash(leafHash(encodeEntry(sampleEntry(1))))).to.equal(1);
    await again.close();
    const keys = await db.keys().all();
    expect(keys.filter((k) => k.startsWith("!log!!hash!"))).to.have.length(2);
    expect(keys.every((k) => k.startsWith("!log!") || k.startsWith("!other!")), keys.join(", ")).to.equal(true);
  });

  it("rejects every waiter of a failed batch, keeps its state, and reuses no acknowledged index", async function () {
    const log = await MerkleLog.open(db);
    await log.append(sampleEntry(0));
    const realBatch = db.batch;
    (db as { batch: unknown }).batch = async () => {
      throw new Error("disk full");
    };
    const failed = await Promise.allSettled([log.append(sampleEntry(1)), log.append(sampleEntry(2))]);
    (db as { batch: unknown }).batch = realBatch;
    for (const f of failed) {
      expect(f.status).to.equal("rejected");
      const err = (f as PromiseRejectedResult).reason as LogError;
      expect(err.code).to.equal("LOG_WRITE_FAILED");
      expect((err.cause as Error).message).to.equal("disk full");
    }
    expect(log.size()).to.equal(1);
    expect((await log.append(sampleEntry(3))).index).to.equal(1);
    const leaves = [sampleEntry(0), sampleEntry(3)].map((e) => leafHash(encodeEntry(e)));
    expect(await log.root()).to.deep.equal(referenceRoot(leaves));
    verifyInclusion(1, 2, leaves[1], await log.inclusionProof(1), await log.root());
    await log.close();
  });
});

describe("CheckpointSigner", function () {
  it("signs checkpoints that node/verify accepts and binds to the log's root", async function () {
    const dir = tempDir();
    const log = await MerkleLog.open(dir);
    try {
      const wallet = new Wallet("0x" + "42".repeat(32));
      const signer = new CheckpointSigner(log, wallet, "dcl.example.gov/log/test");
      await log.appendMany(Array.from({ length: 12 }, (_, i) => sampleEntry(i)));
      const signed = await signer.sign();
      expect(signed.checkpoint.size).to.equal(12);
      expect(verifyCheckpointSignature(signed.note, [wallet.address])).to.equal(wallet.address);
      const { checkpoint } = parseCheckpoint(signed.note);
      expect(checkpoint.root).to.deep.equal(await log.root());
      verifyInclusion(4, checkpoint.size, await log.leafHashAt(4), await log.inclusionProof(4, checkpoint.size), checkpoint.root);

      const older = await signer.sign(5);
      const old = parseCheckpoint(older.note).checkpoint;
      verifyConsistency(old.size, checkpoint.size, old.root, checkpoint.root, await log.consistencyProof(old.size, checkpoint.size));
      expect(() => verifyCheckpointSignature(older.note.replace("\n5\n", "\n6\n"))).to.throw("does not verify");
    } finally {
      await log.close();
      removeDir(dir);
    }
  });
});
