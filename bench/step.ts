// `bun run bench step [--steps N] [--preset P] [--checkpoint DIR]`: where the time of a training step goes —
// generation (propose, learnability, solve), executor (validation, learnability, grading), update — with the
// executor's share of the step and its calls/s. Runs N steps of a fresh run (default: preset tiny, which starts from
// the shipped warm-start checkpoint, 2 steps: the first also pays one-time pipeline compiles, the last is reported
// as the warm step) and writes JSON into bench/results/ (tmp + rename).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { resolveConfig } from "../engine/config/load.ts";
import type { TrainPreset } from "../engine/config/presets.ts";
import type { TrainConfig } from "../engine/config/schema.ts";
import { METRICS, runTraining } from "../engine/trainer/run.ts";
import { writeResult } from "./report.ts";

interface StepRecord {
  step: number;
  seconds: number;
  time_ms: Record<string, number>;
  tokens: Record<string, number>;
  executor_calls: Record<string, number>;
}

const GROUPS = {
  generation: ["generate.propose", "generate.learnability", "generate.solve"],
  executor: ["executor.validate", "executor.learnability", "executor.grade"],
  update: ["update"],
} as const;

function breakdown(r: StepRecord) {
  const total = r.seconds * 1000;
  const ms = (k: string): number => r.time_ms[k] ?? 0;
  const rows = Object.entries(GROUPS).flatMap(([group, keys]) => keys.map((k) => ({ group, part: k, ms: ms(k), share: ms(k) / total })));
  const sum = (keys: readonly string[]) => keys.reduce((a, k) => a + ms(k), 0);
  const execMs = sum(GROUPS.executor);
  const calls = Object.values(r.executor_calls).reduce((a, b) => a + b, 0);
  const tokens = Object.values(r.tokens).reduce((a, b) => a + b, 0);
  return {
    step: r.step,
    stepMs: total,
    rows,
    generationMs: sum(GROUPS.generation),
    executorMs: execMs,
    updateMs: sum(GROUPS.update),
    executorShare: execMs / total,
    executorCalls: r.executor_calls,
    // Executor calls overlap on the pool's workers, so calls per second of executor phase time is the useful rate.
    executorCallsPerSecond: execMs > 0 ? (1000 * calls) / execMs : 0,
    generatedTokens: tokens,
    tokensPerSecond: sum(GROUPS.generation) > 0 ? (1000 * tokens) / sum(GROUPS.generation) : 0,
    otherMs: total - sum(GROUPS.generation) - execMs - sum(GROUPS.update),
  };
}

/** The run's config from the flags, or a usage error (exit 2) that names the flag or path. */
function configOrExit(args: string[]): { steps: number; preset: TrainPreset; config: TrainConfig } {
  try {
    const options = { steps: { type: "string" }, preset: { type: "string" }, checkpoint: { type: "string" } } as const;
    const { values } = parseArgs({ args, strict: true, options });
    const steps = values.steps === undefined ? 2 : Number(values.steps);
    if (!Number.isInteger(steps) || steps < 1) throw new Error(`--steps ${values.steps}: use a whole number ≥ 1`);
    // --checkpoint replaces the preset's model (a random one never formats a proposal, so the executor idles).
    const model = values.checkpoint === undefined ? {} : { model: { checkpoint: resolve(values.checkpoint) } };
    const patch = { steps, checkpointEvery: steps, eval: { every: 0 }, ...model };
    return { steps, ...resolveConfig({ preset: values.preset ?? "tiny", flags: [{ source: "bench", patch }] }) };
  } catch (e) {
    console.error(`bench step: ${(e as Error).message}\nusage: bun run bench step [--steps N] [--preset P] [--checkpoint DIR]`);
    process.exit(2);
  }
}

export async function main(args: string[]): Promise<void> {
  const { steps, preset, config } = configOrExit(args);
  const outDir = mkdtempSync(join(tmpdir(), "azr-bench-step-"));
  try {
    await runTraining({ config, preset, outDir, resume: false, sink: process.stderr, interrupted: () => false });
    const records: StepRecord[] = readFileSync(join(outDir, METRICS), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    const results = records.map(breakdown);
    const warm = results[results.length - 1];
    console.log(`${preset} step ${warm.step} of ${steps} (warm): ${(warm.stepMs / 1000).toFixed(1)} s on ${cpus().length} cores`);
    console.log("part                    ms   share");
    for (const r of warm.rows) console.log(`${r.part.padEnd(22)}${r.ms.toFixed(0).padStart(7)}  ${(100 * r.share).toFixed(1).padStart(5)}%`);
    console.log(`${"other (prompts, parse)".padEnd(22)}${warm.otherMs.toFixed(0).padStart(7)}  ${((100 * warm.otherMs) / warm.stepMs).toFixed(1).padStart(5)}%`);
    console.log(
      `generation ${(100 * warm.generationMs / warm.stepMs).toFixed(1)}% (${warm.tokensPerSecond.toFixed(1)} tok/s) | ` +
        `executor ${(100 * warm.executorShare).toFixed(1)}% (${warm.executorCallsPerSecond.toFixed(0)} calls/s, ${JSON.stringify(warm.executorCalls)}) | ` +
        `update ${(100 * warm.updateMs / warm.stepMs).toFixed(1)}%`,
    );
    const file = writeResult("step", { date: new Date().toISOString(), cpus: cpus().length, config, steps: results });
    console.log(`wrote ${file}`);
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}
