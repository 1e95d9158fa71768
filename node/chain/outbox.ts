/**
 * The relay outbox: every transaction the node sends with its key is first written to LevelDB as a
 * serialisable call (contract address and ABI-encoded calldata), then sent by one worker, in order,
 * with a nonce it assigns and keeps. A relay is `pending` (recorded, not yet signed), `sent` (signed
 * with a nonce; the signed bytes and hash are on disk before the transaction is broadcast), `mined`
 * (tx, block) or `failed` (the contract's custom error). Because the signed transaction is stored
 * before it leaves the node, a crash at any moment is healed on the next start: a `sent` relay is
 * looked up by its hash, broadcast again byte for byte if the chain does not know it (the same
 * transaction, never a second one for that nonce), and signed anew with a fresh nonce only when the
 * chain's count shows its nonce taken by another transaction (which means it can never land).
 *
 * A transaction the chain keeps passing over — still unmined `bumpAfterMs` after it was signed while
 * at least BUMP_AFTER_BLOCKS blocks were mined without it (its fee fell behind the market) — is
 * replaced: the same call and nonce signed again with fees raised by 12.5 % (geth and anvil take a
 * replacement at +10 %) or to the market's, whichever is higher, never above `maxFeePerGas` when it
 * is set; the new signed bytes are on disk before they are broadcast, and every hash the nonce was
 * signed under is kept (`replaced`), so whichever of them is mined completes the relay. A chain that
 * mines no block at all (frozen) gets no replacement: its fees did not fall behind anything.
 *
 * The id of a relay is a hash of the call (docs/formats.md §15): posting the same signatures again
 * finds the same relay instead of sending twice. While the chain is unreachable the worker retries
 * with a growing pause (250 ms doubling to 10 s); a revert (found when estimating gas, before anything
 * is signed) fails the relay at once with the contract's error name.
 *
 * Written here rather than taken from a library: ethers' NonceManager keeps nonces in memory only, and
 * no well-kept npm package persists signed transactions across a kill -9 over LevelDB.
 */
import { sha256 } from "@noble/hashes/sha256";
import { getBytes, isError, keccak256, Transaction, type JsonRpcProvider, type TransactionRequest, type Wallet, type HDNodeWallet } from "ethers";
import type { AbstractSublevel } from "abstract-level";
import type { Logger } from "pino";
import { decodeRevert, type DecodedRevert } from "./revert";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Table = AbstractSublevel<any, any, string, any>;

/** Where a relay is: recorded, signed and broadcast, on chain, or refused by the chain. */
export type RelayState = "pending" | "sent" | "mined" | "failed";

/** The call a relay makes: a contract (by its name in the deployment and its address) and ABI-encoded calldata. */
export interface RelayCall {
  contract: string;
  method: string;
  to: string;
  data: string;
}

/** A relay as kept in the outbox. */
export interface RelayRecord {
  id: string;
  /** Order of recording (the worker sends in this order). */
  seq: number;
  /** Which recording of this call it is: 0 first; a later one after an earlier failed (or, for `repeatable` calls, was mined). */
  attempt: number;
  repeatable: boolean;
  call: RelayCall;
  state: RelayState;
  /** Unix milliseconds. */
  createdAt: number;
  updatedAt: number;
  /** Broadcasts and send attempts so far. */
  attempts: number;
  nonce?: number;
  tx?: string;
  /** The signed transaction (0x-hex), kept so it can be broadcast again after a crash. */
  raw?: string;
  /** When `raw` was signed (unix ms) and the chain's latest block then: when to replace it with higher fees. */
  signedAt?: number;
  signedBlock?: number;
  /** Earlier signed transactions of this relay under the same nonce, replaced by `tx` for higher fees: any of them may still be mined. */
  replaced?: string[];
  block?: number;
  /** Why the chain refused it: the custom error's name (code), `Name(arg, …)` (message) and its arguments. */
  error?: { code: string; message: string; args?: string[] };
  /** The last transient failure (chain unreachable), while it is still retried. */
  lastError?: string;
}

/** What is shown of a relay to API clients: no signed bytes, no internal error text. */
export interface RelayView {
  id: string;
  state: RelayState;
  contract: string;
  method: string;
  repeatable: boolean;
  createdAt: string;
  updatedAt: string;
  nonce?: number;
  tx?: string;
  /** Other signings of this relay under the same nonce, replaced for higher fees (at most one of them and `tx` can be mined). */
  replaced?: string[];
  block?: number;
  error?: { code: string; message: string };
}

