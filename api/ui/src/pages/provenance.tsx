/**
 * Provenance: drop a data product's file; its SHA-256 is computed in the browser (Web Crypto) and the
 * node says where that content came from — transfers (with their lineage and reconciliation) and
 * logged data calls (with their agreements and consents) — each proof checked here with dcl's own
 * verifier.
 */
import { useEffect, useState } from "preact/hooks";
import * as api from "../data";
import type { Transfer } from "../data";
import { count, period, time, yuan } from "../format";
import { useLang, useT, type Key } from "../i18n";
import { categoryName, purposeName } from "../names";
import { sha256File } from "../proofs";
import { href, navigate, useLocation } from "../router";
import type { Session } from "../session";
import { Dept, Empty, ErrorState, FileDrop, Hash, Loading, Page, Panel, Resource, Show, Signed, useLoad } from "../ui";
import type { Report } from "../verify-run";
import { ReportView } from "./verify";
import { ApiError } from "../api";

interface ProvenanceReport {
  hash: string;
  transfers: { id: string; onChain: Transfer; batch?: { recordCount: string; totalFen: string }; signatures?: Record<string, { signer: string }>; reconciliation?: unknown; parents: string[] }[];
  accesses?: {
    entries: { index: number; leafHash: string; entry: { time: number; consumerDept: string; providerDept: string; resourceId: string; agreementId: string; purposeHash: string; recordCount: number; outcome: string; subjectCommitment: string | null } }[];
    agreements: { id: string; terms: { provider: string; consumer: string; resource: string; purposeHash: string; quota: string } }[];
    consents: { id: string; terms: { grantee: string; kind: number; subject: string }; grantedAt: number; revokedAt: number }[];
    checkpoint: { treeSize: number; anchor: { block: number; tx: string } };
  };
}

function Calls(props: { p: NonNullable<ProvenanceReport["accesses"]> }) {
  const t = useT();
  const lang = useLang();
  const checked = useLoad(async () => (await import("../verify-run")).verifyObject(props.p), [props.p]);
  return (
    <>
      <Panel title={t("provenance.calls", { n: props.p.entries.length })} wide note={t("provenance.callsNote", { size: count(props.p.checkpoint.treeSize, lang), block: props.p.checkpoint.anchor.block })}>
        <table>
          <thead><tr><th scope="col" class="num">#</th><th scope="col">{t("time")}</th><th scope="col">{t("provider")}</th><th scope="col">{t("consumer")}</th><th scope="col">{t("resource")}</th><th scope="col">{t("purpose")}</th><th scope="col" class="num">{t("recordsCol")}</th><th scope="col">{t("subject")}</th></tr></thead>
          <tbody>
            {props.p.entries.map((e) => (
              <tr>
                <td class="num">{e.index}</td><td>{time(e.entry.time, lang)}</td><td><Dept id={e.entry.providerDept} /></td><td><Dept id={e.entry.consumerDept} /></td>
                <td><Resource id={e.entry.resourceId} /></td><td>{purposeName(e.entry.purposeHash, lang)}</td><td class="num">{e.entry.recordCount}</td>
                <td>{e.entry.subjectCommitment ? <a href={href("consents", { subject: e.entry.subjectCommitment })}><Hash value={e.entry.subjectCommitment} /></a> : "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <h3>{t("provenance.under")}</h3>
        <ul class="plain">
          {props.p.agreements.map((a) => (
            <li>{t("agreement")} <a href={href(`agreements/${a.id}`)}><Hash value={a.id} /></a>: <Dept id={a.terms.provider} /> → <Dept id={a.terms.consumer} />, {purposeName(a.terms.purposeHash, lang)}</li>
          ))}
          {props.p.consents.map((c) => (
            <li>{t("provenance.consent")} <Hash value={c.id} />: {t(c.terms.kind === 1 ? "consents.explicit" : "consents.separate")}, {t("consents.granted")} {time(c.grantedAt, lang)}{c.revokedAt ? `, ${t("consents.revoked")} ${time(c.revokedAt, lang)}` : ""}</li>
          ))}
        </ul>
      </Panel>
      <Show loaded={checked} label={t("verify.checking")}>{(r: Report) => <ReportView report={r} withTrust={false} />}</Show>
    </>
  );
}

function Result(props: { s: Session; hash: string }) {
  const t = useT();
  const lang = useLang();
  const loaded = useLoad(() => api.get<ProvenanceReport>(props.s, `/v1/provenance/${props.hash}`), [props.s, props.hash]);
  if (loaded.error instanceof ApiError && loaded.error.code === "NOT_FOUND") return <Empty>{t("provenance.unknown")}</Empty>;
  return (
    <Show loaded={loaded}>
      {(p) => (
        <>
          {p.transfers.length > 0 && (
            <Panel title={t("provenance.transfers", { n: p.transfers.length })} wide>
              <ul class="plain lineage">
                {p.transfers.map((x) => (
                  <li>
                    <a href={href(`transfers/${x.id}`)}>{categoryName(x.onChain.category, lang)} {period(x.onChain.period)}</a>: <Dept id={x.onChain.from} /> → <Dept id={x.onChain.to} />,{" "}
                    {count(x.onChain.recordCount, lang)} {t("records")}, {yuan(x.onChain.totalFen)};{" "}
                    {t("provenance.cosigned")}{x.onChain.reconciliation ? `, ${t("transfers.reconciled")}` : ""}
                    {x.parents.length > 0 && <span class="muted"> · {t("transfers.parents")}: {x.parents.map((q) => <Hash value={q} />)}</span>}
                  </li>
                ))}
              </ul>
              <p class="note">{t("provenance.transfersNote")}</p>
            </Panel>
          )}
          {p.accesses && <Calls p={p.accesses} />}
        </>
      )}
    </Show>
  );
}

export function ProvenancePage() {
  const t = useT();
  const { query } = useLocation();
  const hash = query.get("hash")?.toLowerCase() ?? "";
  const [file, setFile] = useState<File>();
  const [hashing, setHashing] = useState(false);
  const [typed, setTyped] = useState(hash);
  useEffect(() => setTyped(hash), [hash]);
  const onFile = async (f: File) => {
    setFile(f);
    setHashing(true);
    try {
      navigate(href("provenance", { hash: await sha256File(f) }));
    } finally {
      setHashing(false);
    }
  };
  const valid = /^0x[0-9a-f]{64}$/.test(hash);
  return (
    <Page title={t("nav.provenance")} intro={t("provenance.intro")}>
      <Panel title={t("provenance.product")} wide note={t("provenance.private")}>
        <FileDrop id="product-file" label={t("provenance.file")} hint={t("provenance.fileHint")} file={file} onFile={onFile} />
        <form class="inline-form" onSubmit={(e) => { e.preventDefault(); navigate(href("provenance", { hash: typed.trim().toLowerCase() })); }}>
          <div class="field grow">
            <label for="hash">{t("provenance.hash")}</label>
            <input id="hash" value={typed} onInput={(e) => setTyped((e.target as HTMLInputElement).value)} pattern="0x[0-9a-fA-F]{64}" placeholder="0x…" spellcheck={false} data-testid="hash" />
          </div>
          <button type="submit">{t("provenance.look")}</button>
        </form>
        {hashing && <Loading label={t("provenance.hashing")} />}
      </Panel>
      {hash && !valid && <Empty>{t("provenance.badHash")}</Empty>}
      {valid && <Signed need={["exchange", "regulator"]}>{(s) => <Result s={s} hash={hash} />}</Signed>}
    </Page>
  );
}
