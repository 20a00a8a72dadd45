// One home for "a crash never leaves a torn file": write beside the target, then rename over it (rename is atomic
// within a file system). Used by the trainer's run directory, engine/model's safetensors and optimizer files, the
// dashboard's export and the bench result files. sandbox/ stands alone and writes no files.
import { renameSync, writeFileSync } from "node:fs";

/** Writes `data` to `path` through a temporary file (named after this process) and a rename. */
export function writeAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}
