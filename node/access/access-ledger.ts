/**
 * Records data calls in the verifiable log. Before appending, each call is checked: the agreement
 * is active and in its window, the caller is its consumer, both parties are still active in the
 * registry and the resource still shareable in the catalog (an agreement stays active on chain when
 * they change: the node enforces them, review finding "history the verifiers need", issue 9), the
 * purpose matches, the quota has room, and a consent valid at this moment exists when the resource
 * holds personal information. A call
 * that fails a check is logged too, as refused with the reason. Every logged entry gets a receipt
 * signed by the log operator: one signature per receipt batch — a synced commit of the log, or the
 * consecutive commits that waited for the signer together (every request whose entries landed in
 * it shares its signed root) — made only once the batch is on disk.
 *
 * Quota is counted atomically: all checks read what they need first (async), then one synchronous
 * pass decides every call of a request and reserves its records against the in-memory usage
 * counters — no `await` in between, so concurrent requests can never overrun a quota. Reservations
 * become usage when the log acknowledges the entries, and are released if the append fails.
 */
import { fail } from "../errors";
import { ChangeCache } from "../indexer/change-cache";
import type { Indexer } from "../indexer/indexer";
import type { AgreementRecord, ConsentRecord, DepartmentRecord, ResourceRecord } from "../indexer/records";
import { SharingCondition } from "../chain/ids";
import type { AccessLogEntry } from "../log/entry";
import type { ReceiptStore } from "./receipt-store";
import type { AppendResult, CommitGroup, MerkleLog } from "../log/merkle-log";
import type { RecentEntries } from "../log/recent-entries";
import { MemoryTree } from "../merkle/memory-tree";
import { compactRange, fromHex, receiptSigningPayload, toHex, type BatchProof, type Receipt } from "../verify";
import type { AuditIndex } from "./audit-index";
import { REFUSAL, type RefusalCode } from "./refusals";

const ZERO32 = "0x" + "00".repeat(32);

/** One data call as reported by the consumer department. */
export interface AccessCall {
  agreementId: string;
  /** Purpose hash; defaults to the agreement's. */
  purposeHash?: string;
  recordCount: number;
  requestHash: string;
  responseHash: string;
  /** Subject commitment, required when the resource holds personal information (and refused when it does not). */
  subjectCommitment?: string | null;
  /** The subject was named by an ID number that was erased: refused SUBJECT_ERASED whatever the commitment. */
  subjectErased?: boolean;
  /** When the consumer made the call (unix seconds), as it reports it: logged with the entry (timeliness). */
  calledAt?: number;
  /** The provider's response time in ms, as the consumer reports it: logged with the entry. */
  latencyMs?: number;
}

/** What happened to one call: its log position, outcome and the operator's receipt. */
export interface AccessOutcome {
  index: number;
  /** The entry's time (unix seconds), as logged. */
  time: number;
  leafHash: string;
  outcome: "served" | "refused";
  refusalReason?: RefusalCode;
  consentId?: string;
  /** The entry exactly as logged, so the caller can rebuild its leaf hash. */
  entry: AccessLogEntry;
  receipt: Receipt;
}

/** What a caller wants back with its outcomes: every entry's receipt (`entry`), the batch's signed root and a range proof to rebuild them (`batch`), or neither (`none`). */
export type ProofMode = "entry" | "batch" | "none";

/** An outcome, with its receipt unless the caller asked for the batch proof or nothing. */
export type LoggedCall = Omit<AccessOutcome, "receipt"> & { receipt?: Receipt };

/** The outcomes of one request, in order, and with `proofs: "batch"` the one proof they share. */
export interface RecordedCalls {
  results: LoggedCall[];
  batch?: BatchProof;
}

/** A receipt batch, signed once: one synced commit, or consecutive commits that waited for the signer together. */
interface SignedCommit {
  first: number;
  count: number;
  tree: MemoryTree;
  root: string;
  /** The operator's signature of the batch root: made where the signer makes it (node/keys/threaded-signer.ts). */
  signature: Promise<string>;
  /** Whether every commit the batch holds was written: only then may its signature be given out or kept. */
  written: Promise<boolean>;
  kept: Promise<void> | undefined;
  /** Hex of the tree's node at (`level`, `position`), made once: every receipt of the batch shares its upper nodes. */
  hex(level: number, position: number): string;
}

