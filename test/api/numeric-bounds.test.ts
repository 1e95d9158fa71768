/**
 * Every number a request carries is bounded by the type it ends up in on chain (or in the log's
 * encoding): a value out of range, or not a canonical decimal, is refused with 400
 * VALIDATION_FAILED naming the field and its range, never a 5xx; the largest value of the type is
 * accepted.
 */
import { expect } from "chai";
import { ethers } from "ethers";
import type { ApiTypedData } from "../../api/client";
import { startApiHarness, type ApiHarness } from "../support/api-harness";
import { D, R } from "../support/node-harness";

const U64_MAX = (2n ** 64n - 1n).toString();
const U64_OVER = (2n ** 64n).toString();
const U256_MAX = (2n ** 256n - 1n).toString();
const U256_OVER = (2n ** 256n).toString();

interface Answer {
  status: number;
  body: { error?: { code: string; message: string } } & Record<string, unknown>;
}

describe("api numeric bounds: every number within its on-chain type", function () {
  let h: ApiHarness;
  before(async () => (h = await startApiHarness()));
  after(async () => h?.stop());

  const now = () => Math.floor(Date.now() / 1000);

  /** A signed request whose body is exactly `raw` (so numbers like 1e400 or 2^64 can be sent as JSON literals). */
  async function raw(client: keyof ApiHarness["client"], method: string, path: string, rawBody?: string): Promise<Answer> {
    const bytes = new TextEncoder().encode(rawBody ?? "");
    const headers = await h.client[client].signHeaders(method, path, bytes);
    if (rawBody !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(h.baseUrl + path, { method, headers, body: rawBody === undefined ? undefined : bytes });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : {} };
  }

  /** `body` as JSON with `field` set to the literal JSON text `literal`. */
  const withLiteral = (body: Record<string, unknown>, field: string, literal: string) =>
    JSON.stringify({ ...body, [field]: "__LITERAL__" }).replace('"__LITERAL__"', literal);

  const agreementTerms = () => ({ provider: D.water, consumer: D.tax, resource: R.waterFees, purpose: "bounds", quota: "10", validFrom: now() - 60, validUntil: now() + 3600 });

  it("accepts quota and nonce at 2^64 − 1 (uint64), and the drafted typed data carries them exactly", async () => {
    const a = await raw("tax", "POST", "/v1/agreements", JSON.stringify({ ...agreementTerms(), quota: U64_MAX, nonce: U64_MAX }));
    expect(a.status, JSON.stringify(a.body)).to.equal(201);
    const td = a.body.typedData as ApiTypedData;
    expect(td.message.quota).to.equal(U64_MAX);
    expect(td.message.nonce).to.equal(U64_MAX);
  });

  for (const field of ["quota", "nonce"]) {
    it(`refuses ${field} beyond uint64 or not in canonical decimal with 400 VALIDATION_FAILED naming the field and the range`, async () => {
      const strings = [U64_OVER, "18446744073709551617", U256_MAX, U256_OVER, "9".repeat(30), "9".repeat(200), "-1", "1.5", "007", "00", "", "1e400", "1e3", " 1", "0x10", "+1"];
      for (const v of strings) {
        const a = await raw("tax", "POST", "/v1/agreements", JSON.stringify({ ...agreementTerms(), [field]: v }));
        expect([a.status, a.body.error?.code], `${field} = "${v}": ${JSON.stringify(a.body)}`).to.deep.equal([400, "VALIDATION_FAILED"]);
        expect(a.body.error!.message, `${field} = "${v}"`).to.contain(field);
      }
      // The out-of-range ones say what the range is.
      for (const v of [U64_OVER, U256_OVER]) {
        const a = await raw("tax", "POST", "/v1/agreements", JSON.stringify({ ...agreementTerms(), [field]: v }));
        expect(a.body.error!.message).to.contain("uint64").and.contain(U64_MAX);
      }
      // Numbers are not decimal strings, however large or small.
      for (const literal of [U64_OVER, U256_OVER, "1e400", "-1", "1.5", "10"]) {
        const a = await raw("tax", "POST", "/v1/agreements", withLiteral(agreementTerms(), field, literal));
        expect([a.status, a.body.error?.code], `${field} = ${literal}: ${JSON.stringify(a.body)}`).to.deep.equal([400, "VALIDATION_FAILED"]);
      }
    });
  }

  /** Route, field, the client signing, a body or query builder, and the literals that must be refused. */
  const numberFields: { what: string; client: keyof ApiHarness["client"]; method: string; path: (v: string) => string; body?: (v: string) => string; refused: string[]; accepted?: string[] }[] = [
    {
      what: "agreement validFrom (uint64 unix seconds)", client: "tax", method: "POST", path: () => "/v1/agreements",
      body: (v) => withLiteral(agreementTerms(), "validFrom", v),
      refused: [U64_OVER, U256_OVER, "1e400", "-1", "1.5", `"${now()}"`, String(2 ** 53)],
    },
    {
      what: "consent validUntil (uint64 unix seconds)", client: "civil", method: "POST", path: () => "/v1/consents",
      body: (v) => withLiteral({ subjectId: "500101199001011234", grantee: D.tax, resource: R.residents, purpose: "p", kind: "explicit", validUntil: 0, evidenceHash: ethers.id("e") }, "validUntil", v),
      refused: [U64_OVER, U256_OVER, "1e400", "-1", "1.5", `"${now() + 60}"`],
    },
    {
      what: "consent check at (uint64 unix seconds)", client: "tax", method: "POST", path: () => "/v1/consents/check",
      body: (v) => withLiteral({ subject: ethers.id("s"), grantee: D.tax, resource: R.residents, purpose: "p", at: 0 }, "at", v),
      refused: [U64_OVER, "1e400", "-1", "1.5", '"1"'],
      accepted: ["0", String(2 ** 40)],
    },
    {
      what: "transfer period (uint32 YYYYMM)", client: "water", method: "POST", path: () => "/v1/transfers",
      body: (v) => withLiteral({ to: D.tax, category: "water-resource-fee", period: 0, records: [{}] }, "period", v),
      refused: [String(2 ** 32), U64_OVER, "1e400", "-1", "202405.5", '"202405"', "999913", "190000"],
    },
    {
      what: "access recordCount (uint32 in the log entry)", client: "tax", method: "POST", path: () => "/v1/access",
      body: (v) => `{"calls":[${withLiteral({ agreementId: ethers.id("no agreement"), requestHash: ethers.id("q"), responseHash: ethers.id("r") }, "recordCount", v)}]}`,
      refused: [String(2 ** 32), U64_OVER, U256_OVER, "1e400", "-1", "1.5", '"1"'],
      accepted: ["0", String(2 ** 32 - 1)],
    },
    {
      what: "dispute leafIndex (uint64)", client: "tax", method: "POST", path: () => `/v1/transfers/${ethers.id("no transfer")}/disputes/typed-data`,
      body: (v) => withLiteral({ reason: "r" }, "leafIndex", v),
      refused: [U64_OVER, U256_OVER, "1e400", "-1", "1.5", '"0"', String(2 ** 53)],
    },
    {
      what: "evidence indices (uint64 log indices)", client: "regulator", method: "POST", path: () => "/v1/evidence",
      body: (v) => `{"indices":[${v}]}`,
      refused: [U64_OVER, U256_OVER, "1e400", "-1", "1.5", '"0"', String(2 ** 53)],
    },
    {
      what: "inclusion proof index (uint64 query)", client: "tax", method: "GET", path: (v) => `/v1/log/proofs/inclusion?index=${encodeURIComponent(v)}`,
      refused: [U64_OVER, U256_OVER, "1e400", "-1", "1.5", "007", "", "1e3", "0x10", String(2 ** 53)],
    },
    {
      what: "consistency proof from and to (uint64 query)", client: "tax", method: "GET", path: (v) => `/v1/log/proofs/consistency?from=1&to=${encodeURIComponent(v)}`,
      refused: [U64_OVER, U256_OVER, "1e400", "-1", "1.5", "007", "", "0x10"],
    },
    {
      what: "audit time window and page (uint64 / 1..500 query)", client: "regulator", method: "GET", path: (v) => `/v1/audit/entries?consumer=${D.tax}&from=${encodeURIComponent(v)}`,
      refused: [U64_OVER, U256_OVER, "1e400", "-1", "1.5", "007", "", "0x10"],
      accepted: ["0", String(2 ** 40)],
    },
    {
      what: "audit limit (1..500 query)", client: "regulator", method: "GET", path: (v) => `/v1/audit/entries?consumer=${D.tax}&limit=${encodeURIComponent(v)}`,
      refused: ["0", "501", U64_OVER, "-1", "1.5", "050", ""],
      accepted: ["1", "500"],
    },
    {
      what: "transfer record index (uint64 path)", client: "tax", method: "GET", path: (v) => `/v1/transfers/${ethers.id("no transfer")}/records/${encodeURIComponent(v)}`,
      refused: [U64_OVER, U256_OVER, "1e400", "-1", "1.5", "007", "0x10"],
    },
  ];

  for (const f of numberFields) {
    it(`bounds ${f.what}`, async () => {
      for (const v of f.refused) {
        const a = await raw(f.client, f.method, f.path(v), f.body?.(v));
        expect([a.status, a.body.error?.code], `${f.what} = ${v}: ${JSON.stringify(a.body)}`).to.deep.equal([400, "VALIDATION_FAILED"]);
      }
      for (const v of f.accepted ?? []) {
        const a = await raw(f.client, f.method, f.path(v), f.body?.(v));
        expect(a.status, `${f.what} = ${v}: ${JSON.stringify(a.body)}`).to.equal(200);
      }
    });
  }
});
