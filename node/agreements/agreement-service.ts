/**
 * Sharing agreements from draft to chain: a party drafts the terms, the service returns the EIP-712
 * typed data, each department posts its signature, and when both are in the agreement is activated
 * on chain (the node relays; the contract checks the two signatures again). Drafts and signatures
 * are kept, so an evidence bundle can carry them. Until it is active, either party can cancel a draft
 * with one signature (`AgreementCancellation`): its terms can then never be activated, whoever holds
 * the other party's signature.
 */
import { TypedDataEncoder } from "ethers";
import type { AbstractSublevel } from "abstract-level";
import type { ChainClient } from "../chain/client";
import { addCosignature, checkDepartmentSignature, recoverTypedSigner, type DepartmentSignature } from "../chain/cosign";
import type { DclAddresses } from "../chain/deploy";
import { ROLES, SharingCondition } from "../chain/ids";
import type { BuildCall } from "../chain/client";
import { relay, relayInto, settleDraft, type TxRef, type WithPendingRelays } from "../chain/relay";
import {
  AGREEMENT_CANCELLATION_TYPES,
  AGREEMENT_REVOCATION_TYPES,
  AGREEMENT_STATUS_TYPES,
  AGREEMENT_TYPES,
  AgreementStatus,
  DOMAIN_NAMES,
  domainOf,
  type AgreementTerms,
} from "../chain/typed-data";
import { fail } from "../errors";
import type { Indexer } from "../indexer/indexer";
import type { AgreementRecord } from "../indexer/records";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Table = AbstractSublevel<any, any, string, any>;

/** Terms with big numbers as decimal strings, as stored and served. */
export interface AgreementTermsJson {
  provider: string;
  consumer: string;
  resource: string;
  purposeHash: string;
  quota: string;
  validFrom: string;
  validUntil: string;
  nonce: string;
  /** The log that meters the agreement (its LogAnchors id), named in the co-signed terms. */
  meteringLog: string;
}

/** A draft: the terms, the signatures so far, and the activation once on chain (`relays`: results still on their way). */
export interface AgreementDraft extends WithPendingRelays {
  id: string;
  terms: AgreementTermsJson;
  signatures: { provider?: DepartmentSignature; consumer?: DepartmentSignature };
  draftedBy: string;
  activation?: TxRef;
  revocation?: TxRef & { signer: string; signature: string };
  /** The draft was cancelled before activation by a signer of `department`, a party. */
  cancellation?: TxRef & { department: string; signer: string; signature: string };
  statusChanges?: (TxRef & { status: "suspended" | "active"; reasonHash: string; regulator: string; signature: string })[];
}

/** EIP-712 typed data for a wallet's `eth_signTypedData_v4`. */
export interface TypedData {
  domain: Record<string, unknown>;
  types: Record<string, { name: string; type: string }[]>;
  primaryType: string;
  message: Record<string, unknown>;
}

function toTerms(t: AgreementTermsJson): AgreementTerms {
  return { ...t, quota: BigInt(t.quota), validFrom: BigInt(t.validFrom), validUntil: BigInt(t.validUntil), nonce: BigInt(t.nonce) };
}

/** Drafts, co-signatures and activation of agreements. */
export class AgreementService {
  private readonly drafts: Table;

  constructor(
    db: { sublevel: (name: string, options: object) => unknown },
    private readonly client: ChainClient,
    private readonly indexer: Indexer,
    private readonly chainId: bigint,
    private readonly addresses: DclAddresses,
    /** This node's log: the metering log of terms that name none. */
    private readonly logId: string,
  ) {
    this.drafts = db.sublevel("agreement-drafts", { valueEncoding: "json" }) as Table;
  }

  /** The EIP-712 domain of the agreements contract. */
  domain() {
    return domainOf(DOMAIN_NAMES.agreements, this.chainId, this.addresses.agreements);
  }

