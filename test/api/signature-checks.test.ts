import { expect } from "chai";
import { generateKeyPairSync, sign } from "node:crypto";
import { Wallet } from "ethers";
import { SignatureChecks } from "../../api/auth/signature-checks";
import type { SignatureJob } from "../../api/auth/signature-jobs";
import { fromHex, toHex } from "../../node/verify";

/** Good and bad jobs of both kinds, with the answer each must get. */
function jobs(): [SignatureJob, boolean][] {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const raw = toHex(Buffer.from(publicKey.export({ format: "jwk" }).x!, "base64url"));
  const other = toHex(Buffer.from(generateKeyPairSync("ed25519").publicKey.export({ format: "jwk" }).x!, "base64url"));
  const wallet = Wallet.createRandom();
  const out: [SignatureJob, boolean][] = [];
  for (let i = 0; i < 20; i++) {
    const message = new TextEncoder().encode(`dcl-request/v1 ${i}`);
    const ed = new Uint8Array(sign(null, message, privateKey));
    const tampered = Uint8Array.from(ed);
    tampered[i] ^= 1;
    out.push([{ kind: "ed25519", publicKey: raw, message, signature: ed }, true]);
    out.push([{ kind: "ed25519", publicKey: raw, message, signature: tampered }, false]);
    out.push([{ kind: "ed25519", publicKey: other, message, signature: ed }, false]);
    const secp = fromHex(wallet.signMessageSync(message));
    out.push([{ kind: "eip191", signer: wallet.address, message, signature: secp }, true]);
    out.push([{ kind: "eip191", signer: wallet.address, message: new TextEncoder().encode("other"), signature: secp }, false]);
    out.push([{ kind: "eip191", signer: Wallet.createRandom().address, message, signature: secp }, false]);
  }
  return out;
}

describe("SignatureChecks: request signatures on a worker thread", function () {
  this.timeout(60_000);

  it("gives in the worker the answers it gives on the main thread, for jobs sent together and apart", async () => {
    const threaded = new SignatureChecks(true);
    const inline = new SignatureChecks(false);
    try {
      // Until the worker is ready, checks run here; wait for it, so that the batch below crosses.
      for (let i = 0; i < 600 && threaded.counts.worker === 0; i++) {
        const [job] = jobs()[0];
        await threaded.check(job);
        await new Promise((r) => setTimeout(r, 25));
      }
      expect(threaded.counts.worker, "the worker started and checked").to.be.greaterThan(0);
      const all = jobs();
      const [together, alone] = await Promise.all([Promise.all(all.map(([job]) => threaded.check(job))), Promise.all(all.map(([job]) => inline.check(job)))]);
      expect(together).to.deep.equal(all.map(([, want]) => want));
      expect(alone).to.deep.equal(all.map(([, want]) => want));
      expect(inline.counts.worker).to.equal(0);
    } finally {
      await threaded.close();
      await inline.close();
    }
  });

  it("checks on the calling thread after the worker is gone, outstanding checks included", async () => {
    const checks = new SignatureChecks(true);
    const all = jobs();
    const pending = Promise.all(all.map(([job]) => checks.check(job)));
    await checks.close();
    expect(await pending).to.deep.equal(all.map(([, want]) => want));
    expect(await checks.check(all[0][0])).to.equal(true);
  });

  it("tells its listeners when the worker is taken for hung and replaced, the checks still answered right", async () => {
    // A batch of a few hundred Ed25519 checks takes tens of ms in the worker: with hungMs 1 that is a hang.
    const checks = new SignatureChecks(true, { hungMs: 1, maxRestarts: 1 });
    const told: boolean[] = [];
    const stopped: boolean[] = [];
    checks.onHung((restarted) => told.push(restarted));
    const stop = checks.onHung((restarted) => stopped.push(restarted));
    stop();
    try {
      for (let i = 0; i < 600 && checks.counts.worker === 0 && checks.counts.restarts === 0; i++) {
        const [job] = jobs()[0];
        expect(await checks.check(job)).to.equal(true);
        await new Promise((r) => setTimeout(r, 25));
      }
      const all = Array.from({ length: 10 }, () => jobs().filter(([job]) => job.kind === "ed25519")).flat();
      expect(await Promise.all(all.map(([job]) => checks.check(job)))).to.deep.equal(all.map(([, want]) => want));
      expect(checks.counts.restarts, "replaced once, then no more (maxRestarts 1)").to.equal(1);
      expect(told[0], "told, with a new worker started").to.equal(true);
      expect(stopped, "a listener that stopped is not told").to.deep.equal([]);
    } finally {
      await checks.close();
    }
  });
});
