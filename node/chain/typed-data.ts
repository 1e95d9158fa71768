/**
 * EIP-712 typed data of every co-signed dcl structure, written once and shared by the contracts'
 * tests, the node and the API. The type strings match the `*_TYPEHASH` constants in `contracts/`
 * (a test checks each against the contract).
 */
import type { TypedDataDomain, TypedDataField } from "ethers";

/** Contract names as given to OpenZeppelin's EIP712 constructor; the domain version is "1" for all. */
export const DOMAIN_NAMES = {
  council: "dcl GovernanceCouncil",
  registry: "dcl DepartmentRegistry",
  agreements: "dcl SharingAgreements",
  consents: "dcl ConsentRegistry",
  transfers: "dcl NonTaxTransfers",
} as const;

/** The EIP-712 domain of a dcl contract: bound to its chain id and address. */
export function domainOf(name: string, chainId: bigint | number, verifyingContract: string): TypedDataDomain {
  return { name, version: "1", chainId, verifyingContract };
}

/** Signed by k of a department's current signers (its threshold): add or remove a key, or set the threshold. */
export const SIGNER_CHANGE_TYPES: Record<string, TypedDataField[]> = {
  SignerChange: [
    { name: "department", type: "bytes32" },
    { name: "action", type: "uint8" },
    { name: "signer", type: "address" },
    { name: "threshold", type: "uint8" },
    { name: "nonce", type: "uint32" },
  ],
};

/** Actions of a SignerChange (the registry's enum order). */
export enum SignerAction {
  Add = 0,
  Remove = 1,
  SetThreshold = 2,
}

/** Signed by m of the governance council's n members: one call the council makes (`data` hashed as EIP-712 bytes). */
export const COUNCIL_CALL_TYPES: Record<string, TypedDataField[]> = {
  CouncilCall: [
    { name: "target", type: "address" },
    { name: "data", type: "bytes" },
    { name: "nonce", type: "uint64" },
  ],
};

/** Signed by any one current signer of a department: vetoes the governor's pending recovery of it. */
export const RECOVERY_VETO_TYPES: Record<string, TypedDataField[]> = {
  RecoveryVeto: [
    { name: "department", type: "bytes32" },
    { name: "recoveryHash", type: "bytes32" },
  ],
};

export const AGREEMENT_TYPES: Record<string, TypedDataField[]> = {
  Agreement: [
    { name: "provider", type: "bytes32" },
    { name: "consumer", type: "bytes32" },
    { name: "resource", type: "bytes32" },
    { name: "purposeHash", type: "bytes32" },
    { name: "quota", type: "uint64" },
    { name: "validFrom", type: "uint64" },
    { name: "validUntil", type: "uint64" },
    { name: "nonce", type: "uint64" },
    { name: "meteringLog", type: "bytes32" },
  ],
};

/** Signed by a signer of the recording department (always) and by the subject (when `subjectSigner` is set). */
export const CONSENT_TYPES: Record<string, TypedDataField[]> = {
  Consent: [
    { name: "subject", type: "bytes32" },
    { name: "grantee", type: "bytes32" },
    { name: "resource", type: "bytes32" },
    { name: "purposeHash", type: "bytes32" },
    { name: "kind", type: "uint8" },
    { name: "validUntil", type: "uint64" },
    { name: "evidenceHash", type: "bytes32" },
    { name: "recorder", type: "bytes32" },
    { name: "subjectSigner", type: "address" },
    { name: "nonce", type: "uint64" },
  ],
};

/** Signed by a signer of the recording department (`revoke`) or by the subject (`revokeBySubject`). */
export const REVOCATION_TYPES: Record<string, TypedDataField[]> = {
  Revocation: [{ name: "consentId", type: "bytes32" }],
};

/**
 * Signed by a key holding the regulator role: revokes a consent whatever its recorder's state (a deactivated
 * recorder can no longer revoke, and a consent without a subject key would otherwise stand for good).
 * `reasonHash` is keccak256 of the reason text, or zero. Revocation is final, so it cannot be replayed.
 */
export const REGULATOR_REVOCATION_TYPES: Record<string, TypedDataField[]> = {
  RegulatorRevocation: [
    { name: "consentId", type: "bytes32" },
    { name: "reasonHash", type: "bytes32" },
  ],
};

/**
 * Signed by a signer of the recording department or by the subject's key: cancels consent terms that were
 * signed but never granted, so they can no longer be granted. Final, so the id alone cannot be replayed.
 */
export const CONSENT_CANCELLATION_TYPES: Record<string, TypedDataField[]> = {
  ConsentCancellation: [{ name: "consentId", type: "bytes32" }],
};

/** Signed by a signer of the providing department; revocation is final, so the id alone cannot be replayed. */
export const AGREEMENT_REVOCATION_TYPES: Record<string, TypedDataField[]> = {
  AgreementRevocation: [{ name: "agreementId", type: "bytes32" }],
};

