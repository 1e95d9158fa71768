import { expect } from "chai";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createKeystore, loadKeystore, loadOrCreateKeystore, readPassword } from "../../node/keys/keystore";

const FAST_SCRYPT = 1 << 10; // keeps the test quick; production keystores use 2^17

describe("keystore", () => {
  let dir: string;
  beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), "dcl-keys-"))));
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("writes an encrypted keystore (owner-only) that holds no plaintext key, and unlocks it", async () => {
    const path = join(dir, "k.json");
    const wallet = await createKeystore(path, "correct horse", FAST_SCRYPT);
    const text = await readFile(path, "utf8");
    expect(text).to.not.contain(wallet.privateKey.slice(2));
    expect((await stat(path)).mode & 0o777).to.equal(0o600);
    expect((await loadKeystore(path, "correct horse")).address).to.equal(wallet.address);
  });

  it("refuses a wrong password with KEYSTORE_BAD_PASSWORD and no secret in the message", async () => {
    const path = join(dir, "k.json");
    await createKeystore(path, "right", FAST_SCRYPT);
    const err = await loadKeystore(path, "hunter2-nope").then(() => undefined, (e: unknown) => e as { code: string; message: string });
    expect(err?.code).to.equal("KEYSTORE_BAD_PASSWORD");
    expect(err?.message).to.not.contain("hunter2-nope");
  });

  it("never overwrites an existing keystore", async () => {
    const path = join(dir, "k.json");
    const first = await loadOrCreateKeystore(path, "pw", FAST_SCRYPT);
    const second = await loadOrCreateKeystore(path, "pw", FAST_SCRYPT);
    expect(second.address).to.equal(first.address);
    const err = await createKeystore(path, "pw", FAST_SCRYPT).then(() => undefined, (e: unknown) => e as { code: string });
    expect(err?.code).to.equal("EEXIST");
  });

  it("reads the password from the environment value first, else from a file", async () => {
    const file = join(dir, "pw");
    await writeFile(file, "from-file\n");
    expect(await readPassword({ password: "from-env", passwordFile: file })).to.equal("from-env");
    expect(await readPassword({ passwordFile: file })).to.equal("from-file");
    const err = await readPassword({}).then(() => undefined, (e: unknown) => e as { code: string });
    expect(err?.code).to.equal("KEYSTORE_NO_PASSWORD");
  });
});
