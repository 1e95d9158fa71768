/**
 * Invariant 6 under fuzzing: generated malformed requests — methods and paths from the app's own
 * OpenAPI document, path parameters, query strings, headers (auth headers garbage, partly valid or
 * fully signed by a real department key) and bodies (garbage bytes, random JSON, JSON shaped after
 * the route's schema with wrong values) — never get a 5xx, every failure has the error shape, and
 * afterwards the app still answers a valid signed request. Most requests go through `inject` (the
 * full Fastify pipeline without sockets), a sample through real HTTP. Then every numeric field of
 * every route gets the boundary values (2^32, 2^53, 2^64 − 1, 2^64, 2^256 − 1, 2^256, −1, −0, 1e400,
 * 1.5, "007", "", huge digit strings, its own range's ends) as JSON numbers and as JSON strings, in
 * otherwise valid requests really signed: a value outside the field's type or form is refused by
 * validation (4xx), a value inside it reaches the handler, and nothing gets a 5xx.
 */
import { expect } from "chai";
import fc from "fast-check";
import { ethers, Wallet } from "ethers";
import { AUTH_HEADERS } from "../../api/auth/request-signature";
import type { ApiTypedData, DclClient } from "../../api/client";
import { startApiHarness, type ApiHarness } from "../support/api-harness";
import { D, R } from "../support/node-harness";

interface Operation {
  method: string;
  path: string; // OpenAPI template, e.g. /v1/agreements/{id}
  query: string[];
  params: Record<string, JsonSchema>; // path and query parameters by name
  body?: JsonSchema;
}

interface JsonSchema {
  type?: string;
  enum?: unknown[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  pattern?: string;
  anyOf?: JsonSchema[];
  required?: string[];
  minimum?: number;
  maximum?: number;
}

interface FuzzRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: Buffer;
  signAs?: number; // index into the fuzzing signers: sign the final request for real
  signWith?: DclClient; // or sign it with this department's client
}

const HTTP_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"];
const INJECT_RUNS = 10_000;
const HTTP_RUNS = 600;

const U64_MAX = (2n ** 64n - 1n).toString();
const U64_OVER = (2n ** 64n).toString();
const U256_MAX = (2n ** 256n - 1n).toString();
const U256_OVER = (2n ** 256n).toString();
/** Boundary values of numeric fields as JSON number literals (sent as written, so 1e400 and 2^64 arrive exactly). */
const BOUNDARY_LITERALS = [
  "0", "1", "-0", "-1", "0.5", "1.5", "1.0", "1e3", "1E2", "007", "1e400", "-1e400",
  "4294967295", "4294967296", "9007199254740991", "9007199254740992", U64_MAX, U64_OVER, U256_MAX, U256_OVER, "9".repeat(400),
];
/** The same and more as JSON strings (and as the text of path and query parameters). */
const BOUNDARY_STRINGS = [...BOUNDARY_LITERALS, "", " 1", "1 ", "+1", "0x10", "1_000", "NaN", "Infinity", "\u0661"];
/** Canonical decimal, as the API reads numbers given as text. */
const DECIMAL = /^(0|[1-9][0-9]*)$/;

