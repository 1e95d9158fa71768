/**
 * docs/formats.md's period bundle and alert webhook sections against test/vectors/period-bundle.json
 * and test/vectors/alert-webhook.json: every hash and signature rebuilt from the document's rules
 * (formats-rules.ts, and the compact range and its merge written out again here), and dcl's own
 * code — the log, the range verifier, the bundle verifier, the webhook — gives and accepts the same.
 */
import { expect } from "chai";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Alert } from "../../node/alerts/alert";
import { alertId } from "../../node/alerts/alert";
import { webhookRequest } from "../../node/alerts/webhook";
import type { PeriodBundle } from "../../node/assessment/period-bundle";
import { verifyPeriodBundle } from "../../node/assessment/verify-period-bundle";
import { decodeEntry, encodeEntry, type AccessLogEntry } from "../../node/log/entry";
import { MerkleLog } from "../../node/log/merkle-log";
import { fromHex, toHex, verifyAlertWebhook, verifyRange } from "../../node/verify";
import { Wallet } from "ethers";
import * as spec from "./formats-rules";

const load = <T>(name: string): T => JSON.parse(readFileSync(join(__dirname, "../vectors", name), "utf8")) as T;

interface Key { hardhatAccount: number; privateKey: string; address: string }
interface Subtree { level: number; index: number; leaves: [number, number]; hash: string }
interface PeriodVector {
  operator: Key;
  period: { from: number; to: number };
  log: { origin: string; entries: string[]; leafHashes: string[]; root: string };
  proof: { lo: number; hi: number; left: Subtree[]; right: Subtree[] };
  seal: { canonicalJsonSha256: string; signedText: string; eip191Digest: string };
  bundle: PeriodBundle;
}

/** The document's compact range: from a, the largest aligned complete subtree that fits, again and again. */
function compact(a: number, b: number): { level: number; start: number }[] {
  const out: { level: number; start: number }[] = [];
  for (let start = a; start < b; ) {
    let level = 0;
    while (start % 2 ** (level + 1) === 0 && start + 2 ** (level + 1) <= b) level++;
    out.push({ level, start });
    start += 2 ** level;
  }
  return out;
}

/** The document's verification: push the left subtrees, the leaves, the right subtrees, merging equal heights; fold from the right. */
function rootOf(lo: number, size: number, left: Buffer[], leaves: Buffer[], right: Buffer[]): Buffer {
  const stack: { level: number; hash: Buffer }[] = [];
  const push = (level: number, hash: Buffer) => {
    stack.push({ level, hash });
    while (stack.length >= 2 && stack[stack.length - 1].level === stack[stack.length - 2].level) {
      const r = stack.pop()!;
      const l = stack.pop()!;
      stack.push({ level: l.level + 1, hash: spec.nodeHash(l.hash, r.hash) });
    }
  };
  compact(0, lo).forEach((s, i) => push(s.level, left[i]));
  leaves.forEach((h) => push(0, h));
  compact(lo + leaves.length, size).forEach((s, i) => push(s.level, right[i]));
  let root = stack[stack.length - 1].hash;
  for (let i = stack.length - 2; i >= 0; i--) root = spec.nodeHash(stack[i].hash, root);
  return root;
}

/** An entry's time: uint64 big-endian at offset 1 (formats §2). */
const timeOf = (canonical: string) => Number(spec.bytes(canonical).readBigUInt64BE(1));

