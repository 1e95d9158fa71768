/**
 * Sharing agreements from draft to chain: a party drafts the terms, the service returns the EIP-712
 * typed data, each department posts its signature, and when both are in the agreement is activated
 * on chain (the node relays; the contract checks the two signatures again). Drafts and signatures
 * are kept, so an evidence bundle can carry them.
 */
import { TypedDataEncoder } from "ethers";
import type { AbstractSublevel } from "abstract-level";
import type { ChainClient } from "../chain/client";
import { checkDepartmentSignature, type DepartmentSignature } from "../chain/cosign";
import type { DclAddresses } from "../chain/deploy";
import { SharingCondition } from "../chain/ids";
import { relay, type TxRef } from "../chain/relay";
import { AGREEMENT_TYPES, DOMAIN_NAMES, domainOf, type AgreementTerms } from "../chain/typed-data";
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
}

/** A draft: the terms, the signatures so far, and the activation once on chain. */
export interface AgreementDraft {
  id: string;
  terms: AgreementTermsJson;
  signatures: { provider?: DepartmentSignature; consumer?: DepartmentSignature };
  draftedBy: string;
  activation?: TxRef;
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
  ) {
    this.drafts = db.sublevel("agreement-drafts", { valueEncoding: "json" }) as Table;
  }

  /** The EIP-712 domain of the agreements contract. */
  domain() {
    return domainOf(DOMAIN_NAMES.agreements, this.chainId, this.addresses.agreements);
  }

  /** Drafts `terms` on behalf of department `by` (a party); returns the draft and its typed data. */
  async draft(by: string, terms: AgreementTermsJson): Promise<{ draft: AgreementDraft; typedData: TypedData }> {
    if (by !== terms.provider && by !== terms.consumer) throw fail.forbidden("FORBIDDEN_NOT_PARTY", `department ${by} is neither provider nor consumer`);
    if (terms.provider === terms.consumer) throw fail.invalid("AGREEMENT_SAME_PARTY", "provider and consumer must differ");
    for (const d of [terms.provider, terms.consumer]) if (!(await this.indexer.department(d))) throw fail.notFound("department", d);
    const resource = await this.indexer.resource(terms.resource);
    if (!resource) throw fail.notFound("resource", terms.resource);
    if (resource.owner !== terms.provider) throw fail.invalid("PROVIDER_NOT_OWNER", `resource ${terms.resource} is owned by ${resource.owner}, not ${terms.provider}`);
    if (resource.condition === SharingCondition.NotShareable) throw fail.conflict("RESOURCE_NOT_SHAREABLE", `resource ${terms.resource} is not shareable`);
    if (BigInt(terms.quota) === 0n) throw fail.invalid("QUOTA_ZERO", "quota must be positive");
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
    return { domain: { ...this.domain(), chainId: this.chainId.toString() }, types: AGREEMENT_TYPES, primaryType: "Agreement", message: { ...draft.terms } };
  }

  /** Draft `id` with its on-chain state, if any. */
  async get(id: string): Promise<{ draft?: AgreementDraft; onChain?: AgreementRecord }> {
    const [draft, onChain] = await Promise.all([this.drafts.get(id) as Promise<AgreementDraft | undefined>, this.indexer.agreement(id)]);
    if (!draft && !onChain) throw fail.notFound("agreement", id);
    return { draft, onChain };
  }

  /** Adds `by`'s signature; when both parties have signed, activates the agreement on chain. */
  async sign(id: string, by: string, signature: string): Promise<AgreementDraft> {
    const draft = (await this.drafts.get(id)) as AgreementDraft | undefined;
    if (!draft) throw fail.notFound("agreement draft", id);
    const role = by === draft.terms.provider ? "provider" : by === draft.terms.consumer ? "consumer" : undefined;
    if (!role) throw fail.forbidden("FORBIDDEN_NOT_PARTY", `department ${by} is not a party to agreement ${id}`);
    if (draft.activation) throw fail.conflict("AGREEMENT_ALREADY_ACTIVE", `agreement ${id} is already on chain`);
    draft.signatures[role] = await checkDepartmentSignature(this.indexer, by, this.domain(), AGREEMENT_TYPES, toTerms(draft.terms) as never, signature);
    await this.drafts.put(id, draft);
    const { provider, consumer } = draft.signatures;
    if (provider && consumer) {
      draft.activation = await relay(this.client, this.indexer, (c) => c.agreements.activate(toTerms(draft.terms), provider, consumer));
      await this.drafts.put(id, draft);
    }
    return draft;
  }
}
