import { bytesEqual, fromHex } from "./encoding";
import { personalMessageHash, recoverAddress } from "./eip191";
import { VerificationError } from "./errors";

/*
 * A receipt is the log operator's promise to include an entry: its index and leaf hash in the log
 * named by `origin` (the checkpoint origin), signed with the operator's Ethereum key as an EIP-191
 * personal_sign over the text
 *
 *   dcl-receipt/v1\n<origin>\n<index, decimal>\n<leaf hash, 0x-hex>\n
 *
 * Once a checkpoint covering the index is anchored, the inclusion proof replaces the promise; a
 * receipt for an entry that the log does not contain is evidence against the operator.
 */

/** A signed receipt as served to the client. */
export interface Receipt {
  origin: string;
  index: number;
  leafHash: string; // 0x-hex
  signer: string; // operator address
  signature: string; // 0x-hex, 65 bytes
}

const encoder = new TextEncoder();

/** The exact bytes the operator signs for a receipt. */
export function receiptSigningPayload(origin: string, index: number, leafHash: string): Uint8Array {
  return encoder.encode(`dcl-receipt/v1\n${origin}\n${index}\n${leafHash.toLowerCase()}\n`);
}

/** Checks `receipt` is signed by its signer (and, when given, that the signer is one of `expectedSigners`). */
export function verifyReceipt(receipt: Receipt, expectedSigners?: string[]): void {
  const digest = personalMessageHash(receiptSigningPayload(receipt.origin, receipt.index, receipt.leafHash));
  const recovered = recoverAddress(digest, fromHex(receipt.signature));
  if (recovered === null || !bytesEqual(fromHex(recovered), fromHex(receipt.signer))) {
    throw new VerificationError("RECEIPT_SIGNATURE_INVALID", `receipt for index ${receipt.index} is not signed by ${receipt.signer}`);
  }
  if (expectedSigners && !expectedSigners.some((s) => s.toLowerCase() === recovered.toLowerCase())) {
    throw new VerificationError("RECEIPT_SIGNER_UNEXPECTED", `receipt for index ${receipt.index} is signed by ${recovered}, not an operator key`);
  }
}