  /** Drafts `terms` on behalf of department `by` (a party); returns the draft and its typed data. */
  async draft(by: string, input: Omit<AgreementTermsJson, "meteringLog"> & { meteringLog?: string }): Promise<{ draft: AgreementDraft; typedData: TypedData }> {
    const terms: AgreementTermsJson = { ...input, meteringLog: (input.meteringLog ?? this.logId).toLowerCase() };
    if (by !== terms.provider && by !== terms.consumer) throw fail.forbidden("FORBIDDEN_NOT_PARTY", `department ${by} is neither provider nor consumer`);
    if (terms.provider === terms.consumer) throw fail.invalid("AGREEMENT_SAME_PARTY", "provider and consumer must differ");
    for (const d of [terms.provider, terms.consumer]) if (!(await this.indexer.department(d))) throw fail.notFound("department", d);
    const resource = await this.indexer.resource(terms.resource);
    if (!resource) throw fail.notFound("resource", terms.resource);
    if (resource.owner !== terms.provider) throw fail.invalid("PROVIDER_NOT_OWNER", `resource ${terms.resource} is owned by ${resource.owner}, not ${terms.provider}`);
    if (resource.condition === SharingCondition.NotShareable) throw fail.conflict("RESOURCE_NOT_SHAREABLE", `resource ${terms.resource} is not shareable`);
    if (BigInt(terms.quota) === 0n) throw fail.invalid("QUOTA_ZERO", "quota must be positive");
    if (!(await this.indexer.logOperator(terms.meteringLog))) throw fail.notFound("log", terms.meteringLog);
    if (BigInt(terms.validUntil) <= BigInt(terms.validFrom)) throw fail.invalid("WINDOW_EMPTY", "validUntil must be after validFrom");
    if (BigInt(terms.validUntil) <= BigInt(Math.floor(Date.now() / 1000))) throw fail.invalid("WINDOW_OVER", "validUntil is in the past");
    const id = TypedDataEncoder.hashStruct("Agreement", AGREEMENT_TYPES, toTerms(terms));
    const existing = (await this.drafts.get(id)) as AgreementDraft | undefined;
    const draft: AgreementDraft = existing ?? { id, terms, signatures: {}, draftedBy: by };
    if (!existing) await this.drafts.put(id, draft);
    return { draft, typedData: this.typedData(draft) };
  }

  /** The typed data both parties sign for `draft`. */
  typedData(draft: AgreementDraft): TypedData {
    return { domain: this.domainJson(), types: AGREEMENT_TYPES, primaryType: "Agreement", message: { ...draft.terms } };
  }

  /** Draft `id` with its on-chain state, if any. */
  async get(id: string): Promise<{ draft?: AgreementDraft; onChain?: AgreementRecord }> {
    const [draft, onChain] = await Promise.all([this.load(id), this.indexer.agreement(id)]);
    if (!draft && !onChain) throw fail.notFound("agreement", id);
    return { draft, onChain };
  }

  /** Adds `by`'s signature; when both parties have signed, activates the agreement on chain. */
  async sign(id: string, by: string, signature: string): Promise<AgreementDraft> {
    const draft = await this.load(id);
    if (!draft) throw fail.notFound("agreement draft", id);
    const role = by === draft.terms.provider ? "provider" : by === draft.terms.consumer ? "consumer" : undefined;
    if (!role) throw fail.forbidden("FORBIDDEN_NOT_PARTY", `department ${by} is not a party to agreement ${id}`);
    if (draft.activation) throw fail.conflict("AGREEMENT_ALREADY_ACTIVE", `agreement ${id} is already on chain`);
    await this.requireNotCancelled(draft);
    const sig = await checkDepartmentSignature(this.indexer, by, this.domain(), AGREEMENT_TYPES, toTerms(draft.terms) as never, signature);
    const save = () => this.drafts.put(id, draft);
    draft.activation = await addCosignature(draft.signatures, role, sig, ["provider", "consumer"], save, (provider, consumer) =>
      relayInto(this.client, this.indexer, draft, save, { path: "activation" }, (c) => c.agreements.activate.populateTransaction(toTerms(draft.terms), provider, consumer)),
    );
    if (draft.activation) await save();
    return draft;
  }

  /** The typed data a party signs to cancel draft `id` before its activation. */
  cancellationTypedData(id: string): TypedData {
    return { domain: this.domainJson(), types: AGREEMENT_CANCELLATION_TYPES, primaryType: "AgreementCancellation", message: { agreementId: id } };
  }

  /**
   * Department `by`, a party, cancels draft `id` before its activation with its signer's signature: the terms
   * can then never be activated. Closes the review's "signed terms without a deadline" (issue 9).
   */
  async cancel(id: string, by: string, signature: string): Promise<AgreementDraft> {
    const draft = await this.load(id);
    if (!draft) throw fail.notFound("agreement draft", id);
    if (by !== draft.terms.provider && by !== draft.terms.consumer) throw fail.forbidden("FORBIDDEN_NOT_PARTY", `department ${by} is not a party to agreement ${id}`);
    if (draft.activation || (await this.indexer.agreement(id))) throw fail.conflict("AGREEMENT_ALREADY_ACTIVE", `agreement ${id} is on chain: revoke it instead`);
    await this.requireNotCancelled(draft);
    const sig = await checkDepartmentSignature(this.indexer, by, this.domain(), AGREEMENT_CANCELLATION_TYPES, { agreementId: id }, signature);
    const save = () => this.drafts.put(id, draft);
    const tx = await relayInto(this.client, this.indexer, draft, save, { path: "cancellation", extra: { department: by, ...sig } }, (c) => c.agreements.cancel.populateTransaction(toTerms(draft.terms), by, sig));
    draft.cancellation = { ...tx, department: by, ...sig };
    await this.drafts.put(id, draft);
    return draft;
  }

