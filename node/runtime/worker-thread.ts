/**
 * Pure CPU work of the hot path on the second core: a worker thread on a module beside the caller
 * that answers batches of jobs. The jobs of one turn of the event loop travel as one message and
 * come back as one, so the crossing costs a few µs per job. Until the worker has started (and if it
 * ever fails or is closed), jobs run on the calling thread with the same code: an answer never
 * depends on where it was computed. The worker does not keep the process alive.
 *
 * Used by the request-signature checks (api/auth/signature-checks.ts) and the operator's receipt
 * signatures (node/keys/threaded-signer.ts). The worker module answers `{ id, jobs }` with
 * `{ id, results }` and says `{ ready: true }` once it can (serveJobs below).
 */
import { availableParallelism, cpus } from "node:os";
import { extname, join } from "node:path";
import { parentPort, Worker, workerData } from "node:worker_threads";

interface Waiting<J, R> {
  jobs: J[];
  resolves: ((r: R) => void)[];
  /** Fires if the worker has not answered the batch in time (see BatchedWorkerOptions.hungMs). */
  watchdog?: ReturnType<typeof setTimeout>;
}

/** Whether this machine has a second core for a worker. */
export const hasSecondCore = (): boolean => (availableParallelism?.() ?? cpus().length) > 1;

/** Where a BatchedWorker's worker is and how a job runs on the calling thread. */
export interface BatchedWorkerOptions<J, R> {
  /** The caller's `__filename` and `__dirname`: the worker module `name` is beside it, .js compiled or .ts under ts-node. */
  callerFile: string;
  callerDir: string;
  name: string;
  workerData?: unknown;
  /** A job on the calling thread (before the worker is ready, or after it is gone). */
  inline: (job: J) => R;
  /** Use a worker thread at all (default: when the machine has a second core). */
  threaded?: boolean;
  /**
   * How long the worker may take over a batch before it is taken for hung (default 10 s; a batch
   * takes milliseconds): it is then terminated, the jobs it held are done on the calling thread, and
   * a new worker is started — at most `maxRestarts` times (default 10), then jobs stay here.
   * Without it, one stuck signature would hold every answer that waits for a receipt.
   */
  hungMs?: number;
  maxRestarts?: number;
  /** Told when the worker was taken for hung, and whether a new one was started. */
  onHung?: (restarted: boolean) => void;
}

/** Runs jobs in a worker thread, batched per turn of the event loop; on the calling thread while none is ready. */
export class BatchedWorker<J, R> {
  private worker: Worker | undefined;
  private ready = false;
  private queue: Waiting<J, R> = { jobs: [], resolves: [] };
  private scheduled = false;
  private readonly inFlight = new Map<number, Waiting<J, R>>();
  private nextId = 0;
  /** Jobs done in the worker so far, on the calling thread, and workers restarted after a hang (for tests, benchmarks and health). */
  readonly counts = { worker: 0, inline: 0, restarts: 0 };

  constructor(private readonly o: BatchedWorkerOptions<J, R>) {
    if (o.threaded ?? hasSecondCore()) this.start();
  }

  /** The result of `job`, from the worker when it is ready. */
  run(job: J): Promise<R> {
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

  /** Stops the worker; later jobs run on the calling thread. */
  async close(): Promise<void> {
    const w = this.worker;
    this.stopped();
    await w?.terminate();
  }

  private runInline(job: J): R {
    this.counts.inline++;
    return this.o.inline(job);
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
    batch.watchdog = setTimeout(() => this.hung(id), this.o.hungMs ?? 10_000);
    batch.watchdog.unref();
    this.worker.postMessage({ id, jobs: batch.jobs });
  }

  private start(): void {
    const ext = extname(this.o.callerFile);
    const file = join(this.o.callerDir, this.o.name + ext);
    const tsNode = ext === ".ts" ? require.resolve("ts-node") : null;
    const boot = `${tsNode ? `require(${JSON.stringify(tsNode)}).register({ transpileOnly: true });` : ""}require(${JSON.stringify(file)});`;
    const worker = new Worker(boot, { eval: true, workerData: this.o.workerData });
    this.worker = worker;
    worker.unref();
    worker.on("message", (m: { ready?: true; id?: number; results?: R[] }) => {
      if (worker !== this.worker) return; // a worker replaced after a hang
      if (m.ready) {
        this.ready = true;
        return;
      }
      const batch = this.inFlight.get(m.id!);
      if (!batch) return;
      clearTimeout(batch.watchdog);
      this.inFlight.delete(m.id!);
      this.counts.worker += batch.jobs.length;
      batch.resolves.forEach((resolve, i) => resolve(m.results![i]));
    });
    worker.on("error", () => worker === this.worker && this.stopped());
    worker.on("exit", () => worker === this.worker && this.stopped());
  }

  /** Batch `id` has waited too long: the worker is taken for hung, replaced, and the batch done here. */
  private hung(id: number): void {
    if (!this.inFlight.has(id) || !this.worker) return;
    const w = this.worker;
    this.stopped();
    void w.terminate();
    // (After close() nothing is in flight, so a closed worker never gets here.)
    const restart = this.counts.restarts < (this.o.maxRestarts ?? 10);
    if (restart) {
      this.counts.restarts++;
      this.start();
    }
    this.o.onHung?.(restart);
  }

  /** No worker from now on: what it was still to do is done here. */
  private stopped(): void {
    if (!this.worker) return;
    this.worker = undefined;
    this.ready = false;
    const waiting = [...this.inFlight.values()];
    this.inFlight.clear();
    for (const batch of waiting) {
      clearTimeout(batch.watchdog);
      batch.jobs.forEach((job, i) => batch.resolves[i](this.runInline(job)));
    }
  }
}

/** In a worker module: answers each batch of jobs with `run` applied to each, in order, and says it is ready. */
export function serveJobs<J, R>(run: (job: J) => R): void {
  const port = parentPort!;
  port.on("message", ({ id, jobs }: { id: number; jobs: J[] }) => port.postMessage({ id, results: jobs.map(run) }));
  port.postMessage({ ready: true });
}

/** The `workerData` a worker module was started with. */
export const startedWith = <T>(): T => workerData as T;