/** Signs receipts (an ethers Wallet; a ThreadedSigner also has `signMessage`, in a worker thread when it uses one). */
export interface ReceiptSigner {
  readonly address: string;
  signMessageSync(message: Uint8Array): string;
  /** The same signature, made elsewhere: used for the receipts of each commit when given. */
  signMessage?(message: Uint8Array): Promise<string>;
}

/** The access ledger's collaborators. */
export interface AccessLedgerOptions {
  log: MerkleLog;
  indexer: Indexer;
  audit: AuditIndex;
  signer: ReceiptSigner;
  /** Tells whether a subject commitment was erased (its consents no longer count). */
  isErased?: (commitment: string) => Promise<boolean>;
  /** Most entries one receipt batch of several commits holds (a commit larger than that is signed alone). Default 4,096, the log's group commit. */
  maxReceiptBatch?: number;
  /** This log's id: calls under an agreement metered by another log are refused. */
  logId?: string;
  /** Given every logged entry, for readers right behind the log (the alert rules). */
  recent?: RecentEntries;
  /** Keeps each batch's receipt signature, so evidence carries the original receipts. */
  receiptStore?: ReceiptStore;
  /** Told when a batch's receipt could not be kept (its signature or its write failed). */
  onReceiptNotKept?: (err: unknown) => void;
  /** Checkpoint origin of the log (names it in receipts). */
  origin: string;
  now?: () => number;
}

interface Context {
  agreement?: AgreementRecord;
  resource?: ResourceRecord;
  /** The agreement's provider and consumer as the registry has them now. */
  parties?: (DepartmentRecord | undefined)[];
  consent?: ConsentRecord;
  erased?: boolean;
}

/** Checks, logs and receipts data calls. */
export class AccessLedger {
  private readonly reserved = new Map<string, bigint>();
  private readonly used: Map<string, bigint>;
  /** The signed receipt batch of each commit, asked for by the first of its requests to need it. */
  private readonly signed = new WeakMap<CommitGroup, Promise<SignedCommit>>();
  /** Commits waiting for the signer, in the order asked; and whether a signature is being made. */
  private readonly toSign: { commit: CommitGroup; written: Promise<void>; resolve: (s: SignedCommit) => void; reject: (e: unknown) => void }[] = [];
  private signing = false;
  /** Written commits re-signed alone because their first batch also held a commit whose write failed. */
  private readonly signedAlone = new WeakMap<CommitGroup, SignedCommit>();
  /** Registry reads shared by every request while the indexer applies nothing new (at most 10,000 keys). */
  private readonly reads: ChangeCache;

  /** `options.audit` must be open (caught up with the log): usage starts from its counters. */
  constructor(readonly options: AccessLedgerOptions) {
    this.used = options.audit.allUsage();
    this.reads = new ChangeCache(() => options.indexer.changeCount(), 10_000);
  }

  /** Records `calls` made by department `consumer`; returns one outcome per call, in order, each with its receipt. */
  async record(consumer: string, calls: AccessCall[]): Promise<AccessOutcome[]> {
    return (await this.recordCalls(consumer, calls, "entry")).results as AccessOutcome[];
  }

