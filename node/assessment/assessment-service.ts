/**
 * Assessments of log periods and the period bundles that prove them. A period is always taken in
 * the tree of an anchored checkpoint (the latest, unless one is named), so that whatever the node
 * answers can be reproduced by a third party from a period bundle of the same checkpoint: the
 * assessment and the bundle come from the same entries and the same agreement terms.
 */
import type { AgreementService } from "../agreements/agreement-service";
import type { DclAddresses } from "../chain/deploy";
import { fail } from "../errors";
import type { SealSigner } from "../evidence/evidence-service";
import type { Anchorer } from "../anchor/anchorer";
import type { Indexer } from "../indexer/indexer";
import type { CheckpointRecord } from "../indexer/records";
import type { CheckpointSigner } from "../log/checkpoint-signer";
import { decodeEntry } from "../log/entry";
import type { MerkleLog } from "../log/merkle-log";
import { sealSigningPayload, toHex } from "../verify";
import { AssessmentBuilder, type AgreementTerms, type Assessment, type AssessmentBasis } from "./assess";
import { PERIOD_BUNDLE_VERSION, type PeriodAgreement, type PeriodBundle, type UnsealedPeriodBundle } from "./period-bundle";
import type { Period } from "./period";

/** What the assessment service reads from. */
export interface AssessmentSources {
  log: MerkleLog;
  indexer: Indexer;
  agreements: AgreementService;
  checkpoints: CheckpointSigner;
  sealer: SealSigner;
  logId: string;
  chainId: bigint;
  addresses: DclAddresses;
  /** Anchors the log on demand, so that an assessment of "now" covers the latest entries. */
  anchorer?: Pick<Anchorer, "anchorOnce">;
  /** Most entries a period bundle holds (default 250,000). */
  maxBundleEntries?: number;
  /** Unix seconds (a bundle's `createdAt`). */
  now?: () => number;
}

/** A period located in the log: the anchored checkpoint and the index range of its entries. */
interface Located {
  checkpoint: CheckpointRecord;
  basis: AssessmentBasis;
}

/** Assessments and period bundles. */
export class AssessmentService {
  /** The fold of recent (period, checkpoint) pairs: a period's entries are read once per checkpoint. */
  private readonly cache = new Map<string, Promise<{ builder: AssessmentBuilder; agreements: PeriodAgreement[] }>>();

  constructor(private readonly s: AssessmentSources) {}

  /** Most entries a period bundle holds. */
  get maxBundleEntries(): number {
    return this.s.maxBundleEntries ?? 250_000;
  }

  /** The assessment of `period` over the tree of the anchored checkpoint of `treeSize` (default: the latest), for `departments` (default: all that appear). */
  async assess(period: Period, opts: { treeSize?: number; departments?: string[] } = {}): Promise<Assessment> {
    const { basis } = await this.locate(period, opts.treeSize);
    const { builder, agreements } = await this.fold(period, basis);
    return builder.finish(basis, termsOf(agreements), opts.departments);
  }

  /** The sealed period bundle of `period` over the tree of the anchored checkpoint of `treeSize` (default: the latest), of at most `maxEntries` entries. */
  async bundle(period: Period, opts: { treeSize?: number; maxEntries?: number } = {}): Promise<PeriodBundle> {
    const { log, indexer } = this.s;
    const { checkpoint, basis } = await this.locate(period, opts.treeSize);
    const { begin, end, treeSize } = basis;
    const max = opts.maxEntries ?? this.maxBundleEntries;
    if (end - begin > max) {
      throw fail.invalid("PERIOD_TOO_LARGE", `the period holds ${end - begin} entries in the tree of size ${treeSize}, a period bundle at most ${max}: ask for a shorter period (from, to)`);
    }
    const { builder, agreements } = await this.fold(period, basis);
    const lo = begin > 0 ? begin - 1 : begin;
    const hi = end < treeSize ? end + 1 : end;
    const entries: string[] = [];
    for await (const bytes of log.range(begin, end)) entries.push(toHex(bytes));
    const proof = await log.rangeProof(lo, hi, treeSize);
    const operatorDepartment = (await indexer.logOperator(this.s.logId)) ?? "";
    const unsealed: UnsealedPeriodBundle = {
      version: PERIOD_BUNDLE_VERSION,
      createdAt: this.s.now?.() ?? Math.floor(Date.now() / 1000),
      chain: { chainId: this.s.chainId.toString(), contracts: this.s.addresses },
      log: {
        logId: this.s.logId, origin: this.s.checkpoints.origin, operatorDepartment,
        operatorSigners: (await indexer.department(operatorDepartment))?.signers ?? [],
      },
      period,
      checkpoint: {
        note: (await this.s.checkpoints.sign(treeSize)).note, treeSize, root: checkpoint.root,
        anchor: { index: checkpoint.index, tx: checkpoint.tx, block: checkpoint.block, timestamp: checkpoint.timestamp },
      },
      range: { begin, end },
      before: begin > 0 ? toHex(await log.get(begin - 1)) : null,
      after: end < treeSize ? toHex(await log.get(end)) : null,
      entries,
      proof: { left: proof.left.map(toHex), right: proof.right.map(toHex) },
      agreements,
      assessment: builder.finish(basis, termsOf(agreements)),
    };
    const { sealer } = this.s;
    return { ...unsealed, seal: { signer: sealer.address, signature: sealer.signMessageSync(sealSigningPayload(unsealed)) } };
  }

