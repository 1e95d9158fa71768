/**
 * Consents through the node: the recording department names the subject by ID number, the node
 * turns it into the salted commitment (subjects/subject-secrets.ts) and returns the EIP-712 terms;
 * the recorder signs them (and the subject too, when the subject has a key), the node relays the
 * grant. Revocation is as easy: one signature over `Revocation(consentId)` by the recorder, or by
 * the subject's own key, or a regulator-role key's `RegulatorRevocation(consentId, reasonHash)` (a
 * consent whose recorder was deactivated has no one else to revoke it). Terms drafted and signed but
 * never granted are cancelled by one `ConsentCancellation(consentId)` signature of the recorder or the
 * subject. Checks answer "was a consent valid for this grantee, resource and purpose at time t" from
 * the index, for any t.
 */
import { TypedDataEncoder } from "ethers";
import { randomBytes } from "@noble/hashes/utils";
import type { AbstractSublevel } from "abstract-level";
import type { ChainClient } from "../chain/client";
import { checkDepartmentSignature, recoverTypedSigner } from "../chain/cosign";
import type { DclAddresses } from "../chain/deploy";
import type { BuildCall } from "../chain/client";
import { relay, relayInto, settleDraft, type TxRef, type WithPendingRelays } from "../chain/relay";
import { CONSENT_CANCELLATION_TYPES, CONSENT_TYPES, DOMAIN_NAMES, REGULATOR_REVOCATION_TYPES, REVOCATION_TYPES, domainOf, type ConsentTerms } from "../chain/typed-data";
import { ROLES } from "../chain/ids";
import { fail } from "../errors";
import type { Indexer } from "../indexer/indexer";
import type { ConsentRecord } from "../indexer/records";
import { normaliseIdNumber, type ErasureRecord, type ReEnrolmentRecord, type SubjectLookup, type SubjectSecrets } from "../subjects/subject-secrets";
import type { TypedData } from "../agreements/agreement-service";
import { ZeroAddress } from "ethers";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Table = AbstractSublevel<any, any, string, any>;

/** Consent terms with big numbers as decimal strings, as stored and served. */
export interface ConsentTermsJson {
  subject: string;
  grantee: string;
  resource: string;
  purposeHash: string;
  kind: number;
  validUntil: string;
  evidenceHash: string;
  recorder: string;
  subjectSigner: string;
  nonce: string;
}

/** A consent as the node keeps it: its terms and, once granted, the grant transaction. */
export interface ConsentDraft extends WithPendingRelays {
  id: string;
  terms: ConsentTermsJson;
  recorderSignature?: { signer: string; signature: string };
  subjectSignature?: string;
  grant?: TxRef;
  revocation?: TxRef & { by: string; signature: string; reasonHash?: string };
  /** The terms were cancelled before any grant, by the recorder's signer or the subject's key. */
  cancellation?: TxRef & { by: string; signature: string };
}

/** What a consent request names (the ID number is used to derive the commitment and then dropped). */
export interface ConsentRequest {
  subjectId: string;
  grantee: string;
  resource: string;
  purposeHash: string;
  kind: number;
  validUntil: number;
  evidenceHash: string;
  subjectSigner?: string;
}

function toTerms(t: ConsentTermsJson): ConsentTerms {
  return { ...t, validUntil: BigInt(t.validUntil), nonce: BigInt(t.nonce) };
}

/** The terms of an indexed consent, as signed. */
function termsOfRecord(c: ConsentRecord): ConsentTerms {
  return {
    subject: c.subject, grantee: c.grantee, resource: c.resource, purposeHash: c.purposeHash, kind: c.kind, validUntil: BigInt(c.validUntil),
    evidenceHash: c.evidenceHash, recorder: c.recorder, subjectSigner: c.subjectSigner, nonce: BigInt(c.nonce),
  };
}

/** Grants, revocations, checks and erasure of consents. */
export class ConsentService {
  private readonly drafts: Table;

