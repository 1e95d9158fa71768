/** Deploys the dcl contracts in dependency order with the TypeChain factories. */
import type { ContractRunner, Signer } from "ethers";
import {
  ConsentRegistry__factory,
  DepartmentRegistry__factory,
  LogAnchors__factory,
  NonTaxTransfers__factory,
  ResourceCatalog__factory,
  SharingAgreements__factory,
} from "../../typechain-types";
import type {
  ConsentRegistry,
  DepartmentRegistry,
  LogAnchors,
  NonTaxTransfers,
  ResourceCatalog,
  SharingAgreements,
} from "../../typechain-types";

/** Addresses of one dcl deployment. */
export interface DclAddresses {
  registry: string;
  catalog: string;
  anchors: string;
  agreements: string;
  consents: string;
  transfers: string;
}

/** Connected contract instances of one dcl deployment. */
export interface DclContracts {
  registry: DepartmentRegistry;
  catalog: ResourceCatalog;
  anchors: LogAnchors;
  agreements: SharingAgreements;
  consents: ConsentRegistry;
  transfers: NonTaxTransfers;
}

/** Deploys every contract from `deployer`, with `governor` as the registry's first governor. */
export async function deployDcl(deployer: Signer, governor: string): Promise<DclContracts> {
  const registry = await new DepartmentRegistry__factory(deployer).deploy(governor);
  await registry.waitForDeployment();
  const catalog = await new ResourceCatalog__factory(deployer).deploy(registry);
  const anchors = await new LogAnchors__factory(deployer).deploy(registry);
  await Promise.all([catalog.waitForDeployment(), anchors.waitForDeployment()]);
  const agreements = await new SharingAgreements__factory(deployer).deploy(registry, catalog, anchors);
  const consents = await new ConsentRegistry__factory(deployer).deploy(registry, catalog);
  const transfers = await new NonTaxTransfers__factory(deployer).deploy(registry);
  await Promise.all([agreements.waitForDeployment(), consents.waitForDeployment(), transfers.waitForDeployment()]);
  // The registry records the others, so that its address alone identifies the deployment (trust roots).
  const record = await registry.recordDeployment({ catalog, anchors, agreements, consents, transfers });
  await record.wait();
  return { registry, catalog, anchors, agreements, consents, transfers };
}

/** Connects to an existing deployment at `addresses`. */
export function connectDcl(addresses: DclAddresses, runner: ContractRunner): DclContracts {
  return {
    registry: DepartmentRegistry__factory.connect(addresses.registry, runner),
    catalog: ResourceCatalog__factory.connect(addresses.catalog, runner),
    anchors: LogAnchors__factory.connect(addresses.anchors, runner),
    agreements: SharingAgreements__factory.connect(addresses.agreements, runner),
    consents: ConsentRegistry__factory.connect(addresses.consents, runner),
    transfers: NonTaxTransfers__factory.connect(addresses.transfers, runner),
  };
}

/** The addresses of deployed `contracts`. */
export async function addressesOf(contracts: DclContracts): Promise<DclAddresses> {
  const entries = await Promise.all(
    Object.entries(contracts).map(async ([name, c]) => [name, await c.getAddress()] as const),
  );
  return Object.fromEntries(entries) as unknown as DclAddresses;
}
