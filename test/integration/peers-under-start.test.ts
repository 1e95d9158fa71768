/**
 * Two ledger nodes on one chain, each started as `npm start` starts it (api/main.ts `main(env)`,
 * configured by environment only) with DCL_PEERS pointing at each other. They log calls, anchor and
 * accept each other's checkpoints; then the tax bureau's operator rewrites its store — the same
 * indices with different entries, and more of them — and restarts. dcl refuses to start on that store
 * (its root at the anchored size is not the chain's: node/integrity); the operator runs a build without
 * that check, as one who forks would. The water bureau's node raises a
 * fork alert with both checkpoints, and says so in /v1/peers, /readyz, /metrics and its log; the tax
 * bureau's receipts from before the rewrite are found broken; and the rewritten history cannot be
 * anchored: the node's anchorer refuses it, and the chain reverts the transaction even when that
 * local check is defeated.
 */
import { expect } from "chai";
import { createServer } from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ethers, Wallet } from "ethers";
import { Level } from "level";
import { main } from "../../api/main";
import { DclClient } from "../../api/client";
import { Anvil, freePort } from "../../node/chain/anvil";
import { makeProvider } from "../../node/chain/client";
import { deployDcl, addressesOf, type DclAddresses } from "../../node/chain/deploy";
import { codeId, DepartmentLevel } from "../../node/chain/ids";
import { decodeRevert } from "../../node/chain/revert";
import { Anchorer } from "../../node/anchor/anchorer";
import { loadOrCreateKeystore } from "../../node/keys/keystore";
import type { AccessLogEntry } from "../../node/log/entry";
import { MerkleLog } from "../../node/log/merkle-log";
import { PeerMonitor } from "../../node/peers/peer-monitor";
import { openChainSources } from "../../node/receipts/chain-sources";
import { checkReceipts } from "../../node/receipts/receipt-check";
import { writeDeployment } from "../../node/runtime/deployment";
import { StoreIntegrityError, type checkStore } from "../../node/integrity/store-check";

// The module as the node calls it (a property read at each call), so a test can play a modified build.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const storeCheckModule = require("../../node/integrity/store-check") as { checkStore: typeof checkStore };
const honestCheckStore = storeCheckModule.checkStore;
import { toHex, type Receipt } from "../../node/verify";
import { LogAnchors__factory } from "../../typechain-types";

const CHAIN_ID = 31337n;
const PASSWORD = "peers-under-start";
const TAX = { dept: "cq.tax", log: "log.cq.tax.0" };
const WATER = { dept: "cq.water", log: "log.cq.water.0" };

type Running = Awaited<ReturnType<typeof main>>;

interface Logged {
  index: number;
  time: number;
  entry: AccessLogEntry;
  receipt: Receipt;
}

interface PeerView {
  url: string;
  logId?: string;
  ok: boolean;
  last?: { status: string; error?: { code: string } };
  accepted?: { size: number; root: string; note: string };
  alerts: {
    logId: string;
    against: string;
    trusted: { size: number; root: string; note?: string };
    presented: { size: number; root: string; note: string };
    proof?: { from: number; to: number; root1: string; root2: string; hashes: string[] };
    error: { code: string };
  }[];
}

interface Readiness {
  ready: boolean;
  checks: Record<string, { ok: boolean; detail?: string; fork?: { against: string; trusted: { size: number; root: string }; presented: { size: number; root: string; note: string } } }>;
}

