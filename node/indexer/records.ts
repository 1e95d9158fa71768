/** What the indexer keeps per object: plain JSON, hex strings for bytes, decimal strings for big numbers. */

/** A department as the registry's events describe it. */
export interface DepartmentRecord {
  id: string;
  level: number;
  parent: string;
  active: boolean;
  signers: string[];
  registeredAt: number; // block
}

/** One change to a department's signers or active flag, at a block: the history behind `signersAt`. */
export interface SignerChange {
  block: number;
  kind: "added" | "removed" | "active" | "inactive";
  signer?: string;
}

/** A catalogued resource. */
export interface ResourceRecord {
  id: string;
  owner: string;
  schemaHash: string;
  condition: number;
  personal: boolean;
  version: number;
}

/** A sharing agreement with its current state and reported usage. */
export interface AgreementRecord {
  id: string;
  provider: string;
  consumer: string;
  resource: string;
  purposeHash: string;
  quota: string;
  used: string;
  validFrom: number;
  validUntil: number;
  status: "active" | "suspended" | "revoked";
  /** Suspensions and resumptions so far: the nonce of the next signed status change. */
  statusChanges: number;
  providerSigner: string;
  consumerSigner: string;
  /** The log that meters it, named in its terms. */
  meteringLog: string;
  activatedAt: { block: number; tx: string };
  quotaExceeded: boolean;
}

/** A consent with its terms (as granted) and its grant and revocation times. */
export interface ConsentRecord {
  id: string;
  subject: string;
  grantee: string;
  resource: string;
  purposeHash: string;
  kind: number;
  validUntil: number;
  evidenceHash: string;
  recorder: string;
  subjectSigner: string;
  nonce: string;
  /** The key that signed the grant for the recording department (named by the ConsentGranted event). */
  recorderSigner: string;
  grantedAt: number; // unix seconds
  revokedAt: number; // 0 when not revoked
  grantTx: string;
  revokeTx?: string;
  /** Who revoked: the recorder's signer, the subject's key or a regulator's key. */
  revokedBy?: string;
  /** Hash of the reason a regulator gave for revoking (regulator revocations only). */
  revocationReasonHash?: string;
}

/** A non-tax transfer batch and its reconciliation and disputes. */
export interface TransferRecord {
  id: string;
  from: string;
  to: string;
  category: string;
  period: number;
  recordCount: string;
  totalFen: string;
  recordsRoot: string;
  payloadHash: string;
  parents: string[];
  /** The keys that signed the batch for `from` and for `to` (named by the TransferSubmitted event). */
  fromSigner: string;
  toSigner: string;
  submittedAt: number;
  submitTx: string;
  reconciliation?: {
    collectedCount: string;
    collectedFen: string;
    resultsRoot: string;
    elapsed: number;
    /** The keys that signed the reconciliation for `from` and for `to`. */
    fromSigner: string;
    toSigner: string;
    tx: string;
  };
  disputes: { department: string; leafIndex: string; leafHash: string; reasonHash: string; tx: string }[];
}

/** Terms (of an agreement, a consent or a transfer) cancelled on chain before they were activated. */
export interface CancellationRecord {
  id: string;
  kind: "agreement" | "consent" | "transfer";
  /** The cancelling party's department (agreements and transfers; for a consent: the key only). */
  department?: string;
  /** The key that signed the cancellation. */
  by: string;
  at: number; // unix seconds
  tx: string;
}

/** An anchored checkpoint of a log. */
export interface CheckpointRecord {
  logId: string;
  index: number;
  treeSize: number;
  root: string;
  block: number;
  timestamp: number;
  tx: string;
}
