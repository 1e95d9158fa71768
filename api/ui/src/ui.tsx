/** The console's building blocks: page frame, loading / empty / error states that say what to do, check marks, file drop, names. */
import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { ApiError } from "./api";
import { useLang, useT, type Key } from "./i18n";
import { departmentName, resourceName, short } from "./names";
import { session, type Session } from "./session";
import { useStore } from "./store";
import { SignInForm } from "./pages/signin";

/** A page: its heading (the document's title too) and content. */
export function Page(props: { title: string; intro?: ComponentChildren; children: ComponentChildren; actions?: ComponentChildren }) {
  useEffect(() => {
    document.title = `${props.title} · dcl`;
  }, [props.title]);
  return (
    <>
      <div class="page-head">
        <div>
          <h1 id="page-title" tabIndex={-1}>{props.title}</h1>
          {props.intro && <p class="intro">{props.intro}</p>}
        </div>
        {props.actions && <div class="page-actions">{props.actions}</div>}
      </div>
      {props.children}
    </>
  );
}

/** A titled panel. */
export function Panel(props: { title: string; children: ComponentChildren; id?: string; wide?: boolean; note?: ComponentChildren }) {
  const id = props.id ?? `panel-${props.title.replace(/\W+/g, "-").toLowerCase()}`;
  return (
    <section class={`panel${props.wide ? " wide" : ""}`} aria-labelledby={id}>
      <h2 id={id}>{props.title}</h2>
      {props.note && <p class="note">{props.note}</p>}
      {props.children}
    </section>
  );
}

