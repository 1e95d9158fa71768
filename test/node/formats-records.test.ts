/**
 * docs/formats.md §8 (fee records) and §9 (subject commitments) against
 * test/vectors/fee-records.json and test/vectors/subject-commitment.json: rebuilt from the
 * document's rules (formats-rules.ts), and dcl's own code — the records' schemas and canonical form,
 * the transfer service's batch, the subject store — gives the same bytes.
 */
import { expect } from "chai";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Level } from "level";
import { CATEGORIES, CollectionResult, canonicalBytes } from "../../node/transfers/fee-records";
import { TransferService } from "../../node/transfers/transfer-service";
import { MemoryTree } from "../../node/merkle/memory-tree";
import { normaliseIdNumber, SubjectSecrets } from "../../node/subjects/subject-secrets";
import { toHex } from "../../node/verify";
import * as spec from "./formats-rules";

const load = <T>(name: string): T => JSON.parse(readFileSync(join(__dirname, "../vectors", name), "utf8")) as T;
const hexes = (a: Uint8Array[]) => a.map(spec.hex);

interface FeeVector {
  category: { code: string; id: string };
  records: { record: Record<string, string>; canonical: string; canonicalBytes: string; leafHash: string; proof: string[] }[];
  recordsRoot: string;
  payload: string;
  payloadHash: string;
  recordCount: string;
  totalFen: string;
  results: { result: Record<string, string>; canonical: string; leafHash: string; proof: string[] }[];
  resultsRoot: string;
  collectedCount: string;
  collectedFen: string;
  otherCategory: { category: { code: string; id: string }; record: Record<string, string>; canonical: string; leafHash: string };
}

