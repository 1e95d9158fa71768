/**
 * Coverage gate: reads coverage/coverage-summary.json (written by `hardhat coverage`), prints lines
 * and branches per file, and exits non-zero when either is below the threshold overall.
 */
import { readFileSync } from "node:fs";
import { join, relative } from "node:path";

/** Minimum overall percentage of lines and of branches. */
const THRESHOLD = 95;

interface Metric {
  total: number;
  covered: number;
  pct: number | "Unknown";
}
type Summary = Record<string, { lines: Metric; branches: Metric; functions: Metric; statements: Metric }>;

const root = join(__dirname, "..");
const summaryPath = join(root, "coverage", "coverage-summary.json");

function pct(m: Metric): number {
  return typeof m.pct === "number" ? m.pct : 100; // istanbul says "Unknown" when there is nothing to cover
}

function row(name: string, lines: Metric, branches: Metric): string {
  const cell = (m: Metric) => `${pct(m).toFixed(2).padStart(7)}% (${m.covered}/${m.total})`.padEnd(22);
  return `${name.padEnd(44)} ${cell(lines)} ${cell(branches)}`;
}

const summary = JSON.parse(readFileSync(summaryPath, "utf8")) as Summary;
console.log(`${"file".padEnd(44)} ${"lines".padEnd(22)} branches`);
for (const [file, m] of Object.entries(summary)) {
  if (file !== "total") console.log(row(relative(root, file), m.lines, m.branches));
}
const { lines, branches } = summary.total;
console.log(row("total", lines, branches));

const failures = [
  pct(lines) < THRESHOLD ? `lines ${pct(lines)}%` : undefined,
  pct(branches) < THRESHOLD ? `branches ${pct(branches)}%` : undefined,
].filter((f): f is string => f !== undefined);
if (failures.length > 0) {
  console.error(`coverage gate failed: ${failures.join(", ")} < ${THRESHOLD}%`);
  process.exit(1);
}
console.log(`coverage gate passed: lines and branches ≥ ${THRESHOLD}%`);
