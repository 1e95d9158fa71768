/**
 * Assessment periods: a half-open interval of unix seconds [from, to). A quarter is named like
 * `2026Q4` and is taken in China Standard Time (UTC+08:00, the city's own calendar, no daylight
 * saving): 2026Q4 is [2026-10-01T00:00+08:00, 2027-01-01T00:00+08:00). Pure: runs in a browser.
 */

/** A period of the log: entries with `from ≤ time < to` (unix seconds). `label` names a quarter when it is one. */
export interface Period {
  label?: string;
  from: number;
  to: number;
}

/** The offset of China Standard Time from UTC, in seconds. */
export const CST_OFFSET_SECONDS = 8 * 3600;

const QUARTER_RE = /^([0-9]{4})Q([1-4])$/;

/** The period a quarter label names (`2026Q4`), or undefined if `label` is not one. */
export function quarter(label: string): Period | undefined {
  const m = QUARTER_RE.exec(label);
  if (!m) return undefined;
  const year = Number(m[1]);
  const q = Number(m[2]);
  if (year < 1970) return undefined;
  const start = (y: number, month: number) => Date.UTC(y, month, 1) / 1000 - CST_OFFSET_SECONDS;
  return { label, from: start(year, 3 * (q - 1)), to: q === 4 ? start(year + 1, 0) : start(year, 3 * q) };
}

/** The quarter (in China Standard Time) that unix time `t` falls in. */
export function quarterOf(t: number): Period {
  const d = new Date((t + CST_OFFSET_SECONDS) * 1000);
  return quarter(`${d.getUTCFullYear()}Q${Math.floor(d.getUTCMonth() / 3) + 1}`)!;
}

/** Throws unless `p` is a well-formed period: integer seconds, 0 ≤ from < to ≤ 2^53 − 1. */
export function checkPeriod(p: Period): void {
  if (!Number.isSafeInteger(p.from) || !Number.isSafeInteger(p.to) || p.from < 0 || p.from >= p.to) {
    throw new Error(`period [${p.from}, ${p.to}) is not an interval of unix seconds with from < to`);
  }
  if (p.label !== undefined) {
    const q = quarter(p.label);
    if (!q || q.from !== p.from || q.to !== p.to) throw new Error(`period label ${p.label} does not name [${p.from}, ${p.to})`);
  }
}
