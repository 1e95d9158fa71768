/**
 * Builds evidence bundles (bundle.ts) for sets of log entries, and provenance reports for a content
 * hash: the transfers (with their lineage) and the logged data calls a data product came through.
 */
import type { AccessLedger } from "../access/access-ledger";
import type { AuditIndex } from "../access/audit-index";
import type { AgreementService } from "../agreements/agreement-service";
import type { Anchorer } from "../anchor/anchorer";
import type { DclAddresses } from "../chain/deploy";
import type { ConsentService } from "../consents/consent-service";
import { fail } from "../errors";
import type { Indexer } from "../indexer/indexer";
import type { CheckpointRecord, TransferRecord } from "../indexer/records";
import type { CheckpointSigner } from "../log/checkpoint-signer";
import type { MerkleLog } from "../log/merkle-log";
import type { TransferDraft, TransferService } from "../transfers/transfer-service";
import { sealSigningPayload, toHex } from "../verify";
import { BUNDLE_VERSION, type BundleAgreement, type BundleConsent, type EvidenceBundle, type UnsealedBundle } from "./bundle";

/** Signs bundle seals synchronously with the log operator's key (an ethers Wallet). */
export interface SealSigner {
  readonly address: string;
  signMessageSync(message: Uint8Array): string;
}

/** What the evidence service reads from. */
export interface EvidenceSources {
  log: MerkleLog;
  indexer: Indexer;
  audit: AuditIndex;
  anchorer: Anchorer;
  access: AccessLedger;
  agreements: AgreementService;
  consents: ConsentService;
  transfers: TransferService;
  checkpoints: CheckpointSigner;
  /** The log operator's key, which seals every bundle. */
  sealer: SealSigner;
  logId: string;
  chainId: bigint;
  addresses: DclAddresses;
}

/** A transfer in a provenance chain: its on-chain record, the node's copy of the signed batch, and its parents. */
export interface ProvenanceTransfer {
  id: string;
  onChain: TransferRecord;
  batch?: TransferDraft["batch"];
  signatures?: TransferDraft["signatures"];
  reconciliation?: { value: NonNullable<TransferDraft["reconciliation"]>["value"]; signatures: NonNullable<TransferDraft["reconciliation"]>["signatures"] };
  parents: string[];
}

/** Where a content hash came from. */
export interface ProvenanceReport {
  hash: string;
  transfers: ProvenanceTransfer[];
  accesses?: EvidenceBundle;
}

/** The most entries one bundle holds. */
export const MAX_BUNDLE_ENTRIES = 1000;

/** Evidence bundles and provenance. */
export class EvidenceService {
  constructor(private readonly s: EvidenceSources) {}

  /** A bundle for log entries `indices` against the latest anchored checkpoint (anchoring first if needed). */
  async bundle(indices: number[]): Promise<EvidenceBundle> {
    const { log, indexer } = this.s;
    const unique = [...new Set(indices)].sort((a, b) => a - b);
    if (unique.length === 0) throw fail.invalid("BUNDLE_EMPTY", "name at least one entry");
    if (unique.length > MAX_BUNDLE_ENTRIES) throw fail.invalid("BUNDLE_TOO_LARGE", `a bundle holds at most ${MAX_BUNDLE_ENTRIES} entries`);
    for (const i of unique) if (!Number.isSafeInteger(i) || i < 0 || i >= log.size()) throw fail.notFound("log entry", String(i));
    const checkpoint = await this.anchoredCovering(unique[unique.length - 1]);
    const size = checkpoint.treeSize;
    const note = (await this.s.checkpoints.sign(size)).note;
    const entries = await Promise.all(
      unique.map(async (index) => {
        const bytes = await log.get(index);
        const leafHash = toHex(await log.leafHashAt(index));
        return {
          index,
          canonical: toHex(bytes),
          entry: await log.getEntry(index),
          leafHash,
          proof: (await log.inclusionProof(index, size)).map(toHex),
          receipt: await this.s.access.originalReceipt(index, leafHash),
        };
      }),
    );
    const cps = await indexer.checkpoints(this.s.logId);
    const earlier = cps.filter((c) => c.treeSize < size).slice(-16);
    const operatorDepartment = (await indexer.logOperator(this.s.logId)) ?? "";
    const unsealed: UnsealedBundle = {
      version: BUNDLE_VERSION,
      createdAt: Math.floor(Date.now() / 1000),
      chain: { chainId: this.s.chainId.toString(), contracts: this.s.addresses },
      log: {
        logId: this.s.logId,
        origin: this.s.checkpoints.origin,
        operatorDepartment,
        operatorSigners: (await indexer.department(operatorDepartment))?.signers ?? [],
      },
      checkpoint: { note, treeSize: size, root: checkpoint.root, anchor: { index: checkpoint.index, tx: checkpoint.tx, block: checkpoint.block, timestamp: checkpoint.timestamp } },
      earlierCheckpoints: await Promise.all(
        earlier.map(async (c) => ({
          index: c.index, treeSize: c.treeSize, root: c.root, tx: c.tx, block: c.block,
          consistencyProof: (await log.consistencyProof(c.treeSize, size)).map(toHex),
        })),
      ),
      entries,
      agreements: await this.agreementsOf(entries.map((e) => e.entry.agreementId)),
      consents: await this.consentsOf(entries.map((e) => e.entry)),
    };
    return this.seal(unsealed);
  }

