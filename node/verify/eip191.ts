import { secp256k1 } from "@noble/curves/secp256k1";
import { keccak_256 } from "@noble/hashes/sha3";
import { concatBytes, toHex } from "./encoding";

const encoder = new TextEncoder();

/** keccak256("\x19Ethereum Signed Message:\n" ‖ len ‖ message): the EIP-191 personal_sign digest. */
export function personalMessageHash(message: Uint8Array): Uint8Array {
  const prefix = encoder.encode(`\x19Ethereum Signed Message:\n${message.length}`);
  return keccak_256(concatBytes(prefix, message));
}

/** EIP-55 mixed-case form of a 20-byte address. */
export function toChecksumAddress(address: Uint8Array): string {
  const hex = toHex(address).slice(2);
  const hash = toHex(keccak_256(encoder.encode(hex))).slice(2);
  let out = "0x";
  for (let i = 0; i < hex.length; i++) out += parseInt(hash[i], 16) >= 8 ? hex[i].toUpperCase() : hex[i];
  return out;
}

/**
 * The uncompressed public key (65 bytes, 0x04‖x‖y) that made a 65-byte r‖s‖v signature (v = 27 or
 * 28, low s, as ethers produces) over `digest`, or null if the signature is not well formed.
 */
export function recoverPublicKey(digest: Uint8Array, signature: Uint8Array): Uint8Array | null {
  if (signature.length !== 65) return null;
  const v = signature[64];
  if (v !== 27 && v !== 28) return null;
  try {
    const sig = secp256k1.Signature.fromCompact(signature.subarray(0, 64)).addRecoveryBit(v - 27);
    if (sig.hasHighS()) return null; // EIP-2: one valid signature per message and key.
    return sig.recoverPublicKey(digest).toRawBytes(false);
  } catch {
    return null; // r or s out of range, or no point for this r: not a signature.
  }
}

/**
 * The checksummed address that made a 65-byte r‖s‖v signature (v = 27 or 28, low s, as
 * ethers produces) over `digest`, or null if the signature is not well formed.
 */
export function recoverAddress(digest: Uint8Array, signature: Uint8Array): string | null {
  const pub = recoverPublicKey(digest, signature);
  return pub === null ? null : toChecksumAddress(keccak_256(pub.subarray(1)).subarray(12));
}
