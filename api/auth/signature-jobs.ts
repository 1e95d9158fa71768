/**
 * The signature checks of a signed request, as jobs that run the same on the main thread or in a
 * worker thread (signature-checks.ts hands them to one): an Ed25519 session-key signature, verified
 * with node:crypto (OpenSSL), and a department key's EIP-191 signature, recovered with libsecp256k1
 * where its binding loads, else verified with @noble/curves against the key of a signer met before
 * or else recovered (signer-keys.ts). Jobs carry bytes and strings only, so
 * that they cross to a worker by structured clone; each side keeps its own key caches.
 */
import { createPublicKey, verify, type KeyObject } from "node:crypto";
import { fromHex, personalMessageHash } from "../../node/verify";
import { nativeSecp256k1 } from "../../node/keys/secp256k1-native";
import { RecoveringSignerKeys, recoverSigner, SignerKeys } from "./signer-keys";

/** One signature to check. */
export type SignatureJob =
  /** `signature` (64 bytes) by session key `publicKey` (0x + 64 hex) over `message`. */
  | { kind: "ed25519"; publicKey: string; message: Uint8Array; signature: Uint8Array }
  /** `signature` (65 bytes r‖s‖v) by department signer `signer` (address) of EIP-191 personal_sign over `message`. */
  | { kind: "eip191"; signer: string; message: Uint8Array; signature: Uint8Array };

/** An Ed25519 public key object from its 32 raw bytes (0x + 64 hex). */
export function ed25519Key(publicKey: string): KeyObject {
  return createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(fromHex(publicKey)).toString("base64url") }, format: "jwk" });
}

/** Runs signature jobs, keeping the parsed keys it meets (at most `capacity` of each kind). */
export class SignatureJobRunner {
  private readonly ed25519Keys = new Map<string, KeyObject>();
  /** With libsecp256k1 (when its binding loads here) recovery is cheap enough for every request; else @noble/curves against known keys. */
  private readonly signerKeys: RecoveringSignerKeys | SignerKeys;

  constructor(private readonly capacity = 4096) {
    const keys = Math.min(capacity, 256);
    this.signerKeys = nativeSecp256k1 ? new RecoveringSignerKeys(nativeSecp256k1, keys) : new SignerKeys(keys);
  }

  /** Whether the signature of `job` is good. */
  run(job: SignatureJob): boolean {
    return job.kind === "ed25519" ? this.ed25519(job.publicKey, job.message, job.signature) : this.eip191(job.signer, job.message, job.signature);
  }

  /** As `run`, with malformed bytes (the caller checked the shapes already) counted as a bad signature, not thrown. */
  safeRun(job: SignatureJob): boolean {
    try {
      return this.run(job);
    } catch {
      return false;
    }
  }

  /** Verifies an Ed25519 signature, the key parsed once (a KeyObject made per call costs a third more: signature-bench.ts). */
  ed25519(publicKey: string, message: Uint8Array, signature: Uint8Array, key?: KeyObject): boolean {
    const id = publicKey.toLowerCase();
    let k = key ?? this.ed25519Keys.get(id);
    if (!k) {
      if (this.ed25519Keys.size >= this.capacity) this.ed25519Keys.delete(this.ed25519Keys.keys().next().value as string);
      this.ed25519Keys.set(id, (k = ed25519Key(id)));
    }
    return verify(null, message, k, signature);
  }

  /** Verifies an EIP-191 request signature of `signer`: against its key when met before, else by recovery (the key then kept). */
  eip191(signer: string, message: Uint8Array, signature: Uint8Array): boolean {
    const digest = personalMessageHash(message);
    if (this.signerKeys instanceof RecoveringSignerKeys) return this.signerKeys.check(signer, digest, signature);
    const known = this.signerKeys.check(signer, digest, signature);
    if (known !== undefined) return known;
    const r = recoverSigner(digest, signature);
    if (r === null || r.address !== signer.toLowerCase()) return false;
    this.signerKeys.learn(r.address, r.publicKey);
    return true;
  }
}
