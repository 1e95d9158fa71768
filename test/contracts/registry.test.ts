import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { deployedWithDepartments, DEPT, LOG_ID } from "./fixture";
import { codeId, DepartmentLevel, ROLES } from "../../node/chain/ids";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { AGREEMENT_TYPES, DOMAIN_NAMES, RECOVERY_VETO_TYPES, SIGNER_CHANGE_TYPES, SignerAction } from "../../node/chain/typed-data";
import type { Deployment } from "./fixture";

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
    it("closes 'the governor signs as any department': the governor cannot add its own key to a department", async () => {
      const { registry, a } = await loadFixture(deployedWithDepartments);
      await expect(registry.connect(a.governor).addSigner(DEPT.water, a.governor.address))
        .to.be.revertedWithCustomError(registry, "RegistryUnauthorized")
        .withArgs(DEPT.water, a.governor.address);
      expect(await registry.isSigner(DEPT.water, a.governor.address)).to.equal(false);
      expect(await registry.signersOf(DEPT.water)).to.deep.equal([a.water.address]);
    });

    it("lets a department's own signer add a key (rotation)", async () => {
      const { registry, a } = await loadFixture(deployedWithDepartments);
      await expect(registry.connect(a.water).addSigner(DEPT.water, a.stranger.address))
        .to.emit(registry, "SignerAdded")
        .withArgs(DEPT.water, a.stranger.address, a.water.address);
      expect(await registry.isSigner(DEPT.water, a.stranger.address)).to.equal(true);
      expect(await registry.signersOf(DEPT.water)).to.deep.equal([a.water.address, a.stranger.address]);
      expect((await registry.department(DEPT.water)).signerCount).to.equal(2n);
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
      await expect(registry.connect(a.water).addSigner(NEW_DEPT, a.stranger.address))
        .to.be.revertedWithCustomError(registry, "RegistryUnknownDepartment")
        .withArgs(NEW_DEPT);
    });

    it("refuses the zero address", async () => {
      const { registry, a } = await loadFixture(deployedWithDepartments);
      await expect(registry.connect(a.water).addSigner(DEPT.water, ethers.ZeroAddress))
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
      const own = registry.connect(a.water);
      for (const s of randomAddresses(15)) await own.addSigner(DEPT.water, s);
      expect((await registry.department(DEPT.water)).signerCount).to.equal(16n);
      await expect(own.addSigner(DEPT.water, a.stranger.address))
        .to.be.revertedWithCustomError(registry, "RegistryTooManySigners")
        .withArgs(DEPT.water, 16n);
    });
  });

  describe("removeSigner", () => {
    it("refuses the governor, and lets a signer remove another key, which then is no longer a signer", async () => {
      const { registry, a } = await loadFixture(deployedWithDepartments);
      await expect(registry.connect(a.governor).removeSigner(DEPT.tax, a.tax2.address))
        .to.be.revertedWithCustomError(registry, "RegistryUnauthorized")
        .withArgs(DEPT.tax, a.governor.address);
      await expect(registry.connect(a.tax).removeSigner(DEPT.tax, a.tax2.address))
        .to.emit(registry, "SignerRemoved")
        .withArgs(DEPT.tax, a.tax2.address, a.tax.address);
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
      await registry.connect(a.tax).addSigner(DEPT.tax, a.stranger.address);
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
      await expect(registry.connect(a.tax).removeSigner(DEPT.tax, a.stranger.address))
        .to.be.revertedWithCustomError(registry, "RegistryInvalidSigner")
        .withArgs(DEPT.tax, a.stranger.address);
    });

    it("refuses to remove the last signer", async () => {
      const { registry, a } = await loadFixture(deployedWithDepartments);
      await expect(registry.connect(a.water).removeSigner(DEPT.water, a.water.address))
        .to.be.revertedWithCustomError(registry, "RegistryLastSigner")
        .withArgs(DEPT.water, a.water.address);
      expect(await registry.isSigner(DEPT.water, a.water.address)).to.equal(true);
      expect((await registry.department(DEPT.water)).signerCount).to.equal(1n);
    });

    it("refuses an unknown department", async () => {
      const { registry, a } = await loadFixture(deployedWithDepartments);
      await expect(registry.connect(a.tax).removeSigner(NEW_DEPT, a.stranger.address))
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

  describe("thresholds: k of n signers change a department's keys", () => {
    type Change = { department: string; action: number; signer: string; threshold: number; nonce: number };
    const domainOf = async (registry: Deployment["registry"]) => ({
      name: DOMAIN_NAMES.registry, version: "1", chainId: (await ethers.provider.getNetwork()).chainId, verifyingContract: await registry.getAddress(),
    });
    /** Signatures of `signers` over `change`, in ascending order of address (as the registry requires). */
    async function sign(registry: Deployment["registry"], change: Change, signers: HardhatEthersSigner[]) {
      const domain = await domainOf(registry);
      const sorted = [...signers].sort((x, y) => (BigInt(x.address) < BigInt(y.address) ? -1 : 1));
      return Promise.all(sorted.map(async (k) => ({ signer: k.address, signature: await k.signTypedData(domain, SIGNER_CHANGE_TYPES, change) })));
    }
    /** A 2-of-3 department whose keys are tax, tax2 and civil's signer. */
    async function twoOfThree() {
      const d = await deployedWithDepartments();
      await d.registry.connect(d.a.governor).registerDepartmentWithThreshold(NEW_DEPT, DepartmentLevel.City, ethers.ZeroHash, [d.a.tax.address, d.a.tax2.address, d.a.civil.address], 2);
      return d;
    }
    const change = (over: Partial<Change>): Change => ({ department: NEW_DEPT, action: SignerAction.Add, signer: ethers.ZeroAddress, threshold: 2, nonce: 0, ...over });

    it("registers with a threshold, 1 by default; refuses a threshold of 0 or above the signer count", async () => {
      const d = await loadFixture(twoOfThree);
      expect((await d.registry.department(NEW_DEPT)).threshold).to.equal(2n);
      expect((await d.registry.department(DEPT.water)).threshold).to.equal(1n);
      const gov = d.registry.connect(d.a.governor);
      for (const k of [0, 3]) {
        await expect(gov.registerDepartmentWithThreshold(codeId(`cq.k${k}`), DepartmentLevel.City, ethers.ZeroHash, [d.a.stranger.address, d.a.subject.address], k))
          .to.be.revertedWithCustomError(d.registry, "RegistryInvalidThreshold").withArgs(codeId(`cq.k${k}`), k, 2);
      }
    });

    it("one compromised key of a 2-of-3 department can neither add its own key nor remove the others", async () => {
      const d = await loadFixture(twoOfThree);
      const thief = d.a.tax2;
      await expect(d.registry.connect(thief).addSigner(NEW_DEPT, d.a.stranger.address))
        .to.be.revertedWithCustomError(d.registry, "RegistryThresholdNotMet").withArgs(NEW_DEPT, 1, 2);
      await expect(d.registry.connect(thief).removeSigner(NEW_DEPT, d.a.tax.address))
        .to.be.revertedWithCustomError(d.registry, "RegistryThresholdNotMet").withArgs(NEW_DEPT, 1, 2);
      const add = change({ action: SignerAction.Add, signer: d.a.stranger.address });
      await expect(d.registry.changeSigners(add, await sign(d.registry, add, [thief])))
        .to.be.revertedWithCustomError(d.registry, "RegistryThresholdNotMet").withArgs(NEW_DEPT, 1, 2);
      // The same key twice counts once (signers must be strictly ascending).
      const [one] = await sign(d.registry, add, [thief]);
      await expect(d.registry.changeSigners(add, [one, one])).to.be.revertedWithCustomError(d.registry, "RegistryInvalidSignature").withArgs(NEW_DEPT, thief.address);
      const remove = change({ action: SignerAction.Remove, signer: d.a.tax.address });
      await expect(d.registry.changeSigners(remove, await sign(d.registry, remove, [thief])))
        .to.be.revertedWithCustomError(d.registry, "RegistryThresholdNotMet").withArgs(NEW_DEPT, 1, 2);
      // Nor can it lower the threshold to act alone.
      const lower = change({ action: SignerAction.SetThreshold, threshold: 1 });
      await expect(d.registry.changeSigners(lower, await sign(d.registry, lower, [thief])))
        .to.be.revertedWithCustomError(d.registry, "RegistryThresholdNotMet").withArgs(NEW_DEPT, 1, 2);
      expect(await d.registry.signersOf(NEW_DEPT)).to.deep.equal([d.a.tax.address, d.a.tax2.address, d.a.civil.address]);
    });

    it("two signers remove the stolen key; the signed change cannot be replayed", async () => {
      const d = await loadFixture(twoOfThree);
      const remove = change({ action: SignerAction.Remove, signer: d.a.tax2.address });
      const sigs = await sign(d.registry, remove, [d.a.tax, d.a.civil]);
      await expect(d.registry.connect(d.a.stranger).changeSigners(remove, sigs)).to.emit(d.registry, "SignerRemoved").withArgs(NEW_DEPT, d.a.tax2.address, d.a.stranger.address);
      expect(await d.registry.isSigner(NEW_DEPT, d.a.tax2.address)).to.equal(false);
      expect((await d.registry.department(NEW_DEPT)).changeNonce).to.equal(1n);
      await expect(d.registry.changeSigners(remove, sigs)).to.be.revertedWithCustomError(d.registry, "RegistryStaleChange").withArgs(NEW_DEPT, 1);
      // 2 of 2 left: removing another would leave fewer signers than the threshold.
      const again = change({ action: SignerAction.Remove, signer: d.a.civil.address, nonce: 1 });
      await expect(d.registry.changeSigners(again, await sign(d.registry, again, [d.a.tax, d.a.civil])))
        .to.be.revertedWithCustomError(d.registry, "RegistryInvalidThreshold").withArgs(NEW_DEPT, 2, 1);
    });

    it("two signers add a key and set the threshold; a signature by a non-signer or over other terms is refused", async () => {
      const d = await loadFixture(twoOfThree);
      const add = change({ action: SignerAction.Add, signer: d.a.stranger.address });
      await expect(d.registry.changeSigners(add, await sign(d.registry, add, [d.a.stranger, d.a.tax])))
        .to.be.revertedWithCustomError(d.registry, "RegistryInvalidSignature");
      const signedOther = await sign(d.registry, { ...add, signer: d.a.subject.address }, [d.a.tax, d.a.civil]);
      await expect(d.registry.changeSigners(add, signedOther)).to.be.revertedWithCustomError(d.registry, "RegistryInvalidSignature");
      await d.registry.changeSigners(add, await sign(d.registry, add, [d.a.tax, d.a.civil]));
      expect(await d.registry.isSigner(NEW_DEPT, d.a.stranger.address)).to.equal(true);
      const k3 = change({ action: SignerAction.SetThreshold, threshold: 3, nonce: 1 });
      await expect(d.registry.changeSigners(k3, await sign(d.registry, k3, [d.a.tax, d.a.stranger]))).to.emit(d.registry, "ThresholdSet").withArgs(NEW_DEPT, 3);
      const k5 = change({ action: SignerAction.SetThreshold, threshold: 5, nonce: 2 });
      await expect(d.registry.changeSigners(k5, await sign(d.registry, k5, [d.a.tax, d.a.civil, d.a.stranger])))
        .to.be.revertedWithCustomError(d.registry, "RegistryInvalidThreshold").withArgs(NEW_DEPT, 5, 4);
      const unknown = { ...change({}), department: codeId("cq.nowhere") };
      await expect(d.registry.changeSigners(unknown, [])).to.be.revertedWithCustomError(d.registry, "RegistryUnknownDepartment");
    });

    it("co-signatures on agreements still need one valid signer of the 2-of-3 department", async () => {
      const d = await loadFixture(twoOfThree);
      const resource = codeId("res.health.records");
      await d.catalog.connect(d.a.governor).registerResource(resource, NEW_DEPT, ethers.id("schema"), 1, false);
      const now = BigInt(await time.latest());
      const terms = { provider: NEW_DEPT, consumer: DEPT.water, resource, purposeHash: ethers.id("p"), quota: 10n, validFrom: now, validUntil: now + 3600n, nonce: 1n, meteringLog: LOG_ID };
      const domain = { name: DOMAIN_NAMES.agreements, version: "1", chainId: d.chainId, verifyingContract: await d.agreements.getAddress() };
      const ps = { signer: d.a.tax2.address, signature: await d.a.tax2.signTypedData(domain, AGREEMENT_TYPES, terms) };
      const cs = { signer: d.a.water.address, signature: await d.a.water.signTypedData(domain, AGREEMENT_TYPES, terms) };
      await expect(d.agreements.activate(terms, ps, cs)).to.emit(d.agreements, "AgreementActivated");
    });
  });

  describe("recovery: the governor cannot act as a department without a public delay it can veto", () => {
    const ADD = () => [ethers.Wallet.createRandom().address];
    async function proposed() {
      const d = await deployedWithDepartments();
      const add = ADD();
      await d.registry.connect(d.a.governor).proposeRecovery(DEPT.water, add, [d.a.water.address], 1);
      return { ...d, add };
    }
    const vetoSig = async (d: Deployment, key: HardhatEthersSigner) => {
      const r = await d.registry.recoveryOf(DEPT.water);
      const domain = { name: DOMAIN_NAMES.registry, version: "1", chainId: d.chainId, verifyingContract: await d.registry.getAddress() };
      return { signer: key.address, signature: await key.signTypedData(domain, RECOVERY_VETO_TYPES, { department: DEPT.water, recoveryHash: r.hash }) };
    };

    it("runs only after RECOVERY_DELAY, replacing the keys, and voids signatures gathered before", async () => {
      const d = await loadFixture(proposed);
      const r = await d.registry.recoveryOf(DEPT.water);
      const delay = await d.registry.RECOVERY_DELAY();
      const gov = d.registry.connect(d.a.governor);
      await expect(gov.executeRecovery(DEPT.water, d.add, [d.a.water.address], 1))
        .to.be.revertedWithCustomError(d.registry, "RegistryRecoveryNotReady").withArgs(DEPT.water, r.executableAt);
      await time.increaseTo(r.executableAt - 1n);
      expect(r.executableAt - BigInt(await time.latest())).to.be.at.most(delay);
      await time.increaseTo(r.executableAt);
      await expect(gov.executeRecovery(DEPT.water, d.add, [], 1)).to.be.revertedWithCustomError(d.registry, "RegistryNoRecovery").withArgs(DEPT.water);
      await expect(gov.executeRecovery(DEPT.water, d.add, [d.a.water.address], 1)).to.emit(d.registry, "RecoveryExecuted").withArgs(DEPT.water, d.a.governor.address);
      expect(await d.registry.signersOf(DEPT.water)).to.deep.equal(d.add);
      expect((await d.registry.department(DEPT.water)).changeNonce).to.equal(1n);
      expect((await d.registry.recoveryOf(DEPT.water)).executableAt).to.equal(0n);
    });

    it("any one current key vetoes it; a stranger cannot; nothing to veto or run afterwards", async () => {
      const d = await loadFixture(proposed);
      await expect(d.registry.vetoRecovery(DEPT.water, await vetoSig(d, d.a.stranger))).to.be.revertedWithCustomError(d.registry, "RegistryInvalidSignature").withArgs(DEPT.water, d.a.stranger.address);
      await expect(d.registry.connect(d.a.stranger).vetoRecovery(DEPT.water, await vetoSig(d, d.a.water))).to.emit(d.registry, "RecoveryVetoed").withArgs(DEPT.water, d.a.water.address);
      await time.increase(4 * 24 * 3600);
      await expect(d.registry.connect(d.a.governor).executeRecovery(DEPT.water, d.add, [d.a.water.address], 1)).to.be.revertedWithCustomError(d.registry, "RegistryNoRecovery");
      await expect(d.registry.vetoRecovery(DEPT.water, await vetoSig(d, d.a.water))).to.be.revertedWithCustomError(d.registry, "RegistryNoRecovery");
      expect(await d.registry.signersOf(DEPT.water)).to.deep.equal([d.a.water.address]);
    });

    it("refuses a veto signed over another recovery, even by a current key; exposes its EIP-712 domain", async () => {
      const d = await loadFixture(proposed);
      const domain = { name: DOMAIN_NAMES.registry, version: "1", chainId: d.chainId, verifyingContract: await d.registry.getAddress() };
      expect(await d.registry.domainSeparator()).to.equal(ethers.TypedDataEncoder.hashDomain(domain));
      const wrong = { signer: d.a.water.address, signature: await d.a.water.signTypedData(domain, RECOVERY_VETO_TYPES, { department: DEPT.water, recoveryHash: ethers.id("another recovery") }) };
      await expect(d.registry.vetoRecovery(DEPT.water, wrong)).to.be.revertedWithCustomError(d.registry, "RegistryInvalidSignature").withArgs(DEPT.water, d.a.water.address);
      expect((await d.registry.recoveryOf(DEPT.water)).executableAt).to.not.equal(0n);
    });

    it("only the governor registers with a threshold", async () => {
      const d = await loadFixture(deployedWithDepartments);
      await expect(d.registry.connect(d.a.water).registerDepartmentWithThreshold(NEW_DEPT, DepartmentLevel.City, ethers.ZeroHash, [d.a.stranger.address], 1))
        .to.be.revertedWithCustomError(d.registry, "AccessControlUnauthorizedAccount");
    });

    it("only the governor proposes or runs a recovery, of a registered department", async () => {
      const d = await loadFixture(proposed);
      await expect(d.registry.connect(d.a.water).proposeRecovery(DEPT.water, [], [], 1)).to.be.revertedWithCustomError(d.registry, "AccessControlUnauthorizedAccount");
      await expect(d.registry.connect(d.a.water).executeRecovery(DEPT.water, d.add, [d.a.water.address], 1)).to.be.revertedWithCustomError(d.registry, "AccessControlUnauthorizedAccount");
      await expect(d.registry.connect(d.a.governor).proposeRecovery(NEW_DEPT, [], [], 1)).to.be.revertedWithCustomError(d.registry, "RegistryUnknownDepartment");
    });
  });
});
