/** The worker thread of threaded-signer.ts: signs each message it is sent with the key it was started with. */
import { Wallet } from "ethers";
import { serveJobs, startedWith } from "../runtime/worker-thread";

const wallet = new Wallet(startedWith<{ privateKey: string }>().privateKey);
serveJobs((message: Uint8Array) => wallet.signMessageSync(message));
