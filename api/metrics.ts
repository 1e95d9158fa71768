/**
 * Prometheus metrics at /metrics (prom-client): request rates and latencies by route, the log's size
 * and group-commit counters, anchoring lag, the relay outbox's depth and oldest age, indexer lag, the peer monitor's verdict per peer, worker
 * threads replaced after a hang, and the process's default metrics.
 */
import fp from "fastify-plugin";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { FastifyInstance } from "fastify";
import type { LedgerNode } from "../node/ledger-node";
import type { PeerStatus } from "../node/peers/peer-monitor";
import type { SignatureChecks } from "./auth/signature-checks";

/** `p`, or `fallback` when it rejects or takes longer than `ms`. */
function within<T>(ms: number, p: Promise<T>, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => (timer = setTimeout(() => resolve(fallback), ms)));
  return Promise.race([p.catch(() => fallback), late]).finally(() => clearTimeout(timer));
}

/** Registers the metrics hooks and the /metrics route. */
export const metricsPlugin = fp(
  async (app: FastifyInstance, { node, signatures }: { node: LedgerNode; signatures: SignatureChecks }) => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const duration = new Histogram({
      name: "dcl_http_request_duration_seconds",
      help: "HTTP request latency by route, method and status",
      labelNames: ["method", "route", "status"],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    });
    const requests = new Counter({ name: "dcl_http_requests_total", help: "HTTP requests by route, method and status", labelNames: ["method", "route", "status"], registers: [registry] });
    const gauge = (name: string, help: string, value: () => number | Promise<number>) =>
      new Gauge({ name, help, registers: [registry], async collect() { this.set(await value()); } });
    gauge("dcl_log_size", "entries in the access log", () => node.log.size());
    gauge("dcl_log_anchored_size", "tree size of the latest checkpoint anchored on chain", () => node.anchorer.anchored);
    gauge("dcl_anchor_lag_entries", "entries appended but not yet anchored", () => node.anchorer.lag());
    gauge("dcl_anchor_seconds_since_last", "seconds since the last successful anchor", () => node.anchorer.sinceLastAnchorMs() / 1000);
    gauge("dcl_log_commit_batches_total", "synced batches written by the log (group commit)", () => node.log.stats().batches);
    gauge("dcl_log_appends_total", "entries appended since start", () => node.log.stats().appends);
    gauge("dcl_log_queue_entries", "entries waiting for the log's next synced batch", () => node.log.queued());
    gauge("dcl_chain_tx_queue", "transactions waiting to be sent by this node's key", () => node.client.queued());
    gauge("dcl_relay_outbox_depth", "relays recorded in the outbox and not yet mined or failed (the chain slow or down when it grows)", () => node.client.outbox.depth());
    gauge("dcl_relay_oldest_pending_seconds", "age of the oldest relay not yet mined or failed (0 when none)", () => node.client.outbox.oldestAgeSeconds());
    // Asks the chain for its head: bounded, so that a frozen chain (which answers nothing) cannot hang /metrics.
    gauge("dcl_indexer_lag_blocks", "confirmed blocks not yet indexed (-1 when the chain does not answer within a second)", () => within(1000, node.indexer.lag(), -1));
    gauge("dcl_store_writable", "1 while the store accepts writes, 0 while writes fail (then writes are refused with STORAGE_UNAVAILABLE and a probe retries)", () => (node.storeGuard.health().ok ? 1 : 0));
    gauge("dcl_store_unavailable_total", "times the store became unable to write since start", () => node.storeGuard.health().failures);
    gauge("dcl_audit_projection_lag_entries", "log entries not yet in the audit projection", () => node.log.size() - node.audit.size());
    // Alerts are kept in the store, so the count survives restarts: a counter that never goes back.
    new Counter({
      name: "dcl_alerts_total", help: "risk alerts raised, by rule (GET /v1/alerts)", labelNames: ["rule"], registers: [registry],
      collect() {
        this.reset();
        for (const [rule, n] of Object.entries(node.alerts.totals())) this.inc({ rule }, n);
      },
    });
    gauge("dcl_alerts_derived_entries", "log entries the alert rules have read", () => node.alerts.position);
    // A worker that does not answer a batch in 10 s is terminated and replaced (at most 10 times; its jobs then done on the main thread).
    new Counter({
      name: "dcl_worker_restarts_total", help: "worker threads taken for hung and replaced since start, by worker (signature checks, receipt signer)", labelNames: ["worker"], registers: [registry],
      collect() {
        this.reset();
        this.inc({ worker: "signature-checks" }, signatures.counts.restarts);
        this.inc({ worker: "receipt-signer" }, node.receiptSigner.counts.restarts);
      },
    });
    // One series per configured peer (DCL_PEERS), labelled by its URL; none when the node watches no peer.
    const perPeer = (name: string, help: string, value: (p: PeerStatus) => number) =>
      new Gauge({
        name, help, labelNames: ["peer"], registers: [registry],
        async collect() {
          this.reset();
          for (const p of (await node.peerMonitor?.status()) ?? []) this.set({ peer: p.url }, value(p));
        },
      });
    perPeer("dcl_peer_ok", "1 when the peer's last checkpoint was consistent with everything accepted and anchored before, 0 when it was not checked, failed or forked", (p) => (p.ok ? 1 : 0));
    perPeer("dcl_peer_fork_alerts_total", "fork alerts raised against the peer's log (two signed checkpoints that no append-only log can both have produced)", (p) => p.alerts.length);
    perPeer("dcl_peer_checked_size", "tree size of the peer's checkpoint last accepted", (p) => p.accepted?.size ?? 0);

    app.addHook("onResponse", async (req, reply) => {
      const labels = { method: req.method, route: req.routeOptions.url ?? "unmatched", status: String(reply.statusCode) };
      duration.observe(labels, reply.elapsedTime / 1000);
      requests.inc(labels);
    });
    app.get("/metrics", { schema: { hide: true } }, async (_req, reply) => {
      reply.header("content-type", registry.contentType);
      return registry.metrics();
    });
  },
  { name: "dcl-metrics" },
);
