/**
 * Request signatures checked on the second core. The main thread of the API runs everything else
 * of a request (parsing, the ledger's checks, the log, the answer); a signature check is the one
 * piece of pure CPU work that needs nothing of that state, ~200 µs (Ed25519, OpenSSL) to ~1 ms
 * (secp256k1 against a known key) per request on these machines (scripts/bench/signature-bench.ts).
 * So the checks go to one worker thread: jobs of one turn of the event loop travel as one message
 * and come back as one, so the crossing costs a few µs per request.
 *
 * Until the worker has started (and if it ever fails), checks run on the main thread, with the same
 * code (signature-jobs.ts): the answer never depends on where a check ran. One worker per process,
 * shared by every API instance in it (it holds only key caches); it does not keep the process alive.
 */
import { availableParallelism, cpus } from "node:os";
import { extname, join } from "node:path";
import { Worker } from "node:worker_threads";
import { SignatureJobRunner, type SignatureJob } from "./signature-jobs";

interface Waiting {
  jobs: SignatureJob[];
  resolves: ((ok: boolean) => void)[];
}

/** Checks signature jobs in a worker thread, batched per turn of the event loop; on the main thread while none is ready. */
export class SignatureChecks {
  private worker: Worker | undefined;
  private ready = false;
  private queue: Waiting = { jobs: [], resolves: [] };
  private scheduled = false;
  private readonly inFlight = new Map<number, Waiting>();
  private nextId = 0;
  private readonly inline = new SignatureJobRunner();

  /** `threaded`: use a worker thread (false: every check on the calling thread). */
  constructor(threaded = (availableParallelism?.() ?? cpus().length) > 1) {
    if (threaded) this.start();
  }

  /** Whether `job`'s signature is good. */
  check(job: SignatureJob): Promise<boolean> {
    if (!this.ready) return Promise.resolve(this.runInline(job));
    return new Promise((resolve) => {
      this.queue.jobs.push(job);
      this.queue.resolves.push(resolve);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.send());
      }
    });
  }

  /** Checks done in the worker so far, and inline (for tests and the benchmark). */
  readonly counts = { worker: 0, inline: 0 };

  /** Stops the worker; later checks run on the calling thread. */
  async close(): Promise<void> {
    const w = this.worker;
    this.stopped("closed");
    await w?.terminate();
  }

  private runInline(job: SignatureJob): boolean {
    this.counts.inline++;
    try {
      return this.inline.run(job);
    } catch {
      return false; // malformed bytes: not a signature (as in the worker)
    }
  }

  private send(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = { jobs: [], resolves: [] };
    if (batch.jobs.length === 0) return;
    if (!this.worker || !this.ready) {
      batch.jobs.forEach((job, i) => batch.resolves[i](this.runInline(job)));
      return;
    }
    const id = this.nextId++;
    this.inFlight.set(id, batch);
    this.worker.postMessage({ id, jobs: batch.jobs });
  }

  private start(): void {
    // Compiled, the worker is the .js beside this file; under ts-node (tests), the .ts, with ts-node registered in the worker too.
    const file = join(__dirname, "signature-worker" + extname(__filename));
    const tsNode = extname(__filename) === ".ts" ? require.resolve("ts-node") : null;
    const boot = `${tsNode ? `require(${JSON.stringify(tsNode)}).register({ transpileOnly: true });` : ""}require(${JSON.stringify(file)});`;
    const worker = new Worker(boot, { eval: true });
    this.worker = worker;
    worker.unref();
    worker.on("message", (m: { ready?: true; id?: number; results?: boolean[] }) => {
      if (m.ready) {
        this.ready = true;
        return;
      }
      const batch = this.inFlight.get(m.id!);
      if (!batch) return;
      this.inFlight.delete(m.id!);
      this.counts.worker += batch.jobs.length;
      batch.resolves.forEach((resolve, i) => resolve(m.results![i]));
    });
    worker.on("error", () => this.stopped("failed"));
    worker.on("exit", () => this.stopped("exited"));
  }

  /** No worker from now on: what it was still to check is checked here. */
  private stopped(_why: string): void {
    if (!this.worker) return;
    this.worker = undefined;
    this.ready = false;
    for (const batch of this.inFlight.values()) batch.jobs.forEach((job, i) => batch.resolves[i](this.runInline(job)));
    this.inFlight.clear();
  }
}

let shared: SignatureChecks | undefined;

/** The process's signature checker (one worker thread for every API instance in the process). */
export function signatureChecks(): SignatureChecks {
  return (shared ??= new SignatureChecks());
}
