/**
 * What one request signature costs to check, each way the server could check it, in one process
 * (CPU time per check, after a warm-up). Written to answer "why does a session-key request spend
 * ~300 µs in node:crypto?" (docs/bench.md, "Signature checks"):
 *
 *   Ed25519 (session keys)
 *     - node:crypto verify with a KeyObject made once per session key (what api/auth/session-keys.ts does)
 *     - node:crypto verify with a KeyObject made per call from the JWK (createPublicKey each time)
 *     - node:crypto verify with the key given per call as SPKI DER (parsed by OpenSSL each time)
 *     - @noble/curves ed25519.verify (pure JavaScript)
 *   secp256k1 (department keys, EIP-191 personal_sign)
 *     - recoverAddress (node/verify/eip191.ts): recovery, keccak, checksum — what a request paid before
 *     - SignerKeys.check (api/auth/signer-keys.ts): verification against the signer's cached public
 *       key with precomputed tables, as a request from a known signer pays without libsecp256k1
 *     - RecoveringSignerKeys.check: libsecp256k1 recovery (node/keys/secp256k1-native.ts), the server's way
 *   the operator's receipt signature (EIP-191 personal_sign): ethers' Wallet, @noble/curves, libsecp256k1;
 *   and, for scale, SHA-256 of the string signed.
 *
 *   node dist/scripts/bench/signature-bench.js [iterations]      → a table on stdout
 *   openssl speed -seconds 2 ed25519                             → OpenSSL's own figure, to compare
 */
import { createHash, createPublicKey, generateKeyPairSync, sign, verify } from "node:crypto";
import { ed25519 } from "@noble/curves/ed25519";
import { secp256k1 } from "@noble/curves/secp256k1";
import { personalMessageHash, recoverAddress } from "../../node/verify";
import { Wallet } from "ethers";
import { RecoveringSignerKeys, SignerKeys } from "../../api/auth/signer-keys";
import { personalSign } from "../../node/keys/personal-sign";
import { nativeSecp256k1 } from "../../node/keys/secp256k1-native";

const iterations = Number(process.argv[2] ?? 2000);

/** CPU µs per call of `f` over `n` calls, after n/10 warm-up calls. */
function cpuPerCall(f: () => unknown, n: number): number {
  for (let i = 0; i < Math.max(10, n / 10); i++) f();
  const before = process.cpuUsage();
  for (let i = 0; i < n; i++) f();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / n;
}

const message = new TextEncoder().encode(
  ["dcl-request/v1", "31337", "0x5fbdb2315678afecb367f032d93f642f64180aa3", "POST", "/v1/access", "0x" + "ab".repeat(32), "0x" + "cd".repeat(32), "0x" + "ef".repeat(32), "1767225600", "0123456789abcdef"].join("\n"),
);

const { publicKey, privateKey } = generateKeyPairSync("ed25519");
const jwkX = publicKey.export({ format: "jwk" }).x!;
const raw = Buffer.from(jwkX, "base64url");
const spki = publicKey.export({ format: "der", type: "spki" });
const edSig = new Uint8Array(sign(null, message, privateKey));
if (!verify(null, message, publicKey, edSig) || !ed25519.verify(edSig, message, raw)) throw new Error("the Ed25519 signature does not verify");

const secpKey = secp256k1.utils.randomPrivateKey();
const digest = personalMessageHash(message);
const s = secp256k1.sign(digest, secpKey);
const secpSig = new Uint8Array(65);
secpSig.set(s.toCompactRawBytes());
secpSig[64] = 27 + s.recovery!;
const address = recoverAddress(digest, secpSig)!;
const signers = new SignerKeys();
signers.learn(address, secp256k1.getPublicKey(secpKey, false));
if (!signers.check(address, digest, secpSig)) throw new Error("the secp256k1 signature does not verify against the cached key");

const recovering = nativeSecp256k1 && new RecoveringSignerKeys(nativeSecp256k1);
if (recovering && !recovering.check(address, digest, secpSig)) throw new Error("libsecp256k1 recovery does not give the signer");
const wallet = new Wallet("0x" + Buffer.from(secpKey).toString("hex"));
const receiptPayload = new TextEncoder().encode(`dcl-receipt/v2\ndcl/31337/0x5fbdb2315678afecb367f032d93f642f64180aa3\n1000\n4\n0x${"ab".repeat(32)}\n`);
const none = (what: string): [string, number] => [`${what}: libsecp256k1's binding did not load here`, NaN];

const rows: [string, number][] = [
  ["Ed25519, node:crypto, KeyObject cached per session key (the server's way)", cpuPerCall(() => verify(null, message, publicKey, edSig), iterations)],
  ["Ed25519, node:crypto, createPublicKey(JWK) per call", cpuPerCall(() => verify(null, message, createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: jwkX }, format: "jwk" }), edSig), iterations)],
  ["Ed25519, node:crypto, SPKI DER key per call", cpuPerCall(() => verify(null, message, { key: spki, format: "der", type: "spki" }, edSig), iterations)],
  ["Ed25519, @noble/curves (JavaScript)", cpuPerCall(() => ed25519.verify(edSig, message, raw), Math.max(50, iterations / 10))],
  ["secp256k1 EIP-191, recoverAddress (before)", cpuPerCall(() => recoverAddress(personalMessageHash(message), secpSig), Math.max(50, iterations / 10))],
  ["secp256k1 EIP-191, SignerKeys.check against the cached key (@noble/curves, without libsecp256k1)", cpuPerCall(() => signers.check(address, personalMessageHash(message), secpSig), Math.max(50, iterations / 5))],
  recovering ? ["secp256k1 EIP-191, RecoveringSignerKeys.check, libsecp256k1 recovery (the server's way)", cpuPerCall(() => recovering.check(address, personalMessageHash(message), secpSig), iterations)] : none("secp256k1 EIP-191 recovery"),
  ["receipt signature, ethers Wallet.signMessageSync (before)", cpuPerCall(() => wallet.signMessageSync(receiptPayload), Math.max(50, iterations / 5))],
  ["receipt signature, personalSign with @noble/curves (without libsecp256k1)", cpuPerCall(() => personalSign(secpKey, receiptPayload, undefined), Math.max(50, iterations / 5))],
  nativeSecp256k1 ? ["receipt signature, personalSign with libsecp256k1 (the server's way)", cpuPerCall(() => personalSign(secpKey, receiptPayload, nativeSecp256k1), iterations)] : none("receipt signature"),
  ["SHA-256 of the string signed, node:crypto", cpuPerCall(() => createHash("sha256").update(message).digest(), iterations)],
];

process.stdout.write(`Node ${process.version}, OpenSSL ${process.versions.openssl}; CPU µs per check, ${iterations} iterations\n\n| check | µs per check | per second, one core |\n|---|---:|---:|\n`);
for (const [what, us] of rows) process.stdout.write(`| ${what} | ${us.toFixed(1)} | ${Math.round(1e6 / us).toLocaleString("en-US")} |\n`);
