// Temporary LevelDB directories for log tests.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** A fresh empty directory under the OS temp dir. */
export function tempDir(prefix = "dcl-log-"): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Removes a directory made by tempDir. */
export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}
