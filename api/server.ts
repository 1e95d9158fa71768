/** Listens: builds the app over a started LedgerNode and serves it on host:port. */
import type { Logger } from "pino";
import type { LedgerNode } from "../node/ledger-node";
import { buildApp } from "./app";
import type { Config } from "./config";

/** Starts the HTTP API; returns it (close() stops listening). */
export async function startServer(node: LedgerNode, config: Config, logger: Logger) {
  const app = await buildApp({
    node,
    logger,
    bodyLimitBytes: config.bodyLimitBytes,
    rateLimitPerMinute: config.rateLimitPerMinute,
    ipRateLimitPerMinute: config.ipRateLimitPerMinute,
    authMaxSkewSeconds: config.authMaxSkewSeconds,
    periodBundleMaxEntries: config.periodBundleMaxEntries,
  });
  await app.listen({ host: config.host, port: config.port });
  return app;
}