  constructor(
    db: { sublevel: (name: string, options: object) => unknown },
    private readonly client: ChainClient,
    private readonly indexer: Indexer,
    private readonly subjects: SubjectSecrets,
    private readonly chainId: bigint,
    private readonly addresses: DclAddresses,
  ) {
    this.drafts = db.sublevel("consent-drafts", { valueEncoding: "json" }) as Table;
  }

  /** The EIP-712 domain of the consent registry. */
  domain() {
    return domainOf(DOMAIN_NAMES.consents, this.chainId, this.addresses.consents);
  }

  /** Drafts a consent recorded by department `recorder`; returns it with the typed data to sign. */
  async draft(recorder: string, req: ConsentRequest, now: number): Promise<{ draft: ConsentDraft; typedData: TypedData }> {
    if (!(await this.indexer.department(req.grantee))) throw fail.notFound("department", req.grantee);
    const resource = await this.indexer.resource(req.resource);
    if (!resource) throw fail.notFound("resource", req.resource);
    // Checked before the subject's secret is looked up or made: a resource without personal information has no data subject.
    if (!resource.personal) throw fail.invalid("SUBJECT_NOT_PERSONAL", `resource ${req.resource} holds no personal information: a consent names no subject there`);
    // The rule ConsentRegistry applies (review finding "self-granted consent", issue 9): a department records a
    // consent in its own favour only over its own resource, or with the subject's own key in the terms.
    if (recorder === req.grantee && recorder !== resource.owner && !req.subjectSigner) {
      throw fail.forbidden("CONSENT_RECORDER_IS_GRANTEE", `department ${recorder} cannot record a consent in its own favour over resource ${req.resource} of ${resource.owner} without the subject's own key (subjectSigner)`);
    }
    if (req.validUntil <= now) throw fail.invalid("CONSENT_EXPIRY_PAST", `validUntil ${req.validUntil} is not in the future`);
    const subject = (await this.subjects.commitment(req.subjectId, true))!;
    const terms: ConsentTermsJson = {
      subject,
      grantee: req.grantee,
      resource: req.resource,
      purposeHash: req.purposeHash,
      kind: req.kind,
      validUntil: String(req.validUntil),
      evidenceHash: req.evidenceHash,
      recorder,
      subjectSigner: req.subjectSigner ?? ZeroAddress,
      nonce: BigInt("0x" + Buffer.from(randomBytes(8)).toString("hex")).toString(),
    };
    const id = TypedDataEncoder.hashStruct("Consent", CONSENT_TYPES, toTerms(terms));
    const draft: ConsentDraft = { id, terms };
    await this.drafts.put(id, draft);
    return { draft, typedData: this.typedData(draft) };
  }

  /** The typed data the recorder (and the subject, if it has a key) signs. */
  typedData(draft: ConsentDraft): TypedData {
    return { domain: { ...this.domain(), chainId: this.chainId.toString() }, types: CONSENT_TYPES, primaryType: "Consent", message: { ...draft.terms } };
  }

  /** The typed data of a revocation of consent `id`. */
  revocationTypedData(id: string): TypedData {
    return { domain: { ...this.domain(), chainId: this.chainId.toString() }, types: REVOCATION_TYPES, primaryType: "Revocation", message: { consentId: id } };
  }

