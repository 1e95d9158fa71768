/** Overview: departments by level, active agreements with their quota, calls over time, anchoring, alerts. */
import { useMemo } from "preact/hooks";
import { Chart, type ChartOption } from "../chart";
import * as api from "../data";
import type { Activity, Agreement, Department } from "../data";
import { clock, count, duration, percent, time } from "../format";
import { useLang, useT, type Key, type Lang } from "../i18n";
import { departmentName, purposeName, resourceName } from "../names";
import { href, navigate, useLocation } from "../router";
import type { Session } from "../session";
import { Dept, Empty, ErrorState, Figure, Loading, Page, Panel, Show, Signed, useLoad } from "../ui";

const LEVELS: Department["level"][] = ["national", "city", "district", "town", "village"];

/** The window picker shared by the charts. */
export function WindowPicker(props: { value: string; onChange: (w: string) => void }) {
  const t = useT();
  return (
    <label class="inline-field">
      <span>{t("window")}</span>
      <select value={props.value} onChange={(e) => props.onChange((e.target as HTMLSelectElement).value)}>
        {["all", "1h", "24h", "7d"].map((w) => <option value={w}>{t(`window.${w}` as Key)}</option>)}
      </select>
    </label>
  );
}

/** Calls served and refused per department, as stacked bars. */
export function activityOption(a: Activity, lang: Lang, t: (k: Key) => string, which: "served" | "refused"): ChartOption {
  const withDate = a.to - a.from > 86400;
  const rows = a.departments.filter((d) => d[which].some((n) => n > 0));
  return {
    aria: { enabled: true },
    tooltip: { trigger: "axis" },
    legend: { bottom: 0, itemGap: 16, textStyle: { color: "#111827" } },
    grid: { left: 48, right: 16, top: 12, bottom: 64 },
    xAxis: { type: "category", data: a.bucketStarts.map((s) => clock(s, lang, withDate)), axisLabel: { color: "#374151" } },
    yAxis: { type: "value", minInterval: 1, axisLabel: { color: "#374151" } },
    series: rows.map((d) => ({ type: "bar", stack: which, name: departmentName(d.department, lang), data: d[which] })),
  };
}

function QuotaGauge(props: { a: Agreement }) {
  const lang = useLang();
  const t = useT();
  const used = Number(props.a.usage);
  const quota = Number(props.a.quota);
  const share = quota > 0 ? Math.min(100, (100 * used) / quota) : 0;
  const tone = share >= 100 ? "#b91c1c" : share >= 80 ? "#b45309" : "#1d4ed8";
  const option = useMemo<ChartOption>(() => ({
    series: [{
      type: "gauge", startAngle: 200, endAngle: -20, min: 0, max: 100, radius: "100%", center: ["50%", "62%"],
      progress: { show: true, width: 12, itemStyle: { color: tone } }, axisLine: { lineStyle: { width: 12, color: [[1, "#e5e7eb"]] } },
      pointer: { show: false }, axisTick: { show: false }, splitLine: { show: false }, axisLabel: { show: false }, anchor: { show: false },
      title: { show: false }, detail: { valueAnimation: false, offsetCenter: [0, "5%"], fontSize: 18, color: "#111827", formatter: (v: number) => `${v.toFixed(v < 10 ? 1 : 0)}%` },
      data: [{ value: share }],
    }],
  }), [share, tone]);
  return (
    <li class="gauge-card">
      <Chart option={option} height={120} label={t("quota.label").replace("{used}", count(used, lang)).replace("{quota}", count(quota, lang)).replace("{pct}", percent(used, quota))} />
      <div class="gauge-text">
        <a href={href(`agreements/${props.a.id}`)}>{resourceName(props.a.resource, lang)}</a>
        <div class="muted">
          <Dept id={props.a.provider} /> → <Dept id={props.a.consumer} />
        </div>
        <div class="muted">{purposeName(props.a.purposeHash, lang)}</div>
        <div>{t("quota.used")}: {count(used, lang)} / {count(quota, lang)} {t("records")}</div>
      </div>
    </li>
  );
}

