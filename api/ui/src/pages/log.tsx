/** The log, public: its latest signed checkpoint, the one anchored on chain, the consistency between them, and any entry's inclusion proof — each checked here. */
import { useState } from "preact/hooks";
import { publicGet } from "../api";
import { count, duration, time } from "../format";
import { useLang, useT, type Key } from "../i18n";
import { fromHex, verifyInclusion } from "../../../../node/verify";
import { checkLog } from "../proofs";
import { Empty, ErrorState, Figure, Hash, Mark, Page, Panel, Show, useLoad } from "../ui";

function InclusionLookup(props: { size: number }) {
  const t = useT();
  const [index, setIndex] = useState("");
  const [result, setResult] = useState<{ ok: boolean; detail: string; leafHash?: string } | { error: unknown }>();
  const check = async (e: Event) => {
    e.preventDefault();
    try {
      const p = await publicGet<{ index: number; treeSize: number; leafHash: string; root: string; proof: string[] }>(`/v1/log/proofs/inclusion?index=${Number(index)}`);
      try {
        verifyInclusion(p.index, p.treeSize, fromHex(p.leafHash), p.proof.map(fromHex), fromHex(p.root));
        setResult({ ok: true, detail: t("log.included", { index: p.index, size: p.treeSize, n: p.proof.length }), leafHash: p.leafHash });
      } catch (err) {
        setResult({ ok: false, detail: (err as Error).message });
      }
    } catch (error) {
      setResult({ error });
    }
  };
  return (
    <>
      <form class="inline-form" onSubmit={check}>
        <div class="field">
          <label for="entry-index">{t("log.index")}</label>
          <input id="entry-index" type="number" min={0} max={Math.max(0, props.size - 1)} value={index} required onInput={(e) => setIndex((e.target as HTMLInputElement).value)} />
        </div>
        <button type="submit">{t("log.check")}</button>
      </form>
      {result && "error" in result && <ErrorState error={result.error} />}
      {result && "ok" in result && (
        <p class={`check-line ${result.ok ? "ok" : "bad"}`} role="status"><Mark ok={result.ok} /> {result.detail} {result.leafHash && <Hash value={result.leafHash} />}</p>
      )}
    </>
  );
}

export function LogPage() {
  const t = useT();
  const lang = useLang();
  const loaded = useLoad(checkLog, []);
  return (
    <Page title={t("nav.log")} intro={t("log.intro")}>
      <Show loaded={loaded}>
        {({ cp, checks }) => (
          <>
            <Panel title={t("log.checkpoint")} wide>
              <div class="figures">
                <Figure label={t("anchoring.size")} value={count(cp.treeSize, lang)} />
                <Figure label={t("anchoring.anchored")} value={cp.anchored ? count(cp.anchored.treeSize, lang) : "—"} />
                <Figure label={t("anchoring.age")} value={cp.anchored ? duration(Math.floor(Date.now() / 1000) - cp.anchored.timestamp, lang) : "—"} />
              </div>
              <dl class="facts">
                <dt>{t("log.origin")}</dt><dd><code>{cp.origin}</code></dd>
                <dt>{t("log.root")}</dt><dd><Hash value={cp.root} keep={16} /></dd>
                {cp.anchored && <><dt>{t("log.anchoredAt")}</dt><dd>{t("agreement.block", { block: cp.anchored.block })}, {time(cp.anchored.timestamp, lang)} <Hash value={cp.anchored.tx} /></dd></>}
              </dl>
              <ul class="checks">
                {checks.map((c) => (
                  <li class={c.ok ? "ok" : "bad"}><Mark ok={c.ok} /> <strong>{t(`check.${c.name}` as Key, { size: count(cp.treeSize, lang) })}</strong> <span class="detail"><code>{c.detail}</code></span></li>
                ))}
              </ul>
              <details>
                <summary>{t("log.note")}</summary>
                <pre class="note-text">{cp.note}</pre>
              </details>
            </Panel>
            <Panel title={t("log.lookup")} wide>
              {cp.treeSize === 0 ? <Empty>{t("log.empty")}</Empty> : <InclusionLookup size={cp.treeSize} />}
            </Panel>
          </>
        )}
      </Show>
    </Page>
  );
}
