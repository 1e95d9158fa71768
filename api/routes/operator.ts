/**
 * The node operator's own routes. `GET /v1/operator/backup` streams a consistent copy of the running
 * node's store (node/backup/store-snapshot.ts): the store is locked by the running process, so a backup
 * tool cannot open it; the node, which holds it, reads it through one snapshot iterator and streams it,
 * and `dcl backup` writes it into a new LevelDB. Signed with the node's operator key only: the store
 * holds the subject secrets, so no department key, role or session key may read it.
 */
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { RouteContext } from "../app";
import { authenticate } from "../auth/authenticate";
import { Errors } from "../errors";
import { authErrors } from "../schemas";
import { snapshotStream } from "../../node/backup/store-snapshot";

export const operatorRoutes: FastifyPluginAsyncZod<{ ctx: RouteContext }> = async (app, { ctx }) => {
  const operator = ctx.node.options.operator.address.toLowerCase();
  app.get(
    "/operator/backup",
    {
      preHandler: async (req) => {
        const p = await authenticate(ctx.auth, req);
        if (p.signer !== operator) throw new Errors.FORBIDDEN_ROLE("node operator (the node's own key)");
      },
      schema: {
        tags: ["operator"],
        summary: "A consistent copy of the node's whole store (one LevelDB snapshot), as a dcl-store-snapshot/1 byte stream (application/octet-stream); signed by the node's operator key only. dcl backup writes it into a new LevelDB",
        response: { ...authErrors },
      },
    },
    async (req, reply) => {
      req.log.info({ module: "backup" }, "store snapshot streamed to the operator");
      const stream = snapshotStream(ctx.node.db as never);
      stream.on("error", (err) => req.log.error({ err }, "store snapshot failed mid-stream"));
      return reply.type("application/octet-stream").header("x-dcl-log-size", String(ctx.node.log.size())).send(stream as never);
    },
  );
};
