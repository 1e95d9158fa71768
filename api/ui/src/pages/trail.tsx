/**
 * Trail: the access log's entries for the regulator, filtered by department, resource, agreement,
 * subject commitment, outcome, reason and time; paged by log index; exported as CSV; each entry opens
 * with its inclusion proof checked here, in the browser.
 */
import { useEffect, useState } from "preact/hooks";
import type { AccessLogEntry } from "../../../../node/log/entry";
import * as api from "../data";
import type { TrailEntry } from "../data";
import { count, fromLocalInput, time, toLocalInput } from "../format";
import { useLang, useT, type Key } from "../i18n";
import { departmentName, knownDepartments, knownResources, purposeName, resourceName } from "../names";
import { checkEntry, type ProofCheck } from "../proofs";
import { href, navigate, useLocation } from "../router";
import type { Session } from "../session";
import { Dept, Empty, ErrorState, Hash, Loading, Mark, Page, Panel, Resource, Show, Signed, useLoad } from "../ui";

const FILTERS = ["consumer", "provider", "resource", "agreement", "subject", "outcome", "reason", "from", "to"] as const;
const SCOPES = ["consumer", "provider", "resource", "agreement", "subject"] as const;
export const REASONS = [
  "AGREEMENT_UNKNOWN", "NOT_AGREEMENT_CONSUMER", "AGREEMENT_SUSPENDED", "AGREEMENT_REVOKED", "AGREEMENT_NOT_YET_VALID",
  "AGREEMENT_EXPIRED", "PURPOSE_MISMATCH", "QUOTA_EXCEEDED", "SUBJECT_REQUIRED", "CONSENT_MISSING", "SUBJECT_ERASED",
];
const PAGE = 50;
const CSV_MAX = 10_000;

type Filters = Partial<Record<(typeof FILTERS)[number], string>>;

function filtersOf(q: URLSearchParams): Filters {
  return Object.fromEntries(FILTERS.filter((k) => q.get(k)).map((k) => [k, q.get(k)!]));
}

function queryString(f: Filters, after?: string | number, limit = PAGE): string {
  const q = new URLSearchParams();
  for (const k of FILTERS) if (f[k]) q.set(k, f[k]!);
  if (after !== undefined && after !== "") q.set("after", String(after));
  q.set("limit", String(limit));
  return q.toString();
}

function FilterForm(props: { f: Filters }) {
  const t = useT();
  const lang = useLang();
  const [f, setF] = useState<Filters>(props.f);
  useEffect(() => setF(props.f), [JSON.stringify(props.f)]);
  const set = (k: keyof Filters) => (e: Event) => setF({ ...f, [k]: (e.target as HTMLInputElement).value });
  const submit = (e: Event) => {
    e.preventDefault();
    navigate(href("trail", f as Record<string, string>));
  };
  const depts = knownDepartments();
  return (
    <form class="filters" onSubmit={submit} aria-label={t("trail.filters")}>
      <div class="field">
        <label for="f-consumer">{t("consumer")}</label>
        <select id="f-consumer" value={f.consumer ?? ""} onChange={set("consumer")}>
          <option value="">{t("any")}</option>
          {depts.map((d) => <option value={d.id}>{d[lang]}</option>)}
        </select>
      </div>
      <div class="field">
        <label for="f-provider">{t("provider")}</label>
        <select id="f-provider" value={f.provider ?? ""} onChange={set("provider")}>
          <option value="">{t("any")}</option>
          {depts.map((d) => <option value={d.id}>{d[lang]}</option>)}
        </select>
      </div>
      <div class="field">
        <label for="f-resource">{t("resource")}</label>
        <select id="f-resource" value={f.resource ?? ""} onChange={set("resource")}>
          <option value="">{t("any")}</option>
          {knownResources().map((r) => <option value={r.id}>{r[lang]}</option>)}
        </select>
      </div>
      <div class="field">
        <label for="f-agreement">{t("agreement")}</label>
        <input id="f-agreement" value={f.agreement ?? ""} onInput={set("agreement")} placeholder="0x…" pattern="0x[0-9a-fA-F]{64}" spellcheck={false} />
      </div>
      <div class="field">
        <label for="f-subject">{t("subject")}</label>
        <input id="f-subject" value={f.subject ?? ""} onInput={set("subject")} placeholder="0x…" pattern="0x[0-9a-fA-F]{64}" spellcheck={false} />
      </div>
      <div class="field">
        <label for="f-outcome">{t("outcome")}</label>
        <select id="f-outcome" value={f.outcome ?? ""} onChange={set("outcome")}>
          <option value="">{t("any")}</option>
          <option value="served">{t("outcome.served")}</option>
          <option value="refused">{t("outcome.refused")}</option>
        </select>
      </div>
      <div class="field">
        <label for="f-reason">{t("reason")}</label>
        <select id="f-reason" value={f.reason ?? ""} onChange={set("reason")}>
          <option value="">{t("any")}</option>
          {REASONS.map((r) => <option value={r}>{t(`reason.${r}` as Key)}</option>)}
        </select>
      </div>
      <div class="field">
        <label for="f-from">{t("from")}</label>
        <input id="f-from" type="datetime-local" step={1} value={toLocalInput(f.from ? Number(f.from) : undefined)} onInput={(e) => setF({ ...f, from: String(fromLocalInput((e.target as HTMLInputElement).value) ?? "") })} />
      </div>
      <div class="field">
        <label for="f-to">{t("to")}</label>
        <input id="f-to" type="datetime-local" step={1} value={toLocalInput(f.to ? Number(f.to) : undefined)} onInput={(e) => setF({ ...f, to: String(fromLocalInput((e.target as HTMLInputElement).value) ?? "") })} />
      </div>
      <div class="field buttons">
        <button type="submit" class="primary">{t("trail.apply")}</button>
        <a class="button" href={href("trail")}>{t("trail.clear")}</a>
      </div>
    </form>
  );
}

