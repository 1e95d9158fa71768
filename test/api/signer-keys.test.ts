import { expect } from "chai";
import { secp256k1 } from "@noble/curves/secp256k1";
import { Wallet } from "ethers";
import { RecoveringSignerKeys, recoverSigner, SignerKeys } from "../../api/auth/signer-keys";
import { nativeSecp256k1 } from "../../node/keys/secp256k1-native";
import { fromHex, personalMessageHash, recoverAddress } from "../../node/verify";

const N = secp256k1.CURVE.n;

/** r‖s‖v with s replaced by n − s (the same signature, high s, v flipped as ECDSA malleability makes it). */
function malleate(sig: Uint8Array): Uint8Array {
  const out = new Uint8Array(sig);
  const s = BigInt("0x" + Buffer.from(sig.subarray(32, 64)).toString("hex"));
  out.set(fromHex("0x" + (N - s).toString(16).padStart(64, "0")), 32);
  out[64] = sig[64] === 27 ? 28 : 27;
  return out;
}

/** Either checker: @noble/curves against the key met before, or libsecp256k1 recovery (undefined for a signer not met: learn it). */
interface Checker {
  learn?(address: string, publicKey: Uint8Array): void;
  check(address: string, digest: Uint8Array, signature: Uint8Array): boolean | undefined;
}

const checkers: [string, () => Checker][] = [["SignerKeys (@noble/curves, a known key)", () => new SignerKeys()]];
// libsecp256k1 where its binding loads (linux-x64 and the other platforms it ships binaries for): test/node/threaded-signer.test.ts checks it does on linux-x64.
if (nativeSecp256k1) checkers.push(["RecoveringSignerKeys (libsecp256k1)", () => new RecoveringSignerKeys(nativeSecp256k1!)]);

for (const [name, make] of checkers) describe(`${name}: a department signer's request signature`, () => {
  const wallet = Wallet.createRandom();
  const other = Wallet.createRandom();
  const message = new TextEncoder().encode("dcl-request/v1\n31337\n...");
  const digest = personalMessageHash(message);
  const signature = fromHex(wallet.signMessageSync(message));
  const keys = make();

  before(() => {
    const r = recoverSigner(digest, signature)!;
    expect(r.address).to.equal(wallet.address.toLowerCase());
    if (keys.learn) keys.learn(r.address, r.publicKey);
    else expect(keys.check(wallet.address, digest, signature), "first met: by recovery").to.equal(true);
  });

  it("accepts exactly what recovery accepts: the signer's own signature", () => {
    expect(keys.check(wallet.address, digest, signature)).to.equal(true);
  });

  it("refuses what recovery refuses: another message, another signer's signature, a flipped v, a high s, v outside 27/28, zero r or s", () => {
    const cases: [string, Uint8Array, Uint8Array][] = [
      ["another message", personalMessageHash(new TextEncoder().encode("another")), signature],
      ["another signer's signature", digest, fromHex(other.signMessageSync(message))],
      ["flipped v", digest, Uint8Array.from([...signature.subarray(0, 64), signature[64] === 27 ? 28 : 27])],
      ["high s", digest, malleate(signature)],
      ["v = 0", digest, Uint8Array.from([...signature.subarray(0, 64), 0])],
      ["zero r", digest, Uint8Array.from([...new Uint8Array(32), ...signature.subarray(32)])],
      ["zero s", digest, Uint8Array.from([...signature.subarray(0, 32), ...new Uint8Array(32), signature[64]])],
      ["64 bytes", digest, signature.subarray(0, 64)],
    ];
    for (const [what, d, sig] of cases) {
      const recovered = recoverAddress(d, sig);
      const byRecovery = recovered !== null && recovered.toLowerCase() === wallet.address.toLowerCase();
      expect(byRecovery, `${what}: recovery`).to.equal(false);
      expect(keys.check(wallet.address, d, sig), what).to.equal(false);
    }
  });

  it("agrees with recovery on 50 random signatures and digests, some tampered", () => {
    for (let i = 0; i < 50; i++) {
      const msg = new TextEncoder().encode(`request ${i} ${Math.random()}`);
      const d = personalMessageHash(msg);
      const sig = fromHex(wallet.signMessageSync(msg));
      if (i % 3 === 1) sig[5 + (i % 50)] ^= 1 << (i % 8);
      const recovered = recoverAddress(d, sig);
      const byRecovery = recovered !== null && recovered.toLowerCase() === wallet.address.toLowerCase();
      expect(keys.check(wallet.address, d, sig), `signature ${i}`).to.equal(byRecovery);
    }
  });

  it("answers undefined for a signer it has not met (SignerKeys), and learns a key only for its own address", () => {
    if (!(keys instanceof SignerKeys)) {
      // Recovery: another signer named for this signature is refused, and does not take its key.
      expect(keys.check(other.address, digest, signature)).to.equal(false);
      expect(keys.check(other.address, digest, fromHex(other.signMessageSync(message)))).to.equal(true);
      expect(keys.check(wallet.address, digest, signature)).to.equal(true);
      return;
    }
    expect(keys.check(other.address, digest, signature)).to.equal(undefined);
    const r = recoverSigner(digest, signature)!;
    keys.learn(other.address, r.publicKey); // wallet's key under other's address: ignored
    expect(keys.check(other.address, digest, signature)).to.equal(undefined);
  });

});

describe("SignerKeys: capacity", () => {
  const message = new TextEncoder().encode("dcl-request/v1\n31337\n...");
  const digest = personalMessageHash(message);

  it("forgets the oldest key beyond its capacity (RecoveringSignerKeys still recovers it)", () => {
    const small = new SignerKeys(2);
    const wallets = [Wallet.createRandom(), Wallet.createRandom(), Wallet.createRandom()];
    for (const w of wallets) {
      const sig = fromHex(w.signMessageSync(message));
      const r = recoverSigner(digest, sig)!;
      small.learn(r.address, r.publicKey);
    }
    expect(small.check(wallets[0].address, digest, fromHex(wallets[0].signMessageSync(message)))).to.equal(undefined);
    expect(small.check(wallets[2].address, digest, fromHex(wallets[2].signMessageSync(message)))).to.equal(true);
    if (nativeSecp256k1) {
      const recovering = new RecoveringSignerKeys(nativeSecp256k1, 2);
      for (const w of [...wallets, wallets[0]]) expect(recovering.check(w.address, digest, fromHex(w.signMessageSync(message)))).to.equal(true);
      expect(recovering.check(wallets[1].address, digest, fromHex(wallets[0].signMessageSync(message)))).to.equal(false);
    }
  });
});