/** Status and error-code tallies for the report. */
class Tally {
  readonly statuses = new Map<number, number>();
  readonly codes = new Map<string, number>();
  total = 0;
  add(status: number, code?: string): void {
    this.total++;
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
    if (code) this.codes.set(code, (this.codes.get(code) ?? 0) + 1);
  }
  toString(): string {
    const sorted = <K>(m: Map<K, number>) => [...m].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k}×${n}`).join(" ");
    return `${this.total} requests; statuses: ${sorted(this.statuses)}; codes: ${sorted(this.codes)}`;
  }
}

/** The operations of the app's OpenAPI document. */
function operationsOf(doc: { paths: Record<string, Record<string, { parameters?: { in: string; name: string; schema: JsonSchema }[]; requestBody?: { content: Record<string, { schema: JsonSchema }> } }>> }): Operation[] {
  const ops: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      ops.push({
        method: method.toUpperCase(),
        path,
        query: (op.parameters ?? []).filter((p) => p.in === "query").map((p) => p.name),
        params: Object.fromEntries((op.parameters ?? []).map((p) => [p.name, p.schema])),
        body: op.requestBody?.content["application/json"]?.schema,
      });
    }
  }
  return ops;
}

/** Checks one answer against invariant 6; returns the error code, if any. */
function checkAnswer(what: string, method: string, status: number, headers: Record<string, unknown>, text: string): string | undefined {
  expect(status, `${what} → ${status} ${text.slice(0, 300)}`).to.be.below(500);
  expect(headers["x-request-id"], `${what}: x-request-id`).to.be.a("string").and.not.equal("");
  if (status < 400 || method === "HEAD") return undefined;
  let body: unknown;
  expect(() => (body = JSON.parse(text)), `${what} → ${status}: body is not JSON: ${text.slice(0, 200)}`).not.to.throw();
  expect(Object.keys(body as object), `${what}: ${text.slice(0, 200)}`).to.deep.equal(["error"]);
  const err = (body as { error: Record<string, unknown> }).error;
  expect(Object.keys(err).sort(), `${what}: ${text.slice(0, 200)}`).to.deep.equal(["code", "message"]);
  expect(err.code, `${what}: ${text.slice(0, 200)}`).to.be.a("string").and.match(/^[A-Z][A-Z0-9_]*$/);
  expect(err.message, `${what}: ${text.slice(0, 200)}`).to.be.a("string");
  return err.code as string;
}

describe("api fuzz: malformed requests never get a 5xx", function () {
  this.timeout(300_000);
  let h: ApiHarness;
  let ops: Operation[];
  let signers: DclClient[];
  const rejections: unknown[] = [];
  const onRejection = (err: unknown) => rejections.push(err);

  before(async () => {
    h = await startApiHarness();
    ops = operationsOf(h.app.swagger() as never);
    // Fuzzing signers: departments without the governor role, so nothing they do can disable the
    // departments used for the final check (cad, civil) or the governor.
    signers = [h.client.tax, h.client.water, h.client.regulator, h.client.exchange];
    process.on("unhandledRejection", onRejection);
  });
  after(async () => {
    process.off("unhandledRejection", onRejection);
    await h?.stop();
  });

  /** The request generator; values come from pools of valid, nearly valid and hostile values. */
  function requests(): fc.Arbitrary<FuzzRequest> {
    const now = Math.floor(Date.now() / 1000);
    const hex = (n: number) => fc.uint8Array({ minLength: n, maxLength: n }).map((b) => ethers.hexlify(b));
    const printable = fc.string({ unit: fc.constantFrom(..."abcXYZ019 -_.:;/?#[]@!$&'()*+,=%~\"<>\\^`{|}"), maxLength: 40 });
    const bytes32 = fc.oneof(fc.constantFrom(...Object.values(D), ...Object.values(R), ethers.ZeroHash), hex(32));
    const address = fc.oneof(fc.constantFrom(...Object.values(h.keys).map((k) => k.address), h.operator.address, ethers.ZeroAddress), hex(20));
    const hostileString = fc.oneof(
      printable,
      fc.constantFrom("", "0x", "0x0", "-1", "1e400", "NaN", "null", "true", "__proto__", "constructor", "../../etc/passwd", "%00", "\u0000", "💥", "A".repeat(5000)),
      fc.constantFrom(...BOUNDARY_STRINGS),
      hex(31), hex(33), hex(65), bytes32.map((s) => s.toUpperCase()), bytes32.map((s) => s.slice(2)),
    );
    const hostileNumber = fc.oneof(
      fc.integer(), fc.double(), fc.constantFrom(0, -1, 1, 2 ** 32 - 1, 2 ** 32, 2 ** 40, 2 ** 53 - 1, 2 ** 53, 2 ** 64, 2 ** 256, 1e308, -0, 0.5, 1.5, now, now + 3600, now - 3600, 190000, 190001, 999912, 999913),
    );
    const leaf: fc.Arbitrary<unknown> = fc.oneof(
      hostileString, hostileNumber, bytes32, address, hex(65), fc.boolean(), fc.constant(null),
      fc.constant([]), fc.constant({}), fc.constantFrom("fees", "separate", "explicit", "served", "refused", "governor", "regulator", "city", "water-resource-fee", "cq.test.fuzz"),
    );

    /** A value shaped after `schema`, every part of which may be replaced by a hostile one. */
    const shaped = (schema: JsonSchema | undefined, depth: number): fc.Arbitrary<unknown> => {
      if (!schema || depth > 3) return leaf;
      const options: fc.Arbitrary<unknown>[] = [];
      if (schema.enum) options.push(fc.constantFrom(...schema.enum));
      if (schema.anyOf) options.push(...schema.anyOf.map((s) => shaped(s, depth + 1)));
      if (schema.type === "object" && schema.properties) {
        const keys = Object.keys(schema.properties);
        options.push(
          fc
            .tuple(fc.subarray(keys), fc.dictionary(fc.constantFrom("extra", "__proto__", "constructor", "admin"), leaf, { maxKeys: 1 }), fc.boolean())
            .chain(([present, extra, withExtra]) =>
              fc.record(Object.fromEntries(present.map((k) => [k, shaped(schema.properties![k], depth + 1)]))).map((o) => (withExtra ? { ...o, ...extra } : o)),
            ),
        );
      }
      if (schema.type === "array") options.push(fc.array(shaped(schema.items, depth + 1), { maxLength: 4 }));
      if (schema.type === "string") {
        if (schema.pattern?.includes("{64}")) options.push(bytes32);
        else if (schema.pattern?.includes("{40}")) options.push(address);
        else if (schema.pattern?.includes("{130}")) options.push(hex(65));
        else options.push(hostileString);
      }
      if (schema.type === "integer" || schema.type === "number") options.push(hostileNumber);
      if (schema.type === "boolean") options.push(fc.boolean());
      return options.length ? fc.oneof({ weight: 4, arbitrary: fc.oneof(...options) }, { weight: 1, arbitrary: leaf }) : leaf;
    };

