/**
 * Follows the dcl contracts' events into LevelDB, `confirmations` blocks behind the head, so that
 * queries and authorisation checks never wait on the chain.
 *
 * Reorgs: only blocks at least `confirmations` deep are applied, so a reorg shallower than that
 * never touches indexed state. A deeper one is detected (the hash of the last applied block
 * changed) and stops the indexer with `IndexerReorgTooDeepError` rather than serve wrong answers.
 * Each range of blocks is applied in one atomic LevelDB batch together with the cursor, so a crash
 * leaves the index at a block boundary and a restart continues from there.
 */
import { ChangeCache } from "./change-cache";
import { Interface, type Log, type Provider } from "ethers";
import type { Level } from "level";
import type { AbstractSublevel } from "abstract-level";
import {
  ConsentRegistry__factory,
  DepartmentRegistry__factory,
  LogAnchors__factory,
  NonTaxTransfers__factory,
  ResourceCatalog__factory,
  SharingAgreements__factory,
} from "../../typechain-types";
import type { DclAddresses } from "../chain/deploy";
import type {
  AgreementRecord,
  CancellationRecord,
  CheckpointRecord,
  ConsentRecord,
  DepartmentRecord,
  ResourceRecord,
  SignerChange,
  TransferRecord,
} from "./records";

/** The indexer's position: the last block applied and its hash. */
export interface Cursor {
  block: number;
  hash: string;
}

/** How far behind the head to stay, and how to read the chain. */
export interface IndexerOptions {
  provider: Provider;
  addresses: DclAddresses;
  /** Blocks to stay behind the head; a reorg shallower than this never reaches the index. */
  confirmations: number;
  /** First block to read (the deployment block); earlier blocks hold no dcl events. */
  startBlock?: number;
  /** Most blocks fetched in one getLogs call. */
  maxRange?: number;
  /** Poll interval of `start()` (ms). */
  pollMs?: number;
  /** The clock of `readiness()` (ms), for tests. */
  now?: () => number;
  /**
   * For a chain that can lose the blocks it mined since it last wrote its state (the embedded chain):
   * the highest block known to be on disk, and how to write the state now. No block above it is
   * applied (the state is written first): a kill -9 of the node with its chain must not leave the
   * index ahead of the chain that restarts, which mines those blocks again with other hashes — a
   * "reorg" the indexer would refuse, keeping the node down.
   */
  durable?: { block(): number; persist(): Promise<void> };
}

/** The chain reorganised below the confirmation depth: indexed state can no longer be trusted. */
export class IndexerReorgTooDeepError extends Error {
  readonly code = "INDEXER_REORG_TOO_DEEP";
  constructor(
    readonly block: number,
    readonly expected: string,
    readonly actual: string | undefined,
  ) {
    super(`block ${block} was ${expected} when indexed, now ${actual ?? "missing"}: reorg deeper than the confirmation depth`);
  }
}

type Json = Record<string, unknown>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Sub = AbstractSublevel<any, any, string, unknown>;
type Table = "meta" | "dept" | "signerlog" | "roles" | "res" | "agr" | "con" | "conbysubject" | "xfer" | "xferchild" | "xferhash" | "cancel" | "logs" | "cp";
const TABLES: Table[] = ["meta", "dept", "signerlog", "roles", "res", "agr", "con", "conbysubject", "xfer", "xferchild", "xferhash", "cancel", "logs", "cp"];

const STATUS = ["none", "active", "suspended", "revoked"] as const;

/** Pads a number so that keys sort in numeric order. */
function pad(n: number | bigint): string {
  return n.toString().padStart(16, "0");
}

const ZERO_ADDRESS = "0x" + "00".repeat(20);

/**
 * Does consent `c` count, by who recorded it? A department may record a consent in its own favour only over a
 * resource it owns (`owner`) or with the subject's own key in the terms. ConsentRegistry refuses any other
 * (review finding "self-granted consent", issue 9); the checks that answer "was there a valid consent" apply
 * the same rule, so a consent recorded otherwise (by an older contract) never counts.
 */
export function recordedByRule(c: Pick<ConsentRecord, "recorder" | "grantee" | "subjectSigner">, owner: string | undefined): boolean {
  return c.recorder !== c.grantee || c.recorder === owner || c.subjectSigner.toLowerCase() !== ZERO_ADDRESS;
}

