/**
 * The log when its store cannot write: a group commit whose synced batch fails refuses every append
 * it held, the log's size and root stay where they were, later appends are refused until the store
 * writes again, and then the log goes on from the same place — every acknowledged entry there, with
 * its proof, after a reopen too. Once with writes failed by the store guard's fault injection (the
 * boundary every sublevel writes through), once on a real full filesystem: a tmpfs of a few MB,
 * mounted here when the test runs as root (it says so and is skipped where mounting is not allowed).
 */
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Level } from "level";
import { encodeEntry } from "../../node/log/entry";
import { LogError } from "../../node/log/errors";
import { MerkleLog } from "../../node/log/merkle-log";
import { StoreFaults } from "../../node/store/fault-injection";
import { StorageUnavailableError, StoreGuard } from "../../node/store/store-guard";
import { leafHash, toHex, verifyInclusion } from "../../node/verify";
import { sampleEntry } from "./entry-samples";
import { removeDir, tempDir } from "./log-helpers";
import { referenceRoot } from "./reference-tree";

/** The rejection of `p` (a test failure if it resolves). */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => expect.fail("expected the append to be refused"),
    (e: unknown) => e,
  );
}

/** A store-level failure, as the log reports it: LOG_WRITE_FAILED caused by the guard's STORAGE_UNAVAILABLE. */
function expectStorageFailure(e: unknown): void {
  expect(e).to.be.instanceOf(LogError);
  expect((e as LogError).code).to.equal("LOG_WRITE_FAILED");
  expect((e as Error).cause).to.be.instanceOf(StorageUnavailableError);
}

/** Every acknowledged entry is at its index with a proof to the log's root, and the root is the reference root of them all. */
async function expectHolds(log: MerkleLog, acked: Map<number, Uint8Array>): Promise<void> {
  expect(log.size()).to.equal(acked.size);
  const leaves = [...acked.keys()].sort((a, b) => a - b).map((i) => leafHash(acked.get(i)!));
  const root = await log.root();
  expect(toHex(root)).to.equal(toHex(referenceRoot(leaves)));
  for (const [index, bytes] of acked) {
    expect(toHex(await log.get(index))).to.equal(toHex(bytes));
    const proof = await log.inclusionProof(index);
    verifyInclusion(index, log.size(), leafHash(bytes), proof, root); // throws when the proof does not lead to the root
  }
}

