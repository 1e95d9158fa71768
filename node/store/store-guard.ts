/**
 * The store's write boundary: every write to the node's LevelDB (every sublevel's, since they all
 * write through the root) passes here, so a store that cannot write is known at once and nothing
 * is acknowledged that is not durable.
 *
 * When a write fails (ENOSPC, EIO, a read-only filesystem, or a fault injected on command) the
 * store is *unavailable*: that write and every later one are refused with STORAGE_UNAVAILABLE
 * without reaching LevelDB, until a probe write succeeds (one every `probeMs`). The refusal matters
 * with a real disk error: after LevelDB fails to append to its write-ahead log, the log's framing
 * is broken and records it accepts afterwards are dropped when the log is next read — measured on a
 * full tmpfs: 200 synced writes acknowledged after space was freed, all gone on reopen. So after a
 * real failure the probe first closes and reopens the database (LevelDB recovers the log up to the
 * failed record and starts a fresh one), reopens every sublevel that was open, and only then
 * writes. Writes acknowledged before the failure are untouched. A write that LevelDB reports
 * done while another write's real failure is already known is refused too: its fate on disk is
 * unknown until the reopen.
 */
import { open, unlink } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import { DclError } from "../errors";
import { InjectedStoreFault, StoreFaults } from "./fault-injection";

/** A write refused because the store cannot write: retry once `/readyz` says the store is writable. */
export class StorageUnavailableError extends DclError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("unavailable", "STORAGE_UNAVAILABLE", message, options);
    this.name = "StorageUnavailableError";
  }
}

/** Whether the store can write now, and if not since when and why. */
export interface StorageHealth {
  ok: boolean;
  detail: string;
  /** When writes started failing (unix ms), while they do. */
  since?: number;
  /** Times the store became unavailable, and writable again, since start. */
  failures: number;
  recoveries: number;
}

/** Tuning of a StoreGuard. */
export interface StoreGuardOptions {
  faults?: StoreFaults;
  /** How often an unavailable store is probed with a write (default 1,000 ms). */
  probeMs?: number;
  logger?: Logger;
}

// The level instance's internals this wraps (abstract-level's private write hooks, classic-level's chained batch).
/* eslint-disable @typescript-eslint/no-explicit-any */
type Internal = Record<string, any>;

/** The key the probe writes (in a sublevel of its own, `health`). */
const PROBE_KEY = "!health!probe";

