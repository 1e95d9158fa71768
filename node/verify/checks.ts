/**
 * The report-building helpers shared by the bundle verifiers (node/evidence/verify-bundle.ts and
 * node/assessment/verify-period-bundle.ts): a named check that holds or fails with what it found and
 * where in the bundle (a JSON path) it looked. Verifiers never throw on a malformed bundle: each
 * check's exception becomes a failed entry of the report.
 */

/** One check: its name, whether it holds, what was found, and where in the bundle (a JSON path) it looked. */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  where?: string;
}

/** A failed check that knows better where the fault is than the check's default path. */
export class Fault extends Error {
  constructor(
    message: string,
    readonly where?: string,
  ) {
    super(message);
  }
}

/** The checks run so far, in order. */
export class Checks {
  readonly list: Check[] = [];

  /** Runs `fn`; it returns the detail of a success or throws (a Fault to point elsewhere than `where`). */
  run(name: string, where: string | undefined, fn: () => string): boolean {
    try {
      return this.pass(name, where, fn());
    } catch (err) {
      return this.fail(name, where, err);
    }
  }

  /** `run` for a check that awaits (a chain read). */
  async runAsync(name: string, where: string | undefined, fn: () => Promise<string>): Promise<boolean> {
    try {
      return this.pass(name, where, await fn());
    } catch (err) {
      return this.fail(name, where, err);
    }
  }

  private pass(name: string, where: string | undefined, detail: string): true {
    this.list.push({ name, ok: true, detail, ...(where ? { where } : {}) });
    return true;
  }

  private fail(name: string, where: string | undefined, err: unknown): false {
    const at = err instanceof Fault && err.where ? err.where : where;
    this.list.push({ name, ok: false, detail: (err as Error)?.message ?? String(err), ...(at ? { where: at } : {}) });
    return false;
  }
}

/** Two strings equal ignoring case (hex digests, addresses); false when either is not a string. */
export const same = (a: unknown, b: unknown): boolean => typeof a === "string" && typeof b === "string" && a.toLowerCase() === b.toLowerCase();

/** A JSON path: `path("entries", 3, "proof", 2)` is `entries[3].proof[2]`. */
export function path(...parts: (string | number)[]): string {
  return parts.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}
