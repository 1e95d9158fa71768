/**
 * Anchors the log's latest checkpoint on the LogAnchors contract every `intervalMs`, or sooner once
 * `everyEntries` entries wait, and reports the cumulative usage of sharing agreements the same way.
 *
 * One anchor covers everything since the last, so a chain outage leaves no backlog of transactions,
 * only a longer interval: appends go on while the chain is unreachable and the next successful tick
 * anchors the whole gap at once. Before the first anchor and after any failure the anchorer reads
 * the chain's latest checkpoint for its log and reconciles with it, so a transaction that landed
 * although its receipt was lost is never anchored twice, and a restart resumes where the chain is.
 * Sends go through the chain client's outbox (node/chain/outbox.ts), which keeps the operator key's
 * nonces in one place: no stuck nonce, no transaction sent twice. One anchor or usage report is in
 * flight at a time: one the chain was down for before it could be signed is withdrawn (the next
 * covers it: still no backlog); one signed and sent is waited for, sending nothing new, and once it
 * is final the anchorer reads the chain again before the next one.
 */
import type { Logger } from "pino";
import { toHex } from "../verify";
import { RelayPendingError, type BuildCall, type ChainClient, type RelayReceipt } from "../chain/client";
import { decodeRevert } from "../chain/revert";

/** How long a tick waits for its transaction: an interval, within 5 to 30 s. */
const waitMs = (intervalMs: number) => Math.min(30_000, Math.max(5000, intervalMs));

/** What the anchorer needs of the log. */
export interface AnchoredLog {
  size(): number;
  root(size?: number): Promise<Uint8Array>;
  /** RFC 6962 consistency proof from size `from` to size `to`. */
  consistencyProof(from: number, to: number): Promise<Uint8Array[]>;
}

/** Cumulative usage per agreement id (records served so far), as counted by the node. */
export type UsageSource = () => Promise<Map<string, bigint>>;

/** A checkpoint the anchorer put on chain. */
export interface AnchorResult {
  treeSize: number;
  root: string;
  txHash: string;
  blockNumber: number;
}

/** The local log and the chain disagree: anchoring stops rather than anchor a fork. */
export class AnchorConflictError extends Error {
  constructor(
    readonly code: "ANCHOR_CHAIN_AHEAD" | "ANCHOR_ROOT_MISMATCH",
    message: string,
  ) {
    super(message);
    this.name = "AnchorConflictError";
  }
}

/** Tuning and collaborators of an Anchorer. */
export interface AnchorerOptions {
  log: AnchoredLog;
  client: ChainClient;
  /** bytes32 id of the log on the LogAnchors contract. */
  logId: string;
  intervalMs: number;
  everyEntries: number;
  usage?: UsageSource;
  logger?: Logger;
  onAnchor?: (result: AnchorResult) => void;
  /** Told at every tick that finds the chain disagreeing with the local log (the node then checks its store). */
  onConflict?: (err: AnchorConflictError) => void;
}

/** Anchors checkpoints and usage; `start()` runs it on a timer, `anchorOnce()` runs one tick. */
export class Anchorer {
  private anchoredSize = 0;
  private reconciled = false;
  private readonly reported = new Map<string, bigint>();
  private readonly setAside = new Map<string, string>();
  private timer?: NodeJS.Timeout;
  private running?: Promise<AnchorResult | undefined>;
  private lastError?: unknown;
  private lastAnchorAt = 0;
  /** Ticks that found the chain disagreeing, and when that was last logged (it is logged once, then every 10 minutes). */
  private conflicts = 0;
  private conflictLoggedAt = 0;
  /** The anchor or usage report of this node still on its way, if any (its relay id). */
  private inFlight?: string;
  private stopping = new AbortController();

  constructor(readonly options: AnchorerOptions) {}

  /** Tree size of the latest checkpoint known to be on chain. */
  get anchored(): number {
    return this.anchoredSize;
  }

  /** Entries appended but not yet anchored. */
  lag(): number {
    return Math.max(0, this.options.log.size() - this.anchoredSize);
  }

  /** The error of the last failed tick, if the last tick failed. */
  health(): { ok: boolean; error?: string } {
    return this.lastError ? { ok: false, error: (this.lastError as Error).message ?? String(this.lastError) } : { ok: true };
  }