describe("formats §8: fee records (test/vectors/fee-records.json)", () => {
  const v = load<FeeVector>("fee-records.json");
  const recordLeaves = v.records.map((r) => spec.leafHash(spec.utf8(spec.jcs(r.record))));
  const resultLeaves = v.results.map((r) => spec.leafHash(spec.utf8(spec.jcs(r.result))));

  it("rebuilds each record's canonical form, leaf hash and proof, the records root, payload hash and totals", () => {
    expect(spec.hex(spec.keccak(v.category.code))).to.equal(v.category.id);
    v.records.forEach((r, i) => {
      expect(Object.values(r.record).every((x) => typeof x === "string")).to.equal(true);
      expect(spec.jcs(r.record)).to.equal(r.canonical);
      expect(spec.hex(spec.utf8(r.canonical))).to.equal(r.canonicalBytes);
      expect(spec.hex(recordLeaves[i])).to.equal(r.leafHash);
      expect(r.proof).to.deep.equal(hexes(spec.path(i, recordLeaves)));
      expect(spec.verifyInclusion(i, v.records.length, recordLeaves[i], r.proof.map(spec.bytes), spec.bytes(v.recordsRoot))).to.equal(true);
    });
    expect(spec.hex(spec.mth(recordLeaves))).to.equal(v.recordsRoot);
    expect(v.payload).to.equal("[" + v.records.map((r) => r.canonical).join(",") + "]");
    expect(v.payload).to.equal(spec.jcs(v.records.map((r) => r.record)));
    expect(spec.hex(spec.sha256(spec.utf8(v.payload)))).to.equal(v.payloadHash);
    expect(v.recordCount).to.equal(String(v.records.length));
    expect(v.totalFen).to.equal(v.records.reduce((s, r) => s + BigInt(r.record.amountFen), 0n).toString());
  });

  it("rebuilds the collection results, the results root and the collected count and amount", () => {
    v.results.forEach((r, i) => {
      expect(r.result.recordLeafHash).to.equal(v.records[i].leafHash);
      expect(spec.jcs(r.result)).to.equal(r.canonical);
      expect(spec.hex(resultLeaves[i])).to.equal(r.leafHash);
      expect(r.proof).to.deep.equal(hexes(spec.path(i, resultLeaves)));
    });
    expect(spec.hex(spec.mth(resultLeaves))).to.equal(v.resultsRoot);
    expect(v.collectedCount).to.equal(String(v.results.filter((r) => r.result.status !== "unpaid").length));
    expect(v.collectedFen).to.equal(v.results.reduce((s, r) => s + BigInt(r.result.paidFen), 0n).toString());
    const o = v.otherCategory;
    expect(spec.hex(spec.keccak(o.category.code))).to.equal(o.category.id);
    expect(spec.jcs(o.record)).to.equal(o.canonical);
    expect(spec.hex(spec.leafHash(spec.utf8(o.canonical)))).to.equal(o.leafHash);
  });

  it("is what dcl's schemas, canonical form and trees give", () => {
    for (const r of v.records) {
      expect(CATEGORIES["water-resource-fee"].parse(r.record)).to.deep.equal(r.record);
      expect(toHex(canonicalBytes(r.record))).to.equal(r.canonicalBytes);
    }
    for (const r of v.results) {
      expect(CollectionResult.parse(r.result)).to.deep.equal(r.result);
      expect(new TextDecoder().decode(canonicalBytes(r.result))).to.equal(r.canonical);
    }
    expect(CATEGORIES["civil-air-defence-relocation-fee"].parse(v.otherCategory.record)).to.deep.equal(v.otherCategory.record);
    expect(new TextDecoder().decode(canonicalBytes(v.otherCategory.record))).to.equal(v.otherCategory.canonical);
    expect(toHex(new MemoryTree(v.results.map((r) => canonicalBytes(r.result))).root())).to.equal(v.resultsRoot);
  });

  it("is the batch dcl's transfer service drafts, and the records it serves", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dcl-formats-"));
    const db = new Level<string, unknown>(dir, { valueEncoding: "json" });
    try {
      await db.open();
      const known = { department: async () => ({}), transfer: async () => ({}) };
      const service = new TransferService(db as never, undefined as never, known as never, 31337n, {} as never);
      const from = spec.hex(spec.keccak("cq.water"));
      const to = spec.hex(spec.keccak("cq.tax"));
      const { draft } = await service.draft(from, { to, category: "water-resource-fee", period: 202512, records: v.records.map((r) => r.record) }, 1767225600);
      expect(draft.batch).to.deep.include({
        from, to, category: v.category.id, period: 202512, recordCount: v.recordCount, totalFen: v.totalFen,
        recordsRoot: v.recordsRoot, payloadHash: v.payloadHash, parents: [],
      });
      for (let i = 0; i < v.records.length; i++) {
        const served = await service.record(draft.id, i);
        expect(served).to.deep.equal({ record: v.records[i].record, canonical: v.records[i].canonical, leafHash: v.records[i].leafHash, proof: v.records[i].proof });
      }
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

interface SubjectVector {
  cases: { idNumber: string; normalised: string; secret: string; tag: string; idBytes: string; preimage: string; commitment: string }[];
}

describe("formats §9: subject commitments (test/vectors/subject-commitment.json)", () => {
  const v = load<SubjectVector>("subject-commitment.json");

  it("rebuilds SHA-256(tag ‖ 0x00 ‖ secret ‖ id) byte by byte", () => {
    expect(spec.COMMITMENT_TAG.length).to.equal(26);
    for (const c of v.cases) {
      expect(spec.normaliseId(c.idNumber)).to.equal(c.normalised);
      expect(spec.hex(spec.COMMITMENT_TAG)).to.equal(c.tag);
      expect(spec.hex(spec.utf8(c.normalised))).to.equal(c.idBytes);
      const preimage = spec.cat(spec.COMMITMENT_TAG, spec.bytes(c.secret), spec.utf8(c.normalised));
      expect(spec.hex(preimage)).to.equal(c.preimage);
      expect(spec.hex(spec.sha256(preimage))).to.equal(c.commitment);
      expect(spec.hex(spec.subjectCommitment(c.secret, c.idNumber))).to.equal(c.commitment);
    }
  });

  it("is how dcl's subject store commits to the secret it keeps", async () => {
    for (const c of v.cases) expect(normaliseIdNumber(c.idNumber)).to.equal(c.normalised);
    expect(normaliseIdNumber(" 50010119900101123x\t")).to.equal("50010119900101123X");
    const dir = mkdtempSync(join(tmpdir(), "dcl-formats-"));
    const db = new Level<string, unknown>(dir, { valueEncoding: "json" });
    try {
      await db.open();
      const subjects = new SubjectSecrets(db as never, new Uint8Array(32).fill(9));
      const id = v.cases[0].idNumber;
      const made = (await subjects.commitment(id, true))!;
      expect(await subjects.commitment(id.toUpperCase(), false)).to.equal(made);
      // The store holds exactly one secret (32 bytes, hex); the commitment is §9's over it.
      const secrets: string[] = [];
      for await (const value of db.sublevel<string, string>("subjects", { valueEncoding: "utf8" }).values()) secrets.push(value);
      expect(secrets.length).to.equal(1);
      expect(spec.bytes(secrets[0]).length).to.equal(32);
      expect(made).to.equal(spec.hex(spec.subjectCommitment(secrets[0], id)));
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
