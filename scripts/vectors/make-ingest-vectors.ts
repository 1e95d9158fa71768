/**
 * Writes the test vectors of gateway-speed ingest into test/vectors/ with dcl's own code, from fixed
 * inputs and Hardhat's development keys, so that every run writes the same bytes:
 *
 *   - session-key.json: a session-key certificate (docs/formats.md §10.3 SessionKey: typed data,
 *     domain separator, hashStruct, digest, the certifier's signature) and a request signed with the
 *     session key (docs/api.md §1 "Session keys": the string signed, the Ed25519 signature, headers);
 *   - receipt-batch.json: one commit's receipt batch shared by three requests (docs/formats.md §4):
 *     the signed text and signature, and one request's `proofs=batch` answer with the receipts a
 *     client rebuilds from it.
 *
 *   npx ts-node --transpile-only scripts/vectors/make-ingest-vectors.ts          # write the files
 *   npx ts-node --transpile-only scripts/vectors/make-ingest-vectors.ts --check  # exit 1 if a file would change
 *
 * test/node/formats-ingest.test.ts rebuilds every value from the documents' rules.
 */
import { createPrivateKey, createPublicKey, sign as ed25519Sign } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { HDNodeWallet, Mnemonic, TypedDataEncoder, Wallet, id as keccakUtf8 } from "ethers";
import { AUTH_HEADERS, SESSION_KEY_HEADER, bodyDigest, stringToSign } from "../../api/auth/request-signature";
import { codeId } from "../../node/chain/ids";
import { MemoryTree } from "../../node/merkle/memory-tree";
import {
  compactRange, receiptSigningPayload, receiptsFromBatch, sessionDomainSeparator, sessionKeyDigest, sessionKeyStructHash, sessionKeyTypedData,
  SESSION_KEY_TYPE, toHex, personalMessageHash, type SessionCertificate,
} from "../../node/verify";
import { sha256 } from "@noble/hashes/sha2";

const OUT = join(__dirname, "../../test/vectors");
const MNEMONIC = Mnemonic.fromPhrase("test test test test test test test test test test test junk");
const account = (i: number) => {
  const w = HDNodeWallet.fromMnemonic(MNEMONIC, `m/44'/60'/0'/0/${i}`);
  return { hardhatAccount: i, privateKey: w.privateKey, address: w.address, wallet: new Wallet(w.privateKey) };
};
const keyJson = (a: ReturnType<typeof account>) => ({ hardhatAccount: a.hardhatAccount, privateKey: a.privateKey, address: a.address });
const CERTIFIER = account(1); // the tax department's signer, as in request-signature.json
const OPERATOR = account(4); // the big-data bureau, log operator (as in make-vectors.ts)
const CHAIN_ID = 31337n;
const REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"; // as in request-signature.json
const ORIGIN = "dcl/31337/log.cq.bigdata.0";
const enc = new TextEncoder();

/** An Ed25519 key from its 32-byte seed (RFC 8032 private key), as node:crypto objects. */
function ed25519FromSeed(seed: Uint8Array) {
  const der = Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), Buffer.from(seed)]);
  const privateKey = createPrivateKey({ key: der, format: "der", type: "pkcs8" });
  const publicKey = "0x" + Buffer.from(createPublicKey(privateKey).export({ format: "jwk" }).x!, "base64url").toString("hex");
  return { privateKey, publicKey };
}

