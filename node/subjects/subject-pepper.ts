/**
 * The subject pepper: the HMAC key that finds a subject's secret (and tombstone) from the ID number
 * (subject-secrets.ts). It is a secret of its own — 32 random bytes in a file, by default
 * `<data>/keys/subject-pepper` (DCL_SUBJECT_PEPPER_FILE), mode 0600 — so rotating the operator key
 * does not touch it. Back it up like a key: without it no ID number finds its subject again.
 *
 * On open:
 *   - file present: it must hold exactly 32 bytes and match the fingerprint the store recorded
 *     (SHA-256 of a tag and the pepper); a different file is refused (SUBJECT_PEPPER_MISMATCH);
 *   - file absent, store with a recorded fingerprint: refused (SUBJECT_PEPPER_MISSING) — the file
 *     was lost; restore it from backup. A new one would silently orphan every subject;
 *   - file absent, store with subjects but no fingerprint (made by a version that derived the
 *     pepper from the operator key): that derived value is written into the file, once (migration);
 *   - file absent, store without subjects: a new random pepper is written.
 * The pepper's value is never logged or put in an error message; only the file's path is.
 */
import { randomBytes } from "node:crypto";
import { mkdir, readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { hmac } from "@noble/hashes/hmac";
import { sha256 } from "@noble/hashes/sha256";
import type { AbstractSublevel } from "abstract-level";
import type { Logger } from "pino";
import { concatBytes, fromHex, toHex } from "../verify";
import { writeFileWhole } from "../runtime/whole-file";
import { PEPPERED_SUBLEVELS } from "./subject-secrets";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Table = AbstractSublevel<any, any, string, any>;

/** Length of the pepper in bytes. */
export const PEPPER_BYTES = 32;
const enc = new TextEncoder();
const CHECK_TAG = enc.encode("dcl-subject-pepper-check-v1\u0000");
const CHECK_KEY = "pepper-check";

/** A missing, malformed or wrong pepper file: a stable code, the path, never the value. */
export class SubjectPepperError extends Error {
  constructor(
    readonly code: "SUBJECT_PEPPER_MISSING" | "SUBJECT_PEPPER_MISMATCH" | "SUBJECT_PEPPER_MALFORMED" | "SUBJECT_PEPPER_UNREADABLE",
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "SubjectPepperError";
  }
}

/** The pepper earlier versions used, derived from the operator's private key (kept only to migrate their stores). */
export function legacySubjectPepper(operatorPrivateKey: string): Uint8Array {
  return hmac(sha256, fromHex(operatorPrivateKey), enc.encode("dcl-subject-pepper-v1"));
}

/** What the store records to recognise its pepper: SHA-256(tag ‖ pepper), which does not reveal it. */
function fingerprint(pepper: Uint8Array): string {
  return toHex(sha256(concatBytes(CHECK_TAG, pepper)));
}

async function isEmpty(t: Table): Promise<boolean> {
  for await (const _ of t.keys({ limit: 1 })) return false;
  return true;
}

/** Writes `bytes` to a new file `path` (never over an existing one), mode 0600, whole and synced (its directory 0700). */
async function writeSecretFile(path: string, bytes: Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFileWhole(path, bytes, { mode: 0o600, exclusive: true });
}

/** What `loadOrCreateSubjectPepper` needs: the file, the node's store, and the legacy derivation for migration. */
export interface SubjectPepperOptions {
  file: string;
  db: { sublevel: (name: string, options: object) => unknown };
  /** The pepper older versions derived from the operator key (`legacySubjectPepper(operator.privateKey)`). */
  legacy: () => Uint8Array;
  logger?: Logger;
}

/** Reads the pepper file, or creates or migrates it (see the module comment); returns the pepper and what happened. */
export async function loadOrCreateSubjectPepper(o: SubjectPepperOptions): Promise<{ pepper: Uint8Array; origin: "file" | "created" | "migrated" }> {
  const meta = o.db.sublevel("subject-meta", { valueEncoding: "utf8" }) as Table;
  const recorded = (await meta.get(CHECK_KEY)) as string | undefined;
  let bytes: Buffer | undefined;
  try {
    bytes = await readFile(o.file);
  } catch (err) {
    if ((err as { code?: string }).code !== "ENOENT") throw new SubjectPepperError("SUBJECT_PEPPER_UNREADABLE", `cannot read the subject pepper file ${o.file}`, { cause: err });
  }

  let pepper: Uint8Array;
  let origin: "file" | "created" | "migrated";
  if (bytes !== undefined) {
    if (bytes.length !== PEPPER_BYTES) {
      throw new SubjectPepperError("SUBJECT_PEPPER_MALFORMED", `the subject pepper file ${o.file} must hold exactly ${PEPPER_BYTES} bytes (it holds ${bytes.length})`);
    }
    pepper = new Uint8Array(bytes);
    origin = "file";
    if (recorded === undefined && (await hasSubjects(o.db)) && fingerprint(pepper) !== fingerprint(o.legacy())) {
      throw new SubjectPepperError(
        "SUBJECT_PEPPER_MISMATCH",
        `this store's subjects were made with the pepper derived from the operator key, and ${o.file} holds another one: move ${o.file} away to migrate`,
      );
    }
  } else {
    if (recorded !== undefined) {
      throw new SubjectPepperError(
        "SUBJECT_PEPPER_MISSING",
        `the subject pepper file ${o.file} is missing, and this store's subjects were made with it: restore it from backup (a new one would make every subject unfindable)`,
      );
    }
    if (await hasSubjects(o.db)) {
      pepper = o.legacy();
      origin = "migrated";
    } else {
      pepper = new Uint8Array(randomBytes(PEPPER_BYTES));
      origin = "created";
    }
    await writeSecretFile(o.file, pepper);
  }
  if (recorded === undefined) await meta.put(CHECK_KEY, fingerprint(pepper), { sync: true } as never);
  else if (recorded !== fingerprint(pepper)) {
    throw new SubjectPepperError("SUBJECT_PEPPER_MISMATCH", `the subject pepper in ${o.file} is not the one this store's subjects were made with: restore the right file from backup`);
  }
  if (origin === "created") o.logger?.info({ file: o.file }, "subject pepper created (back it up like a key)");
  if (origin === "migrated") o.logger?.warn({ file: o.file }, "subject pepper migrated: the value formerly derived from the operator key was written to its own file (back it up like a key)");
  return { pepper, origin };
}

/** Whether the store holds anything made with a pepper (subject secrets or erasure tombstones). */
async function hasSubjects(db: SubjectPepperOptions["db"]): Promise<boolean> {
  for (const name of Object.values(PEPPERED_SUBLEVELS)) {
    if (!(await isEmpty(db.sublevel(name, { valueEncoding: "utf8" }) as Table))) return true;
  }
  return false;
}
