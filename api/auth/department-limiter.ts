/**
 * Per-department rate limit, charged only after a request's signature and signer have been checked,
 * so that nobody can spend another department's budget by naming it in an unsigned header.
 * @fastify/rate-limit runs before route handlers' authentication and so can only key on what a
 * request claims; it stays in front, keyed by client address, against floods. This is a fixed
 * one-minute window per department: small enough to write here, and exact for our purpose.
 */
export class DepartmentLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    readonly perMinute: number,
    private readonly nowMs: () => number = Date.now,
  ) {}

  /** Counts one request of `department`; returns the seconds to wait when over the limit, else 0. */
  take(department: string): number {
    const now = this.nowMs();
    let w = this.windows.get(department);
    if (!w || now - w.start >= 60_000) this.windows.set(department, (w = { start: now, count: 0 }));
    if (w.count >= this.perMinute) return Math.ceil((w.start + 60_000 - now) / 1000);
    w.count++;
    return 0;
  }
}
