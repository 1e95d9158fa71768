/** An assessment as a table a person reads (the CLI and the demo print it). */
import { codeId } from "../../node/chain/ids";
import type { Assessment, RoleFigures } from "../../node/assessment/assess";

/** Names for department ids: each code's keccak256 id mapped to the code. */
export function namesOf(codes: string[]): Map<string, string> {
  return new Map(codes.map((c) => [codeId(c), c]));
}

const pct = (v: string | null) => (v === null ? "—" : `${(Number(v) * 100).toFixed(2)} %`);
const num = (n: number) => n.toLocaleString("en-US");
const short = (id: string) => `${id.slice(0, 10)}…${id.slice(-4)}`;

/** The table's lines: a heading with the period and basis, then a row per department and role that has calls. */
export function assessmentTable(a: Assessment, names: Map<string, string> = new Map()): string[] {
  const b = a.basis;
  const head = [
    `assessment of ${a.period.label ?? "the period"} [${a.period.from}, ${a.period.to}) — log entries [${b.begin}, ${b.end}) of the tree of size ${b.treeSize}, ` +
      (b.closed ? "the period closed" : "the period still open at that checkpoint"),
    `rules ${a.rulesVersion}: reply rate below 95 % deducts 0.1 (as provider); non-conforming calls above 20 % deduct 0.1, above 30 % 0.2 (as consumer)`,
  ];
  const cols = ["department", "role", "calls", "served", "refused", "records", "reply rate", "non-conforming", "consent", "delay p95", "points"];
  const rows: string[][] = [];
  for (const d of a.departments) {
    const roles = ([["provider", d.asProvider], ["consumer", d.asConsumer]] as [string, RoleFigures][]).filter(([, f]) => f.calls > 0);
    if (roles.length === 0) roles.push(["consumer", d.asConsumer]);
    roles.forEach(([role, f], i) => {
      rows.push([
        i === 0 ? (names.get(d.department) ?? short(d.department)) : "", role, num(f.calls), num(f.served), num(f.refused), num(f.records),
        role === "provider" ? pct(f.replyRate.value) : "", role === "consumer" ? pct(f.nonConforming.value) : "",
        f.personalData.calls > 0 ? `${num(f.personalData.withValidConsent)}/${num(f.personalData.calls)}` : "",
        f.timeliness.logDelaySeconds ? `${num(f.timeliness.logDelaySeconds.p95)} s` : "", i === 0 ? (d.scoring.pointsDeducted === "0.0" ? "0" : `−${d.scoring.pointsDeducted}`) : "",
      ]);
    });
  }
  const width = cols.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((v, i) => (i < 2 ? v.padEnd(width[i]) : v.padStart(width[i]))).join("  ").trimEnd();
  return [...head, "", line(cols), line(width.map((w) => "-".repeat(w))), ...rows.map(line)];
}
