/** Agreements: the list, and one agreement's terms, co-signers, usage against its quota over time, and the regulator's suspend / resume. */
import { useMemo, useState } from "preact/hooks";
import { Chart, type ChartOption } from "../chart";
import * as api from "../data";
import type { Agreement } from "../data";
import { clock, count, percent, time } from "../format";
import { useLang, useT, type Key } from "../i18n";
import { purposeName, resourceName } from "../names";
import { href, useLocation } from "../router";
import type { Session, TypedData } from "../session";
import { Dept, Empty, ErrorState, Figure, Hash, Page, Panel, Show, Signed, useLoad } from "../ui";
import { WindowPicker } from "./overview";
import { navigate } from "../router";

function UsageBar(props: { used: string; quota: string }) {
  const lang = useLang();
  const used = Number(props.used);
  const quota = Number(props.quota);
  const pct = quota > 0 ? Math.min(100, (100 * used) / quota) : 0;
  return (
    <span class="usage">
      <span class="bar" aria-hidden="true"><span class={pct >= 100 ? "fill bad" : pct >= 80 ? "fill warn" : "fill"} style={{ width: `${pct}%` }} /></span>
      <span>{count(used, lang)} / {count(quota, lang)} ({percent(used, quota)})</span>
    </span>
  );
}

export function AgreementsPage() {
  const t = useT();
  return (
    <Page title={t("nav.agreements")} intro={t("agreements.intro")}>
      <Signed>{(s) => <AgreementList s={s} />}</Signed>
    </Page>
  );
}