async function sessionVector() {
  const seed = sha256(enc.encode("dcl session key vector"));
  const session = ed25519FromSeed(seed);
  const certificate: SessionCertificate = { department: codeId("cq.tax"), publicKey: session.publicKey, notBefore: 1767225600, notAfter: 1767312000, scope: "access:write" };
  const typedData = sessionKeyTypedData(certificate, CHAIN_ID, REGISTRY);
  const signature = await CERTIFIER.wallet.signTypedData(typedData.domain, typedData.types, typedData.message);
  const digest = toHex(sessionKeyDigest(certificate, CHAIN_ID, REGISTRY));
  if (digest !== TypedDataEncoder.hash(typedData.domain, typedData.types, typedData.message)) throw new Error("session key digest differs from ethers'");
  if (toHex(sessionKeyStructHash(certificate)) !== TypedDataEncoder.hashStruct("SessionKey", typedData.types, typedData.message)) throw new Error("hashStruct differs from ethers'");

  const body = '{"calls":[{"agreementId":"0x707f43a972904e8744e7bdfa02c8111571fad48d47aebbe849eed7985fb88fdd","purpose":"fee collection","recordCount":3,"requestHash":"0x1e1f1e0f3043cc59a7b826e4e0934e3f1100ec9d2633f41316bbf809dd2a46e0","responseHash":"0x8687ca290a023e54b80320b2f025f6d1f24f81003fedd69548174ecd2cc3b363"}]}';
  const request = { method: "POST", pathAndQuery: "/v1/access?proofs=batch", body, department: certificate.department, timestamp: 1767225700, nonce: "00112233445566778899aabbccddeeff" };
  const text = stringToSign({ chainId: CHAIN_ID, registry: REGISTRY, ...request, body: enc.encode(body), signer: session.publicKey });
  const requestSignature = "0x" + ed25519Sign(null, Buffer.from(text, "utf8"), session.privateKey).toString("hex");
  return {
    description:
      "A session-key certificate and a request signed with the session key (docs/formats.md §10.3 SessionKey, docs/api.md §1 Session keys). The certificate is EIP-712 typed data signed by a current signer of the department (RFC 6979 deterministic secp256k1); the session key is Ed25519 (RFC 8032) from its 32-byte seed; the request's string signed is docs/api.md §1's with the session key on the signer line, signed with pure Ed25519 over its UTF-8 bytes. Written by scripts/vectors/make-ingest-vectors.ts.",
    chainId: CHAIN_ID.toString(),
    registry: REGISTRY,
    certifier: keyJson(CERTIFIER),
    sessionKey: { seed: toHex(seed), publicKey: session.publicKey },
    domain: { ...typedData.domain, typeString: "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)", separator: toHex(sessionDomainSeparator(CHAIN_ID, REGISTRY)) },
    certificate,
    typeString: SESSION_KEY_TYPE,
    typeHash: keccakUtf8(SESSION_KEY_TYPE),
    encodeData: TypedDataEncoder.from(typedData.types).encodeData("SessionKey", typedData.message),
    structHash: toHex(sessionKeyStructHash(certificate)),
    digest,
    signature,
    registration: { publicKey: certificate.publicKey, notBefore: certificate.notBefore, notAfter: certificate.notAfter, scope: certificate.scope, certifier: CERTIFIER.address, signature },
    request: {
      ...request,
      bodyDigest: bodyDigest(enc.encode(body)),
      stringToSign: text,
      signature: requestSignature,
      headers: {
        "content-type": "application/json",
        [AUTH_HEADERS.department]: request.department,
        [SESSION_KEY_HEADER]: session.publicKey,
        [AUTH_HEADERS.timestamp]: String(request.timestamp),
        [AUTH_HEADERS.nonce]: request.nonce,
        [AUTH_HEADERS.signature]: requestSignature,
      },
    },
  };
}

function receiptBatchVector() {
  // One synced commit of seven entries at indices 40-46: request A's two, request B's four, request C's one.
  const first = 40;
  const leafHashes = Array.from({ length: 7 }, (_, i) => sha256(enc.encode(`receipt batch vector: entry ${first + i}`)));
  const requests = { A: [40, 42], B: [42, 46], C: [46, 47] };
  const tree = MemoryTree.fromLeafHashes(leafHashes);
  const root = toHex(tree.root());
  const payload = receiptSigningPayload(ORIGIN, first, leafHashes.length, root);
  const signature = OPERATOR.wallet.signMessageSync(payload);
  const [begin, end] = requests.B;
  const hashes = (a: number, b: number) => compactRange(a, b).map((s) => toHex(tree.subtree(s.level, s.index)));
  const batch = {
    origin: ORIGIN, first, count: leafHashes.length, root, signer: OPERATOR.address, signature,
    left: hashes(0, begin - first), right: hashes(end - first, leafHashes.length),
  };
  const own = leafHashes.slice(begin - first, end - first).map(toHex);
  return {
    description:
      "One commit's receipt batch (docs/formats.md §4): seven entries at indices 40-46 committed in one synced batch, from three requests (A: 40-41, B: 42-45, C: 46). The operator signs the batch once (EIP-191). B's answer with proofs=batch carries `batch` (the signed values and the range proof of B's entries in the batch tree, §13.2); B rebuilds its four receipts from it and its leaf hashes. leafHashes are any 32-byte values here (entries' leaf hashes in a real log). Written by scripts/vectors/make-ingest-vectors.ts.",
    operator: keyJson(OPERATOR),
    origin: ORIGIN,
    first,
    leafHashes: leafHashes.map(toHex),
    requests,
    root,
    signedText: new TextDecoder().decode(payload),
    eip191Digest: toHex(personalMessageHash(payload)),
    signature,
    answerB: { begin, leafHashes: own, batch },
    receiptsB: receiptsFromBatch(batch, begin, own),
  };
}

function write(name: string, value: unknown, check: boolean, changed: string[]): void {
  const path = join(OUT, name);
  const text = JSON.stringify(value, null, 2) + "\n";
  let before = "";
  try {
    before = readFileSync(path, "utf8");
  } catch {
    // a new file
  }
  if (before !== text) changed.push(name);
  if (!check) writeFileSync(path, text);
}

async function main() {
  const check = process.argv.includes("--check");
  const changed: string[] = [];
  write("session-key.json", await sessionVector(), check, changed);
  write("receipt-batch.json", receiptBatchVector(), check, changed);
  if (check && changed.length) {
    process.stderr.write(`vectors out of date: ${changed.join(", ")}\n`);
    process.exit(1);
  }
  process.stdout.write(check ? "vectors up to date\n" : `wrote session-key.json, receipt-batch.json${changed.length ? ` (changed: ${changed.join(", ")})` : ""}\n`);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
