// Named starting points. `tiny` is the default of `bun run train`: a random-init Qwen2-shaped model small enough for
// lavapipe on 2 CPU cores (a few full steps in minutes); every AZR rule stays as in the reference, only sizes shrink.
// `qwen2.5-coder` is the paper's setting for a real Qwen2.5-Coder checkpoint (pass --checkpoint DIR).
import { join, resolve } from "node:path";
import type { ConfigPatch } from "./schema.ts";

const REPO_ROOT = resolve(import.meta.dir, "..", "..");
/** The reference's seed corpus, shipped in the repository (engine/data/azr-seed/README.md). */
export const SEED_CORPUS = resolve(REPO_ROOT, "engine", "data", "azr-seed");

export const PRESETS = {
  tiny: {
    steps: 3,
    checkpointEvery: 1,
    model: { checkpoint: null, maxSeq: 1600, maxBatch: 8 },
    tasks: { batchSize: 2, contentMaxTokens: 1536, maxPromptTokens: 1536 },
    rollout: { maxNewTokens: 24 },
    eval: { every: 2, limit: 4, maxNewTokens: 24 },
    // A random model never writes the tags, so every reward is −1 and every advantage 0; the paper branch's entropy
    // bonus (0.001) keeps the update doing real work on this smoke-test preset.
    algorithm: { entropyCoeff: 0.001 },
  },
  "qwen2.5-coder": {
    data: {
      seedFile: join(SEED_CORPUS, "7b_coder_seed_io.jsonl"),
      inductionSeedFile: join(SEED_CORPUS, "7b_coder_code_f_seed_io.jsonl"),
    },
  },
} satisfies Record<string, ConfigPatch>;

export type PresetName = keyof typeof PRESETS;
export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];
export const DEFAULT_PRESET: PresetName = "tiny";
/** Presets that cannot make their own model. */
export const NEEDS_CHECKPOINT: ReadonlySet<PresetName> = new Set(["qwen2.5-coder"]);
