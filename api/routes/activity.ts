/**
 * Activity over time, for the console's charts: calls served and refused per department and records
 * served per agreement, in equal time buckets. The log is in time order, so a window is an index
 * range (found by binary search) and one pass over it fills every series. The regulator sees every
 * department; any other department sees the entries it is a party to.
 */
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { ROLES } from "../../node/chain/ids";
import { fail } from "../../node/errors";
import { decodeEntry } from "../../node/log/entry";
import type { RouteContext } from "../app";
import { requireSigned } from "../auth/authenticate";
import { authErrors, uint } from "../schemas";

/** The most entries one activity query reads (a longer window must be narrowed). */
export const MAX_ACTIVITY_ENTRIES = 200_000;

const Series = z.array(z.number());

export const activityRoutes: FastifyPluginAsyncZod<{ ctx: RouteContext }> = async (app, { ctx }) => {
  const { node } = ctx;

  app.get(
    "/activity",
    {
      preHandler: requireSigned(ctx.auth),
      schema: {
        tags: ["audit"],
        summary: "Calls served and refused per department, and records served per agreement, in time buckets (regulator: all departments; others: their own entries)",
        querystring: z.strictObject({
          from: uint(64, "param", { max: 2 ** 40 }).optional().describe("unix seconds; default: the first entry's time"),
          to: uint(64, "param", { max: 2 ** 40 }).optional().describe("unix seconds, exclusive; default: one second after the last entry"),
          buckets: uint(32, "param", { min: 1, max: 200 }).default(24),
        }),
        response: {
          200: z.object({
            from: z.number(), to: z.number(), bucketSeconds: z.number(), bucketStarts: Series, entries: z.number(),
            departments: z.array(z.object({ department: z.string(), served: Series, refused: Series, provided: Series })),
            agreements: z.array(z.object({ agreementId: z.string(), records: Series })),
          }),
          ...authErrors,
        },
      },
    },
    async (req) => {
      const p = req.principal!;
      const all = await node.indexer.hasRole(ROLES.regulator, p.signer);
      const size = node.log.size();
      const firstTime = size > 0 ? (await node.log.getEntry(0)).time : ctx.now();
      const lastTime = size > 0 ? (await node.log.getEntry(size - 1)).time : ctx.now();
      const from = req.query.from ?? firstTime;
      const to = req.query.to ?? Math.max(lastTime + 1, from + 1);
      if (to <= from) throw fail.invalid("VALIDATION_FAILED", `invalid request: to (${to}) must be after from (${from})`);
      const n = req.query.buckets;
      const bucketSeconds = Math.max(1, Math.ceil((to - from) / n));
      const begin = await node.log.indexAtTime(from, size);
      const end = await node.log.indexAtTime(to, size);
      if (end - begin > MAX_ACTIVITY_ENTRIES) {
        throw fail.invalid("VALIDATION_FAILED", `invalid request: the window holds ${end - begin} entries, more than ${MAX_ACTIVITY_ENTRIES}; narrow from and to`);
      }
      const departments = new Map<string, { served: number[]; refused: number[]; provided: number[] }>();
      const agreements = new Map<string, number[]>();
      const dept = (id: string) => {
        let d = departments.get(id);
        if (!d) departments.set(id, (d = { served: Array(n).fill(0), refused: Array(n).fill(0), provided: Array(n).fill(0) }));
        return d;
      };
      let entries = 0;
      for await (const bytes of node.log.range(begin, end)) {
        const e = decodeEntry(bytes);
        if (!all && e.consumerDept !== p.department && e.providerDept !== p.department) continue;
        entries++;
        const b = Math.min(n - 1, Math.floor((e.time - from) / bucketSeconds));
        if (e.outcome === "served") {
          if (all || e.consumerDept === p.department) dept(e.consumerDept).served[b]++;
          if (all || e.providerDept === p.department) dept(e.providerDept).provided[b]++;
          let a = agreements.get(e.agreementId);
          if (!a) agreements.set(e.agreementId, (a = Array(n).fill(0)));
          a[b] += e.recordCount;
        } else if (all || e.consumerDept === p.department) {
          dept(e.consumerDept).refused[b]++;
        }
      }
      return {
        from, to, bucketSeconds, entries,
        bucketStarts: Array.from({ length: n }, (_, i) => from + i * bucketSeconds),
        departments: [...departments].map(([department, s]) => ({ department, ...s })),
        agreements: [...agreements].map(([agreementId, records]) => ({ agreementId, records })),
      };
    },
  );
};
