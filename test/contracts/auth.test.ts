import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import { deployedWithDepartments, DEPT, RESOURCE } from "./fixture";
import {
  CONSENT_TYPES,
  ConsentKind,
  DOMAIN_NAMES,
  domainOf,
  TRANSFER_TYPES,
  type ConsentTerms,
  type TransferBatch,
} from "../../node/chain/typed-data";
import { codeId, ROLES } from "../../node/chain/ids";
import { MockERC1271Wallet__factory } from "../../typechain-types";

/** The fixture plus a contract wallet (owned by the tax bureau's first key) registered as a tax signer. */
async function withWalletSigner() {
  const d = await deployedWithDepartments();
  const wallet = await new MockERC1271Wallet__factory(d.a.deployer).deploy(d.a.tax.address);
  await d.registry.connect(d.a.tax).addSigner(DEPT.tax, await wallet.getAddress());
  const transfersDomain = domainOf(DOMAIN_NAMES.transfers, d.chainId, await d.transfers.getAddress());
  return { ...d, wallet, transfersDomain };
}

function batch(nonce = 1n): TransferBatch {
  return {
    from: DEPT.water,
    to: DEPT.tax,
    category: codeId("water-resource-fee"),
    period: 202610,
    recordCount: 3n,
    totalFen: 12_345n,
    recordsRoot: ethers.id("records root"),
    payloadHash: ethers.id("payload"),
    parents: [],
    nonce,
  };
}

