/**
 * A small, independent RFC 6962 reference tree for the transfer tests: builds the records root and
 * inclusion proofs off chain with node:crypto, so the contract's verifier is checked against a
 * second implementation rather than against itself.
 */
import { createHash } from "node:crypto";

/** SHA-256(0x00 ‖ record): the hash of a leaf. */
export function leafHash(record: Uint8Array): Buffer {
  return createHash("sha256").update(Buffer.from([0x00])).update(record).digest();
}

/** SHA-256(0x01 ‖ left ‖ right): the hash of an interior node. */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash("sha256").update(Buffer.from([0x01])).update(left).update(right).digest();
}

// The largest power of two strictly smaller than n (n ≥ 2): where RFC 6962 splits a tree.
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH(D[n]) of RFC 6962 §2.1 over the leaf hashes `leaves` (at least one). */
export function rootOf(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) throw new Error("rootOf: empty tree");
  if (leaves.length === 1) return leaves[0];
  const k = splitPoint(leaves.length);
  return nodeHash(rootOf(leaves.slice(0, k)), rootOf(leaves.slice(k)));
}

/** PATH(m, D[n]) of RFC 6962 §2.1.1: the audit path of leaf `m`, from the leaf upwards. */
export function inclusionProof(m: number, leaves: Buffer[]): Buffer[] {
  if (m < 0 || m >= leaves.length) throw new Error(`inclusionProof: index ${m} out of ${leaves.length}`);
  if (leaves.length === 1) return [];
  const k = splitPoint(leaves.length);
  return m < k
    ? [...inclusionProof(m, leaves.slice(0, k)), rootOf(leaves.slice(k))]
    : [...inclusionProof(m - k, leaves.slice(k)), rootOf(leaves.slice(0, k))];
}

/** A non-tax fee record as the providing department delivers it (amounts in integer fen). */
export interface FeeRecord {
  payer: string; // unified social credit code of the paying organisation
  item: string;
  period: number;
  assessedFen: number;
}

/** The canonical bytes of a fee record: JSON with keys in a fixed order, UTF-8. */
export function encodeRecord(r: FeeRecord): Buffer {
  return Buffer.from(JSON.stringify({ payer: r.payer, item: r.item, period: r.period, assessedFen: r.assessedFen }), "utf8");
}

/** A 0x-prefixed hex string of `bytes`, as ethers expects for bytes32/bytes arguments. */
export function hex(bytes: Uint8Array): string {
  return "0x" + Buffer.from(bytes).toString("hex");
}