/** Guards the writes of one root level database; `install()` once, right after it is made. */
export class StoreGuard {
  readonly faults: StoreFaults;
  private down?: { since: number; error: string; reopen: boolean; cause?: unknown };
  private failures = 0;
  private recoveries = 0;
  private timer?: NodeJS.Timeout;
  private probing?: Promise<boolean>;
  private closed = false;
  private original?: { put: any; batch: any };
  /** Every sublevel made from the database, in the order made (a parent before its children). */
  private sublevels: WeakRef<Internal>[] = [];
  /** The sublevels to open again after the database is reopened (kept across failed attempts). */
  private toReopen?: Internal[];
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly db: unknown,
    private readonly o: StoreGuardOptions = {},
  ) {
    this.faults = o.faults ?? new StoreFaults();
  }

  /** Wraps the database's write path (put, del, batch, chained batch, clear) and tracks its sublevels. */
  install(): this {
    const db = this.db as Internal;
    const put = db._put, del = db._del, batch = db._batch, clear = db._clear, chained = db._chainedBatch;
    this.original = { put, batch };
    db._put = (...args: unknown[]) => this.guard(() => put.apply(db, args));
    db._del = (...args: unknown[]) => this.guard(() => del.apply(db, args));
    db._batch = (...args: unknown[]) => this.guard(() => batch.apply(db, args));
    db._clear = (...args: unknown[]) => this.guard(() => clear.apply(db, args));
    db._chainedBatch = (...args: unknown[]) => {
      const b = chained.apply(db, args) as Internal;
      const write = b._write;
      b._write = (...wargs: unknown[]) => this.guard(() => write.apply(b, wargs));
      return b;
    };
    this.track(db);
    return this;
  }

  /** Whether writes work now; if not, since when and why. */
  health(): StorageHealth {
    const { failures, recoveries } = this;
    if (!this.down) return { ok: true, detail: "writable", failures, recoveries };
    return {
      ok: false, since: this.down.since, failures, recoveries,
      detail: `store writes fail since ${new Date(this.down.since).toISOString()} (${this.down.error}): writes are refused with STORAGE_UNAVAILABLE and a probe write is tried every ${this.probeMs()} ms; service resumes by itself once one succeeds`,
    };
  }

  /** The refusal for a write now, or undefined when the store is writable. */
  refusal(): StorageUnavailableError | undefined {
    if (!this.down) return undefined;
    return new StorageUnavailableError(`the node's store cannot write (${this.down.error}): nothing is acknowledged that is not on disk; retry once GET /readyz shows the storage check ok`, { cause: this.down.cause });
  }

  /** Calls `listener` each time the store becomes writable again; returns the unsubscribe. */
  onRecovered(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Probes now (as the timer does): resolves true when the store is writable. A probe already under
   * way began before this call, perhaps before the disk had room: when it fails, the answer is a
   * probe begun after it.
   */
  probe(): Promise<boolean> {
    if (!this.down) return Promise.resolve(true);
    const underWay = this.probing;
    return underWay ? underWay.then((ok) => ok || this.probeFresh()) : this.probeFresh();
  }

  /** Starts a probe, or joins one under way (which began after the caller's call when called from `probe`). */
  private probeFresh(): Promise<boolean> {
    if (!this.down) return Promise.resolve(true);
    this.probing ??= this.tryRecover().finally(() => (this.probing = undefined));
    return this.probing;
  }

  /** Stops probing (before the database is closed for good). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.probing?.catch(() => undefined);
  }

  private probeMs(): number {
    return this.o.probeMs ?? 1000;
  }

  private async guard<T>(write: () => Promise<T>): Promise<T> {
    const injected = this.faults.active();
    if (injected !== undefined) {
      this.fail(new InjectedStoreFault(injected), false);
      throw this.refusal()!;
    }
    if (this.down) throw this.refusal()!;
    let result: T;
    try {
      result = await write();
    } catch (err) {
      this.fail(err, true);
      throw this.refusal()!;
    }
    // Another write failed for real meanwhile: until the reopen, LevelDB's log may not keep this one.
    if (this.inDoubt()) throw this.refusal()!;
    return result;
  }

  /** Whether a real write failure left LevelDB's log in doubt (until the reopen). */
  private inDoubt(): boolean {
    return this.down?.reopen === true;
  }

  /** Records a failed write: the first makes the store unavailable and starts the probe. */
  private fail(err: unknown, real: boolean): void {
    const error = `${(err as { code?: string }).code ?? "error"}: ${(err as Error)?.message ?? String(err)}`;
    if (this.down) {
      if (real) Object.assign(this.down, { reopen: true, error, cause: err });
      return;
    }
    this.down = { since: Date.now(), error, reopen: real, cause: err };
    this.failures++;
    this.o.logger?.error({ err: { code: (err as { code?: string }).code, message: (err as Error)?.message } }, "store write failed: writes refused until the store can write again");
    this.schedule();
  }

  private schedule(): void {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.probe().then((ok) => {
        if (!ok) this.schedule();
      });
    }, this.probeMs());
    this.timer.unref?.();
  }

  /** Reopens the database if a real failure left LevelDB's log in doubt, then writes the probe key, synced. */
  private async tryRecover(): Promise<boolean> {
    const down = this.down!;
    const injected = this.faults.active();
    if (injected !== undefined) {
      const fault = new InjectedStoreFault(injected);
      down.error = `${fault.code}: ${fault.message}`;
      return false;
    }
    try {
      if (down.reopen) {
        // Reopen only when the disk takes a write: a database that cannot reopen would refuse reads too.
        await this.probeFile();
        await this.reopen();
      }
      await this.original!.put.call(this.db, PROBE_KEY, String(Date.now()), { sync: true, keyEncoding: "utf8", valueEncoding: "utf8" });
    } catch (err) {
      Object.assign(down, { reopen: true, error: `${(err as { code?: string }).code ?? "error"}: ${(err as Error).message}`, cause: err });
      return false;
    }
    if (this.faults.active() !== undefined) return false;
    this.down = undefined;
    this.recoveries++;
    this.o.logger?.warn({ downMs: Date.now() - down.since }, "store writable again: writes accepted");
    for (const l of this.listeners) l();
    return true;
  }

  /** Writes, syncs and removes a 64 KiB file beside the database: throws while its filesystem cannot take it. */
  private async probeFile(): Promise<void> {
    const location = (this.db as Internal).location as string | undefined;
    if (typeof location !== "string") return;
    const file = join(location, "dcl-write-probe.tmp");
    const handle = await open(file, "w");
    try {
      await handle.write(Buffer.alloc(64 * 1024));
      await handle.sync();
    } finally {
      await handle.close();
      await unlink(file).catch(() => undefined);
    }
  }

  /** Closes and opens the database, then every sublevel that was open (closing the database closed them). */
  private async reopen(): Promise<void> {
    const db = this.db as Internal;
    this.toReopen ??= this.sublevels.map((r) => r.deref()).filter((s): s is Internal => s !== undefined && s.status === "open");
    if (db.status !== "closed") await db.close();
    await db.open();
    for (const s of this.toReopen) if (s.status === "closed") await s.open();
    this.toReopen = undefined;
    if (this.down) this.down.reopen = false;
    this.o.logger?.warn({ sublevels: this.sublevels.length }, "store reopened after a write failure");
  }

  /** Records each sublevel made from `parent` (recursively), so a reopen can open it again. */
  private track(parent: Internal): void {
    const make = parent.sublevel;
    parent.sublevel = (...args: unknown[]) => {
      const s = make.apply(parent, args) as Internal;
      if (this.sublevels.length > 4096) this.sublevels = this.sublevels.filter((r) => r.deref() !== undefined);
      this.sublevels.push(new WeakRef(s));
      this.track(s);
      return s;
    };
  }
}
