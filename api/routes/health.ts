/** Liveness (/healthz) and readiness (/readyz: chain reachable, indexer caught up, anchoring healthy). */
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { RouteContext } from "../app";

const Check = z.object({ ok: z.boolean(), detail: z.string().optional() });

export const healthRoutes: FastifyPluginAsyncZod<{ ctx: RouteContext }> = async (app, { ctx }) => {
  app.get("/healthz", { schema: { tags: ["health"], summary: "The process is up", response: { 200: z.object({ ok: z.literal(true) }) } } }, async () => ({ ok: true as const }));

  app.get(
    "/readyz",
    {
      schema: {
        tags: ["health"],
        summary: "Ready: the chain answers, the indexer has caught up, anchoring is not failing",
        response: { 200: z.object({ ready: z.boolean(), checks: z.record(z.string(), Check) }), 503: z.object({ ready: z.boolean(), checks: z.record(z.string(), Check) }) },
      },
    },
    async (_req, reply) => {
      const { node } = ctx;
      const chain = await Promise.race([
        node.client.blockNumber().then((b) => ({ ok: true, detail: `block ${b}` })),
        new Promise<{ ok: boolean; detail: string }>((r) => setTimeout(() => r({ ok: false, detail: "no answer in 2 s" }), 2000)),
      ]).catch((err: Error) => ({ ok: false, detail: err.message }));
      const lag = chain.ok ? await node.indexer.lag().catch(() => -1) : -1;
      const indexer = { ok: lag === 0 && node.indexer.health().ok, detail: lag >= 0 ? `${lag} blocks behind` : "unknown" };
      const anchoring = { ok: node.anchorer.health().ok, detail: node.anchorer.health().error ?? `${node.anchorer.lag()} entries waiting` };
      const ready = chain.ok && indexer.ok;
      return reply.code(ready ? 200 : 503).send({ ready, checks: { chain, indexer, anchoring } });
    },
  );
};