/** The chain refused a relay: `revert` is its custom error, as `decodeRevert` gives it for a direct call. */
export class RelayFailedError extends Error {
  readonly revert: DecodedRevert | undefined;
  constructor(readonly relay: RelayRecord) {
    super(`relay ${relay.id} failed: ${relay.error?.message ?? "reverted"}`);
    this.name = "RelayFailedError";
    const e = relay.error;
    this.revert = e && e.code !== "REVERTED" ? { name: e.code, args: e.args ?? [] } : undefined;
  }
}

/** Tuning and collaborators of an Outbox. */
export interface OutboxOptions {
  db: { sublevel: (name: string, options: object) => unknown };
  provider: JsonRpcProvider;
  wallet: Wallet | HDNodeWallet;
  chainId: bigint;
  /** Contract name of each address the node sends to (lower-case address → name), for the record and the API. */
  names: Record<string, string>;
  /** Poll interval for receipts (ms). */
  pollMs?: number;
  /** Runs after each mined transaction, before the relay is marked mined (the embedded chain persists its state). */
  afterMined?: () => Promise<void>;
  /** How long a sent transaction may stay unmined, while blocks are mined without it, before it is replaced with higher fees (ms, default 120,000; 0: never). */
  bumpAfterMs?: number;
  /** The most a replacement may offer per gas (wei): `maxFeePerGas`, or `gasPrice` on a chain without EIP-1559 (default: no limit). */
  maxFeePerGas?: bigint;
  logger?: Logger;
}

const TAG = new TextEncoder().encode("dcl-relay-v1");
const MIN_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 10_000;
/** Blocks that must be mined without a sent transaction before it is replaced with higher fees. */
export const BUMP_AFTER_BLOCKS = 3;
/** A replacement's fees: the old ones × 1.125, rounded up. */
const raised = (fee: bigint) => (fee * 1125n + 999n) / 1000n;
const max = (...xs: bigint[]) => xs.reduce((a, b) => (b > a ? b : a));

/**
 * The id of the `attempt`-th recording of a call to `to` with `data` on chain `chainId`:
 * SHA-256("dcl-relay-v1" ‖ uint64be(chainId) ‖ to (20 bytes) ‖ uint32be(attempt) ‖ calldata), 0x-hex.
 */
export function relayId(chainId: bigint, to: string, data: string, attempt: number): string {
  return "0x" + Buffer.from(sha256(preimage(chainId, to, data, attempt))).toString("hex");
}

/** The bytes `relayId` hashes, 0x-hex (for the vectors). */
export function relayIdPreimage(chainId: bigint, to: string, data: string, attempt: number): string {
  return "0x" + Buffer.from(preimage(chainId, to, data, attempt)).toString("hex");
}

function preimage(chainId: bigint, to: string, data: string, attempt: number): Uint8Array {
  const calldata = getBytes(data);
  const address = getBytes(to);
  if (address.length !== 20) throw new Error(`relay target ${to} is not a 20-byte address`);
  const buf = new Uint8Array(TAG.length + 8 + 20 + 4 + calldata.length);
  const view = new DataView(buf.buffer);
  buf.set(TAG, 0);
  view.setBigUint64(TAG.length, chainId);
  buf.set(address, TAG.length + 8);
  view.setUint32(TAG.length + 28, attempt);
  buf.set(calldata, TAG.length + 32);
  return buf;
}

/** The API's view of a relay. */
export function relayView(r: RelayRecord): RelayView {
  return {
    id: r.id, state: r.state, contract: r.call.contract, method: r.call.method, repeatable: r.repeatable,
    createdAt: new Date(r.createdAt).toISOString(), updatedAt: new Date(r.updatedAt).toISOString(),
    ...(r.nonce !== undefined ? { nonce: r.nonce } : {}), ...(r.tx ? { tx: r.tx } : {}), ...(r.block !== undefined ? { block: r.block } : {}),
    ...(r.replaced?.some((h) => h !== r.tx) ? { replaced: r.replaced.filter((h) => h !== r.tx) } : {}),
    ...(r.error ? { error: { code: r.error.code, message: r.error.message } } : {}),
  };
}

const pad = (n: number) => String(n).padStart(16, "0");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const isFinal = (r: RelayRecord) => r.state === "mined" || r.state === "failed";

