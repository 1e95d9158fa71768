/**
 * The access batcher (api/access-batcher.ts) against a real API over real HTTP: calls reported one
 * at a time go out many to a request, each answered with its own outcome and a receipt that verifies;
 * a call that makes its request a 400 is refused alone while the others are logged once each; a
 * request refused as a whole refuses all its calls; a full queue and a closed batcher refuse at once.
 */
import { expect } from "chai";
import { ethers } from "ethers";
import { AccessBatcher, type ReportedCall } from "../../api/access-batcher";
import { ApiError, DclClient } from "../../api/client";
import { verifyReceipt } from "../../node/verify";
import { startApiHarness, waterToTaxAgreement, type ApiHarness } from "../support/api-harness";
import { D } from "../support/node-harness";

const now = () => Math.floor(Date.now() / 1000);
const hash = () => ethers.hexlify(ethers.randomBytes(32));

describe("api access batcher", function () {
  this.timeout(120_000);
  let h: ApiHarness;
  let agreement: string;
  const call = (extra: Partial<ReportedCall> = {}): ReportedCall => ({ agreementId: agreement, recordCount: 1, requestHash: hash(), responseHash: hash(), ...extra });

  before(async () => {
    h = await startApiHarness();
    agreement = await waterToTaxAgreement(h, "batcher");
  });
  after(async () => h?.stop());

  it("sends calls reported one by one in few requests and answers each with its own outcome and a receipt that verifies", async () => {
    const gateway = await h.client.tax.startSession();
    const batcher = new AccessBatcher(gateway, { lingerMs: 50, maxCalls: 40 });
    const before = h.node.log.size();
    const calls = Array.from({ length: 100 }, () => call());
    const outcomes = await Promise.all(calls.map((c) => batcher.report(c)));

    // 100 calls at most 40 to a request, all reported within one linger: three requests.
    expect(batcher.stats()).to.deep.equal({ queued: 0, inFlight: 0, requests: 3, logged: 100, refused: 0 });
    expect(h.node.log.size() - before).to.equal(100);
    expect(new Set(outcomes.map((o) => o.index)).size).to.equal(100);
    outcomes.forEach((o, i) => {
      expect(o.outcome).to.equal("served");
      expect(o.entry.requestHash, `call ${i} answered with another call's outcome`).to.equal(calls[i].requestHash);
      verifyReceipt(o.receipt!, [h.operator.address]);
      expect(o.receipt!.leafHash).to.equal(o.leafHash);
    });
  });

  it("refuses alone a call that makes its request a 400, and logs every other call of it once", async () => {
    const batcher = new AccessBatcher(h.client.tax, { lingerMs: 50 });
    const before = h.node.log.size();
    const calls = Array.from({ length: 9 }, () => call());
    calls[6] = call({ calledAt: now() + 3600 }); // a call reported as made an hour from now: VALIDATION_FAILED for its whole request
    const settled = await Promise.allSettled(calls.map((c) => batcher.report(c)));

    const refused = settled.flatMap((s, i) => (s.status === "rejected" ? [[i, (s.reason as ApiError).status, (s.reason as ApiError).code]] : []));
    expect(refused).to.deep.equal([[6, 400, "VALIDATION_FAILED"]]);
    expect(h.node.log.size() - before).to.equal(8);
    const logged = settled.flatMap((s) => (s.status === "fulfilled" ? [s.value.entry.requestHash] : []));
    expect(logged).to.deep.equal(calls.filter((_, i) => i !== 6).map((c) => c.requestHash));
    // 9 calls, then halves down to the one at fault: [9] → [5][4] → [5]: [3][2] → [2]: [1][1].
    expect(batcher.stats()).to.include({ requests: 7, logged: 8, refused: 1 });
  });

  it("refuses every call of a request the node refuses as a whole", async () => {
    const stranger = new DclClient(h.client.tax.options, D.tax, new ethers.Wallet(ethers.Wallet.createRandom().privateKey));
    const batcher = new AccessBatcher(stranger, { lingerMs: 20 });
    const before = h.node.log.size();
    const settled = await Promise.allSettled([call(), call(), call()].map((c) => batcher.report(c)));
    expect(settled.map((s) => (s.status === "rejected" ? [(s.reason as ApiError).status, (s.reason as ApiError).code] : "logged"))).to.deep.equal(Array(3).fill([403, "AUTH_NOT_DEPARTMENT_SIGNER"]));
    expect(batcher.stats()).to.include({ requests: 1, refused: 3 });
    expect(h.node.log.size()).to.equal(before);
  });

  it("refuses at once beyond maxQueued, and after close; close answers what was waiting", async () => {
    const batcher = new AccessBatcher(h.client.tax, { lingerMs: 60_000, maxQueued: 2 });
    const waiting = [batcher.report(call()), batcher.report(call())];
    const full = await batcher.report(call()).then(() => undefined, (e: ApiError) => [e.status, e.code]);
    expect(full).to.deep.equal([503, "REPORTER_QUEUE_FULL"]);
    expect(batcher.stats()).to.include({ queued: 2, requests: 0, refused: 1 });

    await batcher.close(); // does not wait out the minute's linger
    const outcomes = await Promise.all(waiting);
    expect(outcomes.map((o) => o.outcome)).to.deep.equal(["served", "served"]);
    const closed = await batcher.report(call()).then(() => undefined, (e: ApiError) => [e.status, e.code]);
    expect(closed).to.deep.equal([503, "REPORTER_CLOSED"]);
    expect(batcher.stats()).to.include({ requests: 1, logged: 2, refused: 2 });
  });

  it("keeps at most maxInFlight requests open, the calls reported meanwhile going together next", async () => {
    const batcher = new AccessBatcher(h.client.tax, { lingerMs: 0, maxInFlight: 1, maxCalls: 1000 });
    const first = batcher.report(call());
    while (batcher.stats().inFlight === 0) await new Promise((r) => setImmediate(r)); // its request is on its way
    const rest = Array.from({ length: 20 }, () => batcher.report(call()));
    expect(batcher.stats()).to.include({ inFlight: 1, queued: 20 });
    await Promise.all([first, ...rest]);
    expect(batcher.stats()).to.include({ requests: 2, logged: 21 });
  });

  it("refuses options it cannot work with", () => {
    expect(() => new AccessBatcher(h.client.tax, { maxCalls: 0 })).to.throw(RangeError, /maxCalls/);
    expect(() => new AccessBatcher(h.client.tax, { maxInFlight: 1.5 })).to.throw(RangeError, /maxInFlight/);
  });
});
