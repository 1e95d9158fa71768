/**
 * The node's connection to an EVM chain: one JSON-RPC provider, one signing key, the dcl contracts,
 * and the relay outbox (outbox.ts) through which every transaction of this key goes: recorded in
 * LevelDB first, then sent one at a time with a nonce the outbox assigns and keeps, so a failed send
 * (chain down, revert, crash) never leaves a gap, a stuck nonce or a transaction sent twice.
 */
import { JsonRpcProvider, Network, type ContractTransaction, type HDNodeWallet, type Wallet } from "ethers";
import type { Logger } from "pino";
import { connectDcl, type DclAddresses, type DclContracts } from "./deploy";
import { Outbox, RelayFailedError, type RelayRecord } from "./outbox";

/** How to reach the chain. */
export interface ChainOptions {
  rpcUrl: string;
  chainId: bigint;
  addresses: DclAddresses;
  /** Poll interval for new blocks and receipts (ms). */
  pollingMs?: number;
  /** Runs after each mined transaction, before the send resolves (the embedded chain persists its state here). */
  afterMined?: () => Promise<void>;
  /** How long a service's relay waits for its transaction to be mined before answering that it is pending (ms, default 2,000). */
  relayWaitMs?: number;
  /** When a sent transaction passed over by mined blocks is signed again with higher fees, and the most it may offer (OutboxOptions). */
  bumpAfterMs?: number;
  maxFeePerGas?: bigint;
}

/** Makes a provider for a known chain id: no network detection loop when the node is down. */
export function makeProvider(rpcUrl: string, chainId: bigint, pollingMs = 500): JsonRpcProvider {
  const network = Network.from(chainId);
  const provider = new JsonRpcProvider(rpcUrl, network, { staticNetwork: network, batchMaxCount: 1, pollingInterval: pollingMs, cacheTimeout: -1 });
  return provider;
}

/** A contract call as its calldata, made by one of the typed contracts' `populateTransaction`. */
export type BuildCall = (c: DclContracts) => Promise<ContractTransaction>;

/** Where a mined relay landed (as a receipt gives it). */
export interface RelayReceipt {
  hash: string;
  blockNumber: number;
}

/** A chain connection whose transactions go through one persistent outbox. */
export class ChainClient {
  readonly provider: JsonRpcProvider;
  readonly reader: DclContracts;
  private box?: Outbox;

  constructor(
    readonly options: ChainOptions,
    readonly signer: Wallet | HDNodeWallet,
  ) {
    this.provider = makeProvider(options.rpcUrl, options.chainId, options.pollingMs);
    this.reader = connectDcl(options.addresses, this.provider);
  }

  /** Opens the outbox in `db` (its sublevels `relays*`), loads the relays a previous run left open and starts sending. */
  async openOutbox(db: { sublevel: (name: string, options: object) => unknown }, logger?: Logger): Promise<Outbox> {
    const names = Object.fromEntries(Object.entries(this.options.addresses).map(([name, address]) => [String(address).toLowerCase(), name]));
    this.box = new Outbox({
      db, provider: this.provider, wallet: this.signer, chainId: this.options.chainId, names,
      pollMs: this.options.pollingMs, afterMined: this.options.afterMined, logger,
      bumpAfterMs: this.options.bumpAfterMs, maxFeePerGas: this.options.maxFeePerGas,
    });
    await this.box.load();
    this.box.start();
    return this.box;
  }

  /** The outbox (after `openOutbox`). */
  get outbox(): Outbox {
    if (!this.box) throw new Error("the chain client has no outbox: call openOutbox first");
    return this.box;
  }

  /** Records the call `build` makes in the outbox (nothing is sent before it is on disk); returns its relay. */
  async submit(build: BuildCall, opts: { repeatable?: boolean } = {}): Promise<RelayRecord> {
    const tx = await build(this.reader);
    const name = this.outbox.options.names[String(tx.to).toLowerCase()];
    const contract = name ? (this.reader as unknown as Record<string, { interface: { parseTransaction(t: { data: string }): { name: string } | null } }>)[name] : undefined;
    const method = contract?.interface.parseTransaction({ data: tx.data })?.name ?? tx.data.slice(0, 10);
    return this.outbox.submit(this.outbox.describe(String(tx.to), tx.data, method), opts);
  }

  /**
   * Sends the call `build` makes through the outbox and waits until it is mined (resolves) or refused
   * (rejects with RelayFailedError, which `decodeRevert` reads); after `timeoutMs` (or on `signal`)
   * rejects with RelayPendingError, the relay going on in the background.
   */
  async send(build: BuildCall, opts: { repeatable?: boolean; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<RelayReceipt> {
    const relay = await this.submit(build, opts);
    const done = await this.outbox.wait(relay.id, opts.timeoutMs ?? Infinity, opts.signal);
    if (!done) throw new RelayPendingError((await this.outbox.get(relay.id)) ?? relay);
    if (done.state === "failed") throw new RelayFailedError(done);
    return { hash: done.tx!, blockNumber: done.block! };
  }

  /** Transactions recorded and not yet mined or refused. */
  queued(): number {
    return this.box?.depth() ?? 0;
  }

  /** The latest block number, or a rejection when the chain is unreachable. */
  blockNumber(): Promise<number> {
    return this.provider.getBlockNumber();
  }

  /** Stops the outbox's worker (open relays stay on disk) and closes the provider's polling. */
  async close(): Promise<void> {
    await this.box?.stop();
    this.provider.destroy();
  }

  /** Closes the provider's polling (use `close()` when an outbox was opened). */
  destroy(): void {
    void this.box?.stop();
    this.provider.destroy();
  }
}

/** A relay not mined within the wait: it goes on in the outbox; `relay` says where it is. */
export class RelayPendingError extends Error {
  readonly code = "RELAY_PENDING";
  constructor(readonly relay: RelayRecord) {
    super(`relay ${relay.id} is ${relay.state}: not mined yet`);
    this.name = "RelayPendingError";
  }
}
