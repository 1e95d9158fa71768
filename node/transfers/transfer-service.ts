/**
 * Non-tax transfers through the node. The providing department (water resources, civil air
 * defence) posts a batch of fee records; the node validates them, computes the RFC 6962 root over
 * their canonical bytes, the record count and the total in fen, and returns the EIP-712 batch to
 * sign. When both departments have signed, the node relays it. The tax service then posts its
 * collection result per record; the node computes the results root and the collected count and
 * amount, both sign the reconciliation, the node relays it. Either side can dispute one record: the
 * node serves the record with its inclusion proof, and relays the signed dispute. Until a batch is on
 * chain, either department can cancel it with one signature (`TransferCancellation`).
 */
import { sha256 } from "@noble/hashes/sha256";
import { randomBytes } from "@noble/hashes/utils";
import { TypedDataEncoder } from "ethers";
import type { AbstractSublevel } from "abstract-level";
import type { ChainClient } from "../chain/client";
import { addCosignature, checkDepartmentSignature, type DepartmentSignature } from "../chain/cosign";
import type { DclAddresses } from "../chain/deploy";
import { codeId } from "../chain/ids";
import { relayInto, settleDraft, type TxRef, type WithPendingRelays } from "../chain/relay";
import { DISPUTE_TYPES, DOMAIN_NAMES, RECONCILIATION_TYPES, TRANSFER_CANCELLATION_TYPES, TRANSFER_TYPES, domainOf, type TransferBatch } from "../chain/typed-data";
import { fail } from "../errors";
import type { Indexer } from "../indexer/indexer";
import type { TransferRecord } from "../indexer/records";
import { MemoryTree } from "../merkle/memory-tree";
import { toHex } from "../verify";
import type { TypedData } from "../agreements/agreement-service";
import { CATEGORIES, CollectionResult, canonicalBytes, feeArithmeticError, type Category } from "./fee-records";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Table = AbstractSublevel<any, any, string, any>;

/** The co-signed batch with numbers as decimal strings, as stored and served. */
export interface TransferBatchJson {
  from: string;
  to: string;
  category: string;
  period: number;
  recordCount: string;
  totalFen: string;
  recordsRoot: string;
  payloadHash: string;
  parents: string[];
  nonce: string;
}

/** The co-signed reconciliation, numbers as decimal strings. */
export interface ReconciliationJson {
  transferId: string;
  collectedCount: string;
  collectedFen: string;
  resultsRoot: string;
}

/** Everything the node keeps of a transfer. */
export interface TransferDraft extends WithPendingRelays {
  id: string;
  categoryCode: Category;
  batch: TransferBatchJson;
  records: Record<string, string>[];
  draftedAt: number;
  signatures: { from?: DepartmentSignature; to?: DepartmentSignature };
  submission?: TxRef;
  /** The batch was cancelled before submission by a signer of `department`, a party. */
  cancellation?: TxRef & { department: string; signer: string; signature: string };
  reconciliation?: {
    value: ReconciliationJson;
    results: Record<string, string>[];
    draftedAt: number;
    signatures: { from?: DepartmentSignature; to?: DepartmentSignature };
    submission?: TxRef & { at: number };
  };
  disputes: { leafIndex: number; department: string; reasonHash: string; signer: string; signature: string; tx: TxRef }[];
}

const sumFen = (records: Record<string, string>[], field: string) => records.reduce((s, r) => s + BigInt(r[field]), 0n);

function toBatch(b: TransferBatchJson): TransferBatch {
  return { ...b, recordCount: BigInt(b.recordCount), totalFen: BigInt(b.totalFen), nonce: BigInt(b.nonce) };
}

function toReconciliation(r: ReconciliationJson) {
  return { ...r, collectedCount: BigInt(r.collectedCount), collectedFen: BigInt(r.collectedFen) };
}

/** Batches, co-signatures, reconciliation and disputes of non-tax transfers. */
export class TransferService {
  private readonly drafts: Table;
  /** Records trees of recently used transfers: serving every record of a batch must not rebuild its tree each time. */
  private readonly trees = new Map<string, { bytes: Uint8Array[]; tree: MemoryTree }>();

  constructor(
    db: { sublevel: (name: string, options: object) => unknown },
    private readonly client: ChainClient,
    private readonly indexer: Indexer,
    private readonly chainId: bigint,
    private readonly addresses: DclAddresses,
    private readonly maxRecords = 100_000,
  ) {
    this.drafts = db.sublevel("transfer-drafts", { valueEncoding: "json" }) as Table;
  }

  /** The EIP-712 domain of the transfers contract. */
  domain() {
    return domainOf(DOMAIN_NAMES.transfers, this.chainId, this.addresses.transfers);
  }

