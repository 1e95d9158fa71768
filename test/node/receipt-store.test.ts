import { expect } from "chai";
import { Level } from "level";
import { ReceiptStore } from "../../node/access/receipt-store";
import { encodeEntry } from "../../node/log/entry";
import { MerkleLog } from "../../node/log/merkle-log";
import { MemoryTree } from "../../node/merkle/memory-tree";
import { leafHash, toHex } from "../../node/verify";
import { sampleEntry } from "./entry-samples";
import { removeDir, tempDir } from "./log-helpers";

describe("ReceiptStore", function () {
  let dir: string;
  let db: Level<string, unknown>;
  let log: MerkleLog;
  beforeEach(async () => {
    dir = tempDir("dcl-receipt-store-");
    db = new Level<string, unknown>(`${dir}/db`, { valueEncoding: "json" });
    await db.open();
    log = await MerkleLog.open(`${dir}/log`);
    await log.appendMany([0, 1, 2, 3, 4].map((i) => sampleEntry(i)));
  });
  afterEach(async () => {
    await log.close();
    await db.close();
    removeDir(dir);
  });

  const batch = (first: number, count: number) => {
    const tree = MemoryTree.fromLeafHashes(Array.from({ length: count }, (_, i) => leafHash(encodeEntry(sampleEntry(first + i)))));
    return { first, count, root: toHex(tree.root()), signer: "0x" + "11".repeat(20), signature: "0x" + "22".repeat(65) };
  };

  it("finds a batch while its write is in flight (the answer does not wait for it), and after it landed, in a new store too", async function () {
    const store = new ReceiptStore(db, log);
    const written = store.put(batch(1, 3)); // not awaited
    const now = await store.receiptFor(2, "o");
    expect(now?.batch).to.deep.include({ first: 1, count: 3 });
    expect(now?.leafHash).to.equal(toHex(leafHash(encodeEntry(sampleEntry(2)))));
    expect(await store.receiptFor(4, "o"), "outside every batch").to.equal(undefined);
    await written;
    expect((await new ReceiptStore(db, log).receiptFor(3, "o"))?.batch.first).to.equal(1);
  });

  it("forgets a batch whose write failed (its entries fall back to fresh receipts) instead of holding it forever", async function () {
    const store = new ReceiptStore(db, log);
    const level = db as unknown as { _put: (...a: unknown[]) => Promise<void> };
    const put = level._put;
    level._put = async () => {
      throw new Error("disk full (test)");
    };
    try {
      const failed = await store.put(batch(1, 3)).then(() => null, (e: Error) => e);
      expect(failed?.message).to.include("disk full");
    } finally {
      level._put = put;
    }
    expect(await store.receiptFor(2, "o")).to.equal(undefined);
  });
});
