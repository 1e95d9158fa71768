/** Shared fixture for the contract tests: a deployment with a few departments, a catalog and a log. */
import { ethers } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { deployDcl, type DclContracts } from "../../node/chain/deploy";
import { codeId, DepartmentLevel, ROLES, SharingCondition } from "../../node/chain/ids";

export const DEPT = {
  bigdata: codeId("cq.bigdata"),
  tax: codeId("cq.tax"),
  water: codeId("cq.water"),
  cad: codeId("cq.cad"),
  civil: codeId("cq.civil"),
  yuzhong: codeId("cq.yuzhong.bigdata"),
};

export const RESOURCE = {
  waterFees: codeId("res.water.fees"),
  residents: codeId("res.civil.residents"),
  secret: codeId("res.cad.secret"),
};

export const LOG_ID = codeId("log.cq.bigdata.0");

export interface Actors {
  deployer: HardhatEthersSigner;
  governor: HardhatEthersSigner;
  regulator: HardhatEthersSigner;
  exchange: HardhatEthersSigner;
  bigdata: HardhatEthersSigner;
  tax: HardhatEthersSigner;
  tax2: HardhatEthersSigner;
  water: HardhatEthersSigner;
  cad: HardhatEthersSigner;
  civil: HardhatEthersSigner;
  yuzhong: HardhatEthersSigner;
  subject: HardhatEthersSigner;
  stranger: HardhatEthersSigner;
}

export interface Deployment extends DclContracts {
  a: Actors;
  chainId: bigint;
}

/** Deploys dcl and registers the demo departments, resources and one log. Use with loadFixture. */
export async function deployedWithDepartments(): Promise<Deployment> {
  const s = await ethers.getSigners();
  const a: Actors = {
    deployer: s[0], governor: s[1], regulator: s[2], exchange: s[3], bigdata: s[4], tax: s[5], tax2: s[6],
    water: s[7], cad: s[8], civil: s[9], yuzhong: s[10], subject: s[11], stranger: s[12],
  };
  const c = await deployDcl(a.deployer, a.governor.address);
  const reg = c.registry.connect(a.governor);
  await reg.grantRole(ROLES.regulator, a.regulator.address);
  await reg.grantRole(ROLES.exchange, a.exchange.address);
  await reg.registerDepartment(DEPT.bigdata, DepartmentLevel.City, ethers.ZeroHash, [a.bigdata.address]);
  await reg.registerDepartment(DEPT.tax, DepartmentLevel.City, ethers.ZeroHash, [a.tax.address, a.tax2.address]);
  await reg.registerDepartment(DEPT.water, DepartmentLevel.City, ethers.ZeroHash, [a.water.address]);
  await reg.registerDepartment(DEPT.cad, DepartmentLevel.City, ethers.ZeroHash, [a.cad.address]);
  await reg.registerDepartment(DEPT.civil, DepartmentLevel.City, ethers.ZeroHash, [a.civil.address]);
  await reg.registerDepartment(DEPT.yuzhong, DepartmentLevel.District, DEPT.bigdata, [a.yuzhong.address]);
  const cat = c.catalog.connect(a.governor);
  await cat.registerResource(RESOURCE.waterFees, DEPT.water, ethers.id("schema:water-fees:v1"), SharingCondition.Conditional, false);
  await cat.registerResource(RESOURCE.residents, DEPT.civil, ethers.id("schema:residents:v1"), SharingCondition.Conditional, true);
  await cat.registerResource(RESOURCE.secret, DEPT.cad, ethers.id("schema:secret:v1"), SharingCondition.NotShareable, false);
  await c.anchors.connect(a.governor).registerLog(LOG_ID, DEPT.bigdata);
  const { chainId } = await ethers.provider.getNetwork();
  return { ...c, a, chainId };
}
