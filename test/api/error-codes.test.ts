/**
 * Every error code in docs/api.md's table (section 3) is really sent: the table is parsed, and each
 * code is provoked against a real server (the API over a node on anvil) by the request kept for it
 * in PROVOKE below, answering with the documented status and code. A code added to the table with
 * no way to provoke it fails the first test, unless it is listed, with the reason, in EXEMPT.
 * Codes that need special conditions get them here: a second app on the same node with a rate limit
 * of one request a minute (RATE_LIMITED), a fault injected into a service (INTERNAL), and at the
 * end a chain outage — anvil killed — for CHAIN_UNAVAILABLE and NOT_YET_ANCHORED, and the 202 a relay
 * answers with when its transaction cannot be mined within the wait (not an error: no code in the table).
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import net from "node:net";
import { join } from "node:path";
import { ethers, Wallet, type HDNodeWallet } from "ethers";
import type { FastifyInstance } from "fastify";
import { buildApp } from "../../api/app";
import { DclClient, newSessionKey, type ApiTypedData, type SessionKey } from "../../api/client";
import { codeId } from "../../node/chain/ids";
import { LedgerNode } from "../../node/ledger-node";
import { sampleEntry } from "../node/entry-samples";
import { startApiHarness, type ApiHarness } from "../support/api-harness";
import { D, R } from "../support/node-harness";

/** The error table of docs/api.md: code → documented status. */
function documentedCodes(): Map<string, number> {
  const md = readFileSync(join(__dirname, "../../docs/api.md"), "utf8");
  const section = md.slice(md.indexOf("## 3. Errors"), md.indexOf("\n## 4."));
  const codes = new Map<string, number>();
  for (const line of section.split("\n")) {
    const m = /^\|\s*(\d{3})\s*\|([^|]*)\|/.exec(line);
    if (!m) continue;
    for (const [, code] of m[2].matchAll(/`([A-Z][A-Z0-9_]*)`/g)) codes.set(code, Number(m[1]));
  }
  return codes;
}

/**
 * Documented codes that no request here provokes, each with the reason. The first test asserts that
 * this is exactly the set of documented codes without an entry in PROVOKE. Empty: every code is
 * provoked.
 */
const EXEMPT: Record<string, string> = {};

/** Codes provoked during the chain outage: they run last, after the others. */
const OUTAGE = ["CHAIN_UNAVAILABLE", "NOT_YET_ANCHORED"];

interface Answer {
  status: number;
  code?: string;
  message: string;
}

async function answer(res: Response): Promise<Answer> {
  const text = await res.text();
  let body: { error?: { code?: string; message?: string } } | undefined;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, code: body?.error?.code, message: body?.error?.message ?? text };
}

const now = () => Math.floor(Date.now() / 1000);
const wallet = () => new Wallet(Wallet.createRandom().privateKey);
const ANY_SIGNATURE = "0x" + "11".repeat(32) + "22".repeat(32) + "1b";
let seq = 0;
const unique = (what: string) => `${what} ${++seq} ${Date.now()}`;
const waterRecords = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ payer: "91500000MA5U000001", permitNo: `CQ-WR-ERR-${++seq}-${i}`, period: "202405", volumeM3: String(100 * (i + 1)), rateFenPerM3: "15", amountFen: String(1500 * (i + 1)) }));

