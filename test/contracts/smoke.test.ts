import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { deployedWithDepartments, DEPT, LOG_ID, RESOURCE } from "./fixture";
import { AGREEMENT_TYPES, DOMAIN_NAMES, domainOf, type AgreementTerms } from "../../node/chain/typed-data";

describe("smoke", () => {
  it("activates a co-signed agreement", async () => {
    const d = await loadFixture(deployedWithDepartments);
    const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
    const terms: AgreementTerms = {
      provider: DEPT.water, consumer: DEPT.tax, resource: RESOURCE.waterFees, purposeHash: ethers.id("collect fees"),
      quota: 1000n, validFrom: now, validUntil: now + 86400n, nonce: 1n, meteringLog: LOG_ID,
    };
    const domain = domainOf(DOMAIN_NAMES.agreements, d.chainId, await d.agreements.getAddress());
    const ps = await d.a.water.signTypedData(domain, AGREEMENT_TYPES, terms);
    const cs = await d.a.tax.signTypedData(domain, AGREEMENT_TYPES, terms);
    const id = await d.agreements.hashTerms(terms);
    await expect(d.agreements.activate(terms, { signer: d.a.water.address, signature: ps }, { signer: d.a.tax.address, signature: cs }))
      .to.emit(d.agreements, "AgreementActivated");
    expect((await d.agreements.agreement(id)).status).to.equal(1n);
  });
});
