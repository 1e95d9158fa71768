/**
 * The operator key's receipt signatures made on the second core. Each synced commit of the log gets
 * one EIP-191 signature over its receipt root (node/access/access-ledger.ts); secp256k1 signing is
 * pure CPU, ~0.7 ms here, about a tenth of a single-call request's main-thread time under load
 * (docs/bench.md), so it runs in a worker thread that holds a copy of the key
 * (node/runtime/worker-thread.ts), with the same code on the calling thread until the worker is
 * ready. Signatures are deterministic (RFC 6979): where one was made does not change it.
 */
import type { HDNodeWallet, Wallet } from "ethers";
import { BatchedWorker } from "../runtime/worker-thread";

/** A signer of EIP-191 messages whose signatures are made off the calling thread. */
export class ThreadedSigner {
  readonly address: string;
  private readonly worker: BatchedWorker<Uint8Array, string>;

  /** `threaded`: use a worker thread (default: when the machine has a second core). */
  constructor(private readonly wallet: Wallet | HDNodeWallet, threaded?: boolean) {
    this.address = wallet.address;
    this.worker = new BatchedWorker({
      callerFile: __filename, callerDir: __dirname, name: "signer-worker", workerData: { privateKey: wallet.privateKey },
      inline: (message) => wallet.signMessageSync(message), threaded,
    });
  }

  /** The EIP-191 signature of `message` (personal_sign), 0x + 130 hex. */
  signMessage(message: Uint8Array): Promise<string> {
    return this.worker.run(message);
  }

  /** The same, on the calling thread. */
  signMessageSync(message: Uint8Array): string {
    return this.wallet.signMessageSync(message);
  }

  /** Signatures made in the worker so far, and on the calling thread. */
  get counts(): { worker: number; inline: number } {
    return this.worker.counts;
  }

  /** Stops the worker; later signatures are made on the calling thread. */
  close(): Promise<void> {
    return this.worker.close();
  }
}
