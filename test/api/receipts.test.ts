/**
 * POST /v1/receipts/check: a department posts back the receipts it was given and learns, for each,
 * whether the promise was kept (its entry in the latest checkpoint anchored on chain, with a proof
 * the test checks against the chain itself), is pending or overdue, or was broken by the log.
 */
import { expect } from "chai";
import { join } from "node:path";
import { ethers, Wallet } from "ethers";
import type { FastifyInstance } from "fastify";
import { buildApp } from "../../api/app";
import { DclClient } from "../../api/client";
import type { LedgerNode } from "../../node/ledger-node";
import type { AccessLogEntry } from "../../node/log/entry";
import { MerkleLog } from "../../node/log/merkle-log";
import type { ReceiptResult } from "../../node/receipts/receipt-check";
import { fromHex, leafHash, receiptSigningPayload, toHex, verifyInclusion, type Receipt } from "../../node/verify";
import { encodeEntry } from "../../node/log/entry";
import { LogAnchors__factory } from "../../typechain-types";
import { makeProvider } from "../../node/chain/client";
import { codeId } from "../../node/chain/ids";
import { startApiHarness, type ApiHarness } from "../support/api-harness";
import { D } from "../support/node-harness";

interface Logged {
  index: number;
  time: number;
  entry: AccessLogEntry;
  receipt: Receipt;
}

interface Answer {
  kept: number;
  pending: number;
  overdue: number;
  broken: number;
  invalid: number;
  unchecked: number;
  anchorIntervalMs: number;
  graceSeconds: number;
  checkedAt: number;
  results: ReceiptResult[];
}

const call = (i: number) => ({ agreementId: ethers.id("receipts: no such agreement"), recordCount: 1, requestHash: ethers.id(`rq ${i}`), responseHash: ethers.id(`rs ${i}`) });
const posted = (results: Logged[], withEntry = true) => ({ receipts: results.map((r) => (withEntry ? { receipt: r.receipt, entry: r.entry } : { receipt: r.receipt })) });

