/**
 * Session keys: short-lived Ed25519 keys that a department's on-chain signer certifies (EIP-712
 * `SessionKey`, node/verify/session-key.ts) so that a gateway signs its requests with Ed25519, which
 * OpenSSL (node:crypto) verifies in tens of microseconds, instead of a secp256k1 key whose recovery
 * costs a millisecond. A certificate is checked once, at registration: its signature recovers to a
 * current signer of the department. It is then kept (LevelDB, and in memory with the key parsed) and
 * each request only checks what can change: the window, a revocation by a department signer, and —
 * again only when the indexer has applied a change of some department's keys since the last check —
 * that the department is active and the certifying key was not removed after registration. A removal
 * revokes the session for good (re-adding the key does not revive it).
 */
import type { AbstractSublevel } from "abstract-level";
import type { Indexer } from "../../node/indexer/indexer";
import { fromHex, recoverSessionCertifier, SESSION_MAX_LIFETIME_S, type SessionCertificate } from "../../node/verify";
import { Errors } from "../errors";
import { signatureChecks, type SignatureChecks } from "./signature-checks";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Table = AbstractSublevel<any, any, string, SessionRecord>;

/** A registered session key, as stored and listed. */
export interface SessionRecord extends SessionCertificate {
  /** The department signer whose EIP-712 signature certifies the key (lower case). */
  certifier: string;
  signature: string;
  /** When it was registered (unix seconds) and the last indexed block then: a removal of the certifier after this block revokes it. */
  registeredAt: number;
  registeredAtBlock: number;
  revokedAt?: number;
  /** For `certifier-removed`: the block in which the certifier was removed (revokedAt is when the node saw it). */
  revokedAtBlock?: number;
  /** The signer key that revoked it, or, for `certifier-removed`, the certifier. */
  revokedBy?: string;
  revocation?: "signer" | "certifier-removed";
  /** Why the signer revoked it, as given. */
  reason?: string;
}

/** A session's state at a moment. */
export type SessionStatus = "active" | "not-yet-valid" | "expired" | "revoked";

interface Live {
  record: SessionRecord;
  /** The indexer's key-change count when the department and certifier were last found good. */
  checkedAt: number;
}

/** The status of `r` at unix time `now`. */
export function sessionStatus(r: SessionRecord, now: number): SessionStatus {
  if (r.revokedAt !== undefined) return "revoked";
  if (now < r.notBefore) return "not-yet-valid";
  if (now >= r.notAfter) return "expired";
  return "active";
}

/** The registered session keys of every department. */
export class SessionKeys {
  private readonly table: Table;
  private readonly live = new Map<string, Live>();

  constructor(
    db: { sublevel: (name: string, options: object) => unknown },
    private readonly indexer: Indexer,
    private readonly chainId: bigint,
    private readonly registry: string,
  ) {
    this.table = db.sublevel("sessions", { valueEncoding: "json" }) as Table;
  }

  /** Loads the sessions not yet expired at `now`. */
  async open(now: number): Promise<void> {
    for await (const r of this.table.values()) if (r.notAfter > now) this.remember(r);
  }

  /**
   * Registers certificate `c` signed by `certifier` with `signature`, at unix time `now`. Throws
   * SESSION_WINDOW_INVALID, SESSION_SIGNATURE_INVALID, SESSION_CERTIFIER_NOT_SIGNER or SESSION_EXISTS.
   */
  async register(c: SessionCertificate, certifier: string, signature: string, now: number): Promise<SessionRecord> {
    if (c.notAfter <= c.notBefore) throw new Errors.SESSION_WINDOW_INVALID(c.notBefore, c.notAfter, "is empty: notAfter must be after notBefore");
    if (c.notAfter <= now) throw new Errors.SESSION_WINDOW_INVALID(c.notBefore, c.notAfter, `is over at ${now}`);
    if (c.notAfter - c.notBefore > SESSION_MAX_LIFETIME_S) throw new Errors.SESSION_WINDOW_INVALID(c.notBefore, c.notAfter, `is longer than ${SESSION_MAX_LIFETIME_S} s`);
    const recovered = recoverSessionCertifier(c, this.chainId, this.registry, signature);
    if (!recovered || recovered.toLowerCase() !== certifier.toLowerCase()) throw new Errors.SESSION_SIGNATURE_INVALID(certifier);
    const who = recovered.toLowerCase();
    // Read before the signer check: a removal applied after these is one the later checks see.
    const changes = this.indexer.keyChangeCount();
    const block = (await this.indexer.cursor()).block;
    if (!(await this.indexer.isSigner(c.department, who))) throw new Errors.SESSION_CERTIFIER_NOT_SIGNER(who, c.department);
    const publicKey = c.publicKey.toLowerCase();
    if (this.live.has(publicKey) || (await this.table.get(publicKey)) !== undefined) throw new Errors.SESSION_EXISTS(publicKey);
    const record: SessionRecord = {
      department: c.department.toLowerCase(), publicKey, notBefore: c.notBefore, notAfter: c.notAfter, scope: c.scope,
      certifier: who, signature: signature.toLowerCase(), registeredAt: now, registeredAtBlock: block,
    };
    if (this.live.has(publicKey)) throw new Errors.SESSION_EXISTS(publicKey); // registered concurrently, during the reads above
    const live = this.remember(record); // before the write: a concurrent registration of the same key sees it
    try {
      await this.table.put(publicKey, record);
    } catch (err) {
      this.live.delete(publicKey);
      throw err;
    }
    live.checkedAt = changes;
    return record;
  }

