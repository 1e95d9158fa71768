/**
 * Peers check each other: every operating department runs a ledger node with its own log, and each
 * node watches the others' logs through their public API. For each peer the monitor fetches the
 * signed checkpoint, checks that it is signed by a current signer of the department that operates
 * the peer's log (as this node's own indexer knows it from the chain), and that it is consistent
 * with the last checkpoint accepted from that peer and with every checkpoint of that log anchored
 * on chain. The last accepted checkpoint per peer is kept in LevelDB, so a restart keeps the watch.
 *
 * An inconsistency is a fork: two signed statements about the same log that cannot both be true.
 * The monitor records a fork alert (both checkpoints and the failing proof, the evidence a
 * regulator needs) and stops trusting the peer. A peer that cannot be reached, signs with an
 * unknown key or will not serve a proof is not accepted either, but it is only reported, never
 * alerted on: an alert is raised only on cryptographic evidence.
 *
 * Consistency is transitive, so each anchored checkpoint is checked once, against the checkpoint
 * accepted at the time; later checkpoints are consistent with it through their proofs.
 *
 * A peer may be configured by its URL alone (DCL_PEERS): the log it serves is then learned from its
 * first checkpoint that verifies (signed by its log's operator) and pinned in the store, so a peer
 * that later serves another log is refused, not silently followed.
 */
import type { AbstractSublevel } from "abstract-level";
import type { Level } from "level";
import type { Logger } from "pino";
import { codeId } from "../chain/ids";
import { DclError } from "../errors";
import type { Indexer } from "../indexer/indexer";
import type { CheckpointRecord } from "../indexer/records";
import { fromHex, parseCheckpoint, toHex, verifyCheckpointSignature, verifyConsistency, VerificationError } from "../verify";

/**
 * A peer ledger node: a name for people, its API base URL (e.g. "https://dcl.water.example"), and
 * the id of the log it operates — when absent, learned from the peer's first verified checkpoint
 * and pinned from then on.
 */
export interface Peer {
  name: string;
  url: string;
  logId?: string;
}

/** What the monitor reads and where it keeps its state. */
export interface PeerMonitorOptions {
  /** The node's database; the monitor keeps its state in the sublevel "peers". */
  db: Level<string, unknown>;
  /** This node's indexer: who operates a log, who signs for a department, what is anchored. */
  indexer: Pick<Indexer, "logOperator" | "department" | "checkpoints">;
  /** Chain id of the deployment (a peer's checkpoint origin names it). */
  chainId: bigint;
  peers: Peer[];
  /** Timeout of one HTTP request to a peer (ms). */
  timeoutMs?: number;
  logger?: Logger;
}

/** A checkpoint as the monitor holds it: size, hex root, and the signed note when there is one. */
export interface HeldCheckpoint {
  size: number;
  root: string;
  note?: string;
}

/** What a peer's log was found inconsistent with: the checkpoint accepted earlier, or one anchored on chain. */
export type ForkAgainst = "accepted" | "anchored";

/** A proven fork: two checkpoints of one log that no append-only log can both have produced. */
export interface ForkAlert {
  peer: string;
  url: string;
  logId: string;
  against: ForkAgainst;
  /** The checkpoint held as true: the one accepted earlier, or the one anchored on chain (with its transaction). */
  trusted: HeldCheckpoint & { anchor?: { index: number; tx: string; block: number } };
  /** The checkpoint the peer presents now, with its signed note. */
  presented: HeldCheckpoint & { note: string };
  /** The consistency proof the peer served between the two sizes (absent when the sizes are equal). */
  proof?: { from: number; to: number; root1: string; root2: string; hashes: string[] };
  /** The verification failure, e.g. CONSISTENCY_ROOT_MISMATCH. */
  error: { code: string; message: string };
  /** Unix seconds. */
  detectedAt: number;
}

/** The outcome of one check of one peer. */
export interface PeerCheck {
  peer: string;
  url: string;
  /** The peer's log (absent when it was never learned: the peer did not answer a verifiable checkpoint yet). */
  logId?: string;
  /** Unix seconds. */
  checkedAt: number;
  /** accepted: newer checkpoint taken; unchanged/stale: consistent, nothing newer; fork: alert raised; distrusted: not checked since a fork; failed: see error. */
  status: "accepted" | "unchanged" | "stale" | "fork" | "distrusted" | "failed";
  size?: number;
  root?: string;
  error?: { code: string; message: string };
}

