// A training run: set up (run directory, model, executor, buffers, Rng) or resume from the latest checkpoint, then
// steps until the configured count, with metrics, summaries, evaluation and checkpoints. Ctrl-C stops at the next
// phase boundary and saves the last completed step; a second Ctrl-C exits at once.
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Executor, FleetClient } from "../../sandbox/index.ts";
import { Buffers } from "../buffers/buffers.ts";
import type { TrainConfig } from "../config/schema.ts";
import * as model from "../model/index.ts";
import { Rng } from "../rng.ts";
import type { JobSizes } from "../rollout-workers/protocol.ts";
import { RemotePolicy, RolloutWorkers } from "../rollout-workers/index.ts";
import { writeAtomic } from "../write-atomic.ts";
import { latestCheckpoint, RunDirError, saveRunCheckpoint, type TrainState } from "./checkpoint.ts";
import { Clock } from "./clock.ts";
import { Interrupted, type StepContext } from "./context.ts";
import { CURVE, curvePage } from "./curve.ts";
import { evaluate, evalSnippets, evalTasks, type EvalTasks } from "./evaluate.ts";
import { evalLine, metricsRecord, summaryLine } from "./metrics.ts";
import type { ExecutorLike, PolicyLike } from "./ports.ts";
import { ProgressDisplay, type ProgressSink } from "./progress.ts";
import type { StepSamples } from "./samples.ts";
import { trainStep } from "./step.ts";

export const RUN_CONFIG = "config.json";
export const METRICS = "metrics.jsonl";
export const SAMPLES = "samples.jsonl";
export const LOG = "train.log";
export { RunDirError };
const INITIAL_MODEL = "initial-model";

export interface RunOptions {
  config: TrainConfig;
  preset: string;
  outDir: string;
  /** Continue the run in outDir from its latest checkpoint. */
  resume: boolean;
  sink: ProgressSink | null;
  /** Polled at phase boundaries. */
  interrupted: () => boolean;
}

export interface RunResult {
  lastStep: number;
  interrupted: boolean;
}

/** The saved config of a run directory (what --resume continues with). */
export function runConfig(outDir: string): { preset: string; config: TrainConfig } {
  const path = join(outDir, RUN_CONFIG);
  if (!existsSync(path)) throw new RunDirError(`--resume ${outDir}: no ${RUN_CONFIG}; not a run directory made by bun run train`);
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new RunDirError(`--resume ${outDir}: ${RUN_CONFIG} is not valid JSON (${(e as Error).message})`);
  }
}

/** JSONL lines of steps ≤ `step` only: a resumed run rewrites what the killed run logged past its checkpoint. */
function truncateSteps(path: string, step: number): void {
  if (!existsSync(path)) return;
  const keep = readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => {
      try {
        return (JSON.parse(line) as { step: number }).step <= step;
      } catch {
        return false; // a torn last line
      }
    });
  writeAtomic(path, keep.map((l) => `${l}\n`).join(""));
}