  /** The anchored checkpoint (latest, or of `treeSize`) and the period's index range in its tree. */
  private async locate(period: Period, treeSize?: number): Promise<Located> {
    const { indexer, log, logId, anchorer } = this.s;
    if (treeSize === undefined && anchorer && ((await indexer.checkpoints(logId)).at(-1)?.treeSize ?? 0) < log.size()) {
      // Anchor what was logged since the last anchor first; if the chain cannot take it now, the latest anchor serves.
      await anchorer.anchorOnce().catch(() => undefined);
      await indexer.syncOnce().catch(() => undefined);
    }
    const anchored = await indexer.checkpoints(logId);
    const checkpoint = treeSize === undefined ? anchored.at(-1) : anchored.find((c) => c.treeSize === treeSize);
    if (!checkpoint) {
      if (treeSize !== undefined) throw fail.notFound("anchored checkpoint of tree size", String(treeSize));
      throw fail.conflict("NOT_YET_ANCHORED", "no checkpoint of the log is anchored yet: an assessment is taken over an anchored checkpoint; retry after the next anchor");
    }
    const size = checkpoint.treeSize;
    const begin = await this.s.log.indexAtTime(period.from, size);
    const end = await this.s.log.indexAtTime(period.to, size);
    return { checkpoint, basis: { treeSize: size, root: checkpoint.root, begin, end, closed: end < size } };
  }

  /** The period's entries folded, and the terms of the agreements they name (cached per period and checkpoint). */
  private fold(period: Period, basis: AssessmentBasis) {
    const key = `${period.from}-${period.to}-${basis.treeSize}`;
    let hit = this.cache.get(key);
    if (!hit) {
      hit = (async () => {
        const builder = new AssessmentBuilder(period);
        const ids = new Set<string>();
        for await (const bytes of this.s.log.range(basis.begin, basis.end)) {
          const e = decodeEntry(bytes);
          builder.add(e);
          ids.add(e.agreementId);
        }
        return { builder, agreements: await this.agreementsOf([...ids].sort()) };
      })();
      this.cache.set(key, hit);
      hit.catch(() => this.cache.delete(key));
      while (this.cache.size > 8) this.cache.delete(this.cache.keys().next().value!);
    }
    return hit;
  }

  /** The terms (and co-signatures, when held) of the agreements the node has drafts of. */
  private async agreementsOf(ids: string[]): Promise<PeriodAgreement[]> {
    const out: PeriodAgreement[] = [];
    for (const id of ids) {
      const draft = await this.s.agreements.get(id).then((a) => a.draft, () => undefined);
      if (!draft) continue;
      const { provider, consumer } = draft.signatures;
      out.push({
        id, terms: draft.terms,
        ...(provider && consumer ? { signatures: { provider, consumer } } : {}),
        ...(draft.activation ? { activation: draft.activation } : {}),
      });
    }
    return out;
  }
}

/** Looks up an agreement's terms among `agreements`. */
export function termsOf(agreements: PeriodAgreement[]): (id: string) => AgreementTerms | undefined {
  const byId = new Map(agreements.map((a) => [a.id.toLowerCase(), a.terms]));
  return (id) => byId.get(id.toLowerCase());
}
