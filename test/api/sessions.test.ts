/**
 * Session keys through real HTTP: a department signer certifies an Ed25519 key (EIP-712 SessionKey),
 * the key then signs POST /v1/access and nothing else; the certificate is checked once, and each
 * refusal — window, revocation by a signer, removal of the certifying key, scope, unknown key, bad
 * signature, registration by a non-signer or with a signature by another key — has its own code.
 */
import { expect } from "chai";
import { ethers, Wallet } from "ethers";
import { DclClient, newSessionKey, type ApiTypedData, type SessionKey } from "../../api/client";
import { SESSION_KEY_HEADER } from "../../api/auth/request-signature";
import { verifyReceipt } from "../../node/verify";
import { startApiHarness, waterToTaxAgreement, type ApiHarness } from "../support/api-harness";
import { D } from "../support/node-harness";

interface Answer {
  status: number;
  code?: string;
  message: string;
  body: Record<string, unknown>;
}

const now = () => Math.floor(Date.now() / 1000);
const wallet = () => new Wallet(Wallet.createRandom().privateKey);
const call = (agreementId: string) => ({ agreementId, recordCount: 1, requestHash: ethers.hexlify(ethers.randomBytes(32)), responseHash: ethers.hexlify(ethers.randomBytes(32)) });

async function answer(res: Response): Promise<Answer> {
  const body = (await res.json()) as Record<string, unknown> & { error?: { code: string; message: string } };
  return { status: res.status, code: body.error?.code, message: body.error?.message ?? "", body };
}