  /** Reads the chain's latest checkpoint of this log and checks the local log agrees with it. */
  async reconcile(): Promise<void> {
    const { client, log, logId } = this.options;
    const latest = await client.reader.anchors.latestCheckpoint(logId);
    const chainSize = Number(latest.treeSize);
    if (chainSize > log.size()) {
      throw new AnchorConflictError("ANCHOR_CHAIN_AHEAD", `chain has checkpoint ${chainSize} of log ${logId}, local log only ${log.size()} entries`);
    }
    if (chainSize > 0) {
      const local = toHex(await log.root(chainSize));
      if (local !== latest.root) {
        throw new AnchorConflictError("ANCHOR_ROOT_MISMATCH", `root of size ${chainSize} is ${local} locally, ${latest.root} on chain`);
      }
    }
    this.anchoredSize = chainSize;
    this.reconciled = true;
  }

  /** One tick: anchors the current size if it grew, then reports changed usage. Concurrent calls share one run. */
  anchorOnce(): Promise<AnchorResult | undefined> {
    this.running ??= this.tick().finally(() => (this.running = undefined));
    return this.running;
  }

  /** Asks for an anchor soon if `everyEntries` entries wait (call after appends). */
  poke(): void {
    if (this.timer && this.lag() >= this.options.everyEntries) void this.safeTick();
  }

  /** Runs ticks every `intervalMs` until `stop()`. */
  start(): void {
    if (this.stopping.signal.aborted) this.stopping = new AbortController();
    const loop = async () => {
      await this.safeTick();
      if (this.timer) this.timer = setTimeout(loop, this.options.intervalMs);
    };
    this.timer = setTimeout(loop, 0);
  }