describe("api error codes: every documented code is provoked with its documented status", function () {
  this.timeout(180_000);
  const documented = documentedCodes();
  let h: ApiHarness;
  before(async () => (h = await startApiHarness()));
  after(async () => h?.stop());

  const once = <T>(f: () => Promise<T>) => {
    let p: Promise<T> | undefined;
    return () => (p ??= f());
  };
  const c = () => h.client;
  const send = (client: DclClient, method: string, path: string, body?: unknown, opts: { session?: boolean } = {}) => client.send(method, path, body, opts).then(answer);
  /** A request signed by `client` with exactly these body bytes and extra headers. */
  async function signedRaw(client: DclClient, method: string, path: string, raw: string | Uint8Array, headers: Record<string, string> = {}): Promise<Answer> {
    const bytes = typeof raw === "string" ? new TextEncoder().encode(raw) : raw;
    const auth = await client.signHeaders(method, path, bytes);
    return answer(await fetch(h.baseUrl + path, { method, headers: { "content-type": "application/json", ...auth, ...headers }, body: bytes as BodyInit }));
  }
  /** Raw bytes on a socket: for HTTP that does not parse. */
  async function rawHttp(text: string): Promise<Answer> {
    const port = Number(new URL(h.baseUrl).port);
    const out = await new Promise<string>((resolve, reject) => {
      const s = net.connect(port, "127.0.0.1", () => s.write(text));
      let got = "";
      s.on("data", (d) => (got += d.toString()));
      s.on("close", () => resolve(got));
      s.on("error", reject);
    });
    const [head, body] = out.split("\r\n\r\n");
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
    expect(head.toLowerCase(), "x-request-id on a parser error").to.match(/\r\nx-request-id: [0-9a-f-]{36}/);
    const json = JSON.parse(body) as { error?: { code?: string; message?: string } };
    return { status, code: json.error?.code, message: json.error?.message ?? body };
  }

  // --- fixtures, each made once, on first use ---------------------------------------------------

  const agreementTerms = (extra: Record<string, unknown> = {}) => ({
    provider: D.water, consumer: D.tax, resource: R.waterFees, purpose: unique("errors"), quota: "100", validFrom: now() - 60, validUntil: now() + 3600, ...extra,
  });
  /** A drafted agreement nobody signed. */
  const pendingAgreement = once(() => c().tax.post<{ id: string; typedData: ApiTypedData }>("/v1/agreements", agreementTerms()));
  /** An agreement both parties signed: on chain, active. */
  const activeAgreement = async () => {
    const d = await c().tax.post<{ id: string; typedData: ApiTypedData }>("/v1/agreements", agreementTerms());
    await c().water.post(`/v1/agreements/${d.id}/signatures`, { signature: await c().water.signTypedData(d.typedData) });
    await c().tax.post(`/v1/agreements/${d.id}/signatures`, { signature: await c().tax.signTypedData(d.typedData) });
    return d;
  };
  const active = once(activeAgreement);
  const revokedAgreement = once(async () => {
    const d = await activeAgreement();
    const view = await c().water.get<{ typedData: { revocation: ApiTypedData } }>(`/v1/agreements/${d.id}`);
    const signature = await c().water.signTypedData(view.typedData.revocation);
    await c().water.post(`/v1/agreements/${d.id}/revoke`, { signature });
    return { ...d, signature };
  });

  const consentBody = (extra: Record<string, unknown> = {}) => ({
    subjectId: `5001011990${String(++seq).padStart(8, "0")}`, grantee: D.tax, resource: R.residents, purpose: "eligibility", kind: "explicit", validUntil: now() + 3600, evidenceHash: ethers.id(unique("form")), ...extra,
  });
  const draftConsent = (extra: Record<string, unknown> = {}) => c().civil.post<{ id: string; subject: string; typedData: ApiTypedData }>("/v1/consents", consentBody(extra));
  const subjectKey = wallet();
  const consentWithSubjectKey = once(() => draftConsent({ subjectSigner: subjectKey.address }));
  const pendingConsent = once(() => draftConsent());
  const grantedConsent = async (subjectId?: string) => {
    const d = await draftConsent(subjectId ? { subjectId } : {});
    await c().civil.post(`/v1/consents/${d.id}/signatures`, { signature: await c().civil.signTypedData(d.typedData) });
    return d;
  };
  const granted = once(() => grantedConsent());
  const revokedConsent = once(async () => {
    const d = await grantedConsent();
    const view = await c().civil.get<{ typedData: { revocation: ApiTypedData } }>(`/v1/consents/${d.id}`);
    const signature = await c().civil.signTypedData(view.typedData.revocation);
    await c().civil.post(`/v1/consents/${d.id}/revoke`, { signature });
    return { ...d, signature };
  });

  const postWater = (records: unknown[]) => c().water.post<{ id: string; typedData: ApiTypedData }>("/v1/transfers", { to: D.tax, category: "water-resource-fee", period: 202405, records });
  const pendingTransfer = once(() => postWater(waterRecords(2)));
  const submitTransfer = async () => {
    const t = await postWater(waterRecords(2));
    await c().water.post(`/v1/transfers/${t.id}/signatures`, { signature: await c().water.signTypedData(t.typedData) });
    await c().tax.post(`/v1/transfers/${t.id}/signatures`, { signature: await c().tax.signTypedData(t.typedData) });
    const leaves = await Promise.all([0, 1].map((i) => c().tax.get<{ leafHash: string }>(`/v1/transfers/${t.id}/records/${i}`).then((r) => r.leafHash)));
    const results = leaves.map((leaf, i) => ({ recordLeafHash: leaf, paidFen: String(1500 * (i + 1)), paidDate: "20240610", voucherNo: `V-${i}`, status: "paid" }));
    return { ...t, results };
  };
  const submitted = once(submitTransfer);
  const reconciled = once(async () => {
    const t = await submitTransfer();
    const rec = await c().tax.post<{ typedData: ApiTypedData }>(`/v1/transfers/${t.id}/reconciliation`, { results: t.results });
    await c().tax.post(`/v1/transfers/${t.id}/reconciliation/signatures`, { signature: await c().tax.signTypedData(rec.typedData) });
    await c().water.post(`/v1/transfers/${t.id}/reconciliation/signatures`, { signature: await c().water.signTypedData(rec.typedData) });
    return t;
  });

  /** A department registered through the API by the governor, with its own keys. */
  const registerDepartment = async (code: string, keys: string[], threshold?: number) => {
    const r = await h.governor.post<{ id: string }>("/v1/departments", { code, level: "district", signers: keys, ...(threshold ? { threshold } : {}) });
    return r.id;
  };
  /** A 2-of-2 department's signer-change request (add a key) with its typed data, signed by `signers` of its two keys. */
  const twoOfTwoChange = async (code: string, pick: (keys: ReturnType<typeof wallet>[]) => ReturnType<typeof wallet>[]) => {
    const keys = [wallet(), wallet()];
    const id = await registerDepartment(code, keys.map((k) => k.address), 2);
    const me = c().tax.as(id, keys[0]);
    const path = `/v1/departments/${id}/signer-changes`;
    const body = { action: "add", signer: wallet().address };
    const asked = await me.post<{ change: { nonce: number }; typedData: ApiTypedData }>(path, body);
    const signatures = await Promise.all(pick(keys).map((k) => c().tax.as(id, k).signTypedData(asked.typedData)));
    return { me, path, body: { ...body, nonce: asked.change.nonce, signatures } };
  };

  /** Certifies an Ed25519 session key for `client`'s department by `certifier` (its own key by default), naming `claimed` as the certifier. */
  const registerSession = async (client: DclClient, opts: { from?: number; until?: number; certifier?: Wallet | HDNodeWallet; claimed?: string; key?: SessionKey } = {}) => {
    const key = opts.key ?? newSessionKey();
    const body = { publicKey: key.publicKey, notBefore: opts.from ?? now() - 5, notAfter: opts.until ?? now() + 3600, scope: key.scope };
    const { typedData } = await client.post<{ typedData: ApiTypedData }>("/v1/sessions", body);
    const certifier = opts.certifier ?? client.key;
    const signature = await certifier.signTypedData(typedData.domain as never, typedData.types, typedData.message);
    return { key, answer: await send(client, "POST", "/v1/sessions", { ...body, certifier: opts.claimed ?? certifier.address, signature }) };
  };
  /** A registered session key of `client`'s department. */
  const sessionOf = async (client: DclClient, opts: { from?: number; until?: number } = {}) => {
    const { key, answer: a } = await registerSession(client, opts);
    expect(a.status, a.message).to.equal(201);
    return key;
  };
  /** POST /v1/access signed with session key `key` of `client`'s department. */
  const sessionAccess = (client: DclClient, key: SessionKey) =>
    send(client.withSession(key), "POST", "/v1/access", { calls: [{ agreementId: ethers.id("no agreement"), recordCount: 1, requestHash: ethers.id(unique("q")), responseHash: ethers.id(unique("r")) }] });

  /** The chain goes down (anvil killed) for the outage codes; nothing after them needs it. */
  const outage = once(async () => {
    await h.anvil.stop("SIGKILL");
  });

  // --- one provoking request per documented code ----------------------------------------------

  const PROVOKE: Record<string, () => Promise<Answer>> = {
    // 400
    VALIDATION_FAILED: () => send(c().tax, "POST", "/v1/consents/check", { grantee: "not an id", resource: R.residents, subject: ethers.id("s"), purpose: "p" }),
    MALFORMED_JSON: () => signedRaw(c().tax, "POST", "/v1/consents/check", '{"grantee":'),
    BAD_URL: async () => answer(await fetch(h.baseUrl + "/v1/departments/%zz")),
    BAD_REQUEST: () => rawHttp("POST /v1/consents/check HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: twelve\r\n\r\n{}"),
    SIGNATURE_MALFORMED: async () => send(c().water, "POST", `/v1/agreements/${(await pendingAgreement()).id}/signatures`, { signature: "0x" + "00".repeat(64) + "1b" }),
    SIGNERS_DUPLICATE: async () => {
      const k = wallet().address;
      return send(h.governor, "POST", "/v1/departments", { code: "cq.errors.duplicate", level: "town", signers: [k, k] });
    },
    AGREEMENT_SAME_PARTY: () => send(c().water, "POST", "/v1/agreements", agreementTerms({ consumer: D.water })),
    PROVIDER_NOT_OWNER: () => send(c().cad, "POST", "/v1/agreements", agreementTerms({ provider: D.cad, consumer: D.tax })),
    QUOTA_ZERO: () => send(c().tax, "POST", "/v1/agreements", agreementTerms({ quota: "0" })),
    WINDOW_EMPTY: () => {
      const t = now() + 60;
      return send(c().tax, "POST", "/v1/agreements", agreementTerms({ validFrom: t, validUntil: t }));
    },
    WINDOW_OVER: () => send(c().tax, "POST", "/v1/agreements", agreementTerms({ validFrom: now() - 7200, validUntil: now() - 3600 })),
    CONSENT_EXPIRY_PAST: () => send(c().civil, "POST", "/v1/consents", consentBody({ validUntil: now() - 10 })),
    SUBJECT_SIGNATURE_REQUIRED: async () => {
      const d = await consentWithSubjectKey();
      return send(c().civil, "POST", `/v1/consents/${d.id}/signatures`, { signature: await c().civil.signTypedData(d.typedData) });
    },
    SUBJECT_SIGNATURE_UNEXPECTED: async () => {
      const d = await pendingConsent();
      return send(c().civil, "POST", `/v1/consents/${d.id}/signatures`, { signature: await c().civil.signTypedData(d.typedData), subjectSignature: await subjectKey.signTypedData(d.typedData.domain as never, d.typedData.types, d.typedData.message) });
    },
    SUBJECT_NOT_PERSONAL: () => send(c().water, "POST", "/v1/consents", consentBody({ resource: R.waterFees })),
    TRANSFER_SAME_PARTY: () => send(c().water, "POST", "/v1/transfers", { to: D.water, category: "water-resource-fee", period: 202405, records: waterRecords(1) }),
    TRANSFER_EMPTY: () => send(c().water, "POST", "/v1/transfers", { to: D.tax, category: "water-resource-fee", period: 202405, records: [] }),
    TRANSFER_TOO_LARGE: () => send(c().water, "POST", "/v1/transfers", { to: D.tax, category: "water-resource-fee", period: 202405, records: Array.from({ length: 100_001 }, () => ({})) }),
    RECORD_INVALID: () => send(c().water, "POST", "/v1/transfers", { to: D.tax, category: "water-resource-fee", period: 202405, records: [{ ...waterRecords(1)[0], payer: "not a credit code" }] }),
    FEE_RECORD_ARITHMETIC: () => send(c().water, "POST", "/v1/transfers", { to: D.tax, category: "water-resource-fee", period: 202405, records: [{ ...waterRecords(1)[0], amountFen: "1501" }] }),
    RESULTS_COUNT: async () => {
      const t = await submitted();
      return send(c().tax, "POST", `/v1/transfers/${t.id}/reconciliation`, { results: t.results.slice(0, 1) });
    },
    RESULT_INVALID: async () => {
      const t = await submitted();
      return send(c().tax, "POST", `/v1/transfers/${t.id}/reconciliation`, { results: t.results.map((r) => ({ ...r, paidFen: "1.5" })) });
    },
    RESULT_RECORD_MISMATCH: async () => {
      const t = await submitted();
      return send(c().tax, "POST", `/v1/transfers/${t.id}/reconciliation`, { results: [t.results[1], t.results[0]] });
    },
    BUNDLE_EMPTY: () => send(c().regulator, "POST", "/v1/evidence", { indices: [] }),
    BUNDLE_TOO_LARGE: () => send(c().regulator, "POST", "/v1/evidence", { indices: Array.from({ length: 1001 }, (_, i) => i) }),
    // A second app on the same node whose period bundles hold one entry; the period holds two.
    PERIOD_TOO_LARGE: async () => {
      const from = now();
      await c().tax.post("/v1/access", { calls: [1, 2].map((i) => ({ agreementId: ethers.id("no agreement"), recordCount: 1, requestHash: ethers.id(unique(`q${i}`)), responseHash: ethers.id(unique(`r${i}`)) })) });
      const app = (await buildApp({ node: h.node, logger: false, periodBundleMaxEntries: 1 })) as unknown as FastifyInstance;
      try {
        const path = `/v1/audit/period-bundle?from=${from}&to=${now() + 1}`;
        const res = await app.inject({ method: "GET", url: path, headers: await c().regulator.signHeaders("GET", path, new Uint8Array()) });
        const body = res.json() as { error?: { code: string; message: string } };
        return { status: res.statusCode, code: body.error?.code, message: body.error?.message ?? res.body };
      } finally {
        await app.close();
      }
    },
    RECEIPTS_EMPTY: () => send(c().tax, "POST", "/v1/receipts/check", { receipts: [] }),
    RECEIPTS_TOO_MANY: () =>
      send(c().tax, "POST", "/v1/receipts/check", {
        receipts: Array.from({ length: 1001 }, (_, i) => ({
          receipt: { origin: "dcl/31337/log.test", index: i, leafHash: ethers.id(`l${i}`), batch: { first: i, count: 1, root: ethers.id(`l${i}`), proof: [] }, signer: wallet().address, signature: ANY_SIGNATURE },
        })),
      }),
    SESSION_WINDOW_INVALID: async () => (await registerSession(c().tax, { from: now() + 60, until: now() + 60 })).answer,
    SESSION_SIGNATURE_INVALID: async () => (await registerSession(c().tax, { certifier: c().water.key, claimed: c().tax.key.address })).answer,
    BATCH_TOO_LARGE: () =>
      send(c().tax, "POST", "/v1/access", {
        calls: Array.from({ length: 5001 }, (_, i) => ({ agreementId: ethers.ZeroHash, recordCount: 1, requestHash: ethers.id(`q${i}`), responseHash: ethers.id(`r${i}`) })),
      }),
    // 401
    AUTH_MISSING: async () => answer(await fetch(`${h.baseUrl}/v1/departments/${D.tax}`)),
    AUTH_MALFORMED: async () => {
      const headers = await c().tax.signHeaders("GET", `/v1/departments/${D.tax}`, new Uint8Array());
      return answer(await fetch(`${h.baseUrl}/v1/departments/${D.tax}`, { headers: { ...headers, "x-dcl-signer": "not an address" } }));
    },
    AUTH_STALE_TIMESTAMP: async () => answer(await c().tax.send("GET", `/v1/departments/${D.tax}`, undefined, { timestamp: now() - 1000 })),
    AUTH_BAD_SIGNATURE: async () => {
      const headers = await c().tax.signHeaders("GET", `/v1/departments/${D.water}`, new Uint8Array());
      return answer(await fetch(`${h.baseUrl}/v1/departments/${D.tax}`, { headers }));
    },
    AUTH_NONCE_REUSED: async () => {
      const nonce = ethers.hexlify(ethers.randomBytes(16)).slice(2);
      const first = await answer(await c().tax.send("GET", `/v1/departments/${D.tax}`, undefined, { nonce }));
      expect(first.status, first.message).to.equal(200);
      return answer(await c().tax.send("GET", `/v1/departments/${D.tax}`, undefined, { nonce }));
    },
    SESSION_UNKNOWN: () => sessionAccess(c().tax, newSessionKey()),
    SESSION_EXPIRED: async () => {
      const key = await sessionOf(c().tax, { from: now() - 60, until: now() + 2 });
      await new Promise((r) => setTimeout(r, 2100));
      return sessionAccess(c().tax, key);
    },
    SESSION_NOT_YET_VALID: async () => sessionAccess(c().tax, await sessionOf(c().tax, { from: now() + 3600, until: now() + 7200 })),
    // 403
    SESSION_REVOKED: async () => {
      const key = await sessionOf(c().tax);
      await c().tax.revokeSession(key.publicKey);
      return sessionAccess(c().tax, key);
    },
    SESSION_CERTIFIER_REMOVED: async () => {
      const [keep, drop] = [wallet(), wallet()];
      const id = await registerDepartment("cq.errors.session-rotated", [keep.address, drop.address]);
      const dept = c().tax.as(id, keep);
      const { key, answer: registered } = await registerSession(dept, { certifier: drop });
      expect(registered.status, registered.message).to.equal(201);
      await dept.changeKeys({ action: "remove", signer: drop.address });
      await h.node.indexer.syncOnce();
      return sessionAccess(dept, key);
    },
    SESSION_CERTIFIER_NOT_SIGNER: async () => (await registerSession(c().tax, { certifier: c().water.key })).answer,
    SESSION_SCOPE: async () => send(c().tax.withSession(await sessionOf(c().tax)), "GET", `/v1/departments/${D.tax}`, undefined, { session: true }),
    AUTH_UNKNOWN_DEPARTMENT: () => send(c().tax.as(codeId("cq.nobody"), c().tax.key), "GET", `/v1/departments/${D.tax}`),
    AUTH_DEPARTMENT_INACTIVE: async () => {
      const key = wallet();
      const id = await registerDepartment("cq.errors.inactive", [key.address]);
      await h.governor.post(`/v1/departments/${id}/active`, { active: false });
      return send(c().tax.as(id, key), "GET", `/v1/departments/${D.tax}`);
    },
    AUTH_KEY_REVOKED: async () => {
      const [keep, drop] = [wallet(), wallet()];
      const id = await registerDepartment("cq.errors.rotated", [keep.address, drop.address]);
      await c().tax.as(id, keep).changeKeys({ action: "remove", signer: drop.address });
      return send(c().tax.as(id, drop), "GET", `/v1/departments/${D.tax}`);
    },
    AUTH_NOT_DEPARTMENT_SIGNER: () => send(c().tax.as(D.tax, wallet()), "GET", `/v1/departments/${D.tax}`),
    FORBIDDEN_ROLE: () => send(c().tax, "POST", "/v1/roles", { role: "regulator", account: c().tax.key.address }),
    FORBIDDEN_NOT_PARTY: () => send(c().cad, "POST", "/v1/agreements", agreementTerms()),
    SIGNATURE_INVALID: async () => {
      const d = await pendingAgreement();
      return send(c().water, "POST", `/v1/agreements/${d.id}/signatures`, { signature: await c().cad.signTypedData(d.typedData) });
    },
    SUBJECT_SIGNATURE_INVALID: async () => {
      const d = await consentWithSubjectKey();
      const stranger = wallet();
      return send(c().civil, "POST", `/v1/consents/${d.id}/signatures`, {
        signature: await c().civil.signTypedData(d.typedData),
        subjectSignature: await stranger.signTypedData(d.typedData.domain as never, d.typedData.types, d.typedData.message),
      });
    },
    // The civil affairs bureau owns the residents resource; tax drafting a consent in its own favour, with no subject key.
    CONSENT_RECORDER_IS_GRANTEE: () => send(c().tax, "POST", "/v1/consents", consentBody()),
    // 404
    ROUTE_NOT_FOUND: async () => answer(await fetch(h.baseUrl + "/v1/no-such-route")),
    NOT_FOUND: () => send(c().tax, "GET", `/v1/agreements/${ethers.id("no such agreement")}`),
    // 409
    DEPARTMENT_EXISTS: () => send(h.governor, "POST", "/v1/departments", { code: "cq.tax", level: "city", signers: [wallet().address] }),
    RESOURCE_EXISTS: () => send(c().water, "POST", "/v1/resources", { code: "res.water.fees", owner: D.water, schemaHash: ethers.id("schema"), condition: "conditional", personal: false }),
    SIGNER_EXISTS: () => send(c().water, "POST", `/v1/departments/${D.water}/signer-changes`, { action: "add", signer: c().water.key.address }),
    LAST_SIGNER: async () => {
      const key = wallet();
      const id = await registerDepartment("cq.errors.single", [key.address]);
      return send(c().tax.as(id, key), "POST", `/v1/departments/${id}/signer-changes`, { action: "remove", signer: key.address });
    },
    THRESHOLD_INVALID: () => send(c().water, "POST", `/v1/departments/${D.water}/signer-changes`, { action: "threshold", threshold: 2 }),
    SIGNER_CHANGE_STALE: async () => {
      const { me, path, body } = await twoOfTwoChange("cq.errors.stale", (k) => k);
      return send(me, "POST", path, { ...body, nonce: body.nonce + 1 });
    },
    SIGNER_REQUIRED: () => send(c().water, "POST", `/v1/departments/${D.water}/signer-changes`, { action: "add" }),
    SIGNATURE_DUPLICATE: async () => {
      const { me, path, body } = await twoOfTwoChange("cq.errors.twice", (k) => [k[0], k[0]]);
      return send(me, "POST", path, body);
    },
    THRESHOLD_NOT_MET: async () => {
      const { me, path, body } = await twoOfTwoChange("cq.errors.alone", (k) => [k[0]]);
      return send(me, "POST", path, body);
    },
    SESSION_EXISTS: async () => {
      const key = await sessionOf(c().tax);
      return (await registerSession(c().tax, { key })).answer;
    },
    SESSION_ALREADY_REVOKED: async () => {
      const key = await sessionOf(c().tax);
      await c().tax.revokeSession(key.publicKey);
      return send(c().tax, "POST", `/v1/sessions/${key.publicKey}/revoke`, {});
    },
    RESOURCE_NOT_SHAREABLE: () => send(c().cad, "POST", "/v1/agreements", agreementTerms({ provider: D.cad, resource: R.secret })),
    AGREEMENT_ALREADY_ACTIVE: async () => {
      const d = await active();
      return send(c().water, "POST", `/v1/agreements/${d.id}/signatures`, { signature: await c().water.signTypedData(d.typedData) });
    },
    AGREEMENT_ALREADY_REVOKED: async () => {
      const d = await revokedAgreement();
      return send(c().water, "POST", `/v1/agreements/${d.id}/revoke`, { signature: d.signature });
    },
    AGREEMENT_WRONG_STATUS: async () => send(c().regulator, "POST", `/v1/agreements/${(await active()).id}/resume`, { signature: ANY_SIGNATURE }),
    CONSENT_ALREADY_GRANTED: async () => {
      const d = await granted();
      return send(c().civil, "POST", `/v1/consents/${d.id}/signatures`, { signature: await c().civil.signTypedData(d.typedData) });
    },
    CONSENT_NOT_GRANTED: async () => send(c().civil, "POST", `/v1/consents/${(await pendingConsent()).id}/revoke`, { signature: ANY_SIGNATURE }),
    CONSENT_ALREADY_REVOKED: async () => {
      const d = await revokedConsent();
      return send(c().civil, "POST", `/v1/consents/${d.id}/revoke`, { signature: d.signature });
    },
    DRAFT_CANCELLED: async () => {
      const d = await c().tax.post<{ id: string }>("/v1/agreements", agreementTerms());
      const view = await c().water.get<{ typedData: { cancellation: ApiTypedData } }>(`/v1/agreements/${d.id}`);
      const body = { signature: await c().water.signTypedData(view.typedData.cancellation) };
      const first = await send(c().water, "POST", `/v1/agreements/${d.id}/cancel`, body);
      expect(first.status, first.message).to.equal(200);
      return send(c().water, "POST", `/v1/agreements/${d.id}/cancel`, body);
    },
    SUBJECT_ERASED: async () => {
      const subjectId = `500101198801${String(++seq).padStart(6, "0")}`;
      await grantedConsent(subjectId);
      const first = await send(c().civil, "POST", "/v1/subjects/erase", { subjectId });
      expect(first.status, first.message).to.equal(200);
      return send(c().civil, "POST", "/v1/subjects/erase", { subjectId });
    },
    TRANSFER_ALREADY_SUBMITTED: async () => {
      const t = await submitted();
      return send(c().water, "POST", `/v1/transfers/${t.id}/signatures`, { signature: await c().water.signTypedData(t.typedData) });
    },
    TRANSFER_NOT_SUBMITTED: async () => send(c().tax, "POST", `/v1/transfers/${(await pendingTransfer()).id}/reconciliation`, { results: [{}, {}] }),
    TRANSFER_ALREADY_RECONCILED: async () => {
      const t = await reconciled();
      return send(c().tax, "POST", `/v1/transfers/${t.id}/reconciliation`, { results: t.results });
    },
    RECONCILIATION_NOT_DRAFTED: async () => send(c().tax, "POST", `/v1/transfers/${(await submitted()).id}/reconciliation/signatures`, { signature: ANY_SIGNATURE }),
    RECORD_ALREADY_DISPUTED: async () => {
      const t = await submitted();
      const td = await c().tax.post<ApiTypedData>(`/v1/transfers/${t.id}/disputes/typed-data`, { leafIndex: 0, reason: "volume" });
      const body = { leafIndex: 0, reason: "volume", signature: await c().tax.signTypedData(td) };
      const first = await send(c().tax, "POST", `/v1/transfers/${t.id}/disputes`, body);
      expect(first.status, first.message).to.equal(201);
      return send(c().tax, "POST", `/v1/transfers/${t.id}/disputes`, body);
    },
    CHAIN_REJECTED: async () => {
      // The registry holds at most 16 keys per department; the node does not count them, the contract refuses the 17th.
      const keys = Array.from({ length: 16 }, () => wallet());
      const id = await registerDepartment("cq.errors.full", keys.map((k) => k.address));
      const me = c().tax.as(id, keys[0]);
      const path = `/v1/departments/${id}/signer-changes`;
      const body = { action: "add", signer: wallet().address };
      const asked = await me.post<{ change: { nonce: number }; typedData: ApiTypedData }>(path, body);
      const a = await send(me, "POST", path, { ...body, nonce: asked.change.nonce, signatures: [await me.signTypedData(asked.typedData)] });
      expect(a.message, "names the contract's error").to.contain("RegistryTooManySigners");
      return a;
    },
    // 413, 414, 415
    // Through inject (the same app, no socket): a real socket may be closed before a 4 MiB upload ends.
    BODY_TOO_LARGE: async () => {
      const payload = JSON.stringify({ calls: [], pad: "x".repeat(4 * 1024 * 1024) });
      const res = await h.app.inject({ method: "POST", url: "/v1/access", headers: { "content-type": "application/json", ...(await c().tax.signHeaders("POST", "/v1/access", new TextEncoder().encode(payload))) }, payload });
      const body = res.json() as { error?: { code: string; message: string } };
      return { status: res.statusCode, code: body.error?.code, message: body.error?.message ?? res.body };
    },
    URI_TOO_LONG: async () => answer(await fetch(`${h.baseUrl}/v1/departments/${"a".repeat(300)}`)),
    UNSUPPORTED_MEDIA_TYPE: () => signedRaw(c().tax, "POST", "/v1/consents/check", "grantee=tax", { "content-type": "text/plain" }),
    // 429: a second app on the same node that allows each department one request a minute.
    RATE_LIMITED: async () => {
      const app = (await buildApp({ node: h.node, logger: false, rateLimitPerMinute: 1 })) as unknown as FastifyInstance;
      try {
        const get = async () => {
          const headers = await c().tax.signHeaders("GET", `/v1/departments/${D.tax}`, new Uint8Array());
          const res = await app.inject({ method: "GET", url: `/v1/departments/${D.tax}`, headers });
          const body = res.json() as { error?: { code: string; message: string } };
          return { status: res.statusCode, code: body.error?.code, message: body.error?.message ?? res.body };
        };
        expect((await get()).status).to.equal(200);
        return await get();
      } finally {
        await app.close();
      }
    },
    // 503: the store's writes failed on command at its boundary (the fault DCL_STORE_FAULT_FILE drives); healed after.
    STORAGE_UNAVAILABLE: async () => {
      const guard = h.node.storeGuard;
      const before = h.node.log.size();
      guard.faults.failWrites("error-codes test");
      try {
        const a = await send(c().tax, "POST", "/v1/access", { calls: [{ agreementId: ethers.id("no agreement"), recordCount: 1, requestHash: ethers.id(unique("q")), responseHash: ethers.id(unique("r")) }] });
        expect(h.node.log.size(), "nothing logged").to.equal(before);
        return a;
      } finally {
        guard.faults.heal();
        expect(await guard.probe(), "the store writes again").to.equal(true);
      }
    },
    // 503: a node whose log diverged. A second node (its own store and log, on the same chain) whose store is
    // altered after it signed a checkpoint: the store check its anchorer runs on a conflict confirms it, and
    // its API refuses writes. (The whole path, with the chain disagreeing for real: test/integration/store-faults.)
    LOG_DIVERGED: async () => {
      const dir = await mkdtemp(join(tmpdir(), "dcl-diverged-"));
      const node = await LedgerNode.open({ ...h.node.options, dataDir: join(dir, "node-data"), logCode: "log.error-codes.diverged", logger: undefined });
      const app = (await buildApp({ node, logger: false })) as unknown as FastifyInstance;
      try {
        await node.log.appendMany([0, 1, 2, 3].map(sampleEntry));
        await node.keepCheckpoint();
        // The stored hash of entry 0 changed: the first piece of level-0 tile 0 (tile <level><tile><offset>, node/log/merkle-log.ts).
        const tiles = node.db.sublevel("log").sublevel<string, Uint8Array>("tile", { keyEncoding: "utf8", valueEncoding: "view" });
        const key = "00" + "0".repeat(16) + "00";
        const tile = Uint8Array.from((await tiles.get(key))!);
        tile.fill(7, 0, 32);
        await tiles.put(key, tile);
        await node.integrity.onConflict({ code: "ANCHOR_ROOT_MISMATCH", message: "the anchorer's conflict" });
        expect(node.integrity.divergence()?.report.problems.map((p) => p.code)).to.include("STORE_LEAF_MISMATCH");
        const path = "/v1/access";
        const body = JSON.stringify({ calls: [{ agreementId: ethers.id("no agreement"), recordCount: 1, requestHash: ethers.id(unique("q")), responseHash: ethers.id(unique("r")) }] });
        const headers = await c().tax.signHeaders("POST", path, new TextEncoder().encode(body));
        const res = await app.inject({ method: "POST", url: path, headers: { ...headers, "content-type": "application/json" }, payload: body });
        const json = res.json() as { error?: { code: string; message: string } };
        return { status: res.statusCode, code: json.error?.code, message: json.error?.message ?? res.body };
      } finally {
        await app.close();
        await node.close();
        await rm(dir, { recursive: true, force: true });
      }
    },
    // 500: a fault injected into the service behind GET /v1/audit/stats/:department.
    INTERNAL: async () => {
      const transfers = h.node.transfers;
      const original = transfers.reconciliationTimes;
      transfers.reconciliationTimes = async () => {
        throw new Error("injected fault: secret detail");
      };
      try {
        const a = await send(c().regulator, "GET", `/v1/audit/stats/${D.water}`);
        expect(a.message, "a 500 does not leak the fault").not.to.contain("secret detail");
        return a;
      } finally {
        transfers.reconciliationTimes = original;
      }
    },
    // During the outage (anvil killed): what the request must read from the chain itself cannot be read (a
    // relayed transaction is not refused: it waits in the outbox, answered 202, see the last test) ...
    CHAIN_UNAVAILABLE: async () => {
      await outage();
      return send(c().water, "POST", `/v1/departments/${D.water}/signer-changes`, { action: "add", signer: wallet().address });
    },
    // ... and an entry logged meanwhile cannot be anchored, so no evidence covers it yet.
    NOT_YET_ANCHORED: async () => {
      await outage();
      const logged = await c().tax.post<{ results: { index: number }[] }>("/v1/access", {
        calls: [{ agreementId: ethers.id("no agreement"), recordCount: 1, requestHash: ethers.id(unique("q")), responseHash: ethers.id(unique("r")) }],
      });
      return send(c().regulator, "POST", "/v1/evidence", { indices: [logged.results[0].index] });
    },
  };

  it("reads the table of docs/api.md and has a provoking request for every code in it (exemptions: exactly the rest)", () => {
    expect(documented.size, "codes parsed from docs/api.md section 3").to.be.above(50);
    for (const code of ["VALIDATION_FAILED", "AUTH_MISSING", "CHAIN_UNAVAILABLE", "FEE_RECORD_ARITHMETIC", "BATCH_TOO_LARGE"]) expect(documented.has(code), code).to.equal(true);
    const unprovoked = [...documented.keys()].filter((code) => !(code in PROVOKE)).sort();
    expect(unprovoked, "documented codes without a provoking request").to.deep.equal(Object.keys(EXEMPT).sort());
  });

  /** The chain down: a relayed transaction is recorded and answered 202 with its relay, which stays pending (runs after the outage codes). */
  const relayDuringOutage = async () => {
    await outage();
    const res = await h.governor.send("POST", "/v1/roles", { role: "exchange", account: wallet().address });
    const body = (await res.json()) as { relay?: { id: string; state: string; method: string } };
    return { res, body };
  };
  const order = [...documented.keys()].filter((code) => code in PROVOKE).sort((a, b) => Number(OUTAGE.includes(a)) - Number(OUTAGE.includes(b)));
  for (const code of order) {
    it(`${documented.get(code)} ${code}`, async () => {
      const a = await PROVOKE[code]();
      expect([a.status, a.code], a.message).to.deep.equal([documented.get(code), code]);
      expect(a.message, "the message says what is wrong").to.be.a("string").and.not.equal("");
    });
  }

  it("202 Accepted (not an error): the chain down, a relayed transaction is recorded and answered with its relay, pending", async () => {
    const { res, body } = await relayDuringOutage();
    expect(res.status).to.equal(202);
    expect(body.relay?.state).to.equal("pending");
    expect(body.relay?.method).to.equal("grantRole");
    expect(res.headers.get("location")).to.equal(`/v1/relays/${body.relay!.id}`);
    const view = await answer(await fetch(h.baseUrl + res.headers.get("location")));
    expect(view.status, view.message).to.equal(200);
  });
});
