/**
 * `dcl receipts check`, run as a user runs it (a child process): receipts saved from POST /v1/access
 * are proven in the checkpoint anchored on chain with proofs from the log's API, checked against the
 * chain's root; unanchored ones are pending, then overdue; a log that rewrote its store breaks them.
 */
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { expect } from "chai";
import { ethers } from "ethers";
import type { FastifyInstance } from "fastify";
import { buildApp } from "../../api/app";
import { freePort } from "../../node/chain/anvil";
import { makeProvider } from "../../node/chain/client";
import { codeId } from "../../node/chain/ids";
import type { LedgerNode } from "../../node/ledger-node";
import type { AccessLogEntry } from "../../node/log/entry";
import { MerkleLog } from "../../node/log/merkle-log";
import type { ReceiptResult } from "../../node/receipts/receipt-check";
import { fromHex, verifyInclusion, type Receipt } from "../../node/verify";
import { LogAnchors__factory } from "../../typechain-types";
import { startApiHarness, type ApiHarness } from "../support/api-harness";

const ROOT = join(__dirname, "..", "..");

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `dcl <args>` as a child process. */
function dcl(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath, ["-r", "ts-node/register/transpile-only", "scripts/cli/dcl.ts", ...args],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stdout, stderr }),
    );
  });
}

interface Logged {
  index: number;
  time: number;
  entry: AccessLogEntry;
  receipt: Receipt;
}

interface JsonReport {
  ok: boolean;
  summary: Record<string, number>;
  trust: { registry: string; chainId: string; fingerprint: string };
  results: (ReceiptResult & { file: string })[];
}

const call = (i: number) => ({ agreementId: ethers.id("cli receipts: no agreement"), recordCount: 1, requestHash: ethers.id(`cq ${i}`), responseHash: ethers.id(`cs ${i}`) });

