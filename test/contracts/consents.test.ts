import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { deployedWithDepartments, DEPT, RESOURCE } from "./fixture";
import {
  CONSENT_CANCELLATION_TYPES,
  CONSENT_TYPES,
  ConsentKind,
  DOMAIN_NAMES,
  domainOf,
  REGULATOR_REVOCATION_TYPES,
  REVOCATION_TYPES,
  type ConsentTerms,
} from "../../node/chain/typed-data";
import { ROLES } from "../../node/chain/ids";

const DAY = 86_400n;

// A made-up resident ID number and the per-subject secret the recording department keeps off chain.
// The chain only ever sees the commitment keccak256(secret ‖ id): a bare hash of an ID number could be
// brute-forced over the ~10^10 valid numbers, a salted one cannot.
const ID_NUMBER = "110105194912310021";
const SUBJECT_SECRET = ethers.id("per-subject secret held by the civil affairs bureau");
const SUBJECT = ethers.keccak256(ethers.concat([SUBJECT_SECRET, ethers.toUtf8Bytes(ID_NUMBER)]));

async function consentsDeployed() {
  const d = await deployedWithDepartments();
  const domain = domainOf(DOMAIN_NAMES.consents, d.chainId, await d.consents.getAddress());
  return { ...d, domain };
}

async function now(): Promise<bigint> {
  return BigInt(await time.latest());
}

/** Terms of a consent recorded by the civil affairs bureau for the water bureau; `over` replaces fields. */
function termsAt(t: bigint, over: Partial<ConsentTerms> = {}): ConsentTerms {
  return {
    subject: SUBJECT,
    grantee: DEPT.water,
    resource: RESOURCE.residents,
    purposeHash: ethers.id("check residence for a water fee relief"),
    kind: ConsentKind.Separate,
    validUntil: t + 30n * DAY,
    evidenceHash: ethers.id("signed consent form 2026-0001"),
    recorder: DEPT.civil,
    subjectSigner: ethers.ZeroAddress,
    nonce: 1n,
    ...over,
  };
}

type Fixture = Awaited<ReturnType<typeof consentsDeployed>>;

function signConsent(d: Fixture, key: HardhatEthersSigner, terms: ConsentTerms, domain = d.domain) {
  return key.signTypedData(domain, CONSENT_TYPES, terms);
}

function signRevocation(d: Fixture, key: HardhatEthersSigner, consentId: string, domain = d.domain) {
  return key.signTypedData(domain, REVOCATION_TYPES, { consentId });
}

/** `key`'s signature on `terms` in the name of the recording department (the civil affairs signer by default). */
async function recorderSig(d: Fixture, terms: ConsentTerms, key = d.a.civil, domain = d.domain) {
  return { signer: key.address, signature: await signConsent(d, key, terms, domain) };
}

/** `key`'s Revocation of consent `consentId` in the name of the recording department. */
async function recorderRevocation(d: Fixture, consentId: string, key = d.a.civil, domain = d.domain) {
  return { signer: key.address, signature: await signRevocation(d, key, consentId, domain) };
}

/** Grants `terms` signed by the civil affairs signer, relayed by a stranger; returns the consent id. */
async function grant(d: Fixture, terms: ConsentTerms, subjectSignature = "0x"): Promise<string> {
  await d.consents.connect(d.a.stranger).grant(terms, await recorderSig(d, terms), subjectSignature);
  return d.consents.hashTerms(terms);
}

/** Grants `terms` as `grant` does, at block time `at`. */
async function grantAt(d: Fixture, terms: ConsentTerms, at: bigint, subjectSignature = "0x"): Promise<string> {
  const sig = await recorderSig(d, terms);
  await time.setNextBlockTimestamp(at);
  await d.consents.connect(d.a.stranger).grant(terms, sig, subjectSignature);
  return d.consents.hashTerms(terms);
}

/** Revokes `terms` with the civil affairs signer's Revocation, relayed by a stranger. */
async function revoke(d: Fixture, terms: ConsentTerms) {
  return d.consents.connect(d.a.stranger).revoke(terms, await recorderRevocation(d, await d.consents.hashTerms(terms)));
}

