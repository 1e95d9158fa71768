/** A worker module for test/node/worker-thread.test.ts: doubles each number, and never answers a batch holding "stall" (it spins). */
import { serveJobs } from "../../node/runtime/worker-thread";

serveJobs((job: number | "stall") => {
  if (job === "stall") for (;;);
  return job * 2;
});
