/**
 * `npm run soak`: the product under faults, for minutes, with every flow going.
 *
 * Starts dcl as `npm start` does (dist/scripts/start.js, embedded default) in a scratch data directory
 * (test/support/product-process.ts, the same code the kill -9 tests use), sets up departments, the
 * catalog and agreements through the API, then runs concurrent clients at a steady rate — access
 * logging (receipts kept), agreements co-signed, consents recorded, fee transfers co-signed and
 * reconciled — while it SIGKILLs the node at random moments (≥ 10 times, once together with its
 * chain), freezes the chain (SIGSTOP of anvil) for 60 s once and makes every store write fail for 10 s
 * once (DCL_STORE_FAULT_FILE). Then it checks that every acknowledged entry, receipt, agreement,
 * consent and transfer is there, that every 202 relay ended, that no 5xx was answered and that the
 * node's memory stayed flat, prints the figures as a table, and exits 1 if any check failed.
 *
 *   npm run soak                    quick mode: 6 minutes of load (≤ 10 minutes in all)
 *   npm run soak -- --minutes 5     the CI form (about 5.5 minutes in all, plus the build)
 *   npm run soak -- --long          60 minutes; --minutes N for any length
 *   --keep                          keep the scratch directory (the node's output is in it)
 *
 * The soak is not a test: it reports figures from one run on a shared machine.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ethers, Wallet } from "ethers";
import { DclClient, type ApiTypedData } from "../../api/client";
import { freePort } from "../../node/chain/anvil";
import { codeId } from "../../node/chain/ids";
import { loadKeystore } from "../../node/keys/keystore";
import { readDeployment } from "../../node/runtime/deployment";
import { fromHex, verifyInclusion, type Receipt } from "../../node/verify";
import { ProductProcess } from "../../test/support/product-process";
import { checkEntries, checkMemory, checkPresent, checkReceipts, checkRelays, checkServerErrors, table, type CheckResult, type RelayFate, type RssSample, type ServerError } from "./checks";

const ROOT = join(__dirname, "..", "..");
const say = (s = "") => process.stdout.write(s + "\n");
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rand32 = () => "0x" + randomBytes(32).toString("hex");
const REQUEST_TIMEOUT_MS = 30_000;

/** Options from the command line. */
interface SoakOptions {
  minutes: number;
  kills: number;
  freezeS: number;
  faultS: number;
  keep: boolean;
}

function parseArgs(argv: string[]): SoakOptions {
  const o: SoakOptions = { minutes: 6, kills: 10, freezeS: 60, faultS: 10, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--long") o.minutes = 60;
    else if (a === "--minutes") o.minutes = Number(argv[++i]);
    else if (a === "--kills") o.kills = Number(argv[++i]);
    else if (a === "--freeze-seconds") o.freezeS = Number(argv[++i]);
    else if (a === "--keep") o.keep = true;
    else throw new Error(`unknown option ${a} (--minutes N, --long, --kills N, --freeze-seconds N, --keep)`);
  }
  if (!(o.minutes >= 3)) throw new Error("--minutes must be at least 3");
  return o;
}

/** What the clients were told, and what went wrong on the way. */
class Ledger {
  answers = 0;
  byStatus = new Map<number, number>();
  serverErrors: ServerError[] = [];
  noAnswer = 0;
  timeouts = 0;
  /** Each request that got no answer in time: what it was and when it was sent (ms since the epoch). */
  timedOut: { what: string; sentAt: number }[] = [];
  entries = new Map<number, string>();
  receipts: Receipt[] = [];
  agreements: string[] = [];
  consents: string[] = [];
  transfers: string[] = [];
  reconciled: string[] = [];
  relays: (RelayFate & { ackedAs?: { kind: "agreement" | "consent" | "transfer" | "reconciliation"; id: string } })[] = [];
  abandoned = new Map<string, number>();
  accepted202 = 0;
  storage503 = 0;
  latencies: number[] = [];

  abandon(flow: string): void {
    this.abandoned.set(flow, (this.abandoned.get(flow) ?? 0) + 1);
  }
}

