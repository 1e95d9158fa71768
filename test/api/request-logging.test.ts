/**
 * The API's own log: one line per request when it is answered, at a level by what happened — a
 * successful access call or read at debug, other successful writes and refusals at info — and never
 * Fastify's two lines per request (a gateway's tens of millions of calls a day are in the log itself).
 */
import { expect } from "chai";
import { ethers } from "ethers";
import pino from "pino";
import { Writable } from "node:stream";
import { signatureChecks } from "../../api/auth/signature-checks";
import { startApiHarness, type ApiHarness } from "../support/api-harness";
import { D, R } from "../support/node-harness";

interface Line {
  level: number;
  msg: string;
  method?: string;
  route?: string | null;
  status?: number;
  department?: string;
  reqId?: string;
}

describe("api request logging", function () {
  let h: ApiHarness;
  const lines: Line[] = [];
  const logger = pino({ level: "debug" }, new Writable({ write(chunk, _enc, done) { lines.push(JSON.parse(String(chunk)) as Line); done(); } }));
  before(async () => (h = await startApiHarness({ logger })));
  after(async () => h?.stop());

  const answered = () => lines.filter((l) => l.msg === "request answered");
  const LEVEL = { debug: 20, info: 30 };

  it("logs one line per answered request: access calls and reads at debug, refusals at info with the department when known", async () => {
    lines.length = 0;
    await h.client.tax.post("/v1/access", { calls: [{ agreementId: ethers.id("none"), recordCount: 1, requestHash: ethers.id("q"), responseHash: ethers.id("r") }] });
    const cp = await fetch(h.baseUrl + "/v1/log/checkpoint");
    expect(cp.status).to.equal(200);
    const bad = await fetch(h.baseUrl + "/v1/log/proofs/inclusion?index=nope");
    expect(bad.status).to.equal(400);
    const unsigned = await fetch(h.baseUrl + "/v1/access", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ calls: [{ agreementId: ethers.id("none"), recordCount: 1, requestHash: ethers.id("q"), responseHash: ethers.id("r") }] }) });
    expect(unsigned.status).to.equal(401);
    await new Promise((r) => setImmediate(r));

    const got = answered().map((l) => [l.method, l.route, l.status, l.level]);
    expect(got).to.deep.equal([
      ["POST", "/v1/access", 200, LEVEL.debug],
      ["GET", "/v1/log/checkpoint", 200, LEVEL.debug],
      ["GET", "/v1/log/proofs/inclusion", 400, LEVEL.info],
      ["POST", "/v1/access", 401, LEVEL.info],
    ]);
    expect(answered()[0].department, "the signed request's department").to.equal(h.client.tax.department.toLowerCase());
    expect(answered()[0].reqId).to.be.a("string");
    expect(lines.filter((l) => l.msg === "incoming request" || l.msg === "request completed"), "Fastify's own request lines").to.deep.equal([]);
  });

  it("logs a successful write other than an access call at info", async () => {
    lines.length = 0;
    const now = Math.floor(Date.now() / 1000);
    const res = await h.client.tax.send("POST", "/v1/agreements", { provider: D.water, consumer: D.tax, resource: R.waterFees, purpose: "fees", quota: "10", validFrom: now - 10, validUntil: now + 3600 });
    expect(res.status).to.equal(201);
    await new Promise((r) => setImmediate(r));
    expect(answered().map((l) => [l.method, l.route, l.status, l.level])).to.deep.equal([["POST", "/v1/agreements", 201, LEVEL.info]]);
  });

  it("makes a request's pino child only when the request writes a line (none for an access call with debug off)", async () => {
    const log = h.app.log as unknown as { level: string; child: (...a: unknown[]) => unknown };
    const child = log.child;
    let children = 0;
    log.child = function (this: unknown, ...a: unknown[]) {
      children++;
      return child.apply(this, a);
    };
    log.level = "info";
    try {
      lines.length = 0;
      const call = { agreementId: ethers.id("none"), recordCount: 1, requestHash: ethers.id("q"), responseHash: ethers.id("r") };
      await h.client.tax.post("/v1/access", { calls: [call] });
      await new Promise((r) => setImmediate(r));
      expect(answered(), "an access call's line is at debug").to.deep.equal([]);
      expect(children, "pino children made for it").to.equal(0);

      const unsigned = await fetch(h.baseUrl + "/v1/access", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ calls: [call] }) });
      expect(unsigned.status).to.equal(401);
      await new Promise((r) => setImmediate(r));
      expect(children).to.equal(1);
      expect(answered().map((l) => [l.status, l.level])).to.deep.equal([[401, LEVEL.info]]);
      expect(answered()[0].reqId, "bound to the request id as before").to.equal(unsigned.headers.get("x-request-id"));
    } finally {
      log.child = child;
      log.level = "debug";
    }
  });

  it("logs at warn when the signature checks' worker is taken for hung (the process's checker tells every API in it)", async () => {
    lines.length = 0;
    // The checker's own test makes a worker hang for real (test/api/signature-checks.test.ts); here, what it tells its listeners.
    const listeners = (signatureChecks() as unknown as { hungListeners: Set<(restarted: boolean) => void> }).hungListeners;
    expect(listeners.size, "the API listens").to.be.at.least(1);
    listeners.forEach((listener) => listener(true));
    listeners.forEach((listener) => listener(false));
    const warned = lines.filter((l) => l.level === 40 && l.msg.startsWith("the signature checks' worker did not answer in time"));
    expect(warned.map((l) => l.msg)).to.deep.equal([
      "the signature checks' worker did not answer in time: terminated, its checks made on the main thread, a new worker started",
      "the signature checks' worker did not answer in time: terminated, its checks made on the main thread from now on",
    ]);
  });
});
