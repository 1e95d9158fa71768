import { expect } from "chai";
import { ethers } from "ethers";
import { publicGet, type ApiTypedData } from "../../api/client";
import { makeProvider } from "../../node/chain/client";
import { codeId } from "../../node/chain/ids";
import { AGREEMENT_TYPES, DOMAIN_NAMES, domainOf } from "../../node/chain/typed-data";
import { fromHex, leafHash, parseCheckpoint, toHex, verifyCheckpointSignature, verifyConsistency, verifyInclusion, verifyReceipt, type Receipt } from "../../node/verify";
import { LogAnchors__factory } from "../../typechain-types";
import { encodeEntry, type AccessLogEntry } from "../../node/log/entry";
import { refused } from "../support/api-refused";
import { startApiHarness, type ApiHarness } from "../support/api-harness";
import { D, R } from "../support/node-harness";


interface Bundle {
  version: string;
  chain: { chainId: string; contracts: { anchors: string; agreements: string } };
  log: { logId: string; origin: string; operatorDepartment: string; operatorSigners: string[] };
  checkpoint: { note: string; treeSize: number; root: string; anchor: { index: number; tx: string; block: number; timestamp: number } };
  entries: { index: number; canonical: string; entry: { agreementId: string; outcome: string }; leafHash: string; proof: string[]; receipt: Receipt }[];
  agreements: { id: string; terms: Record<string, string>; signatures: { provider: { signer: string; signature: string }; consumer: { signer: string; signature: string } } }[];
}

const CALLS = 6;

