import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { deployedWithDepartments, DEPT } from "./fixture";
import { codeId, DepartmentLevel, ROLES } from "../../node/chain/ids";

const NEW_DEPT = codeId("cq.health");
const randomAddresses = (n: number) => Array.from({ length: n }, () => ethers.Wallet.createRandom().address);

describe("DepartmentRegistry", () => {
  describe("registerDepartment", () => {
    it("registers a department under a parent with its first signers and emits the events", async () => {
      const { registry, a } = await loadFixture(deployedWithDepartments);
      const [s1, s2] = randomAddresses(2);
      const tx = registry.connect(a.governor).registerDepartment(NEW_DEPT, DepartmentLevel.District, DEPT.bigdata, [s1, s2]);
      await expect(tx)
        .to.emit(registry, "DepartmentRegistered")
        .withArgs(NEW_DEPT, DepartmentLevel.District, DEPT.bigdata, [s1, s2]);
      await expect(tx).to.emit(registry, "SignerAdded").withArgs(NEW_DEPT, s1, a.governor.address);
      await expect(tx).to.emit(registry, "SignerAdded").withArgs(NEW_DEPT, s2, a.governor.address);

      expect(await registry.exists(NEW_DEPT)).to.equal(true);
      const d = await registry.department(NEW_DEPT);
      expect(d.level).to.equal(DepartmentLevel.District);
      expect(d.active).to.equal(true);
      expect(d.signerCount).to.equal(2n);
      expect(d.parent).to.equal(DEPT.bigdata);
      expect(await registry.signersOf(NEW_DEPT)).to.deep.equal([s1, s2]);
      expect(await registry.isSigner(NEW_DEPT, s1)).to.equal(true);
      expect(await registry.isSigner(NEW_DEPT, s2)).to.equal(true);
    });

    it("registers a root department (zero parent)", async () => {
      const { registry, a } = await loadFixture(deployedWithDepartments);
      await registry.connect(a.governor).registerDepartment(NEW_DEPT, DepartmentLevel.National, ethers.ZeroHash, [a.stranger.address]);
      const d = await registry.department(NEW_DEPT);
      expect(d.parent).to.equal(ethers.ZeroHash);
      expect(d.level).to.equal(DepartmentLevel.National);
    });

    it("accepts exactly MAX_SIGNERS signers", async () => {
      const { registry, a } = await loadFixture(deployedWithDepartments);
      const max = await registry.MAX_SIGNERS();
      expect(max).to.equal(16n);
      await registry.connect(a.governor).registerDepartment(NEW_DEPT, DepartmentLevel.Town, ethers.ZeroHash, randomAddresses(Number(max)));
      expect((await registry.department(NEW_DEPT)).signerCount).to.equal(max);
    });

    it("refuses the zero id", async () => {
      const { registry, a } = await loadFixture(deployedWithDepartments);
      await expect(registry.connect(a.governor).registerDepartment(ethers.ZeroHash, DepartmentLevel.City, ethers.ZeroHash, [a.stranger.address]))
        .to.be.revertedWithCustomError(registry, "RegistryInvalidDepartmentId")
        .withArgs(ethers.ZeroHash);
    });

    it("refuses an id that is already registered", async () => {
      const { registry, a } = await loadFixture(deployedWithDepartments);
      await expect(registry.connect(a.governor).registerDepartment(DEPT.tax, DepartmentLevel.City, ethers.ZeroHash, [a.stranger.address]))
        .to.be.revertedWithCustomError(registry, "RegistryInvalidDepartmentId")
        .withArgs(DEPT.tax);
    });

    it("refuses an unknown parent", async () => {
      const { registry, a } = await loadFixture(deployedWithDepartments);
      const unknown = codeId("cq.nowhere");
      await expect(registry.connect(a.governor).registerDepartment(NEW_DEPT, DepartmentLevel.Town, unknown, [a.stranger.address]))
        .to.be.revertedWithCustomError(registry, "RegistryUnknownDepartment")
        .withArgs(unknown);
    });

    it("refuses a department that names itself as parent", async () => {
      const { registry, a } = await loadFixture(deployedWithDepartments);
      await expect(registry.connect(a.governor).registerDepartment(NEW_DEPT, DepartmentLevel.Town, NEW_DEPT, [a.stranger.address]))
        .to.be.revertedWithCustomError(registry, "RegistryUnknownDepartment")
        .withArgs(NEW_DEPT);
    });

    it("refuses a department without signers", async () => {
      const { registry, a } = await loadFixture(deployedWithDepartments);
      await expect(registry.connect(a.governor).registerDepartment(NEW_DEPT, DepartmentLevel.City, ethers.ZeroHash, []))
        .to.be.revertedWithCustomError(registry, "RegistryInvalidSigner")
        .withArgs(NEW_DEPT, ethers.ZeroAddress);
    });

    it("refuses more than MAX_SIGNERS signers", async () => {
      const { registry, a } = await loadFixture(deployedWithDepartments);
      await expect(registry.connect(a.governor).registerDepartment(NEW_DEPT, DepartmentLevel.City, ethers.ZeroHash, randomAddresses(17)))
        .to.be.revertedWithCustomError(registry, "RegistryTooManySigners")
        .withArgs(NEW_DEPT, 16n);
    });

    it("refuses the zero address as a signer", async () => {
      const { registry, a } = await loadFixture(deployedWithDepartments);
      await expect(
        registry.connect(a.governor).registerDepartment(NEW_DEPT, DepartmentLevel.City, ethers.ZeroHash, [a.stranger.address, ethers.ZeroAddress]),
      )
        .to.be.revertedWithCustomError(registry, "RegistryInvalidSigner")
        .withArgs(NEW_DEPT, ethers.ZeroAddress);
    });

    it("refuses the same signer twice", async () => {
      const { registry, a } = await loadFixture(deployedWithDepartments);
      await expect(
        registry.connect(a.governor).registerDepartment(NEW_DEPT, DepartmentLevel.City, ethers.ZeroHash, [a.stranger.address, a.stranger.address]),
      )
        .to.be.revertedWithCustomError(registry, "RegistryInvalidSigner")
        .withArgs(NEW_DEPT, a.stranger.address);
      expect(await registry.exists(NEW_DEPT)).to.equal(false);
    });

    it("refuses a caller without the governor role, even a department signer", async () => {
      const { registry, a } = await loadFixture(deployedWithDepartments);
      for (const caller of [a.stranger, a.bigdata, a.regulator]) {
        await expect(registry.connect(caller).registerDepartment(NEW_DEPT, DepartmentLevel.City, ethers.ZeroHash, [a.stranger.address]))
          .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, ROLES.governor);
      }
    });
  });

  describe("setDepartmentActive", () => {
    it("deactivates a department so that its signers are no longer signers, and reactivates it", async () => {
      const { registry, a } = await loadFixture(deployedWithDepartments);
      await expect(registry.connect(a.governor).setDepartmentActive(DEPT.tax, false))
        .to.emit(registry, "DepartmentActiveSet")
        .withArgs(DEPT.tax, false);
      expect(await registry.isSigner(DEPT.tax, a.tax.address)).to.equal(false);
      expect((await registry.department(DEPT.tax)).active).to.equal(false);
      expect(await registry.exists(DEPT.tax)).to.equal(true);
      expect(await registry.signersOf(DEPT.tax)).to.deep.equal([a.tax.address, a.tax2.address]);

      await expect(registry.connect(a.governor).setDepartmentActive(DEPT.tax, true))
        .to.emit(registry, "DepartmentActiveSet")
        .withArgs(DEPT.tax, true);
      expect(await registry.isSigner(DEPT.tax, a.tax.address)).to.equal(true);
    });

    it("refuses an unknown department", async () => {
      const { registry, a } = await loadFixture(deployedWithDepartments);
      await expect(registry.connect(a.governor).setDepartmentActive(NEW_DEPT, false))
        .to.be.revertedWithCustomError(registry, "RegistryUnknownDepartment")
        .withArgs(NEW_DEPT);
    });

    it("refuses a caller without the governor role, even the department's own signer", async () => {
      const { registry, a } = await loadFixture(deployedWithDepartments);
      await expect(registry.connect(a.tax).setDepartmentActive(DEPT.tax, false))
        .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
        .withArgs(a.tax.address, ROLES.governor);
    });
  });

  describe("addSigner", () => {
    it("lets the governor add a signer", async () => {
      const { registry, a } = await loadFixture(deployedWithDepartments);
      await expect(registry.connect(a.governor).addSigner(DEPT.water, a.stranger.address))
        .to.emit(registry, "SignerAdded")
        .withArgs(DEPT.water, a.stranger.address, a.governor.address);
      expect(await registry.isSigner(DEPT.water, a.stranger.address)).to.equal(true);
      expect(await registry.signersOf(DEPT.water)).to.deep.equal([a.water.address, a.stranger.address]);
      expect((await registry.department(DEPT.water)).signerCount).to.equal(2n);
    });

    it("lets a department's own signer add a key (rotation)", async () => {
      const { registry, a } = await loadFixture(deployedWithDepartments);
      await expect(registry.connect(a.water).addSigner(DEPT.water, a.stranger.address))
        .to.emit(registry, "SignerAdded")
        .withArgs(DEPT.water, a.stranger.address, a.water.address);
      expect(await registry.isSigner(DEPT.water, a.stranger.address)).to.equal(true);
    });

    it("lets the governor add a key to an inactive department", async () => {
      const { registry, a } = await loadFixture(deployedWithDepartments);
      await registry.connect(a.governor).setDepartmentActive(DEPT.water, false);
      await registry.connect(a.governor).addSigner(DEPT.water, a.stranger.address);
      expect(await registry.signersOf(DEPT.water)).to.include(a.stranger.address);
      expect(await registry.isSigner(DEPT.water, a.stranger.address)).to.equal(false);
    });

    it("refuses another department's signer", async () => {
      const { registry, a } = await loadFixture(deployedWithDepartments);
      await expect(registry.connect(a.tax).addSigner(DEPT.water, a.tax.address))
        .to.be.revertedWithCustomError(registry, "RegistryUnauthorized")
        .withArgs(DEPT.water, a.tax.address);
    });

    it("refuses a stranger", async () => {
      const { registry, a } = await loadFixture(deployedWithDepartments);
      await expect(registry.connect(a.stranger).addSigner(DEPT.water, a.stranger.address))
        .to.be.revertedWithCustomError(registry, "RegistryUnauthorized")
        .withArgs(DEPT.water, a.stranger.address);
    });

    it("refuses a signer of an inactive department", async () => {
      const { registry, a } = await loadFixture(deployedWithDepartments);
      await registry.connect(a.governor).setDepartmentActive(DEPT.water, false);
      await expect(registry.connect(a.water).addSigner(DEPT.water, a.stranger.address))
        .to.be.revertedWithCustomError(registry, "RegistryUnauthorized")
        .withArgs(DEPT.water, a.water.address);
    });

    it("refuses an unknown department", async () => {
      const { registry, a } = await loadFixture(deployedWithDepartments);
      await expect(registry.connect(a.governor).addSigner(NEW_DEPT, a.stranger.address))
        .to.be.revertedWithCustomError(registry, "RegistryUnknownDepartment")
        .withArgs(NEW_DEPT);
    });

    it("refuses the zero address", async () => {
      const { registry, a } = await loadFixture(deployedWithDepartments);
      await expect(registry.connect(a.governor).addSigner(DEPT.water, ethers.ZeroAddress))
        .to.be.revertedWithCustomError(registry, "RegistryInvalidSigner")
        .withArgs(DEPT.water, ethers.ZeroAddress);
    });

    it("refuses a key that is already a signer", async () => {
      const { registry, a } = await loadFixture(deployedWithDepartments);
      await expect(registry.connect(a.tax).addSigner(DEPT.tax, a.tax2.address))
        .to.be.revertedWithCustomError(registry, "RegistryInvalidSigner")
        .withArgs(DEPT.tax, a.tax2.address);
    });

    it("refuses a signer beyond MAX_SIGNERS", async () => {
      const { registry, a } = await loadFixture(deployedWithDepartments);
      const gov = registry.connect(a.governor);
      for (const s of randomAddresses(15)) await gov.addSigner(DEPT.water, s);
      expect((await registry.department(DEPT.water)).signerCount).to.equal(16n);
      await expect(gov.addSigner(DEPT.water, a.stranger.address))
        .to.be.revertedWithCustomError(registry, "RegistryTooManySigners")
        .withArgs(DEPT.water, 16n);
    });
  });

  describe("removeSigner", () => {
    it("lets the governor remove a signer, which then is no longer a signer", async () => {
      const { registry, a } = await loadFixture(deployedWithDepartments);
      await expect(registry.connect(a.governor).removeSigner(DEPT.tax, a.tax2.address))
        .to.emit(registry, "SignerRemoved")
        .withArgs(DEPT.tax, a.tax2.address, a.governor.address);
      expect(await registry.isSigner(DEPT.tax, a.tax2.address)).to.equal(false);
      expect(await registry.signersOf(DEPT.tax)).to.deep.equal([a.tax.address]);
      expect((await registry.department(DEPT.tax)).signerCount).to.equal(1n);
    });

    it("rotates a key: a signer adds a new key and the new key removes the old one", async () => {
      const { registry, a } = await loadFixture(deployedWithDepartments);
      await registry.connect(a.water).addSigner(DEPT.water, a.stranger.address);
      await expect(registry.connect(a.stranger).removeSigner(DEPT.water, a.water.address))
        .to.emit(registry, "SignerRemoved")
        .withArgs(DEPT.water, a.water.address, a.stranger.address);
      expect(await registry.signersOf(DEPT.water)).to.deep.equal([a.stranger.address]);
      expect(await registry.isSigner(DEPT.water, a.water.address)).to.equal(false);
    });

    it("lets a signer remove itself while another key remains", async () => {
      const { registry, a } = await loadFixture(deployedWithDepartments);
      await registry.connect(a.tax2).removeSigner(DEPT.tax, a.tax2.address);
      expect(await registry.signersOf(DEPT.tax)).to.deep.equal([a.tax.address]);
    });

    it("leaves a removed key unable to add or remove signers", async () => {
      const { registry, a } = await loadFixture(deployedWithDepartments);
      await registry.connect(a.tax).removeSigner(DEPT.tax, a.tax2.address);
      await expect(registry.connect(a.tax2).addSigner(DEPT.tax, a.stranger.address))
        .to.be.revertedWithCustomError(registry, "RegistryUnauthorized")
        .withArgs(DEPT.tax, a.tax2.address);
      await registry.connect(a.governor).addSigner(DEPT.tax, a.stranger.address);
      await expect(registry.connect(a.tax2).removeSigner(DEPT.tax, a.tax.address))
        .to.be.revertedWithCustomError(registry, "RegistryUnauthorized")
        .withArgs(DEPT.tax, a.tax2.address);
    });

    it("refuses another department's signer", async () => {
      const { registry, a } = await loadFixture(deployedWithDepartments);
      await expect(registry.connect(a.water).removeSigner(DEPT.tax, a.tax2.address))
        .to.be.revertedWithCustomError(registry, "RegistryUnauthorized")
        .withArgs(DEPT.tax, a.water.address);
      expect(await registry.isSigner(DEPT.tax, a.tax2.address)).to.equal(true);
    });

    it("refuses a key that is not a signer", async () => {
      const { registry, a } = await loadFixture(deployedWithDepartments);
      await expect(registry.connect(a.governor).removeSigner(DEPT.tax, a.stranger.address))
        .to.be.revertedWithCustomError(registry, "RegistryInvalidSigner")
        .withArgs(DEPT.tax, a.stranger.address);
    });

    it("refuses to remove the last signer", async () => {
      const { registry, a } = await loadFixture(deployedWithDepartments);
      await expect(registry.connect(a.governor).removeSigner(DEPT.water, a.water.address))
        .to.be.revertedWithCustomError(registry, "RegistryLastSigner")
        .withArgs(DEPT.water, a.water.address);
      expect(await registry.isSigner(DEPT.water, a.water.address)).to.equal(true);
      expect((await registry.department(DEPT.water)).signerCount).to.equal(1n);
    });

    it("refuses an unknown department", async () => {
      const { registry, a } = await loadFixture(deployedWithDepartments);
      await expect(registry.connect(a.governor).removeSigner(NEW_DEPT, a.stranger.address))
        .to.be.revertedWithCustomError(registry, "RegistryUnknownDepartment")
        .withArgs(NEW_DEPT);
    });
  });

  describe("views", () => {
    it("answers isSigner false for an unknown department or a non-signer", async () => {
      const { registry, a } = await loadFixture(deployedWithDepartments);
      expect(await registry.isSigner(NEW_DEPT, a.tax.address)).to.equal(false);
      expect(await registry.isSigner(DEPT.water, a.tax.address)).to.equal(false);
    });

    it("answers exists for registered departments only", async () => {
      const { registry } = await loadFixture(deployedWithDepartments);
      expect(await registry.exists(DEPT.yuzhong)).to.equal(true);
      expect(await registry.exists(NEW_DEPT)).to.equal(false);
      expect(await registry.exists(ethers.ZeroHash)).to.equal(false);
    });

    it("returns a department with its level and parent", async () => {
      const { registry } = await loadFixture(deployedWithDepartments);
      const d = await registry.department(DEPT.yuzhong);
      expect(d.level).to.equal(DepartmentLevel.District);
      expect(d.parent).to.equal(DEPT.bigdata);
      expect(d.active).to.equal(true);
      expect(d.signerCount).to.equal(1n);
    });

    it("refuses department() of an unknown id", async () => {
      const { registry } = await loadFixture(deployedWithDepartments);
      await expect(registry.department(NEW_DEPT)).to.be.revertedWithCustomError(registry, "RegistryUnknownDepartment").withArgs(NEW_DEPT);
    });

    it("lists the signers of a department, and none for an unknown one", async () => {
      const { registry, a } = await loadFixture(deployedWithDepartments);
      expect(await registry.signersOf(DEPT.tax)).to.deep.equal([a.tax.address, a.tax2.address]);
      expect(await registry.signersOf(NEW_DEPT)).to.deep.equal([]);
    });
  });

  describe("roles", () => {
    it("names its roles as keccak256 of the role name", async () => {
      const { registry } = await loadFixture(deployedWithDepartments);
      expect(await registry.GOVERNOR_ROLE()).to.equal(ROLES.governor);
      expect(await registry.REGULATOR_ROLE()).to.equal(ROLES.regulator);
      expect(await registry.EXCHANGE_ROLE()).to.equal(ROLES.exchange);
    });

    it("makes the constructor's governor admin and governor, not the deployer", async () => {
      const { registry, a } = await loadFixture(deployedWithDepartments);
      const admin = await registry.DEFAULT_ADMIN_ROLE();
      expect(await registry.hasRole(admin, a.governor.address)).to.equal(true);
      expect(await registry.hasRole(ROLES.governor, a.governor.address)).to.equal(true);
      expect(await registry.hasRole(admin, a.deployer.address)).to.equal(false);
      expect(await registry.hasRole(ROLES.governor, a.deployer.address)).to.equal(false);
      expect(await registry.getRoleAdmin(ROLES.regulator)).to.equal(admin);
    });

    it("lets the admin grant and revoke roles", async () => {
      const { registry, a } = await loadFixture(deployedWithDepartments);
      expect(await registry.hasRole(ROLES.regulator, a.regulator.address)).to.equal(true);
      expect(await registry.hasRole(ROLES.exchange, a.exchange.address)).to.equal(true);
      await expect(registry.connect(a.governor).grantRole(ROLES.governor, a.stranger.address))
        .to.emit(registry, "RoleGranted")
        .withArgs(ROLES.governor, a.stranger.address, a.governor.address);
      await registry.connect(a.stranger).setDepartmentActive(DEPT.water, false);
      await expect(registry.connect(a.governor).revokeRole(ROLES.governor, a.stranger.address))
        .to.emit(registry, "RoleRevoked")
        .withArgs(ROLES.governor, a.stranger.address, a.governor.address);
      expect(await registry.hasRole(ROLES.governor, a.stranger.address)).to.equal(false);
    });

    it("refuses a role grant by a non-admin", async () => {
      const { registry, a } = await loadFixture(deployedWithDepartments);
      const admin = await registry.DEFAULT_ADMIN_ROLE();
      await expect(registry.connect(a.regulator).grantRole(ROLES.regulator, a.stranger.address))
        .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
        .withArgs(a.regulator.address, admin);
    });
  });

  describe("deployment record (one registry address identifies a deployment)", () => {
    it("records the deployment's other contracts and the block the registry was deployed in", async () => {
      const c = await loadFixture(deployedWithDepartments);
      const d = await c.registry.deployment();
      expect(d.catalog).to.equal(await c.catalog.getAddress());
      expect(d.anchors).to.equal(await c.anchors.getAddress());
      expect(d.agreements).to.equal(await c.agreements.getAddress());
      expect(d.consents).to.equal(await c.consents.getAddress());
      expect(d.transfers).to.equal(await c.transfers.getAddress());
      expect(await c.registry.deployer()).to.equal(c.a.deployer.address);
      const deployedAt = await c.registry.deployedAtBlock();
      expect(await ethers.provider.getCode(await c.registry.getAddress(), deployedAt - 1n)).to.equal("0x");
      expect(await ethers.provider.getCode(await c.registry.getAddress(), deployedAt)).to.not.equal("0x");
    });

    it("records only once, even by the deployer", async () => {
      const c = await loadFixture(deployedWithDepartments);
      const d = await c.registry.deployment();
      await expect(c.registry.connect(c.a.deployer).recordDeployment({ catalog: d.catalog, anchors: d.anchors, agreements: d.agreements, consents: d.consents, transfers: d.transfers }))
        .to.be.revertedWithCustomError(c.registry, "RegistryDeploymentLocked").withArgs(c.a.deployer.address);
    });

    async function freshRegistry() {
      const c = await loadFixture(deployedWithDepartments);
      const registry = await (await ethers.getContractFactory("DepartmentRegistry", c.a.deployer)).deploy(c.a.governor.address);
      const catalog = await (await ethers.getContractFactory("ResourceCatalog", c.a.deployer)).deploy(registry);
      const own = await catalog.getAddress();
      const parts = { catalog: own, anchors: own, agreements: own, consents: own, transfers: own };
      return { c, registry, own, parts };
    }

    it("refuses anyone but the deployer, the governor included", async () => {
      const { c, registry, parts } = await freshRegistry();
      await expect(registry.connect(c.a.governor).recordDeployment(parts))
        .to.be.revertedWithCustomError(registry, "RegistryDeploymentLocked").withArgs(c.a.governor.address);
      await expect(registry.connect(c.a.deployer).recordDeployment(parts)).to.emit(registry, "DeploymentRecorded");
    });

    it("refuses a contract of another deployment, an account without code, and a contract without registry()", async () => {
      const { c, registry, parts } = await freshRegistry();
      const foreign = await c.catalog.getAddress(); // names the fixture's registry, not this one
      await expect(registry.recordDeployment({ ...parts, agreements: foreign }))
        .to.be.revertedWithCustomError(registry, "RegistryDeploymentInvalid").withArgs(foreign);
      await expect(registry.recordDeployment({ ...parts, consents: c.a.stranger.address }))
        .to.be.revertedWithCustomError(registry, "RegistryDeploymentInvalid").withArgs(c.a.stranger.address);
      const noGetter = await c.registry.getAddress(); // a contract, but it has no registry()
      await expect(registry.recordDeployment({ ...parts, transfers: noGetter }))
        .to.be.revertedWithCustomError(registry, "RegistryDeploymentInvalid").withArgs(noGetter);
      expect((await registry.deployment()).catalog).to.equal(ethers.ZeroAddress);
    });
  });
});
