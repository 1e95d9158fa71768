/**
 * The web console at /ui: the files scripts/build-ui.js builds from api/ui/ into api/ui/dist. Assets
 * have content-hashed names and are cached for good; every other /ui path answers index.html, so each
 * view's URL can be bookmarked and opened directly. The console loads nothing from elsewhere: its
 * Content-Security-Policy allows this origin only.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance, FastifyReply } from "fastify";

/** Where the built console is. */
export const UI_DIST = join(__dirname, "..", "ui", "dist");

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'", // the charts set inline styles
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join("; ");

const NOT_BUILT = `<!doctype html><html lang="en"><meta charset="utf-8"><title>dcl console not built</title>
<main><h1>The console is not built</h1><p>Run <code>npm run build:ui</code> (or <code>npm start</code>, which builds it) and reload.</p></main></html>`;

/** Serves the console under /ui. */
export async function uiRoutes(app: FastifyInstance, opts: { dist?: string } = {}): Promise<void> {
  const dist = opts.dist ?? UI_DIST;
  const secure = (reply: FastifyReply) =>
    reply.header("content-security-policy", CSP).header("x-content-type-options", "nosniff").header("referrer-policy", "no-referrer");

  app.get("/ui", { schema: { hide: true } }, async (_req, reply) => reply.redirect("/ui/", 302));
  if (!existsSync(join(dist, "index.html"))) {
    app.get("/ui/*", { schema: { hide: true } }, async (_req, reply) => secure(reply).code(503).type("text/html; charset=utf-8").send(NOT_BUILT));
    return;
  }
  await app.register(fastifyStatic, {
    root: join(dist, "assets"),
    prefix: "/ui/assets/",
    decorateReply: false,
    immutable: true,
    maxAge: "365d",
    setHeaders: (reply) => void reply.header("content-security-policy", CSP),
    schemaHide: true,
  });
  await app.register(fastifyStatic, { root: dist, serve: false, decorateReply: true });
  app.get("/ui/*", { schema: { hide: true } }, async (_req, reply) =>
    secure(reply).header("cache-control", "no-cache").sendFile("index.html", dist, { cacheControl: false }),
  );
}