describe("api evidence, proofs and health", function () {
  let h: ApiHarness;
  let agreementId: string;
  before(async () => {
    h = await startApiHarness();
    const t = Math.floor(Date.now() / 1000);
    const d = await h.client.tax.post<{ id: string; typedData: ApiTypedData }>("/v1/agreements", {
      provider: D.water, consumer: D.tax, resource: R.waterFees, purpose: "evidence", quota: "1000", validFrom: t - 60, validUntil: t + 3600,
    });
    await h.client.water.post(`/v1/agreements/${d.id}/signatures`, { signature: await h.client.water.signTypedData(d.typedData) });
    await h.client.tax.post(`/v1/agreements/${d.id}/signatures`, { signature: await h.client.tax.signTypedData(d.typedData) });
    agreementId = d.id;
    // Two requests, so the log grows in more than one batch; the last call is over quota (refused, logged all the same).
    const call = (i: number, records: number) => ({ agreementId, recordCount: records, requestHash: ethers.id(`req ${i}`), responseHash: ethers.id(`resp ${i}`) });
    await h.client.tax.post("/v1/access", { calls: [0, 1, 2].map((i) => call(i, 10)) });
    await h.client.tax.post("/v1/access", { calls: [call(3, 10), call(4, 10), call(5, 5000)] });
  });
  after(async () => h?.stop());

  describe("evidence bundles", () => {
    let bundle: Bundle;

    it("gives the regulator a bundle whose proofs, checkpoint signature and receipts verify offline", async () => {
      bundle = await h.client.regulator.post<Bundle>("/v1/evidence", { indices: [4, 0, 2, 5, 2] });
      expect(bundle.version).to.equal("dcl-evidence/v1");
      expect(bundle.entries.map((e) => e.index)).to.deep.equal([0, 2, 4, 5]);
      expect(bundle.checkpoint.treeSize).to.equal(CALLS);
      expect(bundle.entries.map((e) => e.entry.outcome)).to.deep.equal(["served", "served", "served", "refused"]);

      const signer = verifyCheckpointSignature(bundle.checkpoint.note, [h.operator.address]);
      expect(signer).to.equal(h.operator.address);
      const note = parseCheckpoint(bundle.checkpoint.note);
      expect(note.checkpoint.size).to.equal(bundle.checkpoint.treeSize);
      expect(toHex(note.checkpoint.root)).to.equal(bundle.checkpoint.root);
      expect(note.checkpoint.origin).to.equal(bundle.log.origin);

      const root = fromHex(bundle.checkpoint.root);
      for (const e of bundle.entries) {
        expect(toHex(leafHash(fromHex(e.canonical)))).to.equal(e.leafHash);
        verifyInclusion(e.index, bundle.checkpoint.treeSize, fromHex(e.leafHash), e.proof.map(fromHex), root);
        verifyReceipt(e.receipt, [h.operator.address]);
        expect([e.receipt.index, e.receipt.leafHash]).to.deep.equal([e.index, e.leafHash]);
        expect(e.entry.agreementId).to.equal(agreementId);
      }
      expect(bundle.log.operatorDepartment).to.equal(D.bigdata);
      expect(bundle.log.operatorSigners).to.include(h.operator.address.toLowerCase());
    });

    it("detects a tampered entry or proof in the bundle", () => {
      const root = fromHex(bundle.checkpoint.root);
      const e = bundle.entries[1];
      const bytes = fromHex(e.canonical);
      bytes[bytes.length - 2] ^= 1;
      expect(() => verifyInclusion(e.index, bundle.checkpoint.treeSize, leafHash(bytes), e.proof.map(fromHex), root)).to.throw();
      const proof = e.proof.map(fromHex);
      proof[0][0] ^= 1;
      expect(() => verifyInclusion(e.index, bundle.checkpoint.treeSize, fromHex(e.leafHash), proof, root)).to.throw();
      const note = bundle.checkpoint.note.replace(`\n${bundle.checkpoint.treeSize}\n`, `\n${bundle.checkpoint.treeSize + 1}\n`);
      expect(note).to.not.equal(bundle.checkpoint.note);
      expect(() => verifyCheckpointSignature(note, [h.operator.address])).to.throw();
    });

    it("carries the agreement with both parties' signatures over its terms", () => {
      expect(bundle.agreements.map((a) => a.id)).to.deep.equal([agreementId]);
      const a = bundle.agreements[0];
      const domain = domainOf(DOMAIN_NAMES.agreements, BigInt(bundle.chain.chainId), bundle.chain.contracts.agreements);
      expect(ethers.verifyTypedData(domain, AGREEMENT_TYPES, a.terms, a.signatures.provider.signature)).to.equal(h.keys.water.address);
      expect(ethers.verifyTypedData(domain, AGREEMENT_TYPES, a.terms, a.signatures.consumer.signature)).to.equal(h.keys.tax.address);
    });

    it("names an anchor that the LogAnchors contract on chain confirms", async () => {
      const provider = makeProvider(h.anvil.url, 31337n, 50);
      try {
        const { anchor } = bundle.checkpoint;
        const anchors = LogAnchors__factory.connect(h.addresses.anchors, provider);
        const onChain = await anchors.checkpointAt(codeId("log.test"), anchor.index);
        expect(Number(onChain.treeSize)).to.equal(bundle.checkpoint.treeSize);
        expect(onChain.root).to.equal(bundle.checkpoint.root);
        expect(Number(onChain.blockNumber)).to.equal(anchor.block);
        expect(Number(onChain.timestamp)).to.equal(anchor.timestamp);
        const receipt = await provider.getTransactionReceipt(anchor.tx);
        expect(receipt?.status).to.equal(1);
        expect(receipt?.blockNumber).to.equal(anchor.block);
        expect(receipt?.to?.toLowerCase()).to.equal(h.addresses.anchors.toLowerCase());
        expect(bundle.log.logId).to.equal(codeId("log.test"));
        // The public checkpoint route reports the same anchor.
        const cp = await publicGet<{ anchored: { tx: string; treeSize: number; root: string } | null }>(h.baseUrl, "/v1/log/checkpoint");
        expect(cp.anchored).to.include({ tx: anchor.tx, treeSize: bundle.checkpoint.treeSize, root: bundle.checkpoint.root });
      } finally {
        provider.destroy();
      }
    });

    it("answers 404 for an index beyond the log and 403 to a department without the regulator role", async () => {
      await refused(h.client.regulator.post("/v1/evidence", { indices: [0, CALLS] }), 404, "NOT_FOUND");
      await refused(h.client.tax.post("/v1/evidence", { indices: [0] }), 403, "FORBIDDEN_ROLE");
      await refused(h.client.exchange.post("/v1/evidence", { indices: [0] }), 403, "FORBIDDEN_ROLE");
      await refused(h.client.regulator.post("/v1/evidence", { indices: [] }), 400, "BUNDLE_EMPTY");
    });
  });

  describe("log proofs", () => {
    interface Inclusion {
      index: number;
      treeSize: number;
      leafHash: string;
      root: string;
      proof: string[];
    }

    it("serves inclusion proofs by index and by leaf hash that verify against the checkpoint", async () => {
      const cp = await publicGet<{ treeSize: number; root: string; note: string }>(h.baseUrl, "/v1/log/checkpoint");
      expect(cp.treeSize).to.equal(CALLS);
      verifyCheckpointSignature(cp.note, [h.operator.address]);
      for (let i = 0; i < CALLS; i++) {
        const p = await publicGet<Inclusion>(h.baseUrl, `/v1/log/proofs/inclusion?index=${i}`);
        expect([p.index, p.treeSize, p.root]).to.deep.equal([i, CALLS, cp.root]);
        verifyInclusion(i, p.treeSize, fromHex(p.leafHash), p.proof.map(fromHex), fromHex(cp.root));
        const byHash = await publicGet<Inclusion>(h.baseUrl, `/v1/log/proofs/inclusion?leafHash=${p.leafHash}`);
        expect(byHash).to.deep.equal(p);
      }
      // Against an older tree.
      const old = await publicGet<Inclusion>(h.baseUrl, "/v1/log/proofs/inclusion?index=1&treeSize=3");
      verifyInclusion(1, 3, fromHex(old.leafHash), old.proof.map(fromHex), fromHex(old.root));
      expect(old.root).to.not.equal(cp.root);

      const get = (path: string) => publicGet(h.baseUrl, path);
      await refused(get(`/v1/log/proofs/inclusion?index=${CALLS}`), 404, "NOT_FOUND");
      await refused(get(`/v1/log/proofs/inclusion?leafHash=${ethers.id("not a leaf")}`), 404, "NOT_FOUND");
      await refused(get("/v1/log/proofs/inclusion"), 400, "VALIDATION_FAILED");
      await refused(get("/v1/log/proofs/inclusion?index=2&treeSize=2"), 404, "NOT_FOUND");
    });

    it("serves consistency proofs between tree sizes that verify", async () => {
      const cp = await publicGet<{ treeSize: number; root: string }>(h.baseUrl, "/v1/log/checkpoint");
      for (const from of [1, 3, 4, CALLS]) {
        const p = await publicGet<{ from: number; to: number; root1: string; root2: string; proof: string[] }>(h.baseUrl, `/v1/log/proofs/consistency?from=${from}`);
        expect([p.from, p.to, p.root2]).to.deep.equal([from, CALLS, cp.root]);
        verifyConsistency(from, CALLS, fromHex(p.root1), fromHex(p.root2), p.proof.map(fromHex));
        const inclusion = await publicGet<{ root: string }>(h.baseUrl, `/v1/log/proofs/inclusion?index=0&treeSize=${from}`);
        expect(inclusion.root).to.equal(p.root1);
      }
      const p = await publicGet<{ root1: string; root2: string; proof: string[] }>(h.baseUrl, "/v1/log/proofs/consistency?from=2&to=5");
      verifyConsistency(2, 5, fromHex(p.root1), fromHex(p.root2), p.proof.map(fromHex));
      expect(() => verifyConsistency(2, 5, fromHex(p.root2), fromHex(p.root1), p.proof.map(fromHex))).to.throw();
      await refused(publicGet(h.baseUrl, `/v1/log/proofs/consistency?from=1&to=${CALLS + 1}`), 404, "NOT_FOUND");
      await refused(publicGet(h.baseUrl, "/v1/log/proofs/consistency?from=0"), 404, "NOT_FOUND");
    });
  });

  describe("health and metrics", () => {
    it("is live and ready, and exports the log size", async () => {
      const live = await fetch(`${h.baseUrl}/healthz`);
      expect(live.status).to.equal(200);
      expect(await live.json()).to.deep.equal({ ok: true });
      const ready = await fetch(`${h.baseUrl}/readyz`);
      expect(ready.status).to.equal(200);
      const body = (await ready.json()) as { ready: boolean; checks: Record<string, { ok: boolean }> };
      expect(body.ready).to.equal(true);
      expect(body.checks.chain.ok).to.equal(true);
      expect(body.checks.indexer.ok).to.equal(true);
      const metrics = await fetch(`${h.baseUrl}/metrics`);
      expect(metrics.status).to.equal(200);
      const text = await metrics.text();
      expect(text).to.match(new RegExp(`^dcl_log_size ${CALLS}$`, "m"));
      expect(text).to.match(/^dcl_log_queue_entries 0$/m);
      expect(text).to.match(/^dcl_chain_tx_queue \d+$/m);
      expect(text).to.match(/^dcl_anchor_lag_entries \d+$/m);
      expect(text).to.match(/^dcl_http_requests_total\{.*route="\/v1\/access".*\} \d+$/m);
    });
  });

  // Last: it logs more entries, which the tests above count.
  describe("access responses", () => {
    it("return each entry as logged, with its time, so the caller rebuilds its leaf hash from the response alone", async () => {
      const before = Math.floor(Date.now() / 1000);
      const res = await h.client.tax.post<{ results: { index: number; time: number; leafHash: string; entry: AccessLogEntry; receipt: Receipt }[] }>("/v1/access", {
        calls: [{ agreementId, recordCount: 1, requestHash: ethers.id("rebuild"), responseHash: ethers.id("rebuilt") }, { agreementId: ethers.id("no such agreement"), recordCount: 1, requestHash: ethers.id("x"), responseHash: ethers.id("y") }],
      });
      expect(res.results).to.have.length(2);
      for (const r of res.results) {
        expect(r.time).to.equal(r.entry.time).and.to.be.within(before, before + 60);
        expect(toHex(leafHash(encodeEntry(r.entry)))).to.equal(r.leafHash);
        expect(r.receipt.leafHash).to.equal(r.leafHash);
        expect(toHex(await h.node.log.leafHashAt(r.index))).to.equal(r.leafHash);
      }
      expect(res.results.map((r) => r.entry.outcome)).to.deep.equal(["served", "refused"]);
      expect(res.results[0].entry.consumerDept).to.equal(D.tax);
    });
  });
});
