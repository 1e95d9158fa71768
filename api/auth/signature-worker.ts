/**
 * The worker thread of signature-checks.ts: runs the signature jobs it is sent, a batch per
 * message, and answers each batch with one boolean per job, in order.
 */
import { serveJobs } from "../../node/runtime/worker-thread";
import { SignatureJobRunner, type SignatureJob } from "./signature-jobs";

const runner = new SignatureJobRunner();
serveJobs((job: SignatureJob) => runner.safeRun(job));