    /** A value that satisfies `schema` as far as the OpenAPI document says (refinements aside), to reach the handlers. */
    const valid = (schema: JsonSchema | undefined, depth: number): fc.Arbitrary<unknown> => {
      if (!schema || depth > 3) return fc.constant("x");
      if (schema.enum) return fc.constantFrom(...schema.enum);
      if (schema.anyOf) return fc.oneof(...schema.anyOf.map((s) => valid(s, depth + 1)));
      switch (schema.type) {
        case "object": {
          const props = schema.properties ?? {};
          const required = schema.required ?? [];
          const optional = Object.keys(props).filter((k) => !required.includes(k));
          return fc.subarray(optional).chain((extra) => fc.record(Object.fromEntries([...required, ...extra].map((k) => [k, valid(props[k], depth + 1)]))));
        }
        case "array":
          return fc.array(valid(schema.items, depth + 1), { minLength: 1, maxLength: 3 });
        case "string":
          if (schema.pattern?.includes("{64}")) return bytes32;
          if (schema.pattern?.includes("{40}")) return address;
          if (schema.pattern?.includes("{130}")) return hex(65);
          if (schema.pattern?.includes("[0-9]")) return fc.constantFrom("0", "1", "10", "1000");
          return fc.constantFrom("fees", "cq.test.fuzz", "510102199001011234", "audit-reason");
        case "integer":
        case "number":
          return fc
            .constantFrom(0, 1, 3, 202401, now, now + 3600, now - 60, ...[schema.minimum, schema.maximum].filter((n): n is number => n !== undefined))
            .filter((n) => n >= (schema.minimum ?? -Infinity) && n <= (schema.maximum ?? Infinity));
        case "boolean":
          return fc.boolean();
        default:
          return leaf;
      }
    };

    const pathParam = fc.oneof(
      { weight: 5, arbitrary: bytes32 },
      { weight: 2, arbitrary: address },
      { weight: 2, arbitrary: fc.oneof(fc.nat().map(String), fc.constantFrom("-1", "0", "1.5", "1e3", "9007199254740993", "NaN", "")) },
      { weight: 2, arbitrary: hostileString.map((s) => encodeURIComponent(s)) },
      { weight: 1, arbitrary: fc.constantFrom("%zz", "%", "..", ".", "%2F", "a/b", "%00", "%E2%82") },
    );
    const queryValue = fc.oneof(bytes32, hostileString.map(encodeURIComponent), fc.nat().map(String), fc.constantFrom("", "-1", "%zz", "0", "500", "501", "served", "x&y=z"), fc.constantFrom(...BOUNDARY_STRINGS).map(encodeURIComponent));

