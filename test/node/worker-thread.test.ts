/**
 * The batching worker under the signature checks and the receipt signer: a worker that stops
 * answering (a stuck job) is taken for hung after `hungMs`, terminated and replaced, the jobs it held
 * done on the calling thread — so no answer waits forever on it — at most `maxRestarts` times.
 */
import { expect } from "chai";
import { join } from "node:path";
import { BatchedWorker } from "../../node/runtime/worker-thread";

type Job = number | "stall";

function stalling(options: { hungMs: number; maxRestarts?: number; onHung?: (restarted: boolean) => void }): BatchedWorker<Job, number | string> {
  return new BatchedWorker<Job, number | string>({
    callerFile: join(__dirname, "..", "fixtures", "caller.ts"), callerDir: join(__dirname, "..", "fixtures"), name: "stalling-worker",
    inline: (job) => (job === "stall" ? "done here" : job * 2), threaded: true, ...options,
  });
}

async function ready(w: BatchedWorker<Job, number | string>): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const before = w.counts.worker;
    await w.run(1);
    if (w.counts.worker > before) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  expect.fail("the worker never started");
}

describe("BatchedWorker: a worker that stops answering", function () {
  this.timeout(120_000);

  it("is replaced after hungMs: the jobs it held are done on the calling thread, later jobs go to the new worker", async () => {
    const told: boolean[] = [];
    const w = stalling({ hungMs: 300, onHung: (restarted) => told.push(restarted) });
    try {
      await ready(w);
      const started = Date.now();
      // Sent in one turn: one batch, held by the stuck worker.
      const answers = await Promise.all([w.run(3), w.run("stall"), w.run(5)]);
      expect(answers).to.deep.equal([6, "done here", 10]);
      expect(Date.now() - started, "answered once the worker was taken for hung").to.be.at.least(250);
      expect(w.counts.restarts).to.equal(1);
      expect(told, "told of the hang, and of the new worker").to.deep.equal([true]);
      const inline = w.counts.inline;
      await ready(w);
      expect(await w.run(21)).to.equal(42);
      expect(w.counts.inline - inline, "jobs ran here only until the new worker was ready").to.be.below(600);
    } finally {
      await w.close();
    }
  });

  it("stops replacing it after maxRestarts: jobs then stay on the calling thread", async () => {
    const told: boolean[] = [];
    const w = stalling({ hungMs: 200, maxRestarts: 1, onHung: (restarted) => told.push(restarted) });
    try {
      await ready(w);
      expect(await w.run("stall")).to.equal("done here");
      await ready(w);
      expect(await w.run("stall")).to.equal("done here");
      expect(w.counts.restarts).to.equal(1);
      expect(told, "told of each hang; a new worker only the first time").to.deep.equal([true, false]);
      const inline = w.counts.inline;
      expect(await w.run(4)).to.equal(8);
      expect(w.counts.inline).to.equal(inline + 1);
    } finally {
      await w.close();
    }
  });
});
