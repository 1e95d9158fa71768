/**
 * docs/formats.md §7 (and §2–§5, §10 inside a bundle) against test/vectors/evidence-seal.json and
 * test/vectors/evidence-bundle.json: the seal and every proof and signature of the bundle are
 * rebuilt from the document's rules (formats-rules.ts), and dcl's own code — the JCS canonicaliser,
 * the seal, the evidence service, the LevelDB log and the bundle verifier — gives the same bytes.
 */
import { expect } from "chai";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Wallet } from "ethers";
import { EvidenceService } from "../../node/evidence/evidence-service";
import { verifyBundle } from "../../node/evidence/verify-bundle";
import { decodeEntry } from "../../node/log/entry";
import { MerkleLog } from "../../node/log/merkle-log";
import { canonicalJson, fromHex, sealDigest, sealSigningPayload, toHex, verifySeal } from "../../node/verify";
import * as spec from "./formats-rules";

const load = <T>(name: string): T => JSON.parse(readFileSync(join(__dirname, "../vectors", name), "utf8")) as T;
const hexes = (a: Uint8Array[]) => a.map(spec.hex);

interface Key { hardhatAccount: number; privateKey: string; address: string }

interface SealVector {
  signer: Key;
  document: unknown;
  canonicalJson: string;
  canonicalBytes: string;
  sha256: string;
  signedText: string;
  eip191Digest: string;
  seal: { signer: string; signature: string };
}

describe("formats §7.1: the evidence seal over RFC 8785 canonical JSON (test/vectors/evidence-seal.json)", () => {
  const v = load<SealVector>("evidence-seal.json");

  it("rebuilds the canonical JSON, its SHA-256, the signed text and the seal", () => {
    const text = spec.jcs(v.document);
    expect(text).to.equal(v.canonicalJson);
    expect(spec.hex(spec.utf8(text))).to.equal(v.canonicalBytes);
    const digest = spec.sha256(spec.utf8(text));
    expect(spec.hex(digest)).to.equal(v.sha256);
    const signed = spec.sealText(digest);
    expect(signed).to.equal(v.signedText);
    expect(signed.endsWith("\n")).to.equal(false);
    expect(spec.hex(spec.eip191Digest(spec.utf8(signed)))).to.equal(v.eip191Digest);
    expect(spec.signDigest(spec.eip191Digest(spec.utf8(signed)), v.signer.privateKey)).to.equal(v.seal.signature);
    expect(v.seal.signer).to.equal(v.signer.address);
  });

  it("orders members by UTF-16 code units and escapes only what JCS escapes", () => {
    expect(v.canonicalJson).to.contain('"order":{"10":8,"9":9,"A":3,"a":2,"aa":4,"b":1,"\u20ac":5,"\ud83d\ude00":6,"\ufb01":7}');
    expect(v.canonicalJson).to.contain('"controls":"\\b\\f\\n\\r\\t\\u0000\\u001f"');
    expect(v.canonicalJson).to.contain('"slash":"/"');
    expect(v.canonicalJson).to.contain('"lineSeparator":"\u2028"');
    expect(v.canonicalJson).to.contain('"del":"\u007f"');
  });

  it("is what dcl's canonicaliser and seal produce and accept", () => {
    expect(canonicalJson(v.document)).to.equal(v.canonicalJson);
    expect(sealDigest(v.document)).to.equal(v.sha256);
    expect(new TextDecoder().decode(sealSigningPayload(v.document))).to.equal(v.signedText);
    verifySeal(v.document, v.seal, [v.signer.address]);
    expect(canonicalJson(JSON.parse(JSON.stringify(v.document, null, 3)))).to.equal(v.canonicalJson); // re-serialised alike
  });
});

/* eslint-disable @typescript-eslint/no-explicit-any */
interface BundleVector {
  keys: Record<string, Key>;
  log: string[];
  seal: { canonicalSha256: string; signedText: string; eip191Digest: string };
  bundle: any;
}