  /** `unsealed` with the operator's seal over its canonical JSON. */
  seal(unsealed: UnsealedBundle): EvidenceBundle {
    const { sealer } = this.s;
    return { ...unsealed, seal: { signer: sealer.address, signature: sealer.signMessageSync(sealSigningPayload(unsealed)) } };
  }

  /** Where content `hash` came from: transfers naming it (payload hash or records root) with their lineage, and data calls whose response it is. */
  async provenance(hash: string): Promise<ProvenanceReport> {
    const { indexer, transfers } = this.s;
    const seen = new Map<string, ProvenanceTransfer>();
    const queue = await indexer.transfersByHash(hash);
    while (queue.length) {
      const id = queue.shift()!;
      if (seen.has(id)) continue;
      const onChain = await indexer.transfer(id);
      if (!onChain) continue;
      const draft = await transfers.get(id).then((t) => t.draft, () => undefined);
      seen.set(id, {
        id, onChain, parents: onChain.parents,
        ...(draft ? { batch: draft.batch, signatures: draft.signatures } : {}),
        ...(draft?.reconciliation ? { reconciliation: { value: draft.reconciliation.value, signatures: draft.reconciliation.signatures } } : {}),
      });
      queue.push(...onChain.parents);
    }
    const indices = await this.s.audit.indexes("response", hash, -1, MAX_BUNDLE_ENTRIES);
    const accesses = indices.length ? await this.bundle(indices) : undefined;
    if (seen.size === 0 && !accesses) throw fail.notFound("content hash", hash);
    return { hash, transfers: [...seen.values()], ...(accesses ? { accesses } : {}) };
  }

  private async anchoredCovering(maxIndex: number): Promise<CheckpointRecord> {
    const latest = async () => (await this.s.indexer.checkpoints(this.s.logId)).at(-1);
    let cp = await latest();
    if (!cp || cp.treeSize <= maxIndex) {
      await this.s.anchorer.anchorOnce().catch(() => undefined);
      await this.s.indexer.syncOnce().catch(() => undefined);
      cp = await latest();
    }
    if (!cp || cp.treeSize <= maxIndex) {
      throw fail.conflict("NOT_YET_ANCHORED", `entry ${maxIndex} is not covered by an anchored checkpoint yet (anchored size ${cp?.treeSize ?? 0})`);
    }
    return cp;
  }

  private async agreementsOf(ids: string[]): Promise<BundleAgreement[]> {
    const out: BundleAgreement[] = [];
    for (const id of new Set(ids)) {
      const { draft, onChain } = await this.s.agreements.get(id).catch(() => ({ draft: undefined, onChain: undefined }));
      const { provider, consumer } = draft?.signatures ?? {};
      if (!draft || !onChain || !provider || !consumer || !draft.activation) continue;
      out.push({
        id, terms: draft.terms, signatures: { provider, consumer }, activation: draft.activation,
        state: { status: onChain.status, quota: onChain.quota, used: onChain.used, statusChanges: onChain.statusChanges },
      });
    }
    return out;
  }

  private async consentsOf(entries: { subjectCommitment: string | null; consumerDept: string; resourceId: string; purposeHash: string; time: number; outcome: string }[]): Promise<BundleConsent[]> {
    const out = new Map<string, BundleConsent>();
    for (const e of entries) {
      if (!e.subjectCommitment || e.outcome !== "served") continue;
      const c = await this.s.indexer.consentCovering(e.subjectCommitment, e.consumerDept, e.resourceId, e.purposeHash, e.time);
      if (!c || out.has(c.id)) continue;
      const { draft } = await this.s.consents.get(c.id).catch(() => ({ draft: undefined }));
      if (!draft?.recorderSignature || !draft.grant) continue;
      out.set(c.id, {
        id: c.id, terms: draft.terms, recorderSignature: draft.recorderSignature,
        ...(draft.subjectSignature ? { subjectSignature: draft.subjectSignature } : {}),
        grantedAt: c.grantedAt, revokedAt: c.revokedAt, grant: draft.grant,
        ...(draft.revocation ? { revocation: draft.revocation } : {}),
      });
    }
    return [...out.values()];
  }
}