/** The state of something being loaded. */
export interface Loaded<T> {
  data?: T;
  error?: unknown;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` when `deps` change; keeps the latest answer only. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ data: s.data, loading: true }));
    load().then(
      (data) => live && setState({ data, loading: false }),
      (error) => live && setState({ error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  return { ...state, reload: useCallback(() => setTick((n) => n + 1), []) };
}

/** Shows a load's error, its spinner, or its content. */
export function Show<T>(props: { loaded: Loaded<T>; children: (data: T) => ComponentChildren; label?: string }) {
  const { data, error, loading } = props.loaded;
  if (error) return <ErrorState error={error} retry={props.loaded.reload} />;
  if (data === undefined) return loading ? <Loading label={props.label} /> : null;
  // While a new answer loads, the last one stays in view, marked as being replaced.
  return (
    <>
      {loading && <Loading label={props.label} />}
      {props.children(data)}
    </>
  );
}

export function Loading(props: { label?: string }) {
  const t = useT();
  return (
    <p class="loading" role="status">
      <span class="spinner" aria-hidden="true" /> {props.label ?? t("loading")}
    </p>
  );
}

/** What an error means and what to do, in words. */
export function explain(error: unknown, t: (k: Key, v?: Record<string, string | number>) => string): { what: string; todo: string } {
  if (error instanceof ApiError) {
    const known: Partial<Record<string, [Key, Key]>> = {
      NETWORK: ["err.network", "todo.network"],
      FORBIDDEN_ROLE: ["err.role", "todo.role"],
      FORBIDDEN_NOT_PARTY: ["err.notParty", "todo.role"],
      AUTH_NOT_DEPARTMENT_SIGNER: ["err.notSigner", "todo.signer"],
      AUTH_KEY_REVOKED: ["err.keyRevoked", "todo.signer"],
      AUTH_UNKNOWN_DEPARTMENT: ["err.unknownDept", "todo.signer"],
      AUTH_DEPARTMENT_INACTIVE: ["err.inactiveDept", "todo.admin"],
      AUTH_STALE_TIMESTAMP: ["err.clock", "todo.clock"],
      NOT_FOUND: ["err.notFound", "todo.notFound"],
      ROUTE_NOT_FOUND: ["err.noRoute", "todo.noRoute"],
      RATE_LIMITED: ["err.rate", "todo.retry"],
      CHAIN_UNAVAILABLE: ["err.chain", "todo.retry"],
      VALIDATION_FAILED: ["err.invalid", "todo.invalid"],
    };
    const k = known[error.code];
    if (k) return { what: t(k[0]), todo: t(k[1]) };
    return { what: t("err.api", { code: error.code }), todo: t("todo.retry") };
  }
  return { what: t("err.unexpected"), todo: t("todo.retry") };
}

export function ErrorState(props: { error: unknown; retry?: () => void }) {
  const t = useT();
  const { what, todo } = explain(props.error, t);
  const detail = props.error instanceof Error ? props.error.message : String(props.error);
  return (
    <div class="state error" role="alert">
      <p class="state-what">{what}</p>
      <p>{todo}</p>
      {detail && <p class="detail"><code>{props.error instanceof ApiError ? `${props.error.code}: ` : ""}{detail}</code></p>}
      {props.retry && <button type="button" onClick={props.retry}>{t("retry")}</button>}
    </div>
  );
}

/** Nothing to show, and what to do about it. */
export function Empty(props: { children: ComponentChildren }) {
  return <div class="state empty"><p>{props.children}</p></div>;
}

/** ✔ or ✘, with words for screen readers. */
export function Mark(props: { ok: boolean }) {
  const t = useT();
  return (
    <span class={props.ok ? "mark ok" : "mark bad"} role="img" aria-label={props.ok ? t("holds") : t("fails")}>
      {props.ok ? "✔" : "✘"}
    </span>
  );
}

/** A hash shortened, the whole of it in the tooltip and for copying. */
export function Hash(props: { value: string | undefined | null; keep?: number }) {
  if (!props.value) return <span>—</span>;
  return <code class="hash" title={props.value}>{short(props.value, props.keep)}</code>;
}

export function Dept(props: { id: string }) {
  const lang = useLang();
  return <span class="dept" title={props.id}>{departmentName(props.id, lang)}</span>;
}

export function Resource(props: { id: string }) {
  const lang = useLang();
  return <span title={props.id}>{resourceName(props.id, lang)}</span>;
}

/** A figure with its label. */
export function Figure(props: { label: string; value: ComponentChildren; hint?: ComponentChildren; tone?: "ok" | "warn" | "bad" }) {
  return (
    <div class={`figure${props.tone ? ` ${props.tone}` : ""}`}>
      <div class="figure-value">{props.value}</div>
      <div class="figure-label">{props.label}</div>
      {props.hint && <div class="figure-hint">{props.hint}</div>}
    </div>
  );
}

/** A file picker that also takes a dropped file. */
export function FileDrop(props: { id: string; label: string; hint: string; accept?: string; file?: File; onFile: (f: File) => void }) {
  const t = useT();
  const [over, setOver] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    const f = e.dataTransfer?.files?.[0];
    if (f) props.onFile(f);
  };
  return (
    <div
      class={`drop${over ? " over" : ""}${props.file ? " has-file" : ""}`}
      data-testid={`drop-${props.id}`}
      onDragOver={(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={onDrop}
    >
      <label for={props.id} class="drop-label">{props.label}</label>
      <p class="drop-hint" id={`${props.id}-hint`}>{props.hint}</p>
      <input
        ref={input}
        id={props.id}
        type="file"
        accept={props.accept}
        aria-describedby={`${props.id}-hint`}
        onChange={(e) => {
          const f = (e.target as HTMLInputElement).files?.[0];
          if (f) props.onFile(f);
        }}
      />
      {props.file && <p class="drop-file">{t("file.chosen", { name: props.file.name, size: props.file.size })}</p>}
    </div>
  );
}

/** Content that needs a signed-in department: otherwise the sign-in form, in place. */
export function Signed(props: { children: (s: Session) => ComponentChildren; need?: Session["roles"][number][] }) {
  const s = useStore(session);
  const t = useT();
  if (!s) {
    return (
      <div class="signin-inline">
        <p class="state-what">{t("signin.needed")}</p>
        <SignInForm />
      </div>
    );
  }
  if (props.need && !props.need.some((r) => s.roles.includes(r))) {
    return (
      <div class="state empty" role="note">
        <p class="state-what">{t("err.role")}</p>
        <p>{t("needRole", { roles: props.need.map((r) => t(`role.${r}` as Key)).join(" / ") })}</p>
      </div>
    );
  }
  return <>{props.children(s)}</>;
}
