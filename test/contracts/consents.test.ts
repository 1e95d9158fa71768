import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { deployedWithDepartments, DEPT, RESOURCE } from "./fixture";
import {
  CONSENT_TYPES,
  ConsentKind,
  DOMAIN_NAMES,
  domainOf,
  REVOCATION_TYPES,
  type ConsentTerms,
} from "../../node/chain/typed-data";

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

/** Grants `terms` as the civil affairs signer at block time `at`; returns the consent id. */
async function grantAt(d: Fixture, terms: ConsentTerms, at: bigint, subjectSignature = "0x"): Promise<string> {
  await time.setNextBlockTimestamp(at);
  await d.consents.connect(d.a.civil).grant(terms, subjectSignature);
  return d.consents.hashTerms(terms);
}

describe("ConsentRegistry", () => {
  describe("grant", () => {
    it("records a consent collected by a signer of the recording department without the subject's signature", async () => {
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
      await expect(d.consents.connect(d.a.civil).grant(terms, sig)).to.emit(d.consents, "ConsentGranted");
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
      const receipt = await (await d.consents.connect(d.a.civil).grant(terms, sig)).wait();
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

    it("refuses a grant by an account that is not a signer of the recording department", async () => {
      const d = await loadFixture(consentsDeployed);
      const terms = termsAt(await now());
      await expect(d.consents.connect(d.a.stranger).grant(terms, "0x"))
        .to.be.revertedWithCustomError(d.consents, "DclNotDepartmentSigner")
        .withArgs(DEPT.civil, d.a.stranger.address);
      // A signer of the grantee department cannot record a consent in its own favour either.
      await expect(d.consents.connect(d.a.water).grant(terms, "0x"))
        .to.be.revertedWithCustomError(d.consents, "DclNotDepartmentSigner")
        .withArgs(DEPT.civil, d.a.water.address);
    });

    it("refuses a grant by a signer of a deactivated recording department", async () => {
      const d = await loadFixture(consentsDeployed);
      await d.registry.connect(d.a.governor).setDepartmentActive(DEPT.civil, false);
      await expect(d.consents.connect(d.a.civil).grant(termsAt(await now()), "0x"))
        .to.be.revertedWithCustomError(d.consents, "DclNotDepartmentSigner")
        .withArgs(DEPT.civil, d.a.civil.address);
    });

    it("refuses an expiry that is not after the block time, and accepts one a second later", async () => {
      const d = await loadFixture(consentsDeployed);
      const at = (await now()) + 100n;
      const expiringNow = termsAt(at, { validUntil: at });
      await time.setNextBlockTimestamp(at);
      await expect(d.consents.connect(d.a.civil).grant(expiringNow, "0x"))
        .to.be.revertedWithCustomError(d.consents, "ConsentsInvalidExpiry")
        .withArgs(at);
      const past = termsAt(at, { validUntil: at - DAY });
      await expect(d.consents.connect(d.a.civil).grant(past, "0x"))
        .to.be.revertedWithCustomError(d.consents, "ConsentsInvalidExpiry")
        .withArgs(at - DAY);
      const t = (await now()) + 10n;
      await time.setNextBlockTimestamp(t);
      await expect(d.consents.connect(d.a.civil).grant(termsAt(t, { validUntil: t + 1n }), "0x")).to.emit(
        d.consents,
        "ConsentGranted",
      );
    });

    it("refuses a replay of the same terms, while another nonce makes a distinct consent", async () => {
      const d = await loadFixture(consentsDeployed);
      const terms = termsAt(await now());
      await d.consents.connect(d.a.civil).grant(terms, "0x");
      const id = await d.consents.hashTerms(terms);
      await expect(d.consents.connect(d.a.civil).grant(terms, "0x"))
        .to.be.revertedWithCustomError(d.consents, "ConsentsAlreadyGranted")
        .withArgs(id);
      const again = { ...terms, nonce: 2n };
      await expect(d.consents.connect(d.a.civil).grant(again, "0x"))
        .to.emit(d.consents, "ConsentGranted")
        .withArgs(await d.consents.hashTerms(again), SUBJECT, anyValue);
    });

    describe("subject signature", () => {
      async function subjectTerms() {
        const d = await loadFixture(consentsDeployed);
        const terms = termsAt(await now(), { subjectSigner: d.a.subject.address });
        return { d, terms };
      }

      it("refuses terms naming a subject key when the signature is missing", async () => {
        const { d, terms } = await subjectTerms();
        await expect(d.consents.connect(d.a.civil).grant(terms, "0x"))
          .to.be.revertedWithCustomError(d.consents, "ConsentsInvalidSubjectSignature")
          .withArgs(d.a.subject.address);
      });

      it("refuses a malformed subject signature", async () => {
        const { d, terms } = await subjectTerms();
        const garbage = ethers.hexlify(new Uint8Array(65).fill(7));
        await expect(d.consents.connect(d.a.civil).grant(terms, garbage))
          .to.be.revertedWithCustomError(d.consents, "ConsentsInvalidSubjectSignature")
          .withArgs(d.a.subject.address);
      });

      it("refuses a signature made by another key than the subject's", async () => {
        const { d, terms } = await subjectTerms();
        const sig = await signConsent(d, d.a.stranger, terms);
        await expect(d.consents.connect(d.a.civil).grant(terms, sig))
          .to.be.revertedWithCustomError(d.consents, "ConsentsInvalidSubjectSignature")
          .withArgs(d.a.subject.address);
      });

      it("refuses terms the recorder altered after the subject signed", async () => {
        const { d, terms } = await subjectTerms();
        const sig = await signConsent(d, d.a.subject, terms);
        const longer = { ...terms, validUntil: terms.validUntil + 365n * DAY };
        await expect(d.consents.connect(d.a.civil).grant(longer, sig))
          .to.be.revertedWithCustomError(d.consents, "ConsentsInvalidSubjectSignature")
          .withArgs(d.a.subject.address);
      });

      it("refuses a subject signature when the terms name no subject key", async () => {
        const d = await loadFixture(consentsDeployed);
        const terms = termsAt(await now());
        const sig = await signConsent(d, d.a.subject, terms);
        await expect(d.consents.connect(d.a.civil).grant(terms, sig))
          .to.be.revertedWithCustomError(d.consents, "ConsentsInvalidSubjectSignature")
          .withArgs(ethers.ZeroAddress);
      });

      it("refuses a subject signature made for another chain id", async () => {
        const { d, terms } = await subjectTerms();
        const otherChain = domainOf(DOMAIN_NAMES.consents, d.chainId + 1n, await d.consents.getAddress());
        const sig = await signConsent(d, d.a.subject, terms, otherChain);
        await expect(d.consents.connect(d.a.civil).grant(terms, sig))
          .to.be.revertedWithCustomError(d.consents, "ConsentsInvalidSubjectSignature")
          .withArgs(d.a.subject.address);
      });

      it("refuses a subject signature made for another contract address", async () => {
        const { d, terms } = await subjectTerms();
        const otherContract = domainOf(DOMAIN_NAMES.consents, d.chainId, await d.transfers.getAddress());
        const sig = await signConsent(d, d.a.subject, terms, otherContract);
        await expect(d.consents.connect(d.a.civil).grant(terms, sig))
          .to.be.revertedWithCustomError(d.consents, "ConsentsInvalidSubjectSignature")
          .withArgs(d.a.subject.address);
      });
    });
  });

  describe("revoke", () => {
    it("lets a signer of the recording department revoke, stamping the block time", async () => {
      const d = await loadFixture(consentsDeployed);
      const terms = termsAt(await now());
      const id = await grantAt(d, terms, (await now()) + 1n);
      const at = (await now()) + 60n;
      await time.setNextBlockTimestamp(at);
      await expect(d.consents.connect(d.a.civil).revoke(terms))
        .to.emit(d.consents, "ConsentRevoked")
        .withArgs(id, d.a.civil.address);
      expect((await d.consents.consent(id)).revokedAt).to.equal(at);
    });

    it("refuses a revocation by an account that is not a signer of the recording department", async () => {
      const d = await loadFixture(consentsDeployed);
      const terms = termsAt(await now());
      await grantAt(d, terms, (await now()) + 1n);
      await expect(d.consents.connect(d.a.water).revoke(terms))
        .to.be.revertedWithCustomError(d.consents, "DclNotDepartmentSigner")
        .withArgs(DEPT.civil, d.a.water.address);
    });

    it("refuses to revoke a consent twice", async () => {
      const d = await loadFixture(consentsDeployed);
      const terms = termsAt(await now());
      const id = await grantAt(d, terms, (await now()) + 1n);
      await d.consents.connect(d.a.civil).revoke(terms);
      await expect(d.consents.connect(d.a.civil).revoke(terms))
        .to.be.revertedWithCustomError(d.consents, "ConsentsAlreadyRevoked")
        .withArgs(id);
    });

    it("refuses to revoke terms that were never granted", async () => {
      const d = await loadFixture(consentsDeployed);
      const terms = termsAt(await now());
      await expect(d.consents.connect(d.a.civil).revoke(terms))
        .to.be.revertedWithCustomError(d.consents, "ConsentsUnknown")
        .withArgs(await d.consents.hashTerms(terms));
    });
  });

  describe("revokeBySubject", () => {
    async function grantedWithSubjectKey() {
      const d = await loadFixture(consentsDeployed);
      const terms = termsAt(await now(), { subjectSigner: d.a.subject.address });
      await d.consents.connect(d.a.civil).grant(terms, await signConsent(d, d.a.subject, terms));
      const id = await d.consents.hashTerms(terms);
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
      await d.consents.connect(d.a.civil).grant(terms, "0x");
      const sig = await signRevocation(d, d.a.subject, await d.consents.hashTerms(terms));
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
      await d.consents.connect(d.a.civil).revoke(terms);
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

    it("stops at the revocation but stays valid for the moments before it", async () => {
      const d = await loadFixture(consentsDeployed);
      const g = (await now()) + 100n;
      const terms = termsAt(g);
      const id = await grantAt(d, terms, g);
      const r = g + 3n * DAY;
      await time.increaseTo(r - 1n);
      await d.consents.connect(d.a.civil).revoke(terms); // mined at r
      expect((await d.consents.consent(id)).revokedAt).to.equal(r);

      expect(await d.consents.isValidAt(id, g)).to.equal(true);
      expect(await d.consents.isValidAt(id, r - 1n)).to.equal(true);
      expect(await d.consents.isValidAt(id, r)).to.equal(false);
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
      const tx = await d.consents.connect(d.a.civil).grant(terms, await signConsent(d, d.a.subject, terms));
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
});
