import { createHash, hash as oneShot } from "node:crypto";

/*
 * The RFC 6962 leaf and node hashes of node/verify/hasher.ts, computed by OpenSSL (node:crypto)
 * instead of @noble/hashes: the log computes two per entry, and for 64-byte node hashes and
 * ~260-byte leaves OpenSSL is 2–2.5× faster (docs/bench.md). node/verify keeps @noble/hashes,
 * since it also runs in the browser; test/node/tree-hasher.test.ts checks the two agree.
 */

/** SHA-256 of `bytes`: crypto.hash where Node has it (20.12+, 21.7+), else a Hash object. */
const digest: (bytes: Uint8Array) => Buffer = typeof oneShot === "function"
  ? (bytes) => oneShot("sha256", bytes, "buffer") as unknown as Buffer
  : (bytes) => createHash("sha256").update(bytes).digest();

/** As a plain Uint8Array (a view, no copy), like every other hash in dcl. */
function sha256(bytes: Uint8Array): Uint8Array {
  const b = digest(bytes);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** SHA-256(0x00 ‖ entry): the hash of a leaf. */
export function leafHash(entry: Uint8Array): Uint8Array {
  const buf = Buffer.allocUnsafe(1 + entry.length);
  buf[0] = 0x00;
  buf.set(entry, 1);
  return sha256(buf);
}

/** SHA-256(0x01 ‖ left ‖ right): the hash of an interior node. */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  const buf = Buffer.allocUnsafe(65);
  buf[0] = 0x01;
  buf.set(left, 1);
  buf.set(right, 33);
  return sha256(buf);
}
