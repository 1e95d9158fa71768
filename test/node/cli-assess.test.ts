/**
 * `dcl assess` as a user runs it: asks the API for a period's assessment and saves its bundle;
 * reproduces the regulator's assessment exactly from a period bundle alone; fails, naming the
 * range, when an entry of the period is removed from the bundle or one from outside it is added.
 */
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { expect } from "chai";
import { encryptKeystoreJson } from "ethers";
import type { FastifyInstance } from "fastify";
import { buildApp } from "../../api/app";
import type { PeriodBundle } from "../../node/assessment/period-bundle";
import { connectRpc, exportTrustRoot } from "../../node/trust/export-trust-root";
import { sealSigningPayload } from "../../node/verify";
import { program } from "../../scripts/cli/dcl";
import { D } from "../support/node-harness";
import { buildPeriodScenario, type PeriodScenario } from "../support/period-scenario";

const ROOT = join(__dirname, "..", "..");
const PASSWORD = "assess-test";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function dcl(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath, ["-r", "ts-node/register/transpile-only", "scripts/cli/dcl.ts", "assess", ...args],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", DCL_KEYSTORE_PASSWORD: PASSWORD }, timeout: 90_000, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stdout, stderr }),
    );
  });
}

describe("dcl assess", function () {
  this.timeout(240_000);
  let s: PeriodScenario;
  let app: FastifyInstance;
  let api: string;
  let bundle: PeriodBundle;
  const file = (name: string) => join(s.h.dir, name);
  let as: string[];

  /** `bundle` changed by `edit`, sealed again with the operator's key, written to `name`. */
  async function tampered(name: string, edit: (b: PeriodBundle) => void): Promise<string> {
    const { seal: _seal, ...copy } = structuredClone(bundle);
    edit(copy as PeriodBundle);
    await writeFile(file(name), JSON.stringify({ ...copy, seal: { signer: s.h.operator.address, signature: s.h.operator.signMessageSync(sealSigningPayload(copy)) } }));
    return file(name);
  }

  before(async () => {
    s = await buildPeriodScenario();
    app = (await buildApp({ node: s.h.node, logger: false })) as unknown as FastifyInstance;
    await app.listen({ host: "127.0.0.1", port: 0 });
    api = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    await writeFile(file("regulator.json"), await encryptKeystoreJson(s.h.keys.regulator, PASSWORD, { scrypt: { N: 1024 } }));
    as = ["--api", api, "--department", "cq.regulator", "--key", file("regulator.json"), "--registry", s.h.addresses.registry];
    bundle = await s.h.node.assessments.bundle(s.period);
    await writeFile(file("bundle.json"), JSON.stringify(bundle));
    const provider = await connectRpc(s.h.anvil.url);
    await writeFile(file("trust.json"), JSON.stringify(await exportTrustRoot(provider, s.h.addresses.registry).finally(() => provider.destroy())));
  });
  after(async () => {
    await app?.close();
    await s?.h.close();
  });

  it("asks the API for a period's assessment, prints it as a table with the departments' codes, and saves the period bundle", async () => {
    const r = await dcl(["--from", String(s.period.from), "--to", String(s.period.to), ...as, "--codes", "cq.tax,cq.water", "--save-bundle", file("saved.json")]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.contain(`assessment of the period [${s.period.from}, ${s.period.to}) — log entries [2, 11) of the tree of size 13, the period closed`);
    expect(r.stdout).to.match(/cq\.tax\s+consumer\s+8\s+4\s+4\s+83\s+50\.00 %\s+1\/3\s+−0\.2/);
    expect(r.stdout).to.match(/cq\.water\s+provider\s+5\s+3\s+2\s+80\s+100\.00 %/);
    expect(r.stdout).to.contain(`period bundle of 9 entries saved to ${file("saved.json")}`);
    const again = await dcl(["--bundle", file("saved.json"), "--trust", file("trust.json")]);
    expect(again.code, again.stdout).to.equal(0);
  });

  it("reproduces the regulator's assessment exactly from the bundle alone, authentic with the trust root, and compares it with the API's", async () => {
    const r = await dcl(["--bundle", file("bundle.json"), "--trust", file("trust.json"), ...as.filter((_, i) => i < 6)]);
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    expect(r.stdout).to.contain("✔ range.proof [entries]: the 9 entries are exactly the log's entries [2, 11) in the tree of size 13");
    expect(r.stdout).to.contain(`✔ the assessment the API gives (${api}) is exactly the one recomputed from the bundle`);
    expect(r.stdout).to.contain("reproduced from all 9 entries of the period (entries [2, 11) of the anchored tree of size 13); authentic for registry");
    const json = await dcl(["--bundle", file("bundle.json"), "--trust", file("trust.json"), "--json"]);
    expect(JSON.parse(json.stdout)).to.deep.equal(bundle.assessment);
  });

  it("exits 3 without a trust root: reproduced, authenticity not established", async () => {
    const r = await dcl(["--bundle", file("bundle.json")]);
    expect(r.code).to.equal(3);
    expect(r.stdout).to.contain("authenticity NOT established");
  });

  it("fails, naming the range, when one entry of the period is removed from the bundle (re-sealed by the operator)", async () => {
    const f = await tampered("dropped.json", (b) => {
      b.entries.splice(3, 1);
      b.range.end -= 1;
    });
    const r = await dcl(["--bundle", f, "--trust", file("trust.json")]);
    expect(r.code).to.equal(1);
    expect(r.stdout).to.contain("✘ range.proof [entries]: the bundle's entries are not exactly the log's entries [2, 10)");
    expect(r.stdout).to.match(/checks fail for entries \[2, 10\) of period \[\d+, \d+\): the assessment is not reproduced/);
  });

  it("fails, naming the range, when one entry from outside the period is added to the bundle", async () => {
    const f = await tampered("added.json", (b) => {
      b.entries.push(b.after!);
      b.range.end += 1;
    });
    const r = await dcl(["--bundle", f, "--trust", file("trust.json")]);
    expect(r.code).to.equal(1);
    expect(r.stdout).to.contain("not exactly the log's entries [2, 12)");
    expect(r.stdout).to.match(/✘ range\.times \[entries\[9\]\]: entries\[9\] \(log index 11\) has time \d+, outside the period/);
  });

  it("fails when the assessment it is compared with is not the one the bundle gives", async () => {
    const other = structuredClone(bundle.assessment);
    other.departments.find((d) => d.department === D.tax)!.asConsumer.calls += 1;
    await writeFile(file("other.json"), JSON.stringify(other));
    const r = await dcl(["--bundle", file("bundle.json"), "--trust", file("trust.json"), "--against", file("other.json")]);
    expect(r.code).to.equal(1);
    expect(r.stdout).to.match(/✘ the assessment in .*other\.json differs from the one recomputed from the bundle at departments\[\d\]\.asConsumer\.calls: 9 there, 8 recomputed/);
  });

  it("exits 2 on bad usage and unreadable input", async () => {
    for (const args of [["--bundle", file("nope.json")], ["--bundle", file("bundle.json"), "--period", "2026Q4"], ["--period", "2026Q5", ...as], ["--period", "2026Q4"]]) {
      const r = await dcl(args);
      expect(r.code, args.join(" ") + r.stdout).to.equal(2);
      expect(r.stderr).to.match(/^dcl: /);
    }
  });

  it("documents its usage with examples in --help", () => {
    const cmd = program(async () => undefined).commands.find((c) => c.name() === "assess")!;
    let text = "";
    cmd.configureOutput({ writeOut: (t) => (text += t) });
    cmd.outputHelp();
    expect(text).to.match(/^Usage: dcl assess/);
    expect(text).to.contain("--bundle").and.contain("Example").and.contain("Exit codes");
  });
});
