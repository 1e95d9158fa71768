/**
 * Data access logging: the consumer department reports one call or a batch; each is checked
 * (agreement, window, purpose, quota, consent) and logged as served or refused, with a receipt.
 * Signed with a department key or a session key certified for `access:write`. `?proofs=` sizes the
 * answer: every result with its receipt (`entry`, the default), one batch proof to rebuild them
 * (`batch`), or no receipts (`none`).
 */
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { AccessCall } from "../../node/access/access-ledger";
import type { RouteContext } from "../app";
import { requireSigned } from "../auth/authenticate";
import { fail } from "../../node/errors";
import { authErrors, Bytes32, PurposeText, sizedArray, uint, UnixSeconds } from "../schemas";
import { purposeHashOf } from "./agreements";
import { SubjectId } from "./consents";

/** The most calls one request may log. */
export const MAX_BATCH = 5000;
const UNKNOWN_SUBJECT = "0x" + "00".repeat(32);

const Call = z
  .strictObject({
    agreementId: Bytes32,
    purpose: PurposeText.optional(),
    purposeHash: Bytes32.optional(),
    recordCount: uint(32, "number"), // uint32 in the log entry
    requestHash: Bytes32,
    responseHash: Bytes32,
    subjectId: SubjectId.optional(),
    subjectCommitment: Bytes32.optional(),
    calledAt: UnixSeconds.optional().describe("when the call was made (unix seconds): logged with it, for the assessment's timeliness"),
    latencyMs: uint(32, "number").optional().describe("the provider's response time in ms: logged with the call"), // uint32 in the log entry
  })
  .refine((c) => !(c.purpose !== undefined && c.purposeHash !== undefined), "give at most one of purpose and purposeHash")
  .refine((c) => !(c.subjectId !== undefined && c.subjectCommitment !== undefined), "give at most one of subjectId and subjectCommitment");

const Receipt = z
  .object({
    origin: z.string(), index: z.number(), leafHash: z.string(),
    batch: z.object({ first: z.number(), count: z.number(), root: z.string(), proof: z.array(z.string()) }),
    signer: z.string(), signature: z.string(),
  })
  .describe("the operator's promise to include the entry: one signature over the request's batch root (dcl-receipt/v2)");
const LoggedEntry = z
  .object({
    time: z.number(), consumerDept: z.string(), providerDept: z.string(), resourceId: z.string(), agreementId: z.string(),
    purposeHash: z.string(), recordCount: z.number(), requestHash: z.string(), responseHash: z.string(),
    subjectCommitment: z.string().nullable(), outcome: z.enum(["served", "refused"]), refusalReason: z.string(),
    calledAt: z.number().optional(), latencyMs: z.number().optional(),
  })
  .describe("the entry exactly as logged: encode it (docs/formats.md) and hash it to get leafHash");
const Outcome = z.object({
  index: z.number(), time: z.number().describe("the entry's time (unix seconds), as logged"), leafHash: z.string(), outcome: z.enum(["served", "refused"]),
  refusalReason: z.string().optional(), consentId: z.string().optional(), entry: LoggedEntry, receipt: Receipt.optional().describe("with proofs=entry (the default)"),
});
const BatchProof = z
  .object({
    origin: z.string(), first: z.number(), count: z.number(), root: z.string(), signer: z.string(), signature: z.string(),
    left: z.array(z.string()), right: z.array(z.string()),
  })
  .describe("with proofs=batch: the signed batch holding this request's entries and a range proof of them in it, from which each receipt is rebuilt (docs/formats.md §4)");

export const accessRoutes: FastifyPluginAsyncZod<{ ctx: RouteContext }> = async (app, { ctx }) => {
  const { node } = ctx;
  app.post(
    "/access",
    {
      preHandler: requireSigned(ctx.auth, { sessionScope: "access:write" }),
      // The answer is built from typed values here; encoding it through zod again cost as much as the
      // JSON (7 % of a 1,000-call request's CPU, npm run bench --profile). The schema still documents it.
      serializerCompiler: () => (data) => JSON.stringify(data),
      schema: {
        tags: ["access"],
        summary: `Log data calls made by this department (1 to ${MAX_BATCH}); each is checked, logged as served or refused, and receipted`,
        querystring: z.object({
          proofs: z.enum(["entry", "batch", "none"]).default("entry").describe("entry: each result with its receipt; batch: one batch proof for all; none: no receipts"),
        }),
        body: z.strictObject({
          calls: sizedArray(Call, { min: 1, max: MAX_BATCH, tooMany: { code: "BATCH_TOO_LARGE", message: `a batch holds at most ${MAX_BATCH} calls` } }),
        }),
        response: { 200: z.object({ served: z.number(), refused: z.number(), results: z.array(Outcome), batch: BatchProof.optional() }), ...authErrors },
      },
    },
    async (req) => {
      // A call is reported after it was made: one made later than now (beyond the clock skew allowed) is not a call yet.
      const late = req.body.calls.findIndex((c) => c.calledAt !== undefined && c.calledAt > ctx.now() + ctx.auth.maxSkewSeconds);
      if (late >= 0) throw fail.invalid("VALIDATION_FAILED", `calls[${late}].calledAt ${req.body.calls[late].calledAt} is after now (${ctx.now()}, ±${ctx.auth.maxSkewSeconds} s)`);
      // An ID number the node has never seen has no consent, and an erased one has no commitment any
      // more (it is refused SUBJECT_ERASED): both are logged as the zero commitment. Only calls naming
      // an ID number wait for a lookup (a 1,000-call batch without them makes no promise per call).
      const calls: AccessCall[] = new Array(req.body.calls.length);
      const lookups: Promise<void>[] = [];
      req.body.calls.forEach((c, i) => {
        const call: AccessCall = {
          agreementId: c.agreementId,
          purposeHash: purposeHashOf(c),
          recordCount: c.recordCount,
          requestHash: c.requestHash,
          responseHash: c.responseHash,
          subjectCommitment: c.subjectCommitment ?? null,
        };
        if (c.calledAt !== undefined) call.calledAt = c.calledAt;
        if (c.latencyMs !== undefined) call.latencyMs = c.latencyMs;
        calls[i] = call;
        if (c.subjectId !== undefined) {
          lookups.push(node.consents.subjectOf(c.subjectId).then((known) => {
            if (c.subjectCommitment === undefined) call.subjectCommitment = known ? (known.commitment ?? UNKNOWN_SUBJECT) : null;
            if (known?.erased) call.subjectErased = true;
          }));
        }
      });
      await Promise.all(lookups);
      const { results, batch } = await node.access.recordCalls(req.principal!.department, calls, req.query.proofs);
      node.anchorer.poke();
      const served = results.filter((r) => r.outcome === "served").length;
      return { served, refused: results.length - served, results, ...(batch ? { batch } : {}) };
    },
  );
};