/** The checks of one entry, done in the browser. */
function EntryCheck(props: { e: TrailEntry }) {
  const t = useT();
  const lang = useLang();
  const checked = useLoad(() => checkEntry(props.e.index, props.e.entry as AccessLogEntry, props.e.leafHash), [props.e.index]);
  const e = props.e.entry;
  return (
    <section class="panel entry" aria-labelledby="entry-title" data-testid="entry-check">
      <h2 id="entry-title" tabIndex={-1}>{t("entry.title", { index: props.e.index })}</h2>
      <dl class="facts">
        <dt>{t("time")}</dt><dd>{time(e.time, lang)}</dd>
        <dt>{t("consumer")}</dt><dd><Dept id={e.consumerDept} /></dd>
        <dt>{t("provider")}</dt><dd><Dept id={e.providerDept} /></dd>
        <dt>{t("resource")}</dt><dd><Resource id={e.resourceId} /></dd>
        <dt>{t("agreement")}</dt><dd><a href={href(`agreements/${e.agreementId}`)}><Hash value={e.agreementId} /></a></dd>
        <dt>{t("purpose")}</dt><dd>{purposeName(e.purposeHash, lang)}</dd>
        <dt>{t("recordsCol")}</dt><dd>{count(e.recordCount, lang)}</dd>
        <dt>{t("outcome")}</dt><dd>{t(`outcome.${e.outcome}`)}{e.refusalReason && ` — ${t(`reason.${e.refusalReason}` as Key)}`}</dd>
        <dt>{t("subject")}</dt><dd>{e.subjectCommitment ? <a href={href("consents", { subject: e.subjectCommitment })}><Hash value={e.subjectCommitment} /></a> : "—"}</dd>
        <dt>{t("responseHash")}</dt><dd><Hash value={e.responseHash} /></dd>
        <dt>{t("leafHash")}</dt><dd><Hash value={props.e.leafHash} /></dd>
      </dl>
      <h3>{t("entry.checks")}</h3>
      <Show loaded={checked} label={t("entry.checking")}>
        {(r) => (
          <>
            <ul class="checks">
              {r.checks.map((c: ProofCheck) => (
                <li class={c.ok ? "ok" : "bad"}>
                  <Mark ok={c.ok} /> <strong>{t(`check.${c.name}` as Key, { size: count(r.treeSize, lang) })}</strong>
                  <span class="detail"><code>{c.detail}</code></span>
                </li>
              ))}
            </ul>
            <p class="note">{r.anchored ? t("entry.anchoredNote") : t("entry.notAnchoredNote")}</p>
          </>
        )}
      </Show>
    </section>
  );
}

