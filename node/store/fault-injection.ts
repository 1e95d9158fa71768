/**
 * Store faults on command, for fault drills and tests only: while a fault is on, every write to the
 * node's LevelDB store fails as a failing disk fails it (an EIO-like `LEVEL_IO_ERROR`), before it
 * reaches LevelDB. A fault is on while `failWrites()` holds one (tests in the same process) or while
 * the fault file exists (`DCL_STORE_FAULT_FILE`: the product process and the soak, from outside).
 * The store guard (store-guard.ts) asks `active()` before every write, so it applies to every
 * sublevel alike.
 */
import { existsSync } from "node:fs";

/** The error a write fails with while a fault is on: shaped as classic-level's I/O errors. */
export class InjectedStoreFault extends Error {
  readonly code = "LEVEL_IO_ERROR";
  readonly errno = "EIO";

  constructor(reason: string) {
    super(`IO error: EIO: i/o error (injected store fault: ${reason})`);
    this.name = "InjectedStoreFault";
  }
}

/** Switches store write faults on and off: by call, or by the existence of a file. */
export class StoreFaults {
  private forced?: string;

  /** `file`: while it exists, writes fail (checked at each write, so it takes effect at once). */
  constructor(readonly file?: string) {}

  /** Makes every store write fail until `heal()`. */
  failWrites(reason = "writes failed on command"): void {
    this.forced = reason;
  }

  /** Ends a fault started by `failWrites()` (a fault file stays in force until it is removed). */
  heal(): void {
    this.forced = undefined;
  }

  /** Why writes fail now, or undefined when they do not. */
  active(): string | undefined {
    if (this.forced !== undefined) return this.forced;
    if (this.file !== undefined && existsSync(this.file)) return `fault file ${this.file} exists`;
    return undefined;
  }
}
