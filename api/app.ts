/**
 * The API as a Fastify plugin tree: `buildApp` assembles everything (so tests can `inject` without a
 * port); server.ts only listens. Order: error handling and parsing, then OpenAPI, rate limits and
 * metrics, then the routes, one plugin per resource.
 */
import Fastify, { type FastifyError, type FastifyReply, type FastifyRequest } from "fastify";
import rateLimit from "@fastify/rate-limit";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import { lazyRequestLogger, RequestLog } from "./request-log";
import { hasZodFastifySchemaValidationErrors, jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from "fastify-type-provider-zod";
import type { Logger } from "pino";
import { randomUUID } from "node:crypto";
import { DclError } from "../node/errors";
import { RelayPendingError } from "../node/chain/client";
import { relayView } from "../node/chain/outbox";
import type { LedgerNode } from "../node/ledger-node";
import { AUTH_HEADERS } from "./auth/request-signature";
import { DepartmentLimiter } from "./auth/department-limiter";
import { NonceStore } from "./auth/nonce-store";
import { SessionKeys } from "./auth/session-keys";
import { signatureChecks } from "./auth/signature-checks";
import type { AuthContext } from "./auth/authenticate";
import { Errors } from "./errors";
import { storageFailure, writeRefusal } from "./write-refusal";
import { codedIssue } from "./schemas";
import { metricsPlugin } from "./metrics";
import { accessRoutes } from "./routes/access";
import { activityRoutes } from "./routes/activity";
import { agreementRoutes } from "./routes/agreements";
import { alertRoutes } from "./routes/alerts";
import { assessmentRoutes } from "./routes/assessments";
import { auditRoutes } from "./routes/audit";
import { catalogRoutes } from "./routes/catalog";
import { consentRoutes } from "./routes/consents";
import { healthRoutes } from "./routes/health";
import { logRoutes } from "./routes/log";
import { operatorRoutes } from "./routes/operator";
import { peerRoutes } from "./routes/peers";
import { receiptRoutes } from "./routes/receipts";
import { registryRoutes } from "./routes/registry";
import { acceptedBody, relayRoutes } from "./routes/relays";
import { sessionRoutes } from "./routes/sessions";
import { transferRoutes } from "./routes/transfers";
import { uiRoutes } from "./routes/ui";

/** What the app is built from. */
export interface AppOptions {
  node: LedgerNode;
  logger?: Logger | boolean;
  bodyLimitBytes?: number;
  /** Requests per minute per department (after authentication). */
  rateLimitPerMinute?: number;
  /** Requests per minute per client address (before authentication); default 10 × the department limit. */
  ipRateLimitPerMinute?: number;
  authMaxSkewSeconds?: number;
  /** Most entries a period bundle holds (GET /v1/audit/period-bundle); default the node's (250,000). */
  periodBundleMaxEntries?: number;
  /** Interval of the keep-alive comments of GET /v1/alerts/stream (ms, default 15,000). */
  sseKeepAliveMs?: number;
  /** Seconds beyond the anchor interval before a receipt posted back is overdue (default 30). */
  receiptGraceSeconds?: number;
  now?: () => number;
}

/** Shared by every route plugin. */
export interface RouteContext {
  node: LedgerNode;
  auth: AuthContext;
  now: () => number;
}

const STATUS_OF_KIND = { invalid: 400, not_found: 404, conflict: 409, forbidden: 403, unavailable: 503 } as const;

/** The error body every failure answers with. */
function errorBody(code: string, message: string) {
  return { error: { code, message } };
}

/** Builds the API over `node`. */
export async function buildApp(opts: AppOptions) {
  const now = opts.now ?? (() => Math.floor(Date.now() / 1000));
  const app = Fastify({
    loggerInstance: typeof opts.logger === "object" ? opts.logger : undefined,
    logger: typeof opts.logger === "object" ? undefined : (opts.logger ?? false),
    bodyLimit: opts.bodyLimitBytes ?? 4 * 1024 * 1024,
    // One line per request, when it is answered, at a level by its outcome (request-log.ts).
    logController: new RequestLog(),
    // req.log made only when a request writes a line at an enabled level (request-log.ts).
    childLoggerFactory: lazyRequestLogger,
    genReqId: (req) => {
      const given = req.headers["x-request-id"];
      return typeof given === "string" && /^[\w.-]{1,64}$/.test(given) ? given : randomUUID();
    },
    // Raised by the router before any hook runs, so they are answered here, in the same shape.
    frameworkErrors: (err, req, reply) => {
      const [status, code] = err.code === "FST_ERR_MAX_PARAM_LENGTH" ? [414, "URI_TOO_LONG"] : err.code === "FST_ERR_BAD_URL" ? [400, "BAD_URL"] : [400, "BAD_REQUEST"];
      return (reply as FastifyReply).code(status as number).header("x-request-id", req.id).send(errorBody(code as string, err.message));
    },
    // HTTP that does not parse (a content-length that is not a number, a broken request line or
    // chunk, headers over Node's limit) never becomes a request: answered here, in the same shape.
    clientErrorHandler: (err: NodeJS.ErrnoException, socket) => {
      if (err.code === "ECONNRESET" || socket.destroyed) return;
      if (socket.writable) {
        const body = JSON.stringify(errorBody("BAD_REQUEST", `the HTTP request does not parse (${err.code ?? err.message})`));
        socket.write(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nx-request-id: ${randomUUID()}\r\nConnection: close\r\n\r\n${body}`);
      }
      socket.destroy(err);
    },
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  // JSON only, and the raw bytes kept: a signed request binds the SHA-256 of the body as sent.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (req: FastifyRequest, body: Buffer, done) => {
    req.rawBody = body;
    if (body.length === 0) return done(null, undefined);
    try {
      done(null, JSON.parse(body.toString("utf8")));
    } catch (err) {
      done(new Errors.MALFORMED_JSON((err as Error).message), undefined);
    }
  });
  app.addContentTypeParser("*", (_req, _payload, done) => done(null, undefined));
  app.addHook("preValidation", async (req) => {
    const type = req.headers["content-type"];
    const hasBody = req.headers["content-length"] !== undefined && req.headers["content-length"] !== "0" || req.headers["transfer-encoding"] !== undefined;
    if (hasBody && !(type ?? "").toLowerCase().startsWith("application/json")) throw new Errors.UNSUPPORTED_MEDIA_TYPE(type ?? "(none)");
  });
  app.addHook("onSend", async (req, reply) => {
    reply.header("x-request-id", req.id);
  });
  // A node whose store cannot write, or whose log diverged, refuses writes before doing any work.
  app.addHook("onRequest", async (req) => {
    const refusal = writeRefusal(opts.node, req.method, req.routeOptions.url);
    if (refusal) throw refusal;
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      const where = (v: { instancePath?: string }) => `${err.validationContext ?? ""}${v.instancePath || ""}`;
      // A check with its own documented code (a batch's size, see sizedArray) answers with that code.
      const coded = err.validation.find((v) => codedIssue(v) !== undefined);
      if (coded) return reply.code(400).send(errorBody(codedIssue(coded)!, `${where(coded)}: ${coded.message}`));
      const first = err.validation.slice(0, 3).map((v) => `${where(v)}: ${v.message}`).join("; ");
      return reply.code(400).send(errorBody("VALIDATION_FAILED", `invalid request: ${first}`));
    }
    // A relay not mined within DCL_RELAY_WAIT_MS: recorded and on its way, so the request is accepted, not failed.
    if (err instanceof RelayPendingError) {
      const { location, body } = acceptedBody(relayView(err.relay));
      return reply.code(202).header("location", location).send(body);
    }
    if (err instanceof DclError) {
      if (err.kind === "unavailable") req.log.warn({ code: err.code }, "dependency unavailable");
      return reply.code(STATUS_OF_KIND[err.kind]).send(errorBody(err.code, err.message));
    }
    // A write the store refused, as the layer that tried it reports it (the log's LOG_WRITE_FAILED), or a read while the store reopens.
    const storage = storageFailure(err, opts.node);
    if (storage) {
      req.log.warn({ code: storage.code }, "dependency unavailable");
      return reply.code(503).send(errorBody(storage.code, storage.message));
    }
    const code = err.code;
    if (code === "FST_ERR_CTP_BODY_TOO_LARGE") return reply.code(413).send(errorBody("BODY_TOO_LARGE", `body larger than ${opts.bodyLimitBytes ?? 4194304} bytes`));
    if (code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") return reply.code(415).send(errorBody("UNSUPPORTED_MEDIA_TYPE", err.message));
    if (code === "FST_ERR_CTP_EMPTY_JSON_BODY" || code === "FST_ERR_CTP_INVALID_CONTENT_LENGTH") return reply.code(400).send(errorBody("MALFORMED_JSON", err.message));
    if (code?.startsWith("FST_ERR_") && err.statusCode && err.statusCode < 500) return reply.code(err.statusCode).send(errorBody("BAD_REQUEST", err.message));
    if ((err as { code?: string }).code === "LOG_INDEX_OUT_OF_RANGE" || (err as { code?: string }).code === "LOG_SIZE_OUT_OF_RANGE") {
      return reply.code(404).send(errorBody("NOT_FOUND", err.message));
    }
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return reply.code(err.statusCode).send(errorBody(code ?? "BAD_REQUEST", err.message));
    req.log.error({ err }, "unhandled error");
    return reply.code(500).send(errorBody("INTERNAL", "internal error; the request id is in x-request-id"));
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send(errorBody("ROUTE_NOT_FOUND", `no route ${req.method} ${req.url.split("?")[0]}`)));

  const nonces = new NonceStore(opts.node.db, 2 * (opts.authMaxSkewSeconds ?? 300));
  await nonces.open(now());
  const pruner = setInterval(() => void nonces.prune(now()).catch(() => undefined), 60_000);
  app.addHook("onClose", async () => clearInterval(pruner));
  const sessions = new SessionKeys(opts.node.db, opts.node.indexer, opts.node.options.chainId, opts.node.options.addresses.registry);
  await sessions.open(now());
  const signatures = signatureChecks();
  const ctx: RouteContext = {
    node: opts.node,
    now,
    auth: {
      indexer: opts.node.indexer,
      chainId: opts.node.options.chainId,
      registry: opts.node.options.addresses.registry,
      nonces,
      maxSkewSeconds: opts.authMaxSkewSeconds ?? 300,
      now,
      limiter: new DepartmentLimiter(opts.rateLimitPerMinute ?? 6000),
      sessions,
      signatures,
    },
  };
  const stopHearingHangs = signatures.onHung((restarted) =>
    app.log.warn({ restarted }, `the signature checks' worker did not answer in time: terminated, its checks made on the main thread${restarted ? ", a new worker started" : " from now on"}`));
  app.addHook("onClose", async () => stopHearingHangs());

  await app.register(swagger, {
    openapi: {
      openapi: "3.0.3",
      info: { title: "dcl — Data Circulation Ledger API", version: "1.0.0", description: "Signed requests: see docs/api.md. Errors: { error: { code, message } }." },
      components: {
        securitySchemes: Object.fromEntries(
          Object.values(AUTH_HEADERS).map((h) => [h, { type: "apiKey" as const, in: "header", name: h }]),
        ),
      },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: "/docs" });
  // Against floods, by client address (departments have their own budget, charged after authentication).
  await app.register(rateLimit, {
    max: opts.ipRateLimitPerMinute ?? 10 * (opts.rateLimitPerMinute ?? 6000),
    timeWindow: 60_000,
    keyGenerator: (req) => `ip:${req.ip}`,
    errorResponseBuilder: (_req, context) =>
      Object.assign(new Error(`rate limit of ${context.max} requests per minute exceeded; retry in ${context.after}`), { statusCode: 429, code: "RATE_LIMITED" }),
  });
  await app.register(metricsPlugin, { node: opts.node, signatures });
  await app.register(healthRoutes, { ctx });
  await app.register(logRoutes, { ctx, prefix: "/v1" });
  await app.register(registryRoutes, { ctx, prefix: "/v1" });
  await app.register(catalogRoutes, { ctx, prefix: "/v1" });
  await app.register(agreementRoutes, { ctx, prefix: "/v1" });
  await app.register(consentRoutes, { ctx, prefix: "/v1" });
  await app.register(transferRoutes, { ctx, prefix: "/v1" });
  await app.register(accessRoutes, { ctx, prefix: "/v1" });
  await app.register(sessionRoutes, { ctx, prefix: "/v1", sessions });
  await app.register(auditRoutes, { ctx, prefix: "/v1" });
  await app.register(assessmentRoutes, { ctx, prefix: "/v1", periodBundleMaxEntries: opts.periodBundleMaxEntries });
  await app.register(alertRoutes, { ctx, prefix: "/v1", keepAliveMs: opts.sseKeepAliveMs });
  await app.register(receiptRoutes, { ctx, prefix: "/v1", graceSeconds: opts.receiptGraceSeconds });
  await app.register(peerRoutes, { ctx, prefix: "/v1" });
  await app.register(activityRoutes, { ctx, prefix: "/v1" });
  await app.register(relayRoutes, { ctx, prefix: "/v1" });
  await app.register(operatorRoutes, { ctx, prefix: "/v1" });
  await app.register(uiRoutes);
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
  return app;
}
