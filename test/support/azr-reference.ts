// Runs test/support/azr_reference.py (the reference's prompt and parsing code, in Python) on a batch of items.
import { spawnSync } from "bun";
import { join } from "node:path";
import { TORCH_PYTHON } from "./torch.ts";

const SCRIPT = join(import.meta.dir, "azr_reference.py");

/** One result per item, in order; throws with Python's traceback when the script fails. */
export function runReference<T>(op: "prompt" | "parse" | "imports", items: readonly unknown[]): T[] {
  const proc = spawnSync([TORCH_PYTHON, SCRIPT], { stdin: Buffer.from(JSON.stringify({ op, items })), stdout: "pipe", stderr: "pipe" });
  if (proc.exitCode !== 0) throw new Error(`azr_reference.py ${op} failed (exit ${proc.exitCode}):\n${proc.stderr.toString()}`);
  return JSON.parse(proc.stdout.toString()) as T[];
}