    const path = fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom(...ops).chain((op) => fc.tuple(fc.constant(op), fc.array(pathParam, { minLength: 3, maxLength: 3 }))).map(([op, params]) => ({ op, path: fillPath(op.path, params) })) },
      { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...ops), pathParam).map(([op, extra]) => ({ op, path: `${fillPath(op.path, [ethers.ZeroHash, ethers.ZeroAddress, "0"])}/${extra}` })) },
      { weight: 1, arbitrary: fc.constantFrom("/", "//", "/v1", "/v1/", "/v2/access", "/v1//access", "/v1/access/", "/V1/ACCESS", "/docs/../v1/access", "/openapi.json/x", "/metrics?x", "/%", "/v1/%zz").map((p) => ({ op: undefined, path: p })) },
    );
    const query = (op: Operation | undefined) =>
      fc.array(fc.tuple(fc.oneof(fc.constantFrom(...(op?.query.length ? op.query : ["x"]), "limit", "after", "__proto__", "index"), printable.map(encodeURIComponent)), queryValue), { maxLength: 4 })
        .map((pairs) => (pairs.length ? "?" + pairs.map(([k, v]) => `${k}=${v}`).join("&") : ""));

    const body = (op: Operation | undefined): fc.Arbitrary<Buffer | undefined> =>
      fc.oneof(
        { weight: 2, arbitrary: fc.constant(undefined) },
        { weight: 5, arbitrary: shaped(op?.body, 0).map((v) => Buffer.from(JSON.stringify(v) ?? "null")) },
        { weight: 4, arbitrary: valid(op?.body, 0).map((v) => Buffer.from(JSON.stringify(v) ?? "null")) },
        { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => Buffer.from(JSON.stringify(v))) },
        { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)) },
        { weight: 1, arbitrary: fc.constantFrom("{", "[1,", '{"a":}', "nul", '"', "{}}", "\u0000", '{"calls":[' + "[".repeat(2000)).map((s) => Buffer.from(s)) },
        { weight: 1, arbitrary: shaped(op?.body, 0).map((v) => Buffer.from(JSON.stringify(v) ?? "").subarray(0, -1)) },
      );

    const headerValue = (name: string) =>
      fc.oneof(
        printable,
        name === AUTH_HEADERS.department ? bytes32 : name === AUTH_HEADERS.signer ? address : name === AUTH_HEADERS.signature ? hex(65) : name === AUTH_HEADERS.nonce ? hex(16).map((s) => s.slice(2)) : fc.constantFrom(String(now), String(now - 1000), "0", "999999999999", "-1"),
      );
    const authHeaders = fc.record(Object.fromEntries(Object.values(AUTH_HEADERS).map((n) => [n, headerValue(n)])), { requiredKeys: [] }) as fc.Arbitrary<Record<string, string>>;
    const contentType = fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom("application/json", "application/json; charset=utf-8", "APPLICATION/JSON", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonx", "*/*", "", ";") });

    // Well-formed and signed for real: these reach the handlers (and the chain), where the state is wrong more often than the input.
    const deep: fc.Arbitrary<FuzzRequest> = fc
      .constantFrom(...ops)
      .chain((op) =>
        fc.record({
          op: fc.constant(op),
          params: fc.record(Object.fromEntries(Object.entries(op.params).map(([name, schema]) => [name, valid(schema, 0).map(String)])), { requiredKeys: (op.path.match(/\{(\w+)\}/g) ?? []).map((m) => m.slice(1, -1)) }),
          body: op.body ? valid(op.body, 0).map((v) => Buffer.from(JSON.stringify(v))) : fc.constant(undefined),
          signAs: fc.nat(signers.length - 1),
        }),
      )
      .map(({ op, params, body: payload, signAs }) => {
        const path = op.path.replace(/\{(\w+)\}/g, (_m, name: string) => encodeURIComponent(params[name] as string));
        const q = op.query.filter((k) => params[k] !== undefined).map((k) => `${k}=${encodeURIComponent(params[k] as string)}`).join("&");
        const headers: Record<string, string> = payload ? { "content-type": "application/json" } : {};
        return { method: op.method, url: path + (q ? `?${q}` : ""), headers, payload, signAs };
      });

    const hostile = fc
      .tuple(path, fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom(...HTTP_METHODS) }))
      .chain(([{ op, path: p }, method]) =>
        fc.record({
          method: fc.constant(method ?? op?.method ?? "GET"),
          url: query(op).map((q) => p + q),
          payload: body(op),
          auth: authHeaders,
          contentType,
          requestId: fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.oneof(printable, fc.constantFrom("trace-1", "a".repeat(65))) }),
          signAs: fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.nat(signers.length - 1) }),
        }),
      )
      .map(({ method, url, payload, auth, contentType: ct, requestId, signAs }) => {
        const headers: Record<string, string> = { ...auth };
        if (ct !== undefined && payload !== undefined) headers["content-type"] = ct;
        else if (payload !== undefined) headers["content-type"] = "application/json";
        if (requestId !== undefined) headers["x-request-id"] = requestId;
        return { method, url, headers, payload: method === "GET" || method === "HEAD" ? undefined : payload, signAs };
      });
    return fc.oneof({ weight: 4, arbitrary: hostile }, { weight: 1, arbitrary: deep });
  }

  /** Replaces the request's auth headers with a real signature by one of the fuzzing signers. */
  async function finalise(r: FuzzRequest): Promise<FuzzRequest> {
    const signer = r.signWith ?? (r.signAs === undefined ? undefined : signers[r.signAs]);
    if (!signer) return r;
    const auth = await signer.signHeaders(r.method, r.url, r.payload ?? new Uint8Array());
    return { ...r, headers: { ...r.headers, ...auth } };
  }

  it(`answers ${INJECT_RUNS} generated requests through inject without a 5xx, each failure in the error shape`, async () => {
    const tally = new Tally();
    await fc.assert(
      fc.asyncProperty(requests(), async (generated) => {
        const r = await finalise(generated);
        const res = await h.app.inject({ method: r.method as "GET", url: r.url, headers: r.headers, payload: r.payload });
        tally.add(res.statusCode, checkAnswer(`${r.method} ${r.url}`, r.method, res.statusCode, res.headers, res.body));
      }),
      { numRuns: INJECT_RUNS },
    );
    console.log(`      inject: ${tally}`);
    expect(tally.total).to.equal(INJECT_RUNS);
    // The generator reaches past validation and authentication, not only the first checks.
    expect([...tally.statuses.keys()].filter((s) => s < 300), "some requests were served").not.to.be.empty;
    for (const code of ["VALIDATION_FAILED", "AUTH_MISSING", "AUTH_MALFORMED", "AUTH_BAD_SIGNATURE", "ROUTE_NOT_FOUND", "MALFORMED_JSON", "UNSUPPORTED_MEDIA_TYPE"]) {
      expect(tally.codes.get(code) ?? 0, `${code} was generated`).to.be.above(0);
    }
  });

  it(`answers ${HTTP_RUNS} generated requests over real HTTP the same way, 25 at a time`, async () => {
    const tally = new Tally();
    const sample = fc.sample(requests(), HTTP_RUNS);
    for (let i = 0; i < sample.length; i += 25) {
      await Promise.all(
        sample.slice(i, i + 25).map(async (generated) => {
          const r = await finalise(generated);
          const res = await fetch(h.baseUrl + r.url, { method: r.method, headers: r.headers, body: r.payload as BodyInit | undefined });
          const text = await res.text();
          tally.add(res.status, checkAnswer(`HTTP ${r.method} ${r.url}`, r.method, res.status, { "x-request-id": res.headers.get("x-request-id") ?? undefined }, text));
        }),
      );
    }
    console.log(`      http: ${tally}`);
    expect(tally.total).to.equal(HTTP_RUNS);
  });

  it("refuses each numeric field's boundary values outside its type or form (4xx), lets those inside reach the handler, never a 5xx", async () => {
    const fields = await numericFields();
    // Every number the OpenAPI document describes is swept (records' and results' fields are not in it: listed by hand).
    const described = ops.flatMap(numericFieldsOf);
    expect(described.length, "numeric fields in the OpenAPI document").to.be.above(15);
    expect(fields.filter((f) => !f.undescribed && !described.includes(f.key)).map((f) => f.key), "swept fields the document does not describe").to.deep.equal([]);
    // A field not listed in numericFields yet (a new route) is still swept, in a request otherwise empty, for
    // "never a 5xx" only; listing it there adds the checks that need a valid request around it.
    const unlisted = described.filter((k) => !fields.some((f) => f.key === k));
    if (unlisted.length) console.log(`      boundaries: swept for "no 5xx" only, add to numericFields: ${unlisted.join(", ")}`);

    const tally = new Tally();
    const reached = new Map<string, number>();
    for (const key of unlisted) {
      const [method, template, where] = key.split(" ");
      const [place, ...at] = where.split(".");
      const path = template.replace(/\{(\w+)\}/g, (_m, name: string) => (place === "path" && at[0] === name ? "__BOUNDARY__" : ethers.ZeroHash));
      const texts = [...BOUNDARY_STRINGS.map((t) => JSON.stringify(t)), ...BOUNDARY_LITERALS];
      for (const text of place === "body" ? texts : BOUNDARY_STRINGS) {
        const payload = place === "body" ? Buffer.from(JSON.stringify(setAt({}, at.map((k) => (/^\d+$/.test(k) ? Number(k) : k)), "__BOUNDARY__")).replace('"__BOUNDARY__"', text)) : undefined;
        const url = place === "path" ? path.replace("__BOUNDARY__", encodeURIComponent(text)) : place === "query" ? `${path}?${at[0]}=${encodeURIComponent(text)}` : path;
        const r = await finalise({ method, url, headers: payload ? { "content-type": "application/json" } : {}, payload, signWith: h.client.tax });
        const res = await h.app.inject({ method: method as "GET", url: r.url, headers: r.headers, payload: r.payload });
        tally.add(res.statusCode, checkAnswer(`${key} = ${text}`.slice(0, 200), method, res.statusCode, res.headers, res.body));
      }
    }
    for (const f of fields) {
      const edges = [f.min - 1n, f.min, f.max, f.max + 1n].filter((n) => n >= -1n).map(String);
      const values: { kind: "literal" | "string"; text: string }[] =
        f.where === "body"
          ? [...[...BOUNDARY_LITERALS, ...edges].map((text) => ({ kind: "literal" as const, text })), ...[...BOUNDARY_STRINGS, ...edges].map((text) => ({ kind: "string" as const, text }))]
          : [...new Set([...BOUNDARY_STRINGS, ...edges])].map((text) => ({ kind: "string" as const, text }));
      for (const v of values) {
        const r = await finalise(f.request(v));
        const res = await h.app.inject({ method: r.method as "GET", url: r.url, headers: r.headers, payload: r.payload });
        const what = `${f.key} = ${v.kind === "literal" ? v.text : JSON.stringify(v.text)}`.slice(0, 200);
        const code = checkAnswer(what, r.method, res.statusCode, res.headers, res.body);
        tally.add(res.statusCode, code);
        // Refused for this value: one of the field's validation codes, and a VALIDATION_FAILED names the
        // field (body/…, querystring/…, params/…); one about another rule (from < to, …) does not.
        const message = code ? String((JSON.parse(res.body) as { error: { message: string } }).error.message) : "";
        const validation = code !== undefined && f.refusedAs.includes(code) && (code !== "VALIDATION_FAILED" || message.includes(`${f.path}: `));
        if (accepts(f, v)) {
          expect(validation, `${what}: inside the field's range, it must reach the handler → ${res.statusCode} ${res.body.slice(0, 300)}`).to.equal(false);
          reached.set(f.key, (reached.get(f.key) ?? 0) + 1);
        } else {
          expect(validation, `${what}: outside the field's type or form, validation refuses it → ${res.statusCode} ${res.body.slice(0, 300)}`).to.equal(true);
          expect(res.statusCode, what).to.be.oneOf([400, 404, 414]);
        }
      }
    }
    console.log(`      boundaries: ${tally}`);
    for (const f of fields) expect(reached.get(f.key) ?? 0, `${f.key}: some values reach the handler`).to.be.above(0);
  });

  /** The numeric fields of the routes, each with its range, wire form and a valid signed request around it. */
  async function numericFields(): Promise<NumericField[]> {
    const now = Math.floor(Date.now() / 1000);
    const [tax, water, cad, regulator, civil] = [h.client.tax, h.client.water, h.client.cad, h.client.regulator, h.client.civil];
    // A water transfer of one record, on chain: disputes, records and reconciliations have something to act on.
    const record = { payer: "91500000MA5U000001", permitNo: "CQ-WR-FUZZ-1", period: "202405", volumeM3: "100", rateFenPerM3: "15", amountFen: "1500" };
    const t = await water.post<{ id: string; typedData: ApiTypedData }>("/v1/transfers", { to: D.tax, category: "water-resource-fee", period: 202405, records: [record] });
    await water.post(`/v1/transfers/${t.id}/signatures`, { signature: await water.signTypedData(t.typedData) });
    await tax.post(`/v1/transfers/${t.id}/signatures`, { signature: await tax.signTypedData(t.typedData) });
    const leaf = (await tax.get<{ leafHash: string }>(`/v1/transfers/${t.id}/records/0`)).leafHash;

    const SAFE = BigInt(Number.MAX_SAFE_INTEGER);
    const U64 = 2n ** 64n - 1n;
    const U32 = 2n ** 32n - 1n;
    const FEE = 10n ** 18n - 1n; // fee records: at most 18 digits
    const BODY = ["VALIDATION_FAILED", "MALFORMED_JSON"];
    const QUERY = ["VALIDATION_FAILED"];
    const PATH = ["VALIDATION_FAILED", "ROUTE_NOT_FOUND", "URI_TOO_LONG"]; // the router caps path parameters at 100 characters
    const agreement = { provider: D.water, consumer: D.tax, resource: R.waterFees, purpose: "fuzz", quota: "10", validFrom: now - 60, validUntil: now + 3600 };
    const consent = { subjectId: "500101199001011234", grantee: D.tax, resource: R.residents, purpose: "fuzz", kind: "explicit", validUntil: now + 3600, evidenceHash: ethers.id("fuzz form") };
    const transfer = (category: string, rec: object) => ({ to: D.tax, category, period: 202405, records: [rec] });
    const cadRecord = { payer: "91500000MA5U000001", constructionPermitNo: "CQ-JZ-FUZZ-1", areaM2: "10", rateFenPerM2: "6000", amountFen: "60000" };
    const result = { recordLeafHash: leaf, paidFen: "1500", paidDate: "20240610", voucherNo: "V-FUZZ", status: "paid" };
    const call = { agreementId: ethers.id("fuzz: no agreement"), recordCount: 1, requestHash: ethers.id("q"), responseHash: ethers.id("r") };
    const tid = t.id;
    // A receipt posted back with its entry, as POST /v1/access gave them.
    const logged = (await tax.post<{ results: { receipt: object; entry: object }[] }>("/v1/access", { calls: [call] })).results[0];
    const receiptCheck = { receipts: [{ receipt: logged.receipt, entry: logged.entry }] };

    const body = (as: DclClient, method: string, path: string, template: string, base: object, at: (string | number)[], form: "number" | "string", min: bigint, max: bigint, refusedAs = BODY, undescribed = false): NumericField => ({
      key: `${method} ${template} body.${at.join(".")}`, where: "body", path: `body/${at.join("/")}`, form, min, max, refusedAs, undescribed,
      request: (v) => {
        const json = JSON.stringify(setAt(base, at, "__BOUNDARY__")).replace('"__BOUNDARY__"', v.kind === "literal" ? v.text : JSON.stringify(v.text));
        return { method, url: path, headers: { "content-type": "application/json" }, payload: Buffer.from(json), signWith: as };
      },
    });
    const query = (as: DclClient, path: string, template: string, base: Record<string, string>, name: string, min: bigint, max: bigint): NumericField => ({
      key: `GET ${template} query.${name}`, where: "query", path: `querystring/${name}`, form: "param", min, max, refusedAs: QUERY,
      request: (v) => {
        const q = Object.entries({ ...base, [name]: v.text }).map(([k, x]) => `${k}=${encodeURIComponent(x)}`).join("&");
        return { method: "GET", url: `${path}?${q}`, headers: {}, signWith: as };
      },
    });
    const [TAX, WATER, REGULATOR, CAD, CIVIL] = [tax, water, regulator, cad, civil];
    const fields: NumericField[] = [
      body(TAX, "POST", "/v1/agreements", "/v1/agreements", agreement, ["quota"], "string", 0n, U64),
      body(TAX, "POST", "/v1/agreements", "/v1/agreements", agreement, ["nonce"], "string", 0n, U64),
      body(TAX, "POST", "/v1/agreements", "/v1/agreements", agreement, ["validFrom"], "number", 0n, 2n ** 40n),
      body(TAX, "POST", "/v1/agreements", "/v1/agreements", agreement, ["validUntil"], "number", 0n, 2n ** 40n),
      body(CIVIL, "POST", "/v1/consents", "/v1/consents", consent, ["validUntil"], "number", 0n, 2n ** 40n),
      body(TAX, "POST", "/v1/consents/check", "/v1/consents/check", { subject: ethers.id("s"), grantee: D.tax, resource: R.residents, purpose: "fuzz" }, ["at"], "number", 0n, 2n ** 40n),
      body(WATER, "POST", "/v1/transfers", "/v1/transfers", transfer("water-resource-fee", record), ["period"], "number", 190001n, 999912n),
      body(TAX, "POST", "/v1/access", "/v1/access", { calls: [call] }, ["calls", 0, "recordCount"], "number", 0n, U32),
      body(TAX, "POST", `/v1/transfers/${tid}/disputes/typed-data`, "/v1/transfers/{id}/disputes/typed-data", { leafIndex: 0, reason: "fuzz" }, ["leafIndex"], "number", 0n, SAFE),
      body(TAX, "POST", `/v1/transfers/${tid}/disputes`, "/v1/transfers/{id}/disputes", { leafIndex: 0, reason: "fuzz", signature: "0x" + "11".repeat(64) + "1b" }, ["leafIndex"], "number", 0n, SAFE),
      body(REGULATOR, "POST", "/v1/evidence", "/v1/evidence", { indices: [0] }, ["indices", 0], "number", 0n, SAFE),
      ...["index", "batch.first"].map((k) => body(TAX, "POST", "/v1/receipts/check", "/v1/receipts/check", receiptCheck, ["receipts", 0, "receipt", ...k.split(".")], "number", 0n, SAFE)),
      body(TAX, "POST", "/v1/receipts/check", "/v1/receipts/check", receiptCheck, ["receipts", 0, "receipt", "batch", "count"], "number", 1n, SAFE),
      body(TAX, "POST", "/v1/receipts/check", "/v1/receipts/check", receiptCheck, ["receipts", 0, "entry", "time"], "number", 0n, SAFE),
      body(TAX, "POST", "/v1/receipts/check", "/v1/receipts/check", receiptCheck, ["receipts", 0, "entry", "recordCount"], "number", 0n, U32),
      // Fee records and collection results: objects the API checks by category, so not in the OpenAPI document.
      ...["volumeM3", "rateFenPerM3", "amountFen"].map((k) => body(WATER, "POST", "/v1/transfers", "/v1/transfers", transfer("water-resource-fee", record), ["records", 0, k], "string", 0n, FEE, ["RECORD_INVALID", "MALFORMED_JSON"], true)),
      ...["areaM2", "rateFenPerM2"].map((k) => body(CAD, "POST", "/v1/transfers", "/v1/transfers", transfer("civil-air-defence-relocation-fee", cadRecord), ["records", 0, k], "string", 0n, FEE, ["RECORD_INVALID", "MALFORMED_JSON"], true)),
      body(TAX, "POST", `/v1/transfers/${tid}/reconciliation`, "/v1/transfers/{id}/reconciliation", { results: [result] }, ["results", 0, "paidFen"], "string", 0n, FEE, ["RESULT_INVALID", "MALFORMED_JSON"], true),
      query(TAX, "/v1/log/proofs/inclusion", "/v1/log/proofs/inclusion", {}, "index", 0n, SAFE),
      query(TAX, "/v1/log/proofs/inclusion", "/v1/log/proofs/inclusion", { index: "0" }, "treeSize", 0n, SAFE),
      query(TAX, "/v1/log/proofs/consistency", "/v1/log/proofs/consistency", {}, "from", 0n, SAFE),
      query(TAX, "/v1/log/proofs/consistency", "/v1/log/proofs/consistency", { from: "1" }, "to", 0n, SAFE),
      ...["from", "to", "after"].map((k) => query(REGULATOR, "/v1/audit/entries", "/v1/audit/entries", { consumer: D.tax }, k, 0n, SAFE)),
      query(REGULATOR, "/v1/audit/entries", "/v1/audit/entries", { consumer: D.tax }, "limit", 1n, 500n),
      query(TAX, "/v1/activity", "/v1/activity", {}, "from", 0n, 2n ** 40n),
      query(TAX, "/v1/activity", "/v1/activity", { from: "0" }, "to", 0n, 2n ** 40n),
      query(REGULATOR, "/v1/activity", "/v1/activity", {}, "buckets", 1n, 200n),
      ...["/v1/audit/assessments", "/v1/audit/period-bundle"].flatMap((p) => [
        query(REGULATOR, p, p, { to: String(2 ** 40) }, "from", 0n, SAFE),
        query(REGULATOR, p, p, { from: "0" }, "to", 0n, SAFE),
        query(REGULATOR, p, p, { from: "0", to: String(2 ** 40) }, "treeSize", 0n, SAFE),
      ]),
      {
        key: "GET /v1/transfers/{id}/records/{index} path.index", where: "path", path: "params/index", form: "param", min: 0n, max: SAFE, refusedAs: PATH,
        request: (v) => ({ method: "GET", url: `/v1/transfers/${tid}/records/${encodeURIComponent(v.text)}`, headers: {}, signWith: TAX }),
      },
    ];
    return fields;
  }

  it("is still up and serving signed requests afterwards", async () => {
    expect(rejections, "unhandled rejections during fuzzing").to.deep.equal([]);
    const health = await fetch(h.baseUrl + "/healthz");
    expect(health.status).to.equal(200);
    for (const c of [h.client.cad, h.client.civil]) {
      const d = await c.get<{ id: string; active: boolean }>(`/v1/departments/${c.department}`);
      expect(d).to.include({ id: c.department, active: true });
    }
    const checked = await h.client.cad.post<{ valid: boolean }>("/v1/consents/check", { subject: ethers.id("s"), grantee: D.tax, resource: R.residents, purpose: "p" });
    expect(checked.valid).to.equal(false);
    const stranger = new Wallet(Wallet.createRandom().privateKey);
    await h.client.cad.as(D.cad, stranger).get(`/v1/departments/${D.cad}`).then(
      () => expect.fail("a stranger's key was accepted"),
      (err: { status: number; code: string }) => expect([err.status, err.code]).to.deep.equal([403, "AUTH_NOT_DEPARTMENT_SIGNER"]),
    );
  });
});

