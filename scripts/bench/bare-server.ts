/**
 * The benchmark's baseline: a bare Fastify server, in its own process, that answers
 * `POST /v1/access` by parsing the JSON body (Fastify's own parser, the same body bytes the signed
 * rows send) and returning a small JSON answer. No signature, no log, no logging: what the HTTP
 * stack alone costs on this machine. Prints `{"port": N}` once listening; SIGTERM stops it.
 *
 *   node dist/scripts/bench/bare-server.js
 */
import Fastify from "fastify";

async function main(): Promise<void> {
  const app = Fastify({ logger: false, bodyLimit: 16 * 1024 * 1024 });
  app.post("/v1/access", async (req) => {
    const calls = (req.body as { calls?: unknown[] }).calls ?? [];
    return { served: calls.length, refused: 0 };
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  process.stdout.write(JSON.stringify({ port: (app.server.address() as { port: number }).port }) + "\n");
  const stop = () => void app.close().then(() => process.exit(0));
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

main().catch((err) => {
  process.stderr.write(`bare server failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