  /**
   * Records `calls` made by department `consumer`: one outcome per call, in order, answered once their
   * entries are synced. `proofs` sizes the answer: each outcome with its receipt (`entry`), or one
   * batch proof from which every receipt is rebuilt (`batch`, node/verify receiptsFromBatch), or no
   * receipt (`none`; the receipts are still signed and kept for evidence).
   */
  async recordCalls(consumer: string, calls: AccessCall[], proofs: ProofMode = "entry"): Promise<RecordedCalls> {
    if (calls.length === 0) return { results: [] };
    const { log } = this.options;
    // The log is in time order (it refuses an earlier time than its latest): never decide before its latest entry.
    let now = Math.max(this.options.now?.() ?? Math.floor(Date.now() / 1000), log.lastTime());
    // Requests repeat a few agreements: each agreement, resource and department is read once while the indexer applies nothing new.
    const once = <T>(key: string, read: () => Promise<T>) => this.reads.get(key, read);
    let contexts = await this.contexts(consumer, calls, now, once);
    // A concurrent request logged a later second while this one read: decide (consents, window) at that second instead.
    while (log.lastTime() > now) {
      now = log.lastTime();
      contexts = await this.contexts(consumer, calls, now, once);
    }
    // A subject on a resource without personal information is a client error: the request is refused, nothing logged.
    const misplaced = calls.findIndex((c, i) => (c.subjectCommitment || c.subjectErased) && contexts[i].resource && !contexts[i].resource!.personal);
    if (misplaced >= 0) {
      throw fail.invalid("SUBJECT_NOT_PERSONAL", `calls[${misplaced}]: resource ${contexts[misplaced].resource!.id} holds no personal information: name no subject for it`);
    }
    // From here to the append, no await: each served call reserves its records as it is decided,
    // so the quota decision is atomic across the calls of this and every concurrent request.
    const decided = calls.map((call, i) => this.decide(consumer, call, contexts[i], now));
    const served = decided.filter((d) => d.entry.outcome === "served").map((d) => d.entry);
    let appended: { results: AppendResult[]; commit: CommitGroup };
    try {
      // Signed while the disk writes: the signature needs only the leaf hashes, and is given out only once the batch is written.
      appended = await log.appendInCommit(decided.map((d) => d.entry), (commit, written) => void this.signCommit(commit, written));
    } catch (err) {
      for (const e of served) this.reserve(e.agreementId, -BigInt(e.recordCount));
      throw err;
    }
    for (const e of served) {
      this.reserve(e.agreementId, -BigInt(e.recordCount));
      this.used.set(e.agreementId, (this.used.get(e.agreementId) ?? 0n) + BigInt(e.recordCount));
    }
    const { results, commit } = appended;
    // The log holds them now. The projection (indexes, stats) counts them at once and writes its keys
    // behind, off this request's path: derived from the log, it catches up from it after a crash.
    const entries = decided.map((d) => d.entry);
    this.options.audit.add(results[0].index, entries);
    this.options.recent?.add(results[0].index, entries);
    const signed = await this.signedWritten(commit);
    const signature = await signed.signature;
    const { origin, signer } = this.options;
    const outcomes = results.map((r, i): LoggedCall => {
      const d = decided[i];
      const o: LoggedCall = { index: r.index, time: d.entry.time, leafHash: signed.hex(0, r.index - signed.first), outcome: d.entry.outcome, entry: d.entry };
      if (d.entry.outcome === "refused") o.refusalReason = d.entry.refusalReason as RefusalCode;
      if (d.consentId) o.consentId = d.consentId;
      if (proofs === "entry") o.receipt = this.receiptIn(signed, signature, r.index);
      return o;
    });
    let batch: BatchProof | undefined;
    if (proofs === "batch") {
      const [begin, end] = [results[0].index - signed.first, results[results.length - 1].index + 1 - signed.first];
      const hashes = (a: number, b: number) => compactRange(a, b).map((t) => signed.hex(t.level, t.index));
      batch = {
        origin, first: signed.first, count: signed.count, root: signed.root, signer: signer.address, signature,
        left: hashes(0, begin), right: hashes(end, signed.count),
      };
    }
    return { results: outcomes, ...(batch ? { batch } : {}) };
  }

