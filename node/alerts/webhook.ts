/**
 * Delivers each alert, in order, to a webhook (DCL_ALERT_WEBHOOK): a POST of the alert's canonical
 * JSON, signed by the log operator (node/verify/alert-webhook.ts). A delivery that fails (no answer,
 * or not 2xx) is retried with a doubling delay; nothing after it is sent before it, so the receiver
 * sees alerts in order. The position of the last delivered alert is kept in the store, so a restart
 * resumes there: at least once — an alert whose answer was lost in a crash is sent again with the
 * same `x-dcl-alert-id`, by which the receiver recognises it. Alerts raised before a URL was first
 * configured are not sent to it (GET /v1/alerts lists them).
 */
import type { AbstractSublevel } from "abstract-level";
import type { Logger } from "pino";
import { ALERT_WEBHOOK_HEADERS, alertWebhookSigningPayload, canonicalJson } from "../verify";
import type { Alert, AlertView } from "./alert";
import type { AlertEngine } from "./alert-engine";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Sub = AbstractSublevel<any, any, string, any>;

/** Signs webhook deliveries with the operator's key (an ethers Wallet). */
export interface WebhookSigner {
  readonly address: string;
  signMessageSync(message: Uint8Array): string;
}

/** Where and how to deliver. */
export interface AlertWebhookOptions {
  url: string;
  /** The log's checkpoint origin: names the log in the signed text. */
  origin: string;
  signer: WebhookSigner;
  engine: AlertEngine;
  db: { sublevel: (name: string, options: object) => unknown };
  /** First retry delay (ms), doubled on each failure up to `maxRetryMs`. Default 1000 and 60,000. */
  retryMs?: number;
  maxRetryMs?: number;
  /** Timeout of one POST (ms), default 10,000. */
  timeoutMs?: number;
  now?: () => number;
  logger?: Logger;
}

const encoder = new TextEncoder();

/** The exact body and headers of the delivery of `alert` at unix second `timestamp`. */
export function webhookRequest(alert: Alert, origin: string, timestamp: number, signer: WebhookSigner): { body: Uint8Array; headers: Record<string, string> } {
  const body = encoder.encode(canonicalJson(alert));
  return {
    body,
    headers: {
      "content-type": "application/json",
      [ALERT_WEBHOOK_HEADERS.id]: alert.id,
      [ALERT_WEBHOOK_HEADERS.timestamp]: String(timestamp),
      [ALERT_WEBHOOK_HEADERS.signer]: signer.address,
      [ALERT_WEBHOOK_HEADERS.signature]: signer.signMessageSync(alertWebhookSigningPayload(origin, timestamp, body)),
    },
  };
}

/** The webhook deliverer: `start()` runs it, `stop()` ends it. */
export class AlertWebhook {
  private readonly store: Sub;
  private delivered = 0;
  private stopped = true;
  private wake?: () => void;
  private loop?: Promise<void>;
  private unsubscribe?: () => void;
  private attempts = 0;
  /** Set by each new alert: the next empty listing does not sleep (an alert may have come while it read). */
  private pending = false;
  private lastError?: string;

  constructor(private readonly o: AlertWebhookOptions) {
    this.store = o.db.sublevel("alert-webhook", { valueEncoding: "json" }) as Sub;
  }

  /** Seq of the last alert delivered. */
  get position(): number {
    return this.delivered;
  }

  /** The last failure, while deliveries fail. */
  health(): { ok: boolean; error?: string } {
    return this.lastError ? { ok: false, error: this.lastError } : { ok: true };
  }

  /** Loads where deliveries to this URL stopped (a new URL: after the latest alert, which it records). */
  async open(): Promise<void> {
    const key = `delivered!${this.o.url}`;
    const saved = (await this.store.get(key)) as number | undefined;
    if (saved === undefined) {
      this.delivered = this.o.engine.latestSeq;
      await this.store.put(key, this.delivered);
    } else this.delivered = saved;
  }

  /** Delivers every alert after the last delivered one, and each new one as it comes (call `open()` first). */
  start(): void {
    this.stopped = false;
    this.unsubscribe = this.o.engine.subscribe(() => {
      this.pending = true;
      this.wake?.();
    });
    this.loop = this.run();
  }

  /** Stops delivering (a delivery in flight is abandoned and sent again at the next start). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.wake?.();
    await this.loop;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  private async run(): Promise<void> {
    const first = this.o.retryMs ?? 1000;
    let delay = first;
    while (!this.stopped) {
      this.pending = false;
      const next: AlertView[] = await this.o.engine.list({ after: this.delivered, limit: 50 }).catch(() => []);
      if (next.length === 0) {
        if (!this.pending && !this.stopped) await this.sleep(5000);
        continue;
      }
      for (const a of next) {
        if (this.stopped) return;
        const { acknowledged: _ack, ...alert } = a;
        if (!(await this.deliver(alert))) {
          await this.sleep(delay);
          delay = Math.min(delay * 2, this.o.maxRetryMs ?? 60_000);
          break;
        }
        delay = first;
        this.delivered = a.seq;
        await this.store.put(`delivered!${this.o.url}`, a.seq);
      }
    }
  }

  private async deliver(alert: Alert): Promise<boolean> {
    const now = this.o.now?.() ?? Math.floor(Date.now() / 1000);
    const { body, headers } = webhookRequest(alert, this.o.origin, now, this.o.signer);
    this.attempts++;
    try {
      const res = await fetch(this.o.url, { method: "POST", headers, body: body as BodyInit, signal: AbortSignal.timeout(this.o.timeoutMs ?? 10_000) });
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) {
        this.lastError = undefined;
        return true;
      }
      this.lastError = `the webhook answered ${res.status} for alert ${alert.id}`;
    } catch (err) {
      this.lastError = `the webhook did not answer for alert ${alert.id}: ${(err as Error).message}`;
    }
    this.o.logger?.warn({ alert: alert.id, attempt: this.attempts, error: this.lastError }, "alert webhook delivery failed, will retry");
    return false;
  }
}