/** What the monitor knows of one peer: the last check (since this process started), the checkpoint accepted, the alerts. */
export interface PeerStatus {
  name: string;
  url: string;
  logId?: string;
  /** True when the last check found the peer consistent (accepted, unchanged or stale) and it never forked. */
  ok: boolean;
  /** The last check's outcome, absent before the first one. */
  last?: PeerCheck;
  /** The checkpoint last accepted from the peer (kept across restarts). */
  accepted?: HeldCheckpoint & { note: string; acceptedAt: number };
  /** Every fork alert raised against the peer's log, oldest first. */
  alerts: ForkAlert[];
}

/** Statuses of a check that find the peer's log consistent with everything held. */
const CONSISTENT: ReadonlySet<PeerCheck["status"]> = new Set(["accepted", "unchanged", "stale"]);

/** What is kept per peer log. */
interface PeerState {
  accepted?: HeldCheckpoint & { note: string; acceptedAt: number };
  /** How many of the log's anchored checkpoints (oldest first) were checked already. */
  anchorsChecked: number;
  /** Set by a fork alert: the peer is no longer checked, nor trusted. */
  distrustedAt?: number;
}

interface ConsistencyProofBody {
  from: number;
  to: number;
  root1: string;
  root2: string;
  proof: string[];
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Sub = AbstractSublevel<any, any, string, unknown>;

/** Thrown inside a check when the evidence shows a fork; turned into an alert. */
class ForkFound {
  constructor(readonly alert: Omit<ForkAlert, "peer" | "url" | "logId" | "detectedAt">) {}
}

const ORIGIN_RE = /^dcl\/([0-9]+)\/(.+)$/;
const BYTES32_RE = /^0x[0-9a-fA-F]{64}$/;
const unavailable = (code: string, message: string, cause?: unknown) => new DclError("unavailable", code, message, { cause });
const invalid = (code: string, message: string) => new DclError("invalid", code, message);
const sameHex = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** Watches peer ledger nodes' logs for forks: `checkOnce()` checks every peer, `alerts()` lists what was found. */
export class PeerMonitor {
  private readonly store: Sub;
  private readonly timeoutMs: number;
  private running?: Promise<PeerCheck[]>;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  /** The last check of each peer, by URL. */
  private readonly last = new Map<string, PeerCheck>();

