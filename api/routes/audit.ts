/** The regulator's view: trails, statistics, evidence bundles; the exchange's: provenance by content hash. */
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { FastifyRequest } from "fastify";
import { z } from "zod";
import type { AuditDimension } from "../../node/access/audit-index";
import { REFUSAL, type RefusalCode } from "../../node/access/refusals";
import { ROLES } from "../../node/chain/ids";
import { fail } from "../../node/errors";
import { toHex } from "../../node/verify";
import type { RouteContext } from "../app";
import { authenticate, requireRole } from "../auth/authenticate";
import { authErrors, Bytes32, Index, sizedArray, uint } from "../schemas";
import { MAX_BUNDLE_ENTRIES } from "../../node/evidence/evidence-service";

const Json = z.any();

export const auditRoutes: FastifyPluginAsyncZod<{ ctx: RouteContext }> = async (app, { ctx }) => {
  const { node } = ctx;
  const regulator = requireRole(ctx.auth, ROLES.regulator, "regulator");

  app.get(
    "/audit/entries",
    {
      preHandler: regulator,
      schema: {
        tags: ["audit"],
        summary: "Access trail filtered by consumer, provider, resource, agreement, subject commitment, time, outcome and refusal reason; paginated by log index",
        querystring: z
          .strictObject({
            consumer: Bytes32.optional(), provider: Bytes32.optional(), resource: Bytes32.optional(), agreement: Bytes32.optional(), subject: Bytes32.optional(),
            from: uint(64, "param").optional(), to: uint(64, "param").optional(), // unix seconds (uint64 in the log entry)
            outcome: z.enum(["served", "refused"]).optional(),
            reason: z.enum(Object.values(REFUSAL) as [RefusalCode, ...RefusalCode[]]).optional().describe("refusal reason (refused entries only)"),
            after: Index.optional(), limit: uint(32, "param", { min: 1, max: 500 }).default(100),
          })
          .refine((q) => q.consumer ?? q.provider ?? q.resource ?? q.agreement ?? q.subject, "filter by at least one of consumer, provider, resource, agreement, subject"),
        response: { 200: z.object({ entries: z.array(z.object({ index: z.number(), leafHash: z.string(), entry: Json })), next: z.number().nullable() }), ...authErrors },
      },
    },
    async (req) => {
      const q = req.query;
      const filters = (["consumer", "provider", "resource", "agreement", "subject"] as const).filter((k) => q[k] !== undefined);
      const field = { consumer: "consumerDept", provider: "providerDept", resource: "resourceId", agreement: "agreementId", subject: "subjectCommitment" } as const;
      const [scan, ...rest] = filters;
      const out: { index: number; leafHash: string; entry: unknown }[] = [];
      let after = q.after ?? -1;
      let next: number | null = null;
      // Scan the index of the first filter; check the others and the time window on the entries.
      while (out.length < q.limit) {
        const page = await node.audit.indexes(scan as AuditDimension, q[scan]!, after, 500);
        if (page.length === 0) break;
        for (const i of page) {
          after = i;
          const e = await node.log.getEntry(i);
          if (rest.some((k) => e[field[k]] !== q[k])) continue;
          if ((q.from !== undefined && e.time < q.from) || (q.to !== undefined && e.time > q.to)) continue;
          if (q.outcome && e.outcome !== q.outcome) continue;
          if (q.reason && e.refusalReason !== q.reason) continue;
          out.push({ index: i, leafHash: toHex(await node.log.leafHashAt(i)), entry: e });
          if (out.length === q.limit) {
            next = i;
            break;
          }
        }
      }
      return { entries: out, next };
    },
  );

  app.get(
    "/audit/stats/:department",
    {
      preHandler: regulator,
      schema: {
        tags: ["audit"],
        summary: "Per-department statistics: calls, refusals by reason, records, quota use per agreement, reconciliation times",
        params: z.strictObject({ department: Bytes32 }),
        response: { 200: Json, ...authErrors },
      },
    },
    async (req) => {
      const d = req.params.department;
      if (!(await node.indexer.department(d))) throw fail.notFound("department", d);
      const agreements = (await node.indexer.agreements()).filter((a) => a.consumer === d || a.provider === d);
      const reconciliations = (await node.transfers.reconciliationTimes()).filter((r) => r.from === d || r.to === d);
      return {
        department: d,
        calls: node.audit.statsOf(d),
        quota: agreements.map((a) => ({ agreementId: a.id, role: a.consumer === d ? "consumer" : "provider", status: a.status, quota: a.quota, used: node.access.usageOf(a.id).toString(), reportedOnChain: a.used, quotaExceeded: a.quotaExceeded })),
        reconciliations,
      };
    },
  );

  app.post(
    "/evidence",
    {
      preHandler: regulator,
      schema: {
        tags: ["audit"],
        summary: "An evidence bundle for the given log entries, verifiable offline (dcl verify)",
        body: z.strictObject({
          indices: sizedArray(uint(64, "number"), {
            min: 1, max: MAX_BUNDLE_ENTRIES,
            tooFew: { code: "BUNDLE_EMPTY", message: "name at least one entry" },
            tooMany: { code: "BUNDLE_TOO_LARGE", message: `a bundle holds at most ${MAX_BUNDLE_ENTRIES} entries` },
          }),
        }),
        response: { 200: Json, ...authErrors },
      },
    },
    async (req) => node.evidence.bundle(req.body.indices),
  );

  app.get(
    "/provenance/:hash",
    {
      preHandler: async (req: FastifyRequest) => {
        const p = await authenticate(ctx.auth, req);
        const ok = (await node.indexer.hasRole(ROLES.exchange, p.signer)) || (await node.indexer.hasRole(ROLES.regulator, p.signer));
        if (!ok) throw fail.forbidden("FORBIDDEN_ROLE", "this needs the exchange or regulator role");
      },
      schema: {
        tags: ["provenance"],
        summary: "Where a data product came from: transfers (with lineage) and logged calls whose content hash it is, with their proofs",
        params: z.strictObject({ hash: Bytes32 }),
        response: { 200: Json, ...authErrors },
      },
    },
    async (req) => node.evidence.provenance(req.params.hash),
  );
};