  /** The typed data the provider signs to revoke agreement `id`. */
  revocationTypedData(id: string): TypedData {
    return { domain: this.domainJson(), types: AGREEMENT_REVOCATION_TYPES, primaryType: "AgreementRevocation", message: { agreementId: id } };
  }

  /** The typed data a regulator signs to suspend (with `reasonHash`) or resume agreement `id`, at its current nonce. */
  async statusTypedData(id: string, target: "suspended" | "active", reasonHash: string): Promise<TypedData> {
    const onChain = await this.indexer.agreement(id);
    if (!onChain) throw fail.notFound("agreement", id);
    return {
      domain: this.domainJson(),
      types: AGREEMENT_STATUS_TYPES,
      primaryType: "AgreementStatusChange",
      message: {
        agreementId: id,
        status: target === "suspended" ? AgreementStatus.Suspended : AgreementStatus.Active,
        reasonHash: target === "suspended" ? reasonHash : "0x" + "00".repeat(32),
        nonce: onChain.statusChanges,
      },
    };
  }

  /** The provider department `by` revokes agreement `id` with its signature; final. */
  async revoke(id: string, by: string, signature: string): Promise<AgreementDraft | AgreementRecord> {
    const onChain = await this.indexer.agreement(id);
    if (!onChain) throw fail.notFound("agreement", id);
    if (onChain.provider !== by) throw fail.forbidden("FORBIDDEN_NOT_PARTY", `only the provider ${onChain.provider} revokes agreement ${id}`);
    if (onChain.status === "revoked") throw fail.conflict("AGREEMENT_ALREADY_REVOKED", `agreement ${id} is already revoked`);
    const sig = await checkDepartmentSignature(this.indexer, by, this.domain(), AGREEMENT_REVOCATION_TYPES, { agreementId: id }, signature);
    return this.relayRemembered(id, { path: "revocation", extra: { ...sig } }, (c) => c.agreements.revoke.populateTransaction(id, sig), (d, tx) => (d.revocation = { ...tx, ...sig }), onChain);
  }

  /** A regulator's signed suspension (`target` "suspended") or resumption ("active") of agreement `id`. */
  async changeStatus(id: string, target: "suspended" | "active", reasonHash: string, signature: string): Promise<AgreementDraft | AgreementRecord> {
    const onChain = await this.indexer.agreement(id);
    if (!onChain) throw fail.notFound("agreement", id);
    const from = target === "suspended" ? "active" : "suspended";
    if (onChain.status !== from) throw fail.conflict("AGREEMENT_WRONG_STATUS", `agreement ${id} is ${onChain.status}, not ${from}`);
    const td = await this.statusTypedData(id, target, reasonHash);
    const regulator = recoverTypedSigner(this.domain(), td.types, td.message, signature);
    if (!(await this.indexer.hasRole(ROLES.regulator, regulator))) throw fail.forbidden("FORBIDDEN_ROLE", `key ${regulator} does not hold the regulator role`);
    const change = { status: target, reasonHash: td.message.reasonHash as string, regulator, signature };
    return this.relayRemembered(
      id, { path: "statusChanges", push: true, extra: change },
      (c) => (target === "suspended" ? c.agreements.suspend.populateTransaction(id, change.reasonHash, regulator, signature) : c.agreements.resume.populateTransaction(id, regulator, signature)),
      (d, tx) => (d.statusChanges ??= []).push({ ...tx, ...change }), onChain,
    );
  }

  /** Refuses a draft cancelled here or on chain (through another node). */
  private async requireNotCancelled(draft: AgreementDraft): Promise<void> {
    if (draft.cancellation || (await this.indexer.cancellation(draft.id))) throw fail.conflict("DRAFT_CANCELLED", `agreement ${draft.id} was cancelled before its activation`);
  }

  private domainJson() {
    return { ...this.domain(), chainId: this.chainId.toString() };
  }

  /** Draft `id`, with the results of relays mined since it was saved filled in. */
  private async load(id: string): Promise<AgreementDraft | undefined> {
    const draft = (await this.drafts.get(id)) as AgreementDraft | undefined;
    return draft && settleDraft(this.client, draft, (d) => this.drafts.put(id, d));
  }

  /**
   * Relays an act on agreement `id` and records it with `apply` in the draft held here, if any (an agreement
   * drafted through another node has none: its state is the indexer's); when the relay is still on its way,
   * the draft notes where its result goes.
   */
  private async relayRemembered(
    id: string, where: { path: string; push?: boolean; extra: Record<string, unknown> }, build: BuildCall,
    apply: (d: AgreementDraft, tx: TxRef) => void, fallback: AgreementRecord,
  ): Promise<AgreementDraft | AgreementRecord> {
    const draft = await this.load(id);
    if (!draft) {
      await relay(this.client, this.indexer, build);
      return (await this.indexer.agreement(id)) ?? fallback;
    }
    const save = () => this.drafts.put(id, draft);
    apply(draft, await relayInto(this.client, this.indexer, draft, save, where, build));
    await save();
    return draft;
  }

}
