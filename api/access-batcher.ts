/**
 * Data calls reported one at a time, logged many to a request. A gateway plugin sees calls one by
 * one and should report each as it passes (`report(call)`), but a request of one call costs the
 * server ~0.6–1 ms of CPU (its signature check, HTTP, a synced commit) against ~0.06 ms a call in a
 * request of a thousand (npm run bench), so one-by-one requests cap a 2-core node near 2,000 calls/s.
 * The batcher holds each reported call for at most `lingerMs` while others join it, then sends them
 * together in one signed `POST /v1/access` (at most `maxCalls`, at most `maxInFlight` requests at
 * once), and answers each report with that call's own outcome and receipt: the answer still comes
 * only once the call is durably logged.
 *
 * A request is answered 400 as a whole when one of its calls is invalid (VALIDATION_FAILED,
 * SUBJECT_NOT_PERSONAL: nothing of it is logged, docs/api.md), so a batch answered 400 is split in
 * halves and each sent again, down to the call at fault, which alone is refused with that answer;
 * the others are logged once each. Any other failure (the network, 401/403, 429, 5xx) refuses every
 * call of the request with it, as a request of one call would: whether to report again is the
 * caller's (a 503 write refusal logged nothing; a lost connection may have). When `maxQueued` calls
 * wait (the node down or slower than the gateway), `report` refuses at once with the client-side
 * code REPORTER_QUEUE_FULL instead of holding more.
 *
 * Kafka's producer (`linger.ms`, `batch.size`, `max.in.flight.requests.per.connection`) batches the
 * same way; there is no library for it here because the batch boundary, the split on 400 and the
 * per-call answers are this API's.
 */
import type { AccessOutcome } from "../node/access/access-ledger";
import { ApiError, type DclClient } from "./client";

/** One call as `POST /v1/access` takes it (docs/api.md, "Data access logging"). */
export interface ReportedCall {
  agreementId: string;
  purpose?: string;
  purposeHash?: string;
  recordCount: number;
  requestHash: string;
  responseHash: string;
  subjectId?: string;
  subjectCommitment?: string;
  calledAt?: number;
  latencyMs?: number;
}

/** What a call was logged as: its index, entry and outcome, and its receipt unless `proofs` is "none". */
export type ReportedOutcome = Omit<AccessOutcome, "receipt"> & { receipt?: AccessOutcome["receipt"] };

export interface AccessBatcherOptions {
  /** Most calls in one request (default 1,000; the API takes up to 5,000). */
  maxCalls?: number;
  /** Longest a reported call waits for others before its request is sent (default 5 ms). */
  lingerMs?: number;
  /** Most requests awaiting their answers at once (default 4); calls reported meanwhile wait and go together. */
  maxInFlight?: number;
  /** Most calls waiting to be sent; beyond it `report` refuses with REPORTER_QUEUE_FULL (default 100,000). */
  maxQueued?: number;
  /** `entry` (default): each answer carries its receipt; `none`: no receipts (the node still keeps them). */
  proofs?: "entry" | "none";
}

/** What the batcher has done so far. */
export interface AccessBatcherStats {
  /** Calls reported and not yet sent. */
  queued: number;
  /** Requests sent and not yet answered. */
  inFlight: number;
  /** Requests sent, splits of a batch answered 400 included. */
  requests: number;
  /** Calls answered with their outcome. */
  logged: number;
  /** Calls refused (an error of their own or of their request). */
  refused: number;
}

interface Waiting {
  call: ReportedCall;
  resolve: (o: ReportedOutcome) => void;
  reject: (e: unknown) => void;
}

interface AccessAnswer {
  results: ReportedOutcome[];
}

