import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { deployedWithDepartments, DEPT, RESOURCE } from "./fixture";
import { codeId, SharingCondition } from "../../node/chain/ids";

const NEW_RES = codeId("res.tax.arrears");
const SCHEMA_V1 = ethers.id("schema:arrears:v1");
const SCHEMA_V2 = ethers.id("schema:arrears:v2");

describe("ResourceCatalog", () => {
  describe("registerResource", () => {
    it("lets a signer of the owner catalogue a resource at version 1", async () => {
      const { catalog, a } = await loadFixture(deployedWithDepartments);
      await expect(catalog.connect(a.tax2).registerResource(NEW_RES, DEPT.tax, SCHEMA_V1, SharingCondition.Unconditional, true))
        .to.emit(catalog, "ResourceRegistered")
        .withArgs(NEW_RES, DEPT.tax, SCHEMA_V1, SharingCondition.Unconditional, true);
      const r = await catalog.resource(NEW_RES);
      expect(r.owner).to.equal(DEPT.tax);
      expect(r.schemaHash).to.equal(SCHEMA_V1);
      expect(r.condition).to.equal(SharingCondition.Unconditional);
      expect(r.personal).to.equal(true);
      expect(r.version).to.equal(1n);
    });

    it("lets the governor catalogue a resource for any department", async () => {
      const { catalog, a } = await loadFixture(deployedWithDepartments);
      await expect(catalog.connect(a.governor).registerResource(NEW_RES, DEPT.tax, SCHEMA_V1, SharingCondition.NotShareable, false))
        .to.emit(catalog, "ResourceRegistered")
        .withArgs(NEW_RES, DEPT.tax, SCHEMA_V1, SharingCondition.NotShareable, false);
      expect((await catalog.resource(NEW_RES)).condition).to.equal(SharingCondition.NotShareable);
    });

    it("refuses a signer of another department", async () => {
      const { catalog, a } = await loadFixture(deployedWithDepartments);
      await expect(catalog.connect(a.water).registerResource(NEW_RES, DEPT.tax, SCHEMA_V1, SharingCondition.Conditional, false))
        .to.be.revertedWithCustomError(catalog, "CatalogUnauthorized")
        .withArgs(DEPT.tax, a.water.address);
    });

    it("refuses a stranger and the regulator", async () => {
      const { catalog, a } = await loadFixture(deployedWithDepartments);
      for (const caller of [a.stranger, a.regulator]) {
        await expect(catalog.connect(caller).registerResource(NEW_RES, DEPT.tax, SCHEMA_V1, SharingCondition.Conditional, false))
          .to.be.revertedWithCustomError(catalog, "CatalogUnauthorized")
          .withArgs(DEPT.tax, caller.address);
      }
    });

    it("refuses a signer of an inactive owner", async () => {
      const { catalog, registry, a } = await loadFixture(deployedWithDepartments);
      await registry.connect(a.governor).setDepartmentActive(DEPT.tax, false);
      await expect(catalog.connect(a.tax).registerResource(NEW_RES, DEPT.tax, SCHEMA_V1, SharingCondition.Conditional, false))
        .to.be.revertedWithCustomError(catalog, "CatalogUnauthorized")
        .withArgs(DEPT.tax, a.tax.address);
    });

    it("refuses an unknown owner", async () => {
      const { catalog, a } = await loadFixture(deployedWithDepartments);
      const unknown = codeId("cq.nowhere");
      await expect(catalog.connect(a.governor).registerResource(NEW_RES, unknown, SCHEMA_V1, SharingCondition.Conditional, false))
        .to.be.revertedWithCustomError(catalog, "CatalogUnknownOwner")
        .withArgs(unknown);
    });

    it("refuses the zero id", async () => {
      const { catalog, a } = await loadFixture(deployedWithDepartments);
      await expect(catalog.connect(a.governor).registerResource(ethers.ZeroHash, DEPT.tax, SCHEMA_V1, SharingCondition.Conditional, false))
        .to.be.revertedWithCustomError(catalog, "CatalogInvalidResourceId")
        .withArgs(ethers.ZeroHash);
    });

    it("refuses an id already catalogued, even by its owner", async () => {
      const { catalog, a } = await loadFixture(deployedWithDepartments);
      await expect(catalog.connect(a.water).registerResource(RESOURCE.waterFees, DEPT.water, SCHEMA_V1, SharingCondition.Conditional, false))
        .to.be.revertedWithCustomError(catalog, "CatalogInvalidResourceId")
        .withArgs(RESOURCE.waterFees);
      expect((await catalog.resource(RESOURCE.waterFees)).schemaHash).to.equal(ethers.id("schema:water-fees:v1"));
    });
  });

  describe("updateResource", () => {
    it("lets a signer of the owner publish a new version", async () => {
      const { catalog, a } = await loadFixture(deployedWithDepartments);
      await expect(catalog.connect(a.water).updateResource(RESOURCE.waterFees, SCHEMA_V2, SharingCondition.Unconditional, true))
        .to.emit(catalog, "ResourceUpdated")
        .withArgs(RESOURCE.waterFees, SCHEMA_V2, SharingCondition.Unconditional, true, 2n);
      const r = await catalog.resource(RESOURCE.waterFees);
      expect(r.owner).to.equal(DEPT.water);
      expect(r.schemaHash).to.equal(SCHEMA_V2);
      expect(r.condition).to.equal(SharingCondition.Unconditional);
      expect(r.personal).to.equal(true);
      expect(r.version).to.equal(2n);
    });

    it("lets the governor publish a new version, and counts versions up by one", async () => {
      const { catalog, a } = await loadFixture(deployedWithDepartments);
      const gov = catalog.connect(a.governor);
      await gov.updateResource(RESOURCE.secret, SCHEMA_V2, SharingCondition.Conditional, false);
      await expect(gov.updateResource(RESOURCE.secret, SCHEMA_V1, SharingCondition.NotShareable, false))
        .to.emit(catalog, "ResourceUpdated")
        .withArgs(RESOURCE.secret, SCHEMA_V1, SharingCondition.NotShareable, false, 3n);
      expect((await catalog.resource(RESOURCE.secret)).version).to.equal(3n);
    });

    it("refuses a signer of another department", async () => {
      const { catalog, a } = await loadFixture(deployedWithDepartments);
      await expect(catalog.connect(a.tax).updateResource(RESOURCE.waterFees, SCHEMA_V2, SharingCondition.Conditional, false))
        .to.be.revertedWithCustomError(catalog, "CatalogUnauthorized")
        .withArgs(DEPT.water, a.tax.address);
      expect((await catalog.resource(RESOURCE.waterFees)).version).to.equal(1n);
    });

    it("refuses a stranger", async () => {
      const { catalog, a } = await loadFixture(deployedWithDepartments);
      await expect(catalog.connect(a.stranger).updateResource(RESOURCE.waterFees, SCHEMA_V2, SharingCondition.Conditional, false))
        .to.be.revertedWithCustomError(catalog, "CatalogUnauthorized")
        .withArgs(DEPT.water, a.stranger.address);
    });

    it("refuses a key removed from the owner", async () => {
      const { catalog, registry, a } = await loadFixture(deployedWithDepartments);
      await registry.connect(a.water).addSigner(DEPT.water, a.stranger.address);
      await registry.connect(a.stranger).removeSigner(DEPT.water, a.water.address);
      await expect(catalog.connect(a.water).updateResource(RESOURCE.waterFees, SCHEMA_V2, SharingCondition.Conditional, false))
        .to.be.revertedWithCustomError(catalog, "CatalogUnauthorized")
        .withArgs(DEPT.water, a.water.address);
      await catalog.connect(a.stranger).updateResource(RESOURCE.waterFees, SCHEMA_V2, SharingCondition.Conditional, false);
      expect((await catalog.resource(RESOURCE.waterFees)).version).to.equal(2n);
    });

    it("refuses an unknown resource", async () => {
      const { catalog, a } = await loadFixture(deployedWithDepartments);
      await expect(catalog.connect(a.governor).updateResource(NEW_RES, SCHEMA_V2, SharingCondition.Conditional, false))
        .to.be.revertedWithCustomError(catalog, "CatalogUnknownResource")
        .withArgs(NEW_RES);
    });
  });

  describe("resource", () => {
    it("returns the fixture's resources as catalogued", async () => {
      const { catalog } = await loadFixture(deployedWithDepartments);
      const r = await catalog.resource(RESOURCE.residents);
      expect(r.owner).to.equal(DEPT.civil);
      expect(r.schemaHash).to.equal(ethers.id("schema:residents:v1"));
      expect(r.condition).to.equal(SharingCondition.Conditional);
      expect(r.personal).to.equal(true);
      expect(r.version).to.equal(1n);
    });

    it("refuses an unknown resource", async () => {
      const { catalog } = await loadFixture(deployedWithDepartments);
      await expect(catalog.resource(NEW_RES)).to.be.revertedWithCustomError(catalog, "CatalogUnknownResource").withArgs(NEW_RES);
    });

    it("is bound to the department registry it was deployed with", async () => {
      const { catalog, registry } = await loadFixture(deployedWithDepartments);
      expect(await catalog.registry()).to.equal(await registry.getAddress());
    });
  });
});