function AgreementList(props: { s: Session }) {
  const t = useT();
  const lang = useLang();
  const list = useLoad(() => api.agreements(props.s), [props.s]);
  return (
          <Show loaded={list}>
            {(list) =>
              list.length === 0 ? (
                <Empty>{t("overview.noAgreements")}</Empty>
              ) : (
                <Panel title={t("agreements.all", { n: list.length })} wide>
                  <table>
                    <thead>
                      <tr><th scope="col">{t("resource")}</th><th scope="col">{t("provider")}</th><th scope="col">{t("consumer")}</th><th scope="col">{t("purpose")}</th><th scope="col">{t("quota.used")}</th><th scope="col">{t("status")}</th></tr>
                    </thead>
                    <tbody>
                      {list.map((a) => (
                        <tr>
                          <td><a href={href(`agreements/${a.id}`)}>{resourceName(a.resource, lang)}</a></td>
                          <td><Dept id={a.provider} /></td><td><Dept id={a.consumer} /></td><td>{purposeName(a.purposeHash, lang)}</td>
                          <td><UsageBar used={a.usage} quota={a.quota} /></td>
                          <td><span class={`tag ${a.status}`}>{t(`status.${a.status}` as Key)}</span></td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </Panel>
              )
            }
          </Show>
  );
}

interface AgreementView {
  id: string;
  onChain?: Agreement;
  draft?: { terms?: Record<string, string>; signatures?: Record<string, { signer: string; signature: string }> };
  usage: string;
  typedData: Record<string, TypedData>;
}

/** Suspend (with a reason) or resume: the regulator's key signs the typed data the API gives, here in the page. */
function StatusChange(props: { s: Session; a: Agreement; done: () => void }) {
  const t = useT();
  const [reason, setReason] = useState("");
  const [state, setState] = useState<{ busy?: boolean; error?: unknown; ok?: string }>({});
  if (!props.s.roles.includes("regulator")) return <p class="note">{t("agreement.regulatorOnly")}</p>;
  if (props.a.status === "revoked") return <p class="note">{t("agreement.revokedNote")}</p>;
  const suspend = props.a.status === "active";
  const act = async (e: Event) => {
    e.preventDefault();
    setState({ busy: true });
    try {
      const path = `/v1/agreements/${props.a.id}`;
      const view = await api.get<AgreementView>(props.s, suspend ? `${path}?reason=${encodeURIComponent(reason)}` : path);
      const td = view.typedData[suspend ? "suspension" : "resumption"];
      const signature = await props.s.signTypedData(td);
      const r = await api.post<{ status: string }>(props.s, `${path}/${suspend ? "suspend" : "resume"}`, suspend ? { signature, reason } : { signature });
      setState({ ok: r.status });
      setReason("");
      props.done();
    } catch (error) {
      setState({ error });
    }
  };
  return (
    <form class="status-change" onSubmit={act}>
      {suspend && (
        <div class="field">
          <label for="suspend-reason">{t("agreement.reason")}</label>
          <input id="suspend-reason" value={reason} required maxLength={500} onInput={(e) => setReason((e.target as HTMLInputElement).value)} aria-describedby="suspend-note" />
          <p class="note" id="suspend-note">{t("agreement.reasonNote")}</p>
        </div>
      )}
      <button type="submit" class={suspend ? "danger" : "primary"} disabled={state.busy}>
        {state.busy ? t("agreement.signing") : t(suspend ? "agreement.suspend" : "agreement.resume")}
      </button>
      {state.ok && <p role="status" class="note">{t("agreement.nowStatus", { status: t(`status.${state.ok}` as Key) })}</p>}
      {state.error !== undefined && <ErrorState error={state.error} />}
    </form>
  );
}

function AgreementBody(props: { s: Session; id: string }) {
  const t = useT();
  const lang = useLang();
  const { query } = useLocation();
  const window = query.get("window") ?? "all";
  const view = useLoad(() => api.get<AgreementView>(props.s, `/v1/agreements/${props.id}`), [props.s, props.id]);
  const act = useLoad(() => api.activity(props.s, window, 40), [props.s, window]);
  const option = useMemo<ChartOption | undefined>(() => {
    const a = act.data;
    const quota = Number(view.data?.onChain?.quota ?? 0);
    if (!a || !view.data) return undefined;
    const series = a.agreements.find((x) => x.agreementId === props.id)?.records ?? a.bucketStarts.map(() => 0);
    let total = 0;
    const cumulative = series.map((n) => (total += n));
    const withDate = a.to - a.from > 86400;
    return {
      aria: { enabled: true },
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 64, right: 24, top: 36, bottom: 28 },
      xAxis: { type: "category", data: a.bucketStarts.map((s) => clock(s, lang, withDate)), axisLabel: { color: "#374151" } },
      // The quota line is drawn when use comes near it; far below, it would flatten the bars to nothing.
      yAxis: { type: "value", minInterval: 1, axisLabel: { color: "#374151" }, max: total >= quota / 2 ? (v: { max: number }) => Math.max(v.max, quota) : undefined },
      series: [
        { type: "bar", name: t("agreement.perBucket"), data: series },
        { type: "line", name: t("agreement.cumulative"), data: cumulative, step: "end", showSymbol: false, markLine: quota && total >= quota / 2 ? { symbol: "none", label: { formatter: t("agreement.quotaLine") }, lineStyle: { color: "#b91c1c", type: "dashed" }, data: [{ yAxis: quota }] } : undefined },
      ],
    };
  }, [act.data, view.data, lang]);

  return (
    <Show loaded={view}>
      {(v) => {
        const a = v.onChain;
        if (!a) return <Empty>{t("agreement.notOnChain")}</Empty>;
        return (
          <div class="grid">
            <Panel title={t("agreement.terms")} wide>
              <div class="figures">
                <Figure label={t("status")} value={<span class={`tag big ${a.status}`}>{t(`status.${a.status}` as Key)}</span>} />
                <Figure label={t("quota.used")} value={percent(Number(v.usage), Number(a.quota))} hint={`${count(v.usage, lang)} / ${count(a.quota, lang)} ${t("records")}`} tone={a.quotaExceeded ? "bad" : undefined} />
                <Figure label={t("agreement.window")} value={`${time(a.validFrom, lang)} → ${time(a.validUntil, lang)}`} />
              </div>
              <dl class="facts">
                <dt>{t("agreement")}</dt><dd><Hash value={a.id} keep={12} /></dd>
                <dt>{t("provider")}</dt><dd><Dept id={a.provider} /></dd>
                <dt>{t("consumer")}</dt><dd><Dept id={a.consumer} /></dd>
                <dt>{t("resource")}</dt><dd>{resourceName(a.resource, lang)}</dd>
                <dt>{t("purpose")}</dt><dd>{purposeName(a.purposeHash, lang)} <Hash value={a.purposeHash} /></dd>
                <dt>{t("agreement.cosigners")}</dt>
                <dd>
                  <Dept id={a.provider} />: <Hash value={a.providerSigner} /> · <Dept id={a.consumer} />: <Hash value={a.consumerSigner} />
                </dd>
                <dt>{t("agreement.activated")}</dt><dd>{t("agreement.block", { block: a.activatedAt.block })} <Hash value={a.activatedAt.tx} /></dd>
                <dt>{t("agreement.reported")}</dt><dd>{count(a.used, lang)} {t("records")}</dd>
                <dt>{t("agreement.changes")}</dt><dd>{a.statusChanges}</dd>
              </dl>
              <p class="actions-row">
                {props.s.roles.includes("regulator") && <a class="button" href={href("trail", { agreement: a.id })}>{t("openTrail")}</a>}
              </p>
            </Panel>
            <Panel title={t("agreement.usage")} wide>
              <WindowPicker value={window} onChange={(w) => navigate(href(`agreements/${props.id}`, { window: w === "all" ? undefined : w }), true)} />
              <Show loaded={act}>
                {() => <Chart option={option!} label={t("agreement.usageLabel", { used: count(v.usage, lang), quota: count(a.quota, lang) })} testId="usage-chart" />}
              </Show>
            </Panel>
            <Panel title={t("agreement.regulator")} wide>
              <StatusChange s={props.s} a={a} done={view.reload} />
            </Panel>
          </div>
        );
      }}
    </Show>
  );
}

export function AgreementPage(props: { id: string }) {
  const t = useT();
  return (
    <Page title={t("agreement.title")} intro={t("agreement.intro")}>
      <Signed>{(s) => (/^0x[0-9a-fA-F]{64}$/.test(props.id) ? <AgreementBody s={s} id={props.id.toLowerCase()} /> : <Empty>{t("agreement.badId")}</Empty>)}</Signed>
    </Page>
  );
}