/**
 * Signed by a signer of the provider or the consumer: cancels agreement terms that were never activated, so
 * that a signature one party gave and the other never matched cannot activate them later. Final.
 */
export const AGREEMENT_CANCELLATION_TYPES: Record<string, TypedDataField[]> = {
  AgreementCancellation: [{ name: "agreementId", type: "bytes32" }],
};

/**
 * Signed by a key holding the regulator role: a suspension (status Suspended, with the reason's hash) or a
 * resumption (status Active, zero reason). `nonce` is the agreement's count of status changes so far
 * (`agreement(id).statusChanges`), so an old suspension cannot be replayed after a resumption.
 */
export const AGREEMENT_STATUS_TYPES: Record<string, TypedDataField[]> = {
  AgreementStatusChange: [
    { name: "agreementId", type: "bytes32" },
    { name: "status", type: "uint8" },
    { name: "reasonHash", type: "bytes32" },
    { name: "nonce", type: "uint32" },
  ],
};

export const TRANSFER_TYPES: Record<string, TypedDataField[]> = {
  Transfer: [
    { name: "from", type: "bytes32" },
    { name: "to", type: "bytes32" },
    { name: "category", type: "bytes32" },
    { name: "period", type: "uint32" },
    { name: "recordCount", type: "uint64" },
    { name: "totalFen", type: "uint128" },
    { name: "recordsRoot", type: "bytes32" },
    { name: "payloadHash", type: "bytes32" },
    { name: "parents", type: "bytes32[]" },
    { name: "nonce", type: "uint64" },
  ],
};

export const RECONCILIATION_TYPES: Record<string, TypedDataField[]> = {
  Reconciliation: [
    { name: "transferId", type: "bytes32" },
    { name: "collectedCount", type: "uint64" },
    { name: "collectedFen", type: "uint128" },
    { name: "resultsRoot", type: "bytes32" },
  ],
};

/** Signed by a signer of either party (from or to): cancels a batch that was never submitted. Final. */
export const TRANSFER_CANCELLATION_TYPES: Record<string, TypedDataField[]> = {
  TransferCancellation: [{ name: "transferId", type: "bytes32" }],
};

/** Signed by a signer of the disputing party (from or to); each party disputes a record once. */
export const DISPUTE_TYPES: Record<string, TypedDataField[]> = {
  Dispute: [
    { name: "transferId", type: "bytes32" },
    { name: "department", type: "bytes32" },
    { name: "leafIndex", type: "uint64" },
    { name: "leafHash", type: "bytes32" },
    { name: "reasonHash", type: "bytes32" },
  ],
};

/** Terms of a sharing agreement, as signed. */
export interface AgreementTerms {
  provider: string;
  consumer: string;
  resource: string;
  purposeHash: string;
  quota: bigint;
  validFrom: bigint;
  validUntil: bigint;
  nonce: bigint;
  meteringLog: string;
}

/** States of a sharing agreement (the contract's enum order). */
export enum AgreementStatus {
  None = 0,
  Active = 1,
  Suspended = 2,
  Revoked = 3,
}

/** The provider's revocation of an agreement, as signed. */
export interface AgreementRevocation {
  agreementId: string;
}

/** The regulator's suspension or resumption of an agreement, as signed; `reasonHash` is zero for a resumption. */
export interface AgreementStatusChange {
  agreementId: string;
  status: AgreementStatus.Active | AgreementStatus.Suspended;
  reasonHash: string;
  nonce: bigint; // the agreement's count of status changes before this one
}

/** Kinds of consent (the contract's enum order). */
export enum ConsentKind {
  Separate = 0,
  Explicit = 1,
}

/** Terms of a consent, as signed by the recorder and the subject (when `subjectSigner` is set); stored as a hash. */
export interface ConsentTerms {
  subject: string;
  grantee: string;
  resource: string;
  purposeHash: string;
  kind: ConsentKind;
  validUntil: bigint;
  evidenceHash: string;
  recorder: string;
  subjectSigner: string;
  nonce: bigint;
}

/** A batch of non-tax fee records, as co-signed. */
export interface TransferBatch {
  from: string;
  to: string;
  category: string;
  period: number;
  recordCount: bigint;
  totalFen: bigint;
  recordsRoot: string;
  payloadHash: string;
  parents: string[];
  nonce: bigint;
}

/** A reconciliation of a transfer, as co-signed. */
export interface Reconciliation {
  transferId: string;
  collectedCount: bigint;
  collectedFen: bigint;
  resultsRoot: string;
}

/** A party's dispute of one fee record of a transfer, as signed; `leafHash` is the RFC 6962 hash of the record. */
export interface Dispute {
  transferId: string;
  department: string;
  leafIndex: bigint;
  leafHash: string;
  reasonHash: string;
}
