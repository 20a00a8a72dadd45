// Public API of engine/: the AZR self-play engine (config, tasks, buffers, rewards, TRR++, trainer) and its policy.
//
//   const { config } = resolveConfig({ preset: "tiny" });
//   await runTraining({ config, preset: "tiny", outDir: "runs/x", resume: false, sink: process.stderr, interrupted: () => false });
export { resolveConfig, type ConfigSources } from "./config/load.ts";
export { TRAIN_PRESETS, TRAIN_PRESET_NAMES, type TrainPreset } from "./config/presets.ts";
export { REFERENCE_DEFAULTS, type TrainConfig } from "./config/schema.ts";
export { ConfigError, mergeConfig, validateConfig } from "./config/validate.ts";
export * from "./tasks/types.ts";
export * from "./tasks/parse.ts";
export * from "./tasks/prompts.ts";
export { Buffers, type BufferSnapshot } from "./buffers/buffers.ts";
export { ProgramBuffer } from "./buffers/buffer.ts";
export { drawInductionSource, drawReferences, drawSolveBatch } from "./buffers/sampling.ts";
export { loadInductionSeeds, loadIoSeeds, zeroSeedInduction, zeroSeedIo } from "./buffers/seed.ts";
export { inductionAccuracy, solverReward } from "./rewards/solver.ts";
export { proposerReward, solveRate } from "./rewards/proposer.ts";
export { whitenedAdvantages } from "./trr/advantage.ts";
export { lossGradients, surrogate } from "./trr/loss.ts";
export { runTraining, runConfig, type RunOptions, type RunResult } from "./trainer/run.ts";
export { trainStep, type StepReport } from "./trainer/step.ts";
export type { ExecutorLike, PolicyLike } from "./trainer/ports.ts";
export { RemotePolicy, RolloutWorker, RolloutWorkers, type WorkerBatch, type WorkerGeneration } from "./rollout-workers/index.ts";
export { Rng, type RngState } from "./rng.ts";
export { Tokenizer } from "./tokenizer/index.ts";
export { loadCheckpoint, makeCheckpoint, Policy, saveCheckpoint, type GenerateOptions, type Generation, type Sequence } from "./model/index.ts";