/** A persistent, ordered outbox of the transactions of one key. */
export class Outbox {
  private readonly relays: Table;
  /** Relays not final yet, by seq: the worker's queue (and the metrics' depth and age). */
  private readonly open: Table;
  private readonly meta: Table;
  private readonly openRelays = new Map<string, RelayRecord>();
  private readonly waiters = new Map<string, Set<(r: RelayRecord) => void>>();
  private seq = 0;
  private lock: Promise<unknown> = Promise.resolve();
  private running?: Promise<void>;
  private stopped = true;
  private wake?: () => void;
  private backoffMs = 0;
  /** Signed transactions the fee limit left no room to replace (warned once each; they wait to be mined). */
  private readonly bumpRefused = new Set<string>();

  constructor(readonly options: OutboxOptions) {
    this.relays = options.db.sublevel("relays", { valueEncoding: "json" }) as Table;
    this.open = options.db.sublevel("relays-open", { valueEncoding: "utf8" }) as Table;
    this.meta = options.db.sublevel("relays-meta", { valueEncoding: "json" }) as Table;
  }

  /** Loads the relays left open by the last run (they are resumed by `start()`). */
  async load(): Promise<void> {
    this.seq = ((await this.meta.get("seq")) as number | undefined) ?? 0;
    for await (const id of this.open.values()) {
      const r = (await this.relays.get(id as string)) as RelayRecord | undefined;
      if (r && !isFinal(r)) this.openRelays.set(r.id, r);
    }
  }

  /** Starts the worker (idempotent). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.running = this.loop();
  }

  /** Stops the worker after its current step; open relays stay on disk for the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.running;
    this.running = undefined;
  }

  /** The name of the contract at `to` and the method `data` calls. */
  describe(to: string, data: string, method: string): RelayCall {
    return { contract: this.options.names[to.toLowerCase()] ?? to.toLowerCase(), method, to: to.toLowerCase(), data: data.toLowerCase() };
  }

  /**
   * Records `call` (durably, before anything is sent) and returns its relay. The same call finds the
   * same relay while it is open or mined; after it failed, or was mined when the call is
   * `repeatable` (a governor's act that may be repeated on purpose, an anchor), a new attempt.
   */
  submit(call: RelayCall, opts: { repeatable?: boolean } = {}): Promise<RelayRecord> {
    const run = this.lock.then(async () => {
      const repeatable = opts.repeatable ?? false;
      for (let attempt = 0; ; attempt++) {
        const id = relayId(this.options.chainId, call.to, call.data, attempt);
        const existing = this.openRelays.get(id) ?? ((await this.relays.get(id)) as RelayRecord | undefined);
        if (existing && (existing.state === "failed" || (repeatable && existing.state === "mined"))) continue;
        if (existing) return existing;
        const now = Date.now();
        const r: RelayRecord = { id, seq: ++this.seq, attempt, repeatable, call, state: "pending", createdAt: now, updatedAt: now, attempts: 0 };
        // One synced batch across the three tables: the relay, its place in the queue and the sequence.
        await this.relays.db.batch(
          [
            { type: "put", sublevel: this.relays, key: id, value: r },
            { type: "put", sublevel: this.open, key: pad(r.seq), value: id },
            { type: "put", sublevel: this.meta, key: "seq", value: this.seq },
          ] as never,
          { sync: true } as never,
        );
        this.openRelays.set(id, r);
        this.wake?.();
        return r;
      }
    });
    this.lock = run.catch(() => undefined);
    return run;
  }

  /** Relay `id`, if recorded. */
  async get(id: string): Promise<RelayRecord | undefined> {
    return this.openRelays.get(id) ?? ((await this.relays.get(id)) as RelayRecord | undefined);
  }

  /** Resolves with relay `id` once mined or failed, or with undefined after `ms` (or when `signal` aborts). */
  async wait(id: string, ms: number, signal?: AbortSignal): Promise<RelayRecord | undefined> {
    const now = await this.get(id);
    if (!now) throw new Error(`no relay ${id}`);
    if (isFinal(now)) return now;
    if (ms <= 0) return undefined;
    return new Promise((resolve) => {
      let set = this.waiters.get(id);
      if (!set) this.waiters.set(id, (set = new Set()));
      const done = (r: RelayRecord | undefined) => {
        clearTimeout(timer);
        set!.delete(done as never);
        signal?.removeEventListener("abort", abort);
        resolve(r);
      };
      const abort = () => done(undefined);
      const timer = Number.isFinite(ms) ? setTimeout(() => done(undefined), ms) : undefined;
      signal?.addEventListener("abort", abort);
      set.add(done as never);
    });
  }

