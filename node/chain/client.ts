/**
 * The node's connection to an EVM chain: one JSON-RPC provider, one signing key, the dcl contracts,
 * and a queue that sends this key's transactions one at a time. Serialising the sends lets the
 * provider pick each nonce from the chain's pending count, so a failed send (chain down, revert)
 * never leaves a gap or a stuck nonce behind.
 */
import { JsonRpcProvider, Network, type Signer, type TransactionReceipt, type ContractTransactionResponse } from "ethers";
import { connectDcl, type DclAddresses, type DclContracts } from "./deploy";

/** How to reach the chain. */
export interface ChainOptions {
  rpcUrl: string;
  chainId: bigint;
  addresses: DclAddresses;
  /** Poll interval for new blocks and receipts (ms). */
  pollingMs?: number;
  /** Runs after each mined transaction, before the send resolves (the embedded chain persists its state here). */
  afterMined?: () => Promise<void>;
}

/** Makes a provider for a known chain id: no network detection loop when the node is down. */
export function makeProvider(rpcUrl: string, chainId: bigint, pollingMs = 500): JsonRpcProvider {
  const network = Network.from(chainId);
  const provider = new JsonRpcProvider(rpcUrl, network, { staticNetwork: network, batchMaxCount: 1, pollingInterval: pollingMs, cacheTimeout: -1 });
  return provider;
}

/** A chain connection with serialized transaction sending for one key. */
export class ChainClient {
  readonly provider: JsonRpcProvider;
  readonly contracts: DclContracts;
  readonly reader: DclContracts;
  private queue: Promise<unknown> = Promise.resolve();
  private waiting = 0;

  constructor(
    readonly options: ChainOptions,
    readonly signer: Signer,
  ) {
    this.provider = makeProvider(options.rpcUrl, options.chainId, options.pollingMs);
    const connected = signer.connect(this.provider);
    this.contracts = connectDcl(options.addresses, connected);
    this.reader = connectDcl(options.addresses, this.provider);
  }

  /** Runs `send` (which submits one transaction) after every earlier one, and waits for its receipt. */
  send(send: (c: DclContracts) => Promise<ContractTransactionResponse>): Promise<TransactionReceipt> {
    this.waiting++;
    const run = this.queue.then(async () => {
      this.waiting--;
      const tx = await send(this.contracts);
      const receipt = await tx.wait();
      if (!receipt) throw new Error(`transaction ${tx.hash} was dropped`);
      await this.options.afterMined?.();
      return receipt;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Transactions queued behind the one being sent. */
  queued(): number {
    return this.waiting;
  }

  /** The latest block number, or a rejection when the chain is unreachable. */
  blockNumber(): Promise<number> {
    return this.provider.getBlockNumber();
  }

  /** Closes the provider's polling. */
  destroy(): void {
    this.provider.destroy();
  }
}
