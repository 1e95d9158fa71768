/**
 * secp256k1 in C: libsecp256k1 (Bitcoin Core's library) through the `secp256k1` package's N-API
 * binding, whose prebuilt binaries ship in the npm package (linux-x64 glibc and musl, darwin-arm64,
 * win32-x64; elsewhere its install tries to compile and may leave none). A department key's request
 * signature is checked by recovery: ~4 ms with @noble/curves on these machines, 1.6–1.8 ms against a
 * known key with precomputed tables, ~0.2 ms with libsecp256k1, the EIP-191 hash included
 * (`node dist/scripts/bench/signature-bench.js`), so these checks run on the main thread
 * (api/auth/signature-checks.ts) rather than in a worker with @noble/curves, and receipt signatures
 * are made here too (node/keys/threaded-signer.ts; @noble/curves in a worker without it). Same
 * results: RFC 6979 nonces and low-s signatures as @noble/curves and ethers make them
 * (test/node/threaded-signer.test.ts, test/api/signer-keys.test.ts).
 *
 * `undefined` in worker threads, and when the binding does not load (or DCL_SECP256K1=js): callers
 * then use @noble/curves. The package's own fallback (elliptic) is not used. node/verify, which also
 * runs in browsers, keeps @noble/curves.
 */

import { isMainThread } from "node:worker_threads";
import { toHex } from "../verify";

/** The binding's functions dcl uses (secp256k1 package v4, API.md). */
export interface Secp256k1Binding {
  /** RFC 6979 signature of a 32-byte digest, low s: 64 bytes r ‖ s and the recovery id (0 or 1). */
  ecdsaSign(digest: Uint8Array, privateKey: Uint8Array): { signature: Uint8Array; recid: number };
  /** The public key (65 bytes uncompressed when `compressed` is false) that made r ‖ s with recovery id `recid`; throws when none. */
  ecdsaRecover(signature: Uint8Array, recid: number, digest: Uint8Array, compressed: boolean): Uint8Array;
}

function load(): Secp256k1Binding | undefined {
  // The main thread only: worker threads that had loaded the binding crashed the process when they
  // were terminated ("free(): invalid pointer", SIGFPE; the secp256k1 package's v4 binding is not
  // safe to tear down per thread), so workers use @noble/curves (test/node/secp256k1-workers.test.ts).
  if (!isMainThread || process.env.DCL_SECP256K1 === "js") return undefined;
  try {
    return require("secp256k1/bindings") as Secp256k1Binding;
  } catch {
    return undefined;
  }
}

/** libsecp256k1 when its binding loads here, else undefined. */
export const nativeSecp256k1: Secp256k1Binding | undefined = load();

/** N and N / 2 of secp256k1, as toHex writes 32 bytes (0x + 64 lower-case digits): a value compares with them as text. */
const N_HEX = "0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";
const HALF_N_HEX = "0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0";
const ZERO_HEX = "0x" + "0".repeat(64);

/**
 * The uncompressed public key (65 bytes) that made the 65-byte r ‖ s ‖ v signature over `digest`, by
 * `binding`; null when it is not a signature recovery accepts: v ∉ {27, 28}, r or s zero or not below
 * n, a high s (EIP-2), or no key — as node/verify's recoverPublicKey refuses.
 */
export function recoverNative(binding: Secp256k1Binding, digest: Uint8Array, signature: Uint8Array): Uint8Array | null {
  if (signature.length !== 65 || digest.length !== 32) return null;
  const v = signature[64];
  if (v !== 27 && v !== 28) return null;
  const r = toHex(signature.subarray(0, 32));
  const s = toHex(signature.subarray(32, 64));
  if (r === ZERO_HEX || r >= N_HEX || s === ZERO_HEX || s > HALF_N_HEX) return null;
  try {
    return binding.ecdsaRecover(signature.subarray(0, 64), v - 27, digest, false);
  } catch {
    return null;
  }
}
