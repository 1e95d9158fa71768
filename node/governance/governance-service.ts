/**
 * Registry and catalog changes, relayed by the node. These contract functions are authorised by
 * msg.sender (the governor, or a department's own signer), so the node's operator key must hold the
 * GOVERNOR role: the API authorises each request first (a governor-role key, or a current signer of
 * the department or resource owner concerned) and the node then acts as governor on chain. The
 * request's own signature stays in the API's log as the record of who asked.
 */
import { ethers } from "ethers";
import type { ChainClient } from "../chain/client";
import { DepartmentLevel, ROLES, SharingCondition } from "../chain/ids";
import { relay, type TxRef } from "../chain/relay";
import { fail } from "../errors";
import type { Indexer } from "../indexer/indexer";

/** Roles the API can grant. */
export type RoleName = keyof typeof ROLES;

/** Relayed registry and catalog changes. */
export class GovernanceService {
  constructor(
    private readonly client: ChainClient,
    private readonly indexer: Indexer,
  ) {}

  /** Registers department `id` at `level` under `parent` with its first signers. */
  async registerDepartment(id: string, level: DepartmentLevel, parent: string | undefined, signers: string[]): Promise<TxRef> {
    if (await this.indexer.department(id)) throw fail.conflict("DEPARTMENT_EXISTS", `department ${id} is already registered`);
    if (parent && !(await this.indexer.department(parent))) throw fail.notFound("parent department", parent);
    if (new Set(signers.map((s) => s.toLowerCase())).size !== signers.length) throw fail.invalid("SIGNERS_DUPLICATE", "signers must be distinct");
    return relay(this.client, this.indexer, (c) => c.registry.registerDepartment(id, level, parent ?? ethers.ZeroHash, signers));
  }

  /** Activates or deactivates department `id`. */
  async setActive(id: string, active: boolean): Promise<TxRef> {
    await this.requireDepartment(id);
    return relay(this.client, this.indexer, (c) => c.registry.setDepartmentActive(id, active));
  }

  /** Adds `signer` to department `id`. */
  async addSigner(id: string, signer: string): Promise<TxRef> {
    const d = await this.requireDepartment(id);
    if (d.signers.includes(signer.toLowerCase())) throw fail.conflict("SIGNER_EXISTS", `${signer} is already a signer of ${id}`);
    return relay(this.client, this.indexer, (c) => c.registry.addSigner(id, signer));
  }

  /** Removes `signer` from department `id`: from then on it cannot act for the department. */
  async removeSigner(id: string, signer: string): Promise<TxRef> {
    const d = await this.requireDepartment(id);
    if (!d.signers.includes(signer.toLowerCase())) throw fail.notFound("signer", `${signer} of ${id}`);
    if (d.signers.length === 1) throw fail.conflict("LAST_SIGNER", `${signer} is the last signer of ${id}`);
    return relay(this.client, this.indexer, (c) => c.registry.removeSigner(id, signer));
  }

  /** Grants `role` to `account`. */
  async grantRole(role: RoleName, account: string): Promise<TxRef> {
    return relay(this.client, this.indexer, (c) => c.registry.grantRole(ROLES[role], account));
  }

  /** Catalogues resource `id`. */
  async registerResource(id: string, owner: string, schemaHash: string, condition: SharingCondition, personal: boolean): Promise<TxRef> {
    if (await this.indexer.resource(id)) throw fail.conflict("RESOURCE_EXISTS", `resource ${id} is already catalogued`);
    await this.requireDepartment(owner);
    return relay(this.client, this.indexer, (c) => c.catalog.registerResource(id, owner, schemaHash, condition, personal));
  }

  /** Publishes a new version of resource `id`. */
  async updateResource(id: string, schemaHash: string, condition: SharingCondition, personal: boolean): Promise<TxRef> {
    if (!(await this.indexer.resource(id))) throw fail.notFound("resource", id);
    return relay(this.client, this.indexer, (c) => c.catalog.updateResource(id, schemaHash, condition, personal));
  }

  private async requireDepartment(id: string) {
    const d = await this.indexer.department(id);
    if (!d) throw fail.notFound("department", id);
    return d;
  }
}