/** Polls `probe` until it returns a value, failing after `ms` with `what`. */
async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const getJson = async <T>(url: string): Promise<T> => (await fetch(url)).json() as Promise<T>;
/** The value of metric `name` for peer `peer` in a Prometheus text exposition, or undefined. */
function metric(text: string, name: string, peer: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${name}{peer="${peer}"} `));
  return line === undefined ? undefined : Number(line.split(" ").at(-1));
}

describe("two nodes started as npm start starts them, watching each other with DCL_PEERS", function () {
  this.timeout(240_000);
  let dir: string;
  let anvil: Anvil;
  let addresses: DclAddresses;
  let operators: { tax: Wallet; water: Wallet };
  let env: { tax: Record<string, string>; water: Record<string, string> };
  let url: { tax: string; water: string };
  let tax: Running | undefined;
  let water: Running | undefined;
  const waterLog: string[] = [];
  let logged: Logged[] = [];
  let anchoredBefore: { treeSize: number; root: string };
  let acceptedBefore: { size: number; root: string };

  /** Logs `n` calls of the tax bureau through its API, signed with its operator key (a signer of the department). */
  async function logCalls(base: string, n: number, tag: string): Promise<Logged[]> {
    const client = new DclClient({ baseUrl: base, chainId: CHAIN_ID, registry: addresses.registry }, codeId(TAX.dept), operators.tax);
    const calls = Array.from({ length: n }, (_, i) => ({ agreementId: ethers.id("peers: no agreement"), recordCount: 1, requestHash: ethers.id(`${tag} q${i}`), responseHash: ethers.id(`${tag} r${i}`) }));
    return (await client.post<{ results: Logged[] }>("/v1/access", { calls })).results;
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "dcl-peers-start-"));
    anvil = await Anvil.start({ chainId: Number(CHAIN_ID) });
    const provider = makeProvider(anvil.url, CHAIN_ID, 50);
    const governor = new Wallet(Wallet.createRandom().privateKey, provider);
    // The operators' keys are keystores, as npm start reads them (DCL_KEYSTORE, DCL_KEYSTORE_PASSWORD).
    const keystore = (code: string) => join(dir, code, "keys", "operator.json");
    operators = {
      tax: new Wallet((await loadOrCreateKeystore(keystore(TAX.dept), PASSWORD, 1 << 12)).privateKey),
      water: new Wallet((await loadOrCreateKeystore(keystore(WATER.dept), PASSWORD, 1 << 12)).privateKey),
    };
    for (const a of [governor.address, operators.tax.address, operators.water.address]) await provider.send("anvil_setBalance", [a, "0x3635C9ADC5DEA00000"]);
    const startBlock = (await provider.getBlockNumber()) + 1;
    const c = await deployDcl(governor, governor.address);
    for (const [code, operator] of [[TAX, operators.tax], [WATER, operators.water]] as const) {
      await (await c.registry.registerDepartment(codeId(code.dept), DepartmentLevel.City, ethers.ZeroHash, [operator.address])).wait();
      await (await c.anchors.registerLog(codeId(code.log), codeId(code.dept))).wait();
    }
    addresses = await addressesOf(c);
    provider.destroy();
    const deployment = join(dir, "deployment.json");
    await writeDeployment(deployment, { chainId: CHAIN_ID.toString(), addresses, startBlock, deployedAt: new Date().toISOString() });

    const ports = { tax: await freePort(), water: await freePort() };
    url = { tax: `http://127.0.0.1:${ports.tax}`, water: `http://127.0.0.1:${ports.water}` };
    const common = {
      DCL_RPC_URL: anvil.url, DCL_CHAIN_ID: CHAIN_ID.toString(), DCL_DEPLOYMENT: deployment, DCL_KEYSTORE_PASSWORD: PASSWORD, DCL_HOST: "127.0.0.1",
      DCL_ANCHOR_INTERVAL_MS: "300", DCL_INDEXER_POLL_MS: "100", DCL_PEER_POLL_MS: "200", DCL_LOG_LEVEL: "info",
    };
    env = {
      tax: { ...common, DCL_DATA_DIR: join(dir, TAX.dept), DCL_KEYSTORE: keystore(TAX.dept), DCL_LOG_CODE: TAX.log, DCL_OPERATOR_DEPARTMENT: TAX.dept, DCL_PORT: String(ports.tax), DCL_PEERS: url.water },
      water: { ...common, DCL_DATA_DIR: join(dir, WATER.dept), DCL_KEYSTORE: keystore(WATER.dept), DCL_LOG_CODE: WATER.log, DCL_OPERATOR_DEPARTMENT: WATER.dept, DCL_PORT: String(ports.water), DCL_PEERS: url.tax },
    };
    const silent = { write: () => undefined };
    tax = await main(env.tax, { logStream: silent });
    water = await main(env.water, { logStream: { write: (line: string) => void waterLog.push(line) } });
  });

  after(async () => {
    storeCheckModule.checkStore = honestCheckStore;
    await tax?.stop();
    await water?.stop();
    await anvil?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("anchors both logs and has each node accept the other's checkpoint: /v1/peers, /readyz and /metrics say ok", async () => {
    logged = [...(await logCalls(url.tax, 4, "a")), ...(await logCalls(url.tax, 3, "b"))];
    expect(logged.map((l) => l.index)).to.deep.equal([0, 1, 2, 3, 4, 5, 6]);
    // The tax node anchors all 7 on its own timer; the water node accepts its checkpoint of 7.
    anchoredBefore = await until("the tax log anchored at 7", async () => {
      const cp = await getJson<{ anchored: { treeSize: number; root: string } | null }>(`${url.tax}/v1/log/checkpoint`);
      return cp.anchored?.treeSize === 7 ? cp.anchored : undefined;
    });
    const peer = await until("the water node to accept the tax log at 7", async () => {
      const [p] = (await getJson<{ peers: PeerView[] }>(`${url.water}/v1/peers`)).peers;
      return p?.accepted?.size === 7 ? p : undefined;
    });
    acceptedBefore = peer.accepted!;
    expect(peer).to.include({ url: url.tax, logId: codeId(TAX.log), ok: true });
    expect(peer.accepted!.root).to.equal(anchoredBefore.root);
    expect(peer.alerts).to.deep.equal([]);
    // And the other way round: the tax node watches the water node's (empty) log.
    const [waterPeer] = await until("the tax node to check the water node", async () => {
      const peers = (await getJson<{ peers: PeerView[] }>(`${url.tax}/v1/peers`)).peers;
      return peers[0]?.ok ? peers : undefined;
    });
    expect(waterPeer).to.include({ url: url.water, logId: codeId(WATER.log) });

    // Ready within a few polls (the tax node's anchor is a block the water node's indexer may not have polled yet).
    let last: { status: number; body: Readiness } | undefined;
    const body = await until("the water node to be ready", async () => {
      const ready = await fetch(`${url.water}/readyz`);
      last = { status: ready.status, body: (await ready.json()) as Readiness };
      return ready.status === 200 ? last.body : undefined;
    }, 10_000).catch((err: Error) => expect.fail(`${err.message}: last answer ${JSON.stringify(last)}`));
    expect(body.ready).to.equal(true);
    expect(body.checks[`peer ${url.tax}`]).to.include({ ok: true });
    expect(body.checks[`peer ${url.tax}`].detail).to.contain("checkpoint of size 7 accepted");
    const metrics = await (await fetch(`${url.water}/metrics`)).text();
    expect(metric(metrics, "dcl_peer_ok", url.tax)).to.equal(1);
    expect(metric(metrics, "dcl_peer_fork_alerts_total", url.tax)).to.equal(0);
    expect(metric(metrics, "dcl_peer_checked_size", url.tax)).to.equal(7);

    // Every receipt the tax bureau's node gave is kept: in the checkpoint anchored on chain.
    const sources = await openChainSources({ rpcUrl: anvil.url, registry: addresses.registry, apiUrl: url.tax });
    try {
      const { summary } = await checkReceipts(logged, sources, { anchorIntervalMs: 300, graceSeconds: 30, now: Math.floor(Date.now() / 1000) });
      expect(summary).to.include({ kept: 7, broken: 0 });
    } finally {
      sources.close();
    }
    expect(waterLog.filter((l) => l.includes('"msg":"fork alert"'))).to.deep.equal([]);
  });

  it("raises a fork alert when the tax bureau's operator rewrites its store, with both checkpoints, in /v1/peers, /readyz, /metrics and the log", async () => {
    // The operator stops its node and rewrites its log: entry 0 changed, three entries more.
    await tax!.stop();
    tax = undefined;
    const entries = logged.map((l) => l.entry);
    const last = entries.at(-1)!;
    const forged = [{ ...entries[0], recordCount: entries[0].recordCount + 1 }, ...entries.slice(1), ...[1, 2, 3].map((i) => ({ ...last, requestHash: ethers.id(`forged ${i}`) }))];
    const db = new Level<string, unknown>(join(env.tax.DCL_DATA_DIR, "node"), { valueEncoding: "json" });
    await db.open();
    await db.sublevel("log").clear();
    const rewritten = await MerkleLog.open(db.sublevel("log") as never);
    await rewritten.appendMany(forged);
    const forkedRoot = toHex(await rewritten.root());
    await rewritten.close();
    await db.close();
    // dcl itself refuses to serve the rewritten store: it does not hold the root the chain anchored at size 7.
    const refused = await main(env.tax, { logStream: { write: () => undefined } }).then(
      (started) => started.stop().then(() => expect.fail("the rewritten store was served")),
      (err: unknown) => err,
    );
    expect(refused).to.be.instanceOf(StoreIntegrityError);
    expect((refused as StoreIntegrityError).report.problems.map((p) => p.code)).to.include("STORE_ROOT_MISMATCH");
    // An operator who forks runs a build without that check: its store check answers "ok" whatever the store holds.
    storeCheckModule.checkStore = async (input) => ({ ...(await honestCheckStore(input)), ok: true, problems: [] });
    tax = await main(env.tax, { logStream: { write: () => undefined } });

    const peer = await until("a fork alert on the water node", async () => {
      const [p] = (await getJson<{ peers: PeerView[] }>(`${url.water}/v1/peers`)).peers;
      return p?.alerts.length ? p : undefined;
    });
    expect(peer.ok).to.equal(false);
    expect(peer.alerts).to.have.length(1);
    const [alert] = peer.alerts;
    expect(alert).to.include({ logId: codeId(TAX.log), against: "accepted" });
    expect(alert.trusted).to.include({ size: acceptedBefore.size, root: acceptedBefore.root });
    expect(alert.presented).to.include({ size: 10, root: forkedRoot });
    expect(alert.presented.note).to.contain(`dcl/31337/${TAX.log}\n10\n`);
    expect(alert.error.code).to.equal("CONSISTENCY_ROOT_MISMATCH");
    expect(alert.proof).to.include({ from: 7, to: 10 });
    expect(alert.proof!.root1, "the rewritten tree at the accepted size").to.not.equal(acceptedBefore.root);

    const ready = await fetch(`${url.water}/readyz`);
    const body = (await ready.json()) as Readiness;
    const check = body.checks[`peer ${url.tax}`];
    expect(check.ok).to.equal(false);
    expect(check.detail).to.match(/^FORK ALERT/);
    expect(check.detail).to.contain(`presented size 10 root ${forkedRoot}`);
    expect(check.detail).to.contain(`size 7 root ${acceptedBefore.root}`);
    expect(check.fork).to.deep.include({ against: "accepted" });
    expect(check.fork!.trusted).to.include({ size: 7, root: acceptedBefore.root });
    expect(check.fork!.presented).to.include({ size: 10, root: forkedRoot });
    // The water node itself is still ready: it is the peer's log that is in question.
    expect(ready.status, JSON.stringify(body.checks)).to.equal(200);
    expect(body.ready).to.equal(true);

    const metrics = await (await fetch(`${url.water}/metrics`)).text();
    expect(metric(metrics, "dcl_peer_ok", url.tax)).to.equal(0);
    expect(metric(metrics, "dcl_peer_fork_alerts_total", url.tax)).to.equal(1);
    expect(metric(metrics, "dcl_peer_checked_size", url.tax)).to.equal(7);

    const lines = waterLog.filter((l) => l.includes('"msg":"fork alert"')).map((l) => JSON.parse(l) as Record<string, unknown> & { trusted: { root: string }; presented: { root: string; note: string } });
    expect(lines).to.have.length(1);
    expect(lines[0]).to.include({ level: 50, url: url.tax, against: "accepted" });
    expect(lines[0].trusted.root).to.equal(acceptedBefore.root);
    expect(lines[0].presented).to.include({ root: forkedRoot, note: alert.presented.note });

    // The alert stays: later checks distrust the peer.
    const later = await until("a later check of the forked peer", async () => {
      const [p] = (await getJson<{ peers: PeerView[] }>(`${url.water}/v1/peers`)).peers;
      return p?.last?.status === "distrusted" ? p : undefined;
    });
    expect(later.alerts).to.have.length(1);
  });

  it("finds the tax bureau's earlier receipts broken against its rewritten log", async () => {
    const sources = await openChainSources({ rpcUrl: anvil.url, registry: addresses.registry, apiUrl: url.tax });
    try {
      const { results, summary } = await checkReceipts(logged, sources, { anchorIntervalMs: 300, graceSeconds: 30, now: Math.floor(Date.now() / 1000) });
      expect(summary).to.include({ broken: 7, kept: 0 });
      expect(results[0].code).to.equal("RECEIPT_LEAF_MISMATCH");
      expect(results.every((r) => r.anchor!.root === anchoredBefore.root)).to.equal(true);
    } finally {
      sources.close();
    }
  });

  it("cannot anchor the rewritten history: the node's anchorer refuses it, and the chain reverts it when that check is defeated", async () => {
    const node = tax!.node;
    const logId = codeId(TAX.log);
    // The restarted node compares its store with the chain's latest anchor first, and stops.
    const health = await until("the forked node's anchorer to report", async () => (node.anchorer.health().ok ? undefined : node.anchorer.health()));
    expect(health.error).to.contain(`root of size 7 is ${toHex(await node.log.root(7))} locally, ${anchoredBefore.root} on chain`);
    const readiness = (await getJson<Readiness>(`${url.tax}/readyz`)).checks.anchoring;
    expect(readiness.ok).to.equal(false);

    // An operator who defeats that check (its log answers the chain's root at the anchored size) still
    // cannot anchor: the contract verifies the consistency proof from the anchored checkpoint.
    const liar = {
      size: () => node.log.size(),
      root: async (size?: number) => (size === anchoredBefore.treeSize ? ethers.getBytes(anchoredBefore.root) : node.log.root(size)),
      consistencyProof: (from: number, to: number) => node.log.consistencyProof(from, to),
    };
    const anchorer = new Anchorer({ log: liar, client: node.client, logId, intervalMs: 3_600_000, everyEntries: 1_000_000 });
    const reverted = await anchorer.anchorOnce().then(
      () => expect.fail("the forked checkpoint was anchored"),
      (err: unknown) => err,
    );
    expect(decodeRevert(reverted)?.name, String(reverted)).to.equal("AnchorsNotConsistent");
    expect(decodeRevert(reverted)?.args.map(String)).to.deep.equal([logId, "7", "10"]);
    const provider = makeProvider(anvil.url, CHAIN_ID, 50);
    try {
      const latest = await LogAnchors__factory.connect(addresses.anchors, provider).latestCheckpoint(logId);
      expect([Number(latest.treeSize), latest.root]).to.deep.equal([7, anchoredBefore.root]);
    } finally {
      provider.destroy();
    }
  });

  it("pins a peer configured by URL alone to the log it first served: the same URL serving another log is refused, not followed", async () => {
    // One URL in front of the water node, then of the tax node.
    let target = url.water;
    const proxy = createServer((req, res) => {
      void fetch(target + req.url).then(async (r) => {
        res.writeHead(r.status, { "content-type": "application/json" });
        res.end(await r.text());
      });
    });
    await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
    const proxied = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
    const db = new Level<string, unknown>(join(dir, "pinning"), { valueEncoding: "json" });
    try {
      const monitor = () => new PeerMonitor({ db, indexer: water!.node.indexer, chainId: CHAIN_ID, peers: [{ name: proxied, url: proxied }] });
      const [first] = await monitor().checkOnce();
      expect(first).to.include({ status: "accepted", logId: codeId(WATER.log) });
      target = url.tax;
      // A new monitor over the same store: the pin survives, as it does a restart.
      const again = monitor();
      const [second] = await again.checkOnce();
      expect(second).to.include({ status: "failed", logId: codeId(WATER.log) });
      expect(second.error?.code).to.equal("PEER_LOG_MISMATCH");
      const [status] = await again.status();
      expect(status).to.include({ ok: false, logId: codeId(WATER.log) });
      expect(status.alerts).to.deep.equal([]);
    } finally {
      proxy.close();
      await db.close();
    }
  });
});
