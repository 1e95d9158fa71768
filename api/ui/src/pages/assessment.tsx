/**
 * Assessment and alerts: the quarter's assessment per department with the scoring rule beside each
 * figure, and alerts, live from the server-sent events stream. Both come from the assessment feature
 * of the node (GET /v1/audit/assessments, GET /v1/alerts, GET /v1/alerts/stream); on a node that does
 * not have it yet the page says so.
 */
import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { signedEventStream } from "../api";
import * as api from "../data";
import { time } from "../format";
import { useLang, useT } from "../i18n";
import { departmentName } from "../names";
import { href, navigate, useLocation } from "../router";
import type { Session } from "../session";
import { Empty, ErrorState, Page, Panel, Show, Signed, useLoad } from "../ui";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function currentQuarter(): string {
  const d = new Date();
  return `${d.getFullYear()}Q${Math.floor(d.getMonth() / 3) + 1}`;
}

/** Any JSON value as readable rows: numbers and words as they are, objects as nested lists, ids as names. */
function Value(props: { v: Json }) {
  const lang = useLang();
  const v = props.v;
  if (v === null) return <span>—</span>;
  if (typeof v === "string") return /^0x[0-9a-f]{64}$/i.test(v) ? <span title={v}>{departmentName(v, lang)}</span> : <span>{v}</span>;
  if (typeof v !== "object") return <span>{String(v)}</span>;
  if (Array.isArray(v)) return <ul class="plain">{v.map((x) => <li><Value v={x} /></li>)}</ul>;
  return (
    <dl class="facts small">
      {Object.entries(v).map(([k, x]) => (
        <>
          <dt>{k}</dt>
          <dd><Value v={x} /></dd>
        </>
      ))}
    </dl>
  );
}

interface Ratio {
  numerator: number;
  denominator: number;
  value: string | null;
}
interface RoleFigures {
  calls: number;
  served: number;
  refused: number;
  refusedByReason: Record<string, number>;
  records: number;
  replyRate: Ratio;
  nonConforming: Ratio;
  personalData: { calls: number; withValidConsent: number; share: Ratio };
  agreements: { agreementId: string; counterpart: string; records: number; quota: string | null; shareOfQuota: string | null }[];
}
interface Assessment {
  period: { from: number; to: number };
  basis: { treeSize: number; begin: number; end: number; closed: boolean };
  rules: { id: string; source: string; text: string }[];
  departments: { department: string; asProvider: RoleFigures; asConsumer: RoleFigures; scoring: { deductions: { rule: string; figure: Ratio; threshold: string; applies: boolean; points: string }[]; pointsDeducted: string } }[];
}

const isAssessment = (d: unknown): d is Assessment => !!d && typeof d === "object" && Array.isArray((d as Assessment).departments) && Array.isArray((d as Assessment).rules);

/** A ratio as a percentage with its fraction. */
function Share(props: { r: Ratio }) {
  const r = props.r;
  if (r.value === null) return <span class="muted">—</span>;
  return <span>{(Number(r.value) * 100).toFixed(1)} % <span class="muted">({r.numerator} / {r.denominator})</span></span>;
}

