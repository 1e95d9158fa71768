/**
 * Gateway-speed ingest's bytes, rebuilt from the written rules: test/vectors/session-key.json (the
 * SessionKey certificate of docs/formats.md §10.3 and the session-signed request of docs/api.md §1)
 * and test/vectors/receipt-batch.json (one commit's receipt batch shared by three requests and the
 * receipts one of them rebuilds from its `proofs=batch` answer, §4). By hand with formats-rules.ts
 * (keccak256, secp256k1) and @noble/curves' Ed25519 — not node:crypto, which the server uses — and
 * then checked against dcl's code, the server's own check included.
 */
import { expect } from "chai";
import { createPrivateKey, createPublicKey, verify as opensslVerify } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ed25519 } from "@noble/curves/ed25519";
import type { FastifyRequest } from "fastify";
import { Level } from "level";
import { authenticate, type AuthContext } from "../../api/auth/authenticate";
import { SessionKeys } from "../../api/auth/session-keys";
import type { Indexer } from "../../node/indexer/indexer";
import { recoverSessionCertifier, receiptsFromBatch, sessionKeyDigest, verifyReceipt, type Receipt } from "../../node/verify";
import * as spec from "./formats-rules";

/* eslint-disable @typescript-eslint/no-explicit-any */
const load = (name: string): any => JSON.parse(readFileSync(join(__dirname, "../vectors", name), "utf8"));
const formats = readFileSync(join(__dirname, "../../docs/formats.md"), "utf8");
const api = readFileSync(join(__dirname, "../../docs/api.md"), "utf8");

