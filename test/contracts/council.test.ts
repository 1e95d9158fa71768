/**
 * GovernanceCouncil: m of n members' EIP-712 signatures for every governance act, the council changing
 * itself the same way, and — holding the registry's governor and admin roles — still unable to act as
 * a department (closes the review's "the governor signs as any department").
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { deployDcl } from "../../node/chain/deploy";
import { codeId, DepartmentLevel, ROLES } from "../../node/chain/ids";
import { COUNCIL_CALL_TYPES, DOMAIN_NAMES } from "../../node/chain/typed-data";
import { GovernanceCouncil__factory, type GovernanceCouncil } from "../../typechain-types";

const NEW_DEPT = codeId("cq.health");
const byAddress = (a: HardhatEthersSigner, b: HardhatEthersSigner) => (BigInt(a.address) < BigInt(b.address) ? -1 : 1);

/** A 2-of-3 council holding the registry's governor and admin roles; the deployer handed them over. */
async function councilGoverned() {
  const s = await ethers.getSigners();
  const [deployer, m1, m2, m3, water, stranger] = s;
  const council = await new GovernanceCouncil__factory(deployer).deploy([m1.address, m2.address, m3.address], 2);
  const c = await deployDcl(deployer, deployer.address);
  const reg = c.registry.connect(deployer);
  await reg.registerDepartment(codeId("cq.water"), DepartmentLevel.City, ethers.ZeroHash, [water.address]);
  await reg.grantRole(ROLES.governor, await council.getAddress());
  await reg.grantRole(await reg.DEFAULT_ADMIN_ROLE(), await council.getAddress());
  await reg.renounceRole(ROLES.governor, deployer.address);
  await reg.renounceRole(await reg.DEFAULT_ADMIN_ROLE(), deployer.address);
  return { council, ...c, deployer, members: [m1, m2, m3], water, stranger };
}

/** Signatures of `signers` over the council's next call (`target`, `data`), in ascending signer order. */
async function sign(council: GovernanceCouncil, target: string, data: string, signers: HardhatEthersSigner[], nonce?: bigint) {
  const domain = { name: DOMAIN_NAMES.council, version: "1", chainId: (await ethers.provider.getNetwork()).chainId, verifyingContract: await council.getAddress() };
  const value = { target, data, nonce: nonce ?? (await council.nonce()) };
  return Promise.all([...signers].sort(byAddress).map(async (k) => ({ signer: k.address, signature: await k.signTypedData(domain, COUNCIL_CALL_TYPES, value) })));
}