  constructor(readonly options: PeerMonitorOptions) {
    this.store = options.db.sublevel<string, unknown>("peers", { valueEncoding: "json" }) as unknown as Sub;
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  /** Checks every peer once, one after the other. Concurrent calls share one run. */
  checkOnce(): Promise<PeerCheck[]> {
    this.running ??= (async () => {
      const out: PeerCheck[] = [];
      for (const peer of this.options.peers) out.push(await this.checkPeer(peer));
      return out;
    })().finally(() => (this.running = undefined));
    return this.running;
  }

  /** Every fork alert recorded, oldest first. */
  async alerts(): Promise<ForkAlert[]> {
    return (await this.store.values({ gte: "alert!", lt: "alert!~" }).all()) as ForkAlert[];
  }

  /** The checkpoint last accepted from the peer operating `logId`, if any. */
  async accepted(logId: string): Promise<HeldCheckpoint | undefined> {
    const s = await this.state(logId);
    return s.accepted && { size: s.accepted.size, root: s.accepted.root, note: s.accepted.note };
  }

  /** Every configured peer's status: the last check, the checkpoint accepted and the fork alerts (a fork stays until resolved by hand). */
  async status(): Promise<PeerStatus[]> {
    const alerts = await this.alerts();
    return Promise.all(
      this.options.peers.map(async (peer) => {
        const last = this.last.get(peer.url);
        const logId = peer.logId?.toLowerCase() ?? last?.logId ?? (await this.pinned(peer));
        const state = logId ? await this.state(logId) : undefined;
        const mine = logId ? alerts.filter((a) => sameHex(a.logId, logId)) : [];
        const ok = last !== undefined && CONSISTENT.has(last.status) && state?.distrustedAt === undefined;
        return { name: peer.name, url: peer.url, ...(logId && { logId }), ok, ...(last && { last }), ...(state?.accepted && { accepted: state.accepted }), alerts: mine };
      }),
    );
  }

  /** Checks every `intervalMs` until `stop()`; outcomes other than accepted/unchanged are logged. */
  start(intervalMs: number): void {
    this.stopped = false;
    const loop = async () => {
      const results = await this.checkOnce().catch((err: Error) => {
        this.options.logger?.warn({ err: { message: err.message } }, "peer check failed");
        return [];
      });
      // A fork is logged once, with its evidence, when it is found (checkPeer).
      for (const r of results) {
        if (r.status === "failed") this.options.logger?.warn({ peer: r.peer, url: r.url, logId: r.logId, error: r.error }, "peer check failed");
      }
      if (!this.stopped) this.timer = setTimeout(loop, intervalMs);
    };
    this.timer = setTimeout(loop, 0);
  }

  /** Stops the timer and waits for a running check. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  private async state(logId: string): Promise<PeerState> {
    return ((await this.store.get(`state!${logId.toLowerCase()}`)) as PeerState | undefined) ?? { anchorsChecked: 0 };
  }

  /** The log id pinned for a peer configured by URL alone, if it was learned. */
  private async pinned(peer: Peer): Promise<string | undefined> {
    return (await this.store.get(`pin!${peer.url}`)) as string | undefined;
  }

  private async checkPeer(peer: Peer): Promise<PeerCheck> {
    const check = await this.checkPeerOnce(peer);
    this.last.set(peer.url, check);
    return check;
  }

  private async checkPeerOnce(peer: Peer): Promise<PeerCheck> {
    const expected = peer.logId?.toLowerCase() ?? (await this.pinned(peer));
    const base = { peer: peer.name, url: peer.url, ...(expected && { logId: expected }), checkedAt: nowSeconds() };
    if (expected && (await this.state(expected)).distrustedAt !== undefined) {
      return { ...base, status: "distrusted", error: { code: "PEER_DISTRUSTED", message: `${peer.name} forked its log; see alerts()` } };
    }
    let presented: HeldCheckpoint & { note: string; logId: string };
    try {
      presented = await this.fetchCheckpoint(peer, expected);
    } catch (err) {
      return { ...base, status: "failed", error: errorOf(err) };
    }
    const logId = presented.logId;
    if (!expected) await this.store.put(`pin!${peer.url}`, logId); // verified: signed by the operator of the log it names
    const state = await this.state(logId);
    if (state.distrustedAt !== undefined) {
      return { ...base, logId, status: "distrusted", error: { code: "PEER_DISTRUSTED", message: `${peer.name} forked its log; see alerts()` } };
    }
    const held: HeldCheckpoint & { note: string } = { size: presented.size, root: presented.root, note: presented.note };
    const result = { ...base, logId, size: presented.size, root: presented.root };
    try {
      const accepted = state.accepted;
      // The peer's checkpoint and the one accepted before must be one the prefix of the other.
      const before = accepted && { size: accepted.size, root: accepted.root, note: accepted.note };
      if (before) await this.ensureConsistent(peer, before, held, "accepted");
      const head = before && before.size > held.size ? before : held;
      // Every anchored checkpoint not yet checked must agree with the head.
      const anchors = await this.options.indexer.checkpoints(logId);
      for (const anchor of anchors.slice(state.anchorsChecked)) {
        await this.ensureConsistent(peer, anchoredCheckpoint(anchor), head, "anchored", anchor);
      }
      const status: PeerCheck["status"] = !accepted || held.size > accepted.size ? "accepted" : held.size === accepted.size ? "unchanged" : "stale";
      const next: PeerState = {
        accepted: status === "accepted" ? { ...held, acceptedAt: nowSeconds() } : accepted,
        anchorsChecked: anchors.length,
      };
      await this.store.put(`state!${logId}`, next);
      return { ...result, status };
    } catch (err) {
      if (!(err instanceof ForkFound)) return { ...result, status: "failed", error: errorOf(err) };
      const detectedAt = nowSeconds();
      const alert: ForkAlert = { peer: peer.name, url: peer.url, logId, detectedAt, ...err.alert };
      // The alert and the distrust are one atomic write.
      await this.store.batch([
        { type: "put", key: `alert!${String(Date.now()).padStart(16, "0")}!${logId}`, value: alert },
        { type: "put", key: `state!${logId}`, value: { ...state, distrustedAt: detectedAt } satisfies PeerState },
      ]);
      // Both checkpoints (with the peer's signed note) and the proof: what a regulator needs, in the log itself.
      this.options.logger?.error(
        { peer: peer.name, url: peer.url, logId, against: alert.against, trusted: alert.trusted, presented: alert.presented, proof: alert.proof, error: alert.error },
        "fork alert",
      );
      return { ...result, status: "fork", error: alert.error };
    }
  }

  /**
   * Fetches the peer's checkpoint and checks its origin and its signature by a current signer of the
   * log's operator; the log must be `expected` when one is known (configured or pinned).
   */
  private async fetchCheckpoint(peer: Peer, expected: string | undefined): Promise<HeldCheckpoint & { note: string; logId: string }> {
    const body = (await this.get(peer, "/v1/log/checkpoint")) as { logId?: unknown; note?: unknown };
    if (typeof body.note !== "string" || typeof body.logId !== "string" || !BYTES32_RE.test(body.logId)) {
      throw invalid("PEER_RESPONSE_INVALID", `${peer.name} answered /v1/log/checkpoint without a logId and note`);
    }
    const logId = body.logId.toLowerCase();
    if (expected && logId !== expected) {
      throw invalid("PEER_LOG_MISMATCH", `${peer.name} serves log ${body.logId}, expected ${expected}`);
    }
    const parsed = parseCheckpoint(body.note);
    const origin = ORIGIN_RE.exec(parsed.checkpoint.origin);
    if (!origin || BigInt(origin[1]) !== this.options.chainId || !sameHex(codeId(origin[2]), logId)) {
      throw invalid("PEER_LOG_MISMATCH", `${peer.name}'s checkpoint origin ${parsed.checkpoint.origin} is not log ${logId} on chain ${this.options.chainId}`);
    }
    const operator = await this.options.indexer.logOperator(logId);
    if (!operator) throw invalid("PEER_LOG_UNKNOWN", `log ${logId} of ${peer.name} is not registered on chain (or not indexed yet)`);
    const department = await this.options.indexer.department(operator);
    if (!department?.active) throw invalid("PEER_OPERATOR_INACTIVE", `department ${operator} operating log ${logId} is not active`);
    verifyCheckpointSignature(parsed, department.signers);
    return { size: parsed.checkpoint.size, root: toHex(parsed.checkpoint.root), note: body.note, logId };
  }

  /**
   * Checks that `a` and `b` are checkpoints of one append-only log (the smaller a prefix of the
   * larger), with a consistency proof fetched from the peer and verified here against our roots.
   * Throws ForkFound with the evidence when they are not.
   */
  private async ensureConsistent(
    peer: Peer,
    trusted: HeldCheckpoint,
    presented: HeldCheckpoint & { note: string },
    against: ForkAgainst,
    anchor?: CheckpointRecord,
  ): Promise<void> {
    const [small, large] = trusted.size <= presented.size ? [trusted, presented] : [presented, trusted];
    const fork = (error: VerificationError, proof?: ForkAlert["proof"]) =>
      new ForkFound({
        against,
        trusted: { ...trusted, ...(anchor && { anchor: { index: anchor.index, tx: anchor.tx, block: anchor.block } }) },
        presented,
        proof,
        error: { code: error.code, message: error.message },
      });
    if (small.size === 0) return; // every log extends the empty one
    if (small.size === large.size) {
      try {
        verifyConsistency(small.size, large.size, fromHex(small.root), fromHex(large.root), []);
      } catch (err) {
        if (err instanceof VerificationError) throw fork(err);
        throw err;
      }
      return;
    }
    const body = (await this.get(peer, `/v1/log/proofs/consistency?from=${small.size}&to=${large.size}`)) as Partial<ConsistencyProofBody>;
    if (body.from !== small.size || body.to !== large.size || !Array.isArray(body.proof) || typeof body.root1 !== "string" || typeof body.root2 !== "string") {
      throw invalid("PEER_RESPONSE_INVALID", `${peer.name} answered a consistency proof ${small.size} → ${large.size} with ${JSON.stringify(body).slice(0, 200)}`);
    }
    const proof = { from: small.size, to: large.size, root1: body.root1, root2: body.root2, hashes: body.proof.map(String) };
    try {
      verifyConsistency(small.size, large.size, fromHex(small.root), fromHex(large.root), proof.hashes.map(fromHex));
    } catch (err) {
      if (err instanceof VerificationError) throw fork(err, proof);
      throw err;
    }
  }

  /** GETs `path` from the peer as JSON; network failures and non-2xx answers are PEER_UNREACHABLE. */
  private async get(peer: Peer, path: string): Promise<unknown> {
    const url = peer.url.replace(/\/+$/, "") + path;
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(this.timeoutMs), headers: { accept: "application/json" } });
    } catch (err) {
      throw unavailable("PEER_UNREACHABLE", `GET ${url} failed: ${(err as Error).message}`, err);
    }
    if (!res.ok) {
      const text = await res.text().catch(() => "");
      throw unavailable("PEER_UNREACHABLE", `GET ${url} answered ${res.status}: ${text.slice(0, 200)}`);
    }
    try {
      return await res.json();
    } catch {
      throw invalid("PEER_RESPONSE_INVALID", `GET ${url} did not answer JSON`);
    }
  }
}

/** An anchored checkpoint as a held one. */
function anchoredCheckpoint(a: CheckpointRecord): HeldCheckpoint {
  return { size: a.treeSize, root: a.root };
}

function errorOf(err: unknown): { code: string; message: string } {
  const code = (err as { code?: unknown }).code;
  return { code: typeof code === "string" ? code : "PEER_CHECK_FAILED", message: (err as Error).message ?? String(err) };
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