  /** Grants draft `id` with the recorder's signature (and the subject's, when the terms name a subject key). */
  async grant(id: string, by: string, recorderSignature: string, subjectSignature?: string): Promise<ConsentDraft> {
    const draft = await this.load(id);
    if (draft.terms.recorder !== by) throw fail.forbidden("FORBIDDEN_NOT_PARTY", `department ${by} is not the recorder of consent ${id}`);
    if (draft.grant) throw fail.conflict("CONSENT_ALREADY_GRANTED", `consent ${id} is already granted`);
    await this.requireNotCancelled(draft);
    const terms = toTerms(draft.terms);
    const recorderSig = await checkDepartmentSignature(this.indexer, by, this.domain(), CONSENT_TYPES, terms as never, recorderSignature);
    if (draft.terms.subjectSigner !== ZeroAddress) {
      if (!subjectSignature) throw fail.invalid("SUBJECT_SIGNATURE_REQUIRED", "the terms name a subject key: its signature is required");
      if (recoverTypedSigner(this.domain(), CONSENT_TYPES, terms as never, subjectSignature).toLowerCase() !== draft.terms.subjectSigner.toLowerCase()) {
        throw fail.forbidden("SUBJECT_SIGNATURE_INVALID", `subject signature is not by ${draft.terms.subjectSigner}`);
      }
    } else if (subjectSignature) {
      throw fail.invalid("SUBJECT_SIGNATURE_UNEXPECTED", "the terms name no subject key");
    }
    // Kept before the relay: a grant mined after the request was answered (202) needs them in the draft too.
    draft.recorderSignature = recorderSig;
    if (subjectSignature) draft.subjectSignature = subjectSignature;
    const save = () => this.drafts.put(id, draft);
    draft.grant = await relayInto(this.client, this.indexer, draft, save, { path: "grant" }, (c) => c.consents.grant.populateTransaction(terms, recorderSig, subjectSignature ?? "0x"));
    await save();
    return draft;
  }

  /** Revokes consent `id` with the recorder's signature (by = recorder) or the subject's (by = "subject"). */
  async revoke(id: string, by: string | "subject", signature: string): Promise<ConsentDraft> {
    const draft = await this.load(id);
    if (!draft.grant) throw fail.conflict("CONSENT_NOT_GRANTED", `consent ${id} was never granted`);
    if (draft.revocation) throw fail.conflict("CONSENT_ALREADY_REVOKED", `consent ${id} is already revoked`);
    const terms = toTerms(draft.terms);
    const save = () => this.drafts.put(id, draft);
    let signer: string;
    if (by === "subject") {
      signer = recoverTypedSigner(this.domain(), REVOCATION_TYPES, { consentId: id }, signature);
      if (draft.terms.subjectSigner === ZeroAddress || signer.toLowerCase() !== draft.terms.subjectSigner.toLowerCase()) {
        throw fail.forbidden("SUBJECT_SIGNATURE_INVALID", `revocation is not signed by the subject's key`);
      }
      const extra = { by: signer, signature };
      draft.revocation = { ...(await relayInto(this.client, this.indexer, draft, save, { path: "revocation", extra }, (c) => c.consents.revokeBySubject.populateTransaction(terms, signature))), ...extra };
    } else {
      if (draft.terms.recorder !== by) throw fail.forbidden("FORBIDDEN_NOT_PARTY", `department ${by} is not the recorder of consent ${id}`);
      const sig = await checkDepartmentSignature(this.indexer, by, this.domain(), REVOCATION_TYPES, { consentId: id }, signature);
      const extra = { by: sig.signer, signature };
      draft.revocation = { ...(await relayInto(this.client, this.indexer, draft, save, { path: "revocation", extra }, (c) => c.consents.revoke.populateTransaction(terms, sig))), ...extra };
    }
    await this.drafts.put(id, draft);
    return draft;
  }

  /** The typed data a regulator-role key signs to revoke consent `id` for the reason hashed in `reasonHash`. */
  regulatorRevocationTypedData(id: string, reasonHash: string): TypedData {
    return {
      domain: { ...this.domain(), chainId: this.chainId.toString() }, types: REGULATOR_REVOCATION_TYPES, primaryType: "RegulatorRevocation",
      message: { consentId: id, reasonHash },
    };
  }

  /** The typed data the recorder or the subject signs to cancel consent `id` before its grant. */
  cancellationTypedData(id: string): TypedData {
    return { domain: { ...this.domain(), chainId: this.chainId.toString() }, types: CONSENT_CANCELLATION_TYPES, primaryType: "ConsentCancellation", message: { consentId: id } };
  }