  /** Drafts a batch from department `from` to `to`; returns it with the typed data both sign. */
  async draft(
    from: string,
    req: { to: string; category: Category; period: number; records: unknown[]; parents?: string[] },
    now: number,
  ): Promise<{ draft: TransferDraft; typedData: TypedData }> {
    if (from === req.to) throw fail.invalid("TRANSFER_SAME_PARTY", "from and to must differ");
    if (!(await this.indexer.department(req.to))) throw fail.notFound("department", req.to);
    if (req.records.length === 0) throw fail.invalid("TRANSFER_EMPTY", "a batch holds at least one record");
    if (req.records.length > this.maxRecords) throw fail.invalid("TRANSFER_TOO_LARGE", `a batch holds at most ${this.maxRecords} records`);
    const schema = CATEGORIES[req.category];
    const records = req.records.map((r, i) => {
      const parsed = schema.safeParse(r);
      if (!parsed.success) throw fail.invalid("RECORD_INVALID", `record ${i}: ${parsed.error.issues.map((x) => `${x.path.join(".")}: ${x.message}`).join("; ")}`);
      const wrong = feeArithmeticError(req.category, parsed.data as Record<string, string>);
      if (wrong) throw fail.invalid("FEE_RECORD_ARITHMETIC", `record ${i}: ${wrong}`);
      return parsed.data as Record<string, string>;
    });
    for (const p of req.parents ?? []) if (!(await this.indexer.transfer(p))) throw fail.notFound("parent transfer", p);
    const bytes = records.map(canonicalBytes);
    const tree = new MemoryTree(bytes);
    const batch: TransferBatchJson = {
      from,
      to: req.to,
      category: codeId(req.category),
      period: req.period,
      recordCount: String(records.length),
      totalFen: sumFen(records, "amountFen").toString(),
      recordsRoot: toHex(tree.root()),
      payloadHash: toHex(sha256(new TextEncoder().encode(`[${bytes.map((b) => new TextDecoder().decode(b)).join(",")}]`))),
      parents: req.parents ?? [],
      nonce: BigInt("0x" + Buffer.from(randomBytes(8)).toString("hex")).toString(),
    };
    const id = TypedDataEncoder.hashStruct("Transfer", TRANSFER_TYPES, toBatch(batch));
    const draft: TransferDraft = { id, categoryCode: req.category, batch, records, draftedAt: now, signatures: {}, disputes: [] };
    await this.drafts.put(id, draft);
    return { draft, typedData: this.batchTypedData(draft) };
  }

  /** The typed data of the batch. */
  batchTypedData(draft: TransferDraft): TypedData {
    return { domain: this.domainJson(), types: TRANSFER_TYPES, primaryType: "Transfer", message: { ...draft.batch } };
  }

  /** The typed data of the reconciliation, once drafted. */
  reconciliationTypedData(draft: TransferDraft): TypedData | undefined {
    const r = draft.reconciliation;
    return r && { domain: this.domainJson(), types: RECONCILIATION_TYPES, primaryType: "Reconciliation", message: { ...r.value } };
  }

  /** Adds a party's signature to the batch; relays it when both have signed. */
  async signBatch(id: string, by: string, signature: string): Promise<TransferDraft> {
    const draft = await this.load(id);
    const side = this.side(draft, by);
    if (draft.submission) throw fail.conflict("TRANSFER_ALREADY_SUBMITTED", `transfer ${id} is already on chain`);
    await this.requireNotCancelled(draft);
    const sig = await checkDepartmentSignature(this.indexer, by, this.domain(), TRANSFER_TYPES, toBatch(draft.batch) as never, signature);
    const save = () => this.drafts.put(id, draft);
    draft.submission = await addCosignature(draft.signatures, side, sig, ["from", "to"], save, (from, to) =>
      relayInto(this.client, this.indexer, draft, save, { path: "submission" }, (c) => c.transfers.submit.populateTransaction(toBatch(draft.batch), from, to)),
    );
    if (draft.submission) await save();
    return draft;
  }

  /** The typed data a party signs to cancel batch `id` before its submission. */
  cancellationTypedData(id: string): TypedData {
    return { domain: this.domainJson(), types: TRANSFER_CANCELLATION_TYPES, primaryType: "TransferCancellation", message: { transferId: id } };
  }

