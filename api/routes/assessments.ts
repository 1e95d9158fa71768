/**
 * The regulator's quarterly assessment of each department's sharing (Reply 0535 §3.1) and the period
 * bundle that lets anyone reproduce it (`dcl assess --bundle`). Both are taken over the tree of an
 * anchored checkpoint, named in `basis`.
 */
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { assessmentCsv } from "../../node/assessment/csv";
import { quarter, quarterOf, type Period } from "../../node/assessment/period";
import { ROLES } from "../../node/chain/ids";
import type { RouteContext } from "../app";
import { requireRole } from "../auth/authenticate";
import { authErrors, Bytes32, Index, uint } from "../schemas";

const Json = z.any();

/** A period as a quarter (`period=2026Q4`, China Standard Time) or as unix seconds (`from`, `to`: [from, to)); neither: the current quarter. */
const periodQuery = {
  period: z.string().regex(/^[0-9]{4}Q[1-4]$/, "a quarter like 2026Q4").refine((p) => quarter(p) !== undefined, "a quarter from 1970Q1 on").optional(),
  from: uint(64, "param").optional(),
  to: uint(64, "param").optional(),
  /** The anchored checkpoint to take the period in (default: the latest, anchoring first if entries wait). */
  treeSize: Index.optional(),
};
const onePeriod = (q: { period?: string; from?: number; to?: number }) =>
  q.period !== undefined ? q.from === undefined && q.to === undefined : (q.from === undefined && q.to === undefined) || (q.from !== undefined && q.to !== undefined && q.from < q.to);
const ONE_PERIOD = "give period (a quarter like 2026Q4), or both from and to (unix seconds, from < to), or neither (the current quarter)";

function periodOf(q: { period?: string; from?: number; to?: number }, now: number): Period {
  if (q.period !== undefined) return quarter(q.period)!;
  return q.from !== undefined ? { from: q.from, to: q.to! } : quarterOf(now);
}

export const assessmentRoutes: FastifyPluginAsyncZod<{ ctx: RouteContext; periodBundleMaxEntries?: number }> = async (app, { ctx, periodBundleMaxEntries }) => {
  const { node } = ctx;
  const regulator = requireRole(ctx.auth, ROLES.regulator, "regulator");

  app.get(
    "/audit/assessments",
    {
      preHandler: regulator,
      schema: {
        tags: ["audit"],
        summary: "Assessment of a period (default: the current quarter): per department as provider and consumer, with the Reply 0535 scoring; JSON or CSV",
        querystring: z.strictObject({ ...periodQuery, department: Bytes32.optional(), format: z.enum(["json", "csv"]).optional() }).refine(onePeriod, ONE_PERIOD),
        response: { 200: Json, ...authErrors },
      },
    },
    async (req, reply) => {
      const q = req.query;
      const assessment = await node.assessments.assess(periodOf(q, ctx.now()), { treeSize: q.treeSize, departments: q.department ? [q.department] : undefined });
      const csv = q.format === "csv" || (q.format === undefined && /\btext\/csv\b/.test(req.headers.accept ?? ""));
      if (!csv) return assessment;
      return reply.header("content-type", "text/csv; charset=utf-8").send(assessmentCsv(assessment));
    },
  );

  app.get(
    "/audit/period-bundle",
    {
      preHandler: regulator,
      schema: {
        tags: ["audit"],
        summary: "Every entry of a period with the range proof against an anchored checkpoint and the assessment: recompute it offline (dcl assess --bundle)",
        querystring: z.strictObject(periodQuery).refine(onePeriod, ONE_PERIOD),
        response: { 200: Json, ...authErrors },
      },
    },
    async (req) => node.assessments.bundle(periodOf(req.query, ctx.now()), { treeSize: req.query.treeSize, maxEntries: periodBundleMaxEntries }),
  );
};
