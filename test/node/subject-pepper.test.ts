/**
 * The subject pepper is its own secret (a 32-byte file), not derived from the operator key; a store
 * made with the old derived pepper keeps working; a lost pepper file stops the node instead of
 * silently breaking every subject lookup; erasure shreds the secret from the files on disk.
 */
import { expect } from "chai";
import { readdir, readFile, rm, stat, unlink, writeFile, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { hmac } from "@noble/hashes/hmac";
import { sha256 } from "@noble/hashes/sha256";
import { Level } from "level";
import pino from "pino";
import { Wallet } from "ethers";
import { loadConfig } from "../../api/config";
import { LedgerNode } from "../../node/ledger-node";
import { legacySubjectPepper, loadOrCreateSubjectPepper } from "../../node/subjects/subject-pepper";
import { SubjectSecrets } from "../../node/subjects/subject-secrets";
import { fromHex, toHex } from "../../node/verify";
import { startNodeHarness, type NodeHarness } from "../support/node-harness";

const ID = "500101198001010011";

/** A pino logger writing into `lines`. */
function capture(lines: string[]) {
  return pino({ level: "trace" }, new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } }));
}

const codeOf = (p: Promise<unknown>) => p.then(() => "(resolved)", (e: { code?: string }) => e.code ?? String(e));

describe("subject pepper", function () {
  let dir: string;
  beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), "dcl-pepper-"))));
  afterEach(() => rm(dir, { recursive: true, force: true }));

  async function store(name: string) {
    const db = new Level<string, unknown>(join(dir, name), { valueEncoding: "json" });
    await db.open();
    return db;
  }

  it("reads DCL_SUBJECT_PEPPER_FILE, by default <DCL_DATA_DIR>/keys/subject-pepper", () => {
    expect(loadConfig({ DCL_DATA_DIR: dir }).subjectPepperFile).to.equal(join(dir, "keys", "subject-pepper"));
    expect(loadConfig({ DCL_DATA_DIR: dir, DCL_SUBJECT_PEPPER_FILE: "/secrets/pepper" }).subjectPepperFile).to.equal("/secrets/pepper");
  });

  it("creates a random 32-byte file (0600) for a fresh store, once, and reads the same one afterwards", async () => {
    const db = await store("fresh");
    const file = join(dir, "keys", "subject-pepper");
    const operatorKey = Wallet.createRandom().privateKey;
    const lines: string[] = [];
    const first = await loadOrCreateSubjectPepper({ file, db, legacy: () => legacySubjectPepper(operatorKey), logger: capture(lines) });
    expect(first.origin).to.equal("created");
    const bytes = await readFile(file);
    expect(bytes.length).to.equal(32);
    expect(toHex(first.pepper)).to.equal(toHex(bytes));
    expect((await stat(file)).mode & 0o777).to.equal(0o600);
    expect(toHex(first.pepper)).to.not.equal(toHex(legacySubjectPepper(operatorKey)));
    const again = await loadOrCreateSubjectPepper({ file, db, legacy: () => legacySubjectPepper(operatorKey) });
    expect(again.origin).to.equal("file");
    expect(toHex(again.pepper)).to.equal(toHex(first.pepper));
    // Only the path is logged, never the value.
    expect(lines.join("")).to.include(file);
    expect(lines.join("")).to.not.include(toHex(first.pepper).slice(2));
    expect(lines.join("")).to.not.include(bytes.toString("base64"));
    await db.close();
  });

  it("migrates a store made with the operator-derived pepper: writes that value into the file once, lookups unchanged", async () => {
    const operatorKey = Wallet.createRandom().privateKey;
    const db = await store("legacy");
    // What the previous version did: pepper = HMAC(operator key, "dcl-subject-pepper-v1").
    const old = hmac(sha256, fromHex(operatorKey), new TextEncoder().encode("dcl-subject-pepper-v1"));
    const before = await new SubjectSecrets(db, old).commitment(ID, true);

    const file = join(dir, "keys", "subject-pepper");
    const lines: string[] = [];
    const migrated = await loadOrCreateSubjectPepper({ file, db, legacy: () => legacySubjectPepper(operatorKey), logger: capture(lines) });
    expect(migrated.origin).to.equal("migrated");
    expect(toHex(await readFile(file))).to.equal(toHex(old));
    expect((await stat(file)).mode & 0o777).to.equal(0o600);
    expect(await new SubjectSecrets(db, migrated.pepper).commitment(ID, false)).to.equal(before);
    expect(lines.join("")).to.include("migrated");
    expect(lines.join("")).to.not.include(toHex(old).slice(2));

    // Once: afterwards the file is what counts, even with another operator key.
    const later = await loadOrCreateSubjectPepper({ file, db, legacy: () => legacySubjectPepper(Wallet.createRandom().privateKey) });
    expect(later.origin).to.equal("file");
    expect(await new SubjectSecrets(db, later.pepper).commitment(ID, false)).to.equal(before);
    await db.close();
  });

  it("refuses to start when the pepper file of a store with subjects is lost or replaced, or is malformed", async () => {
    const db = await store("lost");
    const file = join(dir, "keys", "subject-pepper");
    const legacy = () => legacySubjectPepper(Wallet.createRandom().privateKey);
    const { pepper } = await loadOrCreateSubjectPepper({ file, db, legacy });
    await new SubjectSecrets(db, pepper).commitment(ID, true);

    await unlink(file);
    expect(await codeOf(loadOrCreateSubjectPepper({ file, db, legacy }))).to.equal("SUBJECT_PEPPER_MISSING");
    await writeFile(file, Buffer.alloc(32, 7), { mode: 0o600 });
    expect(await codeOf(loadOrCreateSubjectPepper({ file, db, legacy }))).to.equal("SUBJECT_PEPPER_MISMATCH");
    await writeFile(file, Buffer.alloc(31, 7), { mode: 0o600 });
    expect(await codeOf(loadOrCreateSubjectPepper({ file, db, legacy }))).to.equal("SUBJECT_PEPPER_MALFORMED");
    await writeFile(file, pepper, { mode: 0o600 });
    expect(toHex((await loadOrCreateSubjectPepper({ file, db, legacy })).pepper)).to.equal(toHex(pepper));
    await db.close();
  });

  it("concurrent first uses of an ID number agree on one secret (one commitment)", async () => {
    const db = await store("race");
    const secrets = new SubjectSecrets(db, new Uint8Array(32).fill(3));
    const made = await Promise.all(Array.from({ length: 8 }, () => secrets.commitment(ID, true)));
    expect(new Set(made).size).to.equal(1);
    expect(await secrets.commitment(ID, false)).to.equal(made[0]);
    await db.close();
  });

  it("erasure removes the destroyed secret from the store's files, not only from its index", async () => {
    const path = join(dir, "shred");
    let db = new Level<string, unknown>(path, { valueEncoding: "json", compression: false } as never);
    await db.open();
    const pepper = new Uint8Array(32).fill(9);
    await new SubjectSecrets(db, pepper).commitment(ID, true);
    const secrets: string[] = [];
    for await (const v of db.sublevel("subjects", { valueEncoding: "utf8" }).values()) secrets.push(v as string);
    expect(secrets).to.have.length(1);
    await db.close();
    db = new Level<string, unknown>(path, { valueEncoding: "json", compression: false } as never); // reopening writes the log into a table file
    await db.open();
    const raw = async () => (await Promise.all((await readdir(path)).map((f) => readFile(join(path, f))))).map((b) => b.toString("latin1")).join("");
    expect(await raw()).to.include(secrets[0].slice(2));
    expect(await new SubjectSecrets(db, pepper).erase(ID, "0x01", 1)).to.not.equal(undefined);
    await db.close();
    expect(await raw()).to.not.include(secrets[0].slice(2));
  });
});

