/**
 * A consistent copy of a running node's store, as a byte stream: every key and value of the root
 * LevelDB database (every sublevel lives in it under its prefix) read by ONE iterator. classic-level
 * gives an iterator a snapshot of the database taken when it is created, so the copy is the store as
 * it was at that instant — what a kill -9 at that instant would have left on disk, which the node is
 * built (and tested) to restart from: every multi-key change is one atomic batch.
 *
 * Stream format `dcl-store-snapshot/1`:
 *   magic  "DCLSNAP1"
 *   frames [u32 key length][key][u32 value length][value], big-endian lengths, raw bytes
 *   end    [u32 0xFFFFFFFF][u64 frame count][32-byte SHA-256 of every byte before this end marker]
 * A stream cut short (a dropped connection, a node killed mid-copy) has no valid end and is refused.
 */
import { createHash } from "node:crypto";
import { readdir } from "node:fs/promises";
import { Readable } from "node:stream";
import { Level } from "level";
import { MerkleLog } from "../log/merkle-log";
import { toHex } from "../verify";

const MAGIC = Buffer.from("DCLSNAP1", "ascii");
const END = 0xffffffff;
const READ_BATCH = 1000;
const WRITE_BATCH = 1000;

/** What the raw iterator of a level database needs (structural: any `level` / `classic-level` root database). */
interface RawIterable {
  iterator(options: { keyEncoding: "buffer"; valueEncoding: "buffer" }): {
    nextv(size: number): Promise<[Buffer, Buffer][]>;
    close(): Promise<void>;
  };
}

/** A backup stream that does not parse or ends early. */
export class SnapshotFormatError extends Error {
  readonly code = "SNAPSHOT_MALFORMED";
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

/**
 * The whole store as a `dcl-store-snapshot/1` stream. The iterator (and so the snapshot) is made now,
 * before this returns; the stream reads it as it is consumed, so a slow reader holds the snapshot open.
 */
export function snapshotStream(db: RawIterable): Readable {
  const it = db.iterator({ keyEncoding: "buffer", valueEncoding: "buffer" });
  const hash = createHash("sha256");
  let count = 0n;
  async function* frames(): AsyncGenerator<Buffer> {
    try {
      hash.update(MAGIC);
      yield MAGIC;
      for (;;) {
        const pairs = await it.nextv(READ_BATCH);
        if (pairs.length === 0) break;
        const parts: Buffer[] = [];
        for (const [k, v] of pairs) parts.push(u32(k.length), k, u32(v.length), v);
        const chunk = Buffer.concat(parts);
        hash.update(chunk);
        count += BigInt(pairs.length);
        yield chunk;
      }
      const tail = Buffer.alloc(12);
      tail.writeUInt32BE(END, 0);
      tail.writeBigUInt64BE(count, 4);
      yield Buffer.concat([tail, hash.digest()]);
    } finally {
      await it.close();
    }
  }
  return Readable.from(frames(), { objectMode: false });
}

/** What was copied: frames, bytes, the stream's SHA-256, and the log in the copy (size and RFC 6962 root). */
export interface SnapshotSummary {
  keys: number;
  bytes: number;
  sha256: string;
  logSize: number;
  logRoot: string;
}

/** Whether `dir` is absent or an empty directory. */
export async function isEmptyDir(dir: string): Promise<boolean> {
  const entries = await readdir(dir).catch((err: NodeJS.ErrnoException) => (err.code === "ENOENT" ? [] : Promise.reject(err)));
  return entries.length === 0;
}

/**
 * Writes a `dcl-store-snapshot/1` stream into a new LevelDB at `dir` (absent or empty), checks its end
 * (count and SHA-256), and reads the log it holds. Throws SnapshotFormatError on a stream cut short or altered.
 */
export async function writeSnapshot(source: AsyncIterable<Uint8Array>, dir: string): Promise<SnapshotSummary> {
  if (!(await isEmptyDir(dir))) throw new Error(`${dir} is not empty: a store copy goes into a new directory`);
  const db = new Level<Buffer, Buffer>(dir, { keyEncoding: "buffer", valueEncoding: "buffer" });
  await db.open();
  const hash = createHash("sha256");
  let buf = Buffer.alloc(0);
  let keys = 0;
  let bytes = 0;
  let ops: { type: "put"; key: Buffer; value: Buffer }[] = [];
  let ended: { count: bigint; digest: Buffer } | undefined;
  try {
    let magicSeen = false;
    for await (const piece of source) {
      if (ended) throw new SnapshotFormatError("bytes after the end of the snapshot");
      bytes += piece.length;
      buf = buf.length === 0 ? Buffer.from(piece) : Buffer.concat([buf, piece]);
      let at = 0;
      if (!magicSeen) {
        if (buf.length < MAGIC.length) continue;
        if (!buf.subarray(0, MAGIC.length).equals(MAGIC)) throw new SnapshotFormatError("not a dcl store snapshot (no DCLSNAP1 header)");
        hash.update(MAGIC);
        at = MAGIC.length;
        magicSeen = true;
      }
      for (;;) {
        if (buf.length - at < 4) break;
        const klen = buf.readUInt32BE(at);
        if (klen === END) {
          if (buf.length - at < 44) break;
          ended = { count: buf.readBigUInt64BE(at + 4), digest: buf.subarray(at + 12, at + 44) };
          if (buf.length - at > 44) throw new SnapshotFormatError("bytes after the end of the snapshot");
          at = buf.length;
          break;
        }
        if (buf.length - at < 8 + klen) break;
        const vlen = buf.readUInt32BE(at + 4 + klen);
        const frameEnd = at + 8 + klen + vlen;
        if (buf.length < frameEnd) break;
        hash.update(buf.subarray(at, frameEnd));
        ops.push({ type: "put", key: Buffer.from(buf.subarray(at + 4, at + 4 + klen)), value: Buffer.from(buf.subarray(at + 8 + klen, frameEnd)) });
        keys++;
        at = frameEnd;
        if (ops.length >= WRITE_BATCH) {
          await db.batch(ops);
          ops = [];
        }
      }
      buf = buf.subarray(at);
    }
    if (ops.length) await db.batch(ops);
    if (!ended) throw new SnapshotFormatError(`the snapshot stream ended early, after ${keys} keys (${bytes} bytes): no end marker`);
    if (ended.count !== BigInt(keys)) throw new SnapshotFormatError(`the snapshot says ${ended.count} keys, ${keys} arrived`);
    if (!ended.digest.equals(hash.digest())) throw new SnapshotFormatError("the snapshot's SHA-256 does not match its bytes");
    // A last synced write, so the copy is on disk before it is called a backup.
    await (db.put as (k: Buffer, v: Buffer, o: { sync: boolean }) => Promise<void>).call(db, Buffer.from("\xffdcl-backup-sync"), Buffer.alloc(0), { sync: true });
    await db.del(Buffer.from("\xffdcl-backup-sync"));
  } finally {
    await db.close();
  }
  const { logSize, logRoot } = await readLog(dir);
  return { keys, bytes, sha256: toHex(ended.digest), logSize, logRoot };
}

/** The access log held by the (closed) store at `dir`: its size and RFC 6962 root. */
export async function readLog(dir: string): Promise<{ logSize: number; logRoot: string }> {
  const db = new Level<string, unknown>(dir, { valueEncoding: "json" });
  await db.open();
  try {
    const log = await MerkleLog.open(db.sublevel("log") as never);
    const logSize = log.size();
    const logRoot = toHex(await log.root());
    return { logSize, logRoot };
  } finally {
    await db.close();
  }
}