describe("api receipts check: were the operator's promises kept?", function () {
  this.timeout(120_000);
  let h: ApiHarness;
  let anchored: Logged[];
  let unanchored: Logged[];
  let chainRoot: string;
  let chainSize: number;
  const extra: { app: FastifyInstance; log?: MerkleLog }[] = [];

  /** A client of `app` (listening) for department `d`, signing with `key`. */
  async function clientOf(app: FastifyInstance, d: string, key: Wallet): Promise<DclClient> {
    await app.listen({ host: "127.0.0.1", port: 0 });
    const { port } = app.server.address() as { port: number };
    return new DclClient({ baseUrl: `http://127.0.0.1:${port}`, chainId: 31337n, registry: h.addresses.registry }, d, key);
  }

  /** The API over this node with its log replaced by `entries` (the operator rewrote its store). */
  async function forkedApi(entries: AccessLogEntry[], name: string): Promise<DclClient> {
    const log = await MerkleLog.open(join(h.dir, name));
    await log.appendMany(entries);
    const facade = Object.create(h.node, { log: { value: log } }) as LedgerNode;
    const app = (await buildApp({ node: facade, logger: false, rateLimitPerMinute: 100_000 })) as unknown as FastifyInstance;
    extra.push({ app, log });
    return clientOf(app, D.tax, h.keys.tax);
  }

  before(async () => {
    h = await startApiHarness();
    const first = await h.client.tax.post<{ results: Logged[] }>("/v1/access", { calls: [0, 1, 2].map(call) });
    anchored = first.results;
    await h.node.anchorer.anchorOnce();
    await h.node.indexer.syncOnce();
    const second = await h.client.tax.post<{ results: Logged[] }>("/v1/access", { calls: [3, 4].map(call) });
    unanchored = second.results;
    const provider = makeProvider(h.anvil.url, 31337n, 50);
    const latest = await LogAnchors__factory.connect(h.addresses.anchors, provider).latestCheckpoint(codeId("log.test"));
    provider.destroy();
    chainRoot = latest.root;
    chainSize = Number(latest.treeSize);
  });
  after(async () => {
    for (const { app, log } of extra) {
      await app.close();
      await log?.close();
    }
    await h?.stop();
  });

  it("answers kept, with an inclusion proof that leads to the root on chain, for anchored receipts, and pending for the rest", async () => {
    expect(chainSize).to.equal(3);
    const a = await h.client.tax.post<Answer>("/v1/receipts/check", posted([...anchored, ...unanchored]));
    expect(a.results.map((r) => r.verdict)).to.deep.equal(["kept", "kept", "kept", "pending", "pending"]);
    expect(a).to.include({ kept: 3, pending: 2, overdue: 0, broken: 0, invalid: 0, unchecked: 0, anchorIntervalMs: 3_600_000, graceSeconds: 30 });
    for (const [i, r] of a.results.slice(0, 3).entries()) {
      expect(r.code).to.equal("RECEIPT_KEPT");
      expect(r.anchor).to.include({ index: 0, treeSize: 3, root: chainRoot });
      expect(r.inclusion).to.include({ index: i, treeSize: 3, leafHash: anchored[i].receipt.leafHash });
      // The proof checks against the chain's root, read here from the contract.
      verifyInclusion(i, chainSize, fromHex(anchored[i].receipt.leafHash), r.inclusion!.proof.map(fromHex), fromHex(chainRoot));
      expect(r.signer).to.include({ address: h.operator.address, department: D.bigdata, ok: true });
      expect(r.loggedAt).to.equal(anchored[i].time);
    }
    for (const [i, r] of a.results.slice(3).entries()) {
      expect(r.code).to.equal("RECEIPT_PENDING");
      expect(r.loggedAt).to.equal(unanchored[i].time);
      expect(r.dueBy).to.equal(unanchored[i].time + 3600 + 30);
      expect(r.inclusion).to.equal(undefined);
    }
  });

  it("lets any department check receipts: the regulator checks the tax bureau's", async () => {
    const a = await h.client.regulator.post<Answer>("/v1/receipts/check", posted(anchored));
    expect(a.kept).to.equal(3);
  });

  it("finds an unanchored receipt overdue only past its entry's time + the anchor interval + the grace", async () => {
    let clock = 0;
    const app = (await buildApp({ node: h.node, logger: false, rateLimitPerMinute: 100_000, authMaxSkewSeconds: 100_000, now: () => clock })) as unknown as FastifyInstance;
    extra.push({ app });
    const tax = await clientOf(app, D.tax, h.keys.tax);
    const due = unanchored[0].time + 3600 + 30;
    expect(unanchored[1].time, "both calls of one request share a second").to.equal(unanchored[0].time);

    clock = due;
    const atDue = await tax.post<Answer>("/v1/receipts/check", posted([...anchored, ...unanchored]));
    expect(atDue.results.map((r) => r.verdict)).to.deep.equal(["kept", "kept", "kept", "pending", "pending"]);
    expect(atDue.checkedAt).to.equal(due);

    clock = due + 1;
    const past = await tax.post<Answer>("/v1/receipts/check", posted([...anchored, ...unanchored]));
    expect(past.results.map((r) => r.verdict)).to.deep.equal(["kept", "kept", "kept", "overdue", "overdue"]);
    expect(past.results[3]).to.include({ code: "RECEIPT_OVERDUE", dueBy: due });
    expect(past.results[3].detail).to.contain(`past its due time ${due}`);
    expect(past.results[3].anchor).to.include({ treeSize: 3 });

    // Without its entry a receipt's time is unknown: never overdue, and it says why.
    const bare = await tax.post<Answer>("/v1/receipts/check", posted(unanchored, false));
    expect(bare.results.map((r) => r.verdict)).to.deep.equal(["pending", "pending"]);
    expect(bare.results[0].loggedAt).to.equal(undefined);
    expect(bare.results[0].detail).to.contain("time is unknown");
  });

  it("finds every receipt of the anchored tree broken when the log's store was rewritten at one index, with the evidence", async () => {
    const entries = [...anchored, ...unanchored].map((r) => r.entry);
    const forged = entries.map((e, i) => (i === 1 ? { ...e, recordCount: e.recordCount + 1 } : e));
    const tax = await forkedApi(forged, "rewritten-log");
    const a = await tax.post<Answer>("/v1/receipts/check", posted([...anchored, ...unanchored]));
    expect(a.results.map((r) => r.verdict)).to.deep.equal(["broken", "broken", "broken", "pending", "pending"]);
    expect(a.broken).to.equal(3);
    const [r0, r1, r2] = a.results;
    // At the rewritten index the log holds another leaf; around it, the proofs no longer lead to the anchored root.
    expect(r1.code).to.equal("RECEIPT_LEAF_MISMATCH");
    expect(r1.inclusion!.leafHash).to.equal(toHex(leafHash(encodeEntry(forged[1]))));
    expect(r1.detail).to.contain(anchored[1].receipt.leafHash);
    expect(r0.code).to.equal("INCLUSION_ROOT_MISMATCH");
    expect(r2.code).to.equal("INCLUSION_ROOT_MISMATCH");
    for (const [i, r] of [r0, r1, r2].entries()) {
      expect(r.anchor!.root, "judged against the chain's root").to.equal(chainRoot);
      expect(r.inclusion!.root, "the rewritten log's own root differs").to.not.equal(chainRoot);
      expect(r.receipt, "the receipt is part of the evidence").to.deep.equal(anchored[i].receipt);
    }
  });

  it("finds receipts broken when the log no longer holds the anchored tree (a truncated store)", async () => {
    const tax = await forkedApi([anchored[0].entry], "truncated-log");
    const a = await tax.post<Answer>("/v1/receipts/check", posted(anchored));
    expect(a.results.map((r) => r.code)).to.deep.equal(["RECEIPT_NOT_SERVED", "RECEIPT_NOT_SERVED", "RECEIPT_NOT_SERVED"]);
    expect(a.results[0].notServed).to.contain("holds 1 entries");
  });

  it("refuses to judge receipts that are not the operator's: forged, tampered, for another chain or log, or not matching their entry", async () => {
    const [r0] = anchored;
    const stranger = new Wallet(Wallet.createRandom().privateKey);
    /** A receipt for a batch of one, signed by `key` under `origin`. */
    const single = (key: Wallet, origin: string, index: number, leaf: string): Receipt => {
      const signature = key.signMessageSync(receiptSigningPayload(origin, index, 1, leaf));
      return { origin, index, leafHash: leaf, batch: { first: index, count: 1, root: leaf, proof: [] }, signer: key.address, signature };
    };
    const operator = new Wallet(h.operator.privateKey);
    const flipped = r0.receipt.signature.slice(0, 10) + (r0.receipt.signature[10] === "a" ? "b" : "a") + r0.receipt.signature.slice(11);
    const r2 = anchored[2].receipt;
    const otherHash = (x: string) => "0x" + (x[2] === "0" ? "1" : "0") + x.slice(3);
    const a = await h.client.tax.post<Answer>("/v1/receipts/check", {
      receipts: [
        // A valid receipt of the batch first: the batch's signature is then known good, and the place of each
        // other receipt in the batch must still be proven on its own.
        { receipt: anchored[1].receipt },
        { receipt: { ...r2, batch: { ...r2.batch, proof: [otherHash(r2.batch.proof[0]), ...r2.batch.proof.slice(1)] } } },
        { receipt: { ...r2, index: 0 } },
        { receipt: { ...r0.receipt, signature: flipped } },
        { receipt: single(stranger, r0.receipt.origin, 0, r0.receipt.leafHash) },
        { receipt: r0.receipt, entry: { ...r0.entry, recordCount: r0.entry.recordCount + 1 } },
        { receipt: single(operator, "dcl/1/log.test", 0, r0.receipt.leafHash) },
        { receipt: single(operator, "dcl/31337/log.nobody", 0, r0.receipt.leafHash) },
        { receipt: single(operator, r0.receipt.origin, 0, r0.receipt.leafHash) },
      ],
    });
    expect(a.results.map((r) => [r.verdict, r.code])).to.deep.equal([
      ["kept", "RECEIPT_KEPT"],
      ["invalid", "RECEIPT_BATCH_INVALID"],
      ["invalid", "INCLUSION_PROOF_LENGTH"], // index 2's proof has the wrong length for index 0 of 3
      ["invalid", "RECEIPT_SIGNATURE_INVALID"],
      ["invalid", "RECEIPT_SIGNER_NOT_OPERATOR"],
      ["invalid", "RECEIPT_ENTRY_MISMATCH"],
      ["invalid", "RECEIPT_ORIGIN_INVALID"],
      ["invalid", "RECEIPT_LOG_UNKNOWN"],
      ["kept", "RECEIPT_KEPT"], // the same promise, re-signed by the operator as a batch of one: still kept
    ]);
    expect(a.results[4].signer).to.include({ address: stranger.address, ok: false });
    expect(a.invalid).to.equal(7);
  });

  it("bounds the request: no receipt, or more than 1,000, is refused with its code", async () => {
    const none = await h.client.tax.send("POST", "/v1/receipts/check", { receipts: [] });
    expect(none.status).to.equal(400);
    expect(((await none.json()) as { error: { code: string } }).error.code).to.equal("RECEIPTS_EMPTY");
    const many = await h.client.tax.send("POST", "/v1/receipts/check", { receipts: Array.from({ length: 1001 }, () => ({ receipt: anchored[0].receipt })) });
    expect(many.status).to.equal(400);
    expect(((await many.json()) as { error: { code: string } }).error.code).to.equal("RECEIPTS_TOO_MANY");
    const thousand = await h.client.tax.post<Answer>("/v1/receipts/check", { receipts: Array.from({ length: 1000 }, (_, i) => ({ receipt: anchored[i % 3].receipt })) });
    expect(thousand.kept).to.equal(1000);
    const unsigned = await fetch(`${h.baseUrl}/v1/receipts/check`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(posted(anchored)) });
    expect(unsigned.status).to.equal(401);
  });
});