/** An answer: status and parsed body. */
interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/** Sends one signed request, records the answer; undefined when no answer came (node down, timeout). */
async function send(ledger: Ledger, client: DclClient, method: string, path: string, body?: unknown): Promise<Answer | undefined> {
  const bytes = body === undefined ? new Uint8Array() : new TextEncoder().encode(JSON.stringify(body));
  const headers = await client.signHeaders(method, path, bytes);
  if (body !== undefined) headers["content-type"] = "application/json";
  const t0 = Date.now();
  let res: Response;
  try {
    res = await fetch(client.options.baseUrl + path, { method, headers, body: body === undefined ? undefined : bytes, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  } catch (err) {
    if ((err as Error).name === "TimeoutError") {
      ledger.timeouts++;
      ledger.timedOut.push({ what: `${method} ${path.split("?")[0]}`, sentAt: t0 });
    }
    else ledger.noAnswer++;
    return undefined;
  }
  const text = await res.text().catch(() => "");
  ledger.latencies.push(Date.now() - t0);
  ledger.answers++;
  ledger.byStatus.set(res.status, (ledger.byStatus.get(res.status) ?? 0) + 1);
  let json: Record<string, unknown> = {};
  try {
    json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    /* not JSON */
  }
  const code = (json.error as { code?: string } | undefined)?.code ?? "";
  if (res.status >= 500) ledger.serverErrors.push({ status: res.status, code, route: `${method} ${path.replace(/0x[0-9a-f]{64}/gi, ":id").split("?")[0]}`, at: Date.now() });
  if (res.status === 503 && code === "STORAGE_UNAVAILABLE") ledger.storage503++;
  if (res.status === 202) ledger.accepted202++;
  return { status: res.status, body: json };
}

/** A relay id in a 202 answer (`relayId`, `relay.id` or `id`). */
function relayIdOf(a: Answer): string | undefined {
  const b = a.body as { relayId?: string; relay?: { id?: string } | string; id?: string };
  return b.relayId ?? (typeof b.relay === "string" ? b.relay : b.relay?.id) ?? b.id;
}

/**
 * One step of a flow: retried while the node is down, busy or cannot write (no answer, 429, 503), for
 * up to `patienceMs`. A step whose request may have been carried out before an unanswered try (a kill
 * mid-request) may then be refused as done already: such a flow is abandoned, never counted.
 */
async function step(ledger: Ledger, client: DclClient, method: string, path: string, body: unknown, stopAt: () => boolean, patienceMs = 120_000): Promise<{ answer?: Answer; retriedBlind: boolean }> {
  const deadline = Date.now() + patienceMs;
  let retriedBlind = false;
  for (;;) {
    const a = await send(ledger, client, method, path, body);
    if (a && a.status !== 429 && a.status !== 503) return { answer: a, retriedBlind };
    if (!a) retriedBlind = true;
    if (Date.now() > deadline || stopAt()) return { answer: a, retriedBlind };
    await pause(a ? 500 : 1000);
  }
}

/** Random integer in [lo, hi). */
const between = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo));

async function main(): Promise<number> {
  const o = parseArgs(process.argv.slice(2));
  const dist = join(ROOT, "dist", "scripts", "start.js");
  if (!existsSync(dist)) throw new Error(`${dist} is missing: run npm run build (npm run soak builds it first)`);
  const dir = await mkdtemp(join(tmpdir(), "dcl-soak-"));
  const faultFile = join(dir, "store-fault");
  const product = new ProductProcess({
    dataDir: join(dir, "data"),
    entry: "dist",
    keepOutput: 20_000,
    env: {
      DCL_PORT: String(await freePort()), DCL_CHAIN_PORT: String(await freePort()), DCL_LOG_LEVEL: "warn",
      DCL_ANCHOR_INTERVAL_MS: "2000", DCL_STORE_FAULT_FILE: faultFile,
      DCL_RATE_LIMIT_PER_MIN: "1000000", DCL_IP_RATE_LIMIT_PER_MIN: "10000000",
    },
  });
  const stopAll = async () => {
    await unlink(faultFile).catch(() => undefined);
    await product.signalChain("SIGCONT").catch(() => false);
    await product.cleanUp();
  };
  process.once("SIGINT", () => void stopAll().then(() => process.exit(130)));
  const began = Date.now();
  say(`soak: ${o.minutes} min of load, ${o.kills} kill -9 of the node (one with its chain), the chain frozen ${o.freezeS} s, store writes failing ${o.faultS} s; scratch ${dir}`);
  try {
    return await run(o, product, faultFile, began);
  } catch (err) {
    say(`soak failed to run: ${(err as Error).stack ?? err}\n--- the node's last output ---\n${product.output}`);
    return 2;
  } finally {
    await stopAll();
    if (!o.keep) await rm(dir, { recursive: true, force: true });
    else say(`scratch directory kept: ${dir}`);
  }
}