describe("formats: period bundles (test/vectors/period-bundle.json)", () => {
  const v = load<PeriodVector>("period-bundle.json");
  const b = v.bundle;
  const leaves = v.log.entries.map((c) => spec.leafHash(spec.bytes(c)));
  const size = v.log.entries.length;

  it("takes the period's entries as the index range of the entries with from ≤ time < to, in a log in time order", () => {
    const times = v.log.entries.map(timeOf);
    expect(times).to.deep.equal([...times].sort((x, y) => x - y));
    const begin = times.filter((t) => t < v.period.from).length;
    const end = times.filter((t) => t < v.period.to).length;
    expect(b.range).to.deep.equal({ begin, end });
    expect(b.entries).to.deep.equal(v.log.entries.slice(begin, end));
    expect(b.before).to.equal(v.log.entries[begin - 1]);
    expect(b.after).to.equal(v.log.entries[end]);
    expect(timeOf(b.before!)).to.be.below(v.period.from);
    expect(timeOf(b.after!)).to.be.at.least(v.period.to);
    expect(b.period).to.deep.equal(v.period);
  });

  it("rebuilds the checkpoint's root, the note's signature and the leaf hashes", () => {
    expect(leaves.map(spec.hex)).to.deep.equal(v.log.leafHashes);
    expect(spec.hex(spec.mth(leaves))).to.equal(v.log.root);
    expect(b.checkpoint).to.deep.include({ treeSize: size, root: v.log.root });
    const body = spec.checkpointBody(v.log.origin, size, spec.bytes(v.log.root));
    expect(b.checkpoint.note.startsWith(body + "\n")).to.equal(true);
    const line = b.checkpoint.note.slice(body.length + 1);
    const sig = Buffer.from(line.trimEnd().split(" ").at(-1)!, "base64");
    expect(spec.hex(sig.subarray(0, 20))).to.equal(v.operator.address.toLowerCase());
    expect(spec.sameAddress(spec.recover(spec.eip191Digest(spec.utf8(body)), spec.hex(sig.subarray(20)))!, v.operator.address)).to.equal(true);
  });

  it("rebuilds the range proof: the subtree hashes left and right of [lo, hi), and the root from them and the leaves", () => {
    const { begin, end } = b.range;
    const [lo, hi] = [begin - 1, end + 1];
    expect([v.proof.lo, v.proof.hi]).to.deep.equal([lo, hi]);
    const expectSubtrees = (a: number, z: number, given: Subtree[], hashes: string[]) => {
      const want = compact(a, z).map((s) => ({ level: s.level, index: s.start / 2 ** s.level, leaves: [s.start, s.start + 2 ** s.level], hash: spec.hex(spec.mth(leaves.slice(s.start, s.start + 2 ** s.level))) }));
      expect(given).to.deep.equal(want);
      expect(hashes).to.deep.equal(want.map((s) => s.hash));
    };
    expectSubtrees(0, lo, v.proof.left, b.proof.left);
    expectSubtrees(hi, size, v.proof.right, b.proof.right);
    const root = rootOf(lo, size, b.proof.left.map(spec.bytes), leaves.slice(lo, hi), b.proof.right.map(spec.bytes));
    expect(spec.hex(root)).to.equal(v.log.root);
    // One entry dropped, or one from outside the range put in it (with right subtrees of the matching shape): another root.
    const right = (from: number) => compact(from, size).map((s) => spec.mth(leaves.slice(s.start, s.start + 2 ** s.level)));
    const dropped = [...leaves.slice(lo, lo + 2), ...leaves.slice(lo + 3, hi)];
    expect(spec.hex(rootOf(lo, size, b.proof.left.map(spec.bytes), dropped, right(hi - 1)))).to.not.equal(v.log.root);
    const added = [...leaves.slice(lo, lo + 3), leaves[hi], ...leaves.slice(lo + 3, hi)];
    expect(spec.hex(rootOf(lo, size, b.proof.left.map(spec.bytes), added, right(hi + 1)))).to.not.equal(v.log.root);
    expect(spec.hex(rootOf(lo, size, b.proof.left.map(spec.bytes), leaves.slice(lo, hi + 1), right(hi + 1)))).to.equal(v.log.root); // the honest larger range
  });

  it("rebuilds the seal: SHA-256 of the canonical JSON without the seal, the signed text, the signature", () => {
    const { seal, ...unsealed } = b;
    const digest = spec.sha256(spec.utf8(spec.jcs(unsealed)));
    expect(spec.hex(digest)).to.equal(v.seal.canonicalJsonSha256);
    expect(spec.sealText(digest)).to.equal(v.seal.signedText);
    expect(spec.hex(spec.eip191Digest(spec.utf8(v.seal.signedText)))).to.equal(v.seal.eip191Digest);
    expect(spec.signDigest(spec.bytes(v.seal.eip191Digest), v.operator.privateKey)).to.equal(seal.signature);
    expect(seal.signer).to.equal(v.operator.address);
  });

  it("counts the assessment's figures from the entries by the rules", () => {
    const decoded = b.entries.map((c) => decodeEntry(fromHex(c)));
    for (const d of b.assessment.departments) {
      const mine = decoded.filter((e) => e.consumerDept === d.department);
      expect(d.asConsumer.calls).to.equal(mine.length);
      expect(d.asConsumer.served).to.equal(mine.filter((e) => e.outcome === "served").length);
      expect(d.asConsumer.records).to.equal(mine.reduce((n, e) => n + e.recordCount, 0));
      const asked = decoded.filter((e) => e.providerDept === d.department);
      expect(d.asProvider.calls).to.equal(asked.length);
    }
    expect(b.assessment.basis).to.deep.equal({ treeSize: size, root: v.log.root, begin: b.range.begin, end: b.range.end, closed: true });
  });

  it("is what dcl's log, range verifier and bundle verifier give and accept", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dcl-formats-period-"));
    const log = await MerkleLog.open(dir);
    try {
      await log.appendMany(v.log.entries.map((c) => decodeEntry(fromHex(c))));
      expect(toHex(await log.root())).to.equal(v.log.root);
      const p = await log.rangeProof(v.proof.lo, v.proof.hi, size);
      expect({ left: p.left.map(toHex), right: p.right.map(toHex) }).to.deep.equal(b.proof);
    } finally {
      await log.close();
      rmSync(dir, { recursive: true, force: true });
    }
    verifyRange(v.proof.lo, size, b.proof.left.map(fromHex), leaves.slice(v.proof.lo, v.proof.hi), b.proof.right.map(fromHex), fromHex(v.log.root));
    const report = await verifyPeriodBundle(b);
    expect(report.checks.filter((c) => !c.ok)).to.deep.equal([]);
    expect(report.assessment).to.deep.equal(b.assessment);
  });
});

