/**
 * EIP-191 personal_sign with a secp256k1 private key, as ethers' `Wallet.signMessageSync` signs:
 * the RFC 6979 (deterministic), low-s signature of the personal-message hash (node/verify/eip191.ts),
 * as 0x + r ‖ s ‖ v hex, v = 27 + the recovery bit. The receipt signer makes one per receipt batch on
 * the hot path: with libsecp256k1 when its binding loads (secp256k1-native.ts), else with
 * @noble/curves (which ethers itself signs with), either way without ethers' wrapping (its
 * Signature object, hex round trips), which cost several times the curve work: ~0.8–1.5 ms per
 * signature through ethers, ~0.1–0.17 ms either way here (`node dist/scripts/bench/signature-bench.js`).
 * Both give ethers' bytes (test/node/threaded-signer.test.ts).
 */
import { secp256k1 } from "@noble/curves/secp256k1";
import { fromHex, personalMessageHash } from "../verify";
import { nativeSecp256k1, type Secp256k1Binding } from "./secp256k1-native";

/** A private key (0x + 64 hex) ready to sign with. */
export function signingKey(privateKey: string): Uint8Array {
  const key = fromHex(privateKey);
  if (key.length !== 32 || !secp256k1.utils.isValidPrivateKey(key)) throw new RangeError("not a secp256k1 private key");
  return key;
}

/**
 * The EIP-191 signature of `message` by `key` (32 bytes), 0x + 130 hex, as ethers makes it; by
 * `binding` (default: libsecp256k1 when it loads here), with @noble/curves when there is none.
 */
export function personalSign(key: Uint8Array, message: Uint8Array, binding: Secp256k1Binding | undefined = nativeSecp256k1): string {
  const digest = personalMessageHash(message);
  if (binding) {
    const { signature, recid } = binding.ecdsaSign(digest, key);
    return "0x" + Buffer.from(signature.buffer, signature.byteOffset, 64).toString("hex") + (27 + recid).toString(16);
  }
  const sig = secp256k1.sign(digest, key, { lowS: true });
  return "0x" + sig.r.toString(16).padStart(64, "0") + sig.s.toString(16).padStart(64, "0") + (27 + sig.recovery).toString(16);
}
