/**
 * The evidence bundle: one JSON document that lets anyone check a set of access-log entries with no
 * access to dcl — the entries (canonical bytes and decoded), their inclusion proofs against a signed
 * checkpoint, the checkpoint's anchor on chain (transaction, block), the chain id and contract
 * addresses, and the agreements and consents the entries were made under, with their signatures.
 * `dcl verify` (scripts/cli) checks it; node/evidence/verify-bundle.ts does the work.
 */
import type { AccessLogEntry } from "../log/entry";
import type { DclAddresses } from "../chain/deploy";
import type { AgreementTermsJson } from "../agreements/agreement-service";
import type { ConsentTermsJson } from "../consents/consent-service";
import type { Receipt, Seal } from "../verify";

export const BUNDLE_VERSION = "dcl-evidence/v1";

/** A department signature as relayed on chain. */
export interface BundleSignature {
  signer: string;
  signature: string;
}

/** One logged entry with its proof. */
export interface BundleEntry {
  index: number;
  canonical: string; // 0x-hex of the canonical entry bytes
  entry: AccessLogEntry;
  leafHash: string;
  proof: string[]; // inclusion proof against checkpoint.treeSize
  receipt: Receipt;
}

/** An agreement with the terms and both co-signatures. */
export interface BundleAgreement {
  id: string;
  terms: AgreementTermsJson;
  signatures: { provider: BundleSignature; consumer: BundleSignature };
  activation: { tx: string; block: number };
  state: { status: string; quota: string; used: string; statusChanges?: number };
}

/** A consent with its terms, the recorder's (and subject's) signature and its grant/revocation times. */
export interface BundleConsent {
  id: string;
  terms: ConsentTermsJson;
  recorderSignature: BundleSignature;
  subjectSignature?: string;
  grantedAt: number;
  revokedAt: number;
  grant: { tx: string; block: number };
  revocation?: { tx: string; block: number; by: string; signature: string };
}

/** An earlier anchored checkpoint and the consistency proof from it to the bundle's checkpoint. */
export interface BundleEarlierCheckpoint {
  index: number;
  treeSize: number;
  root: string;
  tx: string;
  block: number;
  consistencyProof: string[];
}

/** The whole bundle, sealed: `seal` is the log operator's signature over everything else (node/verify/seal.ts). */
export interface EvidenceBundle extends UnsealedBundle {
  seal: Seal;
}

/** The bundle without its seal: what the seal signs. */
export interface UnsealedBundle {
  version: typeof BUNDLE_VERSION;
  createdAt: number;
  chain: { chainId: string; contracts: DclAddresses };
  log: { logId: string; origin: string; operatorDepartment: string; operatorSigners: string[] };
  checkpoint: {
    note: string; // signed C2SP checkpoint
    treeSize: number;
    root: string;
    anchor: { index: number; tx: string; block: number; timestamp: number };
  };
  earlierCheckpoints: BundleEarlierCheckpoint[];
  entries: BundleEntry[];
  agreements: BundleAgreement[];
  consents: BundleConsent[];
}
