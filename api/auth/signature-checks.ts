/**
 * Request signatures checked on the second core. The main thread of the API runs everything else
 * of a request (parsing, the ledger's checks, the log, the answer); a signature check is one piece
 * of pure CPU work that needs nothing of that state, ~200 µs (Ed25519, OpenSSL) to ~1 ms
 * (secp256k1 against a known key) per request on these machines (scripts/bench/signature-bench.ts).
 * So the checks go to one worker thread, batched per turn of the event loop
 * (node/runtime/worker-thread.ts).
 *
 * Until the worker has started (and if it ever fails), checks run on the main thread, with the same
 * code (signature-jobs.ts): the answer never depends on where a check ran. One worker per process,
 * shared by every API instance in it (it holds only key caches); it does not keep the process alive.
 */
import { BatchedWorker } from "../../node/runtime/worker-thread";
import { SignatureJobRunner, type SignatureJob } from "./signature-jobs";

/** Checks signature jobs in a worker thread, batched per turn of the event loop; on the main thread while none is ready. */
export class SignatureChecks {
  private readonly worker: BatchedWorker<SignatureJob, boolean>;

  /** `threaded`: use a worker thread (false: every check on the calling thread; default: when there is a second core). */
  constructor(threaded?: boolean) {
    const inline = new SignatureJobRunner();
    this.worker = new BatchedWorker({ callerFile: __filename, callerDir: __dirname, name: "signature-worker", inline: (job) => inline.safeRun(job), threaded });
  }

  /** Whether `job`'s signature is good. */
  check(job: SignatureJob): Promise<boolean> {
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
