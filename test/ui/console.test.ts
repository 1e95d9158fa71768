/**
 * The web console in a real browser: Debian's Chromium, headless, driven by playwright-core, against
 * the product started as `npm start` starts it (scripts/start.ts on a fresh data directory) with the
 * demo's data (scripts/demo.ts played against it). Every view renders its data; sign-in decrypts a
 * demo keystore in the page; the Verify page runs dcl's verifier in the page (✔ authentic with the
 * trust root, "integrity only" without, ✘ with the JSON path for a bundle with one changed value);
 * provenance by a dropped file; the regulator suspends an agreement from the UI and a call under it is
 * then refused. Nothing leaves loopback (asserted; the browser's DNS is cut too), and axe-core finds no
 * WCAG 2.1 A/AA violation on any view. Screenshots of each view go to test-results/ui/.
 *
 * Where no Chromium is installed (a user's clone), these tests say so and are skipped; `.ci/run`
 * installs Debian's chromium first.
 */
import { expect } from "chai";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ethers, type Wallet } from "ethers";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { DclClient } from "../../api/client";
import { freePort } from "../../node/chain/anvil";
import { codeId } from "../../node/chain/ids";
import { loadKeystore } from "../../node/keys/keystore";
import { readDeployment } from "../../node/runtime/deployment";

const ROOT = join(__dirname, "..", "..");
const CHROMIUM = process.env.DCL_CHROMIUM ?? "/usr/bin/chromium";
const ARTIFACTS = process.env.DCL_TEST_ARTIFACTS ?? join(ROOT, "test-results", "ui");
/** The demo's data product: a logged call answered with exactly these bytes (scripts/demo.ts). */
const DEMO_PRODUCT = "district eligibility data product, 2026-11";

interface Running {
  child: ChildProcess;
  output: string;
}

function run(script: string, env: Record<string, string>): Running {
  const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", script], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const r: Running = { child, output: "" };
  child.stdout!.on("data", (d) => (r.output = (r.output + d).slice(-20_000)));
  child.stderr!.on("data", (d) => (r.output = (r.output + d).slice(-20_000)));
  return r;
}

const exited = (r: Running) => new Promise<number>((done) => (r.child.exitCode !== null ? done(r.child.exitCode) : r.child.once("exit", (code) => done(code ?? 1))));

