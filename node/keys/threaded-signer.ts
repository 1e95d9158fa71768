/**
 * The operator key's receipt signatures. Each receipt batch of the log gets one EIP-191 signature
 * over its root (node/access/access-ledger.ts), ~0.1–0.2 ms of pure CPU with personal-sign.ts. Where
 * it is made is decided by measurement on these 2-core VMs (scripts/bench/notes.md, "Where the
 * second core's time went"): a worker thread woken for each small batch spent ~0.9 ms of CPU per
 * signature at the seed load (a cold thread woken across cores, for 0.15 ms of work), a quarter of
 * everything the server spent per call there; on the main thread the same signature cost ~0.15–0.2
 * ms and the answers came sooner. So with libsecp256k1 loaded (the main thread only:
 * secp256k1-native.ts) signatures are made on the calling thread; otherwise (@noble/curves, or
 * DCL_SECP256K1=js) in a worker thread holding a copy of the key (node/runtime/worker-thread.ts),
 * with the same code on the calling thread until the worker is ready. Signatures are deterministic
 * (RFC 6979): where one was made does not change it.
 */
import type { HDNodeWallet, Wallet } from "ethers";
import { BatchedWorker } from "../runtime/worker-thread";
import { personalSign, signingKey } from "./personal-sign";
import { nativeSecp256k1 } from "./secp256k1-native";

/** A signer of EIP-191 messages, on the calling thread with libsecp256k1, else in a worker thread. */
export class ThreadedSigner {
  readonly address: string;
  private readonly worker: BatchedWorker<Uint8Array, string>;
  private readonly key: Uint8Array;

  /**
   * `threaded`: use a worker thread (default: when the machine has a second core and libsecp256k1 is
   * not loaded here, see above); `onHung`: told when the worker did not answer in time and was
   * replaced (node/runtime/worker-thread.ts), its signatures made here meanwhile.
   */
  constructor(wallet: Wallet | HDNodeWallet, threaded?: boolean, onHung?: (restarted: boolean) => void) {
    this.address = wallet.address;
    this.key = signingKey(wallet.privateKey);
    this.worker = new BatchedWorker({
      callerFile: __filename, callerDir: __dirname, name: "signer-worker", workerData: { privateKey: wallet.privateKey },
      inline: (message) => personalSign(this.key, message), threaded: threaded ?? (nativeSecp256k1 ? false : undefined), onHung,
    });
  }

  /** The EIP-191 signature of `message` (personal_sign), 0x + 130 hex. */
  signMessage(message: Uint8Array): Promise<string> {
    return this.worker.run(message);
  }

  /** The same, on the calling thread. */
  signMessageSync(message: Uint8Array): string {
    return personalSign(this.key, message);
  }

  /** Signatures made in the worker so far, and on the calling thread. */
  get counts(): { worker: number; inline: number; restarts: number } {
    return this.worker.counts;
  }

  /** Stops the worker; later signatures are made on the calling thread. */
  close(): Promise<void> {
    return this.worker.close();
  }
}