/** A numeric field of a route: where it is, its wire form and range, and a valid request with a given value in it. */
interface NumericField {
  key: string; // "METHOD /template where.path"
  where: "body" | "query" | "path";
  path: string; // as validation messages name it: body/calls/0/recordCount, querystring/limit, params/index
  form: "number" | "string" | "param";
  min: bigint;
  max: bigint;
  /** The codes validation refuses a value with (record and result fields: their service's code). */
  refusedAs: string[];
  /** A field the OpenAPI document does not describe (inside fee records and collection results). */
  undescribed?: boolean;
  request(v: { kind: "literal" | "string"; text: string }): FuzzRequest;
}

/** Whether `v` is a valid value of field `f`: its wire form, canonical where it is text, within the range. */
function accepts(f: NumericField, v: { kind: "literal" | "string"; text: string }): boolean {
  const inRange = (n: bigint) => n >= f.min && n <= f.max;
  if (f.form === "param" || f.form === "string") return (f.form === "param" || v.kind === "string") && DECIMAL.test(v.text) && inRange(BigInt(v.text));
  if (v.kind !== "literal") return false;
  let n: unknown;
  try {
    n = JSON.parse(v.text);
  } catch {
    return false;
  }
  return typeof n === "number" && Number.isSafeInteger(n) && inRange(BigInt(n));
}