function Anchoring() {
  const t = useT();
  const lang = useLang();
  const cp = useLoad(api.checkpoint, []);
  return (
    <Panel title={t("anchoring.title")}>
      <Show loaded={cp}>
        {(c) => {
          const lag = c.treeSize - (c.anchored?.treeSize ?? 0);
          const age = c.anchored ? Math.floor(Date.now() / 1000) - c.anchored.timestamp : undefined;
          return (
            <>
              <div class="figures">
                <Figure label={t("anchoring.size")} value={count(c.treeSize, lang)} />
                <Figure label={t("anchoring.anchored")} value={c.anchored ? count(c.anchored.treeSize, lang) : "—"} />
                <Figure label={t("anchoring.lag")} value={count(lag, lang)} tone={lag === 0 ? "ok" : "warn"} hint={lag === 0 ? t("anchoring.upToDate") : t("anchoring.waiting")} />
                <Figure label={t("anchoring.age")} value={age === undefined ? "—" : duration(age, lang)} />
              </div>
              {c.anchored ? (
                <p class="note">{t("anchoring.last", { block: c.anchored.block, time: time(c.anchored.timestamp, lang) })} <a href={href("log")}>{t("anchoring.check")}</a></p>
              ) : (
                <Empty>{t("anchoring.none")}</Empty>
              )}
            </>
          );
        }}
      </Show>
    </Panel>
  );
}

function Alerts(props: { s: Session }) {
  const t = useT();
  const lang = useLang();
  const alerts = useLoad(() => api.optional(api.get<{ alerts: { id?: string; rule?: string; message?: string; raisedAt?: number; time?: number; acknowledged?: boolean }[] }>(props.s, "/v1/alerts")), [props.s]);
  return (
    <Panel title={t("alerts.title")}>
      {alerts.error ? (
        (alerts.error as { code?: string }).code === "FORBIDDEN_ROLE" ? <Empty>{t("alerts.regulatorOnly")}</Empty> : <ErrorState error={alerts.error} retry={alerts.reload} />
      ) : alerts.loading && !alerts.data ? (
        <Loading />
      ) : alerts.data === undefined ? (
        <Empty>{t("alerts.notHere")}</Empty>
      ) : (
        (() => {
          const open = (alerts.data.alerts ?? []).filter((a) => !a.acknowledged);
          return open.length === 0 ? (
            <Empty>{t("alerts.none")}</Empty>
          ) : (
            <ul class="alerts">
              {open.map((a) => (
                <li><strong>{a.rule}</strong> {a.message} <span class="muted">{time(a.raisedAt ?? a.time ?? 0, lang)}</span></li>
              ))}
              <li><a href={href("assessment")}>{t("alerts.all")}</a></li>
            </ul>
          );
        })()
      )}
    </Panel>
  );
}

