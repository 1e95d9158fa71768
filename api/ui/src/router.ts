/**
 * The console's URLs: every view is a path under /ui/ with its state in the query string, so it can
 * be bookmarked and shared. Links inside the console change the URL without reloading the page (the
 * decrypted key lives only in this page's memory); back and forward work.
 */
import { store, useStore } from "./store";

export const BASE = "/ui/";

/** Where the console is: the path below /ui/ (no leading slash) and the query. */
export interface Location {
  path: string;
  query: URLSearchParams;
}

function read(): Location {
  const path = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length).replace(/\/+$/, "") : "";
  return { path, query: new URLSearchParams(location.search) };
}

const current = store<Location>(read());
addEventListener("popstate", () => current.set(read()));

/** The current location, re-rendering on navigation. */
export function useLocation(): Location {
  return useStore(current);
}

/** The href of a view: `href("trail", { agreement: "0x…" })`. Empty values are left out. */
export function href(path: string, query: Record<string, string | number | undefined> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== "") q.set(k, String(v));
  const s = q.toString();
  return BASE + path + (s ? `?${s}` : "");
}

/** Goes to `url` (an href) without reloading; `replace` keeps the history entry. */
export function navigate(url: string, replace = false): void {
  if (url === location.pathname + location.search) return;
  history[replace ? "replaceState" : "pushState"](null, "", url);
  current.set(read());
  if (!replace) scrollTo(0, 0);
}

// Same-page links: a plain left click on an <a href="/ui/…"> navigates in place.
document.addEventListener("click", (e) => {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = (e.target as Element | null)?.closest?.("a");
  if (!a || a.target || a.hasAttribute("download")) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || !url.pathname.startsWith(BASE)) return;
  e.preventDefault();
  navigate(url.pathname + url.search);
});