  /**
   * Withdraws relay `id` if it was never signed (so it can never reach the chain): it becomes failed with
   * code WITHDRAWN. The anchorer does this with an anchor the chain was down for, since the next anchor
   * covers it. Returns whether it was withdrawn (false once signed: it then goes on to its end).
   */
  async withdraw(id: string): Promise<boolean> {
    const r = this.openRelays.get(id);
    if (!r || r.state !== "pending" || r.tx) return false;
    // Synchronously marked, so the worker (between an estimate and its save) sees it and signs nothing.
    r.state = "failed";
    try {
      await this.save({ ...r, error: { code: "WITHDRAWN", message: "withdrawn before it was signed: a later transaction covers it" } }, r);
    } catch (err) {
      // Not on disk (the store refused the write): still pending there, so pending here too, and the worker goes on with it.
      r.state = "pending";
      throw err;
    }
    return true;
  }

  /** True while the worker is pausing after a failure to reach the chain (it is down or does not answer). */
  retrying(): boolean {
    return this.backoffMs > 0;
  }

  /** Relays not yet mined or failed. */
  depth(): number {
    return this.openRelays.size;
  }

  /** Seconds since the oldest open relay was recorded (0 when none is open). */
  oldestAgeSeconds(): number {
    let oldest = Infinity;
    for (const r of this.openRelays.values()) oldest = Math.min(oldest, r.createdAt);
    return oldest === Infinity ? 0 : (Date.now() - oldest) / 1000;
  }

  /** The open relays, oldest first. */
  openList(): RelayRecord[] {
    return [...this.openRelays.values()].sort((a, b) => a.seq - b.seq);
  }