function OverviewBody(props: { s: Session }) {
  const t = useT();
  const lang = useLang();
  const { query } = useLocation();
  const window = query.get("window") ?? "all";
  const depts = useLoad(() => api.departments(props.s), [props.s]);
  const agrs = useLoad(() => api.agreements(props.s), [props.s]);
  const act = useLoad(() => api.activity(props.s, window), [props.s, window]);
  const setWindow = (w: string) => navigate(href("overview", { window: w === "all" ? undefined : w }), true);
  const served = useMemo(() => (act.data ? activityOption(act.data, lang, t, "served") : undefined), [act.data, lang]);
  const refused = useMemo(() => (act.data ? activityOption(act.data, lang, t, "refused") : undefined), [act.data, lang]);
  const totals = act.data?.departments.reduce((s, d) => ({ served: s.served + d.served.reduce((a, b) => a + b, 0), refused: s.refused + d.refused.reduce((a, b) => a + b, 0) }), { served: 0, refused: 0 });

  return (
    <div class="grid">
      <Panel title={t("overview.figures")} wide>
        <div class="figures">
          <Figure label={t("overview.departments")} value={depts.data ? count(depts.data.length, lang) : "…"} />
          <Figure label={t("overview.activeAgreements")} value={agrs.data ? count(agrs.data.filter((a) => a.status === "active").length, lang) : "…"} />
          <Figure label={t("calls.served")} value={totals ? count(totals.served, lang) : "…"} tone="ok" />
          <Figure label={t("calls.refused")} value={totals ? count(totals.refused, lang) : "…"} tone={totals && totals.refused > 0 ? "bad" : undefined} hint={totals ? percent(totals.refused, totals.served + totals.refused) : undefined} />
        </div>
      </Panel>
      <Panel title={t("overview.activity")} wide note={act.data && act.data.entries === 0 ? undefined : t("overview.activityNote")}>
        <WindowPicker value={window} onChange={setWindow} />
        <Show loaded={act}>
          {(a) =>
            a.entries === 0 ? (
              <Empty>{t("overview.noCalls")}</Empty>
            ) : (
              <div class="two">
                <div>
                  <h3>{t("calls.served")}</h3>
                  <Chart option={served!} label={t("chart.served", { n: totals!.served })} testId="chart-served" />
                </div>
                <div>
                  <h3>{t("calls.refused")}</h3>
                  <Chart option={refused!} label={t("chart.refused", { n: totals!.refused })} testId="chart-refused" />
                </div>
              </div>
            )
          }
        </Show>
        {act.data && act.data.entries > 0 && (
          <details>
            <summary>{t("showTable")}</summary>
            <table>
              <caption class="sr-only">{t("overview.activity")}</caption>
              <thead><tr><th scope="col">{t("department")}</th><th scope="col">{t("calls.served")}</th><th scope="col">{t("calls.refused")}</th><th scope="col">{t("calls.provided")}</th></tr></thead>
              <tbody>
                {act.data.departments.map((d) => (
                  <tr><th scope="row"><Dept id={d.department} /></th><td>{count(d.served.reduce((a, b) => a + b, 0), lang)}</td><td>{count(d.refused.reduce((a, b) => a + b, 0), lang)}</td><td>{count(d.provided.reduce((a, b) => a + b, 0), lang)}</td></tr>
                ))}
              </tbody>
            </table>
          </details>
        )}
      </Panel>
      <Panel title={t("overview.agreements")} wide>
        <Show loaded={agrs}>
          {(list) => {
            const active = list.filter((a) => a.status === "active");
            return active.length === 0 ? (
              <Empty>{t("overview.noAgreements")}</Empty>
            ) : (
              <ul class="gauges">{active.map((a) => <QuotaGauge a={a} />)}</ul>
            );
          }}
        </Show>
      </Panel>
      <Anchoring />
      <Alerts s={props.s} />
      <Panel title={t("overview.byLevel")} wide>
        <Show loaded={depts}>
          {(list) =>
            list.length === 0 ? (
              <Empty>{t("overview.noDepartments")}</Empty>
            ) : (
              <div class="levels">
                {LEVELS.map((level) => {
                  const here = list.filter((d) => d.level === level);
                  return (
                    <div class="level">
                      <h3>{t(`level.${level}` as Key)} <span class="count">{here.length}</span></h3>
                      {here.length === 0 ? (
                        <p class="muted">{t("none")}</p>
                      ) : (
                        <ul>
                          {here.map((d) => (
                            <li>
                              <Dept id={d.id} /> {!d.active && <span class="tag bad">{t("inactive")}</span>}
                              <span class="muted"> · {t("keys", { n: d.signers.length })}</span>
                            </li>
                          ))}
                        </ul>
                      )}
                    </div>
                  );
                })}
              </div>
            )
          }
        </Show>
      </Panel>
    </div>
  );
}

export function Overview() {
  const t = useT();
  return (
    <Page title={t("nav.overview")} intro={t("overview.intro")}>
      <Signed>{(s) => <OverviewBody s={s} />}</Signed>
    </Page>
  );
}