/** The indexer: `syncOnce()` applies what is confirmed; queries read LevelDB only. */
export class Indexer {
  private readonly tables: Record<Table, Sub>;
  private readonly byAddress = new Map<string, { iface: Interface; contract: keyof DclAddresses }>();
  private timer?: NodeJS.Timeout;
  private syncing?: Promise<Cursor>;
  private lastError?: unknown;
  /** When the head was read by the last sync that reached it (ms, the `now` clock). */
  private atHeadAt?: number;
  private keyChanges = 0;
  private changes = 0;

  constructor(
    db: Level<string, unknown>,
    readonly options: IndexerOptions,
  ) {
    const root = db.sublevel<string, unknown>("indexer", { valueEncoding: "json" });
    this.tables = Object.fromEntries(
      TABLES.map((t) => [t, root.sublevel<string, unknown>(t, { valueEncoding: "json" })]),
    ) as unknown as Record<Table, Sub>;
    const abis: Record<keyof DclAddresses, Interface> = {
      registry: new Interface(DepartmentRegistry__factory.abi),
      catalog: new Interface(ResourceCatalog__factory.abi),
      anchors: new Interface(LogAnchors__factory.abi),
      agreements: new Interface(SharingAgreements__factory.abi),
      consents: new Interface(ConsentRegistry__factory.abi),
      transfers: new Interface(NonTaxTransfers__factory.abi),
    };
    for (const [contract, address] of Object.entries(options.addresses) as [keyof DclAddresses, string][]) {
      this.byAddress.set(address.toLowerCase(), { iface: abis[contract], contract });
    }
  }

  /** The last block applied (block -1 before the first sync). */
  async cursor(): Promise<Cursor> {
    return ((await this.tables.meta.get("cursor")) as Cursor | undefined) ?? { block: (this.options.startBlock ?? 0) - 1, hash: "" };
  }

  /** Applies every confirmed block not yet applied; returns the new cursor. Concurrent calls share one run. */
  syncOnce(): Promise<Cursor> {
    this.syncing ??= this.sync().finally(() => (this.syncing = undefined));
    return this.syncing;
  }

  /** Polls the chain every `pollMs` until `stop()`; errors are kept for `health()` and retried. */
  start(): void {
    const tick = async () => {
      try {
        await this.syncOnce();
        this.lastError = undefined;
      } catch (err) {
        this.lastError = err;
      }
      if (this.timer) this.timer = setTimeout(tick, this.options.pollMs ?? 1000);
    };
    this.timer = setTimeout(tick, 0);
  }