  /** Every session key of `department`, oldest registration first, with its status at `now` (a removed certifier counted). */
  async list(department: string, now: number): Promise<(SessionRecord & { status: SessionStatus })[]> {
    const out: (SessionRecord & { status: SessionStatus })[] = [];
    for await (const stored of this.table.values()) {
      if (stored.department !== department) continue;
      const r = await this.withRemoval(stored, now);
      out.push({ ...r, status: sessionStatus(r, now) });
    }
    return out.sort((a, b) => a.registeredAt - b.registeredAt || a.publicKey.localeCompare(b.publicKey));
  }

  /** Session `publicKey` of `department` (a removed certifier counted), or undefined. */
  async get(department: string, publicKey: string, now: number): Promise<SessionRecord | undefined> {
    const r = await this.table.get(publicKey.toLowerCase());
    return r && r.department === department ? this.withRemoval(r, now) : undefined;
  }

  /** Revokes session `publicKey` of `department` on behalf of signer `by` at `now`; NOT_FOUND, SESSION_ALREADY_REVOKED. */
  async revoke(department: string, publicKey: string, by: string, now: number, reason?: string): Promise<SessionRecord> {
    const r = await this.get(department, publicKey, now);
    if (!r) throw new Errors.NOT_FOUND("session key", publicKey);
    if (r.revokedAt !== undefined) throw new Errors.SESSION_ALREADY_REVOKED(r.publicKey);
    const revoked: SessionRecord = { ...r, revokedAt: now, revokedBy: by.toLowerCase(), revocation: "signer", ...(reason ? { reason } : {}) };
    this.remember(revoked); // refused from this moment, before the write lands
    await this.table.put(r.publicKey, revoked);
    return revoked;
  }

  /**
   * Checks a request of `department` signed with session key `publicKey` over `message` with
   * `signature` (64 bytes), at `now`, for a route in `scope` (undefined: the route takes no session
   * key). Returns the session, or throws the refusal's error.
   */
  async check(
    department: string, publicKey: string, message: Uint8Array, signature: Uint8Array, now: number, scope: string | undefined, routeName: string,
    signatures: SignatureChecks = signatureChecks(),
  ): Promise<SessionRecord> {
    const key = publicKey.toLowerCase();
    let live = this.live.get(key);
    if (!live) {
      const stored = await this.table.get(key);
      if (!stored || stored.department !== department) throw new Errors.SESSION_UNKNOWN(key, department);
      live = this.live.get(key) ?? (stored.notAfter > now ? this.remember(stored) : { record: stored, checkedAt: -1 });
    }
    if (live.record.department !== department) throw new Errors.SESSION_UNKNOWN(key, department);
    // Ed25519 through node:crypto, on the second core (signature-checks.ts), the key object parsed once per key.
    if (!(await signatures.check({ kind: "ed25519", publicKey: key, message, signature }))) throw new Errors.AUTH_BAD_SIGNATURE(key);
    // As it is now: a revocation may have landed while the signature was checked.
    live = this.live.get(key) ?? live;
    const r = live.record;
    if (r.revokedAt !== undefined) throw this.revokedError(r);
    if (now < r.notBefore) throw new Errors.SESSION_NOT_YET_VALID(key, r.notBefore);
    if (now >= r.notAfter) {
      this.live.delete(key);
      throw new Errors.SESSION_EXPIRED(key, r.notAfter);
    }
    if (scope === undefined || r.scope !== scope) {
      throw new Errors.SESSION_SCOPE(`session key ${key} is certified for ${r.scope}; ${routeName} ${scope === undefined ? "takes no session key: sign it with a department key" : `needs ${scope}`}`);
    }
    const changes = this.indexer.keyChangeCount();
    if (live.checkedAt !== changes) {
      const dept = await this.indexer.department(department);
      if (!dept) throw new Errors.AUTH_UNKNOWN_DEPARTMENT(department);
      if (!dept.active) throw new Errors.AUTH_DEPARTMENT_INACTIVE(department);
      const current = await this.withRemoval(r, now);
      if (current.revokedAt !== undefined) throw this.revokedError(current);
      live.checkedAt = changes;
    }
    return r;
  }

  private revokedError(r: SessionRecord): Error {
    return r.revocation === "certifier-removed"
      ? new Errors.SESSION_CERTIFIER_REMOVED(r.publicKey, r.certifier, r.department)
      : new Errors.SESSION_REVOKED(r.publicKey, r.revokedBy ?? "a signer");
  }

  /** `r`, revoked for good (stored so) when its certifier was removed from the department after it was registered. */
  private async withRemoval(r: SessionRecord, now: number): Promise<SessionRecord> {
    if (r.revokedAt !== undefined) return r;
    const removedAt = await this.indexer.removedAfter(r.department, r.certifier, r.registeredAtBlock);
    if (removedAt === undefined) return r;
    const revoked: SessionRecord = { ...r, revokedAt: now, revokedAtBlock: removedAt, revokedBy: r.certifier, revocation: "certifier-removed" };
    this.remember(revoked);
    await this.table.put(r.publicKey, revoked);
    return revoked;
  }

  /** Keeps `record` in memory (replacing what was there). */
  private remember(record: SessionRecord): Live {
    const live: Live = { record, checkedAt: -1 };
    this.live.set(record.publicKey, live);
    return live;
  }
}
