/**
 * Risk warnings for the regulator: the alerts derived from the log and the chain (node/alerts),
 * filtered and paged; acknowledging one; and a server-sent events stream of new alerts that resumes
 * from `Last-Event-ID` (the alert's seq), so a reconnecting client misses none.
 */
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { ServerResponse } from "node:http";
import { z } from "zod";
import { ALERT_RULES, type Alert, type AlertView } from "../../node/alerts/alert";
import { ROLES } from "../../node/chain/ids";
import { fail } from "../../node/errors";
import type { RouteContext } from "../app";
import { requireRole } from "../auth/authenticate";
import { authErrors, Bytes32, Index, uint } from "../schemas";

const AlertId = z.string().regex(/^0x[0-9a-fA-F]{32}$/, "0x + 32 hex characters").transform((s) => s.toLowerCase());
const AlertJson = z.any().describe("an alert: id, key, seq, rule, severity, raisedAt, department?, agreementId?, message, evidence, acknowledged");
const DECIMAL = /^(0|[1-9][0-9]{0,15})$/;

/** One SSE event for `a`: its seq as the event id. */
const event = (a: AlertView) => `id: ${a.seq}\nevent: alert\ndata: ${JSON.stringify(a)}\n\n`;

export const alertRoutes: FastifyPluginAsyncZod<{ ctx: RouteContext; keepAliveMs?: number }> = async (app, { ctx, keepAliveMs }) => {
  const { node } = ctx;
  const regulator = requireRole(ctx.auth, ROLES.regulator, "regulator");
  const streams = new Set<ServerResponse>();
  // Open streams would keep the server from closing: end them first.
  app.addHook("preClose", async () => {
    for (const s of streams) s.end();
  });

  app.get(
    "/alerts",
    {
      preHandler: regulator,
      schema: {
        tags: ["alerts"],
        summary: "Risk alerts, oldest first, filtered by rule, department, agreement and status; paged by seq (after)",
        querystring: z.strictObject({
          rule: z.enum(ALERT_RULES).optional(), department: Bytes32.optional(), agreement: Bytes32.optional(),
          status: z.enum(["open", "acknowledged"]).optional(), after: Index.optional(), limit: uint(32, "param", { min: 1, max: 500 }).default(100),
        }),
        response: { 200: z.object({ alerts: z.array(AlertJson), next: z.number().nullable(), totals: z.record(z.string(), z.number()) }), ...authErrors },
      },
    },
    async (req) => {
      const q = req.query;
      const alerts = await node.alerts.list({ rule: q.rule, department: q.department, agreementId: q.agreement, status: q.status, after: q.after, limit: q.limit });
      return { alerts, next: alerts.length === q.limit ? alerts[alerts.length - 1].seq : null, totals: node.alerts.totals() };
    },
  );

  app.get(
    "/alerts/stream",
    {
      preHandler: regulator,
      // Not in the OpenAPI document: OpenAPI 3.0 cannot describe an event stream (docs/api.md does), and
      // clients generated from it, or fuzzers, would wait on a response that never ends.
      schema: {
        hide: true,
        tags: ["alerts"],
        summary: "Server-sent events: each new alert as `event: alert` with its seq as the id; resumes after `Last-Event-ID` or `after`",
        querystring: z.strictObject({ after: Index.optional() }),
        response: { ...authErrors },
      },
    },
    async (req, reply) => {
      const header = req.headers["last-event-id"];
      if (header !== undefined && (typeof header !== "string" || !DECIMAL.test(header))) throw fail.invalid("VALIDATION_FAILED", "last-event-id must be the seq of an alert, a decimal");
      let sent = header !== undefined ? Number(header) : (req.query.after ?? node.alerts.latestSeq);
      const raw = reply.raw;
      // New alerts are held while the backlog is sent, then sent in seq order: none missed, none twice.
      let held: Alert[] | undefined = [];
      const send = (a: AlertView) => {
        if (a.seq <= sent || raw.writableEnded) return;
        raw.write(event(a));
        sent = a.seq;
      };
      const unsubscribe = node.alerts.subscribe((a) => (held ? held.push(a) : send({ ...a, acknowledged: null })));
      reply.hijack();
      raw.writeHead(200, {
        "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", connection: "keep-alive",
        "x-request-id": req.id, "x-accel-buffering": "no",
      });
      raw.write(": dcl alerts\n\n");
      streams.add(raw);
      const timer = setInterval(() => raw.write(": keep-alive\n\n"), keepAliveMs ?? 15_000);
      const close = () => {
        clearInterval(timer);
        unsubscribe();
        streams.delete(raw);
      };
      req.raw.on("close", close);
      raw.on("close", close);
      try {
        for (let page = await node.alerts.list({ after: sent, limit: 500 }); page.length > 0; page = await node.alerts.list({ after: sent, limit: 500 })) page.forEach(send);
      } finally {
        const backlog = held;
        held = undefined;
        backlog.forEach((a) => send({ ...a, acknowledged: null }));
      }
    },
  );

  app.get(
    "/alerts/:id",
    {
      preHandler: regulator,
      schema: { tags: ["alerts"], summary: "One alert with its evidence and acknowledgement", params: z.strictObject({ id: AlertId }), response: { 200: AlertJson, ...authErrors } },
    },
    async (req) => (await node.alerts.get(req.params.id)) ?? Promise.reject(fail.notFound("alert", req.params.id)),
  );

  app.post(
    "/alerts/:id/acknowledge",
    {
      preHandler: regulator,
      schema: {
        tags: ["alerts"],
        summary: "Acknowledge an alert (the first acknowledgement is kept: who, when, an optional note)",
        params: z.strictObject({ id: AlertId }),
        body: z.strictObject({ note: z.string().min(1).max(500).optional() }).optional(),
        response: { 200: AlertJson, ...authErrors },
      },
    },
    async (req) => {
      const p = req.principal!;
      const a = await node.alerts.acknowledge(req.params.id, { department: p.department, signer: p.signer, note: req.body?.note }, ctx.now());
      if (!a) throw fail.notFound("alert", req.params.id);
      return a;
    },
  );
};