/** One department's figures, each beside the rule that scores or reports it. */
function DepartmentCard(props: { d: Assessment["departments"][number]; rules: Map<string, Assessment["rules"][number]> }) {
  const t = useT();
  const lang = useLang();
  const { d } = props;
  const deduction = (rule: string) => d.scoring.deductions.find((x) => x.rule === rule);
  const rows: { label: string; value: ComponentChildren; rule: string; points?: string; applies?: boolean }[] = [
    { label: t("assessment.replyRate"), value: <Share r={d.asProvider.replyRate} />, rule: "sharing-target-95", points: deduction("sharing-target-95")?.points, applies: deduction("sharing-target-95")?.applies },
    { label: t("assessment.nonConforming"), value: <Share r={d.asConsumer.nonConforming} />, rule: "non-conforming-20-30", points: deduction("non-conforming-20-30")?.points, applies: deduction("non-conforming-20-30")?.applies },
    { label: t("assessment.consent"), value: <Share r={d.asConsumer.personalData.share} />, rule: "personal-data-consent" },
    {
      label: t("assessment.quota"),
      value: d.asConsumer.agreements.length + d.asProvider.agreements.length === 0 ? <span class="muted">—</span> : (
        <ul class="plain">
          {[...d.asProvider.agreements, ...d.asConsumer.agreements].map((a) => (
            <li>{departmentName(a.counterpart, lang)}: {a.records.toLocaleString()} / {a.quota ?? "?"} {a.shareOfQuota ? `(${(Number(a.shareOfQuota) * 100).toFixed(2)} %)` : ""}</li>
          ))}
        </ul>
      ),
      rule: "records-vs-quota",
    },
  ];
  return (
    <section class="assessment" aria-labelledby={`as-${d.department}`}>
      <h3 id={`as-${d.department}`}>
        {departmentName(d.department, lang)}{" "}
        <span class={`tag ${Number(d.scoring.pointsDeducted) > 0 ? "bad" : "active"}`}>{t("assessment.points", { points: d.scoring.pointsDeducted })}</span>
      </h3>
      <p class="muted">{t("assessment.calls", { provider: d.asProvider.calls, consumer: d.asConsumer.calls, refused: d.asConsumer.refused })}</p>
      <table class="rules">
        <thead><tr><th scope="col">{t("assessment.figure")}</th><th scope="col">{t("assessment.value")}</th><th scope="col">{t("assessment.deducts")}</th><th scope="col">{t("assessment.rule")}</th></tr></thead>
        <tbody>
          {rows.map((r) => (
            <tr>
              <th scope="row">{r.label}</th>
              <td>{r.value}</td>
              <td>{r.points === undefined ? <span class="muted">{t("assessment.reported")}</span> : <span class={r.applies ? "reason" : ""}>{r.points}</span>}</td>
              <td class="rule-text" title={props.rules.get(r.rule)?.text}>{props.rules.get(r.rule)?.source ?? r.rule} <a href={`#rule-${r.rule}`}>[{r.rule}]</a></td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function AssessmentTable(props: { data: Json }) {
  const t = useT();
  const lang = useLang();
  if (isAssessment(props.data)) {
    const a = props.data;
    const rules = new Map(a.rules.map((r) => [r.id, r]));
    if (a.departments.length === 0) return <Empty>{t("assessment.none")}</Empty>;
    return (
      <>
        <p class="note">{t("assessment.basis", { begin: a.basis.begin, end: a.basis.end, size: a.basis.treeSize, from: time(a.period.from, lang), to: time(a.period.to, lang) })}</p>
        <div class="assessments">{a.departments.map((d) => <DepartmentCard d={d} rules={rules} />)}</div>
        <h3>{t("assessment.howMeasured")}</h3>
        <dl class="facts small rules-list">
          {a.rules.map((r) => (
            <>
              <dt id={`rule-${r.id}`}>{r.id}</dt>
              <dd><strong>{r.source}</strong>. {r.text}</dd>
            </>
          ))}
        </dl>
      </>
    );
  }
  // Another shape (a newer node): shown as it is.
  const d = props.data as { assessments?: Json[] } | Json[];
  const rows = (Array.isArray(d) ? d : d?.assessments ?? []) as { [k: string]: Json }[];
  if (rows.length === 0) return <Empty>{t("assessment.none")}</Empty>;
  return (
    <div class="assessments">
      {rows.map((r) => (
        <section class="assessment" aria-label={departmentName(String(r.department ?? ""), lang)}>
          <h3>{departmentName(String(r.department ?? ""), lang)}</h3>
          <Value v={Object.fromEntries(Object.entries(r).filter(([k]) => k !== "department"))} />
        </section>
      ))}
    </div>
  );
}

function LiveAlerts(props: { s: Session }) {
  const t = useT();
  const lang = useLang();
  const listed = useLoad(() => api.optional(api.get<{ alerts: { [k: string]: Json }[] }>(props.s, "/v1/alerts")), [props.s]);
  const [live, setLive] = useState<{ [k: string]: Json }[]>([]);
  const [status, setStatus] = useState<"connecting" | "open" | "closed" | "absent">("connecting");
  useEffect(() => {
    const stop = new AbortController();
    signedEventStream(props.s, "/v1/alerts/stream", (_event, data) => {
      setStatus("open");
      try {
        setLive((xs) => [JSON.parse(data), ...xs].slice(0, 100));
      } catch {
        /* a comment or keep-alive */
      }
    }, stop.signal).then(
      () => setStatus("closed"),
      (err) => setStatus(err?.code === "ROUTE_NOT_FOUND" ? "absent" : stop.signal.aborted ? "closed" : "closed"),
    );
    queueMicrotask(() => setStatus((s) => (s === "connecting" ? "open" : s)));
    return () => stop.abort();
  }, [props.s]);
  if (listed.data === undefined && !listed.loading && !listed.error) return <Empty>{t("alerts.notHere")}</Empty>;
  // The stream may repeat alerts the list already has: one line per alert id.
  const seen = new Set<string>();
  const all = [...live, ...(listed.data?.alerts ?? [])].filter((a) => {
    const id = String(a.id ?? a.key ?? JSON.stringify(a));
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
  return (
    <>
      <p class="note" role="status">{t(`alerts.stream.${status}`)}</p>
      <Show loaded={listed}>
        {() =>
          all.length === 0 ? (
            <Empty>{t("alerts.none")}</Empty>
          ) : (
            <ul class="alerts">
              {all.map((a) => (
                <li data-testid="alert">
                  {a.severity ? <span class={`tag ${a.severity === "critical" || a.severity === "error" ? "bad" : "warn"}`}>{String(a.severity)}</span> : null}{" "}
                  <strong>{String(a.rule ?? a.kind ?? "")}</strong> {String(a.message ?? "")}{" "}
                  <span class="muted">{typeof (a.raisedAt ?? a.time) === "number" ? time((a.raisedAt ?? a.time) as number, lang) : ""}</span>
                </li>
              ))}
            </ul>
          )
        }
      </Show>
    </>
  );
}

function AssessmentBody(props: { s: Session }) {
  const t = useT();
  const { query } = useLocation();
  const period = query.get("period") ?? currentQuarter();
  const [value, setValue] = useState(period);
  const loaded = useLoad(() => api.optional(api.get<Json>(props.s, `/v1/audit/assessments?period=${encodeURIComponent(period)}`)), [props.s, period]);
  let body: ComponentChildren;
  if (loaded.error) body = <ErrorState error={loaded.error} retry={loaded.reload} />;
  else if (!loaded.loading && loaded.data === undefined) body = <Empty>{t("assessment.notHere")}</Empty>;
  else body = <Show loaded={loaded}>{(d) => <AssessmentTable data={d as Json} />}</Show>;
  return (
    <>
      <Panel title={t("assessment.title", { period })} wide note={t("assessment.rules")}>
        <form class="inline-form" onSubmit={(e) => { e.preventDefault(); navigate(href("assessment", { period: value })); }}>
          <div class="field">
            <label for="period">{t("assessment.period")}</label>
            <input id="period" value={value} pattern="[0-9]{4}Q[1-4]" onInput={(e) => setValue((e.target as HTMLInputElement).value)} />
          </div>
          <button type="submit">{t("assessment.show")}</button>
        </form>
        {body}
      </Panel>
      <Panel title={t("alerts.title")} wide>
        <LiveAlerts s={props.s} />
      </Panel>
    </>
  );
}

export function AssessmentPage() {
  const t = useT();
  return (
    <Page title={t("nav.assessment")} intro={t("assessment.intro")}>
      <Signed need={["regulator"]}>{(s) => <AssessmentBody s={s} />}</Signed>
    </Page>
  );
}