async function run(o: SoakOptions, product: ProductProcess, faultFile: string, began: number): Promise<number> {
  await product.start({ timeoutMs: 300_000 });
  const dataDir = product.dataDir;
  const deployment = (await readDeployment(join(dataDir, "deployment.json")))!;
  const password = (await readFile(join(dataDir, "keys", "password"), "utf8")).trim();
  const options = { baseUrl: product.baseUrl, chainId: BigInt(deployment.chainId), registry: deployment.addresses.registry };
  const operatorKey = (await loadKeystore(join(dataDir, "keys", "operator.json"), password)) as Wallet;
  const governor = new DclClient(options, codeId("cq.bigdata"), operatorKey);
  const dept = async (code: string) => new DclClient(options, codeId(code), (await loadKeystore(join(dataDir, "keys", "demo", `${code}.json`), password)) as Wallet);
  const [tax, water, civil, yuzhong, regulator] = await Promise.all(["cq.tax", "cq.water", "cq.civil", "cq.yuzhong.bigdata", "cq.regulator"].map(dept));
  for (const [code, c] of [["cq.tax", tax], ["cq.water", water], ["cq.civil", civil], ["cq.yuzhong.bigdata", yuzhong], ["cq.regulator", regulator]] as const) {
    await governor.post("/v1/departments", { code, level: "city", signers: [c.key.address] });
  }
  await governor.post("/v1/roles", { role: "regulator", account: regulator.key.address });
  await governor.post("/v1/resources", { code: "res.water.fees", owner: water.department, schemaHash: ethers.ZeroHash, condition: "conditional", personal: false });
  await governor.post("/v1/resources", { code: "res.civil.residents", owner: civil.department, schemaHash: ethers.ZeroHash, condition: "conditional", personal: true });
  const now = () => Math.floor(Date.now() / 1000);
  const feeDraft = await tax.post<{ id: string; typedData: ApiTypedData }>("/v1/agreements", { provider: water.department, consumer: tax.department, resource: codeId("res.water.fees"), purpose: "soak: fees", quota: "1000000000000", validFrom: now() - 60, validUntil: now() + 30 * 86400 });
  await water.post(`/v1/agreements/${feeDraft.id}/signatures`, { signature: await water.signTypedData(feeDraft.typedData) });
  await tax.post(`/v1/agreements/${feeDraft.id}/signatures`, { signature: await tax.signTypedData(feeDraft.typedData) });
  say(`set up in ${((Date.now() - began) / 1000).toFixed(0)} s; load starts`);

  const ledger = new Ledger();
  const loadMs = o.minutes * 60_000;
  const loadStart = Date.now();
  let loadEnd = loadStart + loadMs;
  let stopping = false;
  const done = () => stopping || Date.now() > loadEnd;

  // ---- the clients ----------------------------------------------------------------------------
  const accessClient = async (every: number) => {
    while (!done()) {
      const t = Date.now();
      const calls = Array.from({ length: 10 }, () => ({ agreementId: feeDraft.id, recordCount: 1, requestHash: rand32(), responseHash: rand32() }));
      const a = await send(ledger, tax, "POST", "/v1/access", { calls });
      if (a?.status === 200) {
        for (const r of a.body.results as { index: number; leafHash: string; receipt?: Receipt }[]) {
          ledger.entries.set(r.index, r.leafHash);
          if (r.receipt) ledger.receipts.push(r.receipt);
        }
      }
      await pause(Math.max(0, every - (Date.now() - t)) + (a ? 0 : 500));
    }
  };
  // A flow of several steps: the last step's 2xx acknowledges it (a 202 hands a relay to follow).
  const track = (a: Answer | undefined, kind: "agreement" | "consent" | "transfer" | "reconciliation", id: string, flow: string): boolean => {
    if (a?.status === 202) {
      const relay = relayIdOf(a);
      if (relay) ledger.relays.push({ id: relay, flow, status: "pending", ackedAs: { kind, id } });
      return true;
    }
    return a !== undefined && a.status >= 200 && a.status < 300;
  };
  const agreementFlow = async () => {
    const draft = await step(ledger, tax, "POST", "/v1/agreements", { provider: water.department, consumer: tax.department, resource: codeId("res.water.fees"), purpose: `soak ${rand32().slice(0, 10)}`, quota: "1000", validFrom: now() - 60, validUntil: now() + 86400 }, done);
    if (draft.answer?.status !== 201) return ledger.abandon("agreement");
    const { id, typedData } = draft.answer.body as { id: string; typedData: ApiTypedData };
    const s1 = await step(ledger, water, "POST", `/v1/agreements/${id}/signatures`, { signature: await water.signTypedData(typedData) }, done);
    if (!track(s1.answer, "agreement", id, "agreement") || s1.answer?.status === 202) return ledger.abandon("agreement");
    const s2 = await step(ledger, tax, "POST", `/v1/agreements/${id}/signatures`, { signature: await tax.signTypedData(typedData) }, done);
    if (!track(s2.answer, "agreement", id, "agreement")) return ledger.abandon("agreement");
    if (s2.answer!.status !== 202) ledger.agreements.push(id);
  };
  const consentFlow = async () => {
    const subjectId = `50010119${String(between(1950, 2005))}0101${String(between(1000, 9999))}`;
    const draft = await step(ledger, civil, "POST", "/v1/consents", { subjectId, grantee: yuzhong.department, resource: codeId("res.civil.residents"), purpose: "soak: eligibility", kind: "separate", validUntil: now() + 86400, evidenceHash: rand32() }, done);
    if (draft.answer?.status !== 201) return ledger.abandon("consent");
    const { id, typedData } = draft.answer.body as { id: string; typedData: ApiTypedData };
    const s = await step(ledger, civil, "POST", `/v1/consents/${id}/signatures`, { signature: await civil.signTypedData(typedData) }, done);
    if (!track(s.answer, "consent", id, "consent")) return ledger.abandon("consent");
    if (s.answer!.status !== 202) ledger.consents.push(id);
  };
  const transferFlow = async () => {
    const records = Array.from({ length: 3 }, (_, i) => ({ payer: `91500000MA5U${String(between(100000, 999999))}`, permitNo: `QS-${i}-${rand32().slice(2, 8)}`, period: "202611", volumeM3: "100", rateFenPerM3: "15", amountFen: "1500" }));
    const draft = await step(ledger, water, "POST", "/v1/transfers", { to: tax.department, category: "water-resource-fee", period: 202611, records }, done);
    if (draft.answer?.status !== 201) return ledger.abandon("transfer");
    const { id, typedData } = draft.answer.body as { id: string; typedData: ApiTypedData };
    const s1 = await step(ledger, water, "POST", `/v1/transfers/${id}/signatures`, { signature: await water.signTypedData(typedData) }, done);
    if (!track(s1.answer, "transfer", id, "transfer") || s1.answer?.status === 202) return ledger.abandon("transfer");
    const s2 = await step(ledger, tax, "POST", `/v1/transfers/${id}/signatures`, { signature: await tax.signTypedData(typedData) }, done);
    if (!track(s2.answer, "transfer", id, "transfer")) return ledger.abandon("transfer");
    if (s2.answer!.status === 202) return; // followed as a relay; reconciled in a later flow only once mined
    ledger.transfers.push(id);
    // Reconciliation: the tax service's result per record, co-signed by both.
    const results = [];
    for (let i = 0; i < records.length; i++) {
      const leaf = await step(ledger, tax, "GET", `/v1/transfers/${id}/records/${i}`, undefined, done);
      if (leaf.answer?.status !== 200) return ledger.abandon("reconciliation");
      results.push({ recordLeafHash: (leaf.answer.body as { leafHash: string }).leafHash, paidFen: "1500", paidDate: "20261201", voucherNo: `DZ${rand32().slice(2, 10)}`, status: "paid" });
    }
    const rec = await step(ledger, tax, "POST", `/v1/transfers/${id}/reconciliation`, { results }, done);
    if (rec.answer?.status !== 201) return ledger.abandon("reconciliation");
    const rtd = (rec.answer.body as { typedData: ApiTypedData }).typedData;
    const r1 = await step(ledger, tax, "POST", `/v1/transfers/${id}/reconciliation/signatures`, { signature: await tax.signTypedData(rtd) }, done);
    if (!track(r1.answer, "reconciliation", id, "reconciliation") || r1.answer?.status === 202) return ledger.abandon("reconciliation");
    const r2 = await step(ledger, water, "POST", `/v1/transfers/${id}/reconciliation/signatures`, { signature: await water.signTypedData(rtd) }, done);
    if (!track(r2.answer, "reconciliation", id, "reconciliation")) return ledger.abandon("reconciliation");
    if (r2.answer!.status !== 202) ledger.reconciled.push(id);
  };
  const every = (ms: number, flow: () => Promise<void>) => (async () => {
    while (!done()) {
      const t = Date.now();
      await flow().catch((err: Error) => {
        say(`  client error: ${err.message}`);
        ledger.abandon("client error");
      });
      await pause(Math.max(0, ms - (Date.now() - t)));
    }
  })();
  const clients = [accessClient(500), accessClient(500), every(4000, agreementFlow), every(4000, consentFlow), every(6000, transferFlow)];

  // ---- the node's memory, every 2 s -----------------------------------------------------------
  const rss: RssSample[] = [];
  let runStartedAt = Date.now();
  const sampler = setInterval(() => {
    const pid = product.pid;
    if (!pid) return;
    void readFile(`/proc/${pid}/status`, "utf8").then((s) => {
      const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(s)?.[1]);
      if (kb > 0 && product.pid === pid) rss.push({ run: product.starts, second: Math.round((Date.now() - runStartedAt) / 1000), kb });
    }, () => undefined);
  }, 2000);

  // ---- the faults -----------------------------------------------------------------------------
  // Kills first, at random moments at least 5 s after a restart; then the last run, the one whose
  // memory is judged: 30 s of warm-up, the chain freeze, 15 s, the write fault, and 25 s more.
  const lastRunMs = (f: number) => 30_000 + f * 1000 + 15_000 + o.faultS * 1000 + 25_000;
  const killPhaseEnd = loadEnd - lastRunMs(o.freezeS);
  const restarts: number[] = [];
  const faults = { freeze: undefined as undefined | { from: number; to: number; readyzDuring?: string }, store: undefined as undefined | { from: number; to: number; honoured: boolean; readyzDuring?: string } };
  const withChainAt = between(2, o.kills);
  for (let k = 1; k <= o.kills; k++) {
    // The time left, shared among the kills to come, less what a restart takes (the mean so far; 12 s to begin with).
    const restartMs = restarts.length ? restarts.reduce((a, b) => a + b, 0) / restarts.length : 12_000;
    const slot = (killPhaseEnd - Date.now()) / (o.kills - k + 1) - restartMs;
    await pause(between(5000, Math.max(5001, slot)));
    const t0 = Date.now();
    await product.kill9(k === withChainAt);
    await product.start({ timeoutMs: 180_000 }).catch(async () => product.start({ until: "healthz", timeoutMs: 180_000 }));
    runStartedAt = Date.now();
    restarts.push(Date.now() - t0);
    say(`  kill -9 #${k}${k === withChainAt ? " (with its chain)" : ""} at ${((t0 - loadStart) / 1000).toFixed(0)} s: back in ${((Date.now() - t0) / 1000).toFixed(1)} s; ${ledger.entries.size} entries acknowledged so far`);
  }
  // Restarts slower than planned (a loaded machine) shorten the freeze to fit, down to 20 s; beyond that the load runs longer.
  let freezeS = o.freezeS;
  const remaining = loadEnd - Date.now();
  if (remaining < lastRunMs(freezeS)) {
    freezeS = Math.min(o.freezeS, Math.max(20, Math.floor((remaining - lastRunMs(0)) / 1000)));
    loadEnd = Math.max(loadEnd, Date.now() + lastRunMs(freezeS));
    say(`  NOTE: the restarts took longer than planned: the chain freeze is shortened to ${freezeS} s${freezeS < o.freezeS ? ` (not the full ${o.freezeS} s: run with more --minutes for it)` : ""}, the load ends at ${((loadEnd - loadStart) / 1000).toFixed(0)} s`);
  }
  await pause(30_000); // warm-up of the last run
  const readyzDetail = async () => {
    const r = await fetch(product.baseUrl + "/readyz", { signal: AbortSignal.timeout(5000) }).then((res) => res.json() as Promise<{ ready: boolean; checks: Record<string, { ok: boolean; detail?: string }> }>, () => undefined);
    return r ? `${r.ready ? "ready" : "not ready"}: ${Object.entries(r.checks).filter(([, c]) => !c.ok).map(([n, c]) => `${n} ${c.detail ?? ""}`).join("; ") || "all ok"}` : "no answer";
  };
  if (await product.signalChain("SIGSTOP")) {
    const from = Date.now();
    say(`  chain frozen (SIGSTOP of anvil) at ${((from - loadStart) / 1000).toFixed(0)} s for ${freezeS} s`);
    await pause(Math.min(5000, freezeS * 500));
    const readyzDuring = await readyzDetail();
    await pause(from + freezeS * 1000 - Date.now());
    await product.signalChain("SIGCONT");
    faults.freeze = { from, to: Date.now(), readyzDuring };
    say(`  chain thawed; /readyz while frozen: ${readyzDuring}`);
  }
  await pause(15_000);
  {
    const from = Date.now();
    const before503 = ledger.storage503;
    await writeFile(faultFile, "soak: every store write fails while this file exists\n");
    say(`  store writes failing (${faultFile}) at ${((from - loadStart) / 1000).toFixed(0)} s for ${o.faultS} s`);
    await pause(Math.min(3000, o.faultS * 300));
    const readyzDuring = await readyzDetail();
    await pause(from + o.faultS * 1000 - Date.now());
    await unlink(faultFile);
    faults.store = { from, to: Date.now(), honoured: ledger.storage503 > before503, readyzDuring };
    say(`  store writes work again; answers 503 STORAGE_UNAVAILABLE meanwhile: ${ledger.storage503 - before503}; /readyz: ${readyzDuring}`);
  }
  await pause(Math.max(0, loadEnd - Date.now()));
  stopping = true;
  await Promise.all(clients);
  clearInterval(sampler);
  // One last sample, at the end of the load.
  const pid = product.pid;
  if (pid) {
    const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(await readFile(`/proc/${pid}/status`, "utf8"))?.[1]);
    rss.push({ run: product.starts, second: Math.round((Date.now() - runStartedAt) / 1000), kb });
  }
  const loadS = Math.round((Date.now() - loadStart) / 1000);
  say(`load ended after ${loadS} s; checking ...`);

  // ---- the checks -----------------------------------------------------------------------------
  // A node that no longer answers fails the soak at once (every check below would wait on it).
  const alive = await fetch(product.baseUrl + "/healthz", { signal: AbortSignal.timeout(60_000) }).then((r) => r.ok, () => false);
  if (!alive) {
    say(table(["check", "result", "figure"], [["the node answers after the load (GET /healthz within 60 s)", "FAILED", `no answer; node pid ${product.pid ?? "gone"}, ${ledger.entries.size} entries acknowledged before`]]));
    say("\nsoak: FAILED: the node stopped answering; its last output:\n" + product.output.slice(-4000));
    return 1;
  }
  // Relays: follow each 202 to its end (up to 2 minutes).
  const relaysPresent = await fetch(`${product.baseUrl}/v1/relays/0x${"00".repeat(32)}`).then(async (r) => {
    const code = ((await r.json().catch(() => ({}))) as { error?: { code?: string } }).error?.code;
    return code !== "ROUTE_NOT_FOUND";
  }, () => false);
  const relayDeadline = Date.now() + 120_000;
  for (const r of ledger.relays) {
    for (;;) {
      const a = await send(new Ledger(), governorFor(r.ackedAs?.kind, { tax, water, civil }), "GET", `/v1/relays/${r.id}`);
      // GET /v1/relays/:id answers { relay: { state: pending | sent | mined | failed, ... } }.
      const state = (a?.body as { relay?: { state?: string } } | undefined)?.relay?.state;
      r.status = state === "mined" || state === "failed" ? state : state === "pending" || state === "sent" ? "pending" : "unknown";
      if (r.status === "mined" || r.status === "failed" || Date.now() > relayDeadline) break;
      await pause(1000);
    }
    if (r.status === "mined" && r.ackedAs) {
      const list = { agreement: ledger.agreements, consent: ledger.consents, transfer: ledger.transfers, reconciliation: ledger.reconciled }[r.ackedAs.kind];
      list.push(r.ackedAs.id);
    }
  }

  // Entries: the regulator's trail of the tax service's calls, every page; a sample proven against the root.
  const logged = new Map<number, string>();
  for (let after: number | undefined; ; ) {
    const page = await regulator.get<{ entries: { index: number; leafHash: string }[]; next: number | null }>(`/v1/audit/entries?consumer=${tax.department}&limit=500${after === undefined ? "" : `&after=${after}`}`);
    for (const e of page.entries) logged.set(e.index, e.leafHash);
    if (page.next === null) break;
    after = page.next;
  }
  const cp = await regulator.get<{ treeSize: number; root: string }>("/v1/log/checkpoint");
  const results: CheckResult[] = [checkEntries(ledger.entries, logged, cp.treeSize)];
  const sample = [...ledger.entries].sort(() => Math.random() - 0.5).slice(0, 200);
  const proofFailures: string[] = [];
  for (const [index, leaf] of sample) {
    try {
      const p = await regulator.get<{ proof: string[]; root: string }>(`/v1/log/proofs/inclusion?index=${index}&treeSize=${cp.treeSize}`);
      verifyInclusion(index, cp.treeSize, fromHex(leaf), p.proof.map(fromHex), fromHex(p.root));
      if (p.root !== cp.root) throw new Error(`root ${p.root} is not the checkpoint's ${cp.root}`);
    } catch (err) {
      proofFailures.push(`entry ${index}: ${(err as Error).message}`);
    }
  }
  results.push({ name: "inclusion proofs (random sample) verify", ok: proofFailures.length === 0, figure: `${sample.length - proofFailures.length} / ${sample.length} against the root of ${cp.treeSize}`, failures: proofFailures.slice(0, 5) });
  results.push(checkReceipts(ledger.receipts, ledger.entries, operatorKey.address));
  const found = async (ids: string[], path: (id: string) => string, ok: (b: Record<string, unknown>) => boolean) => {
    const m = new Map<string, boolean>();
    for (const id of ids) {
      const a = await send(new Ledger(), regulator, "GET", path(id));
      if (a?.status === 200) m.set(id, ok(a.body));
    }
    return m;
  };
  const onChain = (b: Record<string, unknown>) => b.onChain as Record<string, unknown> | undefined;
  results.push(checkPresent("agreement", ledger.agreements, await found(ledger.agreements, (id) => `/v1/agreements/${id}`, (b) => onChain(b)?.status === "active")));
  results.push(checkPresent("consent", ledger.consents, await found(ledger.consents, (id) => `/v1/consents/${id}`, (b) => onChain(b) !== undefined && onChain(b) !== null && Number(onChain(b)!.revokedAt) === 0)));
  results.push(checkPresent("transfer", ledger.transfers, await found(ledger.transfers, (id) => `/v1/transfers/${id}`, (b) => onChain(b)?.recordCount === "3")));
  results.push(checkPresent("reconciliation", ledger.reconciled, await found(ledger.reconciled, (id) => `/v1/transfers/${id}`, (b) => Boolean(onChain(b)?.reconciliation))));
  results.push(checkRelays(ledger.relays, relaysPresent));
  results.push(checkServerErrors(ledger.serverErrors, faults.store ? [faults.store] : [], ledger.answers));
  if (faults.store && !faults.store.honoured) {
    results.push({ name: "store write fault honoured (503 STORAGE_UNAVAILABLE)", ok: true, figure: "—", failures: [], notApplicable: "no 503 STORAGE_UNAVAILABLE while DCL_STORE_FAULT_FILE existed: this build does not read it" });
  }
  const memory = checkMemory(rss, 30);
  results.push(memory);
  results.push({ name: `kill -9 of the node (≥ ${o.kills})`, ok: restarts.length >= o.kills, figure: `${restarts.length}, back in median ${(median(restarts) / 1000).toFixed(1)} s, max ${(Math.max(...restarts) / 1000).toFixed(1)} s`, failures: [] });

  // ---- the report -----------------------------------------------------------------------------
  const statuses = [...ledger.byStatus].sort(([a], [b]) => a - b).map(([s, n]) => `${s}: ${n}`).join(", ");
  say("");
  say(table(["figure", "value"], [
    ["load", `${(loadS / 60).toFixed(1)} min, 2 access clients (10 calls / 0.5 s each), agreements / 4 s, consents / 4 s, transfers + reconciliation / 6 s`],
    ["answers by status", statuses],
    ["requests without an answer (node killed mid-request)", String(ledger.noAnswer)],
    [`requests without an answer in ${REQUEST_TIMEOUT_MS / 1000} s`, [String(ledger.timeouts), ...ledger.timedOut.map((t) => `${t.what} sent at ${((t.sentAt - loadStart) / 1000).toFixed(1)} s`)].join("; ")],
    ["latency p50 / p99 of answered requests", `${pct(ledger.latencies, 0.5)} / ${pct(ledger.latencies, 0.99)} ms`],
    ["entries acknowledged / receipts", `${ledger.entries.size} / ${ledger.receipts.length}`],
    ["agreements / consents / transfers / reconciliations acknowledged", `${ledger.agreements.length} / ${ledger.consents.length} / ${ledger.transfers.length} / ${ledger.reconciled.length}`],
    ["flows abandoned (outcome unknown after a kill, or refused)", [...ledger.abandoned].map(([f, n]) => `${f} ${n}`).join(", ") || "0"],
    ["202 relays", String(ledger.relays.length)],
    ["chain frozen", faults.freeze ? `${((faults.freeze.to - faults.freeze.from) / 1000).toFixed(0)} s${freezeS < o.freezeS ? ` (shortened from ${o.freezeS} s to fit)` : ""}; /readyz: ${faults.freeze.readyzDuring}` : "not done"],
    ["store writes failing", faults.store ? `${((faults.store.to - faults.store.from) / 1000).toFixed(0)} s; /readyz: ${faults.store.readyzDuring}` : "not done"],
    ["node RSS samples (last run)", `${rss.filter((s) => s.run === Math.max(...rss.map((x) => x.run))).length}, peak of all runs ${(Math.max(...rss.map((s) => s.kb)) / 1024).toFixed(0)} MB`],
    ["total time, start to report", `${((Date.now() - began) / 60_000).toFixed(1)} min`],
  ]));
  say("");
  say(table(["check", "result", "figure"], results.map((r) => [r.name, r.notApplicable ? "n/a" : r.ok ? "ok" : "FAILED", r.notApplicable ? `${r.figure} (${r.notApplicable})` : r.figure])));
  const failed = results.filter((r) => !r.ok);
  for (const r of failed) {
    say(`\nFAILED: ${r.name}`);
    for (const f of r.failures) say(`  ${f}`);
  }
  say(failed.length ? `\nsoak: ${failed.length} check(s) FAILED` : "\nsoak: every check holds");
  return failed.length ? 1 : 0;
}

/** A client that may read a relay (any party of the flow). */
function governorFor(kind: string | undefined, c: { tax: DclClient; water: DclClient; civil: DclClient }): DclClient {
  return kind === "consent" ? c.civil : kind === "agreement" || kind === "transfer" || kind === "reconciliation" ? c.tax : c.water;
}

function median(xs: number[]): number {
  return pct(xs, 0.5);
}

function pct(xs: number[], p: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`soak: ${(err as Error).message}\n`);
    process.exit(2);
  },
);
