/** Non-tax transfers: batches with period, record count and total in ¥, reconciliation and its time, disputes with their proofs checked here. */
import * as api from "../data";
import type { Transfer } from "../data";
import { count, duration, period, time, yuan } from "../format";
import { useLang, useT, type Key } from "../i18n";
import { categoryName } from "../names";
import { checkRecord } from "../proofs";
import { href } from "../router";
import type { Session } from "../session";
import { Dept, Empty, Figure, Hash, Mark, Page, Panel, Show, Signed, useLoad } from "../ui";

function median(xs: number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function Reconciliation(props: { x: Transfer }) {
  const t = useT();
  const lang = useLang();
  const r = props.x.reconciliation;
  if (!r) return <span class="tag pending">{t("transfers.pending")}</span>;
  const full = r.collectedCount === props.x.recordCount && r.collectedFen === props.x.totalFen;
  return (
    <span>
      <span class={`tag ${full ? "active" : "warn"}`}>{t(full ? "transfers.reconciled" : "transfers.partly")}</span>{" "}
      <span class="muted">{t("transfers.collected", { n: count(r.collectedCount, lang), amount: yuan(r.collectedFen) })}</span>
    </span>
  );
}

function TransfersBody(props: { s: Session }) {
  const t = useT();
  const lang = useLang();
  const list = useLoad(() => api.transfers(props.s), [props.s]);
  return (
    <Show loaded={list}>
      {(xs) => {
        if (xs.length === 0) return <Empty>{t("transfers.none")}</Empty>;
        const total = xs.reduce((n, x) => n + BigInt(x.totalFen), 0n);
        const collected = xs.reduce((n, x) => n + BigInt(x.reconciliation?.collectedFen ?? 0), 0n);
        const times = xs.filter((x) => x.reconciliation).map((x) => x.reconciliation!.elapsed);
        const m = median(times);
        return (
          <>
            <Panel title={t("transfers.summary")} wide>
              <div class="figures">
                <Figure label={t("transfers.batches")} value={count(xs.length, lang)} />
                <Figure label={t("transfers.assessed")} value={yuan(total)} />
                <Figure label={t("transfers.collectedTotal")} value={yuan(collected)} />
                <Figure label={t("transfers.medianTime")} value={m === undefined ? "—" : duration(m, lang)} hint={t("transfers.medianHint")} tone="ok" />
                <Figure label={t("transfers.disputes")} value={count(xs.reduce((n, x) => n + x.disputes.length, 0), lang)} />
              </div>
            </Panel>
            <Panel title={t("transfers.batchesTitle")} wide>
              <div class="scroll">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">{t("transfers.category")}</th><th scope="col">{t("transfers.from")}</th><th scope="col">{t("transfers.to")}</th><th scope="col">{t("transfers.period")}</th>
                      <th scope="col" class="num">{t("recordsCol")}</th><th scope="col" class="num">{t("transfers.total")}</th><th scope="col">{t("transfers.reconciliation")}</th>
                      <th scope="col">{t("transfers.time")}</th><th scope="col" class="num">{t("transfers.disputes")}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {xs.map((x) => (
                      <tr>
                        <td><a href={href(`transfers/${x.id}`)}>{categoryName(x.category, lang)}</a></td>
                        <td><Dept id={x.from} /></td><td><Dept id={x.to} /></td><td class="nowrap">{period(x.period)}</td>
                        <td class="num">{count(x.recordCount, lang)}</td><td class="num">{yuan(x.totalFen)}</td>
                        <td><Reconciliation x={x} /></td>
                        <td>{x.reconciliation ? duration(x.reconciliation.elapsed, lang) : "—"}</td>
                        <td class="num">{x.disputes.length ? <a href={href(`transfers/${x.id}`)}>{x.disputes.length}</a> : 0}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </Panel>
          </>
        );
      }}
    </Show>
  );
}

export function TransfersPage() {
  const t = useT();
  return (
    <Page title={t("nav.transfers")} intro={t("transfers.intro")}>
      <Signed>{(s) => <TransfersBody s={s} />}</Signed>
    </Page>
  );
}

interface TransferView {
  id: string;
  draft: {
    batch: { from: string; to: string; category: string; period: number; recordCount: string; totalFen: string; recordsRoot: string; payloadHash: string };
    signatures: Record<string, { signer: string; signature: string }>;
    disputes?: { leafIndex: number; department: string; reason?: string; reasonHash: string }[];
  };
  onChain?: Transfer;
}

interface RecordView {
  record: Record<string, string>;
  canonical: string;
  leafHash: string;
  proof: string[];
}

function Dispute(props: { s: Session; x: Transfer; d: Transfer["disputes"][number]; reason?: string }) {
  const t = useT();
  const index = Number(props.d.leafIndex);
  const rec = useLoad(() => api.get<RecordView>(props.s, `/v1/transfers/${props.x.id}/records/${index}`), [props.x.id, index]);
  return (
    <li class="dispute">
      <p>
        <strong>{t("transfers.disputeOf", { index })}</strong> — <Dept id={props.d.department} />
        {props.reason && <>: “{props.reason}”</>} <span class="muted">{t("transfers.reasonHash")} <Hash value={props.d.reasonHash} /></span>
      </p>
      <Show loaded={rec}>
        {(r) => {
          const checks = checkRecord(index, Number(props.x.recordCount), r, props.x.recordsRoot);
          return (
            <>
              <dl class="facts small">{Object.entries(r.record).map(([k, v]) => <><dt>{k}</dt><dd>{k.endsWith("Fen") ? yuan(v) : v}</dd></>)}</dl>
              <ul class="checks">
                {checks.map((c) => (
                  <li class={c.ok ? "ok" : "bad"}><Mark ok={c.ok} /> <strong>{t(`check.${c.name}` as Key, { size: props.x.recordCount })}</strong> <span class="detail"><code>{c.detail}</code></span></li>
                ))}
              </ul>
            </>
          );
        }}
      </Show>
    </li>
  );
}

function TransferBody(props: { s: Session; id: string }) {
  const t = useT();
  const lang = useLang();
  const view = useLoad(() => api.get<TransferView>(props.s, `/v1/transfers/${props.id}`), [props.s, props.id]);
  return (
    <Show loaded={view}>
      {(v) => {
        const x = v.onChain;
        if (!x) return <Empty>{t("transfers.notOnChain")}</Empty>;
        return (
          <div class="grid">
            <Panel title={categoryName(x.category, lang)} wide>
              <div class="figures">
                <Figure label={t("transfers.period")} value={period(x.period)} />
                <Figure label={t("recordsCol")} value={count(x.recordCount, lang)} />
                <Figure label={t("transfers.total")} value={yuan(x.totalFen)} />
                <Figure label={t("transfers.reconciliation")} value={<Reconciliation x={x} />} />
                <Figure label={t("transfers.time")} value={x.reconciliation ? duration(x.reconciliation.elapsed, lang) : "—"} hint={t("transfers.medianHint")} />
              </div>
              <dl class="facts">
                <dt>{t("transfers.from")}</dt><dd><Dept id={x.from} /></dd>
                <dt>{t("transfers.to")}</dt><dd><Dept id={x.to} /></dd>
                <dt>{t("transfers.submitted")}</dt><dd>{time(x.submittedAt, lang)} <Hash value={x.submitTx} /></dd>
                <dt>{t("transfers.cosigners")}</dt>
                <dd>{Object.entries(v.draft.signatures ?? {}).map(([side, sig]) => <span class="cosig"><Dept id={side === "from" ? x.from : side === "to" ? x.to : side} />: <Hash value={sig.signer} /></span>)}</dd>
                <dt>{t("transfers.root")}</dt><dd><Hash value={x.recordsRoot} keep={12} /></dd>
                <dt>{t("transfers.payload")}</dt><dd><Hash value={x.payloadHash} keep={12} /></dd>
                {x.reconciliation && <><dt>{t("transfers.resultsRoot")}</dt><dd><Hash value={x.reconciliation.resultsRoot} keep={12} /> <Hash value={x.reconciliation.tx} /></dd></>}
                {x.parents.length > 0 && <><dt>{t("transfers.parents")}</dt><dd>{x.parents.map((p) => <a href={href(`transfers/${p}`)}><Hash value={p} /></a>)}</dd></>}
              </dl>
            </Panel>
            <Panel title={t("transfers.disputesTitle")} wide note={t("transfers.disputesNote")}>
              {x.disputes.length === 0 ? (
                <Empty>{t("transfers.noDisputes")}</Empty>
              ) : (
                <ul class="disputes">
                  {x.disputes.map((d) => <Dispute s={props.s} x={x} d={d} reason={v.draft.disputes?.find((dd) => String(dd.leafIndex) === d.leafIndex)?.reason} />)}
                </ul>
              )}
            </Panel>
          </div>
        );
      }}
    </Show>
  );
}

export function TransferPage(props: { id: string }) {
  const t = useT();
  return (
    <Page title={t("transfers.one")} intro={<a href={href("transfers")}>{t("transfers.back")}</a>}>
      <Signed>{(s) => <TransferBody s={s} id={props.id.toLowerCase()} />}</Signed>
    </Page>
  );
}
