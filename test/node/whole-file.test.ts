/**
 * Files the node cannot do without — the operator's keystore, the deployment record (contract
 * addresses), the embedded chain's state — are written whole: a crash or power cut leaves the old
 * file or the new one, never an empty or cut-short one. The deployment record and the keystore were
 * written with a plain writeFile (in place, not synced): a power cut right after the first start
 * could leave an empty deployment.json (the next start then fails on JSON) or an empty keystore (the
 * operator key, already the department's signer on chain, lost).
 */
import { expect } from "chai";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createKeystore, loadKeystore } from "../../node/keys/keystore";
import { readDeployment, writeDeployment, type Deployment } from "../../node/runtime/deployment";
import { writeFileWhole } from "../../node/runtime/whole-file";

const deployment = (startBlock: number): Deployment => ({
  chainId: "31337",
  addresses: { registry: "0x" + "11".repeat(20) } as unknown as Deployment["addresses"],
  startBlock,
  deployedAt: new Date(0).toISOString(),
});

describe("files written whole (temporary file, fsync, rename or link)", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "dcl-whole-file-"));
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it("replaces a file by a new one, never writing the old one in place, and leaves no temporary file", async () => {
    const file = join(dir, "f.json");
    await writeFileWhole(file, Buffer.from("old"));
    const before = await stat(file);
    await writeFileWhole(file, Buffer.from("new, longer"));
    const after = await stat(file);
    expect(await readFile(file, "utf8")).to.equal("new, longer");
    expect(after.ino, "a new file renamed over the old one").to.not.equal(before.ino);
    expect(await readdir(dir)).to.deep.equal(["f.json"]);
  });

  it("writes over a temporary file a crash left behind, and leaves none", async () => {
    const file = join(dir, "state.json");
    await writeFile(join(dir, ".state.json.tmp"), "a cut-short write from before a crash, longer than the new one");
    await writeFileWhole(file, Buffer.from("{}"));
    expect(await readFile(file, "utf8")).to.equal("{}");
    expect(await readdir(dir)).to.deep.equal(["state.json"]);
  });

  it("with exclusive, refuses an existing file (EEXIST), leaving it and no temporary file", async () => {
    const file = join(dir, "f.json");
    await writeFile(file, "kept");
    const err = await writeFileWhole(file, Buffer.from("other"), { exclusive: true }).then(() => undefined, (e: NodeJS.ErrnoException) => e);
    expect(err?.code).to.equal("EEXIST");
    expect(await readFile(file, "utf8")).to.equal("kept");
    expect(await readdir(dir)).to.deep.equal(["f.json"]);
    await writeFileWhole(join(dir, "g.json"), Buffer.from("new"), { exclusive: true });
    expect(await readFile(join(dir, "g.json"), "utf8")).to.equal("new");
  });

  it("gives the file the mode asked for", async () => {
    const file = join(dir, "secret");
    await writeFileWhole(file, Buffer.from("s"), { mode: 0o600, exclusive: true });
    expect((await stat(file)).mode & 0o777).to.equal(0o600);
  });

  it("writes the deployment record whole: a rewrite is a new file, and overwrite: false still refuses", async () => {
    const file = join(dir, "data", "deployment.json");
    await writeDeployment(file, deployment(1));
    const before = await stat(file);
    await writeDeployment(file, deployment(2));
    expect((await stat(file)).ino, "not rewritten in place").to.not.equal(before.ino);
    expect((await readDeployment(file))?.startBlock).to.equal(2);
    const err = await writeDeployment(file, deployment(3), { overwrite: false }).then(() => undefined, (e: NodeJS.ErrnoException) => e);
    expect(err?.code).to.equal("EEXIST");
    expect((await readDeployment(file))?.startBlock).to.equal(2);
    expect(await readdir(join(dir, "data"))).to.deep.equal(["deployment.json"]);
  });

  it("names the file when a deployment record is not whole JSON, instead of a bare parse error", async () => {
    const file = join(dir, "deployment.json");
    await writeFile(file, "");
    const err = await readDeployment(file).then(() => undefined, (e: Error) => e);
    expect(err?.message).to.include(file).and.to.include("not whole JSON");
  });

  it("creates the keystore whole, mode 0600, never over an existing one", async () => {
    const file = join(dir, "keys", "operator.json");
    const wallet = await createKeystore(file, "pw", 2 ** 4);
    expect((await stat(file)).mode & 0o777).to.equal(0o600);
    expect((await loadKeystore(file, "pw")).address).to.equal(wallet.address);
    const err = await createKeystore(file, "pw", 2 ** 4).then(() => undefined, (e: NodeJS.ErrnoException) => e);
    expect(err?.code).to.equal("EEXIST");
    expect((await loadKeystore(file, "pw")).address).to.equal(wallet.address);
    expect(await readdir(join(dir, "keys"))).to.deep.equal(["operator.json"]);
  });
});
