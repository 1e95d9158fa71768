import { bytesEqual, fromHex, toHex } from "./encoding";
import { personalMessageHash, recoverAddress } from "./eip191";
import { VerificationError } from "./errors";
import { nodeHash } from "./hasher";
import { rootFromInclusionProof } from "./inclusion";
import { compactRange, rootFromRange } from "./range";

/*
 * A receipt is the log operator's promise to include an entry. The operator signs once per
 * batch — the entries of one synced commit of the log, from one request or from several committed
 * together, at consecutive indices: an EIP-191 personal_sign with its Ethereum key over
 *
 *   dcl-receipt/v2\n<origin>\n<first index>\n<count>\n<batch root, 0x-hex>\n
 *
 * where the batch root is the RFC 6962 root over the leaf hashes of the batch's entries (used as
 * the tree's leaf hashes as they are). Each entry's receipt carries its leaf hash, the batch's
 * first index, count and root, and its inclusion proof in the batch tree, so it can be checked on
 * its own. One signature per commit keeps receipts off the hot path (signing is ~1–3k/s per core).
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

/**
 * A signed batch as `POST /v1/access?proofs=batch` gives it, once per request instead of a proof per
 * entry: the batch's signed values and a range proof (docs/formats.md §13.2) of the request's
 * entries within the batch tree — the hashes of the complete subtrees left (`left`) and right
 * (`right`) of them.
 */
export interface BatchProof {
  origin: string;
  first: number;
  count: number;
  root: string;
  signer: string;
  signature: string;
  left: string[];
  right: string[];
}

/**
 * Every receipt of the consecutive entries from index `begin` with leaf hashes `leafHashes`, rebuilt
 * from their batch's range proof: the leaves with `left` and `right` must lead to the batch root
 * (else RECEIPT_BATCH_INVALID), and each entry's inclusion proof in the batch tree is made from those
 * same hashes. The signature is not checked here: verifyReceipt each receipt (they share it).
 */
export function receiptsFromBatch(batch: BatchProof, begin: number, leafHashes: string[]): Receipt[] {
  const { first, count } = batch;
  const position = begin - first;
  if (!Number.isSafeInteger(position) || position < 0 || leafHashes.length === 0 || position + leafHashes.length > count) {
    throw new VerificationError("RECEIPT_BATCH_INVALID", `entries [${begin}, ${begin + leafHashes.length}) are not within the batch [${first}, ${first + count})`);
  }
  const leaves = leafHashes.map(fromHex);
  const left = batch.left.map(fromHex);
  const right = batch.right.map(fromHex);
  const root = rootFromRange(position, count, left, leaves, right);
  if (!bytesEqual(root, fromHex(batch.root))) {
    throw new VerificationError("RECEIPT_BATCH_INVALID", `entries [${begin}, ${begin + leaves.length}) with the range proof lead to root ${toHex(root)}, not the batch root ${batch.root}`);
  }
  const proofs = inclusionProofsFromRange(position, count, left, leaves, right);
  return leaves.map((h, i) => ({
    origin: batch.origin, index: begin + i, leafHash: toHex(h),
    batch: { first, count, root: batch.root.toLowerCase(), proof: proofs[i].map(toHex) },
    signer: batch.signer, signature: batch.signature,
  }));
}

/** Largest power of two strictly below n (n ≥ 2). */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * RFC 6962 inclusion proofs of the leaves [begin, begin + leaves.length) in the tree of `size`, from
 * those leaves and the range proof's subtree hashes. A node's hash is: the given one when it is one of
 * the range proof's subtrees; made from the leaves when it covers only them; else the hash of its two
 * children. Every node on these leaves' paths resolves so (the range proof's subtrees are exactly the
 * maximal nodes outside the range).
 */
export function inclusionProofsFromRange(begin: number, size: number, left: Uint8Array[], leaves: Uint8Array[], right: Uint8Array[]): Uint8Array[][] {
  const end = begin + leaves.length;
  const known = new Map<string, Uint8Array>();
  const span = (level: number, index: number) => [index * 2 ** level, (index + 1) * 2 ** level];
  compactRange(0, begin).forEach((s, i) => known.set(span(s.level, s.index).join(":"), left[i]));
  compactRange(end, size).forEach((s, i) => known.set(span(s.level, s.index).join(":"), right[i]));
  // MTH(D[lo:hi]) of a node of the tree.
  const hash = (lo: number, hi: number): Uint8Array => {
    const key = `${lo}:${hi}`;
    let h = known.get(key);
    if (h) return h;
    if (hi - lo === 1) {
      if (lo < begin || lo >= end) throw new VerificationError("RANGE_PROOF_LENGTH", `leaf ${lo} is outside [${begin}, ${end}) and not covered by the range proof`);
      h = leaves[lo - begin];
    } else {
      const k = split(hi - lo);
      h = nodeHash(hash(lo, lo + k), hash(lo + k, hi));
    }
    known.set(key, h);
    return h;
  };
  // PATH(m, D[0:size]) of RFC 6962 §2.1.1, siblings collected top-down and returned bottom-up.
  const path = (m: number): Uint8Array[] => {
    const out: Uint8Array[] = [];
    let [lo, hi] = [0, size];
    while (hi - lo > 1) {
      const k = split(hi - lo);
      if (m < lo + k) {
        out.push(hash(lo + k, hi));
        hi = lo + k;
      } else {
        out.push(hash(lo, lo + k));
        lo += k;
      }
    }
    return out.reverse();
  };
  return leaves.map((_, i) => path(begin + i));
}
