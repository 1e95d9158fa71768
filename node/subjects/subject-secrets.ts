/**
 * Turns a data subject's ID number into the salted commitment used on chain, with a random secret
 * per subject kept in the node's store, and destroys that secret on erasure (crypto-shredding).
 *
 *   lookup key  = HMAC-SHA256(pepper, "dcl-subject-lookup-v1" ‖ 0x00 ‖ id)      (finds the secret)
 *   secret      = 32 random bytes, stored under the lookup key
 *   commitment  = SHA-256("dcl-subject-commitment-v1" ‖ 0x00 ‖ secret ‖ id)     (bytes32, on chain)
 *   tombstone   = HMAC-SHA256(pepper, "dcl-erased-v1" ‖ 0x00 ‖ id)              (kept after erasure)
 *
 * The ID number itself is never stored or logged. The pepper is a secret of its own, a 32-byte file
 * (subject-pepper.ts), so a copy of the store alone cannot test guesses of ID numbers against the
 * lookup keys or tombstones.
 *
 * Erasure deletes the secret and writes the tombstone: the commitments already on chain and in the
 * log can no longer be linked to the person, even by someone who knows the ID; the ID number is
 * still recognised as erased (new consents and calls naming it are refused), but the tombstone's
 * value is a bare marker — nothing stored leads from it to the old commitment. The erasure itself
 * is kept as evidence, keyed by the old commitment: the commitment, the time, and who asked.
 * Only a regulator's re-enrolment (recorded with who, when and why, and no ID number or commitment)
 * removes a tombstone; the subject's next consent then gets a new secret, so a new commitment.
 */
import { hmac } from "@noble/hashes/hmac";
import { sha256 } from "@noble/hashes/sha256";
import { randomBytes } from "@noble/hashes/utils";
import type { AbstractSublevel } from "abstract-level";
import { fail } from "../errors";
import { concatBytes, toHex, fromHex } from "../verify";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Table = AbstractSublevel<any, any, string, any>;

const enc = new TextEncoder();
const LOOKUP_TAG = enc.encode("dcl-subject-lookup-v1\u0000");
const COMMIT_TAG = enc.encode("dcl-subject-commitment-v1\u0000");
const TOMBSTONE_TAG = enc.encode("dcl-erased-v1\u0000");

/** Names of the store's sublevels that depend on the pepper (subject-pepper.ts checks them). */
export const PEPPERED_SUBLEVELS = { secrets: "subjects", tombstones: "subject-tombstones" } as const;

/** Evidence that a subject's secret was destroyed. */
export interface ErasureRecord {
  commitment: string;
  erasedAt: number; // unix seconds
  requestedBy: string; // department id that asked
}

/** Record of a re-enrolment: who lifted an erasure, when and why (no ID number, no commitment). */
export interface ReEnrolmentRecord {
  id: string; // random 16 bytes, 0x-hex
  reEnrolledAt: number; // unix seconds
  requestedBy: string; // department id of the regulator
  signer: string; // the regulator key that signed the request
  reason: string;
}

/** What the node knows of an ID number. */
export interface SubjectLookup {
  /** The current commitment, when the subject has a secret. */
  commitment?: string;
  /** True when the ID number was erased (and not re-enrolled since). */
  erased: boolean;
}

/** Normalises an ID number: trimmed, upper-case (a resident ID may end in "X"). */
export function normaliseIdNumber(id: string): string {
  return id.trim().toUpperCase();
}

const erasedError = () =>
  fail.conflict("SUBJECT_ERASED", "this ID number was erased: its data is no longer used, and only a regulator's re-enrolment (POST /v1/subjects/re-enrol) lifts that");

/** The per-subject secrets, erasure tombstones and evidence, and re-enrolment records of one node. */
export class SubjectSecrets {
  private readonly secrets: Table;
  private readonly tombstones: Table;
  private readonly erasures: Table;
  private readonly reEnrolments: Table;
  /** Per-subject queue: creating, erasing and re-enrolling one subject never interleave. */
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(
    db: { sublevel: (name: string, options: object) => unknown },
    private readonly pepper: Uint8Array,
  ) {
    this.secrets = db.sublevel(PEPPERED_SUBLEVELS.secrets, { valueEncoding: "utf8" }) as Table;
    this.tombstones = db.sublevel(PEPPERED_SUBLEVELS.tombstones, { valueEncoding: "json" }) as Table;
    this.erasures = db.sublevel("erasures", { valueEncoding: "json" }) as Table;
    this.reEnrolments = db.sublevel("subject-re-enrolments", { valueEncoding: "json" }) as Table;
  }

  /** The commitment of subject `id`, creating the subject's secret when `create` and none exists; an erased ID number has none (and `create` refuses it: SUBJECT_ERASED). */
  async commitment(id: string, create: boolean): Promise<string | undefined> {
    const norm = normaliseIdNumber(id);
    if (!create) return (await this.lookupNorm(norm)).commitment;
    return this.locked(norm, async () => {
      const found = await this.lookupNorm(norm);
      if (found.erased) throw erasedError();
      if (found.commitment) return found.commitment;
      const secret = toHex(randomBytes(32));
      await this.secrets.put(this.lookupKey(norm), secret, { sync: true } as never);
      return this.commit(secret, norm);
    });
  }

