/**
 * The OpenAPI document: valid OpenAPI 3, generated from the same zod schemas the routes validate
 * with, listing every route the app serves (as its router knows them) under its resource's tag; and
 * the Swagger UI at /docs.
 */
import { expect } from "chai";
import SwaggerParser from "@apidevtools/swagger-parser";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Errors } from "../../api/errors";
import { REFUSAL } from "../../node/access/refusals";
import { startApiHarness, type ApiHarness } from "../support/api-harness";

interface OpenApiDoc {
  openapi: string;
  paths: Record<string, Record<string, { tags?: string[]; summary?: string; requestBody?: unknown; parameters?: { in: string; name: string }[] }>>;
}

/**
 * Routes served but deliberately left out of the document: the document itself, its UI and the
 * metrics; the alert stream, whose server-sent events OpenAPI 3.0 cannot describe (docs/api.md does).
 */
const UNDOCUMENTED = /^\/(docs|metrics|openapi\.json|ui|v1\/alerts\/stream)(\/|\*|$)/; // ui: the console's pages and assets (api/routes/ui.ts)

/** The tag each resource's routes carry (one route plugin per tag). */
const TAG_OF_PREFIX: [RegExp, string][] = [
  [/^\/(healthz|readyz)$/, "health"],
  [/^\/v1\/log\//, "log"],
  [/^\/v1\/(departments|roles|deployment|whoami)(\/|$)/, "registry"],
  [/^\/v1\/resources(\/|$)/, "catalog"],
  [/^\/v1\/agreements(\/|$)/, "agreements"],
  [/^\/v1\/(consents|subjects)(\/|$)/, "consents"],
  [/^\/v1\/transfers(\/|$)/, "transfers"],
  [/^\/v1\/access$/, "access"],
  [/^\/v1\/sessions(\/|$)/, "sessions"],
  [/^\/v1\/(audit\/|evidence$|activity$)/, "audit"],
  [/^\/v1\/provenance\//, "provenance"],
  [/^\/v1\/alerts(\/|$)/, "alerts"],
  [/^\/v1\/receipts\//, "receipts"],
  [/^\/v1\/peers$/, "peers"],
  [/^\/v1\/relays\//, "relays"],
  [/^\/v1\/operator\//, "operator"],
];

/** Every (method, path) the router serves, read from `printRoutes` (HEAD is Fastify's automatic twin of GET). */
function routerRoutes(tree: string): string[] {
  const stack: string[] = [];
  const out: string[] = [];
  for (const line of tree.split("\n")) {
    const m = line.match(/^((?:│ {3}| {4})*)[├└]── (.*?)(?: \(([A-Z, ]+)\))?$/);
    if (!m) continue;
    const depth = m[1].length / 4;
    stack.length = depth;
    stack.push(m[2]);
    const path = stack.join("");
    for (const method of (m[3] ?? "").split(", ").filter((x) => x && x !== "HEAD")) out.push(`${method} ${path}`);
  }
  return out;
}

describe("api OpenAPI document and Swagger UI", function () {
  let h: ApiHarness;
  let doc: OpenApiDoc;

  before(async () => {
    h = await startApiHarness();
    const res = await fetch(h.baseUrl + "/openapi.json");
    expect(res.status).to.equal(200);
    expect(res.headers.get("content-type")).to.match(/^application\/json/);
    doc = (await res.json()) as OpenApiDoc;
  });
  after(async () => h?.stop());

  it("is a valid OpenAPI 3 document", async () => {
    expect(doc.openapi).to.match(/^3\./);
    const validated = await SwaggerParser.validate(structuredClone(doc) as never);
    expect(Object.keys(validated.paths ?? {})).to.have.length(Object.keys(doc.paths).length);
  });

  it("is the document the app builds (GET /openapi.json serves app.swagger())", () => {
    expect(doc).to.deep.equal(JSON.parse(JSON.stringify(h.app.swagger())));
  });

  it("lists exactly the routes the app serves", () => {
    const served = routerRoutes(h.app.printRoutes({ commonPrefix: false }))
      .filter((r) => !UNDOCUMENTED.test(r.split(" ")[1]))
      .map((r) => r.replace(/:(\w+)/g, "{$1}"))
      .sort();
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)).sort();
    expect(served.length, "routes parsed from the router").to.be.above(35);
    expect(documented).to.deep.equal(served);
  });

  it("gives every route its resource's tag and a summary", () => {
    for (const [path, ops] of Object.entries(doc.paths)) {
      const expected = TAG_OF_PREFIX.find(([re]) => re.test(path))?.[1];
      for (const [method, op] of Object.entries(ops)) {
        expect(op.tags, `${method} ${path}`).to.deep.equal([expected]);
        expect(op.summary, `${method} ${path}`).to.be.a("string").and.not.equal("");
      }
    }
  });

  it("documents the path parameters and request bodies the routes validate", () => {
    for (const [path, ops] of Object.entries(doc.paths)) {
      const slots = (path.match(/\{(\w+)\}/g) ?? []).map((s) => s.slice(1, -1)).sort();
      for (const [method, op] of Object.entries(ops)) {
        const params = (op.parameters ?? []).filter((p) => p.in === "path").map((p) => p.name).sort();
        expect(params, `${method} ${path}`).to.deep.equal(slots);
        if (method === "post" || method === "put") expect(op.requestBody, `${method} ${path} has a body schema`).to.be.an("object");
      }
    }
  });

  it("has every route and every error code in docs/api.md", () => {
    const md = readFileSync(join(__dirname, "../../docs/api.md"), "utf8");
    for (const code of [...Object.keys(Errors), ...Object.values(REFUSAL)]) expect(md, code).to.contain("`" + code + "`");
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const method of Object.keys(ops)) expect(md, `${method} ${path}`).to.contain(`${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ":$1")}`);
    }
  });

  it("serves the Swagger UI at /docs", async () => {
    const res = await fetch(h.baseUrl + "/docs");
    expect(res.status).to.equal(200);
    expect(res.headers.get("content-type")).to.match(/^text\/html/);
    const html = await res.text();
    expect(html).to.contain("<title>Swagger UI</title>");
    expect(html).to.contain("swagger-ui");
    const init = await fetch(h.baseUrl + "/docs/static/swagger-initializer.js");
    expect(init.status).to.equal(200);
    const spec = await fetch(h.baseUrl + "/docs/json");
    expect(spec.status).to.equal(200);
    expect(Object.keys(((await spec.json()) as OpenApiDoc).paths)).to.deep.equal(Object.keys(doc.paths));
  });
});
