/** The verifiable log: latest checkpoint with its anchor, inclusion and consistency proofs (public: hashes only). */
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { fromHex, toHex } from "../../node/verify";
import { fail } from "../../node/errors";
import type { RouteContext } from "../app";
import { Bytes32, ErrorBody, Index } from "../schemas";

const Anchor = z.object({ index: z.number(), treeSize: z.number(), root: z.string(), tx: z.string(), block: z.number(), timestamp: z.number() });

export const logRoutes: FastifyPluginAsyncZod<{ ctx: RouteContext }> = async (app, { ctx }) => {
  const { node } = ctx;

  app.get(
    "/log/checkpoint",
    {
      schema: {
        tags: ["log"],
        summary: "The latest signed checkpoint (C2SP note) and the latest checkpoint anchored on chain",
        response: { 200: z.object({ logId: z.string(), origin: z.string(), treeSize: z.number(), root: z.string(), note: z.string(), anchored: Anchor.nullable() }) },
      },
    },
    async () => {
      const signed = await node.checkpoints.sign();
      const anchored = (await node.indexer.checkpoints(node.logId)).at(-1) ?? null;
      return {
        logId: node.logId,
        origin: node.checkpoints.origin,
        treeSize: signed.checkpoint.size,
        root: toHex(signed.checkpoint.root),
        note: signed.note,
        anchored: anchored && { index: anchored.index, treeSize: anchored.treeSize, root: anchored.root, tx: anchored.tx, block: anchored.block, timestamp: anchored.timestamp },
      };
    },
  );

  app.get(
    "/log/proofs/inclusion",
    {
      schema: {
        tags: ["log"],
        summary: "Inclusion proof of an entry, by index or leaf hash, in the tree of `treeSize` (default: the latest)",
        querystring: z.strictObject({ index: Index.optional(), leafHash: Bytes32.optional(), treeSize: Index.optional() }),
        response: { 200: z.object({ index: z.number(), treeSize: z.number(), leafHash: z.string(), root: z.string(), proof: z.array(z.string()) }), 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (req) => {
      const { leafHash, treeSize } = req.query;
      let index = req.query.index;
      if ((index === undefined) === (leafHash === undefined)) throw fail.invalid("VALIDATION_FAILED", "give exactly one of index and leafHash");
      if (leafHash !== undefined) {
        index = await node.log.indexOfLeafHash(fromHex(leafHash));
        if (index === undefined) throw fail.notFound("leaf", leafHash);
      }
      const size = treeSize ?? node.log.size();
      if (size > node.log.size() || index! >= size) throw fail.notFound("entry", `${index} in a tree of ${size}`);
      return {
        index: index!,
        treeSize: size,
        leafHash: toHex(await node.log.leafHashAt(index!)),
        root: toHex(await node.log.root(size)),
        proof: (await node.log.inclusionProof(index!, size)).map(toHex),
      };
    },
  );

  app.get(
    "/log/proofs/consistency",
    {
      schema: {
        tags: ["log"],
        summary: "Consistency proof from the tree of `from` entries to the tree of `to` (default: the latest)",
        querystring: z.strictObject({ from: Index, to: Index.optional() }),
        response: { 200: z.object({ from: z.number(), to: z.number(), root1: z.string(), root2: z.string(), proof: z.array(z.string()) }), 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (req) => {
      const to = req.query.to ?? node.log.size();
      const from = req.query.from;
      if (from < 1 || from > to || to > node.log.size()) throw fail.notFound("tree sizes", `${from}..${to} (log size ${node.log.size()})`);
      return {
        from,
        to,
        root1: toHex(await node.log.root(from)),
        root2: toHex(await node.log.root(to)),
        proof: (await node.log.consistencyProof(from, to)).map(toHex),
      };
    },
  );
};
