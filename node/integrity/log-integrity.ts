/**
 * The node's standing on its own log while it runs. When the anchorer sees the chain disagree with
 * the local log (its anchor is ahead of the log, or has another root at its size), the store check
 * runs again; if it confirms, the log has *diverged*: the node accepts no more writes
 * (LOG_DIVERGED), `/readyz` fails, and the alert engine raises one `log_diverged` alert. The
 * condition is logged once when it is found, not on every anchoring tick; it ends only with a
 * restart on a store that passes the check (a restore), since a diverged log cannot heal itself.
 */
import type { Logger } from "pino";
import { DclError } from "../errors";
import { describeReport, type StoreCheckReport } from "./store-check";

/** A confirmed divergence: when it was found, what saw it first, and the check's report. */
export interface Divergence {
  /** Unix seconds. */
  detectedAt: number;
  /** The anchorer's conflict that triggered the check (code and message). */
  trigger: { code: string; message: string };
  report: StoreCheckReport;
}

/** Holds the divergence state; `onConflict` is the anchorer's hook. */
export class LogIntegrity {
  private diverged?: Divergence;
  private checking?: Promise<void>;
  private unconfirmed = 0;

  constructor(
    private readonly o: {
      /** Runs the store check against the chain (node/integrity/store-check.ts). */
      check: () => Promise<StoreCheckReport>;
      logger?: Logger;
      /** Told once, when the divergence is confirmed. */
      onDiverged?: (d: Divergence) => void;
    },
  ) {}

  /** The divergence, once confirmed. */
  divergence(): Divergence | undefined {
    return this.diverged;
  }

  /** The refusal of a write while the log has diverged, else undefined. */
  refusal(): DclError | undefined {
    const d = this.diverged;
    if (!d) return undefined;
    const codes = d.report.problems.map((p) => p.code).join(", ");
    return new DclError("unavailable", "LOG_DIVERGED", `this node's log diverged from what it anchored on chain (${codes}, found ${new Date(d.detectedAt * 1000).toISOString()}): it accepts no writes, since their receipts could never be anchored; the operator must restore the store`);
  }

  /** The anchorer saw the chain disagree: confirm with the store check (once at a time; nothing more once confirmed). */
  onConflict(err: { code: string; message: string }): Promise<void> {
    if (this.diverged) return Promise.resolve();
    this.checking ??= this.confirm({ code: err.code, message: err.message }).finally(() => (this.checking = undefined));
    return this.checking;
  }

  /** Confirms a divergence found by a check run elsewhere (a report with problems). */
  diverge(report: StoreCheckReport, trigger: { code: string; message: string }): void {
    if (this.diverged || report.ok) return;
    this.diverged = { detectedAt: Math.floor(Date.now() / 1000), trigger, report };
    this.o.logger?.error({ trigger, problems: report.problems }, `log diverged: writes refused (LOG_DIVERGED)\n${describeReport(report, "the store")}`);
    this.o.onDiverged?.(this.diverged);
  }

  private async confirm(trigger: { code: string; message: string }): Promise<void> {
    let report: StoreCheckReport;
    try {
      report = await this.o.check();
    } catch (err) {
      this.o.logger?.warn({ err: { message: (err as Error).message } }, "store check after an anchoring conflict failed to run; will run again at the next conflict");
      return;
    }
    if (report.ok) {
      // The chain moved between the anchorer's read and the check's, or could not be asked: not confirmed.
      if (this.unconfirmed++ === 0) this.o.logger?.warn({ trigger, chain: report.chain }, "anchoring conflict not confirmed by the store check");
      return;
    }
    this.diverge(report, trigger);
  }
}
