/** How the console writes amounts (¥, from integer fen, exactly), times (in the viewer's zone) and durations. */
import type { Lang } from "./i18n";

const locale = (lang: Lang) => (lang === "zh" ? "zh-CN" : "en-GB");

/** ¥ from integer fen, exact for any size: `¥1,234,567.89`. */
export function yuan(fen: string | number | bigint): string {
  let f = BigInt(fen);
  const sign = f < 0n ? "-" : "";
  if (f < 0n) f = -f;
  const whole = (f / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${sign}¥${whole}.${(f % 100n).toString().padStart(2, "0")}`;
}

/** A whole number with separators. */
export function count(n: number | string | bigint, lang: Lang): string {
  return BigInt(n).toLocaleString(locale(lang));
}

/** Unix seconds as a date and time in the viewer's zone. */
export function time(unix: number, lang: Lang): string {
  if (!unix) return "—";
  return new Date(unix * 1000).toLocaleString(locale(lang), { dateStyle: "medium", timeStyle: "medium" });
}

/** Unix seconds as a short time of day (chart axes). */
export function clock(unix: number, lang: Lang, withDate = false): string {
  const d = new Date(unix * 1000);
  return withDate
    ? d.toLocaleString(locale(lang), { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" })
    : d.toLocaleTimeString(locale(lang), { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

/** The viewer's time zone, as the browser names it. */
export const timeZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone;

/** A duration in seconds in words: `42 s`, `3 min 5 s`, `2 h 10 min`, `3 d 4 h`. */
export function duration(seconds: number, lang: Lang): string {
  const u = lang === "zh" ? { d: "天", h: "小时", m: "分", s: "秒" } : { d: " d", h: " h", m: " min", s: " s" };
  const s = Math.max(0, Math.round(seconds));
  const parts: [number, string][] = [[Math.floor(s / 86400), u.d], [Math.floor((s % 86400) / 3600), u.h], [Math.floor((s % 3600) / 60), u.m], [s % 60, u.s]];
  const first = parts.findIndex(([n]) => n > 0);
  if (first < 0) return `0${u.s}`;
  return parts.slice(first, first + 2).filter(([n]) => n > 0).map(([n, unit]) => `${n}${unit}`).join(" ");
}

/** YYYYMM as `2026-10`. */
export const period = (p: number) => `${String(p).slice(0, 4)}-${String(p).slice(4)}`;

/** A share as a percentage with one decimal. */
export const percent = (part: number, whole: number) => (whole > 0 ? `${((100 * part) / whole).toFixed(1)} %` : "—");

/** Unix seconds ↔ the value of an <input type="datetime-local"> in the viewer's zone. */
export function toLocalInput(unix: number | undefined): string {
  if (!unix) return "";
  const d = new Date(unix * 1000);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
export function fromLocalInput(value: string): number | undefined {
  if (!value) return undefined;
  const t = new Date(value).getTime();
  return Number.isFinite(t) ? Math.floor(t / 1000) : undefined;
}
