/** Sign in with a department's encrypted keystore: decrypted in this page, never sent anywhere. */
import { useState } from "preact/hooks";
import { ApiError } from "../api";
import { useLang, useT } from "../i18n";
import { codeToId, knownDepartments } from "../names";
import { href, navigate, useLocation } from "../router";
import { session, signIn, signOut, SignInError } from "../session";
import { useStore } from "../store";
import { ErrorState, FileDrop, Page } from "../ui";

/** The form (also shown in place on pages that need a signed-in department). */
export function SignInForm() {
  const t = useT();
  const lang = useLang();
  const [file, setFile] = useState<File>();
  const [department, setDepartment] = useState("");
  const [other, setOther] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState<number | undefined>();
  const [error, setError] = useState<unknown>();
  const departments = knownDepartments();

  const pick = (f: File) => {
    setFile(f);
    // data/keys/demo/cq.tax.json names its department.
    const code = f.name.replace(/\.json$/i, "");
    if (departments.some((d) => d.code === code)) setDepartment(code);
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    if (!file) return setError(new SignInError("not-keystore"));
    const code = department === "other" ? other.trim() : department;
    const id = /^0x[0-9a-fA-F]{64}$/.test(code) ? code : codeToId(code);
    setBusy(0);
    try {
      await signIn(await file.text(), password, id, (share) => setBusy(share));
      setPassword("");
    } catch (err) {
      setError(err);
    } finally {
      setBusy(undefined);
    }
  };
  const message = error instanceof SignInError ? t(error.reason === "wrong-password" ? "signin.wrongPassword" : "signin.notKeystore") : undefined;

  return (
    <form class="signin" onSubmit={submit} aria-describedby="signin-privacy">
      <p class="privacy" id="signin-privacy">
        <strong>{t("signin.privacyTitle")}</strong> {t("signin.privacy")}
      </p>
      <FileDrop id="keystore" label={t("signin.keystore")} hint={t("signin.keystoreHint")} accept=".json,application/json" file={file} onFile={pick} />
      <div class="field">
        <label for="department">{t("signin.department")}</label>
        <select id="department" value={department} required onChange={(e) => setDepartment((e.target as HTMLSelectElement).value)}>
          <option value="">{t("signin.choose")}</option>
          {departments.map((d) => (
            <option value={d.code}>{d[lang]} ({d.code})</option>
          ))}
          <option value="other">{t("signin.other")}</option>
        </select>
      </div>
      {department === "other" && (
        <div class="field">
          <label for="department-code">{t("signin.code")}</label>
          <input id="department-code" value={other} required onInput={(e) => setOther((e.target as HTMLInputElement).value)} placeholder="cq.example" />
        </div>
      )}
      <div class="field">
        <label for="password">{t("signin.password")}</label>
        <input id="password" type="password" autocomplete="current-password" value={password} required onInput={(e) => setPassword((e.target as HTMLInputElement).value)} />
      </div>
      <button type="submit" class="primary" disabled={busy !== undefined}>
        {busy !== undefined ? t("signin.decrypting", { pct: Math.round(busy * 100) }) : t("signin.submit")}
      </button>
      {busy !== undefined && <p role="status" class="note">{t("signin.decrypting", { pct: Math.round(busy * 100) })}</p>}
      {message && <div class="state error" role="alert"><p class="state-what">{message}</p></div>}
      {error !== undefined && !(error instanceof SignInError) && <ErrorState error={error instanceof ApiError ? error : new ApiError(0, "SIGNIN", String(error))} />}
      <p class="note">{t("signin.sessionKeys")}</p>
    </form>
  );
}

export function SignInPage() {
  const t = useT();
  const s = useStore(session);
  const { query } = useLocation();
  const next = query.get("next");
  if (s && next?.startsWith("/ui/")) queueMicrotask(() => navigate(next, true));
  return (
    <Page title={t("signin.title")} intro={t("signin.intro")}>
      {s ? (
        <div class="state">
          <p class="state-what">{t("signin.done")}</p>
          <p>
            <a href={href("overview")}>{t("nav.overview")}</a> · <button type="button" class="link" onClick={signOut}>{t("signout")}</button>
          </p>
        </div>
      ) : (
        <SignInForm />
      )}
    </Page>
  );
}