  /** What the node knows of `id`: its commitment, or that it was erased. Creates nothing. */
  lookup(id: string): Promise<SubjectLookup> {
    return this.lookupNorm(normaliseIdNumber(id));
  }

  /**
   * Destroys subject `id`'s secret, leaves the keyed tombstone and records the erasure; returns the
   * evidence, or undefined if the node never knew the subject. An already erased ID: SUBJECT_ERASED.
   */
  async erase(id: string, requestedBy: string, now: number): Promise<ErasureRecord | undefined> {
    const norm = normaliseIdNumber(id);
    return this.locked(norm, async () => {
      const found = await this.lookupNorm(norm);
      if (found.erased) throw erasedError();
      if (found.commitment === undefined) return undefined;
      const record: ErasureRecord = { commitment: found.commitment, erasedAt: now, requestedBy };
      await this.secrets.db.batch(
        [
          { type: "del", sublevel: this.secrets, key: this.lookupKey(norm) },
          { type: "put", sublevel: this.tombstones, key: this.tombstoneKey(norm), value: true },
          { type: "put", sublevel: this.erasures, key: found.commitment, value: record },
        ] as never,
        { sync: true } as never,
      );
      await this.shred();
      return record;
    });
  }

  /**
   * Lifts the erasure of `id` (a regulator's explicit act): removes the tombstone and keeps the
   * record of who, when and why. Returns undefined if the ID number is not erased. The old secret
   * is gone, so the subject's next consent gets a new, unlinkable commitment.
   */
  async reEnrol(id: string, by: { department: string; signer: string }, reason: string, now: number): Promise<ReEnrolmentRecord | undefined> {
    const norm = normaliseIdNumber(id);
    return this.locked(norm, async () => {
      if (!(await this.lookupNorm(norm)).erased) return undefined;
      const record: ReEnrolmentRecord = { id: toHex(randomBytes(16)), reEnrolledAt: now, requestedBy: by.department, signer: by.signer, reason };
      await this.secrets.db.batch(
        [
          { type: "del", sublevel: this.tombstones, key: this.tombstoneKey(norm) },
          { type: "put", sublevel: this.reEnrolments, key: record.id, value: record },
        ] as never,
        { sync: true } as never,
      );
      return record;
    });
  }

  /** The erasure evidence for `commitment`, if its subject was erased. */
  async erasure(commitment: string): Promise<ErasureRecord | undefined> {
    return (await this.erasures.get(commitment)) as ErasureRecord | undefined;
  }

  /** Re-enrolment record `id`, if any. */
  async reEnrolment(id: string): Promise<ReEnrolmentRecord | undefined> {
    return (await this.reEnrolments.get(id.toLowerCase())) as ReEnrolmentRecord | undefined;
  }

  /** Every re-enrolment record, oldest first. */
  async allReEnrolments(): Promise<ReEnrolmentRecord[]> {
    const out: ReEnrolmentRecord[] = [];
    for await (const r of this.reEnrolments.values()) out.push(r as ReEnrolmentRecord);
    return out.sort((a, b) => a.reEnrolledAt - b.reEnrolledAt || a.id.localeCompare(b.id));
  }

  private async lookupNorm(norm: string): Promise<SubjectLookup> {
    const secret = (await this.secrets.get(this.lookupKey(norm))) as string | undefined;
    if (secret !== undefined) return { commitment: this.commit(secret, norm), erased: false };
    return { erased: (await this.tombstones.get(this.tombstoneKey(norm))) !== undefined };
  }

  private commit(secret: string, norm: string): string {
    return toHex(sha256(concatBytes(COMMIT_TAG, fromHex(secret), enc.encode(norm))));
  }

  /** Compacts the secrets' key range so a deleted secret leaves the table files too, not only the index. */
  private async shred(): Promise<void> {
    const root = this.secrets.db as unknown as { compactRange?: (start: string, end: string) => Promise<void> };
    await root.compactRange?.(this.secrets.prefix, this.secrets.prefix + "\u007f");
  }

  private async locked<T>(norm: string, work: () => Promise<T>): Promise<T> {
    const key = this.lookupKey(norm);
    const prev = this.locks.get(key) ?? Promise.resolve();
    const run = prev.then(work, work);
    const tail = run.catch(() => undefined);
    this.locks.set(key, tail);
    void tail.then(() => {
      if (this.locks.get(key) === tail) this.locks.delete(key);
    });
    return run;
  }

  private lookupKey(norm: string): string {
    return toHex(hmac(sha256, this.pepper, concatBytes(LOOKUP_TAG, enc.encode(norm)))).slice(2);
  }

  private tombstoneKey(norm: string): string {
    return toHex(hmac(sha256, this.pepper, concatBytes(TOMBSTONE_TAG, enc.encode(norm)))).slice(2);
  }
}