  /**
   * The receipt batch holding `commit`, shared by all its requests, asked for as soon as the log has
   * staged the commit (its indices and leaf hashes known), so that the signature is made while the
   * disk writes it — signing after the write put a second wait of a millisecond or more on every
   * answer (issue 10) — and given out only once every commit it holds is written (signedWritten).
   * Commits are signed in the order staged, one signature at a time: the commits that reach the
   * signer while it signs are signed together next, as one batch of consecutive entries (up to
   * `maxReceiptBatch`). With single calls a commit holds a few entries and one secp256k1 signature
   * cost about a millisecond through ethers (0.1–0.2 ms now: node/keys/personal-sign.ts), so signing
   * each commit alone made the signer the bottleneck (400–650 µs per call at 500 calls/s, perf,
   * issue 10); this way signatures keep up with commits however small they are. The receipt format does not change: a batch is a range of consecutive entries, whatever
   * commits wrote them (docs/formats.md §4).
   */
  private signCommit(commit: CommitGroup, written: Promise<void>): Promise<SignedCommit> {
    let s = this.signed.get(commit);
    if (!s) {
      s = new Promise<SignedCommit>((resolve, reject) => this.toSign.push({ commit, written, resolve, reject }));
      // Awaited by the commit's requests only if its write succeeds: a failure is theirs to see, not an unhandled rejection.
      s.catch(() => undefined);
      this.signed.set(commit, s);
      this.signNext();
    }
    return s;
  }

  /** Unless a signature is being made, signs the commits waiting (a run of consecutive ones) as one batch. */
  private signNext(): void {
    if (this.signing || this.toSign.length === 0) return;
    const max = this.options.maxReceiptBatch ?? 4096;
    const run = [this.toSign.shift()!];
    let count = run[0].commit.leafHashes.length;
    for (let next = this.toSign[0]; next; next = this.toSign[0]) {
      const last = run[run.length - 1].commit;
      if (next.commit.first !== last.first + last.leafHashes.length || count + next.commit.leafHashes.length > max) break;
      run.push(this.toSign.shift()!);
      count += next.commit.leafHashes.length;
    }
    let signed: SignedCommit;
    try {
      const written = run.length === 1 ? run[0].written : Promise.all(run.map((r) => r.written));
      signed = this.signBatch(run[0].commit.first, run.length === 1 ? run[0].commit.leafHashes : run.flatMap((r) => r.commit.leafHashes), written);
    } catch (err) {
      for (const r of run) r.reject(err);
      this.signNext();
      return;
    }
    this.signing = true;
    const done = () => {
      this.signing = false;
      this.signNext();
    };
    signed.signature.then(done, done);
    for (const r of run) r.resolve(signed);
  }

  /**
   * The signed receipt batch holding `commit`, which is written: the one signed as it was staged, or,
   * when that batch also held a commit whose write failed (a signature over entries the log does not
   * have, never given out), a batch of this commit alone signed now.
   */
  private async signedWritten(commit: CommitGroup): Promise<SignedCommit> {
    const signed = await (this.signed.get(commit) ?? this.signCommit(commit, Promise.resolve()));
    if (await signed.written) return signed;
    let alone = this.signedAlone.get(commit);
    if (!alone) this.signedAlone.set(commit, (alone = this.signBatch(commit.first, commit.leafHashes, Promise.resolve())));
    return alone;
  }

  /**
   * Signs the receipt batch of the consecutive entries from `first` with these leaf hashes, and keeps
   * it once `written` (the write of every commit it holds) resolves.
   */
  private signBatch(first: number, leafHashes: Uint8Array[], written: Promise<unknown>): SignedCommit {
    const { signer, origin } = this.options;
    const tree = MemoryTree.fromLeafHashes(leafHashes);
    const root = toHex(tree.root());
    const count = leafHashes.length;
    const payload = receiptSigningPayload(origin, first, count, root);
    const signature = signer.signMessage ? signer.signMessage(payload) : Promise.resolve(signer.signMessageSync(payload));
    const isWritten = written.then(() => true, () => false);
    const store = this.options.receiptStore;
    const kept = store && Promise.all([signature, isWritten]).then(([sig, ok]) => (ok ? store.put({ first, count, root, signer: signer.address, signature: sig }) : undefined));
    // Not awaited by the requests: the store finds a batch while it is written, and a lost record
    // (a crash before the unsynced write lands) only means a fresh receipt in evidence (receipt-store.ts).
    kept?.catch((err) => this.options.onReceiptNotKept?.(err));
    const hexes: string[][] = [];
    const hex = (level: number, position: number): string => {
      const row = (hexes[level] ??= []);
      return (row[position] ??= toHex(tree.node(level, position)));
    };
    return { first, count, tree, root, signature, written: isWritten, kept, hex };
  }

