/**
 * Turns a data subject's ID number into the salted commitment used on chain, with a random secret
 * per subject kept in the node's store, and destroys that secret on erasure (crypto-shredding).
 *
 *   lookup key  = HMAC-SHA256(pepper, "dcl-subject-lookup-v1" ‖ 0x00 ‖ id)      (finds the secret)
 *   secret      = 32 random bytes, stored under the lookup key
 *   commitment  = SHA-256("dcl-subject-commitment-v1" ‖ 0x00 ‖ secret ‖ id)     (bytes32, on chain)
 *
 * The ID number itself is never stored or logged. The pepper comes from the operator's key
 * (unlocked from its encrypted keystore), so a copy of the store alone cannot test guesses of
 * ID numbers against the lookup keys. After erasure the secret is gone: the commitments already on
 * chain and in the log can no longer be linked to the person, even by someone who knows the ID.
 * The erasure itself is kept as evidence: the commitment, the time, and who asked.
 */
import { hmac } from "@noble/hashes/hmac";
import { sha256 } from "@noble/hashes/sha256";
import { randomBytes } from "@noble/hashes/utils";
import type { AbstractSublevel } from "abstract-level";
import { concatBytes, toHex, fromHex } from "../verify";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Table = AbstractSublevel<any, any, string, any>;

const enc = new TextEncoder();
const LOOKUP_TAG = enc.encode("dcl-subject-lookup-v1\u0000");
const COMMIT_TAG = enc.encode("dcl-subject-commitment-v1\u0000");

/** Evidence that a subject's secret was destroyed. */
export interface ErasureRecord {
  commitment: string;
  erasedAt: number; // unix seconds
  requestedBy: string; // department id that asked
}

/** Normalises an ID number: trimmed, upper-case (a resident ID may end in "X"). */
export function normaliseIdNumber(id: string): string {
  return id.trim().toUpperCase();
}

/** The per-subject secrets and erasure evidence of one node. */
export class SubjectSecrets {
  private readonly secrets: Table;
  private readonly erasures: Table;

  constructor(
    db: { sublevel: (name: string, options: object) => unknown },
    private readonly pepper: Uint8Array,
  ) {
    this.secrets = db.sublevel("subjects", { valueEncoding: "utf8" }) as Table;
    this.erasures = db.sublevel("erasures", { valueEncoding: "json" }) as Table;
  }

  /** The commitment of subject `id`, creating the subject's secret when `create` and none exists. */
  async commitment(id: string, create: boolean): Promise<string | undefined> {
    const norm = normaliseIdNumber(id);
    const key = this.lookupKey(norm);
    let secret = (await this.secrets.get(key)) as string | undefined;
    if (secret === undefined) {
      if (!create) return undefined;
      secret = toHex(randomBytes(32));
      await this.secrets.put(key, secret, { sync: true } as never);
    }
    return toHex(sha256(concatBytes(COMMIT_TAG, fromHex(secret), enc.encode(norm))));
  }

  /** Destroys subject `id`'s secret and records the erasure; returns the evidence, or undefined if none existed. */
  async erase(id: string, requestedBy: string, now: number): Promise<ErasureRecord | undefined> {
    const commitment = await this.commitment(id, false);
    if (commitment === undefined) return undefined;
    const record: ErasureRecord = { commitment, erasedAt: now, requestedBy };
    await this.secrets.db.batch(
      [
        { type: "del", sublevel: this.secrets, key: this.lookupKey(normaliseIdNumber(id)) },
        { type: "put", sublevel: this.erasures, key: commitment, value: record },
      ] as never,
      { sync: true } as never,
    );
    return record;
  }

  /** The erasure evidence for `commitment`, if its subject was erased. */
  async erasure(commitment: string): Promise<ErasureRecord | undefined> {
    return (await this.erasures.get(commitment)) as ErasureRecord | undefined;
  }

  private lookupKey(norm: string): string {
    return toHex(hmac(sha256, this.pepper, concatBytes(LOOKUP_TAG, enc.encode(norm)))).slice(2);
  }
}
