/**
 * The worker thread of signature-checks.ts: runs the signature jobs it is sent, a batch per
 * message, and answers each batch with one boolean per job, in order.
 */
import { parentPort } from "node:worker_threads";
import { SignatureJobRunner, type SignatureJob } from "./signature-jobs";

const runner = new SignatureJobRunner();
const port = parentPort!;
port.on("message", ({ id, jobs }: { id: number; jobs: SignatureJob[] }) => {
  const results = jobs.map((job) => {
    try {
      return runner.run(job);
    } catch {
      return false; // malformed bytes: not a signature (the main thread checked the shapes already)
    }
  });
  port.postMessage({ id, results });
});
port.postMessage({ ready: true });
