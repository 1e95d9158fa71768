/**
 * Sends one transaction through the chain client and turns failures into service errors: a revert
 * becomes a conflict naming the contract's custom error, anything else (connection refused, timeout)
 * means the chain is unavailable. Afterwards the indexer is synced, so the caller reads its write.
 */
import type { ContractTransactionResponse, TransactionReceipt } from "ethers";
import type { ChainClient } from "./client";
import type { DclContracts } from "./deploy";
import { decodeRevert } from "./revert";
import { DclError } from "../errors";
import type { Indexer } from "../indexer/indexer";

/** Where a relayed transaction landed. */
export interface TxRef {
  tx: string;
  block: number;
}

/** Relays one transaction and syncs the indexer; throws DclError on failure. */
export async function relay(
  client: ChainClient,
  indexer: Indexer,
  send: (c: DclContracts) => Promise<ContractTransactionResponse>,
): Promise<TxRef> {
  let receipt: TransactionReceipt;
  try {
    receipt = await client.send(send);
  } catch (err) {
    const revert = decodeRevert(err);
    if (revert) throw new DclError("conflict", "CHAIN_REJECTED", `${revert.name}(${revert.args.map(String).join(", ")})`, { cause: err });
    throw new DclError("unavailable", "CHAIN_UNAVAILABLE", (err as { shortMessage?: string }).shortMessage ?? (err as Error).message, { cause: err });
  }
  await indexer.syncOnce().catch(() => undefined); // the indexer's own loop retries
  return { tx: receipt.hash, block: receipt.blockNumber };
}
