/**
 * Registry and catalog changes, relayed by the node. Registration, roles and the catalog are
 * authorised on chain by msg.sender (the governor), so on the embedded default the node's operator key
 * holds the GOVERNOR role: the API authorises each request first and the node then acts as governor.
 * A department's own keys are not the governor's to change: a change needs k of the department's
 * current signers' EIP-712 `SignerChange` signatures (k its threshold), which the node only relays.
 */
import { ethers } from "ethers";
import type { ChainClient } from "../chain/client";
import { recoverTypedSigner, type DepartmentSignature } from "../chain/cosign";
import type { DclAddresses } from "../chain/deploy";
import { DepartmentLevel, ROLES, SharingCondition } from "../chain/ids";
import { DOMAIN_NAMES, SIGNER_CHANGE_TYPES, SignerAction, domainOf } from "../chain/typed-data";
import type { TypedData } from "../agreements/agreement-service";
import { relay, type TxRef } from "../chain/relay";
import { DclError, fail } from "../errors";
import type { Indexer } from "../indexer/indexer";

/** Roles the API can grant. */
export type RoleName = keyof typeof ROLES;

/** A change of a department's keys, as signed (EIP-712 `SignerChange`). */
export interface SignerChangeJson {
  department: string;
  action: SignerAction;
  signer: string;
  threshold: number;
  nonce: number;
}

/** Relayed registry and catalog changes. */
export class GovernanceService {
  constructor(
    private readonly client: ChainClient,
    private readonly indexer: Indexer,
    private readonly chainId?: bigint,
    private readonly addresses?: DclAddresses,
  ) {}

  /** The EIP-712 domain of the registry. */
  registryDomain() {
    return domainOf(DOMAIN_NAMES.registry, this.chainId ?? 0n, this.addresses?.registry ?? ethers.ZeroAddress);
  }

  /**
   * The change `action` of department `id`'s keys at its current nonce, its typed data, and how many
   * distinct current signers must sign it (the department's threshold), as the chain says now.
   */
  async signerChange(id: string, action: SignerAction, signer: string | undefined, threshold: number | undefined): Promise<{ change: SignerChangeJson; typedData: TypedData; needed: number }> {
    const d = await this.requireDepartment(id);
    // Read from the chain itself (the nonce must be the current one): the chain down is a 503, not a crash, and a
    // frozen chain (which answers nothing) is given as long as a relay is (DCL_RELAY_WAIT_MS), so the answer stays bounded.
    const waitMs = this.client.options.relayWaitMs ?? 2000;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${waitMs} ms`)), Math.max(waitMs, 1000))));
    const onChain = await Promise.race([this.client.reader.registry.department(id), late])
      .catch((err: unknown) => {
        throw new DclError("unavailable", "CHAIN_UNAVAILABLE", `could not read department ${id} from the chain: ${(err as { shortMessage?: string }).shortMessage ?? (err as Error).message}`, { cause: err });
      })
      .finally(() => clearTimeout(timer));
    const needed = Number(onChain.threshold);
    const key = (signer ?? ethers.ZeroAddress).toLowerCase();
    if (action === SignerAction.Add) {
      if (!signer) throw fail.invalid("SIGNER_REQUIRED", "name the key to add");
      if (d.signers.includes(key)) throw fail.conflict("SIGNER_EXISTS", `${signer} is already a signer of ${id}`);
    } else if (action === SignerAction.Remove) {
      if (!signer) throw fail.invalid("SIGNER_REQUIRED", "name the key to remove");
      if (!d.signers.includes(key)) throw fail.notFound("signer", `${signer} of ${id}`);
      if (d.signers.length === 1) throw fail.conflict("LAST_SIGNER", `${signer} is the last signer of ${id}`);
      if (d.signers.length - 1 < needed) throw fail.conflict("THRESHOLD_INVALID", `removing ${signer} would leave ${d.signers.length - 1} keys, fewer than the threshold ${needed}: lower the threshold first`);
    } else if (threshold === undefined || threshold < 1 || threshold > d.signers.length) {
      throw fail.conflict("THRESHOLD_INVALID", `the threshold must be between 1 and the ${d.signers.length} keys of ${id}`);
    }
    const change: SignerChangeJson = {
      department: id, action, signer: action === SignerAction.SetThreshold ? ethers.ZeroAddress : key,
      threshold: action === SignerAction.SetThreshold ? threshold! : needed, nonce: Number(onChain.changeNonce),
    };
    const domain = this.registryDomain();
    return { change, typedData: { domain: { ...domain, chainId: String(domain.chainId) }, types: SIGNER_CHANGE_TYPES, primaryType: "SignerChange", message: { ...change } }, needed };
  }

  /**
   * Relays `change` with `signatures`: each must recover to a distinct current signer of the department
   * and there must be at least its threshold of them (checked here first, again by the contract).
   */
  async applySignerChange(change: SignerChangeJson, signatures: string[]): Promise<TxRef> {
    const { change: current, needed } = await this.signerChange(change.department, change.action, change.action === SignerAction.SetThreshold ? undefined : change.signer, change.threshold);
    if (current.nonce !== change.nonce) throw fail.conflict("SIGNER_CHANGE_STALE", `the department's keys changed since: sign nonce ${current.nonce}, not ${change.nonce}`);
    const d = await this.requireDepartment(change.department);
    const signed: DepartmentSignature[] = [];
    for (const signature of signatures) {
      const signer = recoverTypedSigner(this.registryDomain(), SIGNER_CHANGE_TYPES, { ...current }, signature).toLowerCase();
      if (!d.signers.includes(signer)) throw fail.forbidden("SIGNATURE_INVALID", `signature by ${signer}, which is not a current signer of department ${change.department}`);
      if (signed.some((s) => s.signer === signer)) throw fail.invalid("SIGNATURE_DUPLICATE", `${signer} signed twice: each key counts once`);
      signed.push({ signer, signature });
    }
    if (signed.length < needed) throw fail.forbidden("THRESHOLD_NOT_MET", `${signed.length} of the ${needed} signatures of distinct current signers this department's threshold needs`);
    signed.sort((a, b) => (BigInt(a.signer) < BigInt(b.signer) ? -1 : 1)); // the registry takes them in ascending order
    return relay(this.client, this.indexer, (c) => c.registry.changeSigners.populateTransaction(current, signed));
  }