  /**
   * Department `by`, a party, cancels batch `id` before its submission with its signer's signature: the batch
   * can then never be submitted. Closes the review's "signed terms without a deadline" (issue 9) for fee batches.
   */
  async cancel(id: string, by: string, signature: string): Promise<TransferDraft> {
    const draft = await this.load(id);
    this.side(draft, by);
    if (draft.submission || (await this.indexer.transfer(id))) throw fail.conflict("TRANSFER_ALREADY_SUBMITTED", `transfer ${id} is on chain`);
    await this.requireNotCancelled(draft);
    const sig = await checkDepartmentSignature(this.indexer, by, this.domain(), TRANSFER_CANCELLATION_TYPES, { transferId: id }, signature);
    const save = () => this.drafts.put(id, draft);
    const tx = await relayInto(this.client, this.indexer, draft, save, { path: "cancellation", extra: { department: by, ...sig } }, (c) => c.transfers.cancel.populateTransaction(toBatch(draft.batch), by, sig));
    draft.cancellation = { ...tx, department: by, ...sig };
    await this.drafts.put(id, draft);
    return draft;
  }

  /** The receiving (tax) department posts its collection results, one per record in batch order. */
  async draftReconciliation(id: string, by: string, results: unknown[], now: number): Promise<{ draft: TransferDraft; typedData: TypedData }> {
    const draft = await this.load(id);
    if (by !== draft.batch.to) throw fail.forbidden("FORBIDDEN_NOT_PARTY", `only the receiving department ${draft.batch.to} reconciles`);
    if (!draft.submission) throw fail.conflict("TRANSFER_NOT_SUBMITTED", `transfer ${id} is not on chain yet`);
    if (draft.reconciliation?.submission) throw fail.conflict("TRANSFER_ALREADY_RECONCILED", `transfer ${id} is already reconciled`);
    if (results.length !== draft.records.length) throw fail.invalid("RESULTS_COUNT", `expected ${draft.records.length} results, got ${results.length}`);
    const { tree } = this.recordsTree(draft);
    const parsed = results.map((r, i) => {
      const p = CollectionResult.safeParse(r);
      if (!p.success) throw fail.invalid("RESULT_INVALID", `result ${i}: ${p.error.issues.map((x) => `${x.path.join(".")}: ${x.message}`).join("; ")}`);
      if (p.data.recordLeafHash !== toHex(tree.leafHash(i))) throw fail.invalid("RESULT_RECORD_MISMATCH", `result ${i} names leaf ${p.data.recordLeafHash}, record ${i} is ${toHex(tree.leafHash(i))}`);
      return p.data as Record<string, string>;
    });
    const value: ReconciliationJson = {
      transferId: id,
      collectedCount: String(parsed.filter((r) => r.status !== "unpaid").length),
      collectedFen: sumFen(parsed, "paidFen").toString(),
      resultsRoot: toHex(new MemoryTree(parsed.map(canonicalBytes)).root()),
    };
    draft.reconciliation = { value, results: parsed, draftedAt: now, signatures: {} };
    await this.drafts.put(id, draft);
    return { draft, typedData: this.reconciliationTypedData(draft)! };
  }

  /** Adds a party's signature to the reconciliation; relays it when both have signed. */
  async signReconciliation(id: string, by: string, signature: string, now: number): Promise<TransferDraft> {
    const draft = await this.load(id);
    const side = this.side(draft, by);
    const rec = draft.reconciliation;
    if (!rec) throw fail.conflict("RECONCILIATION_NOT_DRAFTED", `no reconciliation drafted for transfer ${id}`);
    if (rec.submission) throw fail.conflict("TRANSFER_ALREADY_RECONCILED", `transfer ${id} is already reconciled`);
    const sig = await checkDepartmentSignature(this.indexer, by, this.domain(), RECONCILIATION_TYPES, toReconciliation(rec.value) as never, signature);
    const save = () => this.drafts.put(id, draft);
    const tx = await addCosignature(rec.signatures, side, sig, ["from", "to"], save, (from, to) =>
      relayInto(this.client, this.indexer, draft, save, { path: "reconciliation.submission", extra: { at: now } }, (c) => c.transfers.reconcile.populateTransaction(toReconciliation(rec.value), from, to)),
    );
    if (tx) {
      rec.submission = { ...tx, at: now };
      await save();
    }
    return draft;
  }

  /** Record `index` of transfer `id` with its leaf hash and inclusion proof against the records root. */
  async record(id: string, index: number): Promise<{ record: Record<string, string>; canonical: string; leafHash: string; proof: string[] }> {
    const draft = await this.load(id);
    if (!Number.isInteger(index) || index < 0 || index >= draft.records.length) throw fail.notFound("record", `${id}#${index}`);
    const { bytes, tree } = this.recordsTree(draft);
    return {
      record: draft.records[index],
      canonical: new TextDecoder().decode(bytes[index]),
      leafHash: toHex(tree.leafHash(index)),
      proof: tree.inclusionProof(index).map(toHex),
    };
  }

