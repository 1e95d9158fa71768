/**
 * The operator's receipt signatures: the same bytes (RFC 6979) wherever they are made — in a worker
 * thread once it is ready, on the main thread before and after, and on the main thread by default
 * where libsecp256k1 is loaded.
 */
import { expect } from "chai";
import { ethers, Wallet } from "ethers";
import fc from "fast-check";
import { personalSign, signingKey } from "../../node/keys/personal-sign";
import { nativeSecp256k1 } from "../../node/keys/secp256k1-native";
import { ThreadedSigner } from "../../node/keys/threaded-signer";
import { hasSecondCore } from "../../node/runtime/worker-thread";

describe("threaded receipt signer", function () {
  this.timeout(60_000);
  const wallet = new Wallet(Wallet.createRandom().privateKey);
  const messages = Array.from({ length: 40 }, (_, i) => ethers.randomBytes(20 + i));

  it("signs in the worker once it is ready, byte for byte as the key signs on the main thread, and on the main thread after close", async () => {
    const signer = new ThreadedSigner(wallet, true);
    try {
      expect(signer.address).to.equal(wallet.address);
      for (let i = 0; i < 600 && signer.counts.worker === 0; i++) {
        await signer.signMessage(messages[0]);
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(signer.counts.worker, "the worker started and signed").to.be.greaterThan(0);
      const before = signer.counts.worker;
      // Concurrent: one message to the worker for the lot, each answer in its place.
      const signatures = await Promise.all(messages.map((m) => signer.signMessage(m)));
      expect(signer.counts.worker - before).to.equal(messages.length);
      expect(signatures).to.deep.equal(messages.map((m) => wallet.signMessageSync(m)));
      signatures.forEach((sig, i) => expect(ethers.verifyMessage(messages[i], sig)).to.equal(wallet.address));
    } finally {
      await signer.close();
    }
    const inlineBefore = signer.counts.inline;
    expect(await signer.signMessage(messages[1])).to.equal(wallet.signMessageSync(messages[1]));
    expect(signer.counts.inline).to.equal(inlineBefore + 1);
  });

  // libsecp256k1 where its binding loads (it does on the machines CI runs on: linux-x64), and @noble/curves.
  const backends = [nativeSecp256k1, undefined].filter((b, i) => i === 1 || b !== undefined);

  it("loads libsecp256k1 on linux-x64, where its prebuilt binding ships", function () {
    if (process.platform !== "linux" || process.arch !== "x64") this.skip(); // said by mocha as pending, not silent
    expect(nativeSecp256k1, "the secp256k1 package's binding").to.not.equal(undefined);
  });

  it("personal_sign by libsecp256k1 and by @noble/curves gives ethers' signature byte for byte, for any key and message", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 300 }), (seed, message) => {
        const key = ethers.keccak256(seed); // a uniformly random scalar below n, but for a 2^-128 chance
        const w = new Wallet(key);
        for (const backend of backends) expect(personalSign(signingKey(key), message, backend), backend ? "libsecp256k1" : "@noble/curves").to.equal(w.signMessageSync(message));
      }),
      { numRuns: 200 },
    );
    // Keys at the ends of the range, and a v of 28 as well as 27.
    const n = BigInt("0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");
    for (const k of [1n, 2n, n - 1n]) {
      const key = "0x" + k.toString(16).padStart(64, "0");
      const vs = new Set<string>();
      for (let i = 0; i < 12; i++) {
        const sig = personalSign(signingKey(key), ethers.toUtf8Bytes(`m${i}`));
        expect(sig).to.equal(new Wallet(key).signMessageSync(ethers.toUtf8Bytes(`m${i}`)));
        for (const backend of backends) expect(personalSign(signingKey(key), ethers.toUtf8Bytes(`m${i}`), backend)).to.equal(sig);
        vs.add(sig.slice(-2));
      }
      expect([...vs].sort()).to.deep.equal(["1b", "1c"]);
    }
    for (const bad of ["0x" + "00".repeat(32), "0x" + n.toString(16), "0x1234"]) expect(() => signingKey(bad)).to.throw(RangeError);
  });

  it("signs on the calling thread when not threaded", async () => {
    const signer = new ThreadedSigner(wallet, false);
    expect(await signer.signMessage(messages[2])).to.equal(wallet.signMessageSync(messages[2]));
    expect(signer.counts).to.deep.equal({ worker: 0, inline: 1, restarts: 0 });
    await signer.close();
  });

  it("by default signs on the calling thread where libsecp256k1 is loaded, and in a worker where it is not (and there is a second core)", async () => {
    const signer = new ThreadedSigner(wallet);
    try {
      // Long enough for a worker to start, were one started (the first test waits for it the same way).
      for (let i = 0; i < 100 && signer.counts.worker === 0; i++) {
        const m = messages[i % messages.length];
        expect(await signer.signMessage(m)).to.equal(wallet.signMessageSync(m));
        await new Promise((r) => setTimeout(r, 20));
      }
      if (nativeSecp256k1) expect(signer.counts, "every signature made here, no worker").to.deep.equal({ worker: 0, inline: 100, restarts: 0 });
      else if (hasSecondCore()) expect(signer.counts.worker, "the worker signed").to.be.greaterThan(0);
    } finally {
      await signer.close();
    }
  });
});