interface TimedVector {
  cases: { name: string; entry: spec.EntryJson & { calledAt?: number; latencyMs?: number }; canonical: string; leafHash: string; withoutTiming: string }[];
}

describe("formats §2: entries with reported timing, version 0x02 (test/vectors/access-entry-timed.json)", () => {
  const v = load<TimedVector>("access-entry-timed.json");

  it("rebuilds each: the version-0x01 layout with version 0x02, then the timing flags, calledAt and latencyMs", () => {
    for (const c of v.cases) {
      const { calledAt, latencyMs, ...untimed } = c.entry;
      const v1 = spec.encodeEntry(untimed);
      expect(spec.hex(v1), c.name).to.equal(c.withoutTiming);
      const flags = (calledAt !== undefined ? 1 : 0) | (latencyMs !== undefined ? 2 : 0);
      expect(flags, c.name).to.be.within(1, 3);
      const v2 = spec.cat(
        Buffer.from([0x02]), v1.subarray(1), Buffer.from([flags]),
        calledAt !== undefined ? spec.uintBE(calledAt, 8) : Buffer.alloc(0),
        latencyMs !== undefined ? spec.uintBE(latencyMs, 4) : Buffer.alloc(0),
      );
      expect(spec.hex(v2), c.name).to.equal(c.canonical);
      expect(spec.hex(spec.leafHash(v2)), c.name).to.equal(c.leafHash);
    }
  });

  it("is what dcl encodes and decodes", () => {
    for (const c of v.cases) {
      expect(toHex(encodeEntry(c.entry as AccessLogEntry)), c.name).to.equal(c.canonical);
      expect(decodeEntry(fromHex(c.canonical)), c.name).to.deep.equal(c.entry);
      expect(decodeEntry(fromHex(c.withoutTiming))).to.not.have.property("calledAt");
    }
  });
});

