import { expect } from "chai";
import { Wallet } from "ethers";
import type { EvidenceBundle } from "../../node/evidence/bundle";
import { verifyBundle, type Report } from "../../node/evidence/verify-bundle";
import { sealSigningPayload } from "../../node/verify";
import { buildEvidenceScenario, type EvidenceScenario } from "../support/evidence-scenario";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Paths (as key lists) of every leaf value of a JSON document. */
function leaves(v: Json, at: (string | number)[] = []): (string | number)[][] {
  if (v !== null && typeof v === "object") {
    const kids = Array.isArray(v) ? v.map((x, i) => [i, x] as const) : Object.entries(v);
    return kids.flatMap(([k, x]) => leaves(x, [...at, k]));
  }
  return [at];
}

/** A JSON path as the report writes it: `entries[3].proof[2]`. */
const jsonPath = (p: (string | number)[]) => p.map((k, i) => (typeof k === "number" ? `[${k}]` : i === 0 ? k : `.${k}`)).join("");

/** `s` with one character changed: a hex digit to the next one, else the last character to another. */
function changeOne(s: string): string {
  if (/^0x[0-9a-fA-F]+$/.test(s)) {
    const i = 2 + Math.floor((s.length - 2) / 2);
    return s.slice(0, i) + ((parseInt(s[i], 16) + 1) % 16).toString(16) + s.slice(i + 1);
  }
  if (s === "") return "X";
  const last = s.charCodeAt(s.length - 1);
  return s.slice(0, -1) + String.fromCharCode(last === 0x7a ? 0x61 : last + 1);
}

/** A deep copy of `doc` with the leaf at `p` changed (strings: one character, numbers: +1, booleans flipped, null → a hash). */
function tamper(doc: Json, p: (string | number)[]): Json {
  const copy = JSON.parse(JSON.stringify(doc)) as Json;
  let parent = copy as Record<string | number, Json>;
  for (const k of p.slice(0, -1)) parent = parent[k] as Record<string | number, Json>;
  const k = p[p.length - 1];
  const v = parent[k];
  parent[k] = typeof v === "string" ? changeOne(v) : typeof v === "number" ? v + 1 : typeof v === "boolean" ? !v : "0x" + "11".repeat(32);
  return copy;
}

const failing = (r: Report) => r.checks.filter((c) => !c.ok);

