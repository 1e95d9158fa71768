/**
 * libsecp256k1's binding (the secp256k1 package) is loaded on the main thread only: worker threads
 * that had loaded it crashed the whole process when they were terminated ("free(): invalid pointer",
 * SIGFPE — first seen as a CI run dying mid-suite). A child process churns the node's worker pools
 * while its main thread signs with the binding, and must exit cleanly.
 */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { isMainThread, Worker } from "node:worker_threads";
import { nativeSecp256k1 } from "../../node/keys/secp256k1-native";

describe("libsecp256k1 and worker threads", function () {
  this.timeout(300_000);

  it("is loaded on the main thread and never in a worker", async () => {
    expect(isMainThread).to.equal(true);
    expect(nativeSecp256k1, "loaded here (linux-x64 ships its binary)").to.not.equal(undefined);
    const probe = `require(${JSON.stringify(require.resolve("ts-node"))}).register({ transpileOnly: true });
      const { parentPort } = require("node:worker_threads");
      parentPort.postMessage(require(${JSON.stringify(join(__dirname, "..", "..", "node", "keys", "secp256k1-native.ts"))}).nativeSecp256k1 === undefined);`;
    const inWorker = await new Promise<boolean>((resolve, reject) => {
      const w = new Worker(probe, { eval: true });
      w.once("message", (m: boolean) => void w.terminate().then(() => resolve(m)));
      w.once("error", reject);
    });
    expect(inWorker, "undefined in a worker").to.equal(true);
  });

  it("survives worker pools started and closed over and over while the main thread uses it", () => {
    const r = spawnSync(process.execPath, ["-r", require.resolve("ts-node/register/transpile-only"), join(__dirname, "..", "fixtures", "worker-churn.ts"), "30"], { encoding: "utf8", timeout: 240_000 });
    expect({ status: r.status, signal: r.signal, stderr: r.stderr.slice(-500) }).to.deep.equal({ status: 0, signal: null, stderr: "" });
    expect(r.stdout).to.contain("churned 30 rounds");
  });
});
