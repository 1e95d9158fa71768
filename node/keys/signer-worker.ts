/** The worker thread of threaded-signer.ts: signs each message it is sent with the key it was started with. */
import { serveJobs, startedWith } from "../runtime/worker-thread";
import { personalSign, signingKey } from "./personal-sign";

const key = signingKey(startedWith<{ privateKey: string }>().privateKey);
serveJobs((message: Uint8Array) => personalSign(key, message));