  /** Entry `index`'s receipt in its signed batch. */
  private receiptIn(s: SignedCommit, signature: string, index: number): Receipt {
    const position = index - s.first;
    return {
      origin: this.options.origin,
      index,
      leafHash: s.hex(0, position),
      batch: { first: s.first, count: s.count, root: s.root, proof: s.tree.inclusionPath(position).map(([level, at]) => s.hex(level, at)) },
      signer: this.options.signer.address,
      signature,
    };
  }

  /** Records served so far plus reserved by calls in flight, for agreement `id`. */
  usageOf(id: string): bigint {
    return (this.used.get(id) ?? 0n) + (this.reserved.get(id) ?? 0n);
  }

  /** Records served so far per agreement (acknowledged entries only): what the anchorer reports. */
  usage(): Map<string, bigint> {
    return new Map(this.used);
  }

  /** The receipt entry `index` was given when it was logged; else a new one (a batch of one) signed now. */
  async originalReceipt(index: number, leafHash: string): Promise<Receipt> {
    return (await this.options.receiptStore?.receiptFor(index, this.options.origin)) ?? this.receipt(index, leafHash);
  }

  /** The operator's receipt for entry `index` with leaf hash `leafHash` (a batch of one). */
  receipt(index: number, leafHash: string): Receipt {
    return this.receipts(index, [fromHex(leafHash)])[0];
  }

  /** Receipts for the consecutive entries from `first` with these leaf hashes: one signature for all. */
  receipts(first: number, leafHashes: Uint8Array[]): Receipt[] {
    if (leafHashes.length === 0) return [];
    const { signer, origin } = this.options;
    const tree = MemoryTree.fromLeafHashes(leafHashes);
    const root = toHex(tree.root());
    const signature = signer.signMessageSync(receiptSigningPayload(origin, first, leafHashes.length, root));
    return leafHashes.map((h, i) => ({
      origin,
      index: first + i,
      leafHash: toHex(h),
      batch: { first, count: leafHashes.length, root, proof: tree.inclusionProof(i).map(toHex) },
      signer: signer.address,
      signature,
    }));
  }

  /**
   * What deciding each of `calls` needs: its agreement, resource and parties, read once per distinct
   * agreement of the request (a batch mostly repeats one: one context object is shared by its calls),
   * and for a call naming a subject of a personal resource, its consent and erasure.
   */
  private async contexts(
    consumer: string,
    calls: AccessCall[],
    now: number,
    once: <T>(key: string, read: () => Promise<T>) => Promise<T>,
  ): Promise<Context[]> {
    const ids = [...new Set(calls.map((c) => c.agreementId))];
    const shared = await Promise.all(ids.map((id) => this.agreementContext(id, once)));
    const byId = new Map(ids.map((id, i) => [id, shared[i]]));
    const out: Context[] = new Array(calls.length);
    const subjects: Promise<void>[] = [];
    for (let i = 0; i < calls.length; i++) {
      const call = calls[i];
      const base = byId.get(call.agreementId)!;
      out[i] = base;
      if (base.resource?.personal && call.subjectCommitment) subjects.push(this.subjectContext(consumer, call, base, now).then((c) => void (out[i] = c)));
    }
    await Promise.all(subjects);
    return out;
  }

  /** Agreement `id`, its resource and its parties as the indexer has them now ({} for an unknown agreement). */
  private async agreementContext(id: string, once: <T>(key: string, read: () => Promise<T>) => Promise<T>): Promise<Context> {
    const { indexer } = this.options;
    const agreement = await once(`a:${id}`, () => indexer.agreement(id));
    if (!agreement) return {};
    const resource = await once(`r:${agreement.resource}`, () => indexer.resource(agreement.resource));
    const parties = await Promise.all([agreement.provider, agreement.consumer].map((d) => once(`d:${d}`, () => indexer.department(d))));
    return { agreement, resource, parties };
  }