describe("dcl receipts check", function () {
  this.timeout(180_000);
  let h: ApiHarness;
  let anchored: Logged[];
  let later: Logged[];
  let files: { anchored: string; later: string; bare: string };
  let chain: string[];
  let root: string;
  const closers: (() => Promise<void>)[] = [];

  before(async () => {
    h = await startApiHarness();
    const a = await h.client.tax.post<{ results: Logged[] }>("/v1/access", { calls: [0, 1, 2].map(call) });
    anchored = a.results;
    await h.node.anchorer.anchorOnce();
    const b = await h.client.tax.post<{ results: Logged[] }>("/v1/access", { calls: [3, 4].map(call) });
    later = b.results;
    files = { anchored: join(h.dir, "access-1.json"), later: join(h.dir, "access-2.json"), bare: join(h.dir, "bare.json") };
    await writeFile(files.anchored, JSON.stringify(a, null, 2));
    await writeFile(files.later, JSON.stringify(b, null, 2));
    await writeFile(files.bare, JSON.stringify([anchored[0].receipt, later[0].receipt]));
    chain = ["--rpc", h.anvil.url, "--registry", h.addresses.registry];
    const provider = makeProvider(h.anvil.url, 31337n, 50);
    root = (await LogAnchors__factory.connect(h.addresses.anchors, provider).latestCheckpoint(codeId("log.test"))).root;
    provider.destroy();
  });
  after(async () => {
    for (const close of closers) await close();
    await h?.stop();
  });

  it("proves anchored receipts kept and finds the others pending; exit 0", async () => {
    const r = await dcl(["receipts", "check", files.anchored, files.later, ...chain, "--api", h.baseUrl, "--interval", "3600000"]);
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    const lines = r.stdout.split("\n");
    expect(lines.filter((l) => l.startsWith("✔ kept"))).to.have.length(3);
    expect(lines.filter((l) => l.startsWith("… pending"))).to.have.length(2);
    expect(r.stdout).to.contain(`inclusion proof leads to the anchored root ${root}`);
    expect(r.stdout).to.contain("✔ 5 receipts: 3 kept, 2 pending");
  });

  it("--json gives each verdict with the proof, which checks against the root on chain", async () => {
    const r = await dcl(["receipts", "check", files.anchored, files.bare, ...chain, "--api", h.baseUrl, "--interval", "3600000", "--json"]);
    expect(r.code, r.stderr).to.equal(0);
    const report = JSON.parse(r.stdout) as JsonReport;
    expect(report.ok).to.equal(true);
    expect(report.trust.registry).to.equal(h.addresses.registry.toLowerCase());
    expect(report.results.map((x) => [x.file, x.verdict])).to.deep.equal([
      [files.anchored, "kept"], [files.anchored, "kept"], [files.anchored, "kept"], [files.bare, "kept"], [files.bare, "pending"],
    ]);
    for (const x of report.results.slice(0, 3)) {
      expect(x.signer).to.include({ address: h.operator.address, ok: true });
      expect(x.signer.detail).to.contain(`at time ${x.loggedAt}`);
      verifyInclusion(x.index, x.anchor!.treeSize, fromHex(x.leafHash), x.inclusion!.proof.map(fromHex), fromHex(root));
    }
    // A bare receipt has no entry: its time is unknown, so it is pending, never overdue.
    expect(report.results[4].loggedAt).to.equal(undefined);
    expect(report.results[4].detail).to.contain("time is unknown");
  });

  it("finds unanchored receipts OVERDUE once their entry's time + the interval + the grace has passed; exit 1", async () => {
    // Wait (not assert) until the calls' second is at least two seconds old: due = time + 1 s interval + 0 s grace.
    while (Math.floor(Date.now() / 1000) < later[0].time + 2) await new Promise((r) => setTimeout(r, 200));
    const r = await dcl(["receipts", "check", files.anchored, files.later, ...chain, "--api", h.baseUrl, "--interval", "1000", "--grace", "0"]);
    expect(r.code, r.stdout + r.stderr).to.equal(1);
    const lines = r.stdout.split("\n");
    expect(lines.filter((l) => l.startsWith("✔ kept"))).to.have.length(3);
    expect(lines.filter((l) => l.startsWith("✘ OVERDUE"))).to.have.length(2);
    expect(r.stdout).to.contain(`past its due time ${later[0].time + 1}`);
    expect(r.stdout).to.contain("✘ 5 receipts: 3 kept, 2 overdue");
  });

  it("finds receipts BROKEN against a log that rewrote one anchored entry, naming the evidence; exit 1", async () => {
    const entries = [...anchored, ...later].map((x) => x.entry);
    const log = await MerkleLog.open(join(h.dir, "rewritten"));
    await log.appendMany(entries.map((e, i) => (i === 2 ? { ...e, recordCount: 7 } : e)));
    const facade = Object.create(h.node, { log: { value: log } }) as LedgerNode;
    const app = (await buildApp({ node: facade, logger: false })) as unknown as FastifyInstance;
    await app.listen({ host: "127.0.0.1", port: 0 });
    closers.push(async () => {
      await app.close();
      await log.close();
    });
    const api = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    const r = await dcl(["receipts", "check", files.anchored, ...chain, "--api", api, "--json"]);
    expect(r.code, r.stderr).to.equal(1);
    const report = JSON.parse(r.stdout) as JsonReport;
    expect(report.ok).to.equal(false);
    expect(report.results.map((x) => [x.verdict, x.code])).to.deep.equal([
      ["broken", "INCLUSION_ROOT_MISMATCH"], ["broken", "INCLUSION_ROOT_MISMATCH"], ["broken", "RECEIPT_LEAF_MISMATCH"],
    ]);
    expect(report.results[2].receipt).to.deep.equal(anchored[2].receipt);
    expect(report.results[2].anchor!.root).to.equal(root);
    const text = await dcl(["receipts", "check", files.anchored, ...chain, "--api", api]);
    expect(text.code).to.equal(1);
    expect(text.stdout.split("\n").filter((l) => l.startsWith("✘ BROKEN"))).to.have.length(3);
    expect(text.stdout).to.contain(`Evidence against the operator of ${anchored[2].receipt.origin}`);
    expect(text.stdout).to.contain(`anchored on chain: checkpoint 0, size 3, root ${root}`);
  });

  it("refuses a tampered receipt as invalid, and leaves receipts unchecked when the log's API cannot be reached; exit 1", async () => {
    const tampered = join(h.dir, "tampered.json");
    await writeFile(tampered, JSON.stringify({ ...anchored[0].receipt, leafHash: anchored[1].receipt.leafHash }));
    const r = await dcl(["receipts", "check", tampered, ...chain, "--api", h.baseUrl]);
    expect(r.code, r.stdout + r.stderr).to.equal(1);
    expect(r.stdout).to.match(/^✘ invalid .* \[RECEIPT_BATCH_INVALID\]: .*does not lead to batch root/m);

    const closed = `http://127.0.0.1:${await freePort()}`;
    const u = await dcl(["receipts", "check", files.anchored, files.later, ...chain, "--api", closed, "--interval", "3600000"]);
    expect(u.code, u.stdout + u.stderr).to.equal(1);
    expect(u.stdout.split("\n").filter((l) => l.startsWith("? unchecked"))).to.have.length(3);
    expect(u.stdout.split("\n").filter((l) => l.startsWith("… pending"))).to.have.length(2);
  });

  it("exits 2 on bad input or usage, and 1 when the chain cannot be read", async () => {
    const notJson = join(h.dir, "not-json.txt");
    await writeFile(notJson, "receipts?");
    const empty = join(h.dir, "empty.json");
    await writeFile(empty, JSON.stringify({ results: [] }));
    const wrong = join(h.dir, "wrong.json");
    await writeFile(wrong, JSON.stringify([{ receipt: { ...anchored[0].receipt, index: -1 } }]));
    for (const [args, says] of [
      [[notJson, ...chain], "is not JSON"],
      [[empty, ...chain], "holds no receipt"],
      [[wrong, ...chain], "$[0].receipt.index"],
      [[join(h.dir, "missing.json"), ...chain], "cannot read"],
      [[files.anchored, "--rpc", h.anvil.url, "--registry", "0x1234"], "is not an 0x-hex address"],
      [[files.anchored, ...chain, "--interval", "5s"], "is not a number of milliseconds"],
      [[files.anchored, "--rpc", h.anvil.url], "--registry"],
    ] as [string[], string][]) {
      const r = await dcl(["receipts", "check", ...args]);
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).to.equal(2);
      expect(r.stderr).to.contain(says);
    }
    const down = await dcl(["receipts", "check", files.anchored, "--rpc", `http://127.0.0.1:${await freePort()}`, "--registry", h.addresses.registry]);
    expect(down.code, down.stderr).to.equal(1);
    expect(down.stderr).to.contain("cannot read the deployment");
  });
});
