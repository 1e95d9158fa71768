import { createHash } from "node:crypto";
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import { deployedWithDepartments, DEPT } from "./fixture";
import {
  DISPUTE_TYPES,
  TRANSFER_CANCELLATION_TYPES,
  DOMAIN_NAMES,
  domainOf,
  RECONCILIATION_TYPES,
  TRANSFER_TYPES,
  type Dispute,
  type Reconciliation,
  type TransferBatch,
} from "../../node/chain/typed-data";
import { codeId } from "../../node/chain/ids";
import { encodeRecord, hex, inclusionProof, leafHash, rootOf, type FeeRecord } from "./records-tree";

const STATUS = { None: 0n, Submitted: 1n, Reconciled: 2n };

// Five canonical water-resource fee records of one month: a tree that is not a power of two.
const RECORDS: FeeRecord[] = [
  { payer: "91500000MA5U000011", item: "water-resource-fee", period: 202610, assessedFen: 1_250_000 },
  { payer: "91500000MA5U000022", item: "water-resource-fee", period: 202610, assessedFen: 380_050 },
  { payer: "91500000MA5U000033", item: "water-resource-fee", period: 202610, assessedFen: 99 },
  { payer: "91500000MA5U000044", item: "water-resource-fee", period: 202610, assessedFen: 7_000_000 },
  { payer: "91500000MA5U000055", item: "water-resource-fee", period: 202610, assessedFen: 15_500 },
];
const RECORD_BYTES = RECORDS.map(encodeRecord);
const LEAVES = RECORD_BYTES.map(leafHash);
const TOTAL_FEN = BigInt(RECORDS.reduce((sum, r) => sum + r.assessedFen, 0));

async function transfersDeployed() {
  const d = await deployedWithDepartments();
  const domain = domainOf(DOMAIN_NAMES.transfers, d.chainId, await d.transfers.getAddress());
  return { ...d, domain };
}
type Fixture = Awaited<ReturnType<typeof transfersDeployed>>;

/** The water bureau's October batch to the tax service; `over` replaces fields. */
function batchOf(over: Partial<TransferBatch> = {}): TransferBatch {
  return {
    from: DEPT.water,
    to: DEPT.tax,
    category: codeId("water-resource-fee"),
    period: 202610,
    recordCount: BigInt(RECORDS.length),
    totalFen: TOTAL_FEN,
    recordsRoot: hex(rootOf(LEAVES)),
    payloadHash: hex(createHash("sha256").update(Buffer.concat(RECORD_BYTES)).digest()),
    parents: [],
    nonce: 1n,
    ...over,
  };
}

async function cosign(
  key: HardhatEthersSigner,
  domain: ReturnType<typeof domainOf>,
  types: typeof TRANSFER_TYPES,
  value: TransferBatch | Reconciliation,
  signer = key.address,
) {
  return { signer, signature: await key.signTypedData(domain, types, value) };
}

/** Submits `batch` co-signed by the water and tax signers; returns its id. */
async function submit(d: Fixture, batch: TransferBatch): Promise<string> {
  const fromSig = await cosign(d.a.water, d.domain, TRANSFER_TYPES, batch);
  const toSig = await cosign(d.a.tax, d.domain, TRANSFER_TYPES, batch);
  await d.transfers.connect(d.a.stranger).submit(batch, fromSig, toSig);
  return d.transfers.hashBatch(batch);
}

async function submitted() {
  const d = await loadFixture(transfersDeployed);
  const batch = batchOf();
  const id = await submit(d, batch);
  return { d, batch, id };
}

function reconciliationOf(transferId: string): Reconciliation {
  return {
    transferId,
    collectedCount: 4n,
    collectedFen: TOTAL_FEN - 99n,
    resultsRoot: ethers.id("collection results of 202610"),
  };
}

