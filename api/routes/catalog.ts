/** The resource catalog (relayed by the node as governor after checking the owner's or governor's signature). */
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { FastifyRequest } from "fastify";
import { z } from "zod";
import { codeId, ROLES, SharingCondition } from "../../node/chain/ids";
import { fail } from "../../node/errors";
import type { RouteContext } from "../app";
import { authenticate, requireSigned } from "../auth/authenticate";
import { authErrors, Bytes32, Code, IdParam } from "../schemas";
import { relayAccepted } from "./relays";

const Condition = z.enum(["unconditional", "conditional", "not_shareable"]);
const CONDITION_OF = { unconditional: SharingCondition.Unconditional, conditional: SharingCondition.Conditional, not_shareable: SharingCondition.NotShareable };
const Tx = z.object({ tx: z.string(), block: z.number() });
const ResourceBody = { schemaHash: Bytes32, condition: Condition, personal: z.boolean() };

async function requireOwnerOrGovernor(ctx: RouteContext, req: FastifyRequest, owner: string): Promise<void> {
  const p = await authenticate(ctx.auth, req);
  if (p.department !== owner && !(await ctx.node.indexer.hasRole(ROLES.governor, p.signer))) {
    throw fail.forbidden("FORBIDDEN_ROLE", `only the owner ${owner} or the governor may change this resource`);
  }
}

export const catalogRoutes: FastifyPluginAsyncZod<{ ctx: RouteContext }> = async (app, { ctx }) => {
  const { node } = ctx;

  app.post(
    "/resources",
    {
      schema: {
        tags: ["catalog"],
        summary: "Catalogue a resource (owner's signer or governor)",
        body: z.strictObject({ code: Code, owner: Bytes32, ...ResourceBody }),
        response: { ...relayAccepted, 201: z.object({ id: z.string(), tx: z.string(), block: z.number() }), ...authErrors },
      },
    },
    async (req, reply) => {
      await requireOwnerOrGovernor(ctx, req, req.body.owner);
      const id = codeId(req.body.code);
      const tx = await node.governance.registerResource(id, req.body.owner, req.body.schemaHash, CONDITION_OF[req.body.condition], req.body.personal);
      return reply.code(201).send({ id, ...tx });
    },
  );

  app.put(
    "/resources/:id",
    {
      schema: { tags: ["catalog"], summary: "Publish a new version of a resource (owner's signer or governor)", params: IdParam, body: z.strictObject(ResourceBody), response: { ...relayAccepted, 200: Tx, ...authErrors } },
    },
    async (req) => {
      const r = await node.indexer.resource(req.params.id);
      if (!r) {
        await authenticate(ctx.auth, req);
        throw fail.notFound("resource", req.params.id);
      }
      await requireOwnerOrGovernor(ctx, req, r.owner);
      return node.governance.updateResource(req.params.id, req.body.schemaHash, CONDITION_OF[req.body.condition], req.body.personal);
    },
  );

  app.get(
    "/resources/:id",
    {
      preHandler: requireSigned(ctx.auth),
      schema: {
        tags: ["catalog"],
        summary: "A catalogued resource",
        params: IdParam,
        response: { 200: z.object({ id: z.string(), owner: z.string(), schemaHash: z.string(), condition: Condition, personal: z.boolean(), version: z.number() }), ...authErrors },
      },
    },
    async (req) => {
      const r = await node.indexer.resource(req.params.id);
      if (!r) throw fail.notFound("resource", req.params.id);
      return { ...r, condition: Condition.options[r.condition] };
    },
  );
};
