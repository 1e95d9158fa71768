/**
 * Relays one transaction through the chain client's outbox and turns the outcome into what a
 * service answers: mined within the client's wait (`relayWaitMs`) → where it landed, the indexer
 * synced so the caller reads its write; refused by the chain → a conflict naming the contract's
 * custom error (CHAIN_REJECTED); still on its way → RelayPendingError, which the API answers with
 * `202 Accepted` and the relay (GET /v1/relays/:id follows it).
 *
 * A service that keeps a draft notes, in the draft, where the result of a relay still on its way
 * belongs (`relayInto`); reading the draft later fills it in once the relay is mined (`settleDraft`).
 * Nothing is patched from a callback: the outbox is the record, and on-chain state is the indexer's.
 */
import { RelayPendingError, type BuildCall, type ChainClient } from "./client";
import { decodeRevert } from "./revert";
import { DclError } from "../errors";
import type { Indexer } from "../indexer/indexer";

export { RelayPendingError } from "./client";

/** Where a relayed transaction landed. */
export interface TxRef {
  tx: string;
  block: number;
}

/** A relay still on its way when a draft's request was answered: where its result goes in the draft once mined. */
export interface PendingRelay {
  relay: string;
  /** Dot-separated path of the draft's field, e.g. "activation" or "reconciliation.submission". */
  path: string;
  /** Append to the array at `path` instead of setting it. */
  push?: boolean;
  /** Fields stored beside the transaction (who signed, the signature, …). */
  extra?: Record<string, unknown>;
  /** The transaction goes under `tx` as `{ tx, block }` instead of beside `extra` (a dispute's form). */
  nestTx?: boolean;
}

/** A draft that may wait for relays. */
export interface WithPendingRelays {
  relays?: PendingRelay[];
}

/** Options of one relay. */
export interface RelayOptions {
  /** A governor's act that may be repeated on purpose: once the same call was mined, a new relay (see Outbox.submit). */
  repeatable?: boolean;
}

/** Relays one transaction and syncs the indexer; throws DclError on refusal, RelayPendingError when not mined in time. */
export async function relay(client: ChainClient, indexer: Indexer, build: BuildCall, opts: RelayOptions = {}): Promise<TxRef> {
  let receipt: { hash: string; blockNumber: number };
  try {
    receipt = await client.send(build, { repeatable: opts.repeatable, timeoutMs: client.options.relayWaitMs ?? 2000 });
  } catch (err) {
    if (err instanceof RelayPendingError) throw err;
    const revert = decodeRevert(err);
    if (revert) throw new DclError("conflict", "CHAIN_REJECTED", `${revert.name}(${revert.args.map(String).join(", ")})`, { cause: err });
    if (err instanceof Error && err.name === "RelayFailedError") throw new DclError("conflict", "CHAIN_REJECTED", err.message, { cause: err });
    throw new DclError("unavailable", "CHAIN_UNAVAILABLE", (err as { shortMessage?: string }).shortMessage ?? (err as Error).message, { cause: err });
  }
  await indexer.syncOnce().catch(() => undefined); // the indexer's own loop retries
  return { tx: receipt.hash, block: receipt.blockNumber };
}

/**
 * `relay`, for a draft: when the relay is still on its way, notes in `draft` where its result goes
 * (`where`), saves the draft and rethrows; when it is mined, drops any such note of the same
 * transaction (a re-post that found the relay mined) so the result is not filled in twice.
 */
export async function relayInto(
  client: ChainClient,
  indexer: Indexer,
  draft: WithPendingRelays,
  save: () => Promise<unknown>,
  where: Omit<PendingRelay, "relay">,
  build: BuildCall,
  opts: RelayOptions = {},
): Promise<TxRef> {
  try {
    const tx = await relay(client, indexer, build, opts);
    if (draft.relays?.length) {
      const kept: PendingRelay[] = [];
      for (const p of draft.relays) if ((await client.outbox.get(p.relay))?.tx !== tx.tx) kept.push(p);
      if (kept.length) draft.relays = kept;
      else delete draft.relays;
    }
    return tx;
  } catch (err) {
    if (err instanceof RelayPendingError) {
      if (!draft.relays?.some((p) => p.relay === err.relay.id)) (draft.relays ??= []).push({ relay: err.relay.id, ...where });
      await save();
    }
    throw err;
  }
}

/**
 * Fills in the results of `draft`'s relays that were mined since (and forgets those that failed);
 * saves the draft when anything changed. Returns the draft.
 */
export async function settleDraft<D extends WithPendingRelays>(client: ChainClient, draft: D, save: (d: D) => Promise<unknown>): Promise<D> {
  if (!draft.relays?.length) return draft;
  const kept: PendingRelay[] = [];
  let changed = false;
  for (const p of draft.relays) {
    const r = await client.outbox.get(p.relay);
    if (!r || r.state === "failed") {
      changed = true;
    } else if (r.state === "mined") {
      const ref: TxRef = { tx: r.tx!, block: r.block! };
      const value = p.nestTx ? { ...(p.extra ?? {}), tx: ref } : { ...(p.extra ?? {}), ...ref };
      const keys = p.path.split(".");
      let target = draft as unknown as Record<string, unknown>;
      for (const k of keys.slice(0, -1)) target = (target[k] ??= {}) as Record<string, unknown>;
      const last = keys[keys.length - 1];
      if (p.push) ((target[last] ??= []) as unknown[]).push(value);
      else target[last] = value;
      changed = true;
    } else {
      kept.push(p);
    }
  }
  if (!changed) return draft;
  if (kept.length) draft.relays = kept;
  else delete draft.relays;
  await save(draft);
  return draft;
}