  /**
   * A regulator-role key revokes consent `id` for the reason hashed in `reasonHash` (any department relays):
   * closes the review's "unrevocable consent" (issue 9). Works for a consent this node did not draft, from its
   * indexed terms.
   */
  async revokeByRegulator(id: string, reasonHash: string, signature: string): Promise<{ tx: TxRef; regulator: string }> {
    const onChain = await this.indexer.consent(id);
    if (!onChain) throw fail.conflict("CONSENT_NOT_GRANTED", `consent ${id} was never granted`);
    if (onChain.revokedAt !== 0) throw fail.conflict("CONSENT_ALREADY_REVOKED", `consent ${id} is already revoked`);
    const td = this.regulatorRevocationTypedData(id, reasonHash);
    const regulator = recoverTypedSigner(this.domain(), td.types, td.message, signature);
    if (!(await this.indexer.hasRole(ROLES.regulator, regulator))) throw fail.forbidden("FORBIDDEN_ROLE", `key ${regulator} does not hold the regulator role`);
    const build: BuildCall = (c) => c.consents.revokeByRegulator.populateTransaction(termsOfRecord(onChain), reasonHash, regulator, signature);
    const draft = await this.drafts.get(id).then((d) => (d ? this.settle(d as ConsentDraft) : undefined));
    if (!draft) return { tx: await relay(this.client, this.indexer, build), regulator };
    const extra = { by: regulator, signature, reasonHash };
    const save = () => this.drafts.put(id, draft);
    const tx = await relayInto(this.client, this.indexer, draft, save, { path: "revocation", extra }, build);
    draft.revocation = { ...tx, ...extra };
    await save();
    return { tx, regulator };
  }

  /**
   * Cancels draft `id` before its grant, by the recorder department `by` (its signer's signature) or by the
   * subject's key (by = "subject"): the terms can then never be granted, whoever holds their signatures.
   * Closes the review's "signed terms without a deadline" (issue 9) for consents.
   */
  async cancel(id: string, by: string | "subject", signature: string): Promise<ConsentDraft> {
    const draft = await this.load(id);
    if (by !== "subject" && draft.terms.recorder !== by) throw fail.forbidden("FORBIDDEN_NOT_PARTY", `department ${by} is not the recorder of consent ${id}`);
    if (draft.grant || (await this.indexer.consent(id))) throw fail.conflict("CONSENT_ALREADY_GRANTED", `consent ${id} is granted: revoke it instead`);
    await this.requireNotCancelled(draft);
    const terms = toTerms(draft.terms);
    const value = { consentId: id };
    const save = () => this.drafts.put(id, draft);
    if (by === "subject") {
      const signer = recoverTypedSigner(this.domain(), CONSENT_CANCELLATION_TYPES, value, signature);
      if (draft.terms.subjectSigner === ZeroAddress || signer.toLowerCase() !== draft.terms.subjectSigner.toLowerCase()) {
        throw fail.forbidden("SUBJECT_SIGNATURE_INVALID", "cancellation is not signed by the subject's key");
      }
      const extra = { by: signer, signature };
      draft.cancellation = { ...(await relayInto(this.client, this.indexer, draft, save, { path: "cancellation", extra }, (c) => c.consents.cancelBySubject.populateTransaction(terms, signature))), ...extra };
    } else {
      const sig = await checkDepartmentSignature(this.indexer, by, this.domain(), CONSENT_CANCELLATION_TYPES, value, signature);
      const extra = { by: sig.signer, signature };
      draft.cancellation = { ...(await relayInto(this.client, this.indexer, draft, save, { path: "cancellation", extra }, (c) => c.consents.cancel.populateTransaction(terms, sig))), ...extra };
    }
    await this.drafts.put(id, draft);
    return draft;
  }

  /** Consent `id`: the node's record and the indexed on-chain state. */
  async get(id: string): Promise<{ draft: ConsentDraft; onChain?: ConsentRecord }> {
    return { draft: await this.load(id), onChain: await this.indexer.consent(id) };
  }

  /** The commitment of a subject, if the node knows the subject (no secret is created). */
  commitmentOf(subjectId: string): Promise<string | undefined> {
    return this.subjects.commitment(subjectId, false);
  }

