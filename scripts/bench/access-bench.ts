// Benchmark of access logging through the HTTP API, end to end: signed requests over loopback,
// agreement and quota checks, group-committed appends, receipts. Batch sizes side by side in one
// run (interleaved rounds, medians), and beside it the cost of the request-signature check
// (noble secp256k1 recovery, as the API does it, vs ethers' verifyMessage).
//
//   npx ts-node --transpile-only scripts/bench/access-bench.ts [--calls N] [--rounds R] [--concurrency C]
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { ethers, Wallet } from "ethers";
import { buildApp } from "../../api/app";
import { DclClient, type ApiTypedData } from "../../api/client";
import { stringToSign } from "../../api/auth/request-signature";
import { Anvil } from "../../node/chain/anvil";
import { makeProvider } from "../../node/chain/client";
import { connectDcl } from "../../node/chain/deploy";
import { codeId, DepartmentLevel, SharingCondition } from "../../node/chain/ids";
import { LedgerNode } from "../../node/ledger-node";
import { deployAndRegister } from "../../node/runtime/deployment";
import { fromHex, personalMessageHash, recoverAddress } from "../../node/verify";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const CALLS = arg("--calls", 4000);
const ROUNDS = arg("--rounds", 3);
const CONCURRENCY = arg("--concurrency", 4);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const dir = await mkdtemp(join(tmpdir(), "dcl-bench-"));
  const anvil = await Anvil.start();
  const provider = makeProvider(anvil.url, 31337n, 50);
  const operator = new Wallet(Wallet.createRandom().privateKey, provider);
  await provider.send("anvil_setBalance", [operator.address, "0x3635C9ADC5DEA00000"]);
  const dep = await deployAndRegister(operator, "cq.bigdata", "log.bench");
  const c = connectDcl(dep.addresses, operator);
  const [tax, water] = [new Wallet(Wallet.createRandom().privateKey), new Wallet(Wallet.createRandom().privateKey)];
  await (await c.registry.registerDepartment(codeId("cq.tax"), DepartmentLevel.City, ethers.ZeroHash, [tax.address])).wait();
  await (await c.registry.registerDepartment(codeId("cq.water"), DepartmentLevel.City, ethers.ZeroHash, [water.address])).wait();
  await (await c.catalog.registerResource(codeId("res.fees"), codeId("cq.water"), ethers.ZeroHash, SharingCondition.Conditional, false)).wait();
  const node = await LedgerNode.open({
    dataDir: join(dir, "node"), rpcUrl: anvil.url, chainId: 31337n, addresses: dep.addresses, startBlock: dep.startBlock,
    operator: new Wallet(operator.privateKey), logCode: "log.bench", anchorIntervalMs: 5000, anchorEveryEntries: 100_000, confirmations: 0, indexerPollMs: 200,
  });
  await node.indexer.syncOnce();
  node.start();
  const app = await buildApp({ node, logger: false, rateLimitPerMinute: 10_000_000 });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const opts = { baseUrl: base, chainId: 31337n, registry: dep.addresses.registry };
  const taxC = new DclClient(opts, codeId("cq.tax"), tax);
  const waterC = new DclClient(opts, codeId("cq.water"), water);
  const now = Math.floor(Date.now() / 1000);
  const ag = await taxC.post<{ id: string; typedData: ApiTypedData }>("/v1/agreements", { provider: waterC.department, consumer: taxC.department, resource: codeId("res.fees"), purpose: "bench", quota: "1000000000", validFrom: now - 10, validUntil: now + 86400 });
  await waterC.post(`/v1/agreements/${ag.id}/signatures`, { signature: await waterC.signTypedData(ag.typedData) });
  await taxC.post(`/v1/agreements/${ag.id}/signatures`, { signature: await taxC.signTypedData(ag.typedData) });

  const call = () => ({ agreementId: ag.id, recordCount: 1, requestHash: ethers.hexlify(ethers.randomBytes(32)), responseHash: ethers.hexlify(ethers.randomBytes(32)) });
  const sizes = [1, 10, 100, 1000];
  const results: Record<number, number[]> = Object.fromEntries(sizes.map((s) => [s, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const size of sizes) {
      const requests = Math.max(CONCURRENCY, Math.ceil((size === 1 ? CALLS / 4 : CALLS) / size));
      let next = 0;
      const t0 = performance.now();
      await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
        while (next < requests) {
          next++;
          await taxC.post("/v1/access", { calls: Array.from({ length: size }, call) });
        }
      }));
      results[size].push((requests * size) / ((performance.now() - t0) / 1000));
    }
  }

  // The per-request signature check, alone.
  const text = stringToSign({ chainId: 31337n, registry: dep.addresses.registry, method: "POST", pathAndQuery: "/v1/access", body: new Uint8Array(200), department: taxC.department, signer: tax.address, timestamp: now, nonce: "00".repeat(16) });
  const sig = await tax.signMessage(text);
  const bench = (f: () => void, n: number) => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) f();
    return n / ((performance.now() - t0) / 1000);
  };
  const digest = personalMessageHash(new TextEncoder().encode(text));
  const noble = median([0, 1, 2].map(() => bench(() => recoverAddress(digest, fromHex(sig)), 500)));
  const ethersV = median([0, 1, 2].map(() => bench(() => ethers.verifyMessage(text, sig), 500)));

  console.log(`\nAccess logging through the API (signed HTTP on loopback, ${CONCURRENCY} concurrent clients, median of ${ROUNDS} rounds):`);
  console.log("| calls per request | calls/s (median) | rounds |");
  console.log("|---:|---:|---|");
  for (const s of sizes) console.log(`| ${s} | ${Math.round(median(results[s])).toLocaleString("en-US")} | ${results[s].map((x) => Math.round(x)).join(", ")} |`);
  console.log(`\nRequest-signature check alone: noble recoverAddress ${Math.round(noble).toLocaleString("en-US")}/s, ethers verifyMessage ${Math.round(ethersV).toLocaleString("en-US")}/s (ratio ${(noble / ethersV).toFixed(2)})`);
  console.log(`Log size after the run: ${node.log.size().toLocaleString("en-US")} entries in ${node.log.stats().batches.toLocaleString("en-US")} synced batches.`);
  console.log(`\nReproduce: npx ts-node --transpile-only scripts/bench/access-bench.ts --calls ${CALLS} --rounds ${ROUNDS} --concurrency ${CONCURRENCY}`);
  await app.close();
  await node.close();
  provider.destroy();
  await anvil.stop();
  await rm(dir, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
