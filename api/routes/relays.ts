/**
 * The relay outbox seen from outside: `GET /v1/relays/:id` says where a relayed transaction is —
 * pending (recorded, or signed and sent, with its nonce and hash), mined (tx, block) or failed (the
 * contract's custom error as `error.code`). Public, like the log's proofs: the id is a SHA-256 over
 * the call's calldata (docs/formats.md §15), so only who holds the call (its signatures) can name a
 * relay, and what is shown — the state, the contract and method, the transaction — is what the chain
 * itself shows once it is mined. No signed bytes and no internal error text leave the node.
 */
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { relayView, type RelayView } from "../../node/chain/outbox";
import { fail } from "../../node/errors";
import type { RouteContext } from "../app";
import { ErrorBody, IdParam } from "../schemas";

/** A relay as the API shows it. */
export const RelaySchema = z
  .object({
    id: z.string().describe("SHA-256 of the call (docs/formats.md §15), 0x-hex"),
    state: z.enum(["pending", "sent", "mined", "failed"]).describe("pending: recorded, not yet signed; sent: signed with `nonce` and broadcast as `tx`; mined: in `block`; failed: refused by the chain (`error`)"),
    contract: z.string().describe("the contract called (registry, catalog, agreements, consents, transfers, anchors)"),
    method: z.string(),
    repeatable: z.boolean().describe("a governor's act that a later identical request repeats (department activation, role grant, resource update, anchors): otherwise a re-post of the same call finds this relay"),
    createdAt: z.string(),
    updatedAt: z.string(),
    nonce: z.number().optional(),
    tx: z.string().optional(),
    replaced: z.array(z.string()).optional().describe("earlier signings of the same nonce, replaced for higher fees after blocks were mined without them; at most one of these and `tx` is ever mined"),
    block: z.number().optional(),
    error: z.object({ code: z.string().describe("the contract's custom error, e.g. RegistryTooManySigners"), message: z.string() }).optional(),
  })
  .describe("relay");

/** The body of a 202 Accepted: the relay still on its way when the request's wait (DCL_RELAY_WAIT_MS) ended. */
export const RelayAccepted = z.object({ relay: RelaySchema }).describe("accepted: the transaction is recorded and on its way; follow it at the Location (GET /v1/relays/:id)");

/** The 202 answer of a route that relays a transaction, for its OpenAPI responses. */
export const relayAccepted = { 202: RelayAccepted };

/** The 202 body and Location of relay `view`. */
export function acceptedBody(view: RelayView): { location: string; body: { relay: RelayView } } {
  return { location: `/v1/relays/${view.id}`, body: { relay: view } };
}

export const relayRoutes: FastifyPluginAsyncZod<{ ctx: RouteContext }> = async (app, { ctx }) => {
  app.get(
    "/relays/:id",
    {
      schema: {
        tags: ["relays"],
        summary: "A relayed transaction: pending, sent (nonce, tx), mined (tx, block) or failed (the contract's error code); public, named by its id",
        params: IdParam,
        response: { 200: z.object({ relay: RelaySchema }), 400: ErrorBody, 404: ErrorBody, 429: ErrorBody },
      },
    },
    async (req) => {
      const r = await ctx.node.client.outbox.get(req.params.id);
      if (!r) throw fail.notFound("relay", req.params.id);
      return { relay: relayView(r) };
    },
  );
};
