/**
 * Signed-request authentication and bad input, through real HTTP: each refusal has its own status
 * and code, every error body is exactly `{ error: { code, message } }` with an x-request-id, and a
 * request refused by any check does not burn its nonce.
 */
import { expect } from "chai";
import { ethers, Wallet } from "ethers";
import { DclClient } from "../../api/client";
import { AUTH_HEADERS } from "../../api/auth/request-signature";
import { codeId } from "../../node/chain/ids";
import { startApiHarness, type ApiHarness } from "../support/api-harness";
import { D, R } from "../support/node-harness";

interface Answer {
  status: number;
  headers: Headers;
  body: unknown;
}

const now = () => Math.floor(Date.now() / 1000);
const freshNonce = () => ethers.hexlify(ethers.randomBytes(16)).slice(2);
const newWallet = () => new Wallet(Wallet.createRandom().privateKey);

/** Sends a request with exactly these headers and body bytes. */
async function send(baseUrl: string, method: string, path: string, headers: Record<string, string> = {}, body?: string | Uint8Array): Promise<Answer> {
  const res = await fetch(baseUrl + path, { method, headers, body: body as BodyInit | undefined });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: kept as text so the shape assertion fails with it
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

/** Asserts the one error shape, the status, the code and the request id header. */
function expectError(a: Answer, status: number, code: string): void {
  expect(a.status, JSON.stringify(a.body)).to.equal(status);
  expect(a.body).to.be.an("object");
  expect(Object.keys(a.body as object)).to.deep.equal(["error"]);
  const err = (a.body as { error: Record<string, unknown> }).error;
  expect(Object.keys(err).sort()).to.deep.equal(["code", "message"]);
  expect(err.code).to.equal(code);
  expect(err.message).to.be.a("string").and.not.equal("");
  expect(a.headers.get("x-request-id")).to.be.a("string").and.not.equal("");
}

/** A signed request by `c`, optionally with headers changed after signing. */
async function signed(c: DclClient, method: string, path: string, body?: unknown, opts: { timestamp?: number; nonce?: string; override?: Record<string, string> } = {}): Promise<Answer> {
  const bytes = body === undefined ? new Uint8Array() : new TextEncoder().encode(JSON.stringify(body));
  const headers = await c.signHeaders(method, path, bytes, opts);
  if (body !== undefined) headers["content-type"] = "application/json";
  return send(c.options.baseUrl, method, path, { ...headers, ...opts.override }, body === undefined ? undefined : bytes);
}

describe("api auth and bad input", function () {
  let h: ApiHarness;
  let deptPath: string;
  let checkBody: Record<string, unknown>;

  before(async () => {
    h = await startApiHarness();
    deptPath = `/v1/departments/${D.tax}`;
    checkBody = { subject: ethers.id("s"), grantee: D.tax, resource: R.residents, purpose: "fees" };
  });
  after(async () => h?.stop());

  describe("headers", () => {
    it("answers a valid signed request", async () => {
      const a = await signed(h.client.tax, "GET", deptPath);
      expect(a.status).to.equal(200);
      expect((a.body as { id: string }).id).to.equal(D.tax);
      expect(a.headers.get("x-request-id")).to.be.a("string");
    });

    it("refuses a request with no signature headers (401 AUTH_MISSING)", async () => {
      expectError(await send(h.baseUrl, "GET", deptPath), 401, "AUTH_MISSING");
    });

    for (const name of Object.values(AUTH_HEADERS)) {
      it(`refuses a request without ${name} (401 AUTH_MISSING naming it)`, async () => {
        const headers = await h.client.tax.signHeaders("GET", deptPath, new Uint8Array());
        delete headers[name];
        const a = await send(h.baseUrl, "GET", deptPath, headers);
        expectError(a, 401, "AUTH_MISSING");
        expect((a.body as { error: { message: string } }).error.message).to.contain(name);
      });
    }

    const malformed: [string, string][] = [
      [AUTH_HEADERS.department, "0x1234"],
      [AUTH_HEADERS.department, "cq.tax"],
      [AUTH_HEADERS.signer, "0xnot-an-address"],
      [AUTH_HEADERS.signer, "0x" + "a".repeat(39)],
      [AUTH_HEADERS.timestamp, "-5"],
      [AUTH_HEADERS.timestamp, "1.5"],
      [AUTH_HEADERS.timestamp, "soon"],
      [AUTH_HEADERS.nonce, "abc"],
      [AUTH_HEADERS.nonce, "z".repeat(32)],
      [AUTH_HEADERS.nonce, "a".repeat(65)],
      [AUTH_HEADERS.signature, "0x00"],
      [AUTH_HEADERS.signature, "0x" + "g".repeat(130)],
    ];
    for (const [name, value] of malformed) {
      it(`refuses ${name}: ${JSON.stringify(value.slice(0, 20))} (401 AUTH_MALFORMED)`, async () => {
        expectError(await signed(h.client.tax, "GET", deptPath, undefined, { override: { [name]: value } }), 401, "AUTH_MALFORMED");
      });
    }

    it("refuses a timestamp too far in the past (401 AUTH_STALE_TIMESTAMP)", async () => {
      expectError(await signed(h.client.tax, "GET", deptPath, undefined, { timestamp: now() - 400 }), 401, "AUTH_STALE_TIMESTAMP");
    });

    it("refuses a timestamp too far in the future (401 AUTH_STALE_TIMESTAMP)", async () => {
      expectError(await signed(h.client.tax, "GET", deptPath, undefined, { timestamp: now() + 400 }), 401, "AUTH_STALE_TIMESTAMP");
    });

    it("accepts a timestamp inside the window", async () => {
      expect((await signed(h.client.tax, "GET", deptPath, undefined, { timestamp: now() - 120 })).status).to.equal(200);
    });
  });

  describe("replays", () => {
    it("refuses a replayed request (401 AUTH_NONCE_REUSED)", async () => {
      const headers = await h.client.tax.signHeaders("GET", deptPath, new Uint8Array());
      expect((await send(h.baseUrl, "GET", deptPath, headers)).status).to.equal(200);
      expectError(await send(h.baseUrl, "GET", deptPath, headers), 401, "AUTH_NONCE_REUSED");
    });

    it("lets exactly one of concurrent copies of a request through", async () => {
      const bytes = new TextEncoder().encode(JSON.stringify(checkBody));
      const headers = { ...(await h.client.tax.signHeaders("POST", "/v1/consents/check", bytes)), "content-type": "application/json" };
      const answers = await Promise.all(Array.from({ length: 8 }, () => send(h.baseUrl, "POST", "/v1/consents/check", headers, bytes)));
      expect(answers.filter((a) => a.status === 200)).to.have.length(1);
      const refused = answers.filter((a) => a.status !== 200);
      expect(refused).to.have.length(7);
      for (const a of refused) expectError(a, 401, "AUTH_NONCE_REUSED");
    });

    it("refuses a department's nonce on another request too", async () => {
      const nonce = freshNonce();
      expect((await signed(h.client.tax, "GET", deptPath, undefined, { nonce })).status).to.equal(200);
      expectError(await signed(h.client.tax, "GET", `/v1/departments/${D.water}`, undefined, { nonce }), 401, "AUTH_NONCE_REUSED");
    });

    it("keeps nonces per department: another department may use the same one", async () => {
      const nonce = freshNonce();
      expect((await signed(h.client.tax, "GET", deptPath, undefined, { nonce })).status).to.equal(200);
      expect((await signed(h.client.water, "GET", deptPath, undefined, { nonce })).status).to.equal(200);
    });
  });

  describe("signature bound to the request", () => {
    it("refuses a body changed after signing (401 AUTH_BAD_SIGNATURE)", async () => {
      const bytes = new TextEncoder().encode(JSON.stringify(checkBody));
      const headers = await h.client.tax.signHeaders("POST", "/v1/consents/check", bytes);
      const changed = JSON.stringify({ ...checkBody, purpose: "other" });
      expectError(await send(h.baseUrl, "POST", "/v1/consents/check", { ...headers, "content-type": "application/json" }, changed), 401, "AUTH_BAD_SIGNATURE");
    });

    it("refuses a body re-serialised after signing (same JSON value, other bytes)", async () => {
      const bytes = new TextEncoder().encode(JSON.stringify(checkBody));
      const headers = await h.client.tax.signHeaders("POST", "/v1/consents/check", bytes);
      const spaced = JSON.stringify(checkBody, null, 1);
      expectError(await send(h.baseUrl, "POST", "/v1/consents/check", { ...headers, "content-type": "application/json" }, spaced), 401, "AUTH_BAD_SIGNATURE");
    });

    it("refuses a path changed after signing", async () => {
      const headers = await h.client.tax.signHeaders("GET", deptPath, new Uint8Array());
      expectError(await send(h.baseUrl, "GET", `/v1/departments/${D.water}`, headers), 401, "AUTH_BAD_SIGNATURE");
    });

    it("refuses a query changed after signing", async () => {
      const headers = await h.client.regulator.signHeaders("GET", `/v1/audit/entries?consumer=${D.tax}`, new Uint8Array());
      expectError(await send(h.baseUrl, "GET", `/v1/audit/entries?consumer=${D.water}`, headers), 401, "AUTH_BAD_SIGNATURE");
      expectError(await send(h.baseUrl, "GET", `/v1/audit/entries?consumer=${D.tax}&limit=1`, headers), 401, "AUTH_BAD_SIGNATURE");
    });

    it("refuses a method changed after signing", async () => {
      const headers = await h.client.tax.signHeaders("DELETE", deptPath, new Uint8Array());
      expectError(await send(h.baseUrl, "GET", deptPath, headers), 401, "AUTH_BAD_SIGNATURE");
    });

    it("refuses a signature made for another chain id", async () => {
      const other = new DclClient({ ...h.client.tax.options, chainId: 1n }, D.tax, h.keys.tax);
      expectError(await signed(other, "GET", deptPath), 401, "AUTH_BAD_SIGNATURE");
    });

    it("refuses a signature made for another registry address", async () => {
      const other = new DclClient({ ...h.client.tax.options, registry: ethers.getAddress("0x" + "11".repeat(20)) }, D.tax, h.keys.tax);
      expectError(await signed(other, "GET", deptPath), 401, "AUTH_BAD_SIGNATURE");
    });

    it("refuses a request claiming another department's header values it did not sign", async () => {
      expectError(await signed(h.client.tax, "GET", deptPath, undefined, { override: { [AUTH_HEADERS.department]: D.water } }), 401, "AUTH_BAD_SIGNATURE");
    });

    it("refuses a signature by a key other than the named signer", async () => {
      expectError(await signed(h.client.tax, "GET", deptPath, undefined, { override: { [AUTH_HEADERS.signer]: h.keys.water.address } }), 401, "AUTH_BAD_SIGNATURE");
    });
  });

  describe("who may act", () => {
    it("refuses another department's key (403 AUTH_NOT_DEPARTMENT_SIGNER)", async () => {
      expectError(await signed(h.client.tax.as(D.tax, h.keys.water), "GET", deptPath), 403, "AUTH_NOT_DEPARTMENT_SIGNER");
    });

    it("refuses a key that never belonged to anyone (403 AUTH_NOT_DEPARTMENT_SIGNER)", async () => {
      expectError(await signed(h.client.tax.as(D.tax, newWallet()), "GET", deptPath), 403, "AUTH_NOT_DEPARTMENT_SIGNER");
    });

    it("refuses an unknown department (403 AUTH_UNKNOWN_DEPARTMENT)", async () => {
      expectError(await signed(h.client.tax.as(codeId("cq.nowhere"), h.keys.tax), "GET", deptPath), 403, "AUTH_UNKNOWN_DEPARTMENT");
    });

    it("refuses a key once it is removed from the department (403 AUTH_KEY_REVOKED)", async () => {
      const key = newWallet();
      const as = h.client.tax.as(D.tax, key);
      expectError(await signed(as, "GET", deptPath), 403, "AUTH_NOT_DEPARTMENT_SIGNER");
      await h.client.tax.changeKeys({ action: "add", signer: key.address });
      expect((await signed(as, "GET", deptPath)).status).to.equal(200);
      await h.client.tax.changeKeys({ action: "remove", signer: key.address });
      expectError(await signed(as, "GET", deptPath), 403, "AUTH_KEY_REVOKED");
      expect((await signed(h.client.tax, "GET", deptPath)).status).to.equal(200);
    });

    it("refuses a deactivated department (403 AUTH_DEPARTMENT_INACTIVE) and accepts it again once reactivated", async () => {
      const key = newWallet();
      const reg = await signed(h.governor, "POST", "/v1/departments", { code: "cq.test.dormant", level: "district", signers: [key.address] });
      expect(reg.status).to.equal(201);
      const id = (reg.body as { id: string }).id;
      const dormant = h.client.tax.as(id, key);
      expect((await signed(dormant, "GET", `/v1/departments/${id}`)).status).to.equal(200);
      expect((await signed(h.governor, "POST", `/v1/departments/${id}/active`, { active: false })).status).to.equal(200);
      expectError(await signed(dormant, "GET", `/v1/departments/${id}`), 403, "AUTH_DEPARTMENT_INACTIVE");
      expect((await signed(h.governor, "POST", `/v1/departments/${id}/active`, { active: true })).status).to.equal(200);
      expect((await signed(dormant, "GET", `/v1/departments/${id}`)).status).to.equal(200);
    });

    it("refuses a role-protected route to a key without the role (403 FORBIDDEN_ROLE)", async () => {
      expectError(await signed(h.client.tax, "GET", `/v1/audit/entries?consumer=${D.tax}`), 403, "FORBIDDEN_ROLE");
      expectError(await signed(h.client.tax, "POST", "/v1/roles", { role: "regulator", account: h.keys.tax.address }), 403, "FORBIDDEN_ROLE");
      expectError(await signed(h.client.tax, "POST", "/v1/evidence", { indices: [0] }), 403, "FORBIDDEN_ROLE");
      expect((await signed(h.client.regulator, "GET", `/v1/audit/entries?consumer=${D.tax}`)).status).to.equal(200);
    });
  });

  describe("a refused request does not burn its nonce", () => {
    const refusals: [string, (c: ApiHarness, nonce: string) => Promise<Answer>, number, string][] = [
      ["a bad signature", (c, nonce) => signed(c.client.tax, "GET", deptPath, undefined, { nonce, override: { [AUTH_HEADERS.signature]: "0x" + "1b".repeat(65) } }), 401, "AUTH_BAD_SIGNATURE"],
      ["a stale timestamp", (c, nonce) => signed(c.client.tax, "GET", deptPath, undefined, { nonce, timestamp: now() - 1000 }), 401, "AUTH_STALE_TIMESTAMP"],
      ["a malformed header", (c, nonce) => signed(c.client.tax, "GET", deptPath, undefined, { nonce, override: { [AUTH_HEADERS.timestamp]: "x" } }), 401, "AUTH_MALFORMED"],
      ["another department's key naming this department", (c, nonce) => signed(c.client.tax.as(D.tax, c.keys.water), "GET", deptPath, undefined, { nonce }), 403, "AUTH_NOT_DEPARTMENT_SIGNER"],
      ["a changed path", async (c, nonce) => send(c.baseUrl, "GET", `/v1/departments/${D.water}`, await c.client.tax.signHeaders("GET", deptPath, new Uint8Array(), { nonce })), 401, "AUTH_BAD_SIGNATURE"],
      ["an invalid body", (c, nonce) => signed(c.client.tax, "POST", "/v1/consents/check", { ...checkBody, surprise: 1 }, { nonce }), 400, "VALIDATION_FAILED"],
    ];
    for (const [what, refuse, status, code] of refusals) {
      it(`after ${what} (${status} ${code}), a valid request with the same nonce passes`, async () => {
        const nonce = freshNonce();
        expectError(await refuse(h, nonce), status, code);
        expect((await signed(h.client.tax, "GET", deptPath, undefined, { nonce })).status).to.equal(200);
        expectError(await signed(h.client.tax, "GET", deptPath, undefined, { nonce }), 401, "AUTH_NONCE_REUSED");
      });
    }
  });

  describe("bad input", () => {
    it("refuses malformed JSON (400 MALFORMED_JSON)", async () => {
      const bytes = new TextEncoder().encode('{"grantee": ');
      const headers = await h.client.tax.signHeaders("POST", "/v1/consents/check", bytes);
      expectError(await send(h.baseUrl, "POST", "/v1/consents/check", { ...headers, "content-type": "application/json" }, bytes), 400, "MALFORMED_JSON");
    });

    it("refuses wrong types (400 VALIDATION_FAILED)", async () => {
      expectError(await signed(h.client.tax, "POST", "/v1/consents/check", { ...checkBody, grantee: 42 }), 400, "VALIDATION_FAILED");
      expectError(await signed(h.client.tax, "POST", "/v1/access", { calls: "all of them" }), 400, "VALIDATION_FAILED");
      expectError(await signed(h.client.tax, "POST", "/v1/agreements", []), 400, "VALIDATION_FAILED");
    });

    it("refuses unknown fields (400 VALIDATION_FAILED)", async () => {
      expectError(await signed(h.client.tax, "POST", "/v1/consents/check", { ...checkBody, admin: true }), 400, "VALIDATION_FAILED");
      expectError(await signed(h.client.regulator, "GET", `/v1/audit/entries?consumer=${D.tax}&sneaky=1`), 400, "VALIDATION_FAILED");
    });

    it("refuses a malformed path parameter (400 VALIDATION_FAILED)", async () => {
      expectError(await signed(h.client.tax, "GET", "/v1/departments/cq.tax"), 400, "VALIDATION_FAILED");
    });

    it("refuses a body that is not JSON (415 UNSUPPORTED_MEDIA_TYPE)", async () => {
      const bytes = new TextEncoder().encode("grantee=tax");
      const headers = await h.client.tax.signHeaders("POST", "/v1/consents/check", bytes);
      expectError(await send(h.baseUrl, "POST", "/v1/consents/check", { ...headers, "content-type": "application/x-www-form-urlencoded" }, bytes), 415, "UNSUPPORTED_MEDIA_TYPE");
      expectError(await send(h.baseUrl, "POST", "/v1/consents/check", { ...headers, "content-type": "text/plain" }, bytes), 415, "UNSUPPORTED_MEDIA_TYPE");
    });

    it("refuses an unknown route (404 ROUTE_NOT_FOUND)", async () => {
      expectError(await send(h.baseUrl, "GET", "/v1/nothing-here"), 404, "ROUTE_NOT_FOUND");
      expectError(await signed(h.client.tax, "PATCH", deptPath, { active: false }), 404, "ROUTE_NOT_FOUND");
    });

    it("refuses a URL that does not decode (400 BAD_URL) in the error shape", async () => {
      expectError(await send(h.baseUrl, "GET", "/v1/departments/%zz"), 400, "BAD_URL");
      expectError(await send(h.baseUrl, "GET", "/%"), 400, "BAD_URL");
    });

    it("refuses a path parameter over the router's length limit (414 URI_TOO_LONG) in the error shape", async () => {
      expectError(await send(h.baseUrl, "GET", `/v1/departments/${"a".repeat(300)}`), 414, "URI_TOO_LONG");
    });

    const unknownId = ethers.id("nobody has this id");
    for (const path of [`/v1/departments/${unknownId}`, `/v1/resources/${unknownId}`, `/v1/agreements/${unknownId}`, `/v1/consents/${unknownId}`, `/v1/transfers/${unknownId}`, `/v1/subjects/erasures/${unknownId}`]) {
      it(`answers 404 NOT_FOUND for GET ${path.replace(unknownId, ":unknown")}`, async () => {
        expectError(await signed(h.client.tax, "GET", path), 404, "NOT_FOUND");
      });
    }

    it("answers 404 NOT_FOUND for a proof of an entry the log does not have", async () => {
      expectError(await send(h.baseUrl, "GET", "/v1/log/proofs/inclusion?index=999999"), 404, "NOT_FOUND");
    });

    it("echoes a well-formed x-request-id and replaces a malformed one", async () => {
      const given = await send(h.baseUrl, "GET", "/v1/nothing-here", { "x-request-id": "trace-123" });
      expect(given.headers.get("x-request-id")).to.equal("trace-123");
      const bad = await send(h.baseUrl, "GET", "/v1/nothing-here", { "x-request-id": "has spaces and ; semicolons" });
      expect(bad.headers.get("x-request-id")).to.match(/^[0-9a-f-]{36}$/);
    });
  });

  describe("limits", () => {
    let small: ApiHarness;
    before(async () => (small = await startApiHarness({ rateLimitPerMinute: 5, bodyLimitBytes: 2048 })));
    after(async () => small?.stop());

    it("refuses the request over a department's rate limit (429 RATE_LIMITED) and leaves other departments alone", async () => {
      for (let i = 0; i < 5; i++) expect((await signed(small.client.tax, "GET", `/v1/departments/${D.tax}`)).status).to.equal(200);
      const over = await signed(small.client.tax, "GET", `/v1/departments/${D.tax}`);
      expectError(over, 429, "RATE_LIMITED");
      expect((await signed(small.client.water, "GET", `/v1/departments/${D.water}`)).status).to.equal(200);
    });

    it("does not let unsigned requests that name a department spend that department's budget", async () => {
      for (let i = 0; i < 8; i++) {
        const forged = await send(small.baseUrl, "GET", `/v1/departments/${D.cad}`, { "x-dcl-department": D.cad });
        expect(forged.status).to.equal(401);
      }
      expect((await signed(small.client.cad, "GET", `/v1/departments/${D.cad}`)).status).to.equal(200);
    });

    it("refuses a body over the limit (413 BODY_TOO_LARGE)", async () => {
      const bytes = new TextEncoder().encode(JSON.stringify({ calls: [], pad: "x".repeat(4096) }));
      expectError(await send(small.baseUrl, "POST", "/v1/access", { "content-type": "application/json" }, bytes), 413, "BODY_TOO_LARGE");
    });
  });
});