describe("subject pepper through LedgerNode.open", function () {
  let h: NodeHarness;
  before(async () => (h = await startNodeHarness()));
  after(async () => h?.close());

  it("uses <dataDir>/keys/subject-pepper, not the operator key, and keeps it across restarts", async () => {
    const file = join(h.node.options.dataDir, "keys", "subject-pepper");
    const bytes = await readFile(file);
    expect(bytes.length).to.equal(32);
    expect(toHex(bytes)).to.not.equal(toHex(legacySubjectPepper(h.operator.privateKey)));
    const c = await h.node.consents.commitmentOf(ID);
    expect(c).to.equal(undefined);
    const secrets = new SubjectSecrets(h.node.db, bytes);
    const made = await secrets.commitment(ID, true);
    expect(await h.node.consents.commitmentOf(ID)).to.equal(made);
    await h.reopen();
    expect(await h.node.consents.commitmentOf(ID)).to.equal(made);
    expect(toHex(await readFile(file))).to.equal(toHex(bytes));
  });

  it("migrates an existing data dir made with the operator-derived pepper on open, logging the path only", async () => {
    const dataDir = join(h.dir, "legacy-node");
    // A store as the previous version left it: a subject under the operator-derived pepper, no pepper file.
    const db = new Level<string, unknown>(join(dataDir, "node"), { valueEncoding: "json" });
    await db.open();
    const old = hmac(sha256, fromHex(h.operator.privateKey), new TextEncoder().encode("dcl-subject-pepper-v1"));
    const before = await new SubjectSecrets(db, old).commitment(ID, true);
    await db.close();

    const lines: string[] = [];
    const node = await LedgerNode.open({ ...h.node.options, dataDir, logger: capture(lines) });
    try {
      expect(await node.consents.commitmentOf(ID)).to.equal(before);
      const file = join(dataDir, "keys", "subject-pepper");
      expect(toHex(await readFile(file))).to.equal(toHex(old));
      expect(lines.join("")).to.include(file);
      expect(lines.join("")).to.not.include(toHex(old).slice(2));
    } finally {
      await node.close();
    }
  });

  it("takes the pepper file named in the options", async () => {
    const dataDir = join(h.dir, "custom-node");
    const file = join(h.dir, "elsewhere", "pepper.bin");
    const node = await LedgerNode.open({ ...h.node.options, dataDir, subjectPepperFile: file });
    try {
      expect((await readFile(file)).length).to.equal(32);
      await expectMissing(join(dataDir, "keys", "subject-pepper"));
    } finally {
      await node.close();
    }
  });
});

async function expectMissing(path: string) {
  expect(await stat(path).then(() => "exists", (e: { code: string }) => e.code)).to.equal("ENOENT");
}