/** The numeric fields (integers, and decimal strings) an operation's OpenAPI schemas describe, as NumericField keys. */
function numericFieldsOf(op: Operation): string[] {
  const isNumeric = (s: JsonSchema | undefined) => s !== undefined && (s.type === "integer" || s.type === "number" || (s.type === "string" && s.pattern === DECIMAL.source));
  const out: string[] = [];
  for (const [name, schema] of Object.entries(op.params)) if (isNumeric(schema)) out.push(`${op.method} ${op.path} ${op.query.includes(name) ? "query" : "path"}.${name}`);
  const walk = (s: JsonSchema | undefined, at: (string | number)[]) => {
    if (!s) return;
    if (isNumeric(s)) out.push(`${op.method} ${op.path} body.${at.join(".")}`);
    for (const [k, p] of Object.entries(s.properties ?? {})) walk(p, [...at, k]);
    if (s.items) walk(s.items, [...at, 0]);
    for (const a of s.anyOf ?? []) walk(a, at);
  };
  walk(op.body, []);
  return out;
}

/** A deep copy of `obj` with the value at `at` replaced by `value` (missing objects and arrays on the way made). */
function setAt(obj: object, at: (string | number)[], value: unknown): object {
  const copy = structuredClone(obj) as Record<string | number, unknown>;
  let o = copy;
  for (const [i, k] of at.slice(0, -1).entries()) {
    o[k] ??= typeof at[i + 1] === "number" ? [] : {};
    o = o[k] as Record<string | number, unknown>;
  }
  o[at[at.length - 1]] = value;
  return copy;
}

/** Fills the `{param}` slots of an OpenAPI path template in order. */
function fillPath(template: string, values: string[]): string {
  let i = 0;
  return template.replace(/\{[^}]+\}/g, () => values[i++ % values.length]);
}