describe("docs/formats.md: period bundles and alert deliveries", () => {
  const doc = readFileSync(join(__dirname, "../../docs/formats.md"), "utf8");

  it("lays out every member of the vector period bundle (§13.3) and gives the signed texts' templates", () => {
    const { bundle } = load<PeriodVector>("period-bundle.json");
    const layout = doc.slice(doc.indexOf("### 13.3"), doc.indexOf("### 13.4"));
    for (const k of Object.keys(bundle)) expect(layout, k).to.contain("`" + k + "`");
    for (const k of ["period", "checkpoint", "range", "proof"] as const) for (const m of Object.keys(bundle[k])) expect(layout, `${k}.${m}`).to.contain("`" + m + "`");
    expect(doc).to.contain("`\"dcl-period/v1\"`");
    expect(doc).to.contain("dcl-alert-webhook/v1\\n<origin>\\n<timestamp>\\n<0x-hex SHA-256 of the body bytes, lower case>");
    expect(doc).to.contain("`2026Q4` is `[1790784000, 1798732800)`");
  });
});

interface WebhookVector {
  operator: Key;
  origin: string;
  timestamp: number;
  alert: Alert;
  idPreimage: string;
  body: string;
  bodySha256: string;
  signedText: string;
  eip191Digest: string;
  signature: string;
  headers: Record<string, string>;
}

describe("formats: the alert webhook's signature (test/vectors/alert-webhook.json)", () => {
  const v = load<WebhookVector>("alert-webhook.json");

  it("rebuilds the alert's id, the body, its SHA-256, the signed text and the signature", () => {
    expect(spec.hex(spec.sha256(spec.utf8(v.idPreimage)).subarray(0, 16))).to.equal(v.alert.id);
    expect(v.alert.key).to.equal(v.idPreimage);
    expect(spec.jcs(v.alert)).to.equal(v.body);
    expect(spec.hex(spec.sha256(spec.utf8(v.body)))).to.equal(v.bodySha256);
    const text = `dcl-alert-webhook/v1\n${v.origin}\n${v.timestamp}\n${v.bodySha256}`;
    expect(text).to.equal(v.signedText);
    expect(spec.hex(spec.eip191Digest(spec.utf8(text)))).to.equal(v.eip191Digest);
    expect(spec.signDigest(spec.bytes(v.eip191Digest), v.operator.privateKey)).to.equal(v.signature);
    expect(v.headers).to.deep.equal({
      "content-type": "application/json", "x-dcl-alert-id": v.alert.id, "x-dcl-timestamp": String(v.timestamp), "x-dcl-signer": v.operator.address, "x-dcl-signature": v.signature,
    });
  });

  it("is what dcl's webhook sends and its verifier accepts (and refuses when a byte or the time is off)", () => {
    const { body, headers } = webhookRequest(v.alert, v.origin, v.timestamp, new Wallet(v.operator.privateKey));
    expect(new TextDecoder().decode(body)).to.equal(v.body);
    expect(headers).to.deep.equal(v.headers);
    expect(alertId(v.idPreimage)).to.equal(v.alert.id);
    const delivery = { origin: v.origin, timestamp: v.timestamp, body: spec.utf8(v.body), signer: v.operator.address, signature: v.signature };
    expect(verifyAlertWebhook(delivery, { operatorKeys: [v.operator.address], now: v.timestamp + 10 })).to.equal(v.operator.address);
    expect(() => verifyAlertWebhook({ ...delivery, body: spec.utf8(v.body.replace('"seq":7', '"seq":8')) })).to.throw("not signed");
    expect(() => verifyAlertWebhook({ ...delivery, timestamp: v.timestamp + 1 })).to.throw("not signed");
    expect(() => verifyAlertWebhook(delivery, { now: v.timestamp + 301 })).to.throw("more than 300 s");
    expect(() => verifyAlertWebhook(delivery, { operatorKeys: ["0x" + "11".repeat(20)] })).to.throw("not an operator key");
  });
});