describe("the web console in Chromium", function () {
  this.timeout(600_000);
  let dir: string;
  let baseUrl: string;
  let env: Record<string, string>;
  let product: Running | undefined;
  let password: string;
  let browser: Browser | undefined;
  let context: BrowserContext;
  let page: Page;
  const requests: string[] = [];
  const external: string[] = [];
  const pageErrors: string[] = [];
  let axeSource: string;

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      // The one allowed skip: no browser on this machine. Said plainly, once.
      console.log(`\n    SKIPPED: the console's browser tests need Chromium at ${CHROMIUM}, and there is none here.\n    Install it (Debian: sudo apt-get install chromium) or set DCL_CHROMIUM; the other tests still run.\n`);
      this.skip();
    }
    // As `npm start` does first (scripts/ensure-setup.js): the console built from its sources.
    const build = spawnSync(process.execPath, ["scripts/build-ui.js", "--if-stale"], { cwd: ROOT, encoding: "utf8" });
    if (build.status !== 0) throw new Error(`building the console failed: ${build.stdout}${build.stderr}`);
    await mkdir(ARTIFACTS, { recursive: true });
    axeSource = await readFile(require.resolve("axe-core/axe.min.js"), "utf8");

    dir = await mkdtemp(join(tmpdir(), "dcl-ui-"));
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    env = { DCL_DATA_DIR: dir, DCL_PORT: String(port), DCL_CHAIN_PORT: String(await freePort()), DCL_LOG_LEVEL: "warn", DCL_ANCHOR_INTERVAL_MS: "1000", DCL_API_URL: baseUrl };
    product = run("scripts/start.ts", env);
    for (let i = 0; ; i++) {
      if (product.child.exitCode !== null) throw new Error(`product exited ${product.child.exitCode}: ${product.output}`);
      if (await fetch(baseUrl + "/readyz").then((r) => r.ok, () => false)) break;
      if (i > 1200) throw new Error(`product not ready: ${product.output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const demo = run("scripts/demo.ts", env);
    const code = await exited(demo);
    if (code !== 0) throw new Error(`demo failed (${code}): ${demo.output}`);
    password = (await readFile(join(dir, "keys", "password"), "utf8")).trim();

    const { chromium } = await import("playwright-core");
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      // Playwright gives every launch a fresh, empty profile (its own --user-data-dir).
      args: [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync",
        // The network cut: no name resolves but loopback's.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
      ],
    });
    context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true, locale: "en-GB", timezoneId: "Asia/Shanghai" });
    // Anything not for this server is refused and remembered.
    await context.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith(baseUrl + "/") || url.startsWith("data:") || url.startsWith("blob:")) return route.continue();
      external.push(url);
      return route.abort("internetdisconnected");
    });
    context.on("request", (r) => requests.push(r.url()));
    page = await context.newPage();
    page.on("pageerror", (e) => pageErrors.push(e.message));
  });

  after(async () => {
    await browser?.close();
    if (product && product.child.exitCode === null) {
      const done = exited(product);
      product.child.kill("SIGINT");
      await done;
    }
    if (dir) {
      const pid = Number((await readFile(join(dir, "chain", "anvil.pid"), "utf8").catch(() => "")).trim());
      if (pid) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          /* already gone */
        }
      }
      await rm(dir, { recursive: true, force: true });
    }
  });

  /** Goes to a view the way a link inside the console does (the page keeps its signed-in key). */
  async function go(path: string): Promise<void> {
    await page.evaluate((url) => {
      history.pushState(null, "", url);
      dispatchEvent(new PopStateEvent("popstate"));
    }, `/ui/${path}`);
  }

  /** Waits until the view has loaded what it shows. */
  async function loaded(): Promise<void> {
    await page.waitForTimeout(250); // the view's effects start its loads after the first paint
    await page.waitForFunction(() => !document.querySelector("main .loading"));
    await page.waitForSelector("main h1");
  }

  async function shot(name: string, fullPage = true): Promise<void> {
    await page.waitForTimeout(300); // charts settle
    await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage });
  }

  /** axe-core (from npm) run in the page: no WCAG 2.1 A / AA violation. */
  async function accessible(view: string): Promise<void> {
    // Evaluated over the DevTools protocol, so the page's Content-Security-Policy stays as served.
    if (!(await page.evaluate(() => "axe" in window))) await page.evaluate(axeSource);
    const violations = await page.evaluate(async () => {
      const axe = (window as unknown as { axe: { run: (c: unknown, o: unknown) => Promise<{ violations: { id: string; help: string; nodes: { target: string[] }[] }[] }> } }).axe;
      const r = await axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } });
      return r.violations.map((v) => `${v.id} (${v.help}): ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`);
    });
    expect(violations, `accessibility of ${view}`).to.deep.equal([]);
  }

  async function tamperedBundle(): Promise<string> {
    const bundle = JSON.parse(await readFile(join(dir, "demo", "evidence-bundle.json"), "utf8"));
    bundle.entries[1].entry.recordCount += 1; // one changed value
    const file = join(dir, "tampered-bundle.json");
    await writeFile(file, JSON.stringify(bundle, null, 2));
    return file;
  }

  async function signIn(code: string): Promise<void> {
    if (await page.locator(".who").count()) await page.click(".who button");
    await go("signin");
    await page.setInputFiles("#keystore", join(dir, "keys", "demo", `${code}.json`));
    await page.selectOption("#department", code);
    await page.fill("#password", password);
    await page.click("form.signin button[type=submit]");
    await page.waitForSelector(".who", { timeout: 60_000 });
  }

  it("is announced by npm start with its address", () => {
    expect(product!.output).to.contain(`console ${baseUrl}/ui/`);
  });

  it("serves the console at /ui and opens a public view by its URL with no sign-in", async () => {
    const res = await page.goto(`${baseUrl}/ui/log`);
    expect(res!.status()).to.equal(200);
    expect(res!.headers()["content-security-policy"]).to.contain("connect-src 'self'");
    await page.waitForSelector("ul.checks li");
    const checks = page.locator("ul.checks li");
    expect(await checks.count()).to.equal(2); // the checkpoint's signature, consistency with the anchored one
    expect(await page.locator("ul.checks li.ok").count()).to.equal(2);
    await page.fill("#entry-index", "42");
    await page.click("text=Check its proof");
    await page.waitForSelector(".check-line.ok");
    expect(await page.textContent(".check-line")).to.match(/Entry 42 is in the log of 10,?003 entries/);
    await shot("log");
    await accessible("log");
  });

  it("verifies the demo's bundle in the page: ✔ authentic with the trust root, integrity only without", async () => {
    await go("verify");
    await page.setInputFiles("#bundle-file", join(dir, "demo", "evidence-bundle.json"));
    await page.waitForSelector("[data-testid=verdict]");
    expect(await page.textContent("#verdict-title")).to.contain("Intact — integrity only");
    expect(await page.getAttribute("[data-testid=verdict]", "class")).to.contain("warn");
    await shot("verify-integrity-only");
    await page.setInputFiles("#trust-file", join(dir, "demo", "trust-root.json"));
    await page.waitForFunction(() => document.querySelector("#verdict-title")?.textContent?.includes("Authentic"));
    const checks = page.locator("[data-testid=checks] li");
    expect(await checks.count()).to.be.greaterThan(20);
    expect(await page.locator("[data-testid=checks] li.bad").count()).to.equal(0);
    expect(await page.textContent("[data-testid=verdict]")).to.contain("Checked against the trust root of registry");
    await shot("verify-authentic");
    await accessible("verify");
  });

  it("shows ✘ with the JSON path for a bundle with one changed value", async () => {
    await page.setInputFiles("#bundle-file", await tamperedBundle());
    await page.waitForFunction(() => document.querySelector("#verdict-title")?.textContent?.includes("fail"));
    expect(await page.getAttribute("[data-testid=verdict]", "class")).to.contain("bad");
    const paths = await page.locator("[data-testid=checks] li.bad [data-testid=where]").allTextContents();
    expect(paths.length).to.be.greaterThan(0);
    expect(paths.some((p) => p.startsWith("entries[1]")), paths.join(", ")).to.equal(true);
    expect(await page.textContent("[data-testid=checks] li.bad")).to.contain("✘");
    await shot("verify-tampered");
    await accessible("verify, failed");
  });

  it("asks for sign-in on a signed view opened by its URL, says the key stays in the page, and signs in with a demo keystore", async () => {
    await page.goto(`${baseUrl}/ui/overview`);
    await page.waitForSelector("form.signin");
    expect(await page.textContent("#signin-privacy")).to.contain("Neither the password nor the key is sent anywhere");
    await page.setInputFiles("#keystore", join(dir, "keys", "demo", "cq.regulator.json"));
    expect(await page.inputValue("#department")).to.equal("cq.regulator"); // named by the file
    await page.fill("#password", "not the password");
    await page.click("form.signin button[type=submit]");
    await page.waitForSelector("form.signin [role=alert]", { timeout: 60_000 });
    expect(await page.textContent("form.signin [role=alert]")).to.contain("The password does not open this key file");
    await page.fill("#password", password);
    await shot("sign-in");
    await accessible("sign-in");
    const posted: string[] = [];
    const watch = (r: { url(): string; postData(): string | null; headers(): Record<string, string> }) => posted.push(`${r.url()} ${r.postData() ?? ""} ${JSON.stringify(r.headers())}`);
    page.on("request", watch);
    await page.click("form.signin button[type=submit]");
    await page.waitForSelector(".who", { timeout: 60_000 });
    page.off("request", watch);
    expect(await page.textContent(".who")).to.contain("Data-security supervision").and.contain("regulator");
    // Only signed requests went out: neither the password nor the keystore.
    expect(posted.join("\n")).to.not.contain(password);
    expect(posted.some((p) => p.includes("x-dcl-signature"))).to.equal(true);
  });

  it("overview: departments by level, agreements with quota gauges, calls over time, anchoring", async () => {
    await page.waitForSelector("[data-testid=chart-served] svg");
    const figures = await page.locator(".figure").allTextContents();
    expect(figures.join(" | ")).to.contain("10,000Calls served").and.contain("3Calls refused").and.contain("8Departments").and.contain("3Active agreements");
    expect(await page.locator(".gauge-card").count()).to.equal(3);
    expect(await page.textContent(".levels")).to.contain("Yuzhong District Big Data Bureau").and.contain("Tax Service");
    await page.waitForSelector("text=Entries anchored on chain");
    expect(await page.textContent("main")).to.contain("Last anchored in block");
    await shot("overview");
    await accessible("overview");
  });

  it("circulation graph: departments and agreements weighted by records moved; an edge opens its trail", async () => {
    await go("graph");
    await page.waitForSelector("[data-testid=graph] svg");
    const rows = page.locator("table tbody tr");
    expect(await rows.count()).to.equal(3);
    expect(await page.textContent("table")).to.contain("29,000").and.contain("1,000");
    await shot("graph");
    await accessible("graph");
    await page.click("tr:has-text('Residents') >> text=Open its trail");
    await page.waitForSelector("table.trail tbody tr");
    expect(page.url()).to.contain("/ui/trail?agreement=0x");
  });

  it("trail: filters, paging, an entry's inclusion proof checked in the page, CSV export", async () => {
    expect(await page.locator("table.trail tbody tr").count()).to.equal(50);
    await page.click("text=Next page");
    await page.waitForFunction(() => new URL(location.href).searchParams.has("after"));
    await page.waitForSelector("table.trail tbody tr");
    await page.locator("table.trail tbody tr a").first().click();
    await page.waitForSelector("[data-testid=entry-check] ul.checks li");
    const checks = await page.locator("[data-testid=entry-check] ul.checks li").allTextContents();
    expect(checks.map((c) => c.slice(0, 60))).to.have.length(3);
    expect(await page.locator("[data-testid=entry-check] ul.checks li.ok").count()).to.equal(3);
    expect(checks.join(" ")).to.contain("leaf hash").and.contain("inclusion proof").and.contain("anchored on the chain");
    await shot("trail-entry", false);

    // The district bureau's refused calls, by reason: the two no-consent calls of the demo.
    await go(`trail?consumer=${codeId("cq.yuzhong.bigdata")}&outcome=refused&reason=CONSENT_MISSING`);
    await loaded();
    expect(await page.locator("table.trail tbody tr").count()).to.equal(2);
    expect(await page.inputValue("#f-reason")).to.equal("CONSENT_MISSING");
    await shot("trail");
    await accessible("trail");
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("text=Export as CSV")]);
    const csv = await readFile((await download.path())!, "utf8");
    const lines = csv.trim().split(/\r\n/);
    expect(lines[0]).to.contain("index,time_utc,consumer");
    expect(lines).to.have.length(3);
    expect(lines[1]).to.contain("CONSENT_MISSING").and.contain("Yuzhong District Big Data Bureau");
    await writeFile(join(ARTIFACTS, "trail.csv"), csv);
  });

  it("consents by commitment: the grant, its scope, its timeline and the citizen's withdrawal", async () => {
    await go(`trail?consumer=${codeId("cq.yuzhong.bigdata")}&outcome=served`);
    await loaded();
    await page.locator("table.trail tbody tr a").first().click();
    await page.click("[data-testid=entry-check] a[href*='/ui/consents?subject=']");
    await page.waitForSelector("[data-testid=consent-timeline] svg");
    const table = await page.textContent("main table");
    expect(table).to.contain("Yuzhong District Big Data Bureau").and.contain("Explicit").and.contain("Withdrawn").and.contain("signed by the person too");
    await shot("consents");
    await accessible("consents");
  });

  it("non-tax transfers: batches with period, records, ¥ totals, reconciliation time; a dispute with its proof checked", async () => {
    await go("transfers");
    await page.waitForSelector("main table tbody tr");
    const text = await page.textContent("main");
    expect(text).to.contain("¥4,764,000.00").and.contain("¥466,749.00").and.contain("2026-10").and.contain("Reconciled, partly collected");
    expect(await page.locator("main table tbody tr").count()).to.equal(2);
    await shot("transfers");
    await accessible("transfers");
    await page.click("main table >> text=Civil-air-defence relocation fees");
    await page.waitForSelector(".dispute ul.checks li");
    expect(await page.locator(".dispute ul.checks li.ok").count()).to.equal(2);
    expect(await page.textContent(".dispute")).to.contain("Record 7 disputed").and.contain("JZ500103-2026-007");
    await shot("transfer-dispute");
    await accessible("transfer");
  });

  it("provenance: a dropped file is hashed in the page and its lineage shown with proofs", async () => {
    await go("provenance");
    await page.waitForSelector("[data-testid=drop-product-file]");
    // A real drop: a DataTransfer holding the file, dropped on the zone.
    const transfer = await page.evaluateHandle((text) => {
      const dt = new DataTransfer();
      dt.items.add(new File([text], "district-eligibility-2026-11.csv", { type: "text/csv" }));
      return dt;
    }, DEMO_PRODUCT);
    await page.dispatchEvent("[data-testid=drop-product-file]", "drop", { dataTransfer: transfer });
    const hash = "0x" + ethers.sha256(ethers.toUtf8Bytes(DEMO_PRODUCT)).slice(2);
    await page.waitForFunction((h) => location.search.includes(h), hash);
    expect(await page.inputValue("[data-testid=hash]")).to.equal(hash);
    await page.waitForSelector("[data-testid=verdict]");
    expect(await page.textContent("main")).to.contain("Was the answer of 1 logged call").and.contain("District social-assistance eligibility check");
    expect(await page.locator("[data-testid=checks] li.bad").count()).to.equal(0);
    expect(await page.textContent("#verdict-title")).to.contain("Intact");
    await shot("provenance");
    await accessible("provenance");
  });

  it("assessment and alerts: the view renders (or says the feature is not on this node yet)", async () => {
    await go("assessment");
    await page.waitForSelector("main .panel");
    await page.waitForFunction(() => !document.querySelector("main .loading"));
    expect(await page.textContent("main")).to.match(/Assessment of \d{4}Q[1-4]/);
    // The assessment feature is on this node: each department's figures beside the rule that scores them.
    await page.waitForSelector("section.assessment table.rules");
    expect(await page.locator("section.assessment").count()).to.be.greaterThan(1);
    const tax = page.locator(`section.assessment[aria-labelledby="as-${codeId("cq.tax")}"]`);
    expect(await tax.textContent()).to.contain("Reply rate (as provider)").and.contain("Reply 0535 §3.1").and.contain("point(s) deducted");
    // The demo's over-quota call raised an alert (the alerts feature is on this node too).
    await page.waitForSelector("[data-testid=alert]", { timeout: 30_000 });
    expect(await page.locator("[data-testid=alert]").allTextContents()).to.satisfy((xs: string[]) => xs.some((x) => x.includes("quota")));
    await shot("assessment");
    await accessible("assessment");
  });

  it("a regulator suspends an agreement from the UI, and a call under it is then refused", async () => {
    await go("agreements");
    await page.click("main table >> text=Water-resource fee assessments");
    await page.waitForSelector("[data-testid=usage-chart] svg");
    const id = page.url().split("/ui/agreements/")[1].split("?")[0];
    await shot("agreement");
    await accessible("agreement");
    await page.fill("#suspend-reason", "audit of fee-data handling, 2026-12");
    await page.click("text=Sign and suspend");
    await page.waitForSelector("text=Done: the agreement is now Suspended", { timeout: 60_000 });
    await page.waitForSelector(".tag.big.suspended");

    const deployment = (await readDeployment(join(dir, "deployment.json")))!;
    const taxKey = (await loadKeystore(join(dir, "keys", "demo", "cq.tax.json"), password)) as Wallet;
    const tax = new DclClient({ baseUrl, chainId: BigInt(deployment.chainId), registry: deployment.addresses.registry }, codeId("cq.tax"), taxKey);
    const r = await tax.post<{ results: { outcome: string; refusalReason?: string }[] }>("/v1/access", {
      calls: [{ agreementId: id, recordCount: 1, requestHash: ethers.id("after suspension"), responseHash: ethers.id("none") }],
    });
    expect(r.results[0]).to.include({ outcome: "refused", refusalReason: "AGREEMENT_SUSPENDED" });
    await shot("agreement-suspended");

    // The refusal is in the trail the regulator reads.
    await go(`trail?agreement=${id}&outcome=refused`);
    await loaded();
    expect(await page.textContent("table.trail")).to.contain("Agreement suspended");
  });

  it("speaks Chinese when asked, with amounts in ¥ and times in the viewer's zone", async () => {
    await page.selectOption(".lang select", "zh");
    await go("transfers");
    await page.waitForSelector("main table tbody tr");
    expect(await page.textContent("nav.side")).to.contain("总览").and.contain("非税划转");
    expect(await page.getAttribute("html", "lang")).to.equal("zh-CN");
    expect(await page.textContent("main")).to.contain("¥4,764,000.00");
    expect(await page.textContent("footer")).to.contain("Asia/Shanghai");
    await shot("transfers-zh");
    await accessible("transfers (Chinese)");
    await go("overview");
    await page.waitForSelector("[data-testid=chart-served] svg");
    await shot("overview-zh");
    await page.selectOption(".lang select", "en");
  });

  it("can be used with the keyboard alone: skip link, navigation, focus on the new view", async () => {
    await page.goto(`${baseUrl}/ui/verify`);
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.textContent)).to.equal("Skip to the content");
    // Tab through the header to the navigation, then follow a link with Enter.
    let reached = "";
    for (let i = 0; i < 20 && !reached.includes("Log and proofs"); i++) {
      await page.keyboard.press("Tab");
      reached = (await page.evaluate(() => document.activeElement?.textContent)) ?? "";
    }
    expect(reached).to.contain("Log and proofs");
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => location.pathname === "/ui/log");
    await page.waitForSelector("ul.checks li");
    expect(await page.evaluate(() => document.activeElement?.id)).to.equal("page-title");
  });

  it("made no request beyond this server and raised no error in the page", async () => {
    expect(external, "requests to other hosts").to.deep.equal([]);
    expect(requests.length).to.be.greaterThan(50);
    expect(requests.every((u) => u.startsWith(baseUrl + "/") || u.startsWith("data:") || u.startsWith("blob:"))).to.equal(true);
    expect(pageErrors).to.deep.equal([]);
  });
});
