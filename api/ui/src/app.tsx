/** The console's frame: header (language, who is signed in), navigation, the current view, footer. */
import { useEffect, useRef } from "preact/hooks";
import { lang, useLang, useT, type Key } from "./i18n";
import { departmentName, short } from "./names";
import { href, useLocation } from "./router";
import { session, signOut } from "./session";
import { useStore } from "./store";
import { timeZone } from "./format";
import { Overview } from "./pages/overview";
import { GraphPage } from "./pages/graph";
import { TrailPage } from "./pages/trail";
import { AgreementPage, AgreementsPage } from "./pages/agreements";
import { TransferPage, TransfersPage } from "./pages/transfers";
import { ConsentsPage } from "./pages/consents";
import { AssessmentPage } from "./pages/assessment";
import { VerifyPage } from "./pages/verify";
import { ProvenancePage } from "./pages/provenance";
import { LogPage } from "./pages/log";
import { SignInPage } from "./pages/signin";
import { Page } from "./ui";

const NAV: { path: string; key: Key; public?: boolean }[] = [
  { path: "overview", key: "nav.overview" },
  { path: "graph", key: "nav.graph" },
  { path: "trail", key: "nav.trail" },
  { path: "agreements", key: "nav.agreements" },
  { path: "transfers", key: "nav.transfers" },
  { path: "consents", key: "nav.consents" },
  { path: "assessment", key: "nav.assessment" },
  { path: "provenance", key: "nav.provenance" },
  { path: "verify", key: "nav.verify", public: true },
  { path: "log", key: "nav.log", public: true },
];

function View() {
  const { path } = useLocation();
  const t = useT();
  const [head, id] = path.split("/");
  switch (head) {
    case "":
    case "overview":
      return <Overview />;
    case "graph":
      return <GraphPage />;
    case "trail":
      return <TrailPage />;
    case "agreements":
      return id ? <AgreementPage id={id} /> : <AgreementsPage />;
    case "transfers":
      return id ? <TransferPage id={id} /> : <TransfersPage />;
    case "consents":
      return <ConsentsPage />;
    case "assessment":
      return <AssessmentPage />;
    case "verify":
      return <VerifyPage />;
    case "provenance":
      return <ProvenancePage />;
    case "log":
      return <LogPage />;
    case "signin":
      return <SignInPage />;
    default:
      return (
        <Page title={t("notFound.title")}>
          <p>{t("notFound.text")}</p>
          <p><a href={href("overview")}>{t("nav.overview")}</a></p>
        </Page>
      );
  }
}

function Who() {
  const t = useT();
  const l = useLang();
  const s = useStore(session);
  const { path } = useLocation();
  if (!s) {
    return (
      <a class="button" href={href("signin", path && path !== "signin" ? { next: location.pathname + location.search } : {})}>
        {t("signin.title")}
      </a>
    );
  }
  return (
    <div class="who">
      <span>
        <span class="who-label">{t("signedInAs")}</span> <strong>{departmentName(s.department, l)}</strong>{" "}
        <code title={s.address}>{short(s.address, 4)}</code>
        {s.roles.length > 0 && <span class="roles"> · {s.roles.map((r) => t(`role.${r}` as Key)).join(", ")}</span>}
      </span>
      <button type="button" onClick={signOut}>{t("signout")}</button>
    </div>
  );
}

export function App() {
  const t = useT();
  const l = useLang();
  const { path } = useLocation();
  const head = path.split("/")[0] || "overview";
  useEffect(() => {
    document.documentElement.lang = l === "zh" ? "zh-CN" : "en";
  }, [l]);
  // After moving to another view (not on the first load), put the keyboard focus on its heading, so
  // that keyboard and screen-reader users start reading the new view.
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    document.getElementById("page-title")?.focus({ preventScroll: true });
  }, [path]);
  return (
    <>
      <a class="skip" href="#main">{t("skip")}</a>
      <header class="top">
        <a class="brand" href={href("overview")}>
          <span class="brand-mark" aria-hidden="true">dcl</span>
          <span class="brand-name">{t("brand")}</span>
        </a>
        <div class="top-right">
          <label class="lang">
            <span>{t("language")}</span>
            <select value={l} onChange={(e) => lang.set((e.target as HTMLSelectElement).value as "en" | "zh")}>
              <option value="en">English</option>
              <option value="zh">中文</option>
            </select>
          </label>
          <Who />
        </div>
      </header>
      <nav class="side" aria-label={t("nav.label")}>
        <ul>
          {NAV.map((n) => (
            <li>
              <a href={href(n.path)} aria-current={head === n.path ? "page" : undefined}>
                {t(n.key)}
                {n.public && <span class="public">{t("public")}</span>}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main">
        <View />
      </main>
      <footer class="foot">
        <p>{t("footer", { zone: timeZone() })}</p>
      </footer>
    </>
  );
}
