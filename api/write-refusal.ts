/**
 * Writes refused while the node cannot keep them: its store cannot write (STORAGE_UNAVAILABLE, until
 * a probe write succeeds) or its log diverged from what it anchored (LOG_DIVERGED, until the store is
 * restored). Reads go on either way; so do the POST routes that only read.
 */
import { DclError } from "../node/errors";
import type { LedgerNode } from "../node/ledger-node";
import { StorageUnavailableError } from "../node/store/store-guard";

/** POST routes that change nothing (in the store or on chain): served while writes are refused. */
const READ_ONLY = new Set(["/v1/consents/check", "/v1/receipts/check", "/v1/evidence", "/v1/transfers/:id/disputes/typed-data"]);

/** Writes that touch no log, kept while the log has diverged: the regulator acknowledges the log_diverged alert itself. */
const BESIDE_THE_LOG = new Set(["/v1/alerts/:id/acknowledge"]);

/** The refusal of a request to route `route` now, or undefined when it may go on. */
export function writeRefusal(node: LedgerNode, method: string, route: string | undefined): DclError | undefined {
  if (method === "GET" || method === "HEAD" || method === "OPTIONS" || route === undefined || READ_ONLY.has(route)) return undefined;
  return (BESIDE_THE_LOG.has(route) ? undefined : node.integrity?.refusal()) ?? node.storeGuard?.refusal();
}

/** The STORAGE_UNAVAILABLE answer for `err` if the store caused it (anywhere in its causes), else undefined. */
export function storageFailure(err: unknown, node: LedgerNode): DclError | undefined {
  let e = err as { code?: string; cause?: unknown } | undefined;
  for (let depth = 0; e && depth < 5; depth++, e = e.cause as typeof e) {
    if (e instanceof StorageUnavailableError) return node.storeGuard?.refusal() ?? e;
    if (e.code === "LEVEL_DATABASE_NOT_OPEN" && node.storeGuard?.refusal()) return node.storeGuard.refusal();
  }
  return undefined;
}
