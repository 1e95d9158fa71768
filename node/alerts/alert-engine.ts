/**
 * Derives risk alerts from the log and the chain and keeps them: the log rules (log-rules.ts) as a
 * fold over the entries from a saved position; anchoring lag from the anchors on chain (and, live,
 * from the oldest entry still waiting for one); fork alerts of the peer monitor. Alerts, the fold's
 * state and its position are written in one LevelDB batch, and an alert is written only if its id
 * (from its cause) is new, so after a crash the node derives again from the saved position and
 * raises the same alerts, none twice. Listeners (the SSE stream, the webhook) hear each new alert
 * after it is on disk.
 *
 * Store (sublevel "alerts"): a!<seq, 12 hex> → alert; i!<id> → seq; k!<id> → acknowledgement;
 * m!pos → { index, anchors, anchoredSize, forks } (what was derived so far); m!state → the log rules' state;
 * m!seq → the last seq; m!counts → alerts per rule.
 */
import type { AbstractSublevel } from "abstract-level";
import type { Logger } from "pino";
import type { Indexer } from "../indexer/indexer";
import { decodeEntry } from "../log/entry";
import type { MerkleLog } from "../log/merkle-log";
import type { RecentEntries } from "../log/recent-entries";
import type { ForkAlert } from "../peers/peer-monitor";
import { alertId, ALERT_RULES, DEFAULT_ALERT_CONFIG, type Alert, type AlertConfig, type AlertDraft, type AlertRule, type AlertView } from "./alert";
import { applyLogRules, emptyLogRulesState, type LogRulesState } from "./log-rules";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Sub = AbstractSublevel<any, any, string, any>;

/** What the engine reads. */
export interface AlertEngineOptions {
  db: { sublevel: (name: string, options: object) => unknown };
  log: MerkleLog;
  /** The entries logged last, read instead of the log when they are all there. */
  recent?: RecentEntries;
  /** `checkpoints(logId, from)` gives the anchors from index `from` on: each is read once. */
  indexer: Pick<Indexer, "agreement" | "checkpoints">;
  logId: string;
  config?: Partial<AlertConfig>;
  /** The peer monitor, if the node watches peers (read at each tick: it may be made later). */
  peers?: () => { alerts(): Promise<ForkAlert[]> } | undefined;
  /** This node's own log, if it diverged from what it anchored (node/integrity/log-integrity.ts): raises one log_diverged alert. */
  divergence?: () => { detectedAt: number; trigger: { code: string; message: string }; report: { size: number; chain: unknown; problems: { code: string; message: string }[] } } | undefined;
  /** Unix seconds (for the live anchoring-lag check). */
  now?: () => number;
  logger?: Logger;
  /** Entries read per batch (default 2000). */
  chunk?: number;
}

/** Filters of `list`. */
export interface AlertFilter {
  rule?: AlertRule;
  department?: string;
  agreementId?: string;
  status?: "open" | "acknowledged";
  /** Only alerts with a seq above this. */
  after?: number;
  limit?: number;
}

interface Position {
  /** Log entries folded so far. */
  index: number;
  /** Anchored checkpoints of this log checked for lag so far, and the tree size of the last of them. */
  anchors: number;
  anchoredSize: number;
  /** Peer fork alerts taken so far. */
  forks: number;
}

const pad = (n: number) => n.toString(16).padStart(12, "0");

