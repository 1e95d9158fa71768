/**
 * Receipts posted back: a department (or the regulator) asks whether the operator kept the promises
 * it signed — each receipt's entry is in the latest checkpoint anchored on chain (with the proof), or
 * still pending within the anchor interval, or overdue, or broken (node/receipts/receipt-check.ts).
 */
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { checkReceipts, DEFAULT_GRACE_SECONDS } from "../../node/receipts/receipt-check";
import { nodeReceiptSources } from "../../node/receipts/node-sources";
import type { RouteContext } from "../app";
import { requireSigned } from "../auth/authenticate";
import { Address, authErrors, Bytes32, Signature, sizedArray, uint } from "../schemas";

/** The most receipts one request may check. */
export const MAX_RECEIPTS = 1000;

const Index = uint(64, "number");
const ReceiptBody = z
  .strictObject({
    origin: z.string().min(1).max(300),
    index: Index,
    leafHash: Bytes32,
    batch: z.strictObject({ first: Index, count: uint(64, "number", { min: 1 }), root: Bytes32, proof: z.array(Bytes32).max(64) }),
    signer: Address,
    signature: Signature,
  })
  .describe("a receipt as POST /v1/access gave it (docs/formats.md §4)");
const EntryBody = z
  .strictObject({
    time: uint(64, "number"),
    consumerDept: Bytes32, providerDept: Bytes32, resourceId: Bytes32, agreementId: Bytes32, purposeHash: Bytes32,
    recordCount: uint(32, "number"),
    requestHash: Bytes32, responseHash: Bytes32,
    subjectCommitment: Bytes32.nullable(),
    outcome: z.enum(["served", "refused"]),
    refusalReason: z.string().max(64),
  })
  .describe("the entry the receipt was given for, as POST /v1/access answered it: dates the promise (overdue needs it) and must hash to the receipt's leaf hash");

const Anchor = z.object({ index: z.number(), treeSize: z.number(), root: z.string(), block: z.number(), timestamp: z.number(), tx: z.string().optional() });
const Result = z.object({
  verdict: z.enum(["kept", "pending", "overdue", "broken", "invalid", "unchecked"]),
  code: z.string(),
  detail: z.string(),
  origin: z.string(),
  logId: z.string().optional(),
  index: z.number(),
  leafHash: z.string(),
  signer: z.object({ address: z.string(), department: z.string().optional(), ok: z.boolean(), detail: z.string() }),
  loggedAt: z.number().optional(),
  dueBy: z.number().optional(),
  anchor: Anchor.optional().describe("the latest checkpoint anchored on chain, as the node's indexer read it from the chain"),
  inclusion: z.object({ index: z.number(), treeSize: z.number(), leafHash: z.string(), proof: z.array(z.string()), root: z.string().optional() }).optional()
    .describe("the log's inclusion proof of the entry in the anchored tree: verify it against anchor.root yourself"),
  notServed: z.string().optional(),
  receipt: z.unknown().optional().describe("on a broken promise: the receipt, which with anchor and inclusion is the evidence"),
});
const Count = z.number();

export const receiptRoutes: FastifyPluginAsyncZod<{ ctx: RouteContext; graceSeconds?: number }> = async (app, { ctx, graceSeconds }) => {
  const { node } = ctx;
  const sources = nodeReceiptSources({ chainId: node.options.chainId, indexer: node.indexer, log: node.log, logId: node.logId });
  app.post(
    "/receipts/check",
    {
      preHandler: requireSigned(ctx.auth),
      schema: {
        tags: ["receipts"],
        summary: `Were these receipts kept? Each (1 to ${MAX_RECEIPTS}) is judged kept (in the latest anchored checkpoint, with the proof), pending, overdue (not anchored past the anchor interval) or broken (contradicted by the anchored tree)`,
        body: z.strictObject({
          receipts: sizedArray(z.strictObject({ receipt: ReceiptBody, entry: EntryBody.optional() }), {
            min: 1, max: MAX_RECEIPTS,
            tooFew: { code: "RECEIPTS_EMPTY", message: "give at least one receipt" },
            tooMany: { code: "RECEIPTS_TOO_MANY", message: `at most ${MAX_RECEIPTS} receipts per request` },
          }),
        }),
        response: {
          200: z.object({
            kept: Count, pending: Count, overdue: Count, broken: Count, invalid: Count, unchecked: Count,
            anchorIntervalMs: z.number(), graceSeconds: z.number(), checkedAt: z.number(),
            results: z.array(Result),
          }),
          ...authErrors,
        },
      },
    },
    async (req) => {
      const grace = graceSeconds ?? DEFAULT_GRACE_SECONDS;
      const now = ctx.now();
      const { results, summary } = await checkReceipts(req.body.receipts, sources, { anchorIntervalMs: node.options.anchorIntervalMs, graceSeconds: grace, now });
      return { ...summary, anchorIntervalMs: node.options.anchorIntervalMs, graceSeconds: grace, checkedAt: now, results };
    },
  );
};
