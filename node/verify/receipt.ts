import { fromHex, toHex } from "./encoding";
import { personalMessageHash, recoverAddress } from "./eip191";
import { VerificationError } from "./errors";
import { rootFromInclusionProof } from "./inclusion";

/*
 * A receipt is the log operator's promise to include an entry. The operator signs once per
 * appended batch (a request's entries get consecutive indices): an EIP-191 personal_sign with its
 * Ethereum key over
 *
 *   dcl-receipt/v2\n<origin>\n<first index>\n<count>\n<batch root, 0x-hex>\n
 *
 * where the batch root is the RFC 6962 root over the leaf hashes of the batch's entries (used as
 * the tree's leaf hashes as they are). Each entry's receipt carries its leaf hash, the batch's
 * first index, count and root, and its inclusion proof in the batch tree, so it can be checked on
 * its own. One signature per batch keeps receipts off the hot path (signing is ~1–3k/s per core).
 * Once a checkpoint covering the index is anchored, the log's inclusion proof replaces the promise;
 * a receipt for an entry the log does not contain is evidence against the operator.
 */

/** A signed receipt for one entry. */
export interface Receipt {
  origin: string;
  index: number;
  leafHash: string; // 0x-hex
  batch: { first: number; count: number; root: string; proof: string[] };
  signer: string; // operator address
  signature: string; // 0x-hex, 65 bytes
}

const encoder = new TextEncoder();

/** The exact bytes the operator signs for a batch of receipts. */
export function receiptSigningPayload(origin: string, first: number, count: number, batchRoot: string): Uint8Array {
  return encoder.encode(`dcl-receipt/v2\n${origin}\n${first}\n${count}\n${batchRoot.toLowerCase()}\n`);
}

/** Checks `receipt`: the entry is in the signed batch, and the batch is signed by its signer (one of `expectedSigners`, when given). */
export function verifyReceipt(receipt: Receipt, expectedSigners?: string[]): void {
  const { index, batch } = receipt;
  const position = index - batch.first;
  if (!Number.isSafeInteger(position) || position < 0 || position >= batch.count) {
    throw new VerificationError("RECEIPT_BATCH_INVALID", `index ${index} is not in the batch [${batch.first}, ${batch.first + batch.count})`);
  }
  const root = toHex(rootFromInclusionProof(position, batch.count, fromHex(receipt.leafHash), batch.proof.map(fromHex)));
  if (root !== batch.root.toLowerCase()) {
    throw new VerificationError("RECEIPT_BATCH_INVALID", `leaf ${receipt.leafHash} at index ${index} does not lead to batch root ${batch.root}`);
  }
  const digest = personalMessageHash(receiptSigningPayload(receipt.origin, batch.first, batch.count, batch.root));
  const recovered = recoverAddress(digest, fromHex(receipt.signature));
  if (recovered === null || recovered.toLowerCase() !== receipt.signer.toLowerCase()) {
    throw new VerificationError("RECEIPT_SIGNATURE_INVALID", `receipt for index ${index} is not signed by ${receipt.signer}`);
  }
  if (expectedSigners && !expectedSigners.some((s) => s.toLowerCase() === recovered.toLowerCase())) {
    throw new VerificationError("RECEIPT_SIGNER_UNEXPECTED", `receipt for index ${index} is signed by ${recovered}, not an operator key`);
  }
}
