import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { sha256 } from "@noble/hashes/sha2";
import { expect } from "chai";
import { encryptKeystoreJson, ethers, isAddress } from "ethers";
import type { EvidenceBundle } from "../../node/evidence/bundle";
import type { Report } from "../../node/evidence/verify-bundle";
import { program } from "../../scripts/cli/dcl";
import { toHex } from "../../node/verify";
import { startApiHarness, type ApiHarness } from "../support/api-harness";
import { D, R, signTyped } from "../support/node-harness";

const ROOT = join(__dirname, "..", "..");

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `dcl <args>` as a child process, as a user would. */
function dcl(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath, ["-r", "ts-node/register/transpile-only", "scripts/cli/dcl.ts", ...args],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stdout, stderr }),
    );
  });
}

describe("dcl command line", function () {
  this.timeout(120_000);
  let h: ApiHarness;
  let bundleFile: string;
  let bundle: EvidenceBundle;
  const content = Buffer.from('[{"payer":"91500000MA5U000001","amountFen":"15000"}]');

  before(async () => {
    h = await startApiHarness();
    const now = Math.floor(Date.now() / 1000);
    const terms = {
      provider: D.water, consumer: D.tax, resource: R.waterFees, purposeHash: ethers.id("fees"), quota: "100",
      validFrom: String(now - 60), validUntil: String(now + 86400), nonce: "1",
    };
    const { draft, typedData } = await h.node.agreements.draft(D.tax, terms);
    await h.node.agreements.sign(draft.id, D.water, await signTyped(h.keys.water, typedData));
    await h.node.agreements.sign(draft.id, D.tax, await signTyped(h.keys.tax, typedData));
    await h.node.access.record(D.tax, [
      { agreementId: draft.id, recordCount: 10, requestHash: ethers.id("q1"), responseHash: toHex(sha256(content)) },
      { agreementId: draft.id, recordCount: 20, requestHash: ethers.id("q2"), responseHash: ethers.id("r2") },
    ]);
    bundle = await h.node.evidence.bundle([0, 1]);
    bundleFile = join(h.dir, "bundle.json");
    await writeFile(bundleFile, JSON.stringify(bundle, null, 2));
  });
  after(async () => h?.stop());

  it("verify without a trust root: exits 3, integrity holds but authenticity is not established", async () => {
    const r = await dcl(["verify", bundleFile]);
    expect(r.code, r.stderr).to.equal(3);
    expect(r.stdout).to.match(/✔ seal \[seal\]: sealed by operator key/);
    expect(r.stdout).to.match(/✔ entry\.inclusion \[entries\[1\]\.proof\]/);
    expect(r.stdout).to.contain("integrity holds");
    expect(r.stdout).to.contain("authenticity NOT established (no trust root");
    expect(r.stdout).to.not.contain("✘");
  });

  it("trust export writes a trust root; verify --trust with it exits 0, authentic", async () => {
    const trustFile = join(h.dir, "trust-root.json");
    const exported = await dcl(["trust", "export", "--rpc", h.anvil.url, "--registry", h.addresses.registry, "--out", trustFile]);
    expect(exported.code, exported.stderr).to.equal(0);
    expect(exported.stderr).to.match(/fingerprint 0x[0-9a-f]{64}/);
    const root = JSON.parse(await readFile(trustFile, "utf8"));
    expect(root.version).to.equal("dcl-trust-root/v1");
    expect(root.contracts.anchors).to.equal(h.addresses.anchors.toLowerCase());
    expect((await dcl(["trust", "export", "--rpc", h.anvil.url, "--registry", h.addresses.registry, "--out", trustFile])).code).to.equal(1); // never overwritten
    const r = await dcl(["verify", bundleFile, "--trust", trustFile]);
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    expect(r.stdout).to.match(/✔ trust\.deployment/);
    expect(r.stdout).to.match(/✔ trust\.receipt \[entries\[1\]\.receipt\.signer\]/);
    expect(r.stdout).to.contain(`authentic for the deployment of registry ${h.addresses.registry.toLowerCase()}`);
    const live = await dcl(["verify", bundleFile, "--rpc", h.anvil.url, "--registry", h.addresses.registry, "--json"]);
    expect(live.code, live.stdout + live.stderr).to.equal(0);
    const report = JSON.parse(live.stdout) as Report;
    expect([report.ok, report.authenticated, report.trust?.source]).to.deep.equal([true, true, "rpc"]);
  });

  it("trust export and verify refuse bad usage with exit 2", async () => {
    expect((await dcl(["trust", "export", "--rpc", h.anvil.url, "--registry", "0x1234"])).code).to.equal(2);
    expect((await dcl(["trust", "export", "--registry", h.addresses.registry])).code).to.equal(2);
    expect((await dcl(["verify", bundleFile, "--registry", h.addresses.registry])).code).to.equal(2);
    const junk = join(h.dir, "not-a-root.json");
    await writeFile(junk, JSON.stringify({ version: "dcl-trust-root/v1", chainId: "31337" }));
    const r = await dcl(["verify", bundleFile, "--trust", junk]);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.contain("not a dcl-trust-root/v1 trust root");
  });

  it("verify: exits 1 on a tampered bundle and names the failing checks with where", async () => {
    const bad = JSON.parse(JSON.stringify(bundle)) as EvidenceBundle;
    bad.entries[1].entry.recordCount = 2;
    const file = join(h.dir, "tampered.json");
    await writeFile(file, JSON.stringify(bad));
    const r = await dcl(["verify", file]);
    expect(r.code).to.equal(1);
    expect(r.stdout).to.match(/✘ seal \[seal\]/);
    expect(r.stdout).to.match(/✘ entry\.encoding \[entries\[1\]\.entry\.recordCount\]/);
    expect(r.stdout).to.match(/checks fail/);
  });

  it("verify --json prints the report as JSON; --rpc adds the chain checks", async () => {
    const r = await dcl(["verify", bundleFile, "--json", "--rpc", h.anvil.url]);
    expect(r.code, r.stderr).to.equal(3); // the chain checks hold, but without --registry nothing pins the deployment
    const report = JSON.parse(r.stdout) as Report;
    expect([report.ok, report.authenticated]).to.deep.equal([true, false]);
    expect(report.checks.map((c) => c.name)).to.include.members(["seal", "chain.anchor", "chain.operator"]);
  });

  it("verify: exits 2 on a file that is not JSON or missing", async () => {
    const file = join(h.dir, "junk.json");
    await writeFile(file, "{ not json");
    expect((await dcl(["verify", file])).code).to.equal(2);
    expect((await dcl(["verify", join(h.dir, "absent.json")])).code).to.equal(2);
  });

  it("provenance: hashes a file, asks the API with a signed request, prints the calls and saves a bundle that verifies", async () => {
    const keyFile = join(h.dir, "regulator.json");
    await writeFile(keyFile, await encryptKeystoreJson({ address: h.keys.regulator.address, privateKey: h.keys.regulator.privateKey }, "pw", { scrypt: { N: 1 << 10 } }));
    const dataFile = join(h.dir, "product.json");
    await writeFile(dataFile, content);
    const out = join(h.dir, "calls.json");
    const r = await dcl(
      ["provenance", dataFile, "--api", h.baseUrl, "--department", "cq.regulator", "--key", keyFile, "--registry", h.addresses.registry, "--bundle", out],
      { DCL_KEYSTORE_PASSWORD: "pw" },
    );
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.contain(`SHA-256 ${toHex(sha256(content))}`);
    expect(r.stdout).to.match(/#0 served/);
    expect(r.stdout).to.contain(`agreement ${bundle.agreements[0].id}`);
    const saved = await dcl(["verify", out, "--rpc", h.anvil.url, "--registry", h.addresses.registry]);
    expect(saved.code, saved.stdout).to.equal(0);
  });

  it("provenance: exits 2 without a key, and 1 when the API refuses", async () => {
    expect((await dcl(["provenance", ethers.id("x"), "--api", h.baseUrl])).code).to.equal(2);
    const keyFile = join(h.dir, "tax.json");
    await writeFile(keyFile, await encryptKeystoreJson({ address: h.keys.tax.address, privateKey: h.keys.tax.privateKey }, "pw", { scrypt: { N: 1 << 10 } }));
    const r = await dcl(["provenance", ethers.id("x"), "--api", h.baseUrl, "--department", "cq.tax", "--key", keyFile, "--registry", h.addresses.registry], { DCL_KEYSTORE_PASSWORD: "pw" });
    expect(r.code).to.equal(1);
    expect(r.stderr).to.contain("FORBIDDEN_ROLE");
  });

  it("keys new: writes an encrypted keystore and prints only its address; refuses without a password", async () => {
    const file = join(h.dir, "new-key.json");
    const r = await dcl(["keys", "new", file], { DCL_KEYSTORE_PASSWORD: "correct horse" });
    expect(r.code, r.stderr).to.equal(0);
    const address = r.stdout.trim();
    expect(isAddress(address)).to.equal(true);
    const json = JSON.parse(await readFile(file, "utf8"));
    expect(json.crypto ?? json.Crypto).to.have.property("kdf", "scrypt");
    expect(r.stdout).to.not.match(/0x[0-9a-f]{64}/i);
    expect((await dcl(["keys", "new", file], { DCL_KEYSTORE_PASSWORD: "x" })).code).to.equal(1); // never overwrites
    expect((await dcl(["keys", "new", join(h.dir, "other.json")])).code).to.equal(2);
  });

  it("status: prints tree size, anchored size and lag, and the readiness checks", async () => {
    const r = await dcl(["status", "--api", h.baseUrl]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/tree size\s+2/);
    expect(r.stdout).to.match(/anchored size\s+2/);
    expect(r.stdout).to.match(/lag\s+0 entries/);
    expect(r.stdout).to.match(/✔ chain: block \d+/);
    expect(r.stdout).to.match(/✔ indexer/);
  });

  it("documents every command's usage in --help", () => {
    const p = program(async () => undefined);
    for (const path of [["verify"], ["provenance"], ["keys", "new"], ["status"]]) {
      let cmd = p;
      for (const name of path) cmd = cmd.commands.find((c) => c.name() === name)!;
      let text = "";
      cmd.configureOutput({ writeOut: (t) => (text += t) });
      cmd.outputHelp();
      expect(text, path.join(" ")).to.match(/^Usage: dcl /);
      expect(text, path.join(" ")).to.match(/Example/);
    }
  });
});