describe("DepartmentAuth", () => {
  describe("EIP-712 domain", () => {
    it("binds each contract's domain separator to its name, version 1, the chain id and its address", async () => {
      const d = await loadFixture(deployedWithDepartments);
      const contracts = [
        { name: DOMAIN_NAMES.consents, c: d.consents },
        { name: DOMAIN_NAMES.transfers, c: d.transfers },
        { name: DOMAIN_NAMES.agreements, c: d.agreements },
        { name: "dcl LogAnchors", c: d.anchors },
      ];
      const separators = new Set<string>();
      for (const { name, c } of contracts) {
        const expected = ethers.TypedDataEncoder.hashDomain(domainOf(name, d.chainId, await c.getAddress()));
        expect(await c.domainSeparator()).to.equal(expected);
        const [, domainName, version, chainId, verifyingContract] = await c.eip712Domain();
        expect([domainName, version, chainId, verifyingContract]).to.deep.equal([name, "1", d.chainId, await c.getAddress()]);
        separators.add(expected);
      }
      expect(separators.size).to.equal(contracts.length);
    });

    it("points every contract at the one department registry", async () => {
      const d = await loadFixture(deployedWithDepartments);
      const registry = await d.registry.getAddress();
      for (const c of [d.consents, d.transfers, d.agreements, d.anchors]) expect(await c.registry()).to.equal(registry);
    });
  });

  describe("contract-wallet signers (EIP-1271)", () => {
    it("accepts a co-signature by a registered contract wallet that approved the digest", async () => {
      const d = await loadFixture(withWalletSigner);
      const b = batch();
      const digest = ethers.TypedDataEncoder.hash(d.transfersDomain, TRANSFER_TYPES, b);
      await d.wallet.connect(d.a.tax).approve(digest);
      const fromSig = { signer: d.a.water.address, signature: await d.a.water.signTypedData(d.transfersDomain, TRANSFER_TYPES, b) };
      const toSig = { signer: await d.wallet.getAddress(), signature: "0x" };
      await expect(d.transfers.submit(b, fromSig, toSig)).to.emit(d.transfers, "TransferSubmitted");
    });

    it("refuses a co-signature by the wallet for a digest it did not approve", async () => {
      const d = await loadFixture(withWalletSigner);
      const approved = batch(1n);
      const other = batch(2n);
      await d.wallet.connect(d.a.tax).approve(ethers.TypedDataEncoder.hash(d.transfersDomain, TRANSFER_TYPES, approved));
      const fromSig = { signer: d.a.water.address, signature: await d.a.water.signTypedData(d.transfersDomain, TRANSFER_TYPES, other) };
      const toSig = { signer: await d.wallet.getAddress(), signature: "0x" };
      await expect(d.transfers.submit(other, fromSig, toSig))
        .to.be.revertedWithCustomError(d.transfers, "DclInvalidSignature")
        .withArgs(DEPT.tax, await d.wallet.getAddress());
    });

    it("refuses the wallet owner's own ECDSA signature presented in the wallet's name", async () => {
      const d = await loadFixture(withWalletSigner);
      const b = batch();
      const fromSig = { signer: d.a.water.address, signature: await d.a.water.signTypedData(d.transfersDomain, TRANSFER_TYPES, b) };
      const toSig = { signer: await d.wallet.getAddress(), signature: await d.a.tax.signTypedData(d.transfersDomain, TRANSFER_TYPES, b) };
      await expect(d.transfers.submit(b, fromSig, toSig))
        .to.be.revertedWithCustomError(d.transfers, "DclInvalidSignature")
        .withArgs(DEPT.tax, await d.wallet.getAddress());
    });

    it("refuses an approving wallet that is not a signer of the department", async () => {
      const d = await loadFixture(withWalletSigner);
      const b = batch();
      const stray = await new MockERC1271Wallet__factory(d.a.deployer).deploy(d.a.stranger.address);
      await stray.connect(d.a.stranger).approve(ethers.TypedDataEncoder.hash(d.transfersDomain, TRANSFER_TYPES, b));
      const fromSig = { signer: d.a.water.address, signature: await d.a.water.signTypedData(d.transfersDomain, TRANSFER_TYPES, b) };
      await expect(d.transfers.submit(b, fromSig, { signer: await stray.getAddress(), signature: "0x" }))
        .to.be.revertedWithCustomError(d.transfers, "DclInvalidSignature")
        .withArgs(DEPT.tax, await stray.getAddress());
    });

    it("lets only the wallet's owner approve a digest", async () => {
      const d = await loadFixture(withWalletSigner);
      await expect(d.wallet.connect(d.a.stranger).approve(ethers.ZeroHash))
        .to.be.revertedWithCustomError(d.wallet, "MockERC1271WalletNotOwner")
        .withArgs(d.a.stranger.address);
    });

    it("accepts a consent whose subject signs with a contract wallet", async () => {
      const d = await loadFixture(withWalletSigner);
      const subjectWallet = await new MockERC1271Wallet__factory(d.a.deployer).deploy(d.a.subject.address);
      const latest = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
      const terms: ConsentTerms = {
        subject: ethers.id("commitment"),
        grantee: DEPT.water,
        resource: RESOURCE.residents,
        purposeHash: ethers.id("purpose"),
        kind: ConsentKind.Explicit,
        validUntil: latest + 86_400n,
        evidenceHash: ethers.id("evidence"),
        recorder: DEPT.civil,
        subjectSigner: await subjectWallet.getAddress(),
        nonce: 1n,
      };
      const domain = domainOf(DOMAIN_NAMES.consents, d.chainId, await d.consents.getAddress());
      const recorderSig = { signer: d.a.civil.address, signature: await d.a.civil.signTypedData(domain, CONSENT_TYPES, terms) };
      await expect(d.consents.grant(terms, recorderSig, "0x"))
        .to.be.revertedWithCustomError(d.consents, "ConsentsInvalidSubjectSignature")
        .withArgs(await subjectWallet.getAddress());
      await subjectWallet.connect(d.a.subject).approve(ethers.TypedDataEncoder.hash(domain, CONSENT_TYPES, terms));
      await expect(d.consents.grant(terms, recorderSig, "0x")).to.emit(d.consents, "ConsentGranted");
    });

    it("accepts a consent recorded by a contract wallet registered as a signer of the recording department", async () => {
      const d = await loadFixture(deployedWithDepartments);
      const civilWallet = await new MockERC1271Wallet__factory(d.a.deployer).deploy(d.a.civil.address);
      await d.registry.connect(d.a.civil).addSigner(DEPT.civil, await civilWallet.getAddress());
      const latest = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
      const terms: ConsentTerms = {
        subject: ethers.id("commitment"),
        grantee: DEPT.water,
        resource: RESOURCE.residents,
        purposeHash: ethers.id("purpose"),
        kind: ConsentKind.Separate,
        validUntil: latest + 86_400n,
        evidenceHash: ethers.id("evidence"),
        recorder: DEPT.civil,
        subjectSigner: ethers.ZeroAddress,
        nonce: 1n,
      };
      const domain = domainOf(DOMAIN_NAMES.consents, d.chainId, await d.consents.getAddress());
      const byWallet = { signer: await civilWallet.getAddress(), signature: "0x" };
      await expect(d.consents.connect(d.a.stranger).grant(terms, byWallet, "0x"))
        .to.be.revertedWithCustomError(d.consents, "DclInvalidSignature")
        .withArgs(DEPT.civil, byWallet.signer);
      await civilWallet.connect(d.a.civil).approve(ethers.TypedDataEncoder.hash(domain, CONSENT_TYPES, terms));
      await expect(d.consents.connect(d.a.stranger).grant(terms, byWallet, "0x"))
        .to.emit(d.consents, "ConsentGranted")
        .withArgs(ethers.TypedDataEncoder.hashStruct("Consent", CONSENT_TYPES, terms), terms.subject, anyValue, byWallet.signer);
    });
  });

  describe("departments and roles", () => {
    it("refuses a co-signature by a signer of a deactivated department", async () => {
      const d = await loadFixture(withWalletSigner);
      await d.registry.connect(d.a.governor).setDepartmentActive(DEPT.water, false);
      const b = batch();
      const fromSig = { signer: d.a.water.address, signature: await d.a.water.signTypedData(d.transfersDomain, TRANSFER_TYPES, b) };
      const toSig = { signer: d.a.tax.address, signature: await d.a.tax.signTypedData(d.transfersDomain, TRANSFER_TYPES, b) };
      await expect(d.transfers.submit(b, fromSig, toSig))
        .to.be.revertedWithCustomError(d.transfers, "DclInvalidSignature")
        .withArgs(DEPT.water, d.a.water.address);
    });

    it("refuses a role-gated call by an account without the role", async () => {
      const d = await loadFixture(deployedWithDepartments);
      await expect(d.anchors.connect(d.a.regulator).registerLog(codeId("log.other"), DEPT.bigdata))
        .to.be.revertedWithCustomError(d.anchors, "DclMissingRole")
        .withArgs(ROLES.governor, d.a.regulator.address);
      await expect(d.agreements.suspend(ethers.id("any"), ethers.ZeroHash, d.a.governor.address, "0x"))
        .to.be.revertedWithCustomError(d.agreements, "DclMissingRole")
        .withArgs(ROLES.regulator, d.a.governor.address);
    });
  });
});