/** metrics.jsonl's records drawn as curve.html (atomically: a reader never sees half a page). */
function writeCurve(outDir: string, preset: string): void {
  const records = readFileSync(join(outDir, METRICS), "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown> & { step: number });
  writeAtomic(join(outDir, CURVE), curvePage(`AZR run ${outDir} (preset ${preset})`, records));
}

/** The in-process pool, or the fleet at executor.url, asked to run with the same result-deciding options. */
function executorFor(c: TrainConfig): Promise<Executor | FleetClient> {
  const options = {
    timeoutMs: c.executor.timeoutMs,
    memoryMiB: c.executor.memoryMiB,
    hashSeed: c.executor.hashSeed,
    compat: c.executor.compat,
    bannedImports: [...new Set(c.tasks.bannedWords)],
  };
  if (c.executor.url !== null) return FleetClient.connect({ url: c.executor.url, expect: options });
  return Executor.create({ ...options, workers: c.executor.workers });
}

/** The learner's side of the rollout workers; the local policy is freed if they cannot be reached. */
async function rolloutWorkers(c: TrainConfig, sizes: JobSizes, log: (text: string) => void, local: PolicyLike): Promise<RolloutWorkers> {
  try {
    const workers = await RolloutWorkers.connect(c.rollout.workers!, { sizes, stream: c.rollout.workersStream, log });
    log(`generation runs on rollout workers: bun run rollout-worker --nats ${c.rollout.workers} --stream ${c.rollout.workersStream}`);
    return workers;
  } catch (e) {
    local.destroy();
    throw e;
  }
}

export async function runTraining(o: RunOptions): Promise<RunResult> {
  const { config, outDir } = o;
  const log = (text: string): void => {
    progress.line(text);
    appendFileSync(join(outDir, LOG), `${text}\n`);
  };
  const progress = new ProgressDisplay(o.sink, config.steps);
  mkdirSync(outDir, { recursive: true });
  const seeds = Buffers.seeded(config.buffers, config.data);
  const seedSnippets = new Set([...seeds.abduction.snapshot(), ...seeds.deduction.snapshot()].map((p) => p.snippet));

  let buffers: Buffers;
  let rng: Rng;
  let start: number;
  let modelDir: string;
  let optimizerPath: string | null = null;
  const initialModel = config.model.checkpoint ?? join(outDir, INITIAL_MODEL);
  if (o.resume) {
    const ck = latestCheckpoint(outDir);
    buffers = Buffers.restored(config.buffers, ck.state.buffers, ck.state.step);
    rng = Rng.fromState(ck.state.rng);
    start = ck.state.step;
    modelDir = ck.modelDir;
    optimizerPath = ck.optimizerPath;
    truncateSteps(join(outDir, METRICS), start);
    truncateSteps(join(outDir, SAMPLES), start);
    log(`resuming ${outDir} after step ${start} (${ck.dir})`);
  } else {
    if (existsSync(join(outDir, "checkpoints")) || existsSync(join(outDir, METRICS))) {
      throw new RunDirError(`--out ${outDir} already holds a run; continue it with --resume ${outDir} or choose another --out`);
    }
    writeFileSync(join(outDir, RUN_CONFIG), JSON.stringify({ preset: o.preset, config }, null, 2));
    if (config.model.checkpoint === null) {
      progress.line(`making a random ${config.model.makePreset} checkpoint in ${initialModel}`);
      await model.makeCheckpoint(initialModel, { preset: config.model.makePreset, seed: config.model.makeSeed });
    }
    buffers = seeds;
    rng = Rng.seeded(config.seed);
    start = 0;
    modelDir = initialModel;
  }

  const sizes = { maxSeq: config.model.maxSeq, maxBatch: config.model.maxBatch };
  const local: PolicyLike = await model.Policy.load(modelDir, { ...sizes, weightDtype: config.model.weightDtype });
  log(local.memoryPlan(sizes.maxBatch, sizes.maxSeq));
  const workers = config.rollout.workers === null ? null : await rolloutWorkers(config, sizes, log, local);
  // The weights after step `start` are version `start`; each optimizer step makes the next.
  const policy: PolicyLike = workers ? new RemotePolicy(local, workers, start) : local;
  const reference: PolicyLike | null =
    config.algorithm.klCoeff > 0 ? await model.Policy.load(initialModel, { ...sizes, weightDtype: config.model.weightDtype, training: false }) : null;
  const executor = await executorFor(config);
  if (config.executor.url !== null) log(`executor: the fleet at ${config.executor.url}`);
  try {
    if (optimizerPath) await policy.loadOptimizer(optimizerPath);
    const tasks: EvalTasks | null = config.eval.every > 0 ? evalTasks(config.eval, seedSnippets) : null;
    if (tasks) buffers.withhold(evalSnippets(tasks));
    const state = (step: number, at: { rng: Rng; buffers: Buffers }): TrainState => ({ step, rng: at.rng.state(), buffers: at.buffers.snapshot() });
    const evaluateAt = async (ctx: StepContext): Promise<Awaited<ReturnType<typeof evaluate>>> => {
      progress.phase("eval");
      const evaluation = await evaluate(ctx, tasks as EvalTasks);
      log(evalLine(evaluation));
      return evaluation;
    };
    if (!o.resume) {
      await saveRunCheckpoint(outDir, state(0, { rng, buffers }), policy);
      if (tasks) {
        // The "before" of every curve: the starting model on the same held-out tasks.
        const ctx: StepContext = { policy, executor: executor as ExecutorLike, config, rng, clock: new Clock(), progress, step: 0, interrupted: o.interrupted };
        appendFileSync(join(outDir, METRICS), `${JSON.stringify({ step: 0, eval: await evaluateAt(ctx) })}\n`);
        writeCurve(outDir, o.preset);
      }
    }
    const deadline = config.maxMinutes > 0 ? Date.now() + config.maxMinutes * 60_000 : Infinity;

    for (let step = start + 1; step <= config.steps; step++) {
      // What a Ctrl-C during this step saves: the state after the previous step (the policy only changes in update).
      const before = { rng: Rng.fromState(rng.state()), buffers: Buffers.restored(config.buffers, buffers.snapshot(), step - 1) };
      const clock = new Clock();
      const ctx: StepContext = { policy, executor: executor as ExecutorLike, config, rng, clock, progress, step, interrupted: o.interrupted };
      progress.startStep(step, clock);
      let report;
      try {
        report = await trainStep(ctx, buffers, reference);
      } catch (e) {
        if (!(e instanceof Interrupted)) throw e;
        progress.line(`interrupted: saving the state after step ${step - 1}`);
        progress.line(`saved checkpoint ${await saveRunCheckpoint(outDir, state(step - 1, before), policy)}`);
        return { lastStep: step - 1, interrupted: true };
      }
      progress.endStep();
      log(summaryLine(report));
      // The last step of the run: the configured count, or the first to end past the time budget.
      const last = step === config.steps || Date.now() >= deadline;
      const evaluation = tasks && (step % config.eval.every === 0 || last) ? await evaluateAt(ctx) : null;
      if (config.samplesPerBatch > 0) appendFileSync(join(outDir, SAMPLES), `${JSON.stringify({ step, samples: report.samples } satisfies StepSamples)}\n`);
      appendFileSync(join(outDir, METRICS), `${JSON.stringify(metricsRecord(report, clock, evaluation))}\n`);
      if (evaluation || last) writeCurve(outDir, o.preset);
      if (step % config.checkpointEvery === 0 || last || o.interrupted()) {
        const saved = await clock.time("checkpoint", () => saveRunCheckpoint(outDir, state(step, { rng, buffers }), policy));
        progress.line(`saved checkpoint ${saved}`);
        if (o.interrupted()) return { lastStep: step, interrupted: true };
      }
      if (last && step < config.steps) {
        log(`time budget of ${config.maxMinutes} min spent after step ${step}; continue with bun run train --resume ${outDir}`);
        return { lastStep: step, interrupted: false };
      }
    }
    return { lastStep: Math.max(start, config.steps), interrupted: false };
  } finally {
    await executor.close();
    await workers?.close();
    policy.destroy();
    reference?.destroy();
  }
}