describe("formats §7: a complete evidence bundle (test/vectors/evidence-bundle.json)", () => {
  const v = load<BundleVector>("evidence-bundle.json");
  const b = v.bundle;
  const logLeaves = v.log.map((c) => spec.leafHash(spec.bytes(c)));
  const size: number = b.checkpoint.treeSize;

  it("has the layout of §7.2", () => {
    const { seal, ...unsealed } = b;
    expect(Object.keys(unsealed).sort()).to.deep.equal(["agreements", "chain", "checkpoint", "consents", "createdAt", "earlierCheckpoints", "entries", "log", "version"]);
    expect(b.version).to.equal("dcl-evidence/v1");
    expect(Object.keys(seal).sort()).to.deep.equal(["signature", "signer"]);
    expect(Object.keys(b.chain.contracts).sort()).to.deep.equal(["agreements", "anchors", "catalog", "consents", "registry", "transfers"]);
    expect(b.log.logId).to.equal(spec.hex(spec.keccak("log.cq.bigdata.0")));
    expect(b.log.origin).to.equal(`dcl/${b.chain.chainId}/log.cq.bigdata.0`);
    for (const e of b.entries) expect(Object.keys(e).sort()).to.deep.equal(["canonical", "entry", "index", "leafHash", "proof", "receipt"]);
    expect(b.entries.map((e: any) => e.index)).to.deep.equal([...b.entries.map((e: any) => e.index)].sort((x: number, y: number) => x - y));
  });

  it("rebuilds the seal: SHA-256 of the JCS of the bundle without `seal`, signed with EIP-191", () => {
    const { seal, ...unsealed } = b;
    const digest = spec.sha256(spec.utf8(spec.jcs(unsealed)));
    expect(spec.hex(digest)).to.equal(v.seal.canonicalSha256);
    expect(spec.sealText(digest)).to.equal(v.seal.signedText);
    const d191 = spec.eip191Digest(spec.utf8(v.seal.signedText));
    expect(spec.hex(d191)).to.equal(v.seal.eip191Digest);
    expect(spec.signDigest(d191, v.keys.operator.privateKey)).to.equal(seal.signature);
    expect(spec.recover(d191, seal.signature)).to.equal(seal.signer.toLowerCase());
    expect(b.log.operatorSigners.map((s: string) => s.toLowerCase())).to.include(seal.signer.toLowerCase());
  });

  it("rebuilds the log's tree, the checkpoint and the earlier checkpoint's consistency proof", () => {
    expect(logLeaves.length).to.equal(size);
    expect(spec.hex(spec.mth(logLeaves))).to.equal(b.checkpoint.root);
    const body = spec.checkpointBody(b.log.origin, size, spec.bytes(b.checkpoint.root));
    expect(b.checkpoint.note.startsWith(body + "\n")).to.equal(true);
    const line = b.checkpoint.note.slice(body.length + 1);
    const raw = Buffer.from(line.slice(line.lastIndexOf(" ") + 1, -1), "base64");
    expect(raw.length).to.equal(85);
    expect(spec.recover(spec.eip191Digest(spec.utf8(body)), spec.hex(raw.subarray(20)))).to.equal(spec.hex(raw.subarray(0, 20)));
    expect(spec.hex(raw.subarray(0, 20))).to.equal(v.keys.operator.address.toLowerCase());
    for (const cp of b.earlierCheckpoints) {
      expect(spec.hex(spec.mth(logLeaves.slice(0, cp.treeSize)))).to.equal(cp.root);
      expect(cp.consistencyProof).to.deep.equal(hexes(spec.proof(cp.treeSize, logLeaves)));
      expect(spec.verifyConsistency(cp.treeSize, size, spec.bytes(cp.root), spec.bytes(b.checkpoint.root), cp.consistencyProof.map(spec.bytes))).to.equal(true);
    }
  });

  it("rebuilds each entry: encoding, leaf hash, inclusion proof and its receipt (a batch of one)", () => {
    for (const e of b.entries) {
      expect(spec.hex(spec.encodeEntry(e.entry))).to.equal(e.canonical);
      expect(e.canonical).to.equal(v.log[e.index]);
      expect(spec.hex(spec.leafHash(spec.bytes(e.canonical)))).to.equal(e.leafHash);
      expect(e.proof).to.deep.equal(hexes(spec.path(e.index, logLeaves)));
      expect(spec.verifyInclusion(e.index, size, spec.bytes(e.leafHash), e.proof.map(spec.bytes), spec.bytes(b.checkpoint.root))).to.equal(true);
      const r = e.receipt;
      expect(r).to.deep.include({ origin: b.log.origin, index: e.index, leafHash: e.leafHash });
      expect(r.batch).to.deep.equal({ first: e.index, count: 1, root: e.leafHash, proof: [] });
      const digest = spec.eip191Digest(spec.utf8(spec.receiptText(r.origin, r.batch.first, r.batch.count, r.batch.root)));
      expect(spec.recover(digest, r.signature)).to.equal(r.signer.toLowerCase());
    }
  });

  it("rebuilds the agreements' and consents' ids and EIP-712 signatures, and the coverage of each served entry", () => {
    const AGREEMENT = "Agreement(bytes32 provider,bytes32 consumer,bytes32 resource,bytes32 purposeHash,uint64 quota,uint64 validFrom,uint64 validUntil,uint64 nonce,bytes32 meteringLog)";
    const CONSENT = "Consent(bytes32 subject,bytes32 grantee,bytes32 resource,bytes32 purposeHash,uint8 kind,uint64 validUntil,bytes32 evidenceHash,bytes32 recorder,address subjectSigner,uint64 nonce)";
    const domain = (name: string, contract: string) => spec.domainSeparator({ name, version: "1", chainId: b.chain.chainId, verifyingContract: contract });
    const agreementsDomain = domain("dcl SharingAgreements", b.chain.contracts.agreements);
    const consentsDomain = domain("dcl ConsentRegistry", b.chain.contracts.consents);
    for (const a of b.agreements) {
      const id = spec.hashStruct(AGREEMENT, a.terms);
      expect(spec.hex(id)).to.equal(a.id);
      for (const party of ["provider", "consumer"]) expect(spec.recover(spec.typedDigest(agreementsDomain, id), a.signatures[party].signature)).to.equal(a.signatures[party].signer.toLowerCase());
      const served = b.entries.filter((e: any) => e.entry.outcome === "served" && e.entry.agreementId === a.id);
      for (const { entry } of served) {
        expect([entry.consumerDept, entry.providerDept, entry.resourceId, entry.purposeHash]).to.deep.equal([a.terms.consumer, a.terms.provider, a.terms.resource, a.terms.purposeHash]);
        expect(BigInt(entry.time) >= BigInt(a.terms.validFrom) && BigInt(entry.time) < BigInt(a.terms.validUntil)).to.equal(true);
      }
      expect(served.reduce((n: bigint, e: any) => n + BigInt(e.entry.recordCount), 0n) <= BigInt(a.terms.quota)).to.equal(true);
    }
    for (const c of b.consents) {
      const id = spec.hashStruct(CONSENT, c.terms);
      expect(spec.hex(id)).to.equal(c.id);
      expect(spec.recover(spec.typedDigest(consentsDomain, id), c.recorderSignature.signature)).to.equal(c.recorderSignature.signer.toLowerCase());
      expect(spec.recover(spec.typedDigest(consentsDomain, id), c.subjectSignature)).to.equal(c.terms.subjectSigner.toLowerCase());
    }
    const personal = b.entries.filter((e: any) => e.entry.outcome === "served" && e.entry.subjectCommitment !== null);
    expect(personal.length).to.be.greaterThan(0);
    for (const { entry } of personal) {
      const c = b.consents.find((c: any) => c.terms.subject === entry.subjectCommitment && c.terms.grantee === entry.consumerDept && c.terms.resource === entry.resourceId && c.terms.purposeHash === entry.purposeHash);
      expect(c, "a consent covers the entry").to.not.equal(undefined);
      expect(c.grantedAt <= entry.time && BigInt(entry.time) < BigInt(c.terms.validUntil) && c.revokedAt === 0).to.equal(true);
    }
  });

  it("is what dcl's log, seal and evidence service produce, and dcl's verifier accepts it offline", async () => {
    const { seal, ...unsealed } = b;
    expect(canonicalJson(unsealed)).to.equal(spec.jcs(unsealed));
    const operator = new Wallet(v.keys.operator.privateKey);
    const resealed = new EvidenceService({ sealer: { address: operator.address, signMessageSync: (m: Uint8Array) => operator.signMessageSync(m) } } as never).seal(unsealed as never);
    expect(resealed).to.deep.equal(b);
    verifySeal(unsealed, seal, b.log.operatorSigners);

    const dir = mkdtempSync(join(tmpdir(), "dcl-formats-"));
    try {
      const log = await MerkleLog.open(join(dir, "log"));
      await log.appendMany(v.log.map((c) => decodeEntry(fromHex(c))));
      for (let n = 1; n <= size; n++) {
        expect(toHex(await log.root(n))).to.equal(spec.hex(spec.mth(logLeaves.slice(0, n))));
        for (let m = 0; m < n; m++) expect((await log.inclusionProof(m, n)).map(toHex)).to.deep.equal(hexes(spec.path(m, logLeaves.slice(0, n))));
        for (let m = 1; m <= n; m++) expect((await log.consistencyProof(m, n)).map(toHex)).to.deep.equal(hexes(spec.proof(m, logLeaves.slice(0, n))));
      }
      await log.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    const report = await verifyBundle(b);
    expect(report.checks.filter((c) => !c.ok)).to.deep.equal([]);
    expect(report.ok).to.equal(true);
    const changed = JSON.parse(JSON.stringify(b));
    changed.createdAt += 1;
    expect((await verifyBundle(changed)).checks.find((c) => c.name === "seal")?.ok).to.equal(false);
  });
});