describe("GovernanceCouncil", () => {
  it("registers a department with 2 of its 3 members' signatures; the deployer no longer can", async () => {
    const d = await loadFixture(councilGoverned);
    const target = await d.registry.getAddress();
    const data = d.registry.interface.encodeFunctionData("registerDepartment", [NEW_DEPT, DepartmentLevel.City, ethers.ZeroHash, [d.stranger.address]]);
    await expect(d.registry.connect(d.deployer).registerDepartment(NEW_DEPT, DepartmentLevel.City, ethers.ZeroHash, [d.stranger.address]))
      .to.be.revertedWithCustomError(d.registry, "AccessControlUnauthorizedAccount");
    await expect(d.council.connect(d.stranger).execute(target, data, await sign(d.council, target, data, [d.members[0], d.members[2]])))
      .to.emit(d.council, "CouncilExecuted").withArgs(0n, target, data);
    expect(await d.registry.exists(NEW_DEPT)).to.equal(true);
    expect(await d.council.nonce()).to.equal(1n);
  });

  it("enforces the threshold: one member alone, a repeated member, a stranger or a replayed call is refused", async () => {
    const d = await loadFixture(councilGoverned);
    const target = await d.registry.getAddress();
    const data = d.registry.interface.encodeFunctionData("grantRole", [ROLES.regulator, d.stranger.address]);
    await expect(d.council.execute(target, data, await sign(d.council, target, data, [d.members[1]])))
      .to.be.revertedWithCustomError(d.council, "CouncilThresholdNotMet").withArgs(1, 2);
    const [one] = await sign(d.council, target, data, [d.members[1]]);
    await expect(d.council.execute(target, data, [one, one])).to.be.revertedWithCustomError(d.council, "CouncilInvalidSignature").withArgs(d.members[1].address);
    await expect(d.council.execute(target, data, await sign(d.council, target, data, [d.members[0], d.stranger])))
      .to.be.revertedWithCustomError(d.council, "CouncilInvalidSignature");
    const signed = await sign(d.council, target, data, [d.members[0], d.members[1]]);
    const otherData = d.registry.interface.encodeFunctionData("grantRole", [ROLES.governor, d.stranger.address]);
    await expect(d.council.execute(target, otherData, signed)).to.be.revertedWithCustomError(d.council, "CouncilInvalidSignature");
    await d.council.execute(target, data, signed);
    expect(await d.registry.hasRole(ROLES.regulator, d.stranger.address)).to.equal(true);
    await expect(d.council.execute(target, data, signed)).to.be.revertedWithCustomError(d.council, "CouncilInvalidSignature");
    expect(await d.registry.hasRole(ROLES.governor, d.stranger.address)).to.equal(false);
  });

  it("bubbles up the target's revert, and then the nonce is not spent", async () => {
    const d = await loadFixture(councilGoverned);
    const target = await d.registry.getAddress();
    const data = d.registry.interface.encodeFunctionData("registerDepartment", [codeId("cq.water"), DepartmentLevel.City, ethers.ZeroHash, [d.stranger.address]]);
    await expect(d.council.execute(target, data, await sign(d.council, target, data, [d.members[0], d.members[1]])))
      .to.be.revertedWithCustomError(d.registry, "RegistryInvalidDepartmentId");
    expect(await d.council.nonce()).to.equal(0n);
  });

  it("changes itself only the same way (m of n), never by a direct call", async () => {
    const d = await loadFixture(councilGoverned);
    const self = await d.council.getAddress();
    await expect(d.council.connect(d.members[0]).setMembers([d.members[0].address], 1)).to.be.revertedWithCustomError(d.council, "CouncilOnlySelf").withArgs(d.members[0].address);
    const bad = d.council.interface.encodeFunctionData("setMembers", [[d.members[0].address], 2]);
    await expect(d.council.execute(self, bad, await sign(d.council, self, bad, [d.members[0], d.members[1]])))
      .to.be.revertedWithCustomError(d.council, "CouncilInvalidMembers").withArgs(1, 2);
    const next = [d.members[0].address, d.members[1].address, d.stranger.address, d.water.address];
    const data = d.council.interface.encodeFunctionData("setMembers", [next, 3]);
    await expect(d.council.execute(self, data, await sign(d.council, self, data, [d.members[1], d.members[2]]))).to.emit(d.council, "CouncilMembersSet");
    expect(await d.council.members()).to.deep.equal(next);
    expect(await d.council.threshold()).to.equal(3n);
    // The removed member's signature no longer counts; two are no longer enough.
    const target = await d.registry.getAddress();
    const call = d.registry.interface.encodeFunctionData("grantRole", [ROLES.exchange, d.stranger.address]);
    await expect(d.council.execute(target, call, await sign(d.council, target, call, [d.members[0], d.members[2]])))
      .to.be.revertedWithCustomError(d.council, "CouncilInvalidSignature").withArgs(d.members[2].address);
    await expect(d.council.execute(target, call, await sign(d.council, target, call, [d.members[0], d.members[1]])))
      .to.be.revertedWithCustomError(d.council, "CouncilThresholdNotMet").withArgs(2, 3);
    await d.council.execute(target, call, await sign(d.council, target, call, [d.members[0], d.members[1], d.stranger]));
    expect(await d.registry.hasRole(ROLES.exchange, d.stranger.address)).to.equal(true);
  });

  it("refuses a council with no members, a zero or repeated member, or a threshold outside 1..n", async () => {
    const [deployer, a, b] = await ethers.getSigners();
    const f = new GovernanceCouncil__factory(deployer);
    await expect(f.deploy([], 1)).to.be.revertedWithCustomError(f, "CouncilInvalidMembers").withArgs(0, 1);
    await expect(f.deploy([a.address, b.address], 0)).to.be.revertedWithCustomError(f, "CouncilInvalidMembers").withArgs(2, 0);
    await expect(f.deploy([a.address, b.address], 3)).to.be.revertedWithCustomError(f, "CouncilInvalidMembers").withArgs(2, 3);
    await expect(f.deploy([a.address, a.address], 1)).to.be.revertedWithCustomError(f, "CouncilInvalidMembers").withArgs(2, 1);
    await expect(f.deploy([ethers.ZeroAddress], 1)).to.be.revertedWithCustomError(f, "CouncilInvalidMembers").withArgs(1, 1);
    await expect(f.deploy(Array.from({ length: 33 }, () => ethers.Wallet.createRandom().address), 1)).to.be.revertedWithCustomError(f, "CouncilInvalidMembers").withArgs(33, 1);
  });

  it("cannot add its own key to a department; its recovery waits in public and the department's one key vetoes it", async () => {
    const d = await loadFixture(councilGoverned);
    const registry = await d.registry.getAddress();
    const WATER = codeId("cq.water");
    const addKey = d.registry.interface.encodeFunctionData("addSigner", [WATER, await d.council.getAddress()]);
    await expect(d.council.execute(registry, addKey, await sign(d.council, registry, addKey, [d.members[0], d.members[1]])))
      .to.be.revertedWithCustomError(d.registry, "RegistryUnauthorized");
    const propose = d.registry.interface.encodeFunctionData("proposeRecovery", [WATER, [d.members[0].address], [d.water.address], 1]);
    await expect(d.council.execute(registry, propose, await sign(d.council, registry, propose, [d.members[0], d.members[1]]))).to.emit(d.registry, "RecoveryProposed");
    const run = d.registry.interface.encodeFunctionData("executeRecovery", [WATER, [d.members[0].address], [d.water.address], 1]);
    await expect(d.council.execute(registry, run, await sign(d.council, registry, run, [d.members[0], d.members[1]])))
      .to.be.revertedWithCustomError(d.registry, "RegistryRecoveryNotReady");
    const r = await d.registry.recoveryOf(WATER);
    const domain = { name: DOMAIN_NAMES.registry, version: "1", chainId: (await ethers.provider.getNetwork()).chainId, verifyingContract: registry };
    const veto = { signer: d.water.address, signature: await d.water.signTypedData(domain, { RecoveryVeto: [{ name: "department", type: "bytes32" }, { name: "recoveryHash", type: "bytes32" }] }, { department: WATER, recoveryHash: r.hash }) };
    await d.registry.connect(d.stranger).vetoRecovery(WATER, veto);
    await time.increase(4 * 24 * 3600);
    await expect(d.council.execute(registry, run, await sign(d.council, registry, run, [d.members[0], d.members[1]])))
      .to.be.revertedWithCustomError(d.registry, "RegistryNoRecovery");
    expect(await d.registry.signersOf(WATER)).to.deep.equal([d.water.address]);
  });

  it("hashes calls as it documents (CouncilCall with data as EIP-712 bytes)", async () => {
    const d = await loadFixture(councilGoverned);
    const target = await d.registry.getAddress();
    const data = d.registry.interface.encodeFunctionData("grantRole", [ROLES.regulator, d.stranger.address]);
    const want = ethers.TypedDataEncoder.hashStruct("CouncilCall", COUNCIL_CALL_TYPES, { target, data, nonce: 7n });
    expect(await d.council.hashCall(target, data, 7n)).to.equal(want);
    expect(await d.council.domainSeparator()).to.equal(ethers.TypedDataEncoder.hashDomain({ name: DOMAIN_NAMES.council, version: "1", chainId: (await ethers.provider.getNetwork()).chainId, verifyingContract: await d.council.getAddress() }));
  });
});
