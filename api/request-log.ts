/**
 * The API's own line per request: Fastify's LogController, with its two info lines per request
 * ("incoming request", "request completed") replaced by one when the request is answered, at a level
 * by what happened. A gateway reports tens of millions of calls a day, each already an entry of the
 * log itself: a successful access call or read is logged at debug, other successful writes and every
 * refusal (4xx) at info, a 5xx at error. Fastify's default wrote two lines of about 200 bytes per
 * call, and pino with its redaction was ~4 % of a single call's CPU besides the writes
 * (npm run bench -- --profile, docs/bench.md).
 */
import { LogController, type FastifyReply, type FastifyRequest } from "fastify";
import { levels } from "pino";

type Level = "debug" | "info" | "error";

/** The level of a request's line: by its status, and for a success by whether it is a read or an access call. */
export function requestLogLevel(method: string, route: string | undefined, status: number): Level {
  if (status >= 500) return "error";
  if (status >= 400) return "info";
  return method === "GET" || method === "HEAD" || route === "/v1/access" ? "debug" : "info";
}

export class RequestLog extends LogController {
  override incomingRequest(): void {
    // Nothing when a request arrives: its line is written once it is answered.
  }

  override requestCompleted(error: Error | null, req: FastifyRequest, reply: FastifyReply): void {
    const status = reply.statusCode;
    const route = req.routeOptions.url;
    const level = error ? "error" : requestLogLevel(req.method, route, status);
    if (levels.values[level] < (levels.values[req.log.level] ?? 0)) return;
    const line = { method: req.method, route: route ?? null, url: req.url, status, ms: Math.round(reply.elapsedTime * 10) / 10, department: req.principal?.department };
    if (error) req.log.error({ ...line, err: error }, "request errored");
    else req.log[level](line, "request answered");
  }
}