export class AccessBatcher {
  private readonly maxCalls: number;
  private readonly lingerMs: number;
  private readonly maxInFlight: number;
  private readonly maxQueued: number;
  private readonly path: string;
  private queue: Waiting[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** The oldest waiting call has waited its `lingerMs` (or a flush asked): send without waiting for a full batch. */
  private due = false;
  private inFlight = 0;
  private closed = false;
  private readonly idle: (() => void)[] = [];
  private readonly counts = { requests: 0, logged: 0, refused: 0 };

  /** Reports through `client`, which signs each request (with its session key when it has one for `access:write`). */
  constructor(
    private readonly client: DclClient,
    options: AccessBatcherOptions = {},
  ) {
    this.maxCalls = options.maxCalls ?? 1000;
    this.lingerMs = options.lingerMs ?? 5;
    this.maxInFlight = options.maxInFlight ?? 4;
    this.maxQueued = options.maxQueued ?? 100_000;
    for (const [name, value, min] of [["maxCalls", this.maxCalls, 1], ["lingerMs", this.lingerMs, 0], ["maxInFlight", this.maxInFlight, 1], ["maxQueued", this.maxQueued, 1]] as const) {
      if (!Number.isSafeInteger(value) || value < min) throw new RangeError(`${name} must be an integer ≥ ${min}, not ${value}`);
    }
    this.path = `/v1/access?proofs=${options.proofs ?? "entry"}`;
  }

  /** Reports one call; resolves with its outcome once it is logged (durably), rejects with ApiError if it is not. */
  report(call: ReportedCall): Promise<ReportedOutcome> {
    if (this.closed) {
      this.counts.refused++;
      return Promise.reject(new ApiError(503, "REPORTER_CLOSED", "the batcher is closed: it sends no more calls"));
    }
    if (this.queue.length >= this.maxQueued) {
      this.counts.refused++;
      return Promise.reject(new ApiError(503, "REPORTER_QUEUE_FULL", `${this.queue.length} calls are waiting to be sent (maxQueued): the node is not keeping up, report later`));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ call, resolve, reject });
      if (this.queue.length >= this.maxCalls) this.pump();
      else this.timer ??= setTimeout(() => {
        this.timer = undefined;
        this.due = true;
        this.pump();
      }, this.lingerMs);
    });
  }

  /** Sends every call waiting now, without waiting out the linger; resolves once every request sent so far is answered. */
  async flush(): Promise<void> {
    if (this.queue.length > 0) {
      this.due = true;
      this.pump();
    }
    if (this.queue.length === 0 && this.inFlight === 0) return;
    await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  /** Refuses further reports (REPORTER_CLOSED), sends what waits and resolves once all of it is answered. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  stats(): AccessBatcherStats {
    return { queued: this.queue.length, inFlight: this.inFlight, ...this.counts };
  }

  /** Sends batches while there is room in flight and a full batch, or a due one, waits. */
  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0 && (this.due || this.queue.length >= this.maxCalls)) {
      const batch = this.queue.splice(0, this.maxCalls);
      if (this.queue.length === 0) {
        this.due = false;
        clearTimeout(this.timer);
        this.timer = undefined;
      }
      this.inFlight++;
      void this.send(batch).finally(() => {
        this.inFlight--;
        this.pump();
        if (this.queue.length === 0 && this.inFlight === 0) for (const done of this.idle.splice(0)) done();
      });
    }
  }

  /** Sends `batch` as one request; a 400 answer to more than one call splits it in halves, each sent again. */
  private async send(batch: Waiting[]): Promise<void> {
    this.counts.requests++;
    let answer: AccessAnswer;
    try {
      answer = await this.client.post<AccessAnswer>(this.path, { calls: batch.map((w) => w.call) });
    } catch (err) {
      if (err instanceof ApiError && err.status === 400 && batch.length > 1) {
        const half = Math.ceil(batch.length / 2);
        await this.send(batch.slice(0, half));
        await this.send(batch.slice(half));
        return;
      }
      this.counts.refused += batch.length;
      for (const w of batch) w.reject(err);
      return;
    }
    if (!Array.isArray(answer?.results) || answer.results.length !== batch.length) {
      const err = new ApiError(502, "REPORTER_BAD_ANSWER", `the node answered ${batch.length} calls with ${Array.isArray(answer?.results) ? answer.results.length : "no"} results`);
      this.counts.refused += batch.length;
      for (const w of batch) w.reject(err);
      return;
    }
    this.counts.logged += batch.length;
    batch.forEach((w, i) => w.resolve(answer.results[i]));
  }
}
