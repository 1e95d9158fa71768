import { expect } from "chai";
import { ethers, network } from "hardhat";
import { loadFixture, mine, time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { TypedDataEncoder, type TypedDataDomain, type TypedDataField } from "ethers";
import { deployedWithDepartments, DEPT, LOG_ID, RESOURCE, type Deployment } from "./fixture";
import { codeId, ROLES } from "../../node/chain/ids";
import {
  AGREEMENT_CANCELLATION_TYPES,
  AGREEMENT_REVOCATION_TYPES,
  AGREEMENT_STATUS_TYPES,
  AGREEMENT_TYPES,
  AgreementStatus,
  CONSENT_TYPES,
  DISPUTE_TYPES,
  DOMAIN_NAMES,
  RECONCILIATION_TYPES,
  REVOCATION_TYPES,
  TRANSFER_TYPES,
  domainOf,
  type AgreementStatusChange,
  type AgreementTerms,
} from "../../node/chain/typed-data";
import { MockERC1271Wallet__factory } from "../../typechain-types";

/** The contract's Status enum. */
const Status = { None: 0n, Active: 1n, Suspended: 2n, Revoked: 3n } as const;

const DAY = 86_400n;
const PURPOSE = ethers.id("collect water fees with the tax bureau");

/** Terms of water sharing its fee records with tax for a day from `from`, with `overrides`. */
function waterToTax(from: bigint, overrides: Partial<AgreementTerms> = {}): AgreementTerms {
  return {
    provider: DEPT.water,
    consumer: DEPT.tax,
    resource: RESOURCE.waterFees,
    purposeHash: PURPOSE,
    quota: 1000n,
    validFrom: from,
    validUntil: from + DAY,
    nonce: 1n,
    meteringLog: LOG_ID,
    ...overrides,
  };
}

async function agreementsDomain(d: Deployment): Promise<TypedDataDomain> {
  return domainOf(DOMAIN_NAMES.agreements, d.chainId, await d.agreements.getAddress());
}

/** `signer`'s department signature on `terms` in `domain` (the agreements contract's by default). */
async function sign(d: Deployment, signer: HardhatEthersSigner, terms: AgreementTerms, domain?: TypedDataDomain) {
  const signature = await signer.signTypedData(domain ?? (await agreementsDomain(d)), AGREEMENT_TYPES, terms);
  return { signer: signer.address, signature };
}

/** Activates `terms` signed by water and tax (from a stranger's account); returns the agreement id. */
async function activateWaterToTax(d: Deployment, terms: AgreementTerms): Promise<string> {
  await d.agreements.connect(d.a.stranger).activate(terms, await sign(d, d.a.water, terms), await sign(d, d.a.tax, terms));
  return d.agreements.hashTerms(terms);
}

/** `signer`'s department signature on the revocation of agreement `agreementId`, in `domain` (the agreements contract's by default). */
async function signRevocation(d: Deployment, signer: HardhatEthersSigner, agreementId: string, domain?: TypedDataDomain) {
  const signature = await signer.signTypedData(domain ?? (await agreementsDomain(d)), AGREEMENT_REVOCATION_TYPES, { agreementId });
  return { signer: signer.address, signature };
}

/** Revokes agreement `id` by water's signature, relayed by a stranger. */
async function revokeByWater(d: Deployment, id: string) {
  return d.agreements.connect(d.a.stranger).revoke(id, await signRevocation(d, d.a.water, id));
}

/** `signer`'s signature on `change`, in `domain` (the agreements contract's by default). */
async function signStatusChange(d: Deployment, signer: HardhatEthersSigner, change: AgreementStatusChange, domain?: TypedDataDomain) {
  return signer.signTypedData(domain ?? (await agreementsDomain(d)), AGREEMENT_STATUS_TYPES, change);
}

/** The next change of agreement `id` to `status`: its nonce is the agreement's count of status changes so far. */
async function nextChange(
  d: Deployment,
  id: string,
  status: AgreementStatusChange["status"],
  reasonHash = ethers.ZeroHash,
): Promise<AgreementStatusChange> {
  return { agreementId: id, status, reasonHash, nonce: (await d.agreements.agreement(id)).statusChanges };
}

/** The regulator suspends agreement `id` for `reasonHash`, relayed by a stranger. */
async function suspendByRegulator(d: Deployment, id: string, reasonHash = ethers.id("audit")) {
  const sig = await signStatusChange(d, d.a.regulator, await nextChange(d, id, AgreementStatus.Suspended, reasonHash));
  return d.agreements.connect(d.a.stranger).suspend(id, reasonHash, d.a.regulator.address, sig);
}

/** The regulator resumes agreement `id`, relayed by a stranger. */
async function resumeByRegulator(d: Deployment, id: string) {
  const sig = await signStatusChange(d, d.a.regulator, await nextChange(d, id, AgreementStatus.Active));
  return d.agreements.connect(d.a.stranger).resume(id, d.a.regulator.address, sig);
}

interface WithAgreement extends Deployment {
  id: string;
  terms: AgreementTerms;
}

/** The fixture deployment with one active water → tax agreement, valid from the next hour for a day. */
async function withActiveAgreement(): Promise<WithAgreement> {
  const d = await deployedWithDepartments();
  const terms = waterToTax(BigInt(await time.latest()) + 3600n);
  return { ...d, terms, id: await activateWaterToTax(d, terms) };
}

describe("SharingAgreements", () => {
  describe("activate", () => {
    it("activates terms co-signed by both departments, submitted by any account", async () => {
      const d = await loadFixture(deployedWithDepartments);
      const terms = waterToTax(BigInt(await time.latest()));
      const ps = await sign(d, d.a.water, terms);
      const cs = await sign(d, d.a.tax2, terms);
      const id = TypedDataEncoder.hashStruct("Agreement", AGREEMENT_TYPES, terms);
      expect(await d.agreements.connect(d.a.stranger).activate.staticCall(terms, ps, cs)).to.equal(id);

      await expect(d.agreements.connect(d.a.stranger).activate(terms, ps, cs))
        .to.emit(d.agreements, "AgreementActivated")
        .withArgs(id, DEPT.water, DEPT.tax, RESOURCE.waterFees, PURPOSE, 1000n, terms.validFrom, terms.validUntil, d.a.water.address, d.a.tax2.address, LOG_ID);
      const a = await d.agreements.agreement(id);
      expect(a.provider).to.equal(DEPT.water);
      expect(a.consumer).to.equal(DEPT.tax);
      expect(a.resource).to.equal(RESOURCE.waterFees);
      expect(a.quota).to.equal(1000n);
      expect(a.used).to.equal(0n);
      expect(a.validFrom).to.equal(terms.validFrom);
      expect(a.validUntil).to.equal(terms.validUntil);
      expect(a.status).to.equal(Status.Active);
    });

    it("treats terms differing only by nonce as distinct agreements", async () => {
      const d = await loadFixture(deployedWithDepartments);
      const from = BigInt(await time.latest());
      const first = await activateWaterToTax(d, waterToTax(from, { nonce: 1n }));
      const second = await activateWaterToTax(d, waterToTax(from, { nonce: 2n }));
      expect(first).to.not.equal(second);
      expect((await d.agreements.agreement(second)).status).to.equal(Status.Active);
    });

    it("accepts a window that ends one second after the activating block", async () => {
      const d = await loadFixture(deployedWithDepartments);
      const at = BigInt(await time.latest()) + 100n;
      const terms = waterToTax(at - DAY, { validUntil: at + 1n });
      const ps = await sign(d, d.a.water, terms);
      const cs = await sign(d, d.a.tax, terms);
      await time.setNextBlockTimestamp(at);
      await expect(d.agreements.activate(terms, ps, cs)).to.emit(d.agreements, "AgreementActivated");
    });

    describe("refuses invalid terms", () => {
      it("refuses a zero quota", async () => {
        const d = await loadFixture(deployedWithDepartments);
        const terms = waterToTax(BigInt(await time.latest()), { quota: 0n });
        await expect(d.agreements.activate(terms, await sign(d, d.a.water, terms), await sign(d, d.a.tax, terms)))
          .to.be.revertedWithCustomError(d.agreements, "AgreementsInvalidTerms")
          .withArgs(0n, terms.validFrom, terms.validUntil);
      });

      it("refuses an empty window (validUntil equal to validFrom)", async () => {
        const d = await loadFixture(deployedWithDepartments);
        const from = BigInt(await time.latest()) + DAY;
        const terms = waterToTax(from, { validUntil: from });
        await expect(d.agreements.activate(terms, await sign(d, d.a.water, terms), await sign(d, d.a.tax, terms)))
          .to.be.revertedWithCustomError(d.agreements, "AgreementsInvalidTerms")
          .withArgs(terms.quota, from, from);
      });

      it("refuses a reversed window (validUntil before validFrom)", async () => {
        const d = await loadFixture(deployedWithDepartments);
        const from = BigInt(await time.latest()) + DAY;
        const terms = waterToTax(from, { validUntil: from - 1n });
        await expect(d.agreements.activate(terms, await sign(d, d.a.water, terms), await sign(d, d.a.tax, terms)))
          .to.be.revertedWithCustomError(d.agreements, "AgreementsInvalidTerms")
          .withArgs(terms.quota, from, from - 1n);
      });

      it("refuses a window that is over by the activating block (validUntil is exclusive)", async () => {
        const d = await loadFixture(deployedWithDepartments);
        const at = BigInt(await time.latest()) + 100n;
        const terms = waterToTax(at - DAY, { validUntil: at });
        const ps = await sign(d, d.a.water, terms);
        const cs = await sign(d, d.a.tax, terms);
        await time.setNextBlockTimestamp(at);
        await expect(d.agreements.activate(terms, ps, cs))
          .to.be.revertedWithCustomError(d.agreements, "AgreementsInvalidTerms")
          .withArgs(terms.quota, at - DAY, at);
      });
    });

    it("refuses a provider that does not own the resource", async () => {
      const d = await loadFixture(deployedWithDepartments);
      const terms = waterToTax(BigInt(await time.latest()), { provider: DEPT.civil, consumer: DEPT.tax });
      await expect(d.agreements.activate(terms, await sign(d, d.a.civil, terms), await sign(d, d.a.tax, terms)))
        .to.be.revertedWithCustomError(d.agreements, "AgreementsProviderNotOwner")
        .withArgs(RESOURCE.waterFees, DEPT.civil);
    });

    it("refuses a resource catalogued as not shareable", async () => {
      const d = await loadFixture(deployedWithDepartments);
      const terms = waterToTax(BigInt(await time.latest()), { provider: DEPT.cad, resource: RESOURCE.secret });
      await expect(d.agreements.activate(terms, await sign(d, d.a.cad, terms), await sign(d, d.a.tax, terms)))
        .to.be.revertedWithCustomError(d.agreements, "AgreementsResourceNotShareable")
        .withArgs(RESOURCE.secret);
    });

    it("refuses an unknown resource with the catalog's error", async () => {
      const d = await loadFixture(deployedWithDepartments);
      const unknown = codeId("res.nowhere");
      const terms = waterToTax(BigInt(await time.latest()), { resource: unknown });
      await expect(d.agreements.activate(terms, await sign(d, d.a.water, terms), await sign(d, d.a.tax, terms)))
        .to.be.revertedWithCustomError(d.catalog, "CatalogUnknownResource")
        .withArgs(unknown);
    });

    it("refuses a replay of the same signed terms", async () => {
      const d = await loadFixture(deployedWithDepartments);
      const terms = waterToTax(BigInt(await time.latest()));
      const ps = await sign(d, d.a.water, terms);
      const cs = await sign(d, d.a.tax, terms);
      await d.agreements.activate(terms, ps, cs);
      const id = await d.agreements.hashTerms(terms);
      await expect(d.agreements.connect(d.a.stranger).activate(terms, ps, cs))
        .to.be.revertedWithCustomError(d.agreements, "AgreementsAlreadyExists")
        .withArgs(id);
    });

    it("refuses to reactivate revoked terms", async () => {
      const d = await loadFixture(withActiveAgreement);
      await revokeByWater(d, d.id);
      await expect(d.agreements.activate(d.terms, await sign(d, d.a.water, d.terms), await sign(d, d.a.tax, d.terms)))
        .to.be.revertedWithCustomError(d.agreements, "AgreementsAlreadyExists")
        .withArgs(d.id);
    });

    describe("refuses signatures that do not bind both departments to these terms here", () => {
      it("refuses a signature by a removed signer", async () => {
        const d = await loadFixture(deployedWithDepartments);
        const terms = waterToTax(BigInt(await time.latest()));
        const ps = await sign(d, d.a.water, terms);
        const cs = await sign(d, d.a.tax2, terms);
        await d.registry.connect(d.a.tax).removeSigner(DEPT.tax, d.a.tax2.address);
        await expect(d.agreements.activate(terms, ps, cs))
          .to.be.revertedWithCustomError(d.agreements, "DclInvalidSignature")
          .withArgs(DEPT.tax, d.a.tax2.address);
      });

      it("refuses a signature by another department's signer", async () => {
        const d = await loadFixture(deployedWithDepartments);
        const terms = waterToTax(BigInt(await time.latest()));
        await expect(d.agreements.activate(terms, await sign(d, d.a.water, terms), await sign(d, d.a.civil, terms)))
          .to.be.revertedWithCustomError(d.agreements, "DclInvalidSignature")
          .withArgs(DEPT.tax, d.a.civil.address);
      });

      it("refuses a signature by a signer of an inactive department", async () => {
        const d = await loadFixture(deployedWithDepartments);
        const terms = waterToTax(BigInt(await time.latest()));
        const ps = await sign(d, d.a.water, terms);
        const cs = await sign(d, d.a.tax, terms);
        await d.registry.connect(d.a.governor).setDepartmentActive(DEPT.water, false);
        await expect(d.agreements.activate(terms, ps, cs))
          .to.be.revertedWithCustomError(d.agreements, "DclInvalidSignature")
          .withArgs(DEPT.water, d.a.water.address);
      });

      it("refuses a consumer that is not a registered department", async () => {
        const d = await loadFixture(deployedWithDepartments);
        const unknown = codeId("cq.nowhere");
        const terms = waterToTax(BigInt(await time.latest()), { consumer: unknown });
        await expect(d.agreements.activate(terms, await sign(d, d.a.water, terms), await sign(d, d.a.stranger, terms)))
          .to.be.revertedWithCustomError(d.agreements, "DclInvalidSignature")
          .withArgs(unknown, d.a.stranger.address);
      });

      it("refuses swapped signatures", async () => {
        const d = await loadFixture(deployedWithDepartments);
        const terms = waterToTax(BigInt(await time.latest()));
        const ps = await sign(d, d.a.water, terms);
        const cs = await sign(d, d.a.tax, terms);
        await expect(d.agreements.activate(terms, cs, ps))
          .to.be.revertedWithCustomError(d.agreements, "DclInvalidSignature")
          .withArgs(DEPT.water, d.a.tax.address);
      });

      it("refuses signature bytes swapped between the named signers", async () => {
        const d = await loadFixture(deployedWithDepartments);
        const terms = waterToTax(BigInt(await time.latest()));
        const ps = await sign(d, d.a.water, terms);
        const cs = await sign(d, d.a.tax, terms);
        await expect(d.agreements.activate(terms, { ...ps, signature: cs.signature }, { ...cs, signature: ps.signature }))
          .to.be.revertedWithCustomError(d.agreements, "DclInvalidSignature")
          .withArgs(DEPT.water, d.a.water.address);
      });

      it("refuses a signature by one key presented as another key of the same department", async () => {
        const d = await loadFixture(deployedWithDepartments);
        const terms = waterToTax(BigInt(await time.latest()));
        const byTax2 = await sign(d, d.a.tax2, terms);
        await expect(d.agreements.activate(terms, await sign(d, d.a.water, terms), { signer: d.a.tax.address, signature: byTax2.signature }))
          .to.be.revertedWithCustomError(d.agreements, "DclInvalidSignature")
          .withArgs(DEPT.tax, d.a.tax.address);
      });

      it("refuses a signature on other terms", async () => {
        const d = await loadFixture(deployedWithDepartments);
        const terms = waterToTax(BigInt(await time.latest()));
        const cs = await sign(d, d.a.tax, { ...terms, quota: 10n });
        await expect(d.agreements.activate(terms, await sign(d, d.a.water, terms), cs))
          .to.be.revertedWithCustomError(d.agreements, "DclInvalidSignature")
          .withArgs(DEPT.tax, d.a.tax.address);
      });

      it("refuses a signature made for another chain id", async () => {
        const d = await loadFixture(deployedWithDepartments);
        const terms = waterToTax(BigInt(await time.latest()));
        const otherChain = domainOf(DOMAIN_NAMES.agreements, d.chainId + 1n, await d.agreements.getAddress());
        await expect(d.agreements.activate(terms, await sign(d, d.a.water, terms, otherChain), await sign(d, d.a.tax, terms)))
          .to.be.revertedWithCustomError(d.agreements, "DclInvalidSignature")
          .withArgs(DEPT.water, d.a.water.address);
      });

      it("refuses a signature made for another contract address", async () => {
        const d = await loadFixture(deployedWithDepartments);
        const terms = waterToTax(BigInt(await time.latest()));
        const otherContract = domainOf(DOMAIN_NAMES.agreements, d.chainId, await d.consents.getAddress());
        await expect(d.agreements.activate(terms, await sign(d, d.a.water, terms), await sign(d, d.a.tax, terms, otherContract)))
          .to.be.revertedWithCustomError(d.agreements, "DclInvalidSignature")
          .withArgs(DEPT.tax, d.a.tax.address);
      });

      it("refuses a malformed signature", async () => {
        const d = await loadFixture(deployedWithDepartments);
        const terms = waterToTax(BigInt(await time.latest()));
        await expect(d.agreements.activate(terms, { signer: d.a.water.address, signature: "0x1234" }, await sign(d, d.a.tax, terms)))
          .to.be.revertedWithCustomError(d.agreements, "DclInvalidSignature")
          .withArgs(DEPT.water, d.a.water.address);
      });
    });
  });

  describe("revoke", () => {
    it("revokes on a provider signer's signature relayed by any account, after which the agreement is no longer active", async () => {
      const d = await loadFixture(withActiveAgreement);
      const sig = await signRevocation(d, d.a.water, d.id);
      await expect(d.agreements.connect(d.a.stranger).revoke(d.id, sig))
        .to.emit(d.agreements, "AgreementRevoked")
        .withArgs(d.id, d.a.water.address);
      expect((await d.agreements.agreement(d.id)).status).to.equal(Status.Revoked);
      expect(await d.agreements.isActiveAt(d.id, d.terms.validFrom)).to.equal(false);
    });

    it("lets the provider revoke a suspended agreement", async () => {
      const d = await loadFixture(withActiveAgreement);
      await suspendByRegulator(d, d.id);
      await revokeByWater(d, d.id);
      expect((await d.agreements.agreement(d.id)).status).to.equal(Status.Revoked);
    });

    it("refuses the consumer's signature, even relayed by the provider's own key", async () => {
      const d = await loadFixture(withActiveAgreement);
      await expect(d.agreements.connect(d.a.water).revoke(d.id, await signRevocation(d, d.a.tax, d.id)))
        .to.be.revertedWithCustomError(d.agreements, "DclInvalidSignature")
        .withArgs(DEPT.water, d.a.tax.address);
    });

    it("refuses a stranger's, the regulator's and the governor's signature", async () => {
      const d = await loadFixture(withActiveAgreement);
      for (const signer of [d.a.stranger, d.a.regulator, d.a.governor]) {
        await expect(d.agreements.connect(d.a.stranger).revoke(d.id, await signRevocation(d, signer, d.id)))
          .to.be.revertedWithCustomError(d.agreements, "DclInvalidSignature")
          .withArgs(DEPT.water, signer.address);
      }
      expect((await d.agreements.agreement(d.id)).status).to.equal(Status.Active);
    });

    it("refuses a signature by a removed signer", async () => {
      const d = await loadFixture(withActiveAgreement);
      await d.registry.connect(d.a.water).addSigner(DEPT.water, d.a.subject.address);
      const sig = await signRevocation(d, d.a.subject, d.id);
      await d.registry.connect(d.a.water).removeSigner(DEPT.water, d.a.subject.address);
      await expect(d.agreements.connect(d.a.stranger).revoke(d.id, sig))
        .to.be.revertedWithCustomError(d.agreements, "DclInvalidSignature")
        .withArgs(DEPT.water, d.a.subject.address);
    });

    it("refuses a signature named for another signer of the provider", async () => {
      const d = await loadFixture(withActiveAgreement);
      await d.registry.connect(d.a.water).addSigner(DEPT.water, d.a.subject.address);
      const sig = await signRevocation(d, d.a.subject, d.id);
      await expect(d.agreements.connect(d.a.stranger).revoke(d.id, { ...sig, signer: d.a.water.address }))
        .to.be.revertedWithCustomError(d.agreements, "DclInvalidSignature")
        .withArgs(DEPT.water, d.a.water.address);
    });

    it("refuses a revocation signed for another agreement, another contract or another chain", async () => {
      const d = await loadFixture(withActiveAgreement);
      const other = await activateWaterToTax(d, { ...d.terms, nonce: 2n });
      const domain = await agreementsDomain(d);
      const elsewhere = [
        await signRevocation(d, d.a.water, other),
        await signRevocation(d, d.a.water, d.id, { ...domain, verifyingContract: await d.consents.getAddress() }),
        await signRevocation(d, d.a.water, d.id, { ...domain, chainId: d.chainId + 1n }),
      ];
      for (const sig of elsewhere) {
        await expect(d.agreements.connect(d.a.stranger).revoke(d.id, sig))
          .to.be.revertedWithCustomError(d.agreements, "DclInvalidSignature")
          .withArgs(DEPT.water, d.a.water.address);
      }
      expect((await d.agreements.agreement(d.id)).status).to.equal(Status.Active);
    });

    it("refuses the provider's activation signature as a revocation", async () => {
      const d = await loadFixture(withActiveAgreement);
      await expect(d.agreements.connect(d.a.stranger).revoke(d.id, await sign(d, d.a.water, d.terms)))
        .to.be.revertedWithCustomError(d.agreements, "DclInvalidSignature")
        .withArgs(DEPT.water, d.a.water.address);
    });

    it("refuses to revoke twice", async () => {
      const d = await loadFixture(withActiveAgreement);
      const sig = await signRevocation(d, d.a.water, d.id);
      await d.agreements.connect(d.a.stranger).revoke(d.id, sig);
      await expect(d.agreements.connect(d.a.stranger).revoke(d.id, sig))
        .to.be.revertedWithCustomError(d.agreements, "AgreementsWrongStatus")
        .withArgs(d.id, Status.Revoked);
    });

    it("refuses an unknown agreement", async () => {
      const d = await loadFixture(withActiveAgreement);
      const unknown = ethers.id("no such agreement");
      await expect(d.agreements.connect(d.a.stranger).revoke(unknown, await signRevocation(d, d.a.water, unknown)))
        .to.be.revertedWithCustomError(d.agreements, "AgreementsUnknown")
        .withArgs(unknown);
    });
  });

  describe("suspend and resume", () => {
    it("suspends with a reason and resumes on the regulator's signatures, relayed by any account", async () => {
      const d = await loadFixture(withActiveAgreement);
      const reason = ethers.id("over-collection suspected");
      const suspension: AgreementStatusChange = { agreementId: d.id, status: AgreementStatus.Suspended, reasonHash: reason, nonce: 0n };
      const sig = await signStatusChange(d, d.a.regulator, suspension);
      await expect(d.agreements.connect(d.a.stranger).suspend(d.id, reason, d.a.regulator.address, sig))
        .to.emit(d.agreements, "AgreementSuspended")
        .withArgs(d.id, reason, d.a.regulator.address);
      let a = await d.agreements.agreement(d.id);
      expect([a.status, a.statusChanges]).to.deep.equal([Status.Suspended, 1n]);
      expect(await d.agreements.isActiveAt(d.id, d.terms.validFrom)).to.equal(false);

      const resumption: AgreementStatusChange = { agreementId: d.id, status: AgreementStatus.Active, reasonHash: ethers.ZeroHash, nonce: 1n };
      const rsig = await signStatusChange(d, d.a.regulator, resumption);
      await expect(d.agreements.connect(d.a.water).resume(d.id, d.a.regulator.address, rsig))
        .to.emit(d.agreements, "AgreementResumed")
        .withArgs(d.id, d.a.regulator.address);
      a = await d.agreements.agreement(d.id);
      expect([a.status, a.statusChanges]).to.deep.equal([Status.Active, 2n]);
      expect(await d.agreements.isActiveAt(d.id, d.terms.validFrom)).to.equal(true);
    });

    it("starts an agreement at zero status changes, and does not count its revocation", async () => {
      const d = await loadFixture(withActiveAgreement);
      expect((await d.agreements.agreement(d.id)).statusChanges).to.equal(0n);
      await suspendByRegulator(d, d.id);
      await revokeByWater(d, d.id);
      expect((await d.agreements.agreement(d.id)).statusChanges).to.equal(1n);
    });

    it("accepts a regulator that is a contract wallet (EIP-1271)", async () => {
      const d = await loadFixture(withActiveAgreement);
      const wallet = await new MockERC1271Wallet__factory(d.a.deployer).deploy(d.a.regulator.address);
      const walletAddress = await wallet.getAddress();
      await d.registry.connect(d.a.governor).grantRole(ROLES.regulator, walletAddress);
      const change = await nextChange(d, d.id, AgreementStatus.Suspended, ethers.id("audit"));
      await wallet.connect(d.a.regulator).approve(TypedDataEncoder.hash(await agreementsDomain(d), AGREEMENT_STATUS_TYPES, change));
      await expect(d.agreements.connect(d.a.stranger).suspend(d.id, change.reasonHash, walletAddress, "0x"))
        .to.emit(d.agreements, "AgreementSuspended")
        .withArgs(d.id, change.reasonHash, walletAddress);
    });

    it("refuses a suspension signed by a key without the regulator role", async () => {
      const d = await loadFixture(withActiveAgreement);
      for (const signer of [d.a.governor, d.a.water, d.a.stranger]) {
        const sig = await signStatusChange(d, signer, await nextChange(d, d.id, AgreementStatus.Suspended));
        await expect(d.agreements.connect(d.a.regulator).suspend(d.id, ethers.ZeroHash, signer.address, sig))
          .to.be.revertedWithCustomError(d.agreements, "DclMissingRole")
          .withArgs(ROLES.regulator, signer.address);
      }
      expect((await d.agreements.agreement(d.id)).status).to.equal(Status.Active);
    });

    it("refuses a resumption signed by a key without the regulator role, or by one whose role was revoked", async () => {
      const d = await loadFixture(withActiveAgreement);
      await suspendByRegulator(d, d.id);
      const change = await nextChange(d, d.id, AgreementStatus.Active);
      await expect(d.agreements.connect(d.a.stranger).resume(d.id, d.a.water.address, await signStatusChange(d, d.a.water, change)))
        .to.be.revertedWithCustomError(d.agreements, "DclMissingRole")
        .withArgs(ROLES.regulator, d.a.water.address);
      const sig = await signStatusChange(d, d.a.regulator, change);
      await d.registry.connect(d.a.governor).revokeRole(ROLES.regulator, d.a.regulator.address);
      await expect(d.agreements.connect(d.a.stranger).resume(d.id, d.a.regulator.address, sig))
        .to.be.revertedWithCustomError(d.agreements, "DclMissingRole")
        .withArgs(ROLES.regulator, d.a.regulator.address);
      expect((await d.agreements.agreement(d.id)).status).to.equal(Status.Suspended);
    });

    it("refuses a signature by another key than the named regulator", async () => {
      const d = await loadFixture(withActiveAgreement);
      const sig = await signStatusChange(d, d.a.stranger, await nextChange(d, d.id, AgreementStatus.Suspended));
      await expect(d.agreements.connect(d.a.stranger).suspend(d.id, ethers.ZeroHash, d.a.regulator.address, sig))
        .to.be.revertedWithCustomError(d.agreements, "AgreementsInvalidRegulatorSignature")
        .withArgs(d.a.regulator.address);
    });

    it("refuses a suspension signed for another agreement, another contract or another chain", async () => {
      const d = await loadFixture(withActiveAgreement);
      const other = await activateWaterToTax(d, { ...d.terms, nonce: 2n });
      const change = await nextChange(d, d.id, AgreementStatus.Suspended);
      const domain = await agreementsDomain(d);
      const elsewhere = [
        await signStatusChange(d, d.a.regulator, { ...change, agreementId: other }),
        await signStatusChange(d, d.a.regulator, change, { ...domain, verifyingContract: await d.consents.getAddress() }),
        await signStatusChange(d, d.a.regulator, change, { ...domain, chainId: d.chainId + 1n }),
      ];
      for (const sig of elsewhere) {
        await expect(d.agreements.connect(d.a.stranger).suspend(d.id, change.reasonHash, d.a.regulator.address, sig))
          .to.be.revertedWithCustomError(d.agreements, "AgreementsInvalidRegulatorSignature")
          .withArgs(d.a.regulator.address);
      }
      expect((await d.agreements.agreement(d.id)).status).to.equal(Status.Active);
    });

    it("refuses a suspension submitted with another reason than the one signed", async () => {
      const d = await loadFixture(withActiveAgreement);
      const sig = await signStatusChange(d, d.a.regulator, await nextChange(d, d.id, AgreementStatus.Suspended, ethers.id("audit")));
      await expect(d.agreements.connect(d.a.stranger).suspend(d.id, ethers.id("something else"), d.a.regulator.address, sig))
        .to.be.revertedWithCustomError(d.agreements, "AgreementsInvalidRegulatorSignature")
        .withArgs(d.a.regulator.address);
    });

    it("refuses a resumption signature as a suspension, and a suspension signature as a resumption", async () => {
      const d = await loadFixture(withActiveAgreement);
      const resumeSig = await signStatusChange(d, d.a.regulator, await nextChange(d, d.id, AgreementStatus.Active));
      await expect(d.agreements.connect(d.a.stranger).suspend(d.id, ethers.ZeroHash, d.a.regulator.address, resumeSig))
        .to.be.revertedWithCustomError(d.agreements, "AgreementsInvalidRegulatorSignature")
        .withArgs(d.a.regulator.address);
      await suspendByRegulator(d, d.id);
      const suspendSig = await signStatusChange(d, d.a.regulator, await nextChange(d, d.id, AgreementStatus.Suspended));
      await expect(d.agreements.connect(d.a.stranger).resume(d.id, d.a.regulator.address, suspendSig))
        .to.be.revertedWithCustomError(d.agreements, "AgreementsInvalidRegulatorSignature")
        .withArgs(d.a.regulator.address);
    });

    it("refuses to replay an old suspension after a resumption (the nonce counts status changes)", async () => {
      const d = await loadFixture(withActiveAgreement);
      const reason = ethers.id("audit");
      const first = await signStatusChange(d, d.a.regulator, await nextChange(d, d.id, AgreementStatus.Suspended, reason));
      await d.agreements.connect(d.a.stranger).suspend(d.id, reason, d.a.regulator.address, first);
      await resumeByRegulator(d, d.id);
      await expect(d.agreements.connect(d.a.stranger).suspend(d.id, reason, d.a.regulator.address, first))
        .to.be.revertedWithCustomError(d.agreements, "AgreementsInvalidRegulatorSignature")
        .withArgs(d.a.regulator.address);
      expect((await d.agreements.agreement(d.id)).status).to.equal(Status.Active);
      await expect(suspendByRegulator(d, d.id, reason)).to.emit(d.agreements, "AgreementSuspended");
      expect((await d.agreements.agreement(d.id)).statusChanges).to.equal(3n);
    });

    it("refuses to replay an old resumption after a second suspension", async () => {
      const d = await loadFixture(withActiveAgreement);
      await suspendByRegulator(d, d.id);
      const resumeSig = await signStatusChange(d, d.a.regulator, await nextChange(d, d.id, AgreementStatus.Active));
      await d.agreements.connect(d.a.stranger).resume(d.id, d.a.regulator.address, resumeSig);
      await suspendByRegulator(d, d.id);
      await expect(d.agreements.connect(d.a.stranger).resume(d.id, d.a.regulator.address, resumeSig))
        .to.be.revertedWithCustomError(d.agreements, "AgreementsInvalidRegulatorSignature")
        .withArgs(d.a.regulator.address);
      expect((await d.agreements.agreement(d.id)).status).to.equal(Status.Suspended);
    });

    it("refuses to suspend an agreement that is not active", async () => {
      const d = await loadFixture(withActiveAgreement);
      await suspendByRegulator(d, d.id);
      await expect(suspendByRegulator(d, d.id)).to.be.revertedWithCustomError(d.agreements, "AgreementsWrongStatus").withArgs(d.id, Status.Suspended);
      await revokeByWater(d, d.id);
      await expect(suspendByRegulator(d, d.id)).to.be.revertedWithCustomError(d.agreements, "AgreementsWrongStatus").withArgs(d.id, Status.Revoked);
    });

    it("refuses to resume an agreement that is not suspended", async () => {
      const d = await loadFixture(withActiveAgreement);
      await expect(resumeByRegulator(d, d.id)).to.be.revertedWithCustomError(d.agreements, "AgreementsWrongStatus").withArgs(d.id, Status.Active);
      await revokeByWater(d, d.id);
      await expect(resumeByRegulator(d, d.id)).to.be.revertedWithCustomError(d.agreements, "AgreementsWrongStatus").withArgs(d.id, Status.Revoked);
    });

    it("refuses an unknown agreement", async () => {
      const d = await loadFixture(withActiveAgreement);
      const unknown = ethers.id("no such agreement");
      const suspension: AgreementStatusChange = { agreementId: unknown, status: AgreementStatus.Suspended, reasonHash: ethers.ZeroHash, nonce: 0n };
      const ssig = await signStatusChange(d, d.a.regulator, suspension);
      await expect(d.agreements.suspend(unknown, ethers.ZeroHash, d.a.regulator.address, ssig))
        .to.be.revertedWithCustomError(d.agreements, "AgreementsUnknown")
        .withArgs(unknown);
      const rsig = await signStatusChange(d, d.a.regulator, { ...suspension, status: AgreementStatus.Active });
      await expect(d.agreements.resume(unknown, d.a.regulator.address, rsig))
        .to.be.revertedWithCustomError(d.agreements, "AgreementsUnknown")
        .withArgs(unknown);
    });
  });

  describe("reportUsage", () => {
    it("records cumulative usage reported by a signer of the log's operator", async () => {
      const d = await loadFixture(withActiveAgreement);
      await expect(d.agreements.connect(d.a.bigdata).reportUsage(LOG_ID, [d.id], [10n]))
        .to.emit(d.agreements, "UsageReported")
        .withArgs(d.id, LOG_ID, 10n);
      expect((await d.agreements.agreement(d.id)).used).to.equal(10n);
      await d.agreements.connect(d.a.bigdata).reportUsage(LOG_ID, [d.id], [25n]);
      expect((await d.agreements.agreement(d.id)).used).to.equal(25n);
    });

    it("records several agreements in one report", async () => {
      const d = await loadFixture(withActiveAgreement);
      const other = await activateWaterToTax(d, { ...d.terms, nonce: 2n });
      const tx = d.agreements.connect(d.a.bigdata).reportUsage(LOG_ID, [d.id, other], [3n, 7n]);
      await expect(tx).to.emit(d.agreements, "UsageReported").withArgs(d.id, LOG_ID, 3n);
      await expect(tx).to.emit(d.agreements, "UsageReported").withArgs(other, LOG_ID, 7n);
      expect((await d.agreements.agreement(d.id)).used).to.equal(3n);
      expect((await d.agreements.agreement(other)).used).to.equal(7n);
    });

    it("accepts an empty report and a repeated report of the same usage", async () => {
      const d = await loadFixture(withActiveAgreement);
      const op = d.agreements.connect(d.a.bigdata);
      await expect(op.reportUsage(LOG_ID, [], [])).to.not.emit(d.agreements, "UsageReported");
      await op.reportUsage(LOG_ID, [d.id], [5n]);
      await expect(op.reportUsage(LOG_ID, [d.id], [5n])).to.emit(d.agreements, "UsageReported").withArgs(d.id, LOG_ID, 5n);
    });

    it("refuses decreasing usage", async () => {
      const d = await loadFixture(withActiveAgreement);
      const op = d.agreements.connect(d.a.bigdata);
      await op.reportUsage(LOG_ID, [d.id], [10n]);
      await expect(op.reportUsage(LOG_ID, [d.id], [9n]))
        .to.be.revertedWithCustomError(d.agreements, "AgreementsUsageDecreased")
        .withArgs(d.id, 9n, 10n);
      expect((await d.agreements.agreement(d.id)).used).to.equal(10n);
    });

    it("records usage at the quota without flagging it", async () => {
      const d = await loadFixture(withActiveAgreement);
      await expect(d.agreements.connect(d.a.bigdata).reportUsage(LOG_ID, [d.id], [1000n])).to.not.emit(d.agreements, "AgreementQuotaExceeded");
      expect((await d.agreements.agreement(d.id)).used).to.equal(1000n);
    });

    it("records usage beyond the quota and flags it for the regulator", async () => {
      const d = await loadFixture(withActiveAgreement);
      const tx = d.agreements.connect(d.a.bigdata).reportUsage(LOG_ID, [d.id], [1001n]);
      await expect(tx).to.emit(d.agreements, "UsageReported").withArgs(d.id, LOG_ID, 1001n);
      await expect(tx).to.emit(d.agreements, "AgreementQuotaExceeded").withArgs(d.id, 1000n, 1001n);
      expect((await d.agreements.agreement(d.id)).used).to.equal(1001n);
    });

    it("records usage of a revoked agreement (a report is never refused for the agreement's status)", async () => {
      const d = await loadFixture(withActiveAgreement);
      await revokeByWater(d, d.id);
      await d.agreements.connect(d.a.bigdata).reportUsage(LOG_ID, [d.id], [4n]);
      expect((await d.agreements.agreement(d.id)).used).to.equal(4n);
    });

    it("refuses a signer of a department that does not operate the log", async () => {
      const d = await loadFixture(withActiveAgreement);
      for (const caller of [d.a.water, d.a.tax, d.a.yuzhong, d.a.governor]) {
        await expect(d.agreements.connect(caller).reportUsage(LOG_ID, [d.id], [1n]))
          .to.be.revertedWithCustomError(d.agreements, "DclNotDepartmentSigner")
          .withArgs(DEPT.bigdata, caller.address);
      }
    });

    it("refuses an unknown log with the anchors' error", async () => {
      const d = await loadFixture(withActiveAgreement);
      const unknown = codeId("log.nowhere");
      await expect(d.agreements.connect(d.a.bigdata).reportUsage(unknown, [d.id], [1n]))
        .to.be.revertedWithCustomError(d.anchors, "AnchorsUnknownLog")
        .withArgs(unknown);
    });

    it("refuses ids and usages of different lengths", async () => {
      const d = await loadFixture(withActiveAgreement);
      await expect(d.agreements.connect(d.a.bigdata).reportUsage(LOG_ID, [d.id], [1n, 2n])).to.be.revertedWithCustomError(
        d.agreements,
        "AgreementsLengthMismatch",
      );
    });

    describe("one metering log per agreement", () => {
      const OTHER_LOG = codeId("log.cq.yuzhong.0");
      const SECOND_BIGDATA_LOG = codeId("log.cq.bigdata.1");

      /** The active agreement, plus a second log run by Yuzhong and a second log run by the big-data bureau. */
      async function withTwoMoreLogs() {
        const d = await withActiveAgreement();
        await d.anchors.connect(d.a.governor).registerLog(OTHER_LOG, DEPT.yuzhong);
        await d.anchors.connect(d.a.governor).registerLog(SECOND_BIGDATA_LOG, DEPT.bigdata);
        return d;
      }

      it("meters an agreement by the log its co-signed terms name", async () => {
        const d = await loadFixture(withTwoMoreLogs);
        expect(await d.agreements.meteringLog(d.id)).to.equal(LOG_ID);
        expect((await d.agreements.agreement(d.id)).meteringLog).to.equal(LOG_ID);
        await d.agreements.connect(d.a.bigdata).reportUsage(LOG_ID, [d.id], [10n]);
        expect((await d.agreements.agreement(d.id)).used).to.equal(10n);
      });

      it("closes 'metering hijack': another log cannot report first and take over, nor falsify usage", async () => {
        const d = await loadFixture(withTwoMoreLogs);
        // Before, the first log to report bound the agreement: Yuzhong could set used to 2^64-1 (a false
        // over-quota) or keep it at 0 (hiding overuse), and the real log was then refused for good.
        for (const used of [2n ** 64n - 1n, 0n]) {
          await expect(d.agreements.connect(d.a.yuzhong).reportUsage(OTHER_LOG, [d.id], [used]))
            .to.be.revertedWithCustomError(d.agreements, "AgreementsWrongLog")
            .withArgs(d.id, OTHER_LOG, LOG_ID);
        }
        await expect(d.agreements.connect(d.a.bigdata).reportUsage(SECOND_BIGDATA_LOG, [d.id], [20n]))
          .to.be.revertedWithCustomError(d.agreements, "AgreementsWrongLog")
          .withArgs(d.id, SECOND_BIGDATA_LOG, LOG_ID);
        expect((await d.agreements.agreement(d.id)).used).to.equal(0n);
        await d.agreements.connect(d.a.bigdata).reportUsage(LOG_ID, [d.id], [10n]);
        expect((await d.agreements.agreement(d.id)).used).to.equal(10n);
      });

      it("lets another log meter the agreement that names it, and refuses a report that mixes in one it does not meter", async () => {
        const d = await loadFixture(withTwoMoreLogs);
        const other = await activateWaterToTax(d, { ...d.terms, nonce: 2n, meteringLog: OTHER_LOG });
        await expect(d.agreements.connect(d.a.yuzhong).reportUsage(OTHER_LOG, [other], [3n]))
          .to.emit(d.agreements, "UsageReported")
          .withArgs(other, OTHER_LOG, 3n);
        expect(await d.agreements.meteringLog(other)).to.equal(OTHER_LOG);
        await expect(d.agreements.connect(d.a.yuzhong).reportUsage(OTHER_LOG, [other, d.id], [4n, 11n]))
          .to.be.revertedWithCustomError(d.agreements, "AgreementsWrongLog")
          .withArgs(d.id, OTHER_LOG, LOG_ID);
        expect((await d.agreements.agreement(other)).used).to.equal(3n);
      });

      it("refuses terms naming an unknown or retired log as metering log", async () => {
        const d = await loadFixture(withTwoMoreLogs);
        const unknown = codeId("log.nowhere");
        const t1 = waterToTax(BigInt(await time.latest()), { meteringLog: unknown });
        await expect(d.agreements.activate(t1, await sign(d, d.a.water, t1), await sign(d, d.a.tax, t1)))
          .to.be.revertedWithCustomError(d.agreements, "AgreementsInvalidMeteringLog").withArgs(unknown);
        await d.anchors.connect(d.a.governor).retireLog(OTHER_LOG, ethers.ZeroHash);
        const t2 = waterToTax(BigInt(await time.latest()), { meteringLog: OTHER_LOG, nonce: 3n });
        await expect(d.agreements.activate(t2, await sign(d, d.a.water, t2), await sign(d, d.a.tax, t2)))
          .to.be.revertedWithCustomError(d.agreements, "AgreementsInvalidMeteringLog").withArgs(OTHER_LOG);
      });

      it("refuses meteringLog() of an unknown agreement", async () => {
        const d = await loadFixture(withTwoMoreLogs);
        const unknown = ethers.id("no such agreement");
        await expect(d.agreements.meteringLog(unknown)).to.be.revertedWithCustomError(d.agreements, "AgreementsUnknown").withArgs(unknown);
      });
    });

    it("refuses the whole report when it names an unknown agreement", async () => {
      const d = await loadFixture(withActiveAgreement);
      const unknown = ethers.id("no such agreement");
      await expect(d.agreements.connect(d.a.bigdata).reportUsage(LOG_ID, [d.id, unknown], [1n, 1n]))
        .to.be.revertedWithCustomError(d.agreements, "AgreementsUnknown")
        .withArgs(unknown);
      expect((await d.agreements.agreement(d.id)).used).to.equal(0n);
    });
  });

  describe("isActiveAt and agreement", () => {
    it("is true from validFrom (inclusive) until validUntil (exclusive)", async () => {
      const d = await loadFixture(withActiveAgreement);
      const { validFrom, validUntil } = d.terms;
      expect(await d.agreements.isActiveAt(d.id, validFrom - 1n)).to.equal(false);
      expect(await d.agreements.isActiveAt(d.id, validFrom)).to.equal(true);
      expect(await d.agreements.isActiveAt(d.id, validFrom + 3600n)).to.equal(true);
      expect(await d.agreements.isActiveAt(d.id, validUntil - 1n)).to.equal(true);
      expect(await d.agreements.isActiveAt(d.id, validUntil)).to.equal(false);
      expect(await d.agreements.isActiveAt(d.id, validUntil + DAY)).to.equal(false);
    });

    it("is false for an unknown agreement", async () => {
      const d = await loadFixture(withActiveAgreement);
      expect(await d.agreements.isActiveAt(ethers.id("no such agreement"), d.terms.validFrom)).to.equal(false);
    });

    it("refuses agreement() of an unknown id", async () => {
      const d = await loadFixture(withActiveAgreement);
      const unknown = ethers.id("no such agreement");
      await expect(d.agreements.agreement(unknown)).to.be.revertedWithCustomError(d.agreements, "AgreementsUnknown").withArgs(unknown);
    });

    it("is bound to the registry, catalog and anchors it was deployed with", async () => {
      const d = await loadFixture(deployedWithDepartments);
      expect(await d.agreements.registry()).to.equal(await d.registry.getAddress());
      expect(await d.agreements.catalog()).to.equal(await d.catalog.getAddress());
      expect(await d.agreements.anchors()).to.equal(await d.anchors.getAddress());
    });
  });

  describe("EIP-712 types and domains shared with node/chain/typed-data.ts", () => {
    const typeHash = (types: Record<string, TypedDataField[]>, primary: string) =>
      ethers.keccak256(ethers.toUtf8Bytes(TypedDataEncoder.from(types).encodeType(primary)));

    it("hashes terms as the EIP-712 struct hash of the shared Agreement type", async () => {
      const d = await loadFixture(deployedWithDepartments);
      const terms = waterToTax(1_700_000_000n, { quota: 2n ** 64n - 1n, nonce: 42n });
      expect(await d.agreements.hashTerms(terms)).to.equal(TypedDataEncoder.hashStruct("Agreement", AGREEMENT_TYPES, terms));
    });

    it("matches every *_TYPEHASH constant to the type string of the shared types", async () => {
      const d = await loadFixture(deployedWithDepartments);
      expect(await d.agreements.AGREEMENT_TYPEHASH()).to.equal(typeHash(AGREEMENT_TYPES, "Agreement"));
      expect(await d.agreements.AGREEMENT_REVOCATION_TYPEHASH()).to.equal(typeHash(AGREEMENT_REVOCATION_TYPES, "AgreementRevocation"));
      expect(await d.agreements.AGREEMENT_STATUS_TYPEHASH()).to.equal(typeHash(AGREEMENT_STATUS_TYPES, "AgreementStatusChange"));
      expect(await d.consents.CONSENT_TYPEHASH()).to.equal(typeHash(CONSENT_TYPES, "Consent"));
      expect(await d.consents.REVOCATION_TYPEHASH()).to.equal(typeHash(REVOCATION_TYPES, "Revocation"));
      expect(await d.transfers.TRANSFER_TYPEHASH()).to.equal(typeHash(TRANSFER_TYPES, "Transfer"));
      expect(await d.transfers.RECONCILIATION_TYPEHASH()).to.equal(typeHash(RECONCILIATION_TYPES, "Reconciliation"));
      expect(await d.transfers.DISPUTE_TYPEHASH()).to.equal(typeHash(DISPUTE_TYPES, "Dispute"));
    });

    it("matches each contract's domainSeparator() to the shared domain (name, version 1, chain id, address)", async () => {
      const d = await loadFixture(deployedWithDepartments);
      const contracts = { agreements: d.agreements, consents: d.consents, transfers: d.transfers } as const;
      for (const key of Object.keys(contracts) as (keyof typeof contracts)[]) {
        const [c, name] = [contracts[key], DOMAIN_NAMES[key]];
        const domain = domainOf(name, d.chainId, await c.getAddress());
        expect(await c.domainSeparator(), key).to.equal(TypedDataEncoder.hashDomain(domain));
      }
    });
  });

  // Review finding "Signed terms without a deadline" (issue 9): terms one side signed and abandoned could be
  // activated by the other side any time later (300 days in the review's test).
  describe("cancel (issue 9: signed terms without a deadline)", () => {
    async function signCancellation(d: Deployment, signer: HardhatEthersSigner, agreementId: string, domain?: TypedDataDomain) {
      const signature = await signer.signTypedData(domain ?? (await agreementsDomain(d)), AGREEMENT_CANCELLATION_TYPES, { agreementId });
      return { signer: signer.address, signature };
    }

    /** Terms valid for 400 days that water signed; tax has not. */
    async function signedByWaterOnly() {
      const d = await loadFixture(deployedWithDepartments);
      const from = BigInt(await time.latest());
      const terms = waterToTax(from, { validUntil: from + 400n * DAY });
      return { d, terms, ps: await sign(d, d.a.water, terms), id: await d.agreements.hashTerms(terms) };
    }

    it("activates terms one side signed 300 days earlier unless that side cancelled them: activation then reverts", async () => {
      const { d, terms, ps, id } = await signedByWaterOnly();
      await expect(d.agreements.connect(d.a.stranger).cancel(terms, DEPT.water, await signCancellation(d, d.a.water, id)))
        .to.emit(d.agreements, "AgreementCancelled")
        .withArgs(id, DEPT.water, d.a.water.address);
      expect(await d.agreements.cancelledAt(id)).to.equal(await time.latest());
      await time.increase(300n * DAY);
      await expect(d.agreements.connect(d.a.tax).activate(terms, ps, await sign(d, d.a.tax, terms)))
        .to.be.revertedWithCustomError(d.agreements, "AgreementsCancelled")
        .withArgs(id);
      await expect(d.agreements.agreement(id)).to.be.revertedWithCustomError(d.agreements, "AgreementsUnknown").withArgs(id);
    });

    it("lets the other party cancel too, by any of its signers", async () => {
      const { d, terms, ps, id } = await signedByWaterOnly();
      await expect(d.agreements.cancel(terms, DEPT.tax, await signCancellation(d, d.a.tax2, id)))
        .to.emit(d.agreements, "AgreementCancelled")
        .withArgs(id, DEPT.tax, d.a.tax2.address);
      await expect(d.agreements.activate(terms, ps, await sign(d, d.a.tax, terms)))
        .to.be.revertedWithCustomError(d.agreements, "AgreementsCancelled")
        .withArgs(id);
    });

    it("refuses a cancellation in the name of a department that is not a party", async () => {
      const { d, terms, id } = await signedByWaterOnly();
      await expect(d.agreements.cancel(terms, DEPT.civil, await signCancellation(d, d.a.civil, id)))
        .to.be.revertedWithCustomError(d.agreements, "AgreementsNotParty")
        .withArgs(id, DEPT.civil);
    });

    it("refuses a cancellation not signed by a signer of the named party, or signed over something else", async () => {
      const { d, terms, id } = await signedByWaterOnly();
      const domain = await agreementsDomain(d);
      const wrong = [
        await signCancellation(d, d.a.tax, id), // the other party's key, in water's name
        await signCancellation(d, d.a.water, ethers.id("another agreement")),
        await signCancellation(d, d.a.water, id, { ...domain, verifyingContract: await d.transfers.getAddress() }),
        await signRevocation(d, d.a.water, id),
        await sign(d, d.a.water, terms),
      ];
      for (const sig of wrong) {
        await expect(d.agreements.cancel(terms, DEPT.water, sig))
          .to.be.revertedWithCustomError(d.agreements, "DclInvalidSignature")
          .withArgs(DEPT.water, sig.signer);
      }
      expect(await d.agreements.cancelledAt(id)).to.equal(0n);
    });

    it("refuses to cancel active terms (revoke them instead), or to cancel twice", async () => {
      const d = await loadFixture(withActiveAgreement);
      await expect(d.agreements.cancel(d.terms, DEPT.water, await signCancellation(d, d.a.water, d.id)))
        .to.be.revertedWithCustomError(d.agreements, "AgreementsWrongStatus")
        .withArgs(d.id, Status.Active);
      const other = { ...d.terms, nonce: 9n };
      const otherId = await d.agreements.hashTerms(other);
      const sig = await signCancellation(d, d.a.water, otherId);
      await d.agreements.cancel(other, DEPT.water, sig);
      await expect(d.agreements.cancel(other, DEPT.water, sig))
        .to.be.revertedWithCustomError(d.agreements, "AgreementsCancelled")
        .withArgs(otherId);
    });
  });

  // Review finding "History the verifiers need" (issue 9): isActiveAt answered with today's status, so a
  // revoked agreement read as inactive at a past moment when it was active.
  describe("isActiveAt for the past (issue 9: history the verifiers need)", () => {
    /** Water → tax terms whose window opened a day before `t0`, activated at block time `t0`. */
    async function activatedAt() {
      const d = await loadFixture(deployedWithDepartments);
      const t0 = BigInt(await time.latest()) + 100n;
      const terms = waterToTax(t0 - DAY, { validUntil: t0 + 30n * DAY });
      const ps = await sign(d, d.a.water, terms);
      const cs = await sign(d, d.a.tax, terms);
      await time.setNextBlockTimestamp(t0);
      await d.agreements.activate(terms, ps, cs);
      return { d, t0, terms, id: await d.agreements.hashTerms(terms) };
    }

    /** Signs the next status change of `id` now, and mines it at block time `at`. */
    async function changeAt(d: Deployment, id: string, to: "suspend" | "resume", at: bigint) {
      const sig = await signStatusChange(d, d.a.regulator, await nextChange(d, id, to === "suspend" ? AgreementStatus.Suspended : AgreementStatus.Active, to === "suspend" ? ethers.id("audit") : ethers.ZeroHash));
      await time.setNextBlockTimestamp(at);
      if (to === "suspend") await d.agreements.suspend(id, ethers.id("audit"), d.a.regulator.address, sig);
      else await d.agreements.resume(id, d.a.regulator.address, sig);
    }

    it("answers for a past moment with the status then, after a suspension, a resumption and the revocation", async () => {
      const { d, t0, id } = await activatedAt();
      await changeAt(d, id, "suspend", t0 + 100n);
      await changeAt(d, id, "resume", t0 + 200n);
      const revocation = await signRevocation(d, d.a.water, id);
      await time.setNextBlockTimestamp(t0 + 300n);
      await d.agreements.revoke(id, revocation);

      const expected: [bigint, boolean][] = [
        [t0 - 1n, false], // in the window, but not yet on chain
        [t0, true], // the activation's second
        [t0 + 50n, true],
        [t0 + 100n, true], // the suspension's second counts as before it
        [t0 + 150n, false],
        [t0 + 200n, true], // the resumption's second: active during part of it
        [t0 + 250n, true],
        [t0 + 300n, true], // the revocation's second counts as before it
        [t0 + 301n, false],
        [t0 + DAY, false],
      ];
      for (const [at, active] of expected) expect(await d.agreements.isActiveAt(id, at), `at t0${at >= t0 ? "+" : ""}${at - t0}`).to.equal(active);

      const a = await d.agreements.agreement(id);
      expect([a.activatedAt, a.revokedAt, a.statusChanges]).to.deep.equal([t0, t0 + 300n, 2n]);
      expect([await d.agreements.statusChangedAt(id, 0), await d.agreements.statusChangedAt(id, 1)]).to.deep.equal([t0 + 100n, t0 + 200n]);
    });

    it("finds the status among many changes, and keeps answering the same after later ones", async () => {
      const { d, t0, id } = await activatedAt();
      const changes = 9; // suspended after odd counts, active after even ones
      for (let k = 1; k <= changes; k++) await changeAt(d, id, k % 2 === 1 ? "suspend" : "resume", t0 + 1000n * BigInt(k));
      for (let k = 0; k <= changes; k++) {
        const between = t0 + 1000n * BigInt(k) + 500n;
        expect(await d.agreements.isActiveAt(id, between), `after ${k} changes`).to.equal(k % 2 === 0);
      }
      expect(await d.agreements.isActiveAt(id, t0 + 30n * DAY - 1n)).to.equal(false); // still suspended at the window's end
    });

    it("counts a second with two changes as active when either state in it was active", async () => {
      const { d, t0, id } = await activatedAt();
      // Suspended and resumed in one block: active before and after.
      await network.provider.send("evm_setAutomine", [false]);
      try {
        const s1 = await signStatusChange(d, d.a.regulator, { agreementId: id, status: AgreementStatus.Suspended, reasonHash: ethers.id("a"), nonce: 0n });
        const r1 = await signStatusChange(d, d.a.regulator, { agreementId: id, status: AgreementStatus.Active, reasonHash: ethers.ZeroHash, nonce: 1n });
        await d.agreements.suspend(id, ethers.id("a"), d.a.regulator.address, s1);
        await d.agreements.resume(id, d.a.regulator.address, r1);
        await time.setNextBlockTimestamp(t0 + 100n);
        await mine();
        // Suspended at t0 + 200, then resumed and suspended again in one block at t0 + 300.
        await network.provider.send("evm_setAutomine", [true]);
        await changeAt(d, id, "suspend", t0 + 200n);
        await network.provider.send("evm_setAutomine", [false]);
        const r2 = await signStatusChange(d, d.a.regulator, { agreementId: id, status: AgreementStatus.Active, reasonHash: ethers.ZeroHash, nonce: 3n });
        const s2 = await signStatusChange(d, d.a.regulator, { agreementId: id, status: AgreementStatus.Suspended, reasonHash: ethers.id("b"), nonce: 4n });
        await d.agreements.resume(id, d.a.regulator.address, r2);
        await d.agreements.suspend(id, ethers.id("b"), d.a.regulator.address, s2);
        await time.setNextBlockTimestamp(t0 + 300n);
        await mine();
      } finally {
        await network.provider.send("evm_setAutomine", [true]);
      }
      expect((await d.agreements.agreement(id)).statusChanges).to.equal(5n);
      const expected: [bigint, boolean][] = [[t0 + 100n, true], [t0 + 150n, true], [t0 + 250n, false], [t0 + 300n, true], [t0 + 350n, false]];
      for (const [at, active] of expected) expect(await d.agreements.isActiveAt(id, at), `at t0+${at - t0}`).to.equal(active);
    });

    it("refuses statusChangedAt beyond the changes made", async () => {
      const { d, id } = await activatedAt();
      await expect(d.agreements.statusChangedAt(id, 0)).to.be.revertedWithCustomError(d.agreements, "AgreementsNoStatusChange").withArgs(id, 0);
    });
  });
});
