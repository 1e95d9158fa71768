/**
 * The signed-request test vectors (test/vectors/request-signature.json, quoted in docs/api.md):
 * the string signed, the body digest, the EIP-191 digest and the signature are rebuilt from the
 * fields with api/auth/request-signature.ts and ethers, and the server's own check accepts them.
 */
import { expect } from "chai";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { FastifyRequest } from "fastify";
import { hashMessage, verifyMessage, Wallet } from "ethers";
import { authenticate, type AuthContext } from "../../api/auth/authenticate";
import { AUTH_HEADERS, bodyDigest, stringToSign } from "../../api/auth/request-signature";
import { codeId } from "../../node/chain/ids";
import vectors from "../vectors/request-signature.json";

type Case = (typeof vectors.cases)[number];

const fieldsOf = (v: Case) => ({
  chainId: BigInt(vectors.chainId),
  registry: vectors.registry,
  method: v.method,
  pathAndQuery: v.pathAndQuery,
  body: new TextEncoder().encode(v.body),
  department: v.department,
  signer: vectors.signer,
  timestamp: v.timestamp,
  nonce: v.nonce,
});

/** The server's check with an indexer in which the vector's key is a signer of an active department. */
function serverCheck(v: Case, headers: Record<string, string>, at = v.timestamp) {
  const ctx = {
    chainId: BigInt(vectors.chainId),
    registry: vectors.registry,
    maxSkewSeconds: 300,
    now: () => at,
    nonces: { claim: () => true },
    indexer: {
      department: async (id: string) => (id === v.department ? { id, active: true } : undefined),
      isSigner: async (id: string, who: string) => id === v.department && who.toLowerCase() === vectors.signer.toLowerCase(),
      wasSigner: async () => false,
    },
  } as unknown as AuthContext;
  const req = { method: v.method, url: v.pathAndQuery, headers, rawBody: v.body ? Buffer.from(v.body, "utf8") : undefined } as unknown as FastifyRequest;
  return authenticate(ctx, req);
}

describe("signed-request test vectors", () => {
  it("uses the documented key and the department code's id", () => {
    expect(new Wallet(vectors.privateKey).address).to.equal(vectors.signer);
    for (const v of vectors.cases) expect(v.department).to.equal(codeId("cq.tax"));
  });

  it("is the vector docs/api.md quotes", () => {
    const doc = readFileSync(join(__dirname, "../../docs/api.md"), "utf8");
    const [v] = vectors.cases;
    for (const value of [vectors.privateKey, vectors.signer, vectors.registry, v.department, v.nonce, v.bodyDigest, v.eip191Digest, v.signature]) expect(doc).to.contain(value);
    expect(doc).to.contain("```\n" + v.body + "\n```");
    expect(doc).to.contain("```\n" + v.stringToSign + "\n```");
    expect(doc).to.contain(`these exact ${Buffer.byteLength(v.body, "utf8")} bytes`);
    for (const [name, value] of Object.entries(v.headers)) expect(doc).to.contain(`${name}: ${value}`);
  });

  for (const v of vectors.cases) {
    describe(v.name, () => {
      it("rebuilds the body digest (SHA-256 of the body bytes)", () => {
        expect(bodyDigest(new TextEncoder().encode(v.body))).to.equal(v.bodyDigest);
        expect("0x" + createHash("sha256").update(v.body, "utf8").digest("hex")).to.equal(v.bodyDigest);
      });

      it("rebuilds the string signed, line by line", () => {
        const text = stringToSign(fieldsOf(v));
        expect(text).to.equal(v.stringToSign);
        expect(text.split("\n")).to.deep.equal([
          "dcl-request/v1", vectors.chainId, vectors.registry.toLowerCase(), v.method, v.pathAndQuery, v.bodyDigest,
          v.department, vectors.signer.toLowerCase(), String(v.timestamp), v.nonce,
        ]);
        expect(text.endsWith("\n")).to.equal(false);
      });

      it("rebuilds the EIP-191 digest and the signature (personal_sign, deterministic)", async () => {
        expect(hashMessage(v.stringToSign)).to.equal(v.eip191Digest);
        expect(await new Wallet(vectors.privateKey).signMessage(v.stringToSign)).to.equal(v.signature);
        expect(verifyMessage(v.stringToSign, v.signature)).to.equal(vectors.signer);
      });

      it("lists the five headers as a client sends them", () => {
        expect(v.headers).to.deep.equal({
          [AUTH_HEADERS.department]: v.department,
          [AUTH_HEADERS.signer]: vectors.signer,
          [AUTH_HEADERS.timestamp]: String(v.timestamp),
          [AUTH_HEADERS.nonce]: v.nonce,
          [AUTH_HEADERS.signature]: v.signature,
        });
      });

      it("is accepted by the server's check at its timestamp", async () => {
        const principal = await serverCheck(v, v.headers);
        expect(principal).to.deep.equal({ department: v.department, signer: vectors.signer.toLowerCase() });
      });

      it("is refused by the server's check once any signed field differs", async () => {
        const changed: [string, Record<string, string>][] = [
          ["timestamp", { [AUTH_HEADERS.timestamp]: String(v.timestamp + 1) }],
          ["nonce", { [AUTH_HEADERS.nonce]: v.nonce.replace(/^./, (c) => (c === "0" ? "1" : "0")) }],
          ["department", { [AUTH_HEADERS.department]: codeId("cq.water") }],
        ];
        for (const [what, override] of changed) {
          const err = await serverCheck(v, { ...v.headers, ...override }).then(() => undefined, (e: { code: string }) => e);
          expect(err?.code, what).to.equal("AUTH_BAD_SIGNATURE");
        }
        const late = await serverCheck(v, v.headers, v.timestamp + 301).then(() => undefined, (e: { code: string }) => e);
        expect(late?.code).to.equal("AUTH_STALE_TIMESTAMP");
      });
    });
  }
});
