/**
 * The operator key's receipt signatures made on the second core. Each receipt batch of the log gets
 * one EIP-191 signature over its root (node/access/access-ledger.ts); secp256k1 signing is pure CPU
 * (~0.1–0.2 ms here with personal-sign.ts; through ethers, as first written, ~1 ms and a tenth of a
 * single-call request's main-thread time under load), so it runs in a worker thread that holds a
 * copy of the key (node/runtime/worker-thread.ts), with the same code on the calling thread until
 * the worker is ready. Signing on the main thread instead measured no different at 1,000 calls/s
 * (the noise of these machines is larger than the difference). Signatures are deterministic
 * (RFC 6979): where one was made does not change it.
 */
import type { HDNodeWallet, Wallet } from "ethers";
import { BatchedWorker } from "../runtime/worker-thread";
import { personalSign, signingKey } from "./personal-sign";

/** A signer of EIP-191 messages whose signatures are made off the calling thread. */
export class ThreadedSigner {
  readonly address: string;
  private readonly worker: BatchedWorker<Uint8Array, string>;
  private readonly key: Uint8Array;

  /**
   * `threaded`: use a worker thread (default: when the machine has a second core); `onHung`: told when
   * the worker did not answer in time and was replaced (node/runtime/worker-thread.ts), its signatures
   * made here meanwhile.
   */
  constructor(wallet: Wallet | HDNodeWallet, threaded?: boolean, onHung?: (restarted: boolean) => void) {
    this.address = wallet.address;
    this.key = signingKey(wallet.privateKey);
    this.worker = new BatchedWorker({
      callerFile: __filename, callerDir: __dirname, name: "signer-worker", workerData: { privateKey: wallet.privateKey },
      inline: (message) => personalSign(this.key, message), threaded, onHung,
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