  /** Stops the timer and waits for a running tick. */
  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.stopping.abort();
    await this.running?.catch(() => undefined);
  }

  /** Milliseconds since the last successful anchor (0 before any). */
  sinceLastAnchorMs(): number {
    return this.lastAnchorAt === 0 ? 0 : Date.now() - this.lastAnchorAt;
  }

  private async safeTick(): Promise<void> {
    try {
      await this.anchorOnce();
      this.lastError = undefined;
    } catch (err) {
      this.lastError = err;
      if (err instanceof AnchorConflictError) return this.conflict(err);
      this.options.logger?.warn({ err: { code: (err as { code?: string }).code, message: (err as Error).message } }, "anchoring failed, will retry");
    }
  }

  /** The chain disagrees with the log: not a passing failure. Reported to the node at each tick, logged once and then rarely. */
  private conflict(err: AnchorConflictError): void {
    this.options.onConflict?.(err);
    const now = Date.now();
    if (this.conflicts++ > 0 && now - this.conflictLoggedAt < 600_000) return;
    this.conflictLoggedAt = now;
    this.options.logger?.error({ err: { code: err.code, message: err.message }, ticks: this.conflicts }, "the chain disagrees with the local log: nothing is anchored (logged again every 10 minutes while it lasts)");
  }

  private async tick(): Promise<AnchorResult | undefined> {
    try {
      await this.settleInFlight();
      if (!this.reconciled) await this.reconcile();
      const result = await this.anchorCheckpoint();
      await this.reportUsage();
      return result;
    } catch (err) {
      if (!(err instanceof AnchorConflictError)) this.reconciled = false; // re-read the chain before the next try
      throw err;
    }
  }

  private async anchorCheckpoint(limit?: number): Promise<AnchorResult | undefined> {
    const { client, log, logId } = this.options;
    const size = Math.min(log.size(), limit ?? Infinity);
    if (size <= this.anchoredSize) return undefined; // nothing new: no transaction
    const root = toHex(await log.root(size));
    // The chain verifies that the anchored history is a prefix of this checkpoint (no proof for the first).
    const from = this.anchoredSize;
    const proof = from === 0 ? [] : (await log.consistencyProof(from, size)).map(toHex);
    try {
      const receipt = await this.send((c) => c.anchors.anchor.populateTransaction(logId, size, root, proof));
      this.anchoredSize = size;
      this.lastAnchorAt = Date.now();
      const result = { treeSize: size, root, txHash: receipt.hash, blockNumber: receipt.blockNumber };
      this.options.logger?.info({ treeSize: size, root, tx: receipt.hash, block: receipt.blockNumber }, "checkpoint anchored");
      this.options.onAnchor?.(result);
      return result;
    } catch (err) {
      const revert = decodeRevert(err);
      if (revert?.name === "AnchorsSizeNotGrowing") {
        await this.reconcile(); // an earlier send landed after all
        return undefined;
      }
      if (revert?.name === "AnchorsGrowthTooFast" && limit === undefined) {
        // The log grew faster than the chain lets one anchor cover: anchor as much as it allows now.
        return this.anchorCheckpoint(Number(revert.args[2]));
      }
      throw err;
    }
  }

  private async reportUsage(): Promise<void> {
    const { usage, client, logId } = this.options;
    if (!usage) return;
    const changed = [...(await usage()).entries()].filter(([id, used]) => this.reported.get(id) !== used && !this.setAside.has(id));
    if (changed.length === 0) return;
    // Bounded batches keep each transaction well under the block gas limit.
    for (let i = 0; i < changed.length; i += 100) {
      let chunk = changed.slice(i, i + 100);
      while (chunk.length > 0) {
        try {
          await this.send((c) => c.agreements.reportUsage.populateTransaction(logId, chunk.map(([id]) => id), chunk.map(([, used]) => used)));
          break;
        } catch (err) {
          // A report reverts whole: set aside the agreement the chain refuses (metered by another log, or
          // unknown) and report the others, instead of retrying the same failing batch for ever.
          const revert = decodeRevert(err);
          const refused = revert && ["AgreementsWrongLog", "AgreementsUnknown", "AgreementsUsageDecreased"].includes(revert.name) ? String(revert.args[0]).toLowerCase() : undefined;
          if (!refused || !chunk.some(([id]) => id.toLowerCase() === refused)) throw err;
          this.setAside.set(refused, `${revert!.name}(${revert!.args.map(String).join(", ")})`);
          this.options.logger?.warn({ agreement: refused, revert: revert!.name }, "usage report refused by the chain: agreement set aside, not reported again");
          chunk = chunk.filter(([id]) => id.toLowerCase() !== refused);
        }
      }
      for (const [id, used] of chunk) this.reported.set(id, used);
      if (chunk.length) this.options.logger?.info({ agreements: chunk.length }, "usage reported");
    }
  }

  /**
   * Sends one transaction through the outbox and waits for it (an interval, within 5 to 30 s); when it is
   * still on its way the tick fails with RelayPendingError and the next tick waits for the same relay.
   */
  private async send(build: BuildCall): Promise<RelayReceipt> {
    const { client, intervalMs } = this.options;
    try {
      return await client.send(build, { repeatable: true, timeoutMs: waitMs(intervalMs), signal: this.stopping.signal });
    } catch (err) {
      // Not even signed yet while the chain is down: withdrawn, since the next anchor covers everything. Signed (it may
      // land) or only queued behind other relays: waited for by the next ticks.
      if (err instanceof RelayPendingError && !(await this.withdrawIfDown(err.relay.id))) this.inFlight = err.relay.id;
      throw err;
    }
  }

  /**
   * Waits for an anchor or usage report still on its way (this run's, or one a previous run left in the outbox);
   * once it is final, the chain is read again, since it may have moved the anchored size.
   */
  private async settleInFlight(): Promise<void> {
    const { client, intervalMs } = this.options;
    this.inFlight ??= client.outbox.openList().filter((r) => r.call.method === "anchor" || r.call.method === "reportUsage").pop()?.id;
    if (!this.inFlight) return;
    const done = await client.outbox.wait(this.inFlight, waitMs(intervalMs), this.stopping.signal);
    if (!done && !(await this.withdrawIfDown(this.inFlight))) throw new RelayPendingError((await client.outbox.get(this.inFlight))!);
    this.inFlight = undefined;
    this.reconciled = false;
  }

  /** Withdraws relay `id` if the chain is down and it was never signed; whether it did. */
  private async withdrawIfDown(id: string): Promise<boolean> {
    const { outbox } = this.options.client;
    return outbox.retrying() && outbox.withdraw(id);
  }

  /** Agreements whose usage report the chain refused, with the reason: set aside, never reported again by this node. */
  setAsideAgreements(): Map<string, string> {
    return new Map(this.setAside);
  }
}
