/**
 * Request signatures checked on the second core. The main thread of the API runs everything else
 * of a request (parsing, the ledger's checks, the log, the answer); a signature check is one piece
 * of pure CPU work that needs nothing of that state, ~200 µs (Ed25519, OpenSSL) to ~1.6 ms
 * (secp256k1 against a known key, @noble/curves) per request on these machines
 * (scripts/bench/signature-bench.ts). So the checks go to one worker thread, batched per turn of the
 * event loop (node/runtime/worker-thread.ts) — but for department keys' when libsecp256k1 is loaded
 * (on the main thread only), which cost less than the crossing there (check below).
 *
 * Until the worker has started (and if it ever fails), checks run on the main thread, with the same
 * code (signature-jobs.ts): the answer never depends on where a check ran. One worker per process,
 * shared by every API instance in it (it holds only key caches); it does not keep the process alive.
 */
import { nativeSecp256k1 } from "../../node/keys/secp256k1-native";
import { BatchedWorker } from "../../node/runtime/worker-thread";
import { SignatureJobRunner, type SignatureJob } from "./signature-jobs";

/** Checks signature jobs in a worker thread, batched per turn of the event loop; on the main thread while none is ready. */
export class SignatureChecks {
  private readonly worker: BatchedWorker<SignatureJob, boolean>;
  private readonly inline = new SignatureJobRunner();
  private readonly hungListeners = new Set<(restarted: boolean) => void>();

  /**
   * `threaded`: use a worker thread (false: every check on the calling thread; default: when there is
   * a second core); `hung`: when the worker is taken for hung (default: a batch unanswered for 10 s,
   * replaced at most 10 times; node/runtime/worker-thread.ts).
   */
  constructor(threaded?: boolean, hung: { hungMs?: number; maxRestarts?: number } = {}) {
    this.worker = new BatchedWorker({
      callerFile: __filename, callerDir: __dirname, name: "signature-worker", inline: (job) => this.inline.safeRun(job), threaded, ...hung,
      onHung: (restarted) => this.hungListeners.forEach((listener) => listener(restarted)),
    });
  }

  /**
   * Tells `listener` each time the worker did not answer in time and was terminated (its checks then
   * made on the main thread), and whether a new one was started (node/runtime/worker-thread.ts).
   * The checker is shared by every API in the process, so each says it in its own log; returns how to stop.
   */
  onHung(listener: (restarted: boolean) => void): () => void {
    this.hungListeners.add(listener);
    return () => void this.hungListeners.delete(listener);
  }

  /**
   * Whether `job`'s signature is good. A department key's signature is checked here when
   * libsecp256k1 is loaded (~0.2 ms: cheaper than the crossing and @noble/curves in the worker, and
   * the binding is loaded on the main thread only: node/keys/secp256k1-native.ts); the rest in the worker.
   */
  check(job: SignatureJob): Promise<boolean> {
    if (job.kind === "eip191" && nativeSecp256k1) return Promise.resolve(this.inline.safeRun(job));
    return this.worker.run(job);
  }

  /** Checks done in the worker so far, and inline (for tests and the benchmark). */
  get counts(): { worker: number; inline: number; restarts: number } {
    return this.worker.counts;
  }

  /** Stops the worker; later checks run on the calling thread. */
  close(): Promise<void> {
    return this.worker.close();
  }
}

let shared: SignatureChecks | undefined;

/** The process's signature checker (one worker thread for every API instance in the process). */
export function signatureChecks(): SignatureChecks {
  return (shared ??= new SignatureChecks());
}
