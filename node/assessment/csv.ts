/** An assessment as CSV (RFC 4180): one row per department and role, the figures a spreadsheet needs. Pure. */
import type { Assessment, RoleFigures } from "./assess";

/** The CSV columns, in order. */
export const CSV_COLUMNS = [
  "period_from", "period_to", "department", "role", "calls", "served", "refused", "records",
  "reply_rate", "non_conforming_share", "personal_calls", "personal_with_consent", "refused_by_reason", "log_delay_p95_s", "latency_p95_ms", "points_deducted",
] as const;

const cell = (v: string | number | null) => {
  const s = v === null ? "" : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** The CSV text of `a`: a header line, then per department a `provider` and a `consumer` row; lines end in CRLF. */
export function assessmentCsv(a: Assessment): string {
  const rows: (string | number | null)[][] = [[...CSV_COLUMNS]];
  for (const d of a.departments) {
    for (const [role, f] of [["provider", d.asProvider], ["consumer", d.asConsumer]] as [string, RoleFigures][]) {
      rows.push([
        a.period.from, a.period.to, d.department, role, f.calls, f.served, f.refused, f.records,
        f.replyRate.value, f.nonConforming.value, f.personalData.calls, f.personalData.withValidConsent,
        Object.entries(f.refusedByReason).map(([k, n]) => `${k}:${n}`).join(";"),
        f.timeliness.logDelaySeconds?.p95 ?? null, f.timeliness.latencyMs?.p95 ?? null,
        d.scoring.pointsDeducted,
      ]);
    }
  }
  return rows.map((r) => r.map(cell).join(",") + "\r\n").join("");
}
