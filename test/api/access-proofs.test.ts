/**
 * POST /v1/access?proofs=entry|batch|none over real HTTP: the default answer carries each receipt;
 * `batch` carries one range proof from which the client rebuilds every receipt exactly as the
 * node kept it (evidence bundles carry those); `none` carries none. A 1,000-call answer with
 * `batch` is a fraction of the default one.
 */
import { expect } from "chai";
import { ethers } from "ethers";
import { receiptsFromBatch, verifyReceipt, type BatchProof, type Receipt } from "../../node/verify";
import { startApiHarness, waterToTaxAgreement, type ApiHarness } from "../support/api-harness";

interface Answer {
  served: number;
  refused: number;
  results: { index: number; leafHash: string; outcome: string; receipt?: Receipt }[];
  batch?: BatchProof;
}

describe("api POST /v1/access?proofs=", function () {
  this.timeout(120_000);
  let h: ApiHarness;
  let agreement: string;
  const calls = (n: number) => ({ calls: Array.from({ length: n }, () => ({ agreementId: agreement, recordCount: 1, requestHash: ethers.hexlify(ethers.randomBytes(32)), responseHash: ethers.hexlify(ethers.randomBytes(32)) })) });

  before(async () => {
    h = await startApiHarness();
    agreement = await waterToTaxAgreement(h, "proofs");
  });
  after(async () => h?.stop());

  it("answers each receipt by default and with proofs=entry", async () => {
    for (const path of ["/v1/access", "/v1/access?proofs=entry"]) {
      const a = await h.client.tax.post<Answer>(path, calls(3));
      expect(a.batch, path).to.equal(undefined);
      for (const r of a.results) verifyReceipt(r.receipt!, [h.operator.address]);
    }
  });

  it("answers proofs=batch with one batch proof from which each receipt is rebuilt as the node kept it", async () => {
    const a = await h.client.tax.post<Answer>("/v1/access?proofs=batch", calls(5));
    expect(a.results.every((r) => r.receipt === undefined)).to.equal(true);
    const receipts = receiptsFromBatch(a.batch!, a.results[0].index, a.results.map((r) => r.leafHash));
    expect(receipts.map((r) => r.index)).to.deep.equal(a.results.map((r) => r.index));
    for (const r of receipts) {
      verifyReceipt(r, [h.operator.address]);
      expect(await h.node.access.originalReceipt(r.index, r.leafHash)).to.deep.equal(r);
    }
  });

  it("answers proofs=none without receipts; an evidence bundle still carries the receipt given", async () => {
    const a = await h.client.tax.post<Answer>("/v1/access?proofs=none", calls(2));
    expect(a.batch).to.equal(undefined);
    expect(a.results.every((r) => r.receipt === undefined)).to.equal(true);
    for (const r of a.results) verifyReceipt(await h.node.access.originalReceipt(r.index, r.leafHash), [h.operator.address]);
  });

  it("makes a 1,000-call answer with proofs=batch less than half the size of the default one", async () => {
    const sizeOf = async (path: string) => {
      const res = await h.client.tax.send("POST", path, calls(1000));
      expect(res.status).to.equal(200);
      return (await res.arrayBuffer()).byteLength;
    };
    const [entry, batch, none] = [await sizeOf("/v1/access"), await sizeOf("/v1/access?proofs=batch"), await sizeOf("/v1/access?proofs=none")];
    expect(batch).to.be.below(entry / 2);
    expect(none).to.be.below(batch);
    expect(batch - none, "the batch proof is a few hashes").to.be.below(4000);
  });

  it("refuses another proofs value (400 VALIDATION_FAILED)", async () => {
    const res = await h.client.tax.send("POST", "/v1/access?proofs=all", calls(1));
    expect(res.status).to.equal(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).to.equal("VALIDATION_FAILED");
  });
});