function toCsv(rows: TrailEntry[], lang: "en" | "zh"): string {
  const esc = (v: unknown) => {
    const s = v === null || v === undefined ? "" : String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const head = ["index", "time_utc", "consumer", "consumer_name", "provider", "provider_name", "resource", "resource_name", "agreement", "purpose_hash", "records", "outcome", "refusal_reason", "subject_commitment", "request_hash", "response_hash", "leaf_hash"];
  const lines = rows.map(({ index, leafHash, entry: e }) => [
    index, new Date(e.time * 1000).toISOString(), e.consumerDept, departmentName(e.consumerDept, lang), e.providerDept, departmentName(e.providerDept, lang),
    e.resourceId, resourceName(e.resourceId, lang), e.agreementId, e.purposeHash, e.recordCount, e.outcome, e.refusalReason, e.subjectCommitment ?? "",
    e.requestHash, e.responseHash, leafHash,
  ].map(esc).join(","));
  return "\ufeff" + [head.join(","), ...lines].join("\r\n") + "\r\n";
}

function Export(props: { s: Session; f: Filters }) {
  const t = useT();
  const lang = useLang();
  const [state, setState] = useState<{ busy?: number; error?: unknown; done?: number }>({});
  const run = async () => {
    setState({ busy: 0 });
    try {
      const rows: TrailEntry[] = [];
      let after: number | null | undefined;
      do {
        const page = await api.get<{ entries: TrailEntry[]; next: number | null }>(props.s, `/v1/audit/entries?${queryString(props.f, after ?? undefined, 500)}`);
        rows.push(...page.entries);
        after = page.next;
        setState({ busy: rows.length });
      } while (after !== null && rows.length < CSV_MAX);
      const url = URL.createObjectURL(new Blob([toCsv(rows, lang)], { type: "text/csv;charset=utf-8" }));
      const a = document.createElement("a");
      a.href = url;
      a.download = `dcl-trail-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, "")}.csv`;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      setState({ done: rows.length });
    } catch (error) {
      setState({ error });
    }
  };
  return (
    <div class="export">
      <button type="button" onClick={run} disabled={state.busy !== undefined}>
        {state.busy !== undefined ? t("trail.exporting", { n: state.busy }) : t("trail.export")}
      </button>
      {state.done !== undefined && <span role="status" class="note"> {t("trail.exported", { n: state.done, max: CSV_MAX })}</span>}
      {state.error !== undefined && <ErrorState error={state.error} />}
    </div>
  );
}

function TrailBody(props: { s: Session }) {
  const t = useT();
  const lang = useLang();
  const { query } = useLocation();
  const f = filtersOf(query);
  const after = query.get("after") ?? "";
  const open = query.get("open");
  const scoped = SCOPES.some((k) => f[k]);
  const key = queryString(f, after);
  const page = useLoad(async () => (scoped ? api.get<{ entries: TrailEntry[]; next: number | null }>(props.s, `/v1/audit/entries?${key}`) : undefined), [props.s, key]);
  const here = (extra: Record<string, string | number | undefined>) => href("trail", { ...f, after: after || undefined, ...extra });
  const opened = page.data?.entries.find((e) => String(e.index) === open);
  useEffect(() => {
    if (opened) document.getElementById("entry-title")?.focus();
  }, [opened?.index]);

  return (
    <>
      <Panel title={t("trail.filters")} wide>
        <FilterForm f={f} />
      </Panel>
      {!scoped ? (
        <Empty>{t("trail.chooseScope")}</Empty>
      ) : (
        <Panel title={t("trail.entries")} wide>
          <Show loaded={page}>
            {(p) =>
              !p || p.entries.length === 0 ? (
                <Empty>{after ? t("trail.noMore") : t("trail.none")}</Empty>
              ) : (
                <>
                  <div class="table-tools">
                    <Export s={props.s} f={f} />
                    <nav class="pager" aria-label={t("trail.pages")}>
                      {after && <a class="button" href={href("trail", f as Record<string, string>)}>{t("trail.first")}</a>}
                      {p.next !== null && <a class="button" href={here({ after: p.next, open: undefined })}>{t("trail.next")}</a>}
                    </nav>
                  </div>
                  <div class="scroll">
                    <table class="trail">
                      <caption class="sr-only">{t("trail.entries")}</caption>
                      <thead>
                        <tr>
                          <th scope="col" class="num">#</th><th scope="col">{t("time")}</th><th scope="col">{t("consumer")}</th><th scope="col">{t("provider")}</th>
                          <th scope="col">{t("resource")}</th><th scope="col" class="num">{t("recordsCol")}</th><th scope="col">{t("outcome")}</th><th scope="col"><span class="sr-only">{t("actions")}</span></th>
                        </tr>
                      </thead>
                      <tbody>
                        {p.entries.map((e) => (
                          <tr class={String(e.index) === open ? "selected" : undefined}>
                            <td class="num">{e.index}</td>
                            <td>{time(e.entry.time, lang)}</td>
                            <td><Dept id={e.entry.consumerDept} /></td>
                            <td><Dept id={e.entry.providerDept} /></td>
                            <td><Resource id={e.entry.resourceId} /></td>
                            <td class="num">{count(e.entry.recordCount, lang)}</td>
                            <td>
                              <span class={`tag ${e.entry.outcome}`}>{t(`outcome.${e.entry.outcome}`)}</span>
                              {e.entry.refusalReason && <span class="reason"> {t(`reason.${e.entry.refusalReason}` as Key)}</span>}
                            </td>
                            <td><a href={here({ open: e.index })} aria-label={t("entry.open", { index: e.index })}>{t("entry.check")}</a></td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  </div>
                  <p class="note">{t("trail.showing", { n: p.entries.length, first: p.entries[0].index, last: p.entries[p.entries.length - 1].index })}</p>
                </>
              )
            }
          </Show>
        </Panel>
      )}
      {opened && <EntryCheck e={opened} />}
      {open && page.data && !opened && <Empty>{t("entry.notOnPage", { index: open })}</Empty>}
      {page.loading && !page.data && scoped && <Loading />}
    </>
  );
}

export function TrailPage() {
  const t = useT();
  return (
    <Page title={t("nav.trail")} intro={t("trail.intro")}>
      <Signed need={["regulator"]}>{(s) => <TrailBody s={s} />}</Signed>
    </Page>
  );
}
