/**
 * The operator's receipt signatures made in a worker thread: the same bytes as the key makes on the
 * main thread (RFC 6979), made in the worker once it is ready, on the main thread before and after.
 */
import { expect } from "chai";
import { ethers, Wallet } from "ethers";
import { ThreadedSigner } from "../../node/keys/threaded-signer";

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

  it("signs on the calling thread when not threaded", async () => {
    const signer = new ThreadedSigner(wallet, false);
    expect(await signer.signMessage(messages[2])).to.equal(wallet.signMessageSync(messages[2]));
    expect(signer.counts).to.deep.equal({ worker: 0, inline: 1 });
    await signer.close();
  });
});
