/**
 * Writes a file so that a crash or a power cut leaves the old file or the new one, never a part:
 * the bytes go to a temporary file beside it, are synced, and the temporary file then takes the
 * name — renamed over the old file, or, when the file must not exist yet (`exclusive`), linked to
 * the name, which fails with EEXIST if something holds it (link(2) never replaces) — and the
 * directory is synced so that the name itself survives. For the files the node cannot do without:
 * the operator keystore, the deployment record, the embedded chain's state. (fs.writeFile writes in
 * place and does not sync: a power cut can leave such a file empty.)
 */
import { link, lstat, mkdir, open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

export interface WholeFileOptions {
  /** File mode of a file created (default 0o644; umask applies). */
  mode?: number;
  /** Never replace an existing file: EEXIST instead. */
  exclusive?: boolean;
}

/** Writes `data` to `file` whole (see the top of this file); creates its directory when missing. */
export async function writeFileWhole(file: string, data: Uint8Array | string, options: WholeFileOptions = {}): Promise<void> {
  const dir = dirname(file);
  await mkdir(dir, { recursive: true });
  // One writer per file at a time is the callers' rule. A fixed name, so that a temporary file a
  // crash left behind is truncated by the next write instead of piling up (the chain's state is MBs).
  const tmp = join(dir, `.${basename(file)}.tmp`);
  try {
    const fh = await open(tmp, "w", options.mode ?? 0o644);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (options.exclusive) await linkOrRefuse(tmp, file);
    else await rename(tmp, file);
  } finally {
    await rm(tmp, { force: true }); // gone after a rename; after a link (or a failure), the name's other copy
  }
  await syncDirectory(dir);
}

/**
 * Gives `tmp` the name `file` unless `file` exists (EEXIST). On a file system without hard links
 * (FAT, some network shares: EPERM, ENOTSUP), a check then a rename instead: the same outcome
 * unless another process creates `file` in between, which no caller of the node's does.
 */
async function linkOrRefuse(tmp: string, file: string): Promise<void> {
  try {
    await link(tmp, file);
  } catch (err) {
    if (!["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS"].includes((err as NodeJS.ErrnoException).code ?? "")) throw err;
    if (await lstat(file).then(() => true, () => false)) throw Object.assign(new Error(`EEXIST: file already exists, '${file}'`), { code: "EEXIST", path: file });
    await rename(tmp, file);
  }
}

/** fsync of a directory, so that a name just given in it survives a power cut (best effort where the platform refuses). */
async function syncDirectory(dir: string): Promise<void> {
  const fh = await open(dir, "r").catch(() => undefined);
  if (!fh) return;
  try {
    await fh.sync();
  } catch {
    // Some file systems refuse fsync on a directory (EINVAL): the rename is still atomic there.
  } finally {
    await fh.close();
  }
}