/** Risk alerts: derivation, storage, listing, acknowledgement, listeners. */
export class AlertEngine {
  readonly config: AlertConfig;
  private readonly store: Sub;
  private pos: Position = { index: 0, anchors: 0, anchoredSize: 0, forks: 0 };
  private state: LogRulesState = emptyLogRulesState();
  private seq = 0;
  private counts: Record<string, number> = {};
  private readonly quotas = new Map<string, bigint>();
  private readonly listeners = new Set<(a: Alert) => void>();
  private running?: Promise<number>;
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly o: AlertEngineOptions) {
    this.config = { ...DEFAULT_ALERT_CONFIG, ...o.config };
    this.store = o.db.sublevel("alerts", { valueEncoding: "json" }) as Sub;
  }

  /** Loads what was derived so far. */
  async open(): Promise<void> {
    this.pos = ((await this.store.get("m!pos")) as Position | undefined) ?? { index: 0, anchors: 0, anchoredSize: 0, forks: 0 };
    this.state = ((await this.store.get("m!state")) as LogRulesState | undefined) ?? emptyLogRulesState();
    this.seq = ((await this.store.get("m!seq")) as number | undefined) ?? 0;
    this.counts = ((await this.store.get("m!counts")) as Record<string, number> | undefined) ?? {};
  }

  /** Derives on a timer every `pollMs` until `stop()`. */
  start(pollMs = 250): void {
    this.stopped = false;
    const loop = async () => {
      await this.tick().catch((err: Error) => this.o.logger?.warn({ err: { message: err.message } }, "deriving alerts failed, will retry"));
      if (!this.stopped) this.timer = setTimeout(loop, pollMs);
    };
    this.timer = setTimeout(loop, 0);
  }

  /** Stops the timer and waits for a running derivation. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** Derives everything new (log entries, anchors, peer forks); resolves with the number of alerts raised. Concurrent calls share one run. */
  tick(): Promise<number> {
    this.running ??= this.derive().finally(() => (this.running = undefined));
    return this.running;
  }

  /** Seq of the latest alert (0 before any). */
  get latestSeq(): number {
    return this.seq;
  }

  /** Log entries folded so far. */
  get position(): number {
    return this.pos.index;
  }

  /** Alerts raised so far, per rule (every rule listed). */
  totals(): Record<AlertRule, number> {
    return Object.fromEntries(ALERT_RULES.map((r) => [r, this.counts[r] ?? 0])) as Record<AlertRule, number>;
  }

  /** Calls `listener` with each new alert once it is stored; returns the unsubscribe. */
  subscribe(listener: (a: Alert) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Alerts matching `f`, by seq ascending. */
  async list(f: AlertFilter = {}): Promise<AlertView[]> {
    const out: AlertView[] = [];
    const limit = f.limit ?? 100;
    for await (const value of this.store.values({ gt: `a!${pad(f.after ?? 0)}`, lt: "a!~" })) {
      const a = value as Alert;
      if (f.rule && a.rule !== f.rule) continue;
      if (f.department && a.department !== f.department) continue;
      if (f.agreementId && a.agreementId !== f.agreementId) continue;
      const view = await this.view(a);
      if (f.status && (f.status === "acknowledged") !== (view.acknowledged !== null)) continue;
      out.push(view);
      if (out.length >= limit) break;
    }
    return out;
  }

  /** Alert `id` with its acknowledgement, or undefined. */
  async get(id: string): Promise<AlertView | undefined> {
    const seq = (await this.store.get(`i!${id}`)) as number | undefined;
    if (seq === undefined) return undefined;
    return this.view((await this.store.get(`a!${pad(seq)}`)) as Alert);
  }

  /** Records that `by` acknowledged alert `id` (the first acknowledgement stays); undefined when there is no such alert. */
  async acknowledge(id: string, by: { department: string; signer: string; note?: string }, at: number): Promise<AlertView | undefined> {
    const alert = await this.get(id);
    if (!alert) return undefined;
    if (alert.acknowledged) return alert;
    const ack = { at, department: by.department, signer: by.signer, ...(by.note ? { note: by.note } : {}) };
    await this.store.put(`k!${id}`, ack);
    return { ...alert, acknowledged: ack };
  }

  private async view(a: Alert): Promise<AlertView> {
    const ack = (await this.store.get(`k!${a.id}`)) as AlertView["acknowledged"] | undefined;
    return { ...a, acknowledged: ack ?? null };
  }

  private async derive(): Promise<number> {
    let raised = 0;
    const chunk = this.o.chunk ?? 2000;
    while (this.pos.index < this.o.log.size()) raised += await this.foldLog(Math.min(this.o.log.size(), this.pos.index + chunk));
    raised += await this.anchoring();
    raised += await this.forks();
    raised += await this.diverged();
    return raised;
  }

  /** log_diverged: this node's store disagrees with its anchors or signed checkpoint (one alert: its id comes from the log and the first finding). */
  private async diverged(): Promise<number> {
    const d = this.o.divergence?.();
    if (!d) return 0;
    const first = d.report.problems[0];
    return this.commit([{
      key: `log_diverged:${this.o.logId}:${first?.code ?? d.trigger.code}`, rule: "log_diverged", severity: "critical", raisedAt: d.detectedAt,
      message: `this node's log ${this.o.logId} diverged from what it anchored or signed (${d.report.problems.map((p) => p.code).join(", ")}): writes are refused with LOG_DIVERGED until the store is restored`,
      evidence: { logId: this.o.logId, trigger: d.trigger, size: d.report.size, chain: d.report.chain, problems: d.report.problems },
    }], this.pos, this.state);
  }

  /** Folds entries [pos.index, end) and stores what they raise, with the new state and position, in one batch. */
  private async foldLog(end: number): Promise<number> {
    let entries = this.o.recent?.range(this.pos.index, end);
    if (!entries) {
      entries = [];
      for await (const bytes of this.o.log.range(this.pos.index, end)) entries.push(decodeEntry(bytes));
    }
    for (const id of new Set(entries.map((e) => e.agreementId))) await this.quotaOf(id);
    const state = structuredClone(this.state);
    const drafts: AlertDraft[] = [];
    entries.forEach((e, i) => drafts.push(...applyLogRules(state, this.config, this.pos.index + i, e, this.quotas.get(e.agreementId))));
    return this.commit(drafts, { ...this.pos, index: end }, state);
  }

  /** anchor_lag: an entry waited more than twice the anchor interval for the anchor that covers it (or is still waiting). */
  private async anchoring(): Promise<number> {
    const limit = Math.ceil((2 * this.config.anchorIntervalMs) / 1000);
    const fresh = await this.o.indexer.checkpoints(this.o.logId, this.pos.anchors);
    const drafts: AlertDraft[] = [];
    const lag = async (first: number, anchoredAt: number | null, anchorIndex: number | null) => {
      if (first >= this.o.log.size()) return;
      const t = (await this.o.log.getEntry(first)).time;
      const waited = (anchoredAt ?? this.now()) - t;
      if (waited <= limit) return;
      drafts.push({
        key: `anchor_lag:${first}`, rule: "anchor_lag", severity: "critical", raisedAt: t + limit + 1,
        message: anchoredAt === null
          ? `entry ${first} (logged at ${t}) has waited more than ${limit} s for an anchor (twice the interval of ${this.config.anchorIntervalMs} ms)`
          : `entry ${first} (logged at ${t}) waited ${waited} s for its anchor, more than twice the interval (${limit} s)`,
        evidence: { index: first, entryTime: t, limitSeconds: limit, anchoredAt, anchor: anchorIndex },
      });
    };
    let anchoredSize = this.pos.anchoredSize;
    for (const cp of fresh) {
      await lag(anchoredSize, cp.timestamp, cp.index); // the oldest entry this anchor covered
      anchoredSize = cp.treeSize;
    }
    await lag(anchoredSize, null, null); // the oldest entry still waiting, live
    return this.commit(drafts, { ...this.pos, anchors: this.pos.anchors + fresh.length, anchoredSize }, this.state);
  }

  /** peer_fork: each fork alert of the peer monitor. */
  private async forks(): Promise<number> {
    const monitor = this.o.peers?.();
    if (!monitor) return 0;
    const all = await monitor.alerts();
    if (all.length <= this.pos.forks) return 0;
    const drafts: AlertDraft[] = all.slice(this.pos.forks).map((f) => ({
      key: `peer_fork:${f.logId}:${f.presented.size}:${f.presented.root}`, rule: "peer_fork", severity: "critical", raisedAt: f.detectedAt,
      message: `peer ${f.peer} (${f.url}) presented a checkpoint of log ${f.logId} inconsistent with the one ${f.against === "anchored" ? "anchored on chain" : "accepted earlier"}: ${f.error.code}`,
      evidence: { peer: f.peer, url: f.url, logId: f.logId, against: f.against, trusted: f.trusted, presented: { size: f.presented.size, root: f.presented.root }, error: f.error },
    }));
    return this.commit(drafts, { ...this.pos, forks: all.length }, this.state);
  }

  /** Stores the drafts whose ids are new, numbered, with the position and state, in one batch; then tells the listeners. */
  private async commit(drafts: AlertDraft[], pos: Position, state: LogRulesState): Promise<number> {
    const fresh: Alert[] = [];
    const seen = new Set<string>();
    let seq = this.seq;
    const counts = { ...this.counts };
    for (const d of drafts) {
      const id = alertId(d.key);
      if (seen.has(id) || (await this.store.get(`i!${id}`)) !== undefined) continue;
      seen.add(id);
      fresh.push({ id, seq: ++seq, ...d });
      counts[d.rule] = (counts[d.rule] ?? 0) + 1;
    }
    const changed = fresh.length > 0 || pos.index !== this.pos.index || pos.anchors !== this.pos.anchors || pos.forks !== this.pos.forks || pos.anchoredSize !== this.pos.anchoredSize;
    if (!changed) return 0;
    const ops = [
      ...fresh.flatMap((a) => [{ type: "put", key: `a!${pad(a.seq)}`, value: a }, { type: "put", key: `i!${a.id}`, value: a.seq }]),
      { type: "put", key: "m!pos", value: pos },
      { type: "put", key: "m!state", value: state },
      { type: "put", key: "m!seq", value: seq },
      { type: "put", key: "m!counts", value: counts },
    ];
    await this.store.batch(ops as never);
    this.pos = pos;
    this.state = state;
    this.seq = seq;
    this.counts = counts;
    for (const a of fresh) {
      this.o.logger?.info({ alert: a.id, rule: a.rule, department: a.department, key: a.key }, "alert raised");
      for (const l of this.listeners) l(a);
    }
    return fresh.length;
  }

  private async quotaOf(id: string): Promise<void> {
    if (this.quotas.has(id)) return;
    const a = await this.o.indexer.agreement(id);
    if (a) this.quotas.set(id, BigInt(a.quota)); // quotas never change; an unknown agreement is asked again next time
  }

  private now(): number {
    return this.o.now?.() ?? Math.floor(Date.now() / 1000);
  }
}