describe("NonTaxTransfers", () => {
  describe("submit", () => {
    it("records a batch co-signed by the providing department and the tax service", async () => {
      const d = await loadFixture(transfersDeployed);
      const batch = batchOf();
      const id = await d.transfers.hashBatch(batch);
      const at = (await time.latest()) + 10;
      await time.setNextBlockTimestamp(at);
      await expect(
        d.transfers
          .connect(d.a.stranger)
          .submit(batch, await cosign(d.a.water, d.domain, TRANSFER_TYPES, batch), await cosign(d.a.tax, d.domain, TRANSFER_TYPES, batch)),
      )
        .to.emit(d.transfers, "TransferSubmitted")
        .withArgs(id, DEPT.water, DEPT.tax, batch.category, batch.period, batch.recordCount, batch.totalFen, batch.recordsRoot, batch.payloadHash, [], d.a.water.address, d.a.tax.address);
      const t = await d.transfers.transfer(id);
      expect(t.from).to.equal(DEPT.water);
      expect(t.to).to.equal(DEPT.tax);
      expect(t.recordsRoot).to.equal(batch.recordsRoot);
      expect(t.recordCount).to.equal(5n);
      expect(t.submittedAt).to.equal(BigInt(at));
      expect(t.reconciledAt).to.equal(0n);
      expect(t.disputes).to.equal(0n);
      expect(t.status).to.equal(STATUS.Submitted);
    });

    it("uses the EIP-712 struct hash of the batch (parents as a hashed array) as the transfer id", async () => {
      const d = await loadFixture(transfersDeployed);
      const batch = batchOf({ parents: [ethers.id("p1"), ethers.id("p2")] });
      const encoder = ethers.TypedDataEncoder.from(TRANSFER_TYPES);
      expect(await d.transfers.hashBatch(batch)).to.equal(encoder.hashStruct("Transfer", batch));
      expect(await d.transfers.TRANSFER_TYPEHASH()).to.equal(ethers.id(encoder.encodeType("Transfer")));
      expect(await d.transfers.RECONCILIATION_TYPEHASH()).to.equal(
        ethers.id(ethers.TypedDataEncoder.from(RECONCILIATION_TYPES).encodeType("Reconciliation")),
      );
      expect(await d.transfers.DISPUTE_TYPEHASH()).to.equal(
        ethers.id(ethers.TypedDataEncoder.from(DISPUTE_TYPES).encodeType("Dispute")),
      );
    });

    it("accepts the signature of any current signer of the receiving department", async () => {
      const d = await loadFixture(transfersDeployed);
      const batch = batchOf();
      await expect(
        d.transfers.submit(batch, await cosign(d.a.water, d.domain, TRANSFER_TYPES, batch), await cosign(d.a.tax2, d.domain, TRANSFER_TYPES, batch)),
      ).to.emit(d.transfers, "TransferSubmitted");
    });

    it("records the lineage of a batch derived from earlier transfers", async () => {
      const d = await loadFixture(transfersDeployed);
      const p1 = await submit(d, batchOf({ nonce: 1n }));
      const p2 = await submit(d, batchOf({ nonce: 2n }));
      const child = batchOf({ parents: [p1, p2], nonce: 3n });
      const fromSig = await cosign(d.a.water, d.domain, TRANSFER_TYPES, child);
      const toSig = await cosign(d.a.tax, d.domain, TRANSFER_TYPES, child);
      const receipt = (await (await d.transfers.submit(child, fromSig, toSig)).wait())!;
      const ev = d.transfers.interface.parseLog(receipt.logs[0])!;
      expect(ev.name).to.equal("TransferSubmitted");
      expect([...ev.args.parents]).to.deep.equal([p1, p2]);
    });

    it("refuses a parent that is not a recorded transfer", async () => {
      const d = await loadFixture(transfersDeployed);
      const unknown = ethers.id("no such transfer");
      const batch = batchOf({ parents: [unknown] });
      await expect(
        d.transfers.submit(batch, await cosign(d.a.water, d.domain, TRANSFER_TYPES, batch), await cosign(d.a.tax, d.domain, TRANSFER_TYPES, batch)),
      )
        .to.be.revertedWithCustomError(d.transfers, "TransfersUnknown")
        .withArgs(unknown);
    });

    it("accepts MAX_PARENTS parents and refuses one more", async () => {
      const d = await loadFixture(transfersDeployed);
      const max = Number(await d.transfers.MAX_PARENTS());
      expect(max).to.equal(16);
      const parents: string[] = [];
      for (let i = 0; i < max; i++) parents.push(await submit(d, batchOf({ nonce: BigInt(100 + i) })));
      await submit(d, batchOf({ parents, nonce: 1n }));
      const tooMany = batchOf({ parents: [...parents, parents[0]], nonce: 2n });
      await expect(
        d.transfers.submit(tooMany, await cosign(d.a.water, d.domain, TRANSFER_TYPES, tooMany), await cosign(d.a.tax, d.domain, TRANSFER_TYPES, tooMany)),
      ).to.be.revertedWithCustomError(d.transfers, "TransfersInvalidBatch");
    });

    it("refuses an empty batch", async () => {
      const d = await loadFixture(transfersDeployed);
      const batch = batchOf({ recordCount: 0n });
      await expect(
        d.transfers.submit(batch, await cosign(d.a.water, d.domain, TRANSFER_TYPES, batch), await cosign(d.a.tax, d.domain, TRANSFER_TYPES, batch)),
      ).to.be.revertedWithCustomError(d.transfers, "TransfersInvalidBatch");
    });

    it("refuses a batch from a department to itself", async () => {
      const d = await loadFixture(transfersDeployed);
      const batch = batchOf({ to: DEPT.water });
      const sig = await cosign(d.a.water, d.domain, TRANSFER_TYPES, batch);
      await expect(d.transfers.submit(batch, sig, sig)).to.be.revertedWithCustomError(d.transfers, "TransfersInvalidBatch");
    });

    it("refuses a replay of a recorded batch", async () => {
      const { d, batch, id } = await submitted();
      await expect(
        d.transfers.submit(batch, await cosign(d.a.water, d.domain, TRANSFER_TYPES, batch), await cosign(d.a.tax, d.domain, TRANSFER_TYPES, batch)),
      )
        .to.be.revertedWithCustomError(d.transfers, "TransfersAlreadyExists")
        .withArgs(id);
    });

    it("refuses a signature by a removed signer", async () => {
      const d = await loadFixture(transfersDeployed);
      await d.registry.connect(d.a.tax).removeSigner(DEPT.tax, d.a.tax2.address);
      const batch = batchOf();
      await expect(
        d.transfers.submit(batch, await cosign(d.a.water, d.domain, TRANSFER_TYPES, batch), await cosign(d.a.tax2, d.domain, TRANSFER_TYPES, batch)),
      )
        .to.be.revertedWithCustomError(d.transfers, "DclInvalidSignature")
        .withArgs(DEPT.tax, d.a.tax2.address);
    });

    it("refuses a signature by a signer of another department", async () => {
      const d = await loadFixture(transfersDeployed);
      const batch = batchOf();
      await expect(
        d.transfers.submit(batch, await cosign(d.a.cad, d.domain, TRANSFER_TYPES, batch), await cosign(d.a.tax, d.domain, TRANSFER_TYPES, batch)),
      )
        .to.be.revertedWithCustomError(d.transfers, "DclInvalidSignature")
        .withArgs(DEPT.water, d.a.cad.address);
    });

    it("refuses a signature that names a current signer but was made by another key", async () => {
      const d = await loadFixture(transfersDeployed);
      const batch = batchOf();
      const forged = await cosign(d.a.stranger, d.domain, TRANSFER_TYPES, batch, d.a.tax.address);
      await expect(d.transfers.submit(batch, await cosign(d.a.water, d.domain, TRANSFER_TYPES, batch), forged))
        .to.be.revertedWithCustomError(d.transfers, "DclInvalidSignature")
        .withArgs(DEPT.tax, d.a.tax.address);
    });

    it("refuses a signature made for another chain id", async () => {
      const d = await loadFixture(transfersDeployed);
      const batch = batchOf();
      const otherChain = domainOf(DOMAIN_NAMES.transfers, 1n, await d.transfers.getAddress());
      await expect(
        d.transfers.submit(batch, await cosign(d.a.water, otherChain, TRANSFER_TYPES, batch), await cosign(d.a.tax, d.domain, TRANSFER_TYPES, batch)),
      )
        .to.be.revertedWithCustomError(d.transfers, "DclInvalidSignature")
        .withArgs(DEPT.water, d.a.water.address);
    });

    it("refuses a signature made for another contract", async () => {
      const d = await loadFixture(transfersDeployed);
      const batch = batchOf();
      const otherContract = domainOf(DOMAIN_NAMES.transfers, d.chainId, await d.consents.getAddress());
      await expect(
        d.transfers.submit(batch, await cosign(d.a.water, d.domain, TRANSFER_TYPES, batch), await cosign(d.a.tax, otherContract, TRANSFER_TYPES, batch)),
      )
        .to.be.revertedWithCustomError(d.transfers, "DclInvalidSignature")
        .withArgs(DEPT.tax, d.a.tax.address);
    });

    it("refuses a batch whose contents differ from what was signed", async () => {
      const d = await loadFixture(transfersDeployed);
      const signed = batchOf();
      const altered = batchOf({ totalFen: TOTAL_FEN - 1n });
      await expect(
        d.transfers.submit(altered, await cosign(d.a.water, d.domain, TRANSFER_TYPES, signed), await cosign(d.a.tax, d.domain, TRANSFER_TYPES, signed)),
      )
        .to.be.revertedWithCustomError(d.transfers, "DclInvalidSignature")
        .withArgs(DEPT.water, d.a.water.address);
    });

    it("reverts when reading an unknown transfer", async () => {
      const d = await loadFixture(transfersDeployed);
      await expect(d.transfers.transfer(ethers.ZeroHash))
        .to.be.revertedWithCustomError(d.transfers, "TransfersUnknown")
        .withArgs(ethers.ZeroHash);
    });
  });

  describe("reconcile", () => {
    it("records a co-signed reconciliation and the seconds elapsed since submission", async () => {
      const d = await loadFixture(transfersDeployed);
      const batch = batchOf();
      const s = (await time.latest()) + 100;
      await time.setNextBlockTimestamp(s);
      const id = await submit(d, batch);
      const rec = reconciliationOf(id);
      const fromSig = await cosign(d.a.water, d.domain, RECONCILIATION_TYPES, rec);
      const toSig = await cosign(d.a.tax, d.domain, RECONCILIATION_TYPES, rec);
      await time.setNextBlockTimestamp(s + 3 * 86_400 + 7);
      await expect(d.transfers.connect(d.a.stranger).reconcile(rec, fromSig, toSig))
        .to.emit(d.transfers, "TransferReconciled")
        .withArgs(id, rec.collectedCount, rec.collectedFen, rec.resultsRoot, 3 * 86_400 + 7, d.a.water.address, d.a.tax.address);
      const t = await d.transfers.transfer(id);
      expect(t.status).to.equal(STATUS.Reconciled);
      expect(t.reconciledAt).to.equal(BigInt(s + 3 * 86_400 + 7));
    });

    it("refuses a second reconciliation of the same transfer", async () => {
      const { d, id } = await submitted();
      const rec = reconciliationOf(id);
      const fromSig = await cosign(d.a.water, d.domain, RECONCILIATION_TYPES, rec);
      const toSig = await cosign(d.a.tax, d.domain, RECONCILIATION_TYPES, rec);
      await d.transfers.reconcile(rec, fromSig, toSig);
      await expect(d.transfers.reconcile(rec, fromSig, toSig))
        .to.be.revertedWithCustomError(d.transfers, "TransfersWrongStatus")
        .withArgs(id, STATUS.Reconciled);
    });

    it("refuses a reconciliation missing the providing department's signature", async () => {
      const { d, id } = await submitted();
      const rec = reconciliationOf(id);
      // The tax service signs twice, once in the providing department's place.
      const taxSig = await cosign(d.a.tax, d.domain, RECONCILIATION_TYPES, rec);
      await expect(d.transfers.reconcile(rec, taxSig, taxSig))
        .to.be.revertedWithCustomError(d.transfers, "DclInvalidSignature")
        .withArgs(DEPT.water, d.a.tax.address);
    });

    it("refuses a reconciliation whose figures differ from what the tax service signed", async () => {
      const { d, id } = await submitted();
      const rec = reconciliationOf(id);
      const fromSig = await cosign(d.a.water, d.domain, RECONCILIATION_TYPES, { ...rec, collectedFen: 1n });
      const toSig = await cosign(d.a.tax, d.domain, RECONCILIATION_TYPES, { ...rec, collectedFen: 1n });
      await expect(d.transfers.reconcile({ ...rec, collectedFen: 1n }, fromSig, await cosign(d.a.tax, d.domain, RECONCILIATION_TYPES, rec)))
        .to.be.revertedWithCustomError(d.transfers, "DclInvalidSignature")
        .withArgs(DEPT.tax, d.a.tax.address);
      await expect(d.transfers.reconcile({ ...rec, collectedFen: 1n }, fromSig, toSig)).to.emit(d.transfers, "TransferReconciled");
    });

    it("refuses a reconciliation of an unknown transfer", async () => {
      const d = await loadFixture(transfersDeployed);
      const rec = reconciliationOf(ethers.id("no such transfer"));
      const fromSig = await cosign(d.a.water, d.domain, RECONCILIATION_TYPES, rec);
      const toSig = await cosign(d.a.tax, d.domain, RECONCILIATION_TYPES, rec);
      await expect(d.transfers.reconcile(rec, fromSig, toSig))
        .to.be.revertedWithCustomError(d.transfers, "TransfersUnknown")
        .withArgs(rec.transferId);
    });
  });

  describe("dispute", () => {
    const reason = ethers.id("payer 91500000MA5U000033 was assessed twice");

    /** `key`'s Dispute of record `i` (as `record`) of transfer `id` in the name of `department`. */
    async function disputeSig(
      d: Fixture,
      key: HardhatEthersSigner,
      id: string,
      department: string,
      i: number,
      record = RECORD_BYTES[i],
      reasonHash = reason,
      domain = d.domain,
    ) {
      const value: Dispute = { transferId: id, department, leafIndex: BigInt(i), leafHash: hex(leafHash(record)), reasonHash };
      return { signer: key.address, signature: await key.signTypedData(domain, DISPUTE_TYPES, value) };
    }

    /** Disputes record `i` of transfer `id`, signed by `key` for `department`, relayed by a stranger. */
    async function disputeBy(d: Fixture, key: HardhatEthersSigner, id: string, department: string, i: number) {
      const sig = await disputeSig(d, key, id, department, i);
      return d.transfers.connect(d.a.stranger).dispute(id, department, i, RECORD_BYTES[i], inclusionProof(i, LEAVES).map(hex), reason, sig);
    }

    it("lets the providing department dispute a record it proves is in the batch, by signature relayed by any account", async () => {
      const { d, id } = await submitted();
      expect(await d.transfers.isDisputed(id, 2, DEPT.water)).to.equal(false);
      await expect(disputeBy(d, d.a.water, id, DEPT.water, 2))
        .to.emit(d.transfers, "TransferRecordDisputed")
        .withArgs(id, DEPT.water, 2, hex(LEAVES[2]), reason, d.a.water.address);
      expect((await d.transfers.transfer(id)).disputes).to.equal(1n);
      expect(await d.transfers.isDisputed(id, 2, DEPT.water)).to.equal(true);
      expect(await d.transfers.isDisputed(id, 2, DEPT.tax)).to.equal(false);
    });

    it("lets the tax service dispute too, and counts every dispute, also after reconciliation", async () => {
      const { d, id } = await submitted();
      const rec = reconciliationOf(id);
      await d.transfers.reconcile(
        rec,
        await cosign(d.a.water, d.domain, RECONCILIATION_TYPES, rec),
        await cosign(d.a.tax, d.domain, RECONCILIATION_TYPES, rec),
      );
      for (const i of [0, 4]) {
        await expect(disputeBy(d, d.a.tax2, id, DEPT.tax, i))
          .to.emit(d.transfers, "TransferRecordDisputed")
          .withArgs(id, DEPT.tax, i, hex(LEAVES[i]), reason, d.a.tax2.address);
      }
      expect((await d.transfers.transfer(id)).disputes).to.equal(2n);
    });

    it("accepts the reference tree's proof for every record of the batch", async () => {
      const { d, id } = await submitted();
      for (let i = 0; i < RECORDS.length; i++) await disputeBy(d, d.a.water, id, DEPT.water, i);
      expect((await d.transfers.transfer(id)).disputes).to.equal(BigInt(RECORDS.length));
    });

    it("counts a record disputed by both parties once per party", async () => {
      const { d, id } = await submitted();
      await disputeBy(d, d.a.water, id, DEPT.water, 2);
      await disputeBy(d, d.a.tax, id, DEPT.tax, 2);
      expect((await d.transfers.transfer(id)).disputes).to.equal(2n);
    });

    it("refuses a second dispute of a record by the same party: a replay, another signer or another reason", async () => {
      const { d, id } = await submitted();
      const proof = inclusionProof(2, LEAVES).map(hex);
      const sig = await disputeSig(d, d.a.tax, id, DEPT.tax, 2);
      await d.transfers.dispute(id, DEPT.tax, 2, RECORD_BYTES[2], proof, reason, sig);
      await expect(d.transfers.dispute(id, DEPT.tax, 2, RECORD_BYTES[2], proof, reason, sig))
        .to.be.revertedWithCustomError(d.transfers, "TransfersAlreadyDisputed")
        .withArgs(id, 2, DEPT.tax);
      const other = ethers.id("another reason");
      const byTax2 = await disputeSig(d, d.a.tax2, id, DEPT.tax, 2, RECORD_BYTES[2], other);
      await expect(d.transfers.dispute(id, DEPT.tax, 2, RECORD_BYTES[2], proof, other, byTax2))
        .to.be.revertedWithCustomError(d.transfers, "TransfersAlreadyDisputed")
        .withArgs(id, 2, DEPT.tax);
      expect((await d.transfers.transfer(id)).disputes).to.equal(1n);
    });

    it("refuses a dispute on behalf of a department that is not a party", async () => {
      const { d, id } = await submitted();
      await expect(disputeBy(d, d.a.cad, id, DEPT.cad, 2))
        .to.be.revertedWithCustomError(d.transfers, "TransfersNotParty")
        .withArgs(id, DEPT.cad);
    });

    it("refuses a dispute signed by a key that is not a signer of the party it names", async () => {
      const { d, id } = await submitted();
      await expect(disputeBy(d, d.a.stranger, id, DEPT.water, 2))
        .to.be.revertedWithCustomError(d.transfers, "DclInvalidSignature")
        .withArgs(DEPT.water, d.a.stranger.address);
      // A party's signer cannot speak for the other party either.
      await expect(disputeBy(d, d.a.tax, id, DEPT.water, 2))
        .to.be.revertedWithCustomError(d.transfers, "DclInvalidSignature")
        .withArgs(DEPT.water, d.a.tax.address);
    });

    it("does not accept a party signer's transaction in place of their signature", async () => {
      const { d, id } = await submitted();
      const forged = { ...(await disputeSig(d, d.a.stranger, id, DEPT.water, 2)), signer: d.a.water.address };
      await expect(d.transfers.connect(d.a.water).dispute(id, DEPT.water, 2, RECORD_BYTES[2], inclusionProof(2, LEAVES).map(hex), reason, forged))
        .to.be.revertedWithCustomError(d.transfers, "DclInvalidSignature")
        .withArgs(DEPT.water, d.a.water.address);
    });

    it("refuses a reason, a party or a record other than those signed", async () => {
      const { d, id } = await submitted();
      const sig = await disputeSig(d, d.a.tax, id, DEPT.tax, 2);
      const proof2 = inclusionProof(2, LEAVES).map(hex);
      await expect(d.transfers.dispute(id, DEPT.tax, 2, RECORD_BYTES[2], proof2, ethers.id("another reason"), sig))
        .to.be.revertedWithCustomError(d.transfers, "DclInvalidSignature")
        .withArgs(DEPT.tax, d.a.tax.address);
      await expect(d.transfers.dispute(id, DEPT.water, 2, RECORD_BYTES[2], proof2, reason, sig))
        .to.be.revertedWithCustomError(d.transfers, "DclInvalidSignature")
        .withArgs(DEPT.water, d.a.tax.address);
      await expect(d.transfers.dispute(id, DEPT.tax, 3, RECORD_BYTES[3], inclusionProof(3, LEAVES).map(hex), reason, sig))
        .to.be.revertedWithCustomError(d.transfers, "DclInvalidSignature")
        .withArgs(DEPT.tax, d.a.tax.address);
    });

    it("refuses a dispute signed for another transfer", async () => {
      const { d, id } = await submitted();
      const other = await submit(d, batchOf({ nonce: 2n }));
      const sig = await disputeSig(d, d.a.water, other, DEPT.water, 2);
      await expect(d.transfers.dispute(id, DEPT.water, 2, RECORD_BYTES[2], inclusionProof(2, LEAVES).map(hex), reason, sig))
        .to.be.revertedWithCustomError(d.transfers, "DclInvalidSignature")
        .withArgs(DEPT.water, d.a.water.address);
    });

    it("refuses a dispute signed for another contract", async () => {
      const { d, id } = await submitted();
      const otherContract = domainOf(DOMAIN_NAMES.transfers, d.chainId, await d.agreements.getAddress());
      const sig = await disputeSig(d, d.a.water, id, DEPT.water, 2, RECORD_BYTES[2], reason, otherContract);
      await expect(d.transfers.dispute(id, DEPT.water, 2, RECORD_BYTES[2], inclusionProof(2, LEAVES).map(hex), reason, sig))
        .to.be.revertedWithCustomError(d.transfers, "DclInvalidSignature")
        .withArgs(DEPT.water, d.a.water.address);
    });

    it("refuses a dispute of an unknown transfer", async () => {
      const d = await loadFixture(transfersDeployed);
      const unknown = ethers.id("no such transfer");
      const sig = await disputeSig(d, d.a.water, unknown, DEPT.water, 0);
      await expect(d.transfers.dispute(unknown, DEPT.water, 0, RECORD_BYTES[0], [], reason, sig))
        .to.be.revertedWithCustomError(d.transfers, "TransfersUnknown")
        .withArgs(unknown);
    });

    it("refuses a proof of another leaf", async () => {
      const { d, id } = await submitted();
      const sig = await disputeSig(d, d.a.water, id, DEPT.water, 2);
      await expect(d.transfers.dispute(id, DEPT.water, 2, RECORD_BYTES[2], inclusionProof(1, LEAVES).map(hex), reason, sig))
        .to.be.revertedWithCustomError(d.transfers, "TransfersRecordNotInBatch")
        .withArgs(id, 2);
    });

    it("refuses a record claimed at the wrong index", async () => {
      const { d, id } = await submitted();
      const proof = inclusionProof(2, LEAVES).map(hex);
      for (const i of [3, 5]) {
        const sig = await disputeSig(d, d.a.water, id, DEPT.water, i, RECORD_BYTES[2]);
        await expect(d.transfers.dispute(id, DEPT.water, i, RECORD_BYTES[2], proof, reason, sig))
          .to.be.revertedWithCustomError(d.transfers, "TransfersRecordNotInBatch")
          .withArgs(id, i);
      }
    });

    it("refuses an altered record", async () => {
      const { d, id } = await submitted();
      const altered = encodeRecord({ ...RECORDS[2], assessedFen: 100 });
      const sig = await disputeSig(d, d.a.water, id, DEPT.water, 2, altered);
      await expect(d.transfers.dispute(id, DEPT.water, 2, altered, inclusionProof(2, LEAVES).map(hex), reason, sig))
        .to.be.revertedWithCustomError(d.transfers, "TransfersRecordNotInBatch")
        .withArgs(id, 2);
    });

    it("refuses a proof with an extra or a missing step", async () => {
      const { d, id } = await submitted();
      const proof = inclusionProof(2, LEAVES).map(hex);
      const sig = await disputeSig(d, d.a.water, id, DEPT.water, 2);
      await expect(d.transfers.dispute(id, DEPT.water, 2, RECORD_BYTES[2], [...proof, ethers.ZeroHash], reason, sig))
        .to.be.revertedWithCustomError(d.transfers, "TransfersRecordNotInBatch")
        .withArgs(id, 2);
      await expect(d.transfers.dispute(id, DEPT.water, 2, RECORD_BYTES[2], proof.slice(0, -1), reason, sig))
        .to.be.revertedWithCustomError(d.transfers, "TransfersRecordNotInBatch")
        .withArgs(id, 2);
    });
  });

  // Review finding "Signed terms without a deadline" (issue 9): a fee batch one side signed and abandoned could
  // be submitted by the other side at any later time.
  describe("cancel (issue 9: signed terms without a deadline)", () => {
    async function signCancellation(key: HardhatEthersSigner, domain: ReturnType<typeof domainOf>, transferId: string) {
      return { signer: key.address, signature: await key.signTypedData(domain, TRANSFER_CANCELLATION_TYPES, { transferId }) };
    }

    it("submits a batch signed 300 days earlier unless a party cancelled it: submission then reverts", async () => {
      const d = await loadFixture(transfersDeployed);
      const batch = batchOf();
      const id = await d.transfers.hashBatch(batch);
      const fromSig = await cosign(d.a.water, d.domain, TRANSFER_TYPES, batch);
      await expect(d.transfers.connect(d.a.stranger).cancel(batch, DEPT.water, await signCancellation(d.a.water, d.domain, id)))
        .to.emit(d.transfers, "TransferCancelled")
        .withArgs(id, DEPT.water, d.a.water.address);
      expect(await d.transfers.cancelledAt(id)).to.equal(await time.latest());
      await time.increase(300 * 86_400);
      await expect(d.transfers.connect(d.a.tax).submit(batch, fromSig, await cosign(d.a.tax, d.domain, TRANSFER_TYPES, batch)))
        .to.be.revertedWithCustomError(d.transfers, "TransfersCancelled")
        .withArgs(id);
    });

    it("lets the receiving department cancel too", async () => {
      const d = await loadFixture(transfersDeployed);
      const batch = batchOf({ parents: [] });
      const id = await d.transfers.hashBatch(batch);
      await expect(d.transfers.cancel(batch, DEPT.tax, await signCancellation(d.a.tax2, d.domain, id)))
        .to.emit(d.transfers, "TransferCancelled")
        .withArgs(id, DEPT.tax, d.a.tax2.address);
    });

    it("refuses a cancellation in the name of a non-party, or not signed by a signer of the party named", async () => {
      const d = await loadFixture(transfersDeployed);
      const batch = batchOf();
      const id = await d.transfers.hashBatch(batch);
      await expect(d.transfers.cancel(batch, DEPT.civil, await signCancellation(d.a.civil, d.domain, id)))
        .to.be.revertedWithCustomError(d.transfers, "TransfersNotParty")
        .withArgs(id, DEPT.civil);
      const otherContract = domainOf(DOMAIN_NAMES.transfers, d.chainId, await d.consents.getAddress());
      for (const sig of [
        await signCancellation(d.a.tax, d.domain, id),
        await signCancellation(d.a.water, d.domain, ethers.id("another transfer")),
        await signCancellation(d.a.water, otherContract, id),
        await cosign(d.a.water, d.domain, TRANSFER_TYPES, batch),
      ]) {
        await expect(d.transfers.cancel(batch, DEPT.water, sig))
          .to.be.revertedWithCustomError(d.transfers, "DclInvalidSignature")
          .withArgs(DEPT.water, sig.signer);
      }
      expect(await d.transfers.cancelledAt(id)).to.equal(0n);
    });

    it("refuses to cancel a submitted batch, or to cancel twice; a cancelled batch cannot be a parent", async () => {
      const { d, batch, id } = await submitted();
      await expect(d.transfers.cancel(batch, DEPT.water, await signCancellation(d.a.water, d.domain, id)))
        .to.be.revertedWithCustomError(d.transfers, "TransfersWrongStatus")
        .withArgs(id, STATUS.Submitted);
      const other = batchOf({ nonce: 2n });
      const otherId = await d.transfers.hashBatch(other);
      const sig = await signCancellation(d.a.water, d.domain, otherId);
      await d.transfers.cancel(other, DEPT.water, sig);
      await expect(d.transfers.cancel(other, DEPT.water, sig)).to.be.revertedWithCustomError(d.transfers, "TransfersCancelled").withArgs(otherId);
      const child = batchOf({ parents: [otherId], nonce: 3n });
      await expect(d.transfers.submit(child, await cosign(d.a.water, d.domain, TRANSFER_TYPES, child), await cosign(d.a.tax, d.domain, TRANSFER_TYPES, child)))
        .to.be.revertedWithCustomError(d.transfers, "TransfersUnknown")
        .withArgs(otherId);
    });
  });

  // Review finding "History the verifiers need" (issue 9): TransferSubmitted and TransferReconciled did not name
  // the keys that signed.
  describe("signing keys in the events (issue 9: history the verifiers need)", () => {
    it("names the key that signed for each party in TransferSubmitted and TransferReconciled", async () => {
      const d = await loadFixture(transfersDeployed);
      const batch = batchOf();
      const id = await d.transfers.hashBatch(batch);
      await expect(d.transfers.submit(batch, await cosign(d.a.water, d.domain, TRANSFER_TYPES, batch), await cosign(d.a.tax2, d.domain, TRANSFER_TYPES, batch)))
        .to.emit(d.transfers, "TransferSubmitted")
        .withArgs(id, DEPT.water, DEPT.tax, batch.category, batch.period, batch.recordCount, batch.totalFen, batch.recordsRoot, batch.payloadHash, [], d.a.water.address, d.a.tax2.address);
      const rec = reconciliationOf(id);
      await expect(d.transfers.reconcile(rec, await cosign(d.a.water, d.domain, RECONCILIATION_TYPES, rec), await cosign(d.a.tax, d.domain, RECONCILIATION_TYPES, rec)))
        .to.emit(d.transfers, "TransferReconciled")
        .withArgs(id, rec.collectedCount, rec.collectedFen, rec.resultsRoot, anyValue, d.a.water.address, d.a.tax.address);
    });
  });
});