  /** The typed data of a dispute of record `leafIndex` by department `by` for `reasonHash`. */
  async disputeTypedData(id: string, by: string, leafIndex: number, reasonHash: string): Promise<TypedData> {
    const { leafHash } = await this.record(id, leafIndex);
    return { domain: this.domainJson(), types: DISPUTE_TYPES, primaryType: "Dispute", message: { transferId: id, department: by, leafIndex, leafHash, reasonHash } };
  }

  /** Relays department `by`'s signed dispute of record `leafIndex`, with the record and its proof. */
  async dispute(id: string, by: string, leafIndex: number, reasonHash: string, signature: string): Promise<TransferDraft> {
    const draft = await this.load(id);
    this.side(draft, by);
    if (!draft.submission) throw fail.conflict("TRANSFER_NOT_SUBMITTED", `transfer ${id} is not on chain yet`);
    if (draft.disputes.some((d) => d.leafIndex === leafIndex && d.department === by)) {
      throw fail.conflict("RECORD_ALREADY_DISPUTED", `record ${leafIndex} of transfer ${id} is already disputed by ${by}`);
    }
    const { canonical, leafHash, proof } = await this.record(id, leafIndex);
    const sig = await checkDepartmentSignature(this.indexer, by, this.domain(), DISPUTE_TYPES, { transferId: id, department: by, leafIndex, leafHash, reasonHash }, signature);
    const dispute = { leafIndex, department: by, reasonHash, signer: sig.signer, signature };
    const save = () => this.drafts.put(id, draft);
    const tx = await relayInto(this.client, this.indexer, draft, save, { path: "disputes", push: true, extra: dispute, nestTx: true }, (c) =>
      c.transfers.dispute.populateTransaction(id, by, leafIndex, new TextEncoder().encode(canonical), proof, reasonHash, sig),
    );
    draft.disputes.push({ ...dispute, tx });
    await this.drafts.put(id, draft);
    return draft;
  }

  /** Transfer `id`: the node's record and the indexed on-chain state. */
  async get(id: string): Promise<{ draft: TransferDraft; onChain?: TransferRecord }> {
    return { draft: await this.load(id), onChain: await this.indexer.transfer(id) };
  }

  /** Seconds from each batch's draft to its co-signed reconciliation, for reconciled transfers. */
  async reconciliationTimes(): Promise<{ id: string; from: string; to: string; seconds: number; onChainSeconds?: number }[]> {
    const out = [];
    for await (const d of this.drafts.values()) {
      const draft = await settleDraft(this.client, d as TransferDraft, (x) => this.drafts.put(x.id, x));
      const at = draft.reconciliation?.submission?.at;
      if (at === undefined) continue;
      const onChain = (await this.indexer.transfer(draft.id))?.reconciliation?.elapsed;
      out.push({ id: draft.id, from: draft.batch.from, to: draft.batch.to, seconds: at - draft.draftedAt, onChainSeconds: onChain });
    }
    return out;
  }

  private recordsTree(draft: TransferDraft): { bytes: Uint8Array[]; tree: MemoryTree } {
    let cached = this.trees.get(draft.id);
    if (!cached) {
      const bytes = draft.records.map(canonicalBytes);
      cached = { bytes, tree: new MemoryTree(bytes) };
      if (this.trees.size >= 8) this.trees.delete(this.trees.keys().next().value!);
      this.trees.set(draft.id, cached);
    }
    return cached;
  }

  private side(draft: TransferDraft, by: string): "from" | "to" {
    if (by === draft.batch.from) return "from";
    if (by === draft.batch.to) return "to";
    throw fail.forbidden("FORBIDDEN_NOT_PARTY", `department ${by} is not a party to transfer ${draft.id}`);
  }

  /** Refuses a batch cancelled here or on chain (through another node). */
  private async requireNotCancelled(draft: TransferDraft): Promise<void> {
    if (draft.cancellation || (await this.indexer.cancellation(draft.id))) throw fail.conflict("DRAFT_CANCELLED", `transfer ${draft.id} was cancelled before its submission`);
  }

  private domainJson() {
    return { ...this.domain(), chainId: this.chainId.toString() };
  }

  private async load(id: string): Promise<TransferDraft> {
    const stored = (await this.drafts.get(id)) as TransferDraft | undefined;
    const draft = stored && (await settleDraft(this.client, stored, (d) => this.drafts.put(id, d)));
    if (!draft) throw fail.notFound("transfer", id);
    return draft;
  }
}
