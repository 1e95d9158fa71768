/** The soak's checks (scripts/soak/checks.ts) report what is missing, altered or grown, and pass only when nothing is. */
import { expect } from "chai";
import { Wallet } from "ethers";
import { personalMessageHash, receiptSigningPayload, toHex, leafHash, nodeHash, type Receipt } from "../../node/verify";
import { checkEntries, checkMemory, checkPresent, checkReceipts, checkRelays, checkServerErrors } from "../../scripts/soak/checks";

const leaf = (i: number) => toHex(leafHash(new TextEncoder().encode(`entry ${i}`)));

/** A signed two-entry batch [first, first + 2) and its receipts. */
function batchReceipts(key: Wallet, first: number): Receipt[] {
  const [a, b] = [leaf(first), leaf(first + 1)];
  const root = toHex(nodeHash(Buffer.from(a.slice(2), "hex"), Buffer.from(b.slice(2), "hex")));
  const origin = "dcl/31337/log.test";
  const signature = key.signingKey.sign(personalMessageHash(receiptSigningPayload(origin, first, 2, root))).serialized;
  return [
    { origin, index: first, leafHash: a, batch: { first, count: 2, root, proof: [b] }, signer: key.address, signature },
    { origin, index: first + 1, leafHash: b, batch: { first, count: 2, root, proof: [a] }, signer: key.address, signature },
  ];
}

describe("soak checks", () => {
  it("finds every acknowledged entry in the log, and reports one missing or altered", () => {
    const acked = new Map([[0, leaf(0)], [1, leaf(1)], [2, leaf(2)]]);
    expect(checkEntries(acked, new Map(acked), 3).ok).to.equal(true);
    const missing = checkEntries(acked, new Map([[0, leaf(0)], [2, leaf(2)]]), 3);
    expect(missing.ok).to.equal(false);
    expect(missing.failures).to.deep.equal(["entry 1: missing"]);
    const altered = checkEntries(acked, new Map([[0, leaf(0)], [1, leaf(9)], [2, leaf(2)]]), 3);
    expect(altered.failures[0]).to.match(/^entry 1: leaf/);
    expect(checkEntries(acked, new Map(acked), 2).failures).to.deep.equal(["entry 2: beyond the log's size 2"]);
    expect(checkEntries(new Map(), new Map(), 0).ok, "nothing acknowledged proves nothing").to.equal(false);
  });

  it("verifies receipts with node/verify, and reports a forged signature, a wrong signer and a receipt for another leaf", () => {
    const operator = new Wallet(Wallet.createRandom().privateKey);
    const receipts = [...batchReceipts(operator, 0), ...batchReceipts(operator, 2)];
    const acked = new Map(receipts.map((r) => [r.index, r.leafHash]));
    expect(checkReceipts(receipts, acked, operator.address).ok).to.equal(true);

    const other = new Wallet(Wallet.createRandom().privateKey);
    const forged = batchReceipts(other, 4).map((r) => ({ ...r, signer: operator.address }));
    const r1 = checkReceipts([...receipts, ...forged], new Map([...acked, [4, leaf(4)], [5, leaf(5)]]), operator.address);
    expect(r1.ok).to.equal(false);
    expect(r1.failures.join("\n")).to.match(/receipt 4: .*not signed by/);

    expect(checkReceipts(batchReceipts(other, 0), acked, operator.address).failures.join("\n")).to.match(/RECEIPT_SIGNER_UNEXPECTED|not an operator key/);
    // The second receipt of a batch whose signature was already checked still has its own proof checked.
    const tampered = batchReceipts(operator, 0);
    tampered[1] = { ...tampered[1], leafHash: leaf(7) };
    const r2 = checkReceipts(tampered, new Map([[0, leaf(0)], [1, leaf(7)]]), operator.address);
    expect(r2.failures).to.have.length(1);
    expect(r2.failures[0]).to.match(/^receipt 1: .*does not lead to batch root/);
    expect(checkReceipts(receipts, new Map([[0, leaf(0)]]), operator.address).failures.join("\n")).to.match(/receipt 1: names leaf/);
  });

  it("reports an acknowledged agreement that is missing or not in its state", () => {
    expect(checkPresent("agreement", ["a", "b"], new Map([["a", true], ["b", true]])).ok).to.equal(true);
    const r = checkPresent("agreement", ["a", "b", "c"], new Map([["a", true], ["b", false]]));
    expect(r.ok).to.equal(false);
    expect(r.failures).to.deep.equal(["agreement b: not in the state acknowledged", "agreement c: missing"]);
  });

  it("reports a 202 relay still pending, and is not applicable without a relay outbox", () => {
    expect(checkRelays([{ id: "r1", flow: "consent", status: "mined" }, { id: "r2", flow: "agreement", status: "failed" }], true).ok).to.equal(true);
    const r = checkRelays([{ id: "r1", flow: "consent", status: "pending" }], true);
    expect(r.ok).to.equal(false);
    expect(r.failures).to.deep.equal(["relay r1 (consent): pending"]);
    expect(checkRelays([], false).notApplicable).to.be.a("string");
  });

  it("counts a 5xx as a failure, except 503 STORAGE_UNAVAILABLE while writes were made to fail", () => {
    const fault = { from: 1000, to: 2000 };
    const during = { status: 503, code: "STORAGE_UNAVAILABLE", route: "POST /v1/access", at: 1500 };
    expect(checkServerErrors([during], [fault], 10).ok).to.equal(true);
    expect(checkServerErrors([{ ...during, at: 60_000 }], [fault], 10).ok, "outside the fault").to.equal(false);
    const r = checkServerErrors([during, { status: 500, code: "INTERNAL", route: "POST /v1/access", at: 1500 }], [fault], 10);
    expect(r.ok).to.equal(false);
    expect(r.failures).to.deep.equal(["1 × 500 INTERNAL POST /v1/access"]);
  });

  it("judges memory in the last run only, after its warm-up, and reports growth beyond 1.5 ×", () => {
    const flat = [{ run: 1, second: 10, kb: 100_000 }, { run: 1, second: 60, kb: 900_000 }, { run: 2, second: 5, kb: 90_000 }, { run: 2, second: 30, kb: 200_000 }, { run: 2, second: 300, kb: 290_000 }];
    const ok = checkMemory(flat, 30);
    expect(ok.ok).to.equal(true);
    expect(ok.ratio).to.equal(1.45);
    const grown = checkMemory([...flat, { run: 2, second: 400, kb: 310_000 }], 30);
    expect(grown.ok).to.equal(false);
    expect(grown.failures[0]).to.match(/× 1\.55/);
    expect(checkMemory([{ run: 3, second: 10, kb: 1 }], 30).ok, "a last run too short to judge").to.equal(false);
  });
});