describe("api session keys", function () {
  this.timeout(120_000);
  let h: ApiHarness;
  let agreement: string;

  before(async () => {
    h = await startApiHarness();
    agreement = await waterToTaxAgreement(h, "sessions");
  });
  after(async () => h?.stop());

  const send = (c: DclClient, method: string, path: string, body?: unknown, opts: { session?: boolean; nonce?: string } = {}) => c.send(method, path, body, opts).then(answer);
  const access = (c: DclClient, n = 1, query = "") => send(c, "POST", `/v1/access${query}`, { calls: Array.from({ length: n }, () => call(agreement)) });
  /** The certificate body for `key`, valid [from, until). */
  const certificate = (key: SessionKey, from = now() - 5, until = now() + 3600) => ({ publicKey: key.publicKey, notBefore: from, notAfter: until, scope: key.scope });
  /** Registers `key` for `c`'s department, certified by `certifier` (a signer of it by default). */
  async function register(c: DclClient, key: SessionKey, opts: { from?: number; until?: number; certifier?: Wallet; claimed?: string } = {}): Promise<Answer> {
    const body = certificate(key, opts.from, opts.until);
    const asked = await c.post<{ certificate: Record<string, unknown>; typedData: ApiTypedData }>("/v1/sessions", body);
    expect(asked.typedData.primaryType).to.equal("SessionKey");
    expect(asked.typedData.domain).to.deep.equal({ name: "dcl SessionKey", version: "1", chainId: "31337", verifyingContract: h.addresses.registry });
    const signer = opts.certifier ?? c.key;
    const signature = await signer.signTypedData(asked.typedData.domain as never, asked.typedData.types, asked.typedData.message);
    return send(c, "POST", "/v1/sessions", { ...body, certifier: opts.claimed ?? signer.address, signature });
  }

  it("logs calls signed with a certified session key, receipted as with a department key, and refuses that key everywhere else", async () => {
    const key = newSessionKey();
    const registered = await register(h.client.tax, key);
    expect(registered.status, registered.message).to.equal(201);
    const session = registered.body.session as Record<string, unknown>;
    expect(session).to.include({ department: D.tax, publicKey: key.publicKey, certifier: h.keys.tax.address.toLowerCase(), scope: "access:write", status: "active" });

    const gateway = new DclClient(h.client.tax.options, D.tax, null, key); // holds the session key only
    const logged = await access(gateway, 3);
    expect(logged.status, logged.message).to.equal(200);
    const results = logged.body.results as { outcome: string; entry: { consumerDept: string }; receipt: Parameters<typeof verifyReceipt>[0] }[];
    expect(results.map((r) => [r.outcome, r.entry.consumerDept])).to.deep.equal(Array(3).fill(["served", D.tax]));
    for (const r of results) verifyReceipt(r.receipt, [h.operator.address]);

    // The same key on any other route, even one the department key may use.
    for (const [method, path] of [["GET", `/v1/departments/${D.tax}`], ["GET", "/v1/sessions"], ["POST", "/v1/receipts/check"]] as const) {
      const a = await send(h.client.tax.withSession(key), method, path, method === "POST" ? { receipts: [{ receipt: results[0].receipt }] } : undefined, { session: true });
      expect([a.status, a.code], `${method} ${path}: ${a.message}`).to.deep.equal([403, "SESSION_SCOPE"]);
    }
    // A client given both keys uses each where it may.
    expect((await send(h.client.tax.withSession(key), "GET", "/v1/sessions")).status).to.equal(200);
  });

  it("checks the certificate once: requests with a session key read nothing of the registry until some department's keys change", async () => {
    const key = newSessionKey();
    expect((await register(h.client.tax, key)).status).to.equal(201);
    const gateway = h.client.tax.withSession(key);
    expect((await access(gateway)).status).to.equal(200); // the first use
    const indexer = h.node.indexer;
    const reads = { isSigner: 0, removedAfter: 0 };
    const original = { isSigner: indexer.isSigner, removedAfter: indexer.removedAfter };
    indexer.isSigner = (...a) => (reads.isSigner++, original.isSigner.apply(indexer, a));
    indexer.removedAfter = (...a) => (reads.removedAfter++, original.removedAfter.apply(indexer, a));
    try {
      for (let i = 0; i < 5; i++) expect((await access(gateway)).status).to.equal(200);
      expect(reads.isSigner, "isSigner per request").to.equal(0);
      expect(reads.removedAfter, "certifier checked per request").to.equal(0);
      // Another department's keys change: the next request checks the certifier again, once.
      const other = wallet();
      const id = (await h.governor.post<{ id: string }>("/v1/departments", { code: "cq.sessions.other", level: "district", signers: [other.address] })).id;
      await h.client.tax.as(id, other).changeKeys({ action: "add", signer: wallet().address });
      await h.node.indexer.syncOnce();
      const [isSignerBefore, removedBefore] = [reads.isSigner, reads.removedAfter];
      for (let i = 0; i < 5; i++) expect((await access(gateway)).status).to.equal(200);
      expect(reads.removedAfter - removedBefore, "one check after the change").to.equal(1);
      expect(reads.isSigner - isSignerBefore).to.equal(0);
      // A department key's request checks its signer every time, for comparison.
      const isSignerBefore2 = reads.isSigner;
      await access(h.client.tax);
      expect(reads.isSigner - isSignerBefore2).to.equal(1);
    } finally {
      Object.assign(indexer, original);
    }
  });

  it("refuses a key before its window, after it, and one never registered or registered for another department", async () => {
    const early = newSessionKey();
    expect((await register(h.client.tax, early, { from: now() + 3600, until: now() + 7200 })).status).to.equal(201);
    const a = await access(h.client.tax.withSession(early));
    expect([a.status, a.code], a.message).to.deep.equal([401, "SESSION_NOT_YET_VALID"]);

    const brief = newSessionKey();
    expect((await register(h.client.tax, brief, { from: now() - 10, until: now() + 2 })).status).to.equal(201);
    expect((await access(h.client.tax.withSession(brief))).status).to.equal(200);
    await new Promise((r) => setTimeout(r, 2100));
    const late = await access(h.client.tax.withSession(brief));
    expect([late.status, late.code], late.message).to.deep.equal([401, "SESSION_EXPIRED"]);
    const listed = await h.client.tax.get<{ sessions: { publicKey: string; status: string }[] }>("/v1/sessions");
    expect(listed.sessions.find((s) => s.publicKey === brief.publicKey)?.status).to.equal("expired");
    expect(listed.sessions.find((s) => s.publicKey === early.publicKey)?.status).to.equal("not-yet-valid");

    const unknown = await access(h.client.tax.withSession(newSessionKey()));
    expect([unknown.status, unknown.code], unknown.message).to.deep.equal([401, "SESSION_UNKNOWN"]);
    const taxKey = newSessionKey();
    expect((await register(h.client.tax, taxKey)).status).to.equal(201);
    const asWater = await access(h.client.water.withSession(taxKey));
    expect([asWater.status, asWater.code], asWater.message).to.deep.equal([401, "SESSION_UNKNOWN"]);
  });

  it("refuses a request whose Ed25519 signature is not over it, a nonce used twice, and both signer headers at once", async () => {
    const key = newSessionKey();
    expect((await register(h.client.tax, key)).status).to.equal(201);
    const gateway = h.client.tax.withSession(key);
    const body = new TextEncoder().encode(JSON.stringify({ calls: [call(agreement)] }));
    const headers = await gateway.signHeaders("POST", "/v1/access", body);
    const tampered = new TextEncoder().encode(JSON.stringify({ calls: [call(agreement)] }));
    const post = (b: Uint8Array, extra: Record<string, string> = {}) =>
      fetch(h.baseUrl + "/v1/access", { method: "POST", headers: { "content-type": "application/json", ...headers, ...extra }, body: b as BodyInit }).then(answer);
    const bad = await post(tampered);
    expect([bad.status, bad.code], bad.message).to.deep.equal([401, "AUTH_BAD_SIGNATURE"]);
    const stranger = newSessionKey(); // another key's signature over the right request
    const other = await post(body, { "x-dcl-signature": (await h.client.tax.withSession(stranger).signHeaders("POST", "/v1/access", body, { nonce: headers["x-dcl-nonce"], timestamp: Number(headers["x-dcl-timestamp"]) }))["x-dcl-signature"] });
    expect([other.status, other.code]).to.deep.equal([401, "AUTH_BAD_SIGNATURE"]);
    expect((await post(body)).status, "the refusals did not burn the nonce").to.equal(200);
    const again = await post(body);
    expect([again.status, again.code]).to.deep.equal([401, "AUTH_NONCE_REUSED"]);
    const both = await post(body, { "x-dcl-signer": h.keys.tax.address, "x-dcl-nonce": "ab".repeat(16) });
    expect([both.status, both.code], both.message).to.deep.equal([401, "AUTH_MALFORMED"]);
    const short = await post(body, { "x-dcl-signature": headers["x-dcl-signature"].slice(0, 100), "x-dcl-nonce": "cd".repeat(16) });
    expect([short.status, short.code], short.message).to.deep.equal([401, "AUTH_MALFORMED"]);
    expect(headers[SESSION_KEY_HEADER]).to.equal(key.publicKey);
    expect(headers["x-dcl-signer"]).to.equal(undefined);
  });

  it("stops a key revoked by a department signer at once; a second revocation is refused", async () => {
    const key = newSessionKey();
    expect((await register(h.client.tax, key)).status).to.equal(201);
    const gateway = h.client.tax.withSession(key);
    expect((await access(gateway)).status).to.equal(200);
    const revoked = await h.client.tax.revokeSession(key.publicKey, "gateway decommissioned");
    expect(revoked.session).to.include({ status: "revoked", revokedBy: h.keys.tax.address.toLowerCase(), revocation: "signer", reason: "gateway decommissioned" });
    const a = await access(gateway);
    expect([a.status, a.code], a.message).to.deep.equal([403, "SESSION_REVOKED"]);
    const twice = await send(h.client.tax, "POST", `/v1/sessions/${key.publicKey}/revoke`, {});
    expect([twice.status, twice.code]).to.deep.equal([409, "SESSION_ALREADY_REVOKED"]);
    const notTheirs = await send(h.client.water, "POST", `/v1/sessions/${newSessionKey().publicKey}/revoke`, {});
    expect([notTheirs.status, notTheirs.code]).to.deep.equal([404, "NOT_FOUND"]);
    const seen = await h.client.tax.get<{ session: { status: string } }>(`/v1/sessions/${key.publicKey}`);
    expect(seen.session.status).to.equal("revoked");
  });

  it("revokes a key for good when its certifying key is removed from the department; keys certified by another signer go on", async () => {
    const [keep, drop] = [wallet(), wallet()];
    const id = (await h.governor.post<{ id: string }>("/v1/departments", { code: "cq.sessions.rotated", level: "district", signers: [keep.address, drop.address] })).id;
    const byDrop = newSessionKey();
    const byKeep = newSessionKey();
    const dept = h.client.tax.as(id, keep);
    expect((await register(dept, byDrop, { certifier: drop })).status).to.equal(201);
    expect((await register(dept, byKeep)).status).to.equal(201);
    // Both sign requests (POST /v1/access answers for a department with no agreement too: calls refused, logged).
    for (const k of [byDrop, byKeep]) expect((await access(dept.withSession(k))).status).to.equal(200);
    await dept.changeKeys({ action: "remove", signer: drop.address });
    await h.node.indexer.syncOnce();
    const a = await access(dept.withSession(byDrop));
    expect([a.status, a.code], a.message).to.deep.equal([403, "SESSION_CERTIFIER_REMOVED"]);
    expect((await access(dept.withSession(byKeep))).status).to.equal(200);
    const listed = await dept.get<{ sessions: { publicKey: string; status: string; revocation?: string }[] }>("/v1/sessions");
    expect(listed.sessions.find((s) => s.publicKey === byDrop.publicKey)).to.include({ status: "revoked", revocation: "certifier-removed" });
    // Adding the key back does not revive what its removal revoked.
    await dept.changeKeys({ action: "add", signer: drop.address });
    await h.node.indexer.syncOnce();
    const still = await access(dept.withSession(byDrop));
    expect(still.code).to.equal("SESSION_CERTIFIER_REMOVED");
  });

  it("refuses session requests of a deactivated department", async () => {
    const key = wallet();
    const id = (await h.governor.post<{ id: string }>("/v1/departments", { code: "cq.sessions.inactive", level: "district", signers: [key.address] })).id;
    const dept = h.client.tax.as(id, key);
    const session = newSessionKey();
    expect((await register(dept, session)).status).to.equal(201);
    expect((await access(dept.withSession(session))).status).to.equal(200);
    await h.governor.post(`/v1/departments/${id}/active`, { active: false });
    await h.node.indexer.syncOnce();
    const a = await access(dept.withSession(session));
    expect([a.status, a.code], a.message).to.deep.equal([403, "AUTH_DEPARTMENT_INACTIVE"]);
  });

  it("registers only a certificate signed by a current signer of the department, for a key of prime order, in a short non-empty window, once", async () => {
    const notSigner = await register(h.client.tax, newSessionKey(), { certifier: h.keys.water });
    expect([notSigner.status, notSigner.code], notSigner.message).to.deep.equal([403, "SESSION_CERTIFIER_NOT_SIGNER"]);
    const misnamed = await register(h.client.tax, newSessionKey(), { certifier: h.keys.water, claimed: h.keys.tax.address });
    expect([misnamed.status, misnamed.code], misnamed.message).to.deep.equal([400, "SESSION_SIGNATURE_INVALID"]);
    for (const [from, until] of [[now() + 100, now() + 100], [now() - 100, now() - 1], [now(), now() + 7 * 86_400 + 1]]) {
      const a = await register(h.client.tax, newSessionKey(), { from, until });
      expect([a.status, a.code], `[${from}, ${until}): ${a.message}`).to.deep.equal([400, "SESSION_WINDOW_INVALID"]);
    }
    expect((await register(h.client.tax, newSessionKey(), { from: now(), until: now() + 7 * 86_400 })).status, "seven days exactly").to.equal(201);
    const key = newSessionKey();
    expect((await register(h.client.tax, key)).status).to.equal(201);
    const twice = await register(h.client.tax, key);
    expect([twice.status, twice.code]).to.deep.equal([409, "SESSION_EXISTS"]);
    const zero = await send(h.client.tax, "POST", "/v1/sessions", { publicKey: "0x" + "00".repeat(32), notBefore: now(), notAfter: now() + 60, scope: "access:write" });
    expect([zero.status, zero.code], zero.message).to.deep.equal([400, "VALIDATION_FAILED"]);
    expect(zero.message).to.contain("publicKey");
    const scope = await send(h.client.tax, "POST", "/v1/sessions", { publicKey: newSessionKey().publicKey, notBefore: now(), notAfter: now() + 60, scope: "audit:read" });
    expect([scope.status, scope.code]).to.deep.equal([400, "VALIDATION_FAILED"]);
    // A session key cannot certify or revoke keys.
    const bySession = await send(h.client.tax.withSession(key), "POST", "/v1/sessions", certificate(newSessionKey()), { session: true });
    expect([bySession.status, bySession.code]).to.deep.equal([403, "SESSION_SCOPE"]);
  });

  it("survives a restart of the API: registered and revoked keys are kept", async () => {
    const [live, dead] = [newSessionKey(), newSessionKey()];
    for (const k of [live, dead]) expect((await register(h.client.tax, k)).status).to.equal(201);
    await h.client.tax.revokeSession(dead.publicKey);
    const { buildApp } = await import("../../api/app");
    const app = await buildApp({ node: h.node, logger: false, rateLimitPerMinute: 100_000 });
    try {
      const inject = async (k: SessionKey) => {
        const payload = JSON.stringify({ calls: [call(agreement)] });
        const headers = await h.client.tax.withSession(k).signHeaders("POST", "/v1/access", new TextEncoder().encode(payload));
        const res = await app.inject({ method: "POST", url: "/v1/access", headers: { ...headers, "content-type": "application/json" }, payload });
        return [res.statusCode, (res.json() as { error?: { code: string } }).error?.code];
      };
      expect(await inject(live)).to.deep.equal([200, undefined]);
      expect(await inject(dead)).to.deep.equal([403, "SESSION_REVOKED"]);
    } finally {
      await app.close();
    }
  });
});
