/**
 * The trust root vector (test/vectors/trust-root.json) rebuilt from docs/formats.md §6 alone: the
 * fingerprint from the JCS and SHA-256 rules of formats-rules.ts, key validity from the interval
 * rule written in the spec; then dcl's own code (node/trust) must agree with both.
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { keyValidAt, parseTrustRoot, trustRootFingerprint } from "../../node/trust/trust-root";
import { hex, jcs, keccak, sha256 } from "./formats-rules";

/* eslint-disable @typescript-eslint/no-explicit-any */
const v = JSON.parse(readFileSync(join(__dirname, "../vectors/trust-root.json"), "utf8"));

interface Point { block: number; timestamp: number }
interface Iv { from: Point; until: Point | null }
type At = { block: number } | { timestamp: number };

/** §6: [from, until) by block for acts on chain, by time for the operator's own signatures. */
function inside(iv: Iv, at: At): boolean {
  if ("block" in at) return iv.from.block <= at.block && (iv.until === null || at.block < iv.until.block);
  return iv.from.timestamp <= at.timestamp && (iv.until === null || at.timestamp < iv.until.timestamp);
}

/** §6: valid when some signer interval of the key and some active interval of the department hold the moment. */
function validByTheRules(root: any, department: string, key: string, at: At): boolean {
  const d = root.departments.find((x: any) => x.id === department.toLowerCase());
  if (!d) return false;
  const held = d.signers.some((s: any) => s.address === key.toLowerCase() && inside(s, at));
  return held && d.active.some((iv: Iv) => inside(iv, at));
}

describe("formats: trust root (docs/formats.md §6)", () => {
  it("the fingerprint is SHA-256 of the root's RFC 8785 canonical JSON", () => {
    expect(hex(sha256(jcs(v.trustRoot)))).to.equal(v.fingerprint);
    expect(trustRootFingerprint(parseTrustRoot(v.trustRoot))).to.equal(v.fingerprint);
  });

  it("department and log ids are keccak256 of their codes, and the registry is the deployment's", () => {
    for (const c of v.cases) expect(hex(keccak(c.departmentCode))).to.equal(c.department);
    expect(v.trustRoot.logs[0].logId).to.equal(hex(keccak("log.cq.bigdata.0")));
    expect(v.trustRoot.contracts.registry).to.equal(v.trustRoot.registry);
  });

  it("each case's validity follows from the interval rule, and node/trust agrees", () => {
    const root = parseTrustRoot(v.trustRoot);
    expect(v.cases.filter((c: any) => c.valid).length).to.be.within(1, v.cases.length - 1);
    for (const c of v.cases) {
      const at = c.at.block !== undefined ? { block: c.at.block } : { timestamp: c.at.timestamp };
      expect(validByTheRules(v.trustRoot, c.department, c.key, at), JSON.stringify(c)).to.equal(c.valid);
      expect(keyValidAt(root, c.department, c.key, at).ok, JSON.stringify(c)).to.equal(c.valid);
    }
  });

  it("a root with a member changed, missing or unknown is refused by parseTrustRoot", () => {
    const bad = (f: (r: any) => void) => {
      const r = JSON.parse(JSON.stringify(v.trustRoot));
      f(r);
      return () => parseTrustRoot(r);
    };
    expect(bad((r) => (r.version = "dcl-trust-root/v2"))).to.throw(/version/);
    expect(bad((r) => delete r.takenAt)).to.throw(/takenAt/);
    expect(bad((r) => (r.extra = 1))).to.throw(/trust root/);
    expect(bad((r) => (r.contracts.registry = r.contracts.catalog))).to.throw(/contracts.registry/);
    expect(bad((r) => (r.departments[0].signers[0].address = "0x1234"))).to.throw(/address/);
  });
});
