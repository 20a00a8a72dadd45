// Named starting points. `tiny` is the default of `bun run train`: the shipped warm-start checkpoint (a hidden-64,
// 2-layer Qwen2 made by `bun run warmstart` from generated programs only, engine/data/warmstart/README.md) with the
// compact prompts it was trained on, small enough for lavapipe on 2 CPU cores; every other AZR rule stays as in the
// reference, only sizes shrink. `qwen2.5-coder` is the paper's setting for a real Qwen2.5-Coder checkpoint (pass
// --checkpoint DIR) with the verbatim prompts.
import { join, resolve } from "node:path";
import type { ConfigPatch } from "./schema.ts";

const REPO_ROOT = resolve(import.meta.dir, "..", "..");
/** The reference's seed corpus, shipped in the repository (engine/data/azr-seed/README.md). */
export const SEED_CORPUS = resolve(REPO_ROOT, "engine", "data", "azr-seed");
/** The warm-start checkpoint shipped in the repository (bun run warmstart; its README records how it was made). */
export const WARMSTART_CHECKPOINT = resolve(REPO_ROOT, "engine", "data", "warmstart");

export const TRAIN_PRESETS = {
  tiny: {
    steps: 3,
    checkpointEvery: 1,
    model: { checkpoint: WARMSTART_CHECKPOINT, maxSeq: 1088, maxBatch: 8 },
    // Compact prompts: the documented CPU-scale departure (engine/tasks/compact-templates.ts); 3 references keep the
    // proposer's prompt under 768 tokens. 320 new tokens fit an induction proposal's ten inputs and message.
    tasks: { batchSize: 2, references: 3, contentMaxTokens: 768, maxPromptTokens: 768, promptStyle: "compact" },
    rollout: { maxNewTokens: 320 },
    eval: { every: 2, limit: 4, maxNewTokens: 64 },
    // The paper branch's entropy bonus (0.001): it keeps every parameter moving even in a batch whose rewards tie.
    algorithm: { entropyCoeff: 0.001 },
  },
  "qwen2.5-coder": {
    data: {
      seedFile: join(SEED_CORPUS, "7b_coder_seed_io.jsonl"),
      inductionSeedFile: join(SEED_CORPUS, "7b_coder_code_f_seed_io.jsonl"),
    },
  },
} satisfies Record<string, ConfigPatch>;

export type TrainPreset = keyof typeof TRAIN_PRESETS;
export const TRAIN_PRESET_NAMES = Object.keys(TRAIN_PRESETS) as TrainPreset[];
export const DEFAULT_TRAIN_PRESET: TrainPreset = "tiny";
/** Presets that cannot make their own model. */
export const NEEDS_CHECKPOINT: ReadonlySet<TrainPreset> = new Set(["qwen2.5-coder"]);
