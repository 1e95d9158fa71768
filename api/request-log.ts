/**
 * The API's own line per request: Fastify's LogController, with its two info lines per request
 * ("incoming request", "request completed") replaced by one when the request is answered, at a level
 * by what happened. A gateway reports tens of millions of calls a day, each already an entry of the
 * log itself: a successful access call or read is logged at debug, other successful writes and every
 * refusal (4xx) at info, a 5xx at error. Fastify's default wrote two lines of about 200 bytes per
 * call, and pino with its redaction was ~4 % of a single call's CPU besides the writes
 * (npm run bench -- --profile, docs/bench.md).
 */
import { LogController, type FastifyBaseLogger, type FastifyReply, type FastifyRequest } from "fastify";
import type { Bindings, ChildLoggerOptions } from "pino";
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

type LineLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace";

/**
 * A request's logger (req.log), whose pino child — bound to the request id — is made only when the
 * request writes a line at an enabled level. Fastify made one per request, and most requests write
 * none (an access call's one line is at debug, off by default): pino's child() was ~1 % of a
 * session-key single call's main thread (perf record, the bench's single-call load).
 */
export class LazyRequestLogger {
  private made: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  get level(): string {
    return this.made?.level ?? this.options.level ?? this.parent.level;
  }

  set level(level: string) {
    this.child().level = level;
  }

  fatal(...args: unknown[]): void {
    this.write("fatal", args);
  }
  error(...args: unknown[]): void {
    this.write("error", args);
  }
  warn(...args: unknown[]): void {
    this.write("warn", args);
  }
  info(...args: unknown[]): void {
    this.write("info", args);
  }
  debug(...args: unknown[]): void {
    this.write("debug", args);
  }
  trace(...args: unknown[]): void {
    this.write("trace", args);
  }
  silent(): void {}

  /** The request's pino child (made now if not yet), or with `bindings` a child of it. */
  child(bindings?: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    this.made ??= this.parent.child(this.bindings, this.options);
    return bindings === undefined ? this.made : this.made.child(bindings, options);
  }

  private write(level: LineLevel, args: unknown[]): void {
    if ((levels.values[level] ?? 0) < (levels.values[this.level] ?? Infinity)) return;
    (this.child() as unknown as Record<LineLevel, (...a: unknown[]) => void>)[level](...args);
  }
}

/** Fastify's childLoggerFactory: a LazyRequestLogger per request. */
export function lazyRequestLogger(logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  return new LazyRequestLogger(logger, bindings, options) as unknown as FastifyBaseLogger;
}