  /** What the node knows of an ID number: its commitment, or that it was erased (no secret is created). */
  subjectOf(subjectId: string): Promise<SubjectLookup> {
    return this.subjects.lookup(subjectId);
  }

  /** The consent of `subject` (commitment) valid for grantee, resource and purpose at `at`, if any; none once the subject is erased. */
  async check(subject: string, grantee: string, resource: string, purposeHash: string, at: number): Promise<ConsentRecord | undefined> {
    if (await this.subjects.erasure(subject)) return undefined;
    return this.indexer.validConsent(subject, grantee, resource, purposeHash, at);
  }

  /**
   * Erases subject `subjectId`: destroys its secret, records the erasure. Only a department that
   * recorded a consent of this subject may ask (`privileged` lets a regulator do it too).
   */
  async erase(subjectId: string, by: string, now: number, privileged = false): Promise<ErasureRecord> {
    const { commitment, erased } = await this.subjects.lookup(subjectId);
    if (erased) throw fail.conflict("SUBJECT_ERASED", "this ID number is already erased");
    if (commitment === undefined) throw fail.notFound("subject", "(given ID number)");
    if (!privileged) {
      const recorders = new Set((await this.indexer.consentsOf(commitment)).map((c) => c.recorder));
      for await (const d of this.drafts.values()) if ((d as ConsentDraft).terms.subject === commitment) recorders.add((d as ConsentDraft).terms.recorder);
      if (!recorders.has(by)) throw fail.forbidden("FORBIDDEN_NOT_PARTY", `department ${by} recorded no consent of this subject`);
    }
    const record = await this.subjects.erase(subjectId, by, now);
    if (!record) throw fail.notFound("subject", "(given ID number)");
    return record;
  }

  /** The erasure evidence of `commitment`, if its subject was erased. */
  erasure(commitment: string): Promise<ErasureRecord | undefined> {
    return this.subjects.erasure(commitment);
  }

  /**
   * Lifts the erasure of ID number `subjectId` (the API lets only a regulator's key ask): removes its
   * tombstone and records who, when and why. The reason must not contain the ID number (it is kept).
   */
  async reEnrol(subjectId: string, by: { department: string; signer: string }, reason: string, now: number): Promise<ReEnrolmentRecord> {
    const norm = normaliseIdNumber(subjectId);
    if (reason.toUpperCase().replace(/[^0-9A-Z]/g, "").includes(norm.replace(/[^0-9A-Z]/g, ""))) {
      throw fail.invalid("VALIDATION_FAILED", "the reason is kept on record: it must not contain the ID number");
    }
    const record = await this.subjects.reEnrol(subjectId, by, reason, now);
    if (!record) throw fail.notFound("erasure of", "(given ID number)");
    return record;
  }

  /** Re-enrolment record `id`, if any. */
  reEnrolment(id: string): Promise<ReEnrolmentRecord | undefined> {
    return this.subjects.reEnrolment(id);
  }

  /** Every re-enrolment record, oldest first. */
  reEnrolments(): Promise<ReEnrolmentRecord[]> {
    return this.subjects.allReEnrolments();
  }

  /** Refuses a draft cancelled here or on chain (through another node). */
  private async requireNotCancelled(draft: ConsentDraft): Promise<void> {
    if (draft.cancellation || (await this.indexer.cancellation(draft.id))) throw fail.conflict("DRAFT_CANCELLED", `consent ${draft.id} was cancelled before its grant`);
  }

  /** `draft` with the results of relays mined since it was saved filled in. */
  private settle(draft: ConsentDraft): Promise<ConsentDraft> {
    return settleDraft(this.client, draft, (d) => this.drafts.put(d.id, d));
  }

  private async load(id: string): Promise<ConsentDraft> {
    const draft = await this.drafts.get(id).then((d) => (d ? this.settle(d as ConsentDraft) : undefined));
    if (!draft) throw fail.notFound("consent", id);
    return draft;
  }
}
