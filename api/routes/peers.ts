/** The peer monitor's view (public: checkpoints and proofs are hashes only): each watched peer's status and fork alerts. */
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { RouteContext } from "../app";

const Held = z.object({ size: z.number(), root: z.string() });
const Failure = z.object({ code: z.string(), message: z.string() });

/** A proven fork: both checkpoints (the peer's signed note among them) and the consistency proof it served. */
export const ForkAlertSchema = z
  .object({
    peer: z.string(),
    url: z.string(),
    logId: z.string(),
    against: z.enum(["accepted", "anchored"]).describe("what the peer's checkpoint contradicts: the one accepted from it earlier, or one anchored on chain"),
    trusted: Held.extend({ note: z.string().optional(), anchor: z.object({ index: z.number(), tx: z.string(), block: z.number() }).optional() }),
    presented: Held.extend({ note: z.string() }).describe("the checkpoint the peer presented, with its signed note"),
    proof: z.object({ from: z.number(), to: z.number(), root1: z.string(), root2: z.string(), hashes: z.array(z.string()) }).optional().describe("the consistency proof the peer served (absent for equal sizes)"),
    error: Failure,
    detectedAt: z.number(),
  })
  .describe("fork alert");

const PeerView = z.object({
  name: z.string(),
  url: z.string(),
  logId: z.string().optional().describe("the peer's log (learned from its first verified checkpoint when configured by URL)"),
  ok: z.boolean().describe("the last check found the peer consistent and it never forked"),
  last: z
    .object({
      status: z.enum(["accepted", "unchanged", "stale", "fork", "distrusted", "failed"]),
      checkedAt: z.number(),
      size: z.number().optional(),
      root: z.string().optional(),
      error: Failure.optional(),
    })
    .optional()
    .describe("the last check since this node started"),
  accepted: Held.extend({ note: z.string(), acceptedAt: z.number() }).optional().describe("the checkpoint last accepted from the peer"),
  alerts: z.array(ForkAlertSchema),
});

export const peerRoutes: FastifyPluginAsyncZod<{ ctx: RouteContext }> = async (app, { ctx }) => {
  app.get(
    "/peers",
    {
      schema: {
        tags: ["peers"],
        summary: "The peer ledger nodes this node watches (DCL_PEERS): each one's last check, accepted checkpoint and fork alerts with both checkpoints and the proof",
        response: { 200: z.object({ peers: z.array(PeerView) }) },
      },
    },
    async () => {
      const statuses = (await ctx.node.peerMonitor?.status()) ?? [];
      return {
        peers: statuses.map((p) => ({
          name: p.name,
          url: p.url,
          ...(p.logId && { logId: p.logId }),
          ok: p.ok,
          ...(p.last && { last: { status: p.last.status, checkedAt: p.last.checkedAt, size: p.last.size, root: p.last.root, error: p.last.error } }),
          ...(p.accepted && { accepted: p.accepted }),
          alerts: p.alerts,
        })),
      };
    },
  );
};
