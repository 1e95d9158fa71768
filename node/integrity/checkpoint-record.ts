/**
 * The last checkpoint the node signed of its own log, kept in its store (sublevel `integrity`,
 * key `checkpoint`): what the store must still agree with at the next start. Recorded after each
 * anchor, after a start whose check passed, and when the node closes; only ever for a larger size.
 */
import type { AbstractSublevel } from "abstract-level";
import type { SignedCheckpointNote } from "../log/checkpoint-signer";
import { toHex } from "../verify";

/** A signed checkpoint as recorded: size, root, signer and the signed note itself. */
export interface RecordedCheckpoint {
  size: number;
  root: string;
  signer: string;
  note: string;
  /** When it was recorded (unix seconds). */
  recordedAt: number;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Table = AbstractSublevel<any, any, string, any>;

/** Reads and keeps the last signed checkpoint of the node's log. */
export class CheckpointRecord {
  private readonly table: Table;
  private lastSize = -1;

  constructor(db: { sublevel: (name: string, options: object) => unknown }) {
    this.table = db.sublevel("integrity", { valueEncoding: "json" }) as Table;
  }

  /** The recorded checkpoint, or undefined when none was. */
  async last(): Promise<RecordedCheckpoint | undefined> {
    const value = (await this.table.get("checkpoint")) as RecordedCheckpoint | undefined;
    this.lastSize = Math.max(this.lastSize, value?.size ?? 0);
    return value;
  }

  /** Records `signed` (synced) unless a checkpoint at least as large is recorded already. */
  async keep(signed: SignedCheckpointNote): Promise<void> {
    if (this.lastSize < 0) await this.last();
    const size = signed.checkpoint.size;
    if (size <= this.lastSize) return;
    const record: RecordedCheckpoint = { size, root: toHex(signed.checkpoint.root), signer: signed.signer, note: signed.note, recordedAt: Math.floor(Date.now() / 1000) };
    await this.table.put("checkpoint", record, { sync: true } as never);
    this.lastSize = size;
  }
}