describe("formats §10.3 SessionKey and api §1 session-signed requests (test/vectors/session-key.json)", () => {
  const v = load("session-key.json");

  it("is the type and domain the documents state", () => {
    expect(formats).to.contain("**`" + v.typeString + "`**");
    expect(v.domain.name).to.equal("dcl SessionKey");
    expect(formats).to.contain("`dcl SessionKey`");
    expect(v.domain.verifyingContract).to.equal(v.registry); // bound to the deployment's DepartmentRegistry
  });

  it("rebuilds the domain separator, encodeData, hashStruct, digest and the certifier's signature by hand", () => {
    expect(spec.hex(spec.domainSeparator(v.domain))).to.equal(v.domain.separator);
    expect(spec.hex(spec.keccak(v.typeString))).to.equal(v.typeHash);
    const encoded = spec.encodeData(v.typeString, v.certificate);
    expect(spec.hex(encoded)).to.equal(v.encodeData);
    const structHash = spec.keccak(encoded);
    expect(spec.hex(structHash)).to.equal(v.structHash);
    const digest = spec.typedDigest(spec.domainSeparator(v.domain), structHash);
    expect(spec.hex(digest)).to.equal(v.digest);
    expect(spec.signDigest(digest, v.certifier.privateKey)).to.equal(v.signature);
    expect(spec.recover(digest, v.signature)).to.equal(v.certifier.address.toLowerCase());
    expect(spec.addressOfKey(v.certifier.privateKey)).to.equal(v.certifier.address.toLowerCase());
  });

  it("is what dcl's code computes and recovers", () => {
    expect(spec.hex(sessionKeyDigest(v.certificate, BigInt(v.chainId), v.registry))).to.equal(v.digest);
    expect(recoverSessionCertifier(v.certificate, BigInt(v.chainId), v.registry, v.signature)).to.equal(v.certifier.address);
    const other = { ...v.certificate, notAfter: v.certificate.notAfter + 1 };
    expect(recoverSessionCertifier(other, BigInt(v.chainId), v.registry, v.signature)).to.not.equal(v.certifier.address);
  });

  it("rebuilds the session key, the string signed and its Ed25519 signature by hand (RFC 8032, pure Ed25519)", () => {
    const seed = spec.bytes(v.sessionKey.seed);
    expect(spec.hex(ed25519.getPublicKey(seed))).to.equal(v.sessionKey.publicKey);
    expect(v.certificate.publicKey).to.equal(v.sessionKey.publicKey);
    const r = v.request;
    expect(spec.hex(spec.sha256(r.body))).to.equal(r.bodyDigest);
    const lines = ["dcl-request/v1", v.chainId, v.registry.toLowerCase(), r.method, r.pathAndQuery, r.bodyDigest, r.department, v.sessionKey.publicKey, String(r.timestamp), r.nonce];
    expect(lines.join("\n")).to.equal(r.stringToSign);
    const signature = ed25519.sign(spec.utf8(r.stringToSign), seed);
    expect(spec.hex(signature)).to.equal(r.signature);
    expect(r.headers).to.deep.equal({
      "content-type": "application/json", "x-dcl-department": r.department, "x-dcl-session-key": v.sessionKey.publicKey,
      "x-dcl-timestamp": String(r.timestamp), "x-dcl-nonce": r.nonce, "x-dcl-signature": r.signature,
    });
    // OpenSSL, as the server verifies, agrees; and a changed byte fails.
    const der = Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed]);
    const publicKey = createPublicKey(createPrivateKey({ key: der, format: "der", type: "pkcs8" }));
    expect(opensslVerify(null, spec.utf8(r.stringToSign), publicKey, spec.bytes(r.signature))).to.equal(true);
    expect(opensslVerify(null, spec.utf8(r.stringToSign.replace("proofs=batch", "proofs=entry")), publicKey, spec.bytes(r.signature))).to.equal(false);
  });

  it("is quoted in docs/api.md and docs/formats.md", () => {
    for (const value of [v.sessionKey.seed, v.sessionKey.publicKey, v.digest, v.signature, v.request.signature, v.request.bodyDigest, v.domain.separator]) expect(api, value).to.contain(value);
    expect(api).to.contain("```\n" + v.request.stringToSign + "\n```");
    expect(formats).to.contain(v.digest);
  });

  it("is accepted by the server's check: registered, then the request authenticated as the department", async () => {
    const dir = await mkdtemp(join(tmpdir(), "dcl-session-vector-"));
    const db = new Level<string, unknown>(dir, { valueEncoding: "json" });
    try {
      const r = v.request;
      const indexer = {
        isSigner: async (id: string, who: string) => id === r.department && who.toLowerCase() === v.certifier.address.toLowerCase(),
        department: async (id: string) => (id === r.department ? { id, active: true, signers: [v.certifier.address.toLowerCase()] } : undefined),
        removedAfter: async () => undefined,
        cursor: async () => ({ block: 7, hash: "0x" }),
        keyChangeCount: () => 0,
      } as unknown as Indexer;
      const sessions = new SessionKeys(db, indexer, BigInt(v.chainId), v.registry);
      const reg = v.registration;
      const record = await sessions.register({ department: r.department, publicKey: reg.publicKey, notBefore: reg.notBefore, notAfter: reg.notAfter, scope: reg.scope }, reg.certifier, reg.signature, r.timestamp);
      expect(record.certifier).to.equal(v.certifier.address.toLowerCase());
      const ctx = { chainId: BigInt(v.chainId), registry: v.registry, maxSkewSeconds: 300, now: () => r.timestamp, nonces: { claim: () => true }, indexer, sessions } as unknown as AuthContext;
      const req = (headers: Record<string, string>) => ({ method: r.method, url: r.pathAndQuery, headers, rawBody: Buffer.from(r.body, "utf8"), routeOptions: { url: "/v1/access" } }) as unknown as FastifyRequest;
      const principal = await authenticate(ctx, req(r.headers), { sessionScope: "access:write" });
      expect(principal).to.deep.equal({ department: r.department, signer: v.sessionKey.publicKey, certifier: v.certifier.address.toLowerCase() });
      const flipped = r.signature.slice(0, -1) + (r.signature.endsWith("0") ? "1" : "0");
      const refused = await authenticate(ctx, req({ ...r.headers, "x-dcl-signature": flipped }), { sessionScope: "access:write" }).catch((e) => e);
      expect(refused.code).to.equal("AUTH_BAD_SIGNATURE");
    } finally {
      await db.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("formats §4 a commit's receipt batch and proofs=batch (test/vectors/receipt-batch.json)", () => {
  const v = load("receipt-batch.json");
  const leaves: Buffer[] = v.leafHashes.map(spec.bytes);

  /** §13.2's compact range of [a, b): the largest aligned complete subtree that fits, again and again. */
  function compact(a: number, b: number): { level: number; start: number }[] {
    const out: { level: number; start: number }[] = [];
    for (let start = a; start < b; ) {
      let k = 0;
      while (start % 2 ** (k + 1) === 0 && start + 2 ** (k + 1) <= b) k++;
      out.push({ level: k, start });
      start += 2 ** k;
    }
    return out;
  }

  it("signs one batch for the whole commit: the root over every entry of it, the §4 text, EIP-191 by the operator", () => {
    const root = spec.mth(leaves);
    expect(spec.hex(root)).to.equal(v.root);
    const text = spec.receiptText(v.origin, v.first, leaves.length, v.root);
    expect(text).to.equal(v.signedText);
    expect(spec.hex(spec.eip191Digest(spec.utf8(text)))).to.equal(v.eip191Digest);
    expect(spec.signDigest(spec.eip191Digest(spec.utf8(text)), v.operator.privateKey)).to.equal(v.signature);
    expect(formats).to.contain("```\n" + v.signedText + "```");
    const spans = Object.values(v.requests as Record<string, [number, number]>);
    expect(spans.map(([a]) => a)[0]).to.equal(v.first);
    expect(spans[spans.length - 1][1]).to.equal(v.first + leaves.length); // the three requests fill the commit
  });

  it("gives request B the range proof of its entries in the batch tree (§13.2), which leads to the signed root", () => {
    const { begin, batch, leafHashes } = v.answerB;
    const [lo, hi] = [begin - v.first, begin - v.first + leafHashes.length];
    expect(leafHashes).to.deep.equal(v.leafHashes.slice(lo, hi));
    const subtreeHash = (s: { level: number; start: number }) => spec.hex(spec.mth(leaves.slice(s.start, s.start + 2 ** s.level)));
    expect(batch.left).to.deep.equal(compact(0, lo).map(subtreeHash));
    expect(batch.right).to.deep.equal(compact(hi, leaves.length).map(subtreeHash));
    expect([batch.origin, batch.first, batch.count, batch.root, batch.signer, batch.signature]).to.deep.equal([v.origin, v.first, leaves.length, v.root, v.operator.address, v.signature]);
  });

  it("rebuilds B's receipts by §4's rule from the range proof and B's own leaf hashes alone", () => {
    const { begin, batch, leafHashes } = v.answerB;
    const [lo, hi, n] = [begin - v.first, begin - v.first + leafHashes.length, batch.count];
    const known = new Map<string, Buffer>();
    compact(0, lo).forEach((s, i) => known.set(`${s.start}:${s.start + 2 ** s.level}`, spec.bytes(batch.left[i])));
    compact(hi, n).forEach((s, i) => known.set(`${s.start}:${s.start + 2 ** s.level}`, spec.bytes(batch.right[i])));
    const split = (m: number) => {
      let k = 1;
      while (k * 2 < m) k *= 2;
      return k;
    };
    // The rule: a node's hash is given by the range proof, or made from B's leaves, or from its two children.
    const node = (a: number, b: number): Buffer => {
      const given = known.get(`${a}:${b}`);
      if (given) return given;
      if (b - a === 1) {
        if (a < lo || a >= hi) throw new Error(`leaf ${a} is not B's and not covered by the range proof`);
        return spec.bytes(leafHashes[a - lo]);
      }
      const k = split(b - a);
      return spec.nodeHash(node(a, a + k), node(a + k, b));
    };
    const pathOf = (m: number, a: number, b: number): Buffer[] => {
      if (b - a <= 1) return [];
      const k = split(b - a);
      return m < a + k ? [...pathOf(m, a, a + k), node(a + k, b)] : [...pathOf(m, a + k, b), node(a, a + k)];
    };
    const receipts: Receipt[] = v.receiptsB;
    expect(receipts).to.have.length(leafHashes.length);
    receipts.forEach((r, i) => {
      const proof = pathOf(lo + i, 0, n);
      expect(r.batch.proof).to.deep.equal(proof.map(spec.hex));
      expect(proof.map(spec.hex)).to.deep.equal(spec.path(lo + i, leaves).map(spec.hex)); // the audit path in the whole batch
      expect(spec.verifyInclusion(lo + i, n, spec.bytes(r.leafHash), proof, spec.bytes(v.root))).to.equal(true);
      expect({ ...r, batch: { ...r.batch, proof: [] } }).to.deep.equal({
        origin: v.origin, index: begin + i, leafHash: leafHashes[i], batch: { first: v.first, count: n, root: v.root, proof: [] }, signer: v.operator.address, signature: v.signature,
      });
    });
  });

  it("is what dcl's code rebuilds, and each receipt verifies", () => {
    const { begin, batch, leafHashes } = v.answerB;
    const rebuilt = receiptsFromBatch(batch, begin, leafHashes);
    expect(rebuilt).to.deep.equal(v.receiptsB);
    for (const r of rebuilt) verifyReceipt(r, [v.operator.address]);
  });
});
