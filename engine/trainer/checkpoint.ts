// Atomic checkpoints of a run: checkpoints/step-NNNNNN/{model/, optimizer.safetensors, state.json} written into a temporary
// directory and renamed into place, then the `latest` pointer replaced the same way. A crash at any moment leaves
// either the previous checkpoint or the new one, never a half-written one.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BufferSnapshot } from "../buffers/buffers.ts";
import type { RngState } from "../rng.ts";
import { writeAtomic } from "../write-atomic.ts";
import type { PolicyLike } from "./ports.ts";

export interface TrainState {
  /** The last completed step (0 = only seeded). */
  step: number;
  rng: RngState;
  buffers: BufferSnapshot;
}

/** A run directory or checkpoint that cannot be used as asked (the CLI reports it as a bad flag/path). */
export class RunDirError extends Error {
  override name = "RunDirError";
}

const STATE = "state.json";
const MODEL = "model";
const OPTIMIZER = "optimizer.safetensors";
/** The optimizer file before it was safetensors (azr-adamw-1): named so that resuming one says why it cannot. */
const OLD_OPTIMIZER = "optimizer.bin";
const LATEST = "latest";

const stepDir = (step: number): string => `step-${String(step).padStart(6, "0")}`;

/** Saves step `state.step` of a run (model, optimizer, state) and points `latest` at it; returns its directory.
 * The model alone is written by engine/model's saveCheckpoint. */
export async function saveRunCheckpoint(runDir: string, state: TrainState, policy: PolicyLike): Promise<string> {
  const root = join(runDir, "checkpoints");
  mkdirSync(root, { recursive: true });
  const name = stepDir(state.step);
  const final = join(root, name);
  const tmp = `${final}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  await policy.save(join(tmp, MODEL));
  await policy.saveOptimizer(join(tmp, OPTIMIZER));
  writeFileSync(join(tmp, STATE), JSON.stringify(state));
  if (existsSync(final)) {
    // Re-saving a step (Ctrl-C right after a periodic save): move the old copy aside before the swap.
    const old = `${final}.old-${process.pid}`;
    renameSync(final, old);
    renameSync(tmp, final);
    rmSync(old, { recursive: true, force: true });
  } else {
    renameSync(tmp, final);
  }
  writeAtomic(join(root, LATEST), `${name}\n`);
  return final;
}

export interface LoadedCheckpoint {
  dir: string;
  modelDir: string;
  optimizerPath: string;
  state: TrainState;
}

/** The run's latest checkpoint, with an error that says what is missing when the directory is not a resumable run. */
export function latestCheckpoint(runDir: string): LoadedCheckpoint {
  if (!existsSync(runDir)) throw new RunDirError(`--resume ${runDir}: no such directory`);
  const pointer = join(runDir, "checkpoints", LATEST);
  if (!existsSync(pointer)) {
    throw new RunDirError(`--resume ${runDir}: no checkpoints/${LATEST} file; this run never saved a checkpoint (start it anew with --out)`);
  }
  const dir = join(runDir, "checkpoints", readFileSync(pointer, "utf8").trim());
  const modelDir = join(dir, MODEL);
  const optimizerPath = join(dir, OPTIMIZER);
  if (!existsSync(optimizerPath) && existsSync(join(dir, OLD_OPTIMIZER))) {
    throw new RunDirError(
      `--resume ${runDir}: checkpoint ${dir} holds ${OLD_OPTIMIZER}, the optimizer format before ${OPTIMIZER}, which this version does not read (start anew with --out, or warm-start from its model/ with --checkpoint)`,
    );
  }
  for (const p of [join(dir, STATE), join(modelDir, "config.json"), optimizerPath]) {
    if (!existsSync(p)) throw new RunDirError(`--resume ${runDir}: checkpoint ${dir} is incomplete (missing ${p})`);
  }
  let state: TrainState;
  try {
    state = JSON.parse(readFileSync(join(dir, STATE), "utf8"));
  } catch (e) {
    throw new RunDirError(`--resume ${runDir}: ${join(dir, STATE)} is not valid JSON (${(e as Error).message})`);
  }
  if (!Number.isInteger(state.step) || !Array.isArray(state.rng) || typeof state.buffers !== "object" || state.buffers === null) {
    throw new RunDirError(`--resume ${runDir}: ${join(dir, STATE)} lacks step, rng or buffers`);
  }
  return { dir, modelDir, optimizerPath, state };
}