  /** Registers department `id` at `level` under `parent` with its first signers. */
  async registerDepartment(id: string, level: DepartmentLevel, parent: string | undefined, signers: string[], threshold = 1): Promise<TxRef> {
    if (await this.indexer.department(id)) throw fail.conflict("DEPARTMENT_EXISTS", `department ${id} is already registered`);
    if (parent && !(await this.indexer.department(parent))) throw fail.notFound("parent department", parent);
    if (new Set(signers.map((s) => s.toLowerCase())).size !== signers.length) throw fail.invalid("SIGNERS_DUPLICATE", "signers must be distinct");
    if (threshold < 1 || threshold > signers.length) throw fail.conflict("THRESHOLD_INVALID", `the threshold must be between 1 and the ${signers.length} keys`);
    return relay(this.client, this.indexer, (c) => c.registry.registerDepartmentWithThreshold.populateTransaction(id, level, parent ?? ethers.ZeroHash, signers, threshold));
  }

  /** Activates or deactivates department `id`. */
  async setActive(id: string, active: boolean): Promise<TxRef> {
    await this.requireDepartment(id);
    return relay(this.client, this.indexer, (c) => c.registry.setDepartmentActive.populateTransaction(id, active), { repeatable: true });
  }

  /** Grants `role` to `account`. */
  async grantRole(role: RoleName, account: string): Promise<TxRef> {
    return relay(this.client, this.indexer, (c) => c.registry.grantRole.populateTransaction(ROLES[role], account), { repeatable: true });
  }

  /** Catalogues resource `id`. */
  async registerResource(id: string, owner: string, schemaHash: string, condition: SharingCondition, personal: boolean): Promise<TxRef> {
    if (await this.indexer.resource(id)) throw fail.conflict("RESOURCE_EXISTS", `resource ${id} is already catalogued`);
    await this.requireDepartment(owner);
    return relay(this.client, this.indexer, (c) => c.catalog.registerResource.populateTransaction(id, owner, schemaHash, condition, personal));
  }

  /** Publishes a new version of resource `id`. */
  async updateResource(id: string, schemaHash: string, condition: SharingCondition, personal: boolean): Promise<TxRef> {
    if (!(await this.indexer.resource(id))) throw fail.notFound("resource", id);
    return relay(this.client, this.indexer, (c) => c.catalog.updateResource.populateTransaction(id, schemaHash, condition, personal), { repeatable: true });
  }

  private async requireDepartment(id: string) {
    const d = await this.indexer.department(id);
    if (!d) throw fail.notFound("department", id);
    return d;
  }
}
