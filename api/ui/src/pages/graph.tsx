/** Circulation graph: departments as nodes, agreements as edges weighted by the records moved under them; an edge opens its trail. */
import { useMemo } from "preact/hooks";
import { Chart, PALETTE, type ChartOption } from "../chart";
import * as api from "../data";
import type { Agreement } from "../data";
import { count } from "../format";
import { useLang, useT, type Key } from "../i18n";
import { departmentName, purposeName, resourceName } from "../names";
import { href, navigate } from "../router";
import type { Session } from "../session";
import { Dept, Empty, Page, Panel, Show, Signed, useLoad } from "../ui";

const LEVEL_COLOUR: Record<string, string> = { national: PALETTE[3], city: PALETTE[0], district: PALETTE[2], town: PALETTE[4], village: PALETTE[5] };

function GraphBody(props: { s: Session }) {
  const t = useT();
  const lang = useLang();
  const loaded = useLoad(async () => ({ agreements: await api.agreements(props.s), departments: await api.departments(props.s) }), [props.s]);
  const option = useMemo<ChartOption | undefined>(() => {
    if (!loaded.data) return undefined;
    const { agreements, departments } = loaded.data;
    // Providers on the left, consumers on the right (both: in the middle), so every arrow reads left to right.
    const provides = new Set(agreements.map((a) => a.provider));
    const consumes = new Set(agreements.map((a) => a.consumer));
    const ids = [...new Set(agreements.flatMap((a) => [a.provider, a.consumer]))];
    const column = (id: string) => (provides.has(id) && consumes.has(id) ? 1 : provides.has(id) ? 0 : 2);
    const max = Math.max(1, ...agreements.map((a) => Number(a.usage)));
    const byColumn = [0, 1, 2].map((c) => ids.filter((id) => column(id) === c));
    const level = new Map(departments.map((d) => [d.id, d.level]));
    return {
      tooltip: { formatter: (p: { dataType: string; data: { name?: string; tip?: string } }) => (p.dataType === "edge" ? p.data.tip : p.data.name) },
      series: [{
        type: "graph", layout: "none", roam: false, top: 40, bottom: 40, left: 200, right: 240,
        edgeSymbol: ["none", "arrow"], edgeSymbolSize: 12,
        label: { show: true, color: "#111827", fontSize: 13 },
        lineStyle: { color: "#1d4ed8", opacity: 0.75, curveness: 0.08 },
        emphasis: { focus: "adjacency", lineStyle: { width: 10 } },
        data: byColumn.flatMap((col, c) => col.map((id, i) => ({
          id, name: departmentName(id, lang), symbolSize: 30, x: c * 100, y: ((i + 1) * 100) / (col.length + 1),
          label: { position: c === 2 ? "right" : c === 0 ? "left" : "top" },
          itemStyle: { color: LEVEL_COLOUR[level.get(id) ?? "city"] ?? PALETTE[0] },
        }))),
        links: agreements.map((a) => ({
          source: a.provider, target: a.consumer, agreementId: a.id,
          tip: `${resourceName(a.resource, lang)}: ${count(a.usage, lang)} ${t("records")} (${t(`status.${a.status}` as Key)})`,
          lineStyle: { width: 2 + 10 * Math.sqrt(Number(a.usage) / max), type: a.status === "active" ? "solid" : "dashed" },
          label: { show: true, formatter: `${count(a.usage, lang)} ${t("records")}`, fontSize: 12, color: "#111827", backgroundColor: "#ffffff", padding: [1, 4] },
        })),
      }],
    };
  }, [loaded.data, lang]);
  const regulator = props.s.roles.includes("regulator");
  const open = (a: { agreementId?: string }) => a.agreementId && navigate(regulator ? href("trail", { agreement: a.agreementId }) : href(`agreements/${a.agreementId}`));

  return (
    <Show loaded={loaded}>
      {({ agreements }) =>
        agreements.length === 0 ? (
          <Empty>{t("graph.empty")}</Empty>
        ) : (
          <>
            <Panel title={t("graph.title")} wide note={t(regulator ? "graph.hint" : "graph.hintParty")}>
              <Chart option={option!} height={480} label={t("graph.label", { n: agreements.length })} testId="graph"
                onClick={(p) => p.dataType === "edge" && open(p.data as { agreementId?: string })} />
              <p class="legend-levels">
                {Object.entries(LEVEL_COLOUR).slice(0, 3).map(([level, colour]) => (
                  <span><span class="dot" style={{ background: colour }} aria-hidden="true" /> {t(`level.${level}` as Key)}</span>
                ))}
                <span>{t("graph.dashed")}</span>
              </p>
            </Panel>
            <Panel title={t("graph.edges")} wide>
              <table>
                <thead>
                  <tr>
                    <th scope="col">{t("provider")}</th><th scope="col">{t("consumer")}</th><th scope="col">{t("resource")}</th><th scope="col">{t("purpose")}</th>
                    <th scope="col" class="num">{t("recordsMoved")}</th><th scope="col">{t("status")}</th><th scope="col"><span class="sr-only">{t("actions")}</span></th>
                  </tr>
                </thead>
                <tbody>
                  {agreements.map((a: Agreement) => (
                    <tr>
                      <td><Dept id={a.provider} /></td><td><Dept id={a.consumer} /></td><td>{resourceName(a.resource, lang)}</td><td>{purposeName(a.purposeHash, lang)}</td>
                      <td class="num">{count(a.usage, lang)}</td><td><span class={`tag ${a.status}`}>{t(`status.${a.status}` as Key)}</span></td>
                      <td class="actions">
                        {regulator && <a href={href("trail", { agreement: a.id })}>{t("openTrail")}</a>}
                        <a href={href(`agreements/${a.id}`)}>{t("openAgreement")}</a>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </Panel>
          </>
        )
      }
    </Show>
  );
}

export function GraphPage() {
  const t = useT();
  return (
    <Page title={t("nav.graph")} intro={t("graph.intro")}>
      <Signed>{(s) => <GraphBody s={s} />}</Signed>
    </Page>
  );
}
