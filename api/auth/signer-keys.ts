/**
 * Department signer keys seen before, so that a request signed with one is checked by ECDSA
 * verification against its public key instead of a public-key recovery. A request names its signer
 * (x-dcl-signer); recovering the key from the signature costs a square root and a scalar
 * multiplication by a point met for the first time (~2.8 ms of one core here with @noble/curves),
 * while verifying against a known key with precomputed multiples of it costs about a third of that
 * (npm run bench's scripts/bench/signature-bench.ts). The answer is the same: the signature is
 * accepted exactly when recovery with its v would give the named signer's key — verification
 * computes R = u1·G + u2·Q and accepts only if R.x = r and R's y parity is v − 27, and, as
 * recoverAddress, refuses v ∉ {27, 28}, a high s, and r or s out of range.
 *
 * A key is learnt only from a signature that recovered to it; which signers are current is still
 * the indexer's to say (authenticate.ts asks it for every request).
 */
import { invert, mod } from "@noble/curves/abstract/modular";
import { secp256k1 } from "@noble/curves/secp256k1";
import { keccak_256 } from "@noble/hashes/sha3";
import { recoverNative, type Secp256k1Binding } from "../../node/keys/secp256k1-native";
import { recoverPublicKey, toHex } from "../../node/verify";

type Point = InstanceType<typeof secp256k1.ProjectivePoint>;

const N = secp256k1.CURVE.n;
const G = secp256k1.ProjectivePoint.BASE;
/**
 * Window of the precomputed multiples kept per key: 2^(W−1)·(256/W + 1) points, ~1,400 (a few hundred
 * KB) for W = 6, a third of recovery's time per check; W = 8 is a little faster and four times larger.
 */
const WINDOW = 6;

/** The lower-case address of an uncompressed secp256k1 public key (65 bytes, 0x04 ‖ x ‖ y). */
function addressOf(publicKey: Uint8Array): string {
  return toHex(keccak_256(publicKey.subarray(1)).subarray(12)).toLowerCase();
}

/** The big-endian integer of `bytes`. */
function toBigInt(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(toHex(bytes));
}

/** The recovered signer of an EIP-191 request signature, or null. */
export interface Recovered {
  /** Lower-case address. */
  address: string;
  /** Uncompressed public key (65 bytes). */
  publicKey: Uint8Array;
}

/**
 * The key that made a 65-byte r‖s‖v signature (v = 27 or 28, low s) over `digest`, or null when it
 * is not such a signature: node/verify's recoverAddress, also giving the public key.
 */
export function recoverSigner(digest: Uint8Array, signature: Uint8Array): Recovered | null {
  const publicKey = recoverPublicKey(digest, signature);
  return publicKey === null ? null : { address: addressOf(publicKey), publicKey };
}

/** Public keys of signers met before (at most `capacity`, the oldest forgotten first), each with precomputed multiples. */
export class SignerKeys {
  private readonly keys = new Map<string, Point>();

  constructor(private readonly capacity = 256) {}

  /** Remembers `publicKey` (65 bytes uncompressed) as the key of `address`; ignored unless it is that address's key. */
  learn(address: string, publicKey: Uint8Array): void {
    const a = address.toLowerCase();
    if (this.keys.has(a) || addressOf(publicKey) !== a) return;
    if (this.keys.size >= this.capacity) {
      const [oldest, point] = this.keys.entries().next().value as [string, Point];
      point._setWindowSize(1); // drops its precomputed multiples from @noble/curves' cache
      this.keys.delete(oldest);
    }
    const point = secp256k1.ProjectivePoint.fromHex(publicKey);
    point._setWindowSize(WINDOW); // the multiples are computed on the first check
    this.keys.set(a, point);
  }

  /**
   * Whether `signature` (65 bytes r‖s‖v) over `digest` was made by `address`'s key: true or false
   * when the key is known, undefined when it is not (recover it: recoverSigner, then learn).
   */
  check(address: string, digest: Uint8Array, signature: Uint8Array): boolean | undefined {
    const q = this.keys.get(address.toLowerCase());
    if (!q) return undefined;
    if (signature.length !== 65 || digest.length !== 32) return false;
    const v = signature[64];
    if (v !== 27 && v !== 28) return false;
    const r = toBigInt(signature.subarray(0, 32));
    const s = toBigInt(signature.subarray(32, 64));
    if (r <= 0n || r >= N || s <= 0n || s > N >> 1n) return false; // range, and EIP-2's low s
    const z = mod(toBigInt(digest), N);
    const w = invert(s, N);
    const R = G.multiply(mod(z * w, N)).add(q.multiply(mod(r * w, N)));
    if (R.equals(secp256k1.ProjectivePoint.ZERO)) return false;
    const { x, y } = R.toAffine();
    return x === r && Number(y & 1n) === v - 27;
  }
}

/**
 * Department signer checks by libsecp256k1 (node/keys/secp256k1-native.ts), where recovery costs
 * ~86 µs and needs no precomputed multiples: the key recovered from the signature (refused as
 * node/verify's recovery refuses: v ∉ {27, 28}, a high s, r or s out of range) is compared with the
 * key the signer was met with before, else hashed to its address and kept (at most `capacity` keys).
 */
export class RecoveringSignerKeys {
  private readonly keys = new Map<string, Uint8Array>();

  constructor(private readonly binding: Secp256k1Binding, private readonly capacity = 256) {}

  /** Whether `signature` (65 bytes r‖s‖v) over `digest` was made by `address`'s key. */
  check(address: string, digest: Uint8Array, signature: Uint8Array): boolean {
    const key = recoverNative(this.binding, digest, signature);
    if (key === null) return false;
    const a = address.toLowerCase();
    const known = this.keys.get(a);
    if (known) return known.length === key.length && known.every((b, i) => b === key[i]);
    if (addressOf(key) !== a) return false;
    if (this.keys.size >= this.capacity) this.keys.delete(this.keys.keys().next().value as string);
    this.keys.set(a, key);
    return true;
  }
}