  /** Stops polling and waits for a running sync to end. */
  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.syncing?.catch(() => undefined);
  }

  /**
   * How many applied batches changed some department's keys or active flag (in this process): an
   * answer of `isSigner` cached beside this number holds while the number stays the same (the
   * session keys' certificates are checked once per change, api/auth/session-keys.ts).
   */
  keyChangeCount(): number {
    return this.keyChanges;
  }

  /** Department reads shared while nothing new is applied (see department()). */
  private readonly deptReads = new ChangeCache(() => this.changes, 1024);

  /** How many applied batches held any event (in this process): every answer read from the tables holds while it stays the same. */
  changeCount(): number {
    return this.changes;
  }

  /** The error of the last failed poll, if the last poll failed. */
  health(): { ok: boolean; error?: string } {
    return this.lastError ? { ok: false, error: String((this.lastError as Error).message ?? this.lastError) } : { ok: true };
  }

  /**
   * Whether the index is caught up, for /readyz: at lag 0, or when its last sync reached the head it
   * read within the last 3 poll intervals (at least 3 s). A block mined between two polls is not
   * being behind; an index that no poll brought to the head for that long is. The last poll's error
   * makes it not ready.
   */
  async readiness(): Promise<{ ok: boolean; lag: number; detail: string }> {
    const lag = await this.lag();
    const error = this.health().error;
    if (error) return { ok: false, lag, detail: `${lag} blocks behind; the last poll failed: ${error}` };
    if (lag === 0) return { ok: true, lag, detail: "0 blocks behind" };
    const now = (this.options.now ?? Date.now)();
    const window = Math.max(3 * (this.options.pollMs ?? 1000), 3000);
    const since = this.atHeadAt === undefined ? undefined : now - this.atHeadAt;
    return {
      ok: since !== undefined && since <= window,
      lag,
      detail: `${lag} blocks behind; ${since === undefined ? "no sync reached the head since start" : `at the head ${since} ms ago`}`,
    };
  }

  /** How many confirmed blocks are not yet applied (0 when caught up). */
  async lag(): Promise<number> {
    const target = this.targetOf(await this.options.provider.getBlockNumber());
    return Math.max(0, target - (await this.cursor()).block);
  }

  /** The last block to apply with the chain's head at `head`: `confirmations` behind it, and on disk. */
  private targetOf(head: number): number {
    return Math.min(head - this.options.confirmations, this.options.durable?.block() ?? Infinity);
  }

  private async sync(): Promise<Cursor> {
    const { provider } = this.options;
    let cursor = await this.cursor();
    const head = await provider.getBlockNumber();
    const headReadAt = (this.options.now ?? Date.now)();
    const durable = this.options.durable;
    if (durable && head - this.options.confirmations > durable.block()) await durable.persist(); // blocks the node did not mine (and write) itself
    const target = this.targetOf(head);
    if (cursor.hash !== "") {
      const block = await provider.getBlock(cursor.block);
      if (block?.hash !== cursor.hash) throw new IndexerReorgTooDeepError(cursor.block, cursor.hash, block?.hash ?? undefined);
    }
    while (cursor.block < target) {
      const from = cursor.block + 1;
      const to = Math.min(target, from + (this.options.maxRange ?? 2000) - 1);
      const logs = await provider.getLogs({ address: [...this.byAddress.keys()], fromBlock: from, toBlock: to });
      const toBlock = await provider.getBlock(to);
      if (!toBlock?.hash) throw new Error(`block ${to} not found`);
      cursor = { block: to, hash: toBlock.hash };
      await this.apply(logs, cursor);
    }
    this.atHeadAt = headReadAt;
    return cursor;
  }

  /** Applies `logs` (in chain order) and moves the cursor, in one atomic batch. */
  private async apply(logs: readonly Log[], cursor: Cursor): Promise<void> {
    const overlay = new Map<string, unknown>();
    const key = (t: Table, k: string) => `${t}\u0000${k}`;
    const get = async <T>(t: Table, k: string): Promise<T | undefined> =>
      (overlay.has(key(t, k)) ? overlay.get(key(t, k)) : await this.tables[t].get(k)) as T | undefined;
    const put = (t: Table, k: string, v: unknown) => overlay.set(key(t, k), v);
    const times = new Map<number, number>();
    const timeOf = async (block: number) => {
      if (!times.has(block)) times.set(block, (await this.options.provider.getBlock(block))!.timestamp);
      return times.get(block)!;
    };
    let seq = 0;
    let keysChanged = false;
    for (const log of logs) {
      const known = this.byAddress.get(log.address.toLowerCase());
      const parsed = known?.iface.parseLog(log);
      if (!known || !parsed) continue;
      const a = parsed.args;
      const at = { block: log.blockNumber, tx: log.transactionHash };
      switch (`${known.contract}.${parsed.name}`) {
        case "registry.DepartmentRegistered":
          put("dept", a.id, {
            id: a.id, level: Number(a.level), parent: a.parent, active: true, signers: [], registeredAt: at.block,
          } satisfies DepartmentRecord);
          break;
        case "registry.DepartmentActiveSet": {
          const d = (await get<DepartmentRecord>("dept", a.id))!;
          put("dept", a.id, { ...d, active: a.active });
          put("signerlog", `${a.id}!${pad(at.block)}!${pad(seq++)}`, { block: at.block, kind: a.active ? "active" : "inactive" } satisfies SignerChange);
          keysChanged = true;
          break;
        }
        case "registry.SignerAdded":
        case "registry.SignerRemoved": {
          const added = parsed.name === "SignerAdded";
          const d = (await get<DepartmentRecord>("dept", a.id))!;
          const signer = (a.signer as string).toLowerCase();
          const signers = added ? [...d.signers, signer] : d.signers.filter((s) => s !== signer);
          put("dept", a.id, { ...d, signers });
          put("signerlog", `${a.id}!${pad(at.block)}!${pad(seq++)}`, { block: at.block, kind: added ? "added" : "removed", signer } satisfies SignerChange);
          keysChanged = true;
          break;
        }
        case "registry.RoleGranted":
          put("roles", `${a.role}!${(a.account as string).toLowerCase()}`, true);
          break;
        case "registry.RoleRevoked":
          put("roles", `${a.role}!${(a.account as string).toLowerCase()}`, false);
          break;
        case "catalog.ResourceRegistered":
          put("res", a.id, { id: a.id, owner: a.owner, schemaHash: a.schemaHash, condition: Number(a.condition), personal: a.personal, version: 1 } satisfies ResourceRecord);
          break;
        case "catalog.ResourceUpdated": {
          const r = (await get<ResourceRecord>("res", a.id))!;
          put("res", a.id, { ...r, schemaHash: a.schemaHash, condition: Number(a.condition), personal: a.personal, version: Number(a.version) });
          break;
        }
        case "anchors.LogRegistered":
          put("logs", a.logId, { logId: a.logId, operator: a.operator });
          break;
        case "anchors.CheckpointAnchored":
          put("cp", `${a.logId}!${pad(a.index)}`, {
            logId: a.logId, index: Number(a.index), treeSize: Number(a.treeSize), root: a.root,
            block: at.block, timestamp: await timeOf(at.block), tx: at.tx,
          } satisfies CheckpointRecord);
          break;
        case "agreements.AgreementActivated":
          put("agr", a.id, {
            id: a.id, provider: a.provider, consumer: a.consumer, resource: a.resource, purposeHash: a.purposeHash,
            quota: a.quota.toString(), used: "0", validFrom: Number(a.validFrom), validUntil: Number(a.validUntil),
            status: "active", statusChanges: 0, providerSigner: a.providerSigner, consumerSigner: a.consumerSigner, meteringLog: String(a.meteringLog).toLowerCase(), activatedAt: at,
            quotaExceeded: false,
          } satisfies AgreementRecord);
          break;
        case "agreements.AgreementRevoked":
        case "agreements.AgreementSuspended":
        case "agreements.AgreementResumed": {
          const status = { AgreementRevoked: "revoked", AgreementSuspended: "suspended", AgreementResumed: "active" }[
            parsed.name as "AgreementRevoked"
          ] as AgreementRecord["status"];
          const r = (await get<AgreementRecord>("agr", a.id))!;
          const change = parsed.name === "AgreementRevoked" ? 0 : 1;
          put("agr", a.id, { ...r, status, statusChanges: r.statusChanges + change });
          break;
        }
        case "agreements.UsageReported": {
          const r = (await get<AgreementRecord>("agr", a.id))!;
          put("agr", a.id, { ...r, used: a.used.toString() });
          break;
        }
        case "agreements.AgreementQuotaExceeded": {
          const r = (await get<AgreementRecord>("agr", a.id))!;
          put("agr", a.id, { ...r, quotaExceeded: true });
          break;
        }
        case "consents.ConsentGranted": {
          const t = a.terms;
          put("con", a.id, {
            id: a.id, subject: t.subject, grantee: t.grantee, resource: t.resource, purposeHash: t.purposeHash,
            kind: Number(t.kind), validUntil: Number(t.validUntil), evidenceHash: t.evidenceHash, recorder: t.recorder,
            subjectSigner: t.subjectSigner, nonce: t.nonce.toString(), recorderSigner: a.recorderSigner,
            grantedAt: await timeOf(at.block), revokedAt: 0, grantTx: at.tx,
          } satisfies ConsentRecord);
          put("conbysubject", `${t.subject}!${a.id}`, a.id);
          break;
        }
        case "consents.ConsentRevoked": {
          const r = (await get<ConsentRecord>("con", a.id))!;
          put("con", a.id, { ...r, revokedAt: await timeOf(at.block), revokeTx: at.tx, revokedBy: a.by });
          break;
        }
        case "consents.ConsentRevokedByRegulator": {
          const r = (await get<ConsentRecord>("con", a.id))!;
          put("con", a.id, { ...r, revocationReasonHash: a.reasonHash });
          break;
        }
        case "agreements.AgreementCancelled":
        case "consents.ConsentCancelled":
        case "transfers.TransferCancelled": {
          const kinds: Record<string, CancellationRecord["kind"]> = { agreements: "agreement", consents: "consent", transfers: "transfer" };
          const kind = kinds[known.contract];
          put("cancel", a.id, {
            id: a.id, kind, ...(kind === "consent" ? {} : { department: a.department }), by: kind === "consent" ? a.by : a.signer,
            at: await timeOf(at.block), tx: at.tx,
          } satisfies CancellationRecord);
          break;
        }
        case "transfers.TransferSubmitted":
          put("xfer", a.id, {
            id: a.id, from: a.from, to: a.to, category: a.category, period: Number(a.period),
            recordCount: a.recordCount.toString(), totalFen: a.totalFen.toString(), recordsRoot: a.recordsRoot,
            payloadHash: a.payloadHash, parents: [...a.parents], fromSigner: a.fromSigner, toSigner: a.toSigner,
            submittedAt: await timeOf(at.block), submitTx: at.tx, disputes: [],
          } satisfies TransferRecord);
          for (const p of a.parents as string[]) put("xferchild", `${p}!${a.id}`, a.id);
          put("xferhash", `${a.payloadHash}!${a.id}`, a.id);
          put("xferhash", `${a.recordsRoot}!${a.id}`, a.id);
          break;
        case "transfers.TransferReconciled": {
          const r = (await get<TransferRecord>("xfer", a.id))!;
          put("xfer", a.id, {
            ...r,
            reconciliation: {
              collectedCount: a.collectedCount.toString(), collectedFen: a.collectedFen.toString(),
              resultsRoot: a.resultsRoot, elapsed: Number(a.elapsed), fromSigner: a.fromSigner, toSigner: a.toSigner, tx: at.tx,
            },
          });
          break;
        }
        case "transfers.TransferRecordDisputed": {
          const r = (await get<TransferRecord>("xfer", a.id))!;
          put("xfer", a.id, {
            ...r,
            disputes: [...r.disputes, { department: a.department, leafIndex: a.leafIndex.toString(), leafHash: a.leafHash, reasonHash: a.reasonHash, tx: at.tx }],
          });
          break;
        }
        default:
          break; // events that change nothing the indexer answers (role admin changes, …)
      }
    }
    const batch = this.tables.meta.batch();
    for (const [k, v] of overlay) {
      const [t, sub] = k.split("\u0000") as [Table, string];
      batch.put(sub, v, { sublevel: this.tables[t] } as never);
    }
    batch.put("cursor", cursor);
    await batch.write();
    if (keysChanged) this.keyChanges++;
    if (logs.length > 0) this.changes++;
  }

  /**
   * Department `id`, or undefined. Read once per id while the indexer applies nothing new (its
   * tables change only then): a signed request reads its department two or three times
   * (authentication, signer check, session key), each a LevelDB read through two sublevels — ~5 %
   * of a single call's main thread (npm run bench -- --profile). The records handed out are frozen,
   * since every reader shares them.
   */
  department(id: string): Promise<DepartmentRecord | undefined> {
    return this.deptReads.get(id, () => (this.tables.dept.get(id) as Promise<DepartmentRecord | undefined>).then(freezeRecord));
  }

  /** Every registered department, by id. */
  async departments(): Promise<DepartmentRecord[]> {
    return (await this.tables.dept.values().all()) as DepartmentRecord[];
  }

  /** True when `account` is a current signer of the active department `id`, as of the cursor. */
  async isSigner(id: string, account: string): Promise<boolean> {
    const d = await this.department(id);
    return !!d && d.active && d.signers.includes(account.toLowerCase());
  }

  /** The signers of department `id` as of block `block` (empty when inactive or not yet registered). */
  async signersAt(id: string, block: number): Promise<string[]> {
    const signers = new Set<string>();
    let active = true;
    for await (const change of this.tables.signerlog.values({ gte: `${id}!`, lte: `${id}!${pad(block)}!~` })) {
      const c = change as SignerChange;
      if (c.kind === "added") signers.add(c.signer!);
      else if (c.kind === "removed") signers.delete(c.signer!);
      else active = c.kind === "active";
    }
    return active ? [...signers] : [];
  }

  /** True when `account` was ever a signer of department `id` (so a refusal can say "revoked"). */
  async wasSigner(id: string, account: string): Promise<boolean> {
    const who = account.toLowerCase();
    for await (const change of this.tables.signerlog.values({ gte: `${id}!`, lt: `${id}!~` })) {
      if ((change as SignerChange).signer === who) return true;
    }
    return false;
  }

  /** The first block after `block` in which `account` was removed from department `id`'s signers, or undefined. */
  async removedAfter(id: string, account: string, block: number): Promise<number | undefined> {
    const who = account.toLowerCase();
    for await (const change of this.tables.signerlog.values({ gte: `${id}!${pad(block + 1)}!`, lt: `${id}!~` })) {
      const c = change as SignerChange;
      if (c.kind === "removed" && c.signer === who) return c.block;
    }
    return undefined;
  }

  /** True when `account` holds `role` (a registry role hash). */
  async hasRole(role: string, account: string): Promise<boolean> {
    return (await this.tables.roles.get(`${role}!${account.toLowerCase()}`)) === true;
  }

  /** Resource `id`, or undefined. */
  resource(id: string): Promise<ResourceRecord | undefined> {
    return this.tables.res.get(id) as Promise<ResourceRecord | undefined>;
  }

  /** Agreement `id` with its state and usage, or undefined. */
  agreement(id: string): Promise<AgreementRecord | undefined> {
    return this.tables.agr.get(id) as Promise<AgreementRecord | undefined>;
  }

  /** Consent `id`, or undefined. */
  consent(id: string): Promise<ConsentRecord | undefined> {
    return this.tables.con.get(id) as Promise<ConsentRecord | undefined>;
  }

  /** Every consent recorded for subject commitment `subject`. */
  async consentsOf(subject: string): Promise<ConsentRecord[]> {
    const out: ConsentRecord[] = [];
    for await (const id of this.tables.conbysubject.values({ gte: `${subject}!`, lt: `${subject}!~` })) {
      const c = await this.consent(id as string);
      if (c) out.push(c);
    }
    return out;
  }

  /** Was a consent of `subject` for this grantee, resource and purpose valid at unix time `at`? Returns it. */
  async validConsent(subject: string, grantee: string, resource: string, purposeHash: string, at: number): Promise<ConsentRecord | undefined> {
    const owner = (await this.resource(resource))?.owner;
    return (await this.consentsOf(subject)).find(
      (c) =>
        c.grantee === grantee && c.resource === resource && c.purposeHash === purposeHash && recordedByRule(c, owner) &&
        c.grantedAt <= at && at < c.validUntil && (c.revokedAt === 0 || at < c.revokedAt),
    );
  }

  /**
   * The consent that covered a call at unix time `at` (evidence): like validConsent, but a consent
   * revoked in the same second as the call still covers it. Times are whole seconds, so a call and
   * a revocation in one second cannot be ordered by time; the log's own check refused every call
   * once it knew of the revocation, so a call logged as served in that second came before it.
   */
  async consentCovering(subject: string, grantee: string, resource: string, purposeHash: string, at: number): Promise<ConsentRecord | undefined> {
    const owner = (await this.resource(resource))?.owner;
    return (await this.consentsOf(subject)).find(
      (c) =>
        c.grantee === grantee && c.resource === resource && c.purposeHash === purposeHash && recordedByRule(c, owner) &&
        c.grantedAt <= at && at < c.validUntil && (c.revokedAt === 0 || at <= c.revokedAt),
    );
  }

  /** The on-chain cancellation of the terms with id `id` (agreement, consent or transfer), or undefined. */
  cancellation(id: string): Promise<CancellationRecord | undefined> {
    return this.tables.cancel.get(id) as Promise<CancellationRecord | undefined>;
  }

  /** Transfer `id`, or undefined. */
  transfer(id: string): Promise<TransferRecord | undefined> {
    return this.tables.xfer.get(id) as Promise<TransferRecord | undefined>;
  }

  /** Transfers that name `id` as a parent. */
  async childrenOf(id: string): Promise<string[]> {
    return (await this.tables.xferchild.values({ gte: `${id}!`, lt: `${id}!~` }).all()) as string[];
  }

  /** Transfers whose payload hash or records root is `hash`. */
  async transfersByHash(hash: string): Promise<string[]> {
    return (await this.tables.xferhash.values({ gte: `${hash}!`, lt: `${hash}!~` }).all()) as string[];
  }

  /** Every transfer, oldest key first (for statistics). */
  async transfers(): Promise<TransferRecord[]> {
    return (await this.tables.xfer.values().all()) as TransferRecord[];
  }

  /** Every agreement. */
  async agreements(): Promise<AgreementRecord[]> {
    return (await this.tables.agr.values().all()) as AgreementRecord[];
  }

  /** The anchored checkpoints of `logId`, oldest first, from the one at index `from` (default: all). */
  async checkpoints(logId: string, from = 0): Promise<CheckpointRecord[]> {
    return (await this.tables.cp.values({ gte: `${logId}!${from > 0 ? pad(from) : ""}`, lt: `${logId}!~` }).all()) as CheckpointRecord[];
  }

  /** The operating department of `logId`, or undefined. */
  async logOperator(logId: string): Promise<string | undefined> {
    return ((await this.tables.logs.get(logId)) as Json | undefined)?.operator as string | undefined;
  }
}

/** `r` and the arrays and objects in it, frozen (a record shared by every reader of a cache). */
function freezeRecord<T>(r: T): T {
  if (r && typeof r === "object") {
    for (const v of Object.values(r)) if (v && typeof v === "object") Object.freeze(v);
    Object.freeze(r);
  }
  return r;
}
