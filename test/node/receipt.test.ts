import { expect } from "chai";
import { Wallet, ethers } from "ethers";
import { MemoryTree } from "../../node/merkle/memory-tree";
import { fromHex, toHex, verifyReceipt, receiptSigningPayload, type Receipt } from "../../node/verify";
import { referenceInclusionProof, referenceRoot } from "./reference-tree";

const operator = new Wallet(Wallet.createRandom().privateKey);

/** Receipts for `n` consecutive entries from `first`, built and signed as the access ledger does. */
function batch(first: number, n: number): Receipt[] {
  const hashes = Array.from({ length: n }, (_, i) => fromHex(ethers.id(`leaf ${first + i}`)));
  const tree = MemoryTree.fromLeafHashes(hashes);
  const root = toHex(tree.root());
  const signature = operator.signMessageSync(receiptSigningPayload("dcl/31337/log.test", first, n, root));
  return hashes.map((h, i) => ({
    origin: "dcl/31337/log.test", index: first + i, leafHash: toHex(h),
    batch: { first, count: n, root, proof: tree.inclusionProof(i).map(toHex) }, signer: operator.address, signature,
  }));
}

const codeOf = (f: () => void) => {
  try {
    f();
  } catch (e) {
    return (e as { code: string }).code;
  }
  return "none";
};

describe("receipts (one operator signature per appended batch)", () => {
  it("builds the batch tree over the leaf hashes exactly as RFC 6962 does", () => {
    for (const n of [1, 2, 3, 5, 8, 13]) {
      const hashes = Array.from({ length: n }, (_, i) => fromHex(ethers.id(`x${i}`)));
      const tree = MemoryTree.fromLeafHashes(hashes);
      expect(toHex(tree.root())).to.equal(toHex(referenceRoot(hashes)));
      for (let i = 0; i < n; i++) expect(tree.inclusionProof(i).map(toHex)).to.deep.equal(referenceInclusionProof(i, hashes).map(toHex));
    }
  });

  it("verifies every receipt of a batch, each on its own", () => {
    for (const r of batch(40, 7)) verifyReceipt(r, [operator.address]);
    verifyReceipt(batch(3, 1)[0], [operator.address]);
  });

  it("refuses a receipt whose index, leaf hash, proof, batch or signature was changed", () => {
    const r = batch(10, 6)[2];
    expect(codeOf(() => verifyReceipt({ ...r, index: 11 }))).to.equal("RECEIPT_BATCH_INVALID");
    expect(codeOf(() => verifyReceipt({ ...r, index: 99 }))).to.equal("RECEIPT_BATCH_INVALID");
    expect(codeOf(() => verifyReceipt({ ...r, leafHash: ethers.id("other") }))).to.equal("RECEIPT_BATCH_INVALID");
    expect(codeOf(() => verifyReceipt({ ...r, batch: { ...r.batch, proof: [ethers.id("p"), ...r.batch.proof.slice(1)] } }))).to.equal("RECEIPT_BATCH_INVALID");
    expect(codeOf(() => verifyReceipt({ ...r, batch: { ...r.batch, first: 9, count: 7 } }))).to.not.equal("none");
    expect(codeOf(() => verifyReceipt({ ...r, origin: "dcl/1/other" }))).to.equal("RECEIPT_SIGNATURE_INVALID");
    expect(codeOf(() => verifyReceipt(r, [Wallet.createRandom().address]))).to.equal("RECEIPT_SIGNER_UNEXPECTED");
  });
});
