/**
 * The store check (node/integrity/store-check.ts) on real LevelDB stores, each finding provoked by a raw
 * write of the kind a careless restore, a lost disk or a tamperer makes: the check passes on a sound
 * store, and names every alteration with its code — the quick check (as at start) where the border,
 * the tail, the signed checkpoint or the anchor sees it, the deep check (dcl check) anywhere.
 */
import { expect } from "chai";
import { Wallet } from "ethers";
import { Level } from "level";
import { CheckpointSigner } from "../../node/log/checkpoint-signer";
import { MerkleLog } from "../../node/log/merkle-log";
import { CheckpointRecord } from "../../node/integrity/checkpoint-record";
import { checkDataDir, checkStore, type AnchorView } from "../../node/integrity/store-check";
import { toHex } from "../../node/verify";
import { sampleEntry } from "./entry-samples";
import { removeDir, tempDir } from "./log-helpers";
import { join } from "node:path";
import { mkdirSync } from "node:fs";

const operator = new Wallet("0x" + "42".repeat(32));
const hex16 = (n: number) => n.toString(16).padStart(16, "0");
const nodeKey = (level: number, index: number) => level.toString(16).padStart(2, "0") + hex16(index);

describe("store check", function () {
  this.timeout(60_000);
  let dir: string;
  let db: Level<string, unknown>;
  let anchored: AnchorView;

  const table = (name: string) => db.sublevel("log").sublevel<string, Uint8Array | string>(name, { keyEncoding: "utf8", valueEncoding: name === "meta" ? "utf8" : "view" });
  const codes = async (o: { deep?: boolean; anchor?: AnchorView | "down"; operator?: string } = {}) => {
    const anchor = o.anchor === "down" ? () => Promise.reject(new Error("connection refused")) : async () => o.anchor ?? anchored;
    const report = await checkStore({ db, operator: o.operator ?? operator.address, anchor: anchor as () => Promise<AnchorView>, deep: o.deep });
    return report.problems.map((p) => p.code);
  };

  beforeEach(async () => {
    dir = tempDir("dcl-check-");
    mkdirSync(join(dir, "node"));
    db = new Level<string, unknown>(join(dir, "node"), { valueEncoding: "json" });
    await db.open();
    const log = await MerkleLog.open(db.sublevel("log") as never);
    await log.appendMany(Array.from({ length: 100 }, (_, i) => sampleEntry(i)));
    anchored = { size: 90, root: toHex(await log.root(90)) };
    await new CheckpointRecord(db).keep(await new CheckpointSigner(log, operator, "dcl/31337/log.test").sign(100));
    await log.close();
  });
  afterEach(async () => {
    await db.close().catch(() => undefined);
    removeDir(dir);
  });

  it("passes a sound store, quick and deep, and says when the chain could not be asked", async () => {
    expect(await codes()).to.deep.equal([]);
    expect(await codes({ deep: true })).to.deep.equal([]);
    const report = await checkStore({ db, anchor: () => Promise.reject(new Error("connection refused")) });
    expect(report.ok).to.equal(true);
    expect(report.chain).to.deep.include({ checked: false });
    expect(report).to.deep.include({ size: 100, checkpoint: { size: 100, root: report.checkpoint!.root, signer: operator.address } });
  });

  it("finds a lost store: empty while the chain holds anchors", async () => {
    await db.clear();
    expect(await codes()).to.deep.equal(["STORE_EMPTY_BUT_ANCHORED"]);
    expect(await codes({ anchor: { size: 0, root: "0x" } })).to.deep.equal([]);
  });

  it("finds a truncated store: the recorded size lowered below the checkpoint and the anchor", async () => {
    await table("meta").put("size", "80");
    expect(await codes()).to.have.members(["STORE_CORRUPT", "STORE_BEHIND_CHECKPOINT", "STORE_BEHIND_ANCHOR"]);
    for (let i = 80; i < 100; i++) await table("leaf").del(hex16(i));
    expect(await codes()).to.have.members(["STORE_BEHIND_CHECKPOINT", "STORE_BEHIND_ANCHOR"]);
  });

  it("finds an altered subtree hash on the roots' path against the checkpoint and the anchor", async () => {
    await table("node").put(nodeKey(6, 0), new Uint8Array(32).fill(1));
    expect(await codes()).to.have.members(["CHECKPOINT_MISMATCH", "STORE_ROOT_MISMATCH"]);
    expect(await codes({ deep: true })).to.include("STORE_NODE_MISMATCH");
  });

  it("finds an altered entry: at the tail quickly, anywhere deeply", async () => {
    const leaves = table("leaf");
    const bytes = (await leaves.get(hex16(10))) as Uint8Array;
    const changed = Uint8Array.from(bytes);
    changed[changed.length - 1] ^= 1;
    await leaves.put(hex16(10), changed);
    expect(await codes(), "entry 10 is not in the last 64 nor on a root's border").to.deep.equal([]);
    expect(await codes({ deep: true })).to.deep.equal(["STORE_LEAF_MISMATCH"]);
    await leaves.put(hex16(99), changed);
    expect(await codes()).to.deep.equal(["STORE_LEAF_MISMATCH"]);
  });

  it("finds a missing stored hash, and a checkpoint not signed by the operator", async () => {
    await table("node").del(nodeKey(0, 50));
    expect(await codes({ deep: true })).to.include("STORE_CORRUPT");
    expect(await codes({ operator: Wallet.createRandom().address })).to.include("CHECKPOINT_SIGNATURE_INVALID");
  });

  it("checks a stopped node's data directory, a missing store as an empty one, and refuses a store in use", async () => {
    let err = await checkDataDir(dir).then(() => undefined, (e: Error) => e);
    expect(err?.message, "the store is open here").to.match(/in use: stop the node first/);
    await db.close();
    const report = await checkDataDir(dir, { deep: true, operator: operator.address });
    expect(report).to.deep.include({ ok: true, size: 100, deep: { checked: true, entries: 100 } });
    const empty = tempDir("dcl-check-empty-");
    try {
      expect(await checkDataDir(empty)).to.deep.include({ ok: true, size: 0 });
      err = await checkDataDir(join(empty, "nowhere"), { rpcUrl: "http://127.0.0.1:9" }).then(() => undefined, (e: Error) => e);
      expect(err?.message).to.match(/needs the deployment/);
    } finally {
      removeDir(empty);
    }
  });
});
