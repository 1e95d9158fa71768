/** Consents of one data subject, by commitment: grants, scope, validity timeline, revocation, erasure. */
import { useMemo, useState } from "preact/hooks";
import { ApiError } from "../api";
import { Chart, type ChartOption } from "../chart";
import * as api from "../data";
import type { Consent } from "../data";
import { clock, time } from "../format";
import { useLang, useT } from "../i18n";
import { departmentName, purposeName, resourceName } from "../names";
import { href, navigate, useLocation } from "../router";
import type { Session } from "../session";
import { Dept, Empty, Hash, Page, Panel, Resource, Show, Signed, useLoad } from "../ui";

interface Erasure {
  commitment: string;
  erasedAt: number;
  requestedBy: string;
}

function Timeline(props: { consents: Consent[] }) {
  const t = useT();
  const lang = useLang();
  const option = useMemo<ChartOption>(() => {
    const now = Math.floor(Date.now() / 1000);
    const rows = props.consents.map((c, i) => ({
      i, name: `${departmentName(c.grantee, lang)} · ${purposeName(c.purposeHash, lang)}`,
      start: c.grantedAt, end: c.revokedAt ? Math.min(c.revokedAt, c.validUntil) : c.validUntil, revoked: c.revokedAt > 0,
    }));
    const min = Math.min(...rows.map((r) => r.start));
    const max = Math.max(now, ...rows.map((r) => r.end));
    return {
      tooltip: { formatter: (p: { data: number[] }) => `${time(p.data[1], lang)} → ${time(p.data[2], lang)}` },
      grid: { left: 16, right: 24, top: 16, bottom: 32, containLabel: true },
      xAxis: { type: "value", min, max, axisLabel: { color: "#374151", formatter: (v: number) => clock(v, lang, true) } },
      yAxis: { type: "category", data: rows.map((r) => r.name), axisLabel: { color: "#111827", width: 260, overflow: "truncate" } },
      series: [{
        type: "custom",
        renderItem: (_params: unknown, api: { value: (i: number) => number; coord: (v: number[]) => number[]; size: (v: number[]) => number[] }) => {
          const [x0, y] = api.coord([api.value(1), api.value(0)]);
          const [x1] = api.coord([api.value(2), api.value(0)]);
          const h = api.size([0, 1])[1] * 0.5;
          return { type: "rect", shape: { x: x0, y: y - h / 2, width: Math.max(2, x1 - x0), height: h }, style: { fill: api.value(3) ? "#b91c1c" : "#047857" } };
        },
        encode: { x: [1, 2], y: 0 },
        data: rows.map((r) => [r.i, r.start, r.end, r.revoked ? 1 : 0]),
      }],
    };
  }, [props.consents, lang]);
  return <Chart option={option} height={80 + 40 * props.consents.length} label={t("consents.timelineLabel", { n: props.consents.length })} testId="consent-timeline" />;
}

function ConsentsBody(props: { s: Session; subject: string }) {
  const t = useT();
  const lang = useLang();
  const loaded = useLoad(async () => {
    const { consents } = await api.get<{ consents: Consent[] }>(props.s, `/v1/consents?subject=${props.subject}`);
    const erasure = await api.get<Erasure>(props.s, `/v1/subjects/erasures/${props.subject}`).catch((err) => {
      if (err instanceof ApiError && err.code === "NOT_FOUND") return undefined;
      throw err;
    });
    return { consents, erasure };
  }, [props.s, props.subject]);
  const now = Math.floor(Date.now() / 1000);
  return (
    <Show loaded={loaded}>
      {({ consents, erasure }) => (
        <>
          {erasure && (
            <div class="state error" role="note">
              <p class="state-what">{t("consents.erased", { time: time(erasure.erasedAt, lang) })}</p>
              <p>{t("consents.erasedNote")} <Dept id={erasure.requestedBy} /></p>
            </div>
          )}
          {consents.length === 0 ? (
            <Empty>{t("consents.none")}</Empty>
          ) : (
            <>
              <Panel title={t("consents.timeline")} wide note={t("consents.timelineNote")}>
                <Timeline consents={consents} />
              </Panel>
              <Panel title={t("consents.list", { n: consents.length })} wide>
                <div class="scroll">
                  <table>
                    <thead>
                      <tr>
                        <th scope="col">{t("consents.grantee")}</th><th scope="col">{t("resource")}</th><th scope="col">{t("purpose")}</th><th scope="col">{t("consents.kind")}</th>
                        <th scope="col">{t("consents.granted")}</th><th scope="col">{t("consents.until")}</th><th scope="col">{t("consents.state")}</th><th scope="col">{t("consents.recorder")}</th>
                      </tr>
                    </thead>
                    <tbody>
                      {consents.map((c) => {
                        const state = c.revokedAt ? "revoked" : c.validUntil <= now ? "expired" : "valid";
                        return (
                          <tr>
                            <td><Dept id={c.grantee} /></td><td><Resource id={c.resource} /></td><td>{purposeName(c.purposeHash, lang)}</td>
                            <td>{t(c.kind === 1 ? "consents.explicit" : "consents.separate")}</td>
                            <td>{time(c.grantedAt, lang)} <Hash value={c.grantTx} /></td><td>{time(c.validUntil, lang)}</td>
                            <td>
                              <span class={`tag ${state === "valid" ? "active" : "revoked"}`}>{t(`consents.${state}`)}</span>
                              {c.revokedAt > 0 && <span class="muted"> {time(c.revokedAt, lang)}{c.revokedAt && c.subjectSigner !== "0x0000000000000000000000000000000000000000" ? "" : ""}</span>}
                            </td>
                            <td><Dept id={c.recorder} />{c.subjectSigner !== "0x0000000000000000000000000000000000000000" && <span class="muted"> · {t("consents.subjectSigned")}</span>}</td>
                          </tr>
                        );
                      })}
                    </tbody>
                  </table>
                </div>
                <p class="note">{t("consents.resourceNote", { name: resourceName(consents[0].resource, lang) })}</p>
              </Panel>
            </>
          )}
          {props.s.roles.includes("regulator") && <p><a class="button" href={href("trail", { subject: props.subject })}>{t("consents.trail")}</a></p>}
        </>
      )}
    </Show>
  );
}

export function ConsentsPage() {
  const t = useT();
  const { query } = useLocation();
  const subject = query.get("subject") ?? "";
  const [value, setValue] = useState(subject);
  const valid = /^0x[0-9a-fA-F]{64}$/.test(subject);
  return (
    <Page title={t("nav.consents")} intro={t("consents.intro")}>
      <form class="inline-form" onSubmit={(e) => { e.preventDefault(); navigate(href("consents", { subject: value.trim().toLowerCase() })); }}>
        <div class="field grow">
          <label for="subject">{t("consents.commitment")}</label>
          <input id="subject" value={value} onInput={(e) => setValue((e.target as HTMLInputElement).value)} placeholder="0x…" pattern="0x[0-9a-fA-F]{64}" required spellcheck={false} aria-describedby="subject-note" />
          <p class="note" id="subject-note">{t("consents.commitmentNote")}</p>
        </div>
        <button type="submit" class="primary">{t("consents.show")}</button>
      </form>
      {subject && !valid && <Empty>{t("consents.badCommitment")}</Empty>}
      {valid && <Signed>{(s) => <ConsentsBody s={s} subject={subject.toLowerCase()} />}</Signed>}
    </Page>
  );
}
