import { expect } from "chai";
import { Level } from "level";
import { StoreFaults } from "../../node/store/fault-injection";
import { StoreGuard } from "../../node/store/store-guard";
import { writeRaw } from "../../node/store/raw-batch";
import { removeDir, tempDir } from "./log-helpers";

describe("writeRaw (node/store/raw-batch.ts)", function () {
  let dir: string;
  beforeEach(() => (dir = tempDir("dcl-raw-batch-")));
  afterEach(() => removeDir(dir));

  it("writes prefixed keys that each sublevel reads back in its own encoding", async function () {
    const db = new Level<string, unknown>(dir, { valueEncoding: "json" });
    await db.open();
    const views = db.sublevel("a", { valueEncoding: "view" }).sublevel<string, Uint8Array>("b", { keyEncoding: "utf8", valueEncoding: "view" });
    const texts = db.sublevel<string, string>("t", { valueEncoding: "utf8" });
    const json = db.sublevel<string, unknown>("j", { valueEncoding: "json" });
    await writeRaw(db, [
      { key: views.prefixKey("k1", "utf8"), value: Uint8Array.from([1, 2, 3]) },
      { key: views.prefixKey("k2", "utf8"), value: new Uint8Array(0) },
      { key: views.prefixKey("k3", "utf8"), value: new Uint8Array([9, 8, 7, 6]).subarray(1, 3) }, // a view into a larger buffer
      { key: texts.prefixKey("size", "utf8"), value: "42" },
      { key: json.prefixKey("stats", "utf8"), value: JSON.stringify({ calls: 3 }) },
    ], { sync: true });
    expect(await views.get("k1")).to.deep.equal(Uint8Array.from([1, 2, 3]));
    expect(await views.get("k2")).to.deep.equal(new Uint8Array(0));
    expect(await views.get("k3")).to.deep.equal(Uint8Array.from([8, 7]));
    expect(await texts.get("size")).to.equal("42");
    expect(await json.get("stats")).to.deep.equal({ calls: 3 });
    expect(await db.keys().all()).to.deep.equal(["!a!!b!k1", "!a!!b!k2", "!a!!b!k3", "!j!stats", "!t!size"]);
    await db.close();
  });

  it("fails as the store guard makes every write fail, landing nothing, and writes again once healed", async function () {
    const db = new Level<string, unknown>(dir, { valueEncoding: "json" });
    const faults = new StoreFaults();
    const guard = new StoreGuard(db, { faults }).install();
    await db.open();
    const t = db.sublevel<string, string>("t", { valueEncoding: "utf8" });
    faults.failWrites("disk full (test)");
    const failed = await writeRaw(db, [{ key: t.prefixKey("x", "utf8"), value: "1" }], { sync: true }).then(() => null, (e: Error) => e);
    expect(failed, "the write was refused").to.not.equal(null);
    expect(await t.get("x")).to.equal(undefined);
    expect(guard.health().ok, "the guard saw it").to.equal(false);
    faults.heal();
    expect(await guard.probe(), "writable again").to.equal(true);
    await writeRaw(db, [{ key: t.prefixKey("x", "utf8"), value: "2" }], { sync: true });
    expect(await t.get("x")).to.equal("2");
    await guard.close();
    await db.close();
  });

  it("refuses, without reaching LevelDB, on a database that is closed", async function () {
    const db = new Level<string, unknown>(dir, { valueEncoding: "json" });
    await db.open();
    await db.close();
    const failed = await writeRaw(db, [{ key: "!t!x", value: "1" }], { sync: true }).then(() => null, (e: Error & { code?: string }) => e);
    expect(failed?.code).to.equal("LEVEL_DATABASE_NOT_OPEN");
  });
});