describe("MerkleLog when the store cannot write", function () {
  this.timeout(60_000);

  it("refuses every append of a failed batch, keeps its size and root, and goes on once the store writes again", async () => {
    const dir = tempDir();
    const faults = new StoreFaults();
    const db = new Level<string, unknown>(dir, { valueEncoding: "json" });
    const guard = new StoreGuard(db, { faults, probeMs: 20 }).install();
    await db.open();
    let log = await MerkleLog.open(db.sublevel("log") as never);
    try {
      let n = 0;
      const acked = new Map<number, Uint8Array>();
      const append = async () => {
        const e = sampleEntry(n++);
        const r = await log.append(e);
        acked.set(r.index, encodeEntry(e));
      };
      for (let i = 0; i < 5; i++) await append();
      const [size, root] = [log.size(), toHex(await log.root())];

      faults.failWrites("test");
      // Issued in one turn of the event loop: one group commit, one failed synced batch.
      const failed = await Promise.all([0, 1, 2].map(() => rejection(log.append(sampleEntry(n++)))));
      failed.forEach(expectStorageFailure);
      expect(log.size(), "size after the failed batch").to.equal(size);
      expect(toHex(await log.root()), "root after the failed batch").to.equal(root);
      expect(guard.health().ok).to.equal(false);
      // Later appends are refused as well while the fault lasts.
      expectStorageFailure(await rejection(log.appendMany([sampleEntry(n++), sampleEntry(n++)])));
      expect(log.size()).to.equal(size);

      faults.heal();
      expect(await guard.probe(), "probe once the fault is gone").to.equal(true);
      expect(guard.health()).to.include({ ok: true, failures: 1, recoveries: 1 });
      for (let i = 0; i < 4; i++) await append();
      expect([...acked.keys()]).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8]);
      await expectHolds(log, acked);

      // And from the disk, in a fresh log over the same store.
      await log.close();
      log = await MerkleLog.open(db.sublevel("log") as never);
      await expectHolds(log, acked);
    } finally {
      await log.close();
      await guard.close();
      await db.close();
      removeDir(dir);
    }
  });

  it("answers a probe with one that starts after it is asked for, not one already under way", async () => {
    // CI once saw "probe once there is room" false on the tmpfs below: the probe asked for after the
    // filler was removed had joined the timer's probe, started while the disk was still full.
    const dir = tempDir();
    const faults = new StoreFaults();
    const db = new Level<string, unknown>(dir, { valueEncoding: "json" });
    const guard = new StoreGuard(db, { faults, probeMs: 60_000 }).install();
    await db.open();
    try {
      faults.failWrites("test");
      await rejection(db.put("k", 1));
      expect(guard.health().ok).to.equal(false);
      const early = guard.probe(); // under way while writes still fail
      faults.heal();
      expect(await guard.probe(), "the probe asked for after the heal").to.equal(true);
      expect(await early, "the probe that began before it").to.equal(false);
      expect(guard.health().ok).to.equal(true);
    } finally {
      await guard.close();
      await db.close();
      removeDir(dir);
    }
  });

  it("on a real full filesystem (tmpfs): refuses, reopens the store once there is room, and loses nothing acknowledged", async function () {
    const mount = tempDir("dcl-tmpfs-");
    try {
      // Root here can mount a tmpfs; elsewhere (no root, no CAP_SYS_ADMIN) this test cannot make a small disk.
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=3m", "tmpfs", mount], { stdio: "pipe" });
    } catch (err) {
      removeDir(mount);
      console.log(`      (skipped: cannot mount a tmpfs here: ${(err as Error).message.split("\n")[0]})`);
      this.skip();
    }
    const dir = join(mount, "store");
    mkdirSync(dir);
    const db = new Level<string, unknown>(dir, { valueEncoding: "json" });
    const guard = new StoreGuard(db, { probeMs: 20 }).install();
    await db.open();
    let log = await MerkleLog.open(db.sublevel("log") as never);
    let again: Level<string, unknown> | undefined;
    try {
      let n = 0;
      const acked = new Map<number, Uint8Array>();
      const batchOf = (k: number) => Array.from({ length: k }, () => sampleEntry(n++));
      for (let i = 0; i < 20; i++) {
        const entries = batchOf(10);
        const results = await log.appendMany(entries);
        results.forEach((r, j) => acked.set(r.index, encodeEntry(entries[j])));
      }
      // Fill the filesystem: what is left is less than a batch needs.
      const filler = join(mount, "filler");
      try {
        writeFileSync(filler, Buffer.alloc(8 << 20));
      } catch {
        /* ENOSPC: the file took what there was */
      }
      const size = log.size();
      let failure: unknown;
      for (let i = 0; i < 200 && failure === undefined; i++) {
        const entries = batchOf(50);
        try {
          const results = await log.appendMany(entries);
          results.forEach((r, j) => acked.set(r.index, encodeEntry(entries[j])));
        } catch (err) {
          failure = err;
        }
      }
      expect(failure, "an append failed on the full disk").not.to.equal(undefined);
      expectStorageFailure(failure);
      expect(String(((failure as Error).cause as Error).message)).to.match(/space|IO error/i);
      expect(guard.health().ok).to.equal(false);
      expect(log.size()).to.equal(acked.size);
      expect(log.size()).to.be.at.least(size);
      // Still full: the probe fails and appends stay refused.
      expect(await guard.probe()).to.equal(false);
      expectStorageFailure(await rejection(log.appendMany(batchOf(3))));

      rmSync(filler);
      expect(await guard.probe(), "probe once there is room").to.equal(true);
      for (let i = 0; i < 5; i++) {
        const entries = batchOf(10);
        const results = await log.appendMany(entries);
        results.forEach((r, j) => acked.set(r.index, encodeEntry(entries[j])));
      }
      await expectHolds(log, acked);

      // Everything acknowledged, before and after the failure, is on disk: a fresh open of the store finds it.
      await log.close();
      await guard.close();
      await db.close();
      again = new Level<string, unknown>(dir, { valueEncoding: "json" });
      await again.open();
      log = await MerkleLog.open(again.sublevel("log") as never);
      await expectHolds(log, acked);
    } finally {
      await log.close().catch(() => undefined);
      await guard.close();
      await db.close().catch(() => undefined);
      await again?.close().catch(() => undefined);
      execFileSync("umount", ["-l", mount]);
      removeDir(mount);
    }
  });
});
