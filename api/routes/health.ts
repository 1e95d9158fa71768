/**
 * Liveness (/healthz) and readiness (/readyz: chain reachable, indexer caught up, anchoring healthy,
 * the store writable, the log not diverged from its anchors, and one check per watched peer). A peer's failure or fork is reported in its check but does not
 * make this node unready: it is the peer's log that is in question, not this node's service.
 */
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { PeerStatus } from "../../node/peers/peer-monitor";
import type { RouteContext } from "../app";

const Held = z.object({ size: z.number(), root: z.string() });
/** A fork alert's two checkpoints, as a peer check shows them. */
const Fork = z.object({
  against: z.enum(["accepted", "anchored"]),
  detectedAt: z.number(),
  trusted: Held.extend({ note: z.string().optional(), anchor: z.object({ index: z.number(), tx: z.string(), block: z.number() }).optional() }),
  presented: Held.extend({ note: z.string() }),
  error: z.object({ code: z.string(), message: z.string() }),
});
const Check = z.object({ ok: z.boolean(), detail: z.string().optional(), fork: Fork.optional() });

export const healthRoutes: FastifyPluginAsyncZod<{ ctx: RouteContext }> = async (app, { ctx }) => {
  app.get("/healthz", { schema: { tags: ["health"], summary: "The process is up", response: { 200: z.object({ ok: z.literal(true) }) } } }, async () => ({ ok: true as const }));

  app.get(
    "/readyz",
    {
      schema: {
        tags: ["health"],
        summary: "Ready: the chain answers, the indexer has caught up, the store can write, the log agrees with its anchors",
        response: { 200: z.object({ ready: z.boolean(), checks: z.record(z.string(), Check) }), 503: z.object({ ready: z.boolean(), checks: z.record(z.string(), Check) }) },
      },
    },
    async (_req, reply) => {
      const { node } = ctx;
      const chain = await Promise.race([
        node.client.blockNumber().then((b) => ({ ok: true, detail: `block ${b}` })),
        new Promise<{ ok: boolean; detail: string }>((r) => setTimeout(() => r({ ok: false, detail: "no answer in 2 s" }), 2000)),
      ]).catch((err: Error) => ({ ok: false, detail: err.message }));
      const indexer = chain.ok
        ? await node.indexer.readiness().catch((err: Error) => ({ ok: false, detail: `unknown: ${err.message}` }))
        : { ok: false, detail: "unknown: the chain does not answer" };
      const anchoring = { ok: node.anchorer.health().ok, detail: node.anchorer.health().error ?? `${node.anchorer.lag()} entries waiting` };
      const writable = node.storeGuard.health();
      const storage = { ok: writable.ok, detail: writable.detail };
      const diverged = node.integrity.divergence();
      const integrity = diverged
        ? { ok: false, detail: `LOG DIVERGED since ${new Date(diverged.detectedAt * 1000).toISOString()}: ${diverged.report.problems.map((p) => `${p.code}: ${p.message}`).join("; ")}; writes are refused (LOG_DIVERGED) until the store is restored` }
        : { ok: true, detail: "the store agreed with its signed checkpoint and the chain's anchor at start; the anchorer watches the chain" };
      const ready = chain.ok && indexer.ok && storage.ok && integrity.ok;
      const peers = Object.fromEntries(((await node.peerMonitor?.status()) ?? []).map((p) => [`peer ${p.url}`, peerCheck(p)]));
      return reply.code(ready ? 200 : 503).send({ ready, checks: { chain, indexer: { ok: indexer.ok, detail: indexer.detail }, anchoring, storage, integrity, ...peers } });
    },
  );
};

/** A watched peer as a readiness check: a fork alert fails it and shows both checkpoints. */
function peerCheck(p: PeerStatus): z.infer<typeof Check> {
  const alert = p.alerts.at(-1);
  if (alert) {
    const { against, detectedAt, trusted, presented, error } = alert;
    const held = against === "anchored" ? `the checkpoint anchored on chain${trusted.anchor ? ` (tx ${trusted.anchor.tx})` : ""}` : "the checkpoint accepted earlier";
    return {
      ok: false,
      detail: `FORK ALERT: log ${alert.logId} presented size ${presented.size} root ${presented.root}, inconsistent with ${held} of size ${trusted.size} root ${trusted.root} (${error.code}); the peer is no longer trusted`,
      fork: { against, detectedAt, trusted, presented, error },
    };
  }
  const last = p.last;
  if (!last) return { ok: false, detail: "not checked yet" };
  if (!p.ok) return { ok: false, detail: `${last.status}: ${last.error?.code ?? ""} ${last.error?.message ?? ""}`.trim() };
  const size = p.accepted ? `checkpoint of size ${p.accepted.size} accepted (root ${p.accepted.root})` : "consistent";
  return { ok: true, detail: `log ${p.logId}: ${size}; last check ${last.status} at ${last.checkedAt}` };
}