  /** `base` with the consent of `call`'s subject valid at `now`, or its erasure. */
  private async subjectContext(consumer: string, call: AccessCall, base: Context, now: number): Promise<Context> {
    const agreement = base.agreement!;
    const purpose = call.purposeHash ?? agreement.purposeHash;
    const erased = call.subjectErased === true || ((await this.options.isErased?.(call.subjectCommitment!)) ?? false);
    const consent = erased ? undefined : await this.options.indexer.validConsent(call.subjectCommitment!, consumer, agreement.resource, purpose, now);
    return { ...base, consent, erased };
  }

  private decide(consumer: string, call: AccessCall, ctx: Context, now: number): { entry: AccessLogEntry; consentId?: string } {
    const a = ctx.agreement;
    const reason = this.refusal(consumer, call, ctx, now);
    const personal = ctx.resource?.personal === true;
    const entry: AccessLogEntry = {
      time: now,
      consumerDept: consumer,
      providerDept: a?.provider ?? ZERO32,
      resourceId: a?.resource ?? ZERO32,
      agreementId: call.agreementId,
      purposeHash: call.purposeHash ?? a?.purposeHash ?? ZERO32,
      recordCount: reason ? 0 : call.recordCount,
      requestHash: call.requestHash,
      responseHash: call.responseHash,
      subjectCommitment: personal || call.subjectCommitment ? (call.subjectCommitment ?? null) : null,
      outcome: reason ? "refused" : "served",
      refusalReason: reason ?? "",
      ...(call.calledAt !== undefined ? { calledAt: call.calledAt } : {}),
      ...(call.latencyMs !== undefined ? { latencyMs: call.latencyMs } : {}),
    };
    if (!reason) this.reserve(call.agreementId, BigInt(call.recordCount)); // held until the log acknowledges it
    return { entry, consentId: reason ? undefined : ctx.consent?.id };
  }

  private refusal(consumer: string, call: AccessCall, ctx: Context, now: number): RefusalCode | undefined {
    const a = ctx.agreement;
    if (!a) return REFUSAL.AGREEMENT_UNKNOWN;
    if (a.consumer !== consumer) return REFUSAL.NOT_AGREEMENT_CONSUMER;
    if (a.status === "revoked") return REFUSAL.AGREEMENT_REVOKED;
    if (a.status === "suspended") return REFUSAL.AGREEMENT_SUSPENDED;
    if (ctx.parties?.some((d) => !d?.active)) return REFUSAL.DEPARTMENT_INACTIVE;
    if (ctx.resource?.condition === SharingCondition.NotShareable) return REFUSAL.RESOURCE_NOT_SHAREABLE;
    if (now < a.validFrom) return REFUSAL.AGREEMENT_NOT_YET_VALID;
    if (now >= a.validUntil) return REFUSAL.AGREEMENT_EXPIRED;
    if (this.options.logId && a.meteringLog && a.meteringLog !== this.options.logId) return REFUSAL.AGREEMENT_OTHER_LOG;
    if (call.purposeHash !== undefined && call.purposeHash !== a.purposeHash) return REFUSAL.PURPOSE_MISMATCH;
    if (ctx.resource?.personal) {
      if (!call.subjectCommitment) return REFUSAL.SUBJECT_REQUIRED;
      if (ctx.erased) return REFUSAL.SUBJECT_ERASED;
      if (!ctx.consent) return REFUSAL.CONSENT_MISSING;
    }
    if (this.usageOf(call.agreementId) + BigInt(call.recordCount) > BigInt(a.quota)) return REFUSAL.QUOTA_EXCEEDED;
    return undefined;
  }

  private reserve(id: string, delta: bigint): void {
    const next = (this.reserved.get(id) ?? 0n) + delta;
    if (next === 0n) this.reserved.delete(id);
    else this.reserved.set(id, next);
  }
}
