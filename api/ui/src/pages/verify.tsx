/**
 * Verify: an evidence bundle (and a trust root) dropped here is checked in the page by dcl's own
 * verifier, the code `dcl verify` runs, with no request to any server: ✔ / ✘ per check, with the JSON
 * path of each fault. With a trust root the verdict is "authentic"; without, "integrity only".
 */
import { useEffect, useState } from "preact/hooks";
import { useT, type Key } from "../i18n";
import { ErrorState, FileDrop, Loading, Mark, Page, Panel } from "../ui";
import type { Report } from "../verify-run";

/** The checks of a report, ✔ / ✘, with where each fault is. */
export function ReportView(props: { report: Report; withTrust: boolean; fingerprint?: string }) {
  const t = useT();
  const r = props.report;
  const failed = r.checks.filter((c) => !c.ok);
  const [showAll, setShowAll] = useState(false);
  const shown = showAll || failed.length === 0 ? r.checks : failed;
  let verdict: { cls: string; title: Key; text: Key };
  if (!r.ok) verdict = { cls: "bad", title: "verify.failed", text: "verify.failedText" };
  else if (r.authenticated) verdict = { cls: "ok", title: "verify.authentic", text: "verify.authenticText" };
  else verdict = { cls: "warn", title: "verify.integrity", text: "verify.integrityText" };
  return (
    <section class={`verdict ${verdict.cls}`} aria-labelledby="verdict-title" data-testid="verdict">
      <h2 id="verdict-title" tabIndex={-1}>
        <Mark ok={r.ok} /> {t(verdict.title, { n: failed.length })}
      </h2>
      <p>{t(verdict.text, { n: r.checks.length })}</p>
      {r.trust && (
        <p class="note">
          {t("verify.trustUsed", { registry: r.trust.registry, chain: r.trust.chainId, block: r.trust.block })} <code class="hash">{r.trust.fingerprint}</code>
        </p>
      )}
      {failed.length > 0 && r.checks.length > failed.length && (
        <button type="button" class="link" onClick={() => setShowAll(!showAll)}>{showAll ? t("verify.onlyFailed") : t("verify.showAll", { n: r.checks.length })}</button>
      )}
      <ul class="checks" data-testid="checks">
        {shown.map((c) => (
          <li class={c.ok ? "ok" : "bad"}>
            <Mark ok={c.ok} /> <strong>{c.name}</strong>
            {c.where && <> <span class="where">{t("verify.at")} <code data-testid="where">{c.where}</code></span></>}
            <span class="detail">{c.detail}</span>
          </li>
        ))}
      </ul>
      {failed.length === 0 && r.checks.length > 20 && !showAll && null}
    </section>
  );
}

export function VerifyPage() {
  const t = useT();
  const [bundle, setBundle] = useState<File>();
  const [trust, setTrust] = useState<File>();
  const [state, setState] = useState<{ busy?: string; report?: Report; error?: unknown; unreadable?: { which: string; message: string } }>({});

  useEffect(() => {
    if (!bundle) return;
    let live = true;
    (async () => {
      setState({ busy: t("verify.loading") });
      try {
        const run = await import("../verify-run");
        setState({ busy: t("verify.checking") });
        const report = await run.verifyText(await bundle.text(), trust ? await trust.text() : undefined);
        if (live) setState({ report });
      } catch (err) {
        const e = err as { which?: string; message: string };
        if (live) setState(e.which ? { unreadable: { which: e.which, message: e.message } } : { error: err });
      }
    })();
    return () => {
      live = false;
    };
  }, [bundle, trust]);
  useEffect(() => {
    if (state.report || state.unreadable) document.getElementById("verdict-title")?.focus();
  }, [state.report, state.unreadable]);

  return (
    <Page title={t("nav.verify")} intro={t("verify.intro")}>
      <Panel title={t("verify.inputs")} wide note={t("verify.offline")}>
        <div class="two">
          <FileDrop id="bundle-file" label={t("verify.bundle")} hint={t("verify.bundleHint")} accept=".json,application/json" file={bundle} onFile={setBundle} />
          <FileDrop id="trust-file" label={t("verify.trust")} hint={t("verify.trustHint")} accept=".json,application/json" file={trust} onFile={setTrust} />
        </div>
        {trust && <button type="button" class="link" onClick={() => setTrust(undefined)}>{t("verify.dropTrust")}</button>}
      </Panel>
      {state.busy && <Loading label={state.busy} />}
      {state.unreadable && (
        <section class="verdict bad" aria-labelledby="verdict-title">
          <h2 id="verdict-title" tabIndex={-1}><Mark ok={false} /> {t(state.unreadable.which === "trust" ? "verify.trustUnreadable" : "verify.bundleUnreadable")}</h2>
          <p><code>{state.unreadable.message}</code></p>
        </section>
      )}
      {state.error !== undefined && <ErrorState error={state.error} />}
      {state.report && <ReportView report={state.report} withTrust={!!trust} />}
      {!bundle && <p class="note">{t("verify.where")}</p>}
    </Page>
  );
}