describe("ConsentRegistry", () => {
  describe("grant", () => {
    it("records a consent signed by a signer of the recording department, relayed by any account, without the subject's signature", async () => {
      const d = await loadFixture(consentsDeployed);
      const at = (await now()) + 10n;
      const terms = termsAt(at);
      const id = await grantAt(d, terms, at);
      const c = await d.consents.consent(id);
      expect(c.grantedAt).to.equal(at);
      expect(c.validUntil).to.equal(terms.validUntil);
      expect(c.revokedAt).to.equal(0n);
    });

    it("records a consent the subject signed with their own key (EIP-712 Consent)", async () => {
      const d = await loadFixture(consentsDeployed);
      const terms = termsAt(await now(), { subjectSigner: d.a.subject.address, kind: ConsentKind.Explicit });
      const sig = await signConsent(d, d.a.subject, terms);
      const id = await d.consents.hashTerms(terms);
      await expect(d.consents.connect(d.a.stranger).grant(terms, await recorderSig(d, terms), sig)).to.emit(d.consents, "ConsentGranted");
      expect((await d.consents.consent(id)).grantedAt).to.equal(await now());
    });

    it("uses the EIP-712 struct hash of the terms as the consent id", async () => {
      const d = await loadFixture(consentsDeployed);
      const terms = termsAt(await now(), { subjectSigner: d.a.subject.address });
      const offChain = ethers.TypedDataEncoder.from(CONSENT_TYPES).hashStruct("Consent", terms);
      expect(await d.consents.hashTerms(terms)).to.equal(offChain);
      expect(await d.consents.CONSENT_TYPEHASH()).to.equal(
        ethers.id(ethers.TypedDataEncoder.from(CONSENT_TYPES).encodeType("Consent")),
      );
      expect(await d.consents.REVOCATION_TYPEHASH()).to.equal(
        ethers.id(ethers.TypedDataEncoder.from(REVOCATION_TYPES).encodeType("Revocation")),
      );
    });

    it("emits ConsentGranted with the id, the subject and every field of the terms", async () => {
      const d = await loadFixture(consentsDeployed);
      const terms = termsAt(await now(), { subjectSigner: d.a.subject.address, kind: ConsentKind.Explicit, nonce: 7n });
      const sig = await signConsent(d, d.a.subject, terms);
      const receipt = await (await d.consents.grant(terms, await recorderSig(d, terms), sig)).wait();
      const logs = receipt!.logs.map((l) => d.consents.interface.parseLog(l)).filter((l) => l?.name === "ConsentGranted");
      expect(logs).to.have.length(1);
      const ev = logs[0]!;
      expect(ev.args.id).to.equal(await d.consents.hashTerms(terms));
      expect(ev.args.subject).to.equal(SUBJECT);
      expect(ev.args.terms.toObject()).to.deep.equal({
        subject: terms.subject,
        grantee: terms.grantee,
        resource: terms.resource,
        purposeHash: terms.purposeHash,
        kind: BigInt(terms.kind),
        validUntil: terms.validUntil,
        evidenceHash: terms.evidenceHash,
        recorder: terms.recorder,
        subjectSigner: terms.subjectSigner,
        nonce: terms.nonce,
      });
    });

    it("refuses a grant signed by a key that is not a signer of the recording department", async () => {
      const d = await loadFixture(consentsDeployed);
      const terms = termsAt(await now());
      await expect(d.consents.grant(terms, await recorderSig(d, terms, d.a.stranger), "0x"))
        .to.be.revertedWithCustomError(d.consents, "DclInvalidSignature")
        .withArgs(DEPT.civil, d.a.stranger.address);
      // A signer of the grantee department cannot record a consent in its own favour either.
      await expect(d.consents.connect(d.a.water).grant(terms, await recorderSig(d, terms, d.a.water), "0x"))
        .to.be.revertedWithCustomError(d.consents, "DclInvalidSignature")
        .withArgs(DEPT.civil, d.a.water.address);
    });

    it("does not accept a recorder signer's transaction in place of their signature", async () => {
      const d = await loadFixture(consentsDeployed);
      const terms = termsAt(await now());
      const byStranger = await recorderSig(d, terms, d.a.stranger);
      await expect(d.consents.connect(d.a.civil).grant(terms, { ...byStranger, signer: d.a.civil.address }, "0x"))
        .to.be.revertedWithCustomError(d.consents, "DclInvalidSignature")
        .withArgs(DEPT.civil, d.a.civil.address);
    });

    it("refuses a grant signed by a signer of a deactivated recording department", async () => {
      const d = await loadFixture(consentsDeployed);
      const terms = termsAt(await now());
      await d.registry.connect(d.a.governor).setDepartmentActive(DEPT.civil, false);
      await expect(d.consents.grant(terms, await recorderSig(d, terms), "0x"))
        .to.be.revertedWithCustomError(d.consents, "DclInvalidSignature")
        .withArgs(DEPT.civil, d.a.civil.address);
    });

    it("refuses terms the relay altered after the recorder signed", async () => {
      const d = await loadFixture(consentsDeployed);
      const terms = termsAt(await now());
      const sig = await recorderSig(d, terms);
      await expect(d.consents.grant({ ...terms, grantee: DEPT.tax }, sig, "0x"))
        .to.be.revertedWithCustomError(d.consents, "DclInvalidSignature")
        .withArgs(DEPT.civil, d.a.civil.address);
    });

    it("refuses a recorder signature made for another contract or another chain id", async () => {
      const d = await loadFixture(consentsDeployed);
      const terms = termsAt(await now());
      const otherContract = domainOf(DOMAIN_NAMES.consents, d.chainId, await d.agreements.getAddress());
      const otherChain = domainOf(DOMAIN_NAMES.consents, d.chainId + 1n, await d.consents.getAddress());
      for (const domain of [otherContract, otherChain]) {
        await expect(d.consents.grant(terms, await recorderSig(d, terms, d.a.civil, domain), "0x"))
          .to.be.revertedWithCustomError(d.consents, "DclInvalidSignature")
          .withArgs(DEPT.civil, d.a.civil.address);
      }
    });

    it("refuses the recorder's Revocation signature presented as its Consent signature", async () => {
      const d = await loadFixture(consentsDeployed);
      const terms = termsAt(await now());
      const revocation = await recorderRevocation(d, await d.consents.hashTerms(terms));
      await expect(d.consents.grant(terms, revocation, "0x"))
        .to.be.revertedWithCustomError(d.consents, "DclInvalidSignature")
        .withArgs(DEPT.civil, d.a.civil.address);
    });

    it("refuses an expiry that is not after the block time, and accepts one a second later", async () => {
      const d = await loadFixture(consentsDeployed);
      const at = (await now()) + 100n;
      const expiringNow = termsAt(at, { validUntil: at });
      const expiringNowSig = await recorderSig(d, expiringNow);
      await time.setNextBlockTimestamp(at);
      await expect(d.consents.grant(expiringNow, expiringNowSig, "0x"))
        .to.be.revertedWithCustomError(d.consents, "ConsentsInvalidExpiry")
        .withArgs(at);
      const past = termsAt(at, { validUntil: at - DAY });
      await expect(d.consents.grant(past, await recorderSig(d, past), "0x"))
        .to.be.revertedWithCustomError(d.consents, "ConsentsInvalidExpiry")
        .withArgs(at - DAY);
      const t = (await now()) + 10n;
      const oneSecond = termsAt(t, { validUntil: t + 1n });
      const oneSecondSig = await recorderSig(d, oneSecond);
      await time.setNextBlockTimestamp(t);
      await expect(d.consents.grant(oneSecond, oneSecondSig, "0x")).to.emit(
        d.consents,
        "ConsentGranted",
      );
    });

    it("refuses a replay of the same terms, while another nonce makes a distinct consent", async () => {
      const d = await loadFixture(consentsDeployed);
      const terms = termsAt(await now());
      const sig = await recorderSig(d, terms);
      await d.consents.grant(terms, sig, "0x");
      const id = await d.consents.hashTerms(terms);
      await expect(d.consents.connect(d.a.stranger).grant(terms, sig, "0x"))
        .to.be.revertedWithCustomError(d.consents, "ConsentsAlreadyGranted")
        .withArgs(id);
      const again = { ...terms, nonce: 2n };
      await expect(d.consents.grant(again, await recorderSig(d, again), "0x"))
        .to.emit(d.consents, "ConsentGranted")
        .withArgs(await d.consents.hashTerms(again), SUBJECT, anyValue, d.a.civil.address);
    });

    describe("subject signature", () => {
      async function subjectTerms() {
        const d = await loadFixture(consentsDeployed);
        const terms = termsAt(await now(), { subjectSigner: d.a.subject.address });
        return { d, terms };
      }

      it("refuses terms naming a subject key when the signature is missing", async () => {
        const { d, terms } = await subjectTerms();
        await expect(d.consents.grant(terms, await recorderSig(d, terms), "0x"))
          .to.be.revertedWithCustomError(d.consents, "ConsentsInvalidSubjectSignature")
          .withArgs(d.a.subject.address);
      });

      it("refuses a malformed subject signature", async () => {
        const { d, terms } = await subjectTerms();
        const garbage = ethers.hexlify(new Uint8Array(65).fill(7));
        await expect(d.consents.grant(terms, await recorderSig(d, terms), garbage))
          .to.be.revertedWithCustomError(d.consents, "ConsentsInvalidSubjectSignature")
          .withArgs(d.a.subject.address);
      });

      it("refuses a signature made by another key than the subject's", async () => {
        const { d, terms } = await subjectTerms();
        const sig = await signConsent(d, d.a.stranger, terms);
        await expect(d.consents.grant(terms, await recorderSig(d, terms), sig))
          .to.be.revertedWithCustomError(d.consents, "ConsentsInvalidSubjectSignature")
          .withArgs(d.a.subject.address);
      });

      it("refuses terms the recorder altered after the subject signed", async () => {
        const { d, terms } = await subjectTerms();
        const sig = await signConsent(d, d.a.subject, terms);
        const longer = { ...terms, validUntil: terms.validUntil + 365n * DAY };
        await expect(d.consents.grant(longer, await recorderSig(d, longer), sig))
          .to.be.revertedWithCustomError(d.consents, "ConsentsInvalidSubjectSignature")
          .withArgs(d.a.subject.address);
      });

      it("refuses a subject signature when the terms name no subject key", async () => {
        const d = await loadFixture(consentsDeployed);
        const terms = termsAt(await now());
        const sig = await signConsent(d, d.a.subject, terms);
        await expect(d.consents.grant(terms, await recorderSig(d, terms), sig))
          .to.be.revertedWithCustomError(d.consents, "ConsentsInvalidSubjectSignature")
          .withArgs(ethers.ZeroAddress);
      });

      it("refuses a subject signature made for another chain id", async () => {
        const { d, terms } = await subjectTerms();
        const otherChain = domainOf(DOMAIN_NAMES.consents, d.chainId + 1n, await d.consents.getAddress());
        const sig = await signConsent(d, d.a.subject, terms, otherChain);
        await expect(d.consents.grant(terms, await recorderSig(d, terms), sig))
          .to.be.revertedWithCustomError(d.consents, "ConsentsInvalidSubjectSignature")
          .withArgs(d.a.subject.address);
      });

      it("refuses a subject signature made for another contract address", async () => {
        const { d, terms } = await subjectTerms();
        const otherContract = domainOf(DOMAIN_NAMES.consents, d.chainId, await d.transfers.getAddress());
        const sig = await signConsent(d, d.a.subject, terms, otherContract);
        await expect(d.consents.grant(terms, await recorderSig(d, terms), sig))
          .to.be.revertedWithCustomError(d.consents, "ConsentsInvalidSubjectSignature")
          .withArgs(d.a.subject.address);
      });
    });
  });

  describe("revoke", () => {
    it("revokes with a recorder signer's Revocation relayed by any account, stamping the block time and naming the signer", async () => {
      const d = await loadFixture(consentsDeployed);
      const terms = termsAt(await now());
      const id = await grantAt(d, terms, (await now()) + 1n);
      const sig = await recorderRevocation(d, id);
      const at = (await now()) + 60n;
      await time.setNextBlockTimestamp(at);
      await expect(d.consents.connect(d.a.stranger).revoke(terms, sig))
        .to.emit(d.consents, "ConsentRevoked")
        .withArgs(id, d.a.civil.address);
      expect((await d.consents.consent(id)).revokedAt).to.equal(at);
    });

    it("refuses a Revocation signed by a key that is not a signer of the recording department", async () => {
      const d = await loadFixture(consentsDeployed);
      const terms = termsAt(await now());
      const id = await grantAt(d, terms, (await now()) + 1n);
      for (const key of [d.a.water, d.a.stranger]) {
        await expect(d.consents.connect(key).revoke(terms, await recorderRevocation(d, id, key)))
          .to.be.revertedWithCustomError(d.consents, "DclInvalidSignature")
          .withArgs(DEPT.civil, key.address);
      }
      expect((await d.consents.consent(id)).revokedAt).to.equal(0n);
    });

    it("refuses a Revocation the recorder signed for another consent", async () => {
      const d = await loadFixture(consentsDeployed);
      const terms = termsAt(await now());
      await grantAt(d, terms, (await now()) + 1n);
      await expect(d.consents.revoke(terms, await recorderRevocation(d, ethers.id("another consent"))))
        .to.be.revertedWithCustomError(d.consents, "DclInvalidSignature")
        .withArgs(DEPT.civil, d.a.civil.address);
    });

    it("refuses the recorder's Consent signature presented as a Revocation", async () => {
      const d = await loadFixture(consentsDeployed);
      const terms = termsAt(await now());
      await grantAt(d, terms, (await now()) + 1n);
      await expect(d.consents.revoke(terms, await recorderSig(d, terms)))
        .to.be.revertedWithCustomError(d.consents, "DclInvalidSignature")
        .withArgs(DEPT.civil, d.a.civil.address);
    });

    it("refuses the subject's Revocation presented in the recorder's name", async () => {
      const d = await loadFixture(consentsDeployed);
      const terms = termsAt(await now(), { subjectSigner: d.a.subject.address });
      const id = await grant(d, terms, await signConsent(d, d.a.subject, terms));
      const bySubject = await recorderRevocation(d, id, d.a.subject);
      await expect(d.consents.revoke(terms, bySubject))
        .to.be.revertedWithCustomError(d.consents, "DclInvalidSignature")
        .withArgs(DEPT.civil, d.a.subject.address);
    });

    it("refuses a Revocation made for another contract", async () => {
      const d = await loadFixture(consentsDeployed);
      const terms = termsAt(await now());
      const id = await grantAt(d, terms, (await now()) + 1n);
      const otherContract = domainOf(DOMAIN_NAMES.consents, d.chainId, await d.transfers.getAddress());
      await expect(d.consents.revoke(terms, await recorderRevocation(d, id, d.a.civil, otherContract)))
        .to.be.revertedWithCustomError(d.consents, "DclInvalidSignature")
        .withArgs(DEPT.civil, d.a.civil.address);
    });

    it("refuses to revoke a consent twice, even with a fresh signature by another key", async () => {
      const d = await loadFixture(consentsDeployed);
      await d.registry.connect(d.a.civil).addSigner(DEPT.civil, d.a.stranger.address);
      const terms = termsAt(await now());
      const id = await grantAt(d, terms, (await now()) + 1n);
      const sig = await recorderRevocation(d, id);
      await d.consents.revoke(terms, sig);
      await expect(d.consents.revoke(terms, sig))
        .to.be.revertedWithCustomError(d.consents, "ConsentsAlreadyRevoked")
        .withArgs(id);
      await expect(d.consents.revoke(terms, await recorderRevocation(d, id, d.a.stranger)))
        .to.be.revertedWithCustomError(d.consents, "ConsentsAlreadyRevoked")
        .withArgs(id);
    });

    it("refuses to revoke terms that were never granted", async () => {
      const d = await loadFixture(consentsDeployed);
      const terms = termsAt(await now());
      const id = await d.consents.hashTerms(terms);
      await expect(d.consents.revoke(terms, await recorderRevocation(d, id)))
        .to.be.revertedWithCustomError(d.consents, "ConsentsUnknown")
        .withArgs(id);
    });
  });

  describe("revokeBySubject", () => {
    async function grantedWithSubjectKey() {
      const d = await loadFixture(consentsDeployed);
      const terms = termsAt(await now(), { subjectSigner: d.a.subject.address });
      const id = await grant(d, terms, await signConsent(d, d.a.subject, terms));
      return { d, terms, id };
    }

    it("accepts the subject's Revocation signature submitted by any account, naming the subject's key", async () => {
      const { d, terms, id } = await grantedWithSubjectKey();
      const sig = await signRevocation(d, d.a.subject, id);
      await expect(d.consents.connect(d.a.stranger).revokeBySubject(terms, sig))
        .to.emit(d.consents, "ConsentRevoked")
        .withArgs(id, d.a.subject.address);
      expect((await d.consents.consent(id)).revokedAt).to.equal(await now());
    });

    it("refuses a Revocation signed by another key", async () => {
      const { d, terms, id } = await grantedWithSubjectKey();
      const sig = await signRevocation(d, d.a.civil, id);
      await expect(d.consents.connect(d.a.civil).revokeBySubject(terms, sig))
        .to.be.revertedWithCustomError(d.consents, "ConsentsInvalidSubjectSignature")
        .withArgs(d.a.subject.address);
    });

    it("refuses a Revocation the subject signed for another consent", async () => {
      const { d, terms } = await grantedWithSubjectKey();
      const sig = await signRevocation(d, d.a.subject, ethers.id("another consent"));
      await expect(d.consents.revokeBySubject(terms, sig))
        .to.be.revertedWithCustomError(d.consents, "ConsentsInvalidSubjectSignature")
        .withArgs(d.a.subject.address);
    });

    it("refuses a Revocation for a consent whose terms name no subject key", async () => {
      const d = await loadFixture(consentsDeployed);
      const terms = termsAt(await now());
      const sig = await signRevocation(d, d.a.subject, await grant(d, terms));
      await expect(d.consents.revokeBySubject(terms, sig))
        .to.be.revertedWithCustomError(d.consents, "ConsentsInvalidSubjectSignature")
        .withArgs(ethers.ZeroAddress);
    });

    it("refuses a second revocation by the subject", async () => {
      const { d, terms, id } = await grantedWithSubjectKey();
      const sig = await signRevocation(d, d.a.subject, id);
      await d.consents.revokeBySubject(terms, sig);
      await expect(d.consents.revokeBySubject(terms, sig))
        .to.be.revertedWithCustomError(d.consents, "ConsentsAlreadyRevoked")
        .withArgs(id);
    });

    it("refuses the subject's revocation of a consent the recorder already revoked", async () => {
      const { d, terms, id } = await grantedWithSubjectKey();
      await revoke(d, terms);
      await expect(d.consents.revokeBySubject(terms, await signRevocation(d, d.a.subject, id)))
        .to.be.revertedWithCustomError(d.consents, "ConsentsAlreadyRevoked")
        .withArgs(id);
    });

    it("refuses a revocation of a consent that was never granted", async () => {
      const d = await loadFixture(consentsDeployed);
      const terms = termsAt(await now(), { subjectSigner: d.a.subject.address });
      const id = await d.consents.hashTerms(terms);
      await expect(d.consents.revokeBySubject(terms, await signRevocation(d, d.a.subject, id)))
        .to.be.revertedWithCustomError(d.consents, "ConsentsUnknown")
        .withArgs(id);
    });
  });

  describe("validity over time", () => {
    it("is not valid before it is granted", async () => {
      const d = await loadFixture(consentsDeployed);
      const terms = termsAt(await now());
      const id = await d.consents.hashTerms(terms);
      expect(await d.consents.isValidAt(id, await now())).to.equal(false);
      expect(await d.consents.consent(id)).to.deep.equal([0n, 0n, 0n]);
    });

    it("is valid from the grant's block time up to, but not at, validUntil", async () => {
      const d = await loadFixture(consentsDeployed);
      const g = (await now()) + 100n;
      const terms = termsAt(g, { validUntil: g + 10n * DAY });
      const id = await grantAt(d, terms, g);
      expect(await d.consents.isValidAt(id, g - 1n)).to.equal(false);
      expect(await d.consents.isValidAt(id, g)).to.equal(true);
      expect(await d.consents.isValidAt(id, g + 5n * DAY)).to.equal(true);
      expect(await d.consents.isValidAt(id, terms.validUntil - 1n)).to.equal(true);
      expect(await d.consents.isValidAt(id, terms.validUntil)).to.equal(false);

      await time.increaseTo(g + 5n * DAY);
      expect(await d.consents.isValidAt(id, await now())).to.equal(true);
      await time.increaseTo(terms.validUntil + 1n);
      expect(await d.consents.isValidAt(id, await now())).to.equal(false);
      // The past does not change: a regulator can still confirm an access made while it was valid.
      expect(await d.consents.isValidAt(id, g + 5n * DAY)).to.equal(true);
    });

    it("stops after the revocation's second but stays valid for the moments before it (and in that second)", async () => {
      const d = await loadFixture(consentsDeployed);
      const g = (await now()) + 100n;
      const terms = termsAt(g);
      const id = await grantAt(d, terms, g);
      const r = g + 3n * DAY;
      await time.increaseTo(r - 1n);
      const sig = await recorderRevocation(d, id);
      await d.consents.revoke(terms, sig); // mined at r
      expect((await d.consents.consent(id)).revokedAt).to.equal(r);

      expect(await d.consents.isValidAt(id, g)).to.equal(true);
      expect(await d.consents.isValidAt(id, r - 1n)).to.equal(true);
      expect(await d.consents.isValidAt(id, r)).to.equal(true); // same second: not orderable, counts as before
      expect(await d.consents.isValidAt(id, r + 1n)).to.equal(false);
      await time.increaseTo(r + DAY);
      expect(await d.consents.isValidAt(id, await now())).to.equal(false);
      expect(await d.consents.isValidAt(id, g + DAY)).to.equal(true);
    });

    it("answers isValidFor only for the grantee, resource and purpose in the terms", async () => {
      const d = await loadFixture(consentsDeployed);
      const g = (await now()) + 100n;
      const terms = termsAt(g);
      await grantAt(d, terms, g);
      const at = g + 1n;
      const check = (grantee: string, resource: string, purpose: string, t = terms) =>
        d.consents.isValidFor(t, grantee, resource, purpose, at);
      expect(await check(terms.grantee, terms.resource, terms.purposeHash)).to.equal(true);
      expect(await check(DEPT.tax, terms.resource, terms.purposeHash)).to.equal(false);
      expect(await check(terms.grantee, RESOURCE.waterFees, terms.purposeHash)).to.equal(false);
      expect(await check(terms.grantee, terms.resource, ethers.id("marketing"))).to.equal(false);
      // Terms that were never granted (here: another nonce) are not valid even for matching arguments.
      expect(await check(terms.grantee, terms.resource, terms.purposeHash, { ...terms, nonce: 99n })).to.equal(false);
      expect(await d.consents.isValidFor(terms, terms.grantee, terms.resource, terms.purposeHash, g - 1n)).to.equal(false);
    });
  });

  describe("no personal identifier on chain", () => {
    it("keeps only the salted commitment computed off chain; the ID number appears nowhere", async () => {
      const d = await loadFixture(consentsDeployed);
      // Computed here, off chain, by the recording department: keccak256(secret ‖ id).
      const commitment = ethers.keccak256(ethers.concat([SUBJECT_SECRET, ethers.toUtf8Bytes(ID_NUMBER)]));
      expect(commitment).to.not.equal(ethers.keccak256(ethers.toUtf8Bytes(ID_NUMBER))); // not a bare, brute-forceable hash
      const terms = termsAt(await now(), { subject: commitment, subjectSigner: d.a.subject.address });
      const tx = await d.consents.grant(terms, await recorderSig(d, terms), await signConsent(d, d.a.subject, terms));
      const receipt = (await tx.wait())!;
      const id = await d.consents.hashTerms(terms);

      const ev = d.consents.interface.parseLog(receipt.logs[0])!;
      expect(ev.args.subject).to.equal(commitment);
      expect(ev.args.terms.subject).to.equal(commitment);

      // Neither the ID as text nor as a number is in the calldata, the event topics or the event data.
      const idAsText = ethers.hexlify(ethers.toUtf8Bytes(ID_NUMBER)).slice(2);
      const idAsNumber = ethers.toBeHex(BigInt(ID_NUMBER)).slice(2);
      const onChain = [tx.data, ...receipt.logs.flatMap((l) => [l.data, ...l.topics])].join("").toLowerCase();
      expect(onChain).to.include(commitment.slice(2));
      expect(onChain).to.not.include(idAsText);
      expect(onChain).to.not.include(idAsNumber);

      // Storage holds one slot per consent, and it is only three times: grantedAt, validUntil, revokedAt.
      const stored = await d.consents.consent(id);
      const storedFields = d.consents.interface.getFunction("consent").outputs[0].components!.map((f) => f.name);
      expect(storedFields).to.deep.equal(["grantedAt", "validUntil", "revokedAt"]);
      const address = await d.consents.getAddress();
      const slots: string[] = [];
      for (let base = 0n; base < 8n; base++) {
        const slot = ethers.keccak256(ethers.AbiCoder.defaultAbiCoder().encode(["bytes32", "uint256"], [id, base]));
        const word = await ethers.provider.getStorage(address, slot);
        if (word !== ethers.ZeroHash) {
          slots.push(word);
          const next = ethers.toBeHex(BigInt(slot) + 1n, 32);
          expect(await ethers.provider.getStorage(address, next)).to.equal(ethers.ZeroHash);
        }
      }
      const packed = stored.grantedAt | (stored.validUntil << 64n) | (stored.revokedAt << 128n);
      expect(slots).to.deep.equal([ethers.toBeHex(packed, 32)]);
    });
  });

  // Review finding "Self-granted consent" (issue 9): the grantee recorded a consent for itself on another
  // department's personal data, with no subject signature, and isValidFor answered true; unknown resources
  // and grantees were accepted.
  describe("who may record a consent (issue 9: self-granted consent)", () => {
    it("refuses a consent the grantee records for itself on another department's resource without the subject's signature", async () => {
      const d = await loadFixture(consentsDeployed);
      const terms = termsAt(await now(), { recorder: DEPT.water, grantee: DEPT.water });
      await expect(d.consents.connect(d.a.water).grant(terms, await recorderSig(d, terms, d.a.water), "0x"))
        .to.be.revertedWithCustomError(d.consents, "ConsentsRecorderIsGrantee")
        .withArgs(DEPT.water, RESOURCE.residents);
      expect(await d.consents.isValidFor(terms, DEPT.water, RESOURCE.residents, terms.purposeHash, await now())).to.equal(false);
    });

    it("accepts the grantee as recorder when the subject signs too, or when the grantee owns the resource", async () => {
      const d = await loadFixture(consentsDeployed);
      const subjectSigned = termsAt(await now(), { recorder: DEPT.water, grantee: DEPT.water, subjectSigner: d.a.subject.address });
      await expect(d.consents.grant(subjectSigned, await recorderSig(d, subjectSigned, d.a.water), await signConsent(d, d.a.subject, subjectSigned)))
        .to.emit(d.consents, "ConsentGranted");
      const byOwner = termsAt(await now(), { recorder: DEPT.civil, grantee: DEPT.civil });
      await expect(d.consents.grant(byOwner, await recorderSig(d, byOwner), "0x")).to.emit(d.consents, "ConsentGranted");
      expect(await d.consents.isValidFor(byOwner, DEPT.civil, RESOURCE.residents, byOwner.purposeHash, await now())).to.equal(true);
    });

    it("refuses a consent over a resource the catalog does not hold", async () => {
      const d = await loadFixture(consentsDeployed);
      const unknown = ethers.id("res.nowhere");
      const terms = termsAt(await now(), { resource: unknown });
      await expect(d.consents.grant(terms, await recorderSig(d, terms), "0x"))
        .to.be.revertedWithCustomError(d.catalog, "CatalogUnknownResource")
        .withArgs(unknown);
    });

    it("refuses a consent for a grantee that is not a registered department", async () => {
      const d = await loadFixture(consentsDeployed);
      const nobody = ethers.id("cq.nobody");
      const terms = termsAt(await now(), { grantee: nobody });
      await expect(d.consents.grant(terms, await recorderSig(d, terms), "0x"))
        .to.be.revertedWithCustomError(d.consents, "ConsentsUnknownGrantee")
        .withArgs(nobody);
    });

    it("is bound to the registry and catalog it was deployed with", async () => {
      const d = await loadFixture(consentsDeployed);
      expect(await d.consents.registry()).to.equal(await d.registry.getAddress());
      expect(await d.consents.catalog()).to.equal(await d.catalog.getAddress());
    });
  });

  // Review finding "Unrevocable consent" (issue 9): with no subject key, a consent whose recording
  // department was deactivated could be revoked by no one.
  describe("revokeByRegulator (issue 9: unrevocable consent)", () => {
    const REASON = ethers.id("recorder deactivated; consent withdrawn by the subject in writing");

    function signRegulatorRevocation(d: Fixture, key: HardhatEthersSigner, consentId: string, reasonHash = REASON) {
      return key.signTypedData(d.domain, REGULATOR_REVOCATION_TYPES, { consentId, reasonHash });
    }

    async function grantedThenRecorderDeactivated() {
      const d = await loadFixture(consentsDeployed);
      const terms = termsAt(await now());
      const id = await grant(d, terms);
      await d.registry.connect(d.a.governor).setDepartmentActive(DEPT.civil, false);
      return { d, terms, id };
    }

    it("lets a regulator-role key revoke, relayed by any account, a consent whose recorder was deactivated", async () => {
      const { d, terms, id } = await grantedThenRecorderDeactivated();
      // The recorder no longer can, and the terms name no subject key.
      await expect(d.consents.revoke(terms, await recorderRevocation(d, id)))
        .to.be.revertedWithCustomError(d.consents, "DclInvalidSignature")
        .withArgs(DEPT.civil, d.a.civil.address);
      const sig = await signRegulatorRevocation(d, d.a.regulator, id);
      await expect(d.consents.connect(d.a.stranger).revokeByRegulator(terms, REASON, d.a.regulator.address, sig))
        .to.emit(d.consents, "ConsentRevoked")
        .withArgs(id, d.a.regulator.address)
        .and.to.emit(d.consents, "ConsentRevokedByRegulator")
        .withArgs(id, REASON, d.a.regulator.address);
      const revokedAt = (await d.consents.consent(id)).revokedAt;
      expect(revokedAt).to.equal(await now());
      expect(await d.consents.isValidAt(id, revokedAt + 1n)).to.equal(false);
    });

    it("refuses a signature by a key without the regulator role, the recorder's and the governor's included", async () => {
      const { d, terms, id } = await grantedThenRecorderDeactivated();
      for (const key of [d.a.civil, d.a.governor, d.a.stranger]) {
        await expect(d.consents.revokeByRegulator(terms, REASON, key.address, await signRegulatorRevocation(d, key, id)))
          .to.be.revertedWithCustomError(d.consents, "DclMissingRole")
          .withArgs(ROLES.regulator, key.address);
      }
    });

    it("refuses a regulator signature over another consent, another reason, or named for another regulator", async () => {
      const { d, terms, id } = await grantedThenRecorderDeactivated();
      await d.registry.connect(d.a.governor).grantRole(ROLES.regulator, d.a.exchange.address);
      const wrong = [
        { regulator: d.a.regulator.address, sig: await signRegulatorRevocation(d, d.a.regulator, ethers.id("another consent")) },
        { regulator: d.a.regulator.address, sig: await signRegulatorRevocation(d, d.a.regulator, id, ethers.id("another reason")) },
        { regulator: d.a.regulator.address, sig: await signRegulatorRevocation(d, d.a.exchange, id) },
        { regulator: d.a.regulator.address, sig: await signRevocation(d, d.a.regulator, id) },
      ];
      for (const w of wrong) {
        await expect(d.consents.revokeByRegulator(terms, REASON, w.regulator, w.sig))
          .to.be.revertedWithCustomError(d.consents, "ConsentsInvalidRegulatorSignature")
          .withArgs(w.regulator);
      }
      expect((await d.consents.consent(id)).revokedAt).to.equal(0n);
    });

    it("refuses to revoke an unknown consent, or one already revoked", async () => {
      const d = await loadFixture(consentsDeployed);
      const terms = termsAt(await now());
      const id = await d.consents.hashTerms(terms);
      await expect(d.consents.revokeByRegulator(terms, REASON, d.a.regulator.address, await signRegulatorRevocation(d, d.a.regulator, id)))
        .to.be.revertedWithCustomError(d.consents, "ConsentsUnknown")
        .withArgs(id);
      await grant(d, terms);
      await revoke(d, terms);
      await expect(d.consents.revokeByRegulator(terms, REASON, d.a.regulator.address, await signRegulatorRevocation(d, d.a.regulator, id)))
        .to.be.revertedWithCustomError(d.consents, "ConsentsAlreadyRevoked")
        .withArgs(id);
    });
  });

  // Review finding "Signed terms without a deadline" (issue 9): terms signed and abandoned could be granted
  // any time later by whoever held the signatures.
  describe("cancel and cancelBySubject (issue 9: signed terms without a deadline)", () => {
    function signCancellation(d: Fixture, key: HardhatEthersSigner, consentId: string, domain = d.domain) {
      return key.signTypedData(domain, CONSENT_CANCELLATION_TYPES, { consentId });
    }

    /** Terms naming the subject's key, signed by the recorder and the subject, not granted. */
    async function signedNotGranted() {
      const d = await loadFixture(consentsDeployed);
      const terms = termsAt(await now(), { subjectSigner: d.a.subject.address, validUntil: (await now()) + 400n * DAY });
      const recorder = await recorderSig(d, terms);
      const subject = await signConsent(d, d.a.subject, terms);
      return { d, terms, recorder, subject, id: await d.consents.hashTerms(terms) };
    }

    it("grants terms signed 300 days earlier unless they were cancelled: a recorder's cancellation makes the grant revert", async () => {
      const { d, terms, recorder, subject, id } = await signedNotGranted();
      const sig = { signer: d.a.civil.address, signature: await signCancellation(d, d.a.civil, id) };
      await expect(d.consents.connect(d.a.stranger).cancel(terms, sig))
        .to.emit(d.consents, "ConsentCancelled")
        .withArgs(id, d.a.civil.address);
      expect(await d.consents.cancelledAt(id)).to.equal(await now());
      await time.increase(300n * DAY);
      await expect(d.consents.connect(d.a.stranger).grant(terms, recorder, subject))
        .to.be.revertedWithCustomError(d.consents, "ConsentsCancelled")
        .withArgs(id);
      expect(await d.consents.isValidFor(terms, terms.grantee, terms.resource, terms.purposeHash, await now())).to.equal(false);
    });

    it("lets the subject's own key cancel, relayed by any account", async () => {
      const { d, terms, recorder, subject, id } = await signedNotGranted();
      await expect(d.consents.connect(d.a.stranger).cancelBySubject(terms, await signCancellation(d, d.a.subject, id)))
        .to.emit(d.consents, "ConsentCancelled")
        .withArgs(id, d.a.subject.address);
      await expect(d.consents.grant(terms, recorder, subject)).to.be.revertedWithCustomError(d.consents, "ConsentsCancelled").withArgs(id);
    });

    it("refuses a cancellation by a key that is neither a recorder signer nor the subject's key", async () => {
      const { d, terms, id } = await signedNotGranted();
      for (const key of [d.a.water, d.a.stranger, d.a.regulator]) {
        await expect(d.consents.cancel(terms, { signer: key.address, signature: await signCancellation(d, key, id) }))
          .to.be.revertedWithCustomError(d.consents, "DclInvalidSignature")
          .withArgs(DEPT.civil, key.address);
        await expect(d.consents.cancelBySubject(terms, await signCancellation(d, key, id)))
          .to.be.revertedWithCustomError(d.consents, "ConsentsInvalidSubjectSignature")
          .withArgs(d.a.subject.address);
      }
      // Not the recorder's Revocation nor its Consent signature either, and not for another contract.
      const otherContract = domainOf(DOMAIN_NAMES.consents, d.chainId, await d.transfers.getAddress());
      for (const signature of [await signRevocation(d, d.a.civil, id), await signConsent(d, d.a.civil, terms), await signCancellation(d, d.a.civil, id, otherContract)]) {
        await expect(d.consents.cancel(terms, { signer: d.a.civil.address, signature }))
          .to.be.revertedWithCustomError(d.consents, "DclInvalidSignature")
          .withArgs(DEPT.civil, d.a.civil.address);
      }
      expect(await d.consents.cancelledAt(id)).to.equal(0n);
    });

    it("refuses a subject cancellation of terms that name no subject key", async () => {
      const d = await loadFixture(consentsDeployed);
      const terms = termsAt(await now());
      const id = await d.consents.hashTerms(terms);
      await expect(d.consents.cancelBySubject(terms, await signCancellation(d, d.a.subject, id)))
        .to.be.revertedWithCustomError(d.consents, "ConsentsInvalidSubjectSignature")
        .withArgs(ethers.ZeroAddress);
    });

    it("refuses to cancel granted terms (revoke them instead), or to cancel twice", async () => {
      const { d, terms, recorder, subject, id } = await signedNotGranted();
      const cancellation = { signer: d.a.civil.address, signature: await signCancellation(d, d.a.civil, id) };
      const other = { ...terms, nonce: 2n };
      const otherId = await d.consents.hashTerms(other);
      await d.consents.grant(terms, recorder, subject);
      await expect(d.consents.cancel(terms, cancellation)).to.be.revertedWithCustomError(d.consents, "ConsentsAlreadyGranted").withArgs(id);
      await expect(d.consents.cancelBySubject(terms, await signCancellation(d, d.a.subject, id)))
        .to.be.revertedWithCustomError(d.consents, "ConsentsAlreadyGranted")
        .withArgs(id);
      const otherCancellation = { signer: d.a.civil.address, signature: await signCancellation(d, d.a.civil, otherId) };
      await d.consents.cancel(other, otherCancellation);
      await expect(d.consents.cancel(other, otherCancellation)).to.be.revertedWithCustomError(d.consents, "ConsentsCancelled").withArgs(otherId);
      await expect(d.consents.cancelBySubject(other, await signCancellation(d, d.a.subject, otherId)))
        .to.be.revertedWithCustomError(d.consents, "ConsentsCancelled")
        .withArgs(otherId);
    });
  });

  // Review finding "History the verifiers need" (issue 9): ConsentGranted did not name the signing key.
  describe("ConsentGranted names the recorder's signing key (issue 9: history the verifiers need)", () => {
    it("emits the key that signed for the recording department", async () => {
      const d = await loadFixture(consentsDeployed);
      await d.registry.connect(d.a.civil).addSigner(DEPT.civil, d.a.stranger.address);
      const terms = termsAt(await now());
      const id = await d.consents.hashTerms(terms);
      await expect(d.consents.grant(terms, await recorderSig(d, terms, d.a.stranger), "0x"))
        .to.emit(d.consents, "ConsentGranted")
        .withArgs(id, SUBJECT, anyValue, d.a.stranger.address);
    });
  });
});