  private next(): RelayRecord | undefined {
    let first: RelayRecord | undefined;
    for (const r of this.openRelays.values()) if (!first || r.seq < first.seq) first = r;
    return first;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      // One relay step per turn of the event loop: a step that finds nothing to do must not starve the server.
      await new Promise<void>((resolve) => setImmediate(resolve));
      const r = this.next();
      if (!r) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          setTimeout(resolve, 1000);
        });
        this.wake = undefined;
        continue;
      }
      try {
        await this.advance(r);
        this.backoffMs = 0;
      } catch (err) {
        // The chain is unreachable (or answered nonsense): keep the relay, try again after a growing pause.
        this.backoffMs = Math.min(MAX_BACKOFF_MS, this.backoffMs ? this.backoffMs * 2 : MIN_BACKOFF_MS);
        const message = (err as { shortMessage?: string }).shortMessage ?? (err as Error).message ?? String(err);
        if (r.lastError !== message) this.options.logger?.warn({ relay: r.id, err: { code: (err as { code?: string }).code, message } }, "relay not sent yet, will retry");
        r.lastError = message;
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          setTimeout(resolve, this.backoffMs);
        });
        this.wake = undefined;
      }
    }
  }

  /** Takes relay `r` one step further: sign and send it, or learn its fate. Throws when the chain cannot be reached. */
  private async advance(r: RelayRecord): Promise<void> {
    // Final in memory but still open: a withdrawal is saving it (and puts it back to pending if the store refuses).
    if (isFinal(r)) return new Promise<void>((resolve) => setTimeout(resolve, 10));
    let fresh = false;
    if (r.state === "pending") {
      await this.sign(r);
      if ((r.state as RelayState) !== "sent") return; // failed (a revert) or withdrawn meanwhile
      fresh = true;
    }
    await this.follow(r, fresh);
  }

  /** Estimates, takes a nonce, signs, and keeps the signed transaction on disk (state sent) before it is broadcast. */
  private async sign(r: RelayRecord): Promise<void> {
    const { provider, wallet, chainId } = this.options;
    const from = wallet.address;
    let gas: bigint;
    try {
      gas = await provider.estimateGas({ from, to: r.call.to, data: r.call.data });
    } catch (err) {
      if (r.state !== "pending") return; // withdrawn meanwhile
      if (isError(err, "CALL_EXCEPTION")) return this.fail(r, decodeRevert(err));
      throw err;
    }
    const nonce = await provider.getTransactionCount(from, "pending");
    const fees = await provider.getFeeData();
    const tx: TransactionRequest = { to: r.call.to, data: r.call.data, nonce, chainId, gasLimit: (gas * 12n) / 10n + 10_000n };
    if (fees.maxFeePerGas !== null && fees.maxPriorityFeePerGas !== null) Object.assign(tx, { type: 2, maxFeePerGas: fees.maxFeePerGas, maxPriorityFeePerGas: fees.maxPriorityFeePerGas });
    else Object.assign(tx, { type: 0, gasPrice: fees.gasPrice ?? 0n });
    const raw = await wallet.signTransaction(tx);
    const signedBlock = await provider.getBlockNumber();
    if (r.state !== "pending") return; // withdrawn meanwhile: nothing was sent, the nonce stays free
    await this.save({ ...r, state: "sent", nonce, raw, tx: keccak256(raw), signedAt: Date.now(), signedBlock }, r);
  }

  /**
   * Signs relay `r`'s call again under its nonce with higher fees (see the top of this file) and keeps
   * it on disk, the hash it replaces kept in `replaced`, before broadcasting it. Returns false when the
   * fee limit leaves no room for a replacement the chain would take.
   */
  private async bump(r: RelayRecord): Promise<boolean> {
    const { provider, wallet, chainId } = this.options;
    const old = Transaction.from(r.raw!);
    const fees = await provider.getFeeData();
    const limit = this.options.maxFeePerGas;
    const tx: TransactionRequest = { to: r.call.to, data: r.call.data, nonce: r.nonce, chainId, gasLimit: old.gasLimit };
    let offered: bigint;
    if (old.type === 2) {
      const priority = max(raised(old.maxPriorityFeePerGas!), fees.maxPriorityFeePerGas ?? 0n);
      offered = max(raised(old.maxFeePerGas!), fees.maxFeePerGas ?? 0n, priority);
      if (limit !== undefined && offered > limit) offered = limit;
      if (offered < raised(old.maxFeePerGas!) || offered < priority) return false;
      Object.assign(tx, { type: 2, maxFeePerGas: offered, maxPriorityFeePerGas: priority });
    } else {
      offered = max(raised(old.gasPrice!), fees.gasPrice ?? 0n);
      if (limit !== undefined && offered > limit) offered = limit;
      if (offered < raised(old.gasPrice!)) return false;
      Object.assign(tx, { type: 0, gasPrice: offered });
    }
    const raw = await wallet.signTransaction(tx);
    const signedBlock = await provider.getBlockNumber();
    const replaced = [...(r.replaced ?? []), r.tx!];
    await this.save({ ...r, raw, tx: keccak256(raw), signedAt: Date.now(), signedBlock, replaced, lastError: undefined }, r);
    this.options.logger?.warn({ relay: r.id, nonce: r.nonce, tx: r.tx, replaced, offeredPerGas: offered.toString() }, "relay not mined while blocks passed: signed again with higher fees");
    await this.broadcast(r);
    return true;
  }

  /** The receipt of whichever of relay `r`'s signed transactions (the current one, the ones it replaced) was mined, if one was. */
  private async minedReceipt(r: RelayRecord) {
    for (const hash of [r.tx!, ...(r.replaced ?? [])]) {
      const receipt = await this.options.provider.getTransactionReceipt(hash);
      if (receipt) return receipt;
    }
    return null;
  }

  /** Whether relay `r`'s transaction is due for a replacement with higher fees: unmined `bumpAfterMs` after it was signed, blocks mined without it. */
  private async dueForBump(r: RelayRecord): Promise<boolean> {
    const after = this.options.bumpAfterMs ?? 120_000;
    if (after <= 0 || r.signedAt === undefined || r.signedBlock === undefined || Date.now() - r.signedAt < after) return false;
    if ((await this.options.provider.getBlockNumber()) - r.signedBlock < BUMP_AFTER_BLOCKS) return false;
    return !this.bumpRefused.has(r.tx!);
  }

  /** Broadcasts the signed transaction (again) if the chain does not have it, and waits for its receipt. */
  private async follow(r: RelayRecord, fresh: boolean): Promise<void> {
    const { provider, wallet } = this.options;
    if (fresh) await this.broadcast(r); // just signed: the chain cannot know it yet
    if (r.signedAt === undefined) Object.assign(r, { signedAt: Date.now(), signedBlock: await provider.getBlockNumber() }); // kept by an earlier version: timed from now
    // Polls quickly at first (an instant-finality chain mines at once), then every pollMs.
    for (let pause = 10; ; pause = Math.min(pause * 2, this.options.pollMs ?? 250)) {
      if (fresh) await sleep(pause);
      fresh = true;
      if (this.stopped) return;
      const receipt = await this.minedReceipt(r);
      if (receipt) {
        // The nonce's mined transaction is the relay's, whichever of its signings it was.
        const fields = { tx: receipt.hash, raw: undefined, signedAt: undefined, signedBlock: undefined, lastError: undefined };
        if (receipt.status === 1) {
          await this.options.afterMined?.().catch((err: unknown) => this.options.logger?.warn({ err }, "after-mined hook failed"));
          await this.save({ ...r, ...fields, state: "mined", block: receipt.blockNumber }, r);
        } else {
          Object.assign(r, { tx: receipt.hash });
          await this.fail(r, await this.revertOf(r, receipt.blockNumber));
        }
        return;
      }
      const known = await provider.getTransaction(r.tx!);
      if (!known) {
        // Not mined, not in the pool: either it never left the node (a crash between saving and broadcasting,
        // a chain restarted without its pool), or its nonce went to another transaction of this key.
        const taken = await provider.getTransactionCount(wallet.address, "latest");
        if (taken > r.nonce! && !(await this.minedReceipt(r))) {
          this.options.logger?.warn({ relay: r.id, nonce: r.nonce, tx: r.tx }, "the relay's nonce was used by another transaction: signing it again with a new nonce");
          await this.save({ ...r, state: "pending", nonce: undefined, raw: undefined, tx: undefined, replaced: undefined, signedAt: undefined, signedBlock: undefined }, r);
          return;
        }
      }
      // Passed over while blocks were mined (in the pool, or dropped from it as underpriced): offer more.
      if (await this.dueForBump(r)) {
        if (await this.bump(r)) continue;
        this.bumpRefused.add(r.tx!);
        this.options.logger?.warn({ relay: r.id, nonce: r.nonce, tx: r.tx, maxFeePerGas: this.options.maxFeePerGas?.toString() }, "relay not mined while blocks passed, and the fee limit leaves no room to offer more: it waits");
      }
      if (!known) await this.broadcast(r);
    }
  }

  /** Sends relay `r`'s signed bytes to the chain (the same transaction however often). */
  private async broadcast(r: RelayRecord): Promise<void> {
    r.attempts++;
    try {
      await this.options.provider.broadcastTransaction(r.raw!);
    } catch (err) {
      // Already known, or mined meanwhile: the receipt poll tells; anything else (connection) is transient.
      if (!isError(err, "NONCE_EXPIRED") && !/already known|already imported|known transaction/i.test((err as Error).message)) throw err;
    }
  }

  /** The custom error of a transaction that was mined reverted: the call replayed on the state before its block. */
  private async revertOf(r: RelayRecord, block: number): Promise<DecodedRevert | undefined> {
    try {
      await this.options.provider.call({ from: this.options.wallet.address, to: r.call.to, data: r.call.data, blockTag: block - 1 });
      return undefined;
    } catch (err) {
      return decodeRevert(err);
    }
  }

  private async fail(r: RelayRecord, revert: DecodedRevert | undefined): Promise<void> {
    const error = revert
      ? { code: revert.name, message: `${revert.name}(${revert.args.map(String).join(", ")})`, args: revert.args.map(String) }
      : { code: "REVERTED", message: "the transaction reverted without a custom error" };
    await this.save({ ...r, state: "failed", error, raw: undefined, signedAt: undefined, signedBlock: undefined, lastError: undefined }, r);
  }

  /** Writes relay `next` (synced), updates the open set and wakes its waiters when it is final. */
  private async save(next: RelayRecord, prev: RelayRecord): Promise<void> {
    next.updatedAt = Date.now();
    const ops: unknown[] = [{ type: "put", sublevel: this.relays, key: next.id, value: next }];
    if (isFinal(next)) ops.push({ type: "del", sublevel: this.open, key: pad(next.seq) });
    await this.relays.db.batch(ops as never, { sync: true } as never);
    Object.assign(prev, next);
    for (const k of Object.keys(prev) as (keyof RelayRecord)[]) if (next[k] === undefined) delete prev[k];
    if (!isFinal(next)) return;
    this.openRelays.delete(next.id);
    if (next.state === "mined") this.options.logger?.info({ relay: next.id, tx: next.tx, block: next.block, method: next.call.method }, "relay mined");
    else this.options.logger?.warn({ relay: next.id, error: next.error, method: next.call.method }, "relay failed");
    for (const w of [...(this.waiters.get(next.id) ?? [])]) w(prev);
    this.waiters.delete(next.id);
  }
}
