import { sha256 } from "@noble/hashes/sha2";
import { VerificationError } from "./errors";

// RFC 6962 §2.1 / RFC 9162 §2.1.1: domain-separated SHA-256 so a leaf can never pass for a node.

/** Size in bytes of every hash in the tree. */
export const HASH_SIZE = 32;

/** SHA-256 of the empty string: the root of the empty tree. */
export function emptyRoot(): Uint8Array {
  return sha256(new Uint8Array(0));
}

/** SHA-256(0x00 ‖ entry): the hash of a leaf. */
export function leafHash(entry: Uint8Array): Uint8Array {
  const buf = new Uint8Array(1 + entry.length);
  buf[0] = 0x00;
  buf.set(entry, 1);
  return sha256(buf);
}

/** SHA-256(0x01 ‖ left ‖ right): the hash of an interior node. */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  const buf = new Uint8Array(1 + left.length + right.length);
  buf[0] = 0x01;
  buf.set(left, 1);
  buf.set(right, 1 + left.length);
  return sha256(buf);
}

/** Throws HASH_LENGTH unless `hash` is exactly 32 bytes; `what` names it in the message. */
export function checkHashLength(hash: Uint8Array, what: string): void {
  if (hash.length !== HASH_SIZE) {
    throw new VerificationError("HASH_LENGTH", `${what} is ${hash.length} bytes, want ${HASH_SIZE}`, {
      what,
      length: hash.length,
    });
  }
}
