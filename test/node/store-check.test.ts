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
// Appended in one commit, every bundle and tile is one piece, at offset 00.
const bundleKey = (index: number) => hex16(index) + "00";
const tileKey = (level: number, index: number) => level.toString(16).padStart(2, "0") + hex16(index) + "00";
const ENTRIES = 300; // bundles 0 (full) and 1; level-0 tiles 0 (full) and 1; level-1 tile 0 with one hash

// Store layout 2 by hand (node/log/merkle-log.ts): a bundle piece is each entry as uint16 length and
// bytes, a tile piece its 32-byte hashes concatenated.
function decodeBundle(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += 2 + ((bytes[at] << 8) | bytes[at + 1])) out.push(bytes.slice(at + 2, at + 2 + ((bytes[at] << 8) | bytes[at + 1])));
  return out;
}
function encodeBundle(entries: Uint8Array[]): Uint8Array {
  return Uint8Array.from(entries.flatMap((e) => [e.length >> 8, e.length & 0xff, ...e]));
}

describe("store check", function () {
  this.timeout(60_000);
  let dir: string;
  let db: Level<string, unknown>;
  let anchored: AnchorView;

  const table = (name: string) => db.sublevel("log").sublevel<string, Uint8Array | string>(name, { keyEncoding: "utf8", valueEncoding: name === "meta" ? "utf8" : "view" });
  const bundles = () => table("bundle");
  const tiles = () => table("tile");
  /** Changes entry `index` in its bundle as `change` says. */
  const alterEntry = async (index: number, change: (bytes: Uint8Array) => Uint8Array) => {
    const entries = decodeBundle((await bundles().get(bundleKey(index >> 8))) as Uint8Array);
    entries[index % 256] = change(entries[index % 256]);
    await bundles().put(bundleKey(index >> 8), encodeBundle(entries));
  };
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
    await log.appendMany(Array.from({ length: ENTRIES }, (_, i) => sampleEntry(i)));
    anchored = { size: 290, root: toHex(await log.root(290)) };
    await new CheckpointRecord(db).keep(await new CheckpointSigner(log, operator, "dcl/31337/log.test").sign(ENTRIES));
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
    expect(report).to.deep.include({ size: ENTRIES, checkpoint: { size: ENTRIES, root: report.checkpoint!.root, signer: operator.address } });
  });

  it("finds a lost store: empty while the chain holds anchors", async () => {
    await db.clear();
    expect(await codes()).to.deep.equal(["STORE_EMPTY_BUT_ANCHORED"]);
    expect(await codes({ anchor: { size: 0, root: "0x" } })).to.deep.equal([]);
  });

  it("finds a truncated store: the recorded size lowered below the checkpoint and the anchor", async () => {
    await table("meta").put("size", "80");
    expect(await codes()).to.have.members(["STORE_CORRUPT", "STORE_BEHIND_CHECKPOINT", "STORE_BEHIND_ANCHOR"]);
    // Cut entries and hashes at 80, a piece at a time: each piece left beyond the size is still found.
    await bundles().del(bundleKey(1));
    await bundles().put(bundleKey(0), encodeBundle(decodeBundle((await bundles().get(bundleKey(0))) as Uint8Array).slice(0, 80)));
    expect(await codes()).to.include("STORE_CORRUPT");
    await tiles().del(tileKey(0, 1));
    await tiles().put(tileKey(0, 0), ((await tiles().get(tileKey(0, 0))) as Uint8Array).slice(0, 80 * 32));
    expect(await codes(), "the level-1 tile is still there").to.include("STORE_CORRUPT");
    await tiles().del(tileKey(1, 0));
    expect(await codes()).to.have.members(["STORE_BEHIND_CHECKPOINT", "STORE_BEHIND_ANCHOR"]);
  });

  it("finds an altered subtree hash on the roots' path against the checkpoint and the anchor", async () => {
    await tiles().put(tileKey(1, 0), new Uint8Array(32).fill(1)); // the hash of leaves [0, 256)
    expect(await codes()).to.have.members(["CHECKPOINT_MISMATCH", "STORE_ROOT_MISMATCH"]);
    expect(await codes({ deep: true })).to.include("STORE_NODE_MISMATCH");
  });

  it("finds an altered leaf hash: on the roots' path quickly, anywhere deeply", async () => {
    const tile = Uint8Array.from((await tiles().get(tileKey(0, 1))) as Uint8Array);
    tile[0] ^= 1; // the leaf hash of entry 256, in the last tile
    await tiles().put(tileKey(0, 1), tile);
    expect(await codes()).to.have.members(["CHECKPOINT_MISMATCH", "STORE_ROOT_MISMATCH", "STORE_LEAF_MISMATCH"]);
    expect(await codes({ deep: true })).to.include.members(["STORE_LEAF_MISMATCH"]);
  });

  it("finds an altered entry: at the tail quickly, anywhere deeply", async () => {
    const flipLast = (bytes: Uint8Array) => {
      const changed = Uint8Array.from(bytes);
      changed[changed.length - 1] ^= 1;
      return changed;
    };
    await alterEntry(10, flipLast);
    expect(await codes(), "entry 10 is not in the last 64 nor on a root's border").to.deep.equal([]);
    expect(await codes({ deep: true })).to.deep.equal(["STORE_LEAF_MISMATCH"]);
    await alterEntry(ENTRIES - 1, flipLast);
    expect(await codes()).to.deep.equal(["STORE_LEAF_MISMATCH"]);
  });

  it("finds a missing stored hash, and a checkpoint not signed by the operator", async () => {
    await tiles().del(tileKey(0, 0)); // leaf hashes of [0, 256), not on the border (their subtree's hash is in tile 1/0)
    expect(await codes({ deep: true })).to.include("STORE_CORRUPT");
    expect(await codes({ operator: Wallet.createRandom().address })).to.include("CHECKPOINT_SIGNATURE_INVALID");
  });

  it("checks a stopped node's data directory, a missing store as an empty one, and refuses a store in use", async () => {
    let err = await checkDataDir(dir).then(() => undefined, (e: Error) => e);
    expect(err?.message, "the store is open here").to.match(/in use: stop the node first/);
    await db.close();
    const report = await checkDataDir(dir, { deep: true, operator: operator.address });
    expect(report).to.deep.include({ ok: true, size: ENTRIES, deep: { checked: true, entries: ENTRIES } });
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