/** A small seeded PRNG (mulberry32) so that the byte-flip variants are the same on every run. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("evidence bundle verification (against anvil)", function () {
  let s: EvidenceScenario;
  let doc: Json;

  before(async () => {
    s = await buildEvidenceScenario();
    doc = JSON.parse(JSON.stringify(s.bundle)) as Json;
  });
  after(async () => s?.h.close());

  it("verifies a genuine bundle offline: every check holds, for every entry, agreement and consent", async () => {
    const report = await verifyBundle(doc as unknown as EvidenceBundle);
    expect(failing(report)).to.deep.equal([]);
    expect(report.ok).to.equal(true);
    const names = new Set(report.checks.map((c) => c.name));
    for (const n of ["version", "seal", "checkpoint.note", "checkpoint.matches", "checkpoint.signature", "entry.encoding", "entry.leafHash", "entry.inclusion",
      "entry.receipt", "checkpoint.consistency", "agreement.id", "agreement.signatures", "agreement.quota", "entry.agreement", "consent.id", "consent.signatures", "consent.validity"]) {
      expect(names, n).to.include(n);
    }
    expect(report.checks.filter((c) => c.name === "entry.inclusion")).to.have.length(s.bundle.entries.length);
    expect(report.checks.some((c) => c.name.startsWith("chain."))).to.equal(false);
  });

  it("verifies a genuine bundle against the chain: anchors, anchor transaction and operator key", async () => {
    const report = await verifyBundle(doc as unknown as EvidenceBundle, { rpcUrl: s.h.anvil.url });
    expect(failing(report)).to.deep.equal([]);
    const names = report.checks.map((c) => c.name);
    for (const n of ["chain.network", "chain.anchor", "chain.anchorTx", "chain.earlierAnchor", "chain.operator"]) expect(names, n).to.include(n);
  });

  it("detects a change of any single value of the bundle, naming a failing check", async function () {
    this.timeout(300_000);
    const paths = leaves(doc);
    expect(paths.length).to.be.greaterThan(300);
    for (const p of paths) {
      const report = await verifyBundle(tamper(doc, p) as unknown as EvidenceBundle);
      const where = jsonPath(p);
      expect(report.ok, where).to.equal(false);
      expect(failing(report).map((c) => c.name), where).to.include("seal");
      // A changed proof hash is located by the inclusion check, at that very hash.
      if (p[0] === "entries" && p[2] === "proof") {
        expect(failing(report).filter((c) => c.name === "entry.inclusion").map((c) => c.where), where).to.deep.equal([where]);
      }
    }
  });

  it("detects random byte flips of the serialised file wherever the result still parses", async function () {
    this.timeout(300_000);
    const text = JSON.stringify(s.bundle, null, 1);
    const bytes = Buffer.from(text, "utf8");
    const random = prng(20261120);
    let tried = 0;
    for (let n = 0; n < 3000 && tried < 60; n++) {
      const flipped = Buffer.from(bytes);
      const at = Math.floor(random() * bytes.length);
      flipped[at] ^= 1 << Math.floor(random() * 8);
      let parsed: Json;
      try {
        parsed = JSON.parse(flipped.toString("utf8")) as Json;
      } catch {
        continue;
      }
      if (JSON.stringify(parsed) === JSON.stringify(doc)) continue; // e.g. whitespace changed: the same document
      tried++;
      const report = await verifyBundle(parsed as unknown as EvidenceBundle);
      expect(report.ok, `byte ${at}`).to.equal(false);
      expect(failing(report).length, `byte ${at}`).to.be.greaterThan(0);
    }
    expect(tried).to.be.greaterThan(20);
  });

  it("names the inclusion check of that entry, at that hash, for a changed proof hash", async () => {
    const i = s.bundle.entries.findIndex((e) => e.proof.length >= 3);
    const bad = tamper(doc, ["entries", i, "proof", 2]);
    const report = await verifyBundle(bad as unknown as EvidenceBundle);
    const inclusion = failing(report).filter((c) => c.name === "entry.inclusion");
    expect(inclusion.map((c) => c.where)).to.deep.equal([`entries[${i}].proof[2]`]);
  });

  it("names consent validity when a consent's revocation is moved before a call it covered", async () => {
    const bad = JSON.parse(JSON.stringify(doc)) as EvidenceBundle;
    bad.consents[s.consent].revokedAt = bad.entries[s.personalEntry].entry.time - 1; // in the call's own second it would still cover it
    const report = await verifyBundle(bad);
    const validity = failing(report).filter((c) => c.name === "consent.validity");
    expect(validity).to.have.length.at.least(1);
    expect(validity[0].where).to.equal(`consents[${s.consent}].revokedAt`);
    expect(validity[0].detail).to.match(/revoked at/);
  });

  it("names the agreement when its quota is changed", async () => {
    const k = s.bundle.agreements.findIndex((a) => a.terms.quota === "100");
    const bad = JSON.parse(JSON.stringify(doc)) as EvidenceBundle;
    bad.agreements[k].terms.quota = "1000";
    const report = await verifyBundle(bad);
    const names = failing(report).map((c) => `${c.name} ${c.where}`);
    expect(names).to.include(`agreement.id agreements[${k}].terms`);
    expect(names).to.include(`agreement.signatures agreements[${k}].signatures.provider`);
  });

  it("names the quota check when the served entries of the bundle exceed an agreement's quota", async () => {
    const k = s.bundle.agreements.findIndex((a) => a.terms.quota === "100");
    const bad = JSON.parse(JSON.stringify(doc)) as EvidenceBundle;
    bad.agreements[k].terms.quota = "10";
    const report = await verifyBundle(bad);
    expect(failing(report).map((c) => c.name)).to.include("agreement.quota");
  });

  it("refuses a bundle sealed by a key that is not an operator key", async () => {
    const { seal: _seal, ...unsealed } = JSON.parse(JSON.stringify(doc)) as EvidenceBundle;
    const other = Wallet.createRandom();
    const resealed = { ...unsealed, seal: { signer: other.address, signature: other.signMessageSync(sealSigningPayload(unsealed)) } };
    const report = await verifyBundle(resealed);
    expect(failing(report).map((c) => c.name)).to.deep.equal(["seal"]);
    expect(failing(report)[0].detail).to.match(/not one of the operator keys/);
  });

  it("checks the anchor against the chain: a bundle naming another anchor fails chain.anchor", async () => {
    const bad = JSON.parse(JSON.stringify(doc)) as EvidenceBundle;
    bad.checkpoint.anchor.index = s.bundle.earlierCheckpoints[0].index;
    const report = await verifyBundle(bad, { rpcUrl: s.h.anvil.url });
    expect(failing(report).map((c) => c.name)).to.include.members(["seal", "chain.anchor"]);
  });

  it("reports, never throws, on a document that is not a bundle at all", async () => {
    for (const junk of [null, 7, "x", [], {}, { entries: "no" }, { ...(doc as object), entries: [{}] }]) {
      const report = await verifyBundle(junk as unknown as EvidenceBundle);
      expect(report.ok, JSON.stringify(junk).slice(0, 40)).to.equal(false);
    }
  });
});
