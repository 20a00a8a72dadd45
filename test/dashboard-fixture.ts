// A run directory for the dashboard tests, written with the trainer's own record builders (metricsRecord,
// proposalSamples, answerSamples) from made-up step reports, so its lines have exactly the shapes a real run writes.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { resolveConfig } from "../engine/config/load.ts";
import type { IoProgram, InductionProgram, TaskType } from "../engine/tasks/types.ts";
import { Clock } from "../engine/trainer/clock.ts";
import type { EvalReport } from "../engine/trainer/evaluate.ts";
import { metricsRecord } from "../engine/trainer/metrics.ts";
import type { Rollout } from "../engine/trainer/rollout.ts";
import { answerSamples, proposalSamples, type Sample, type StepSamples } from "../engine/trainer/samples.ts";
import type { SolveDraft } from "../engine/trainer/solve.ts";
import type { BatchReport, StepReport } from "../engine/trainer/step.ts";
import type { Proposal } from "../engine/trainer/validate.ts";

const TASKS: TaskType[] = ["abduction", "deduction", "induction"];
export const FIXTURE_EVAL_EVERY = 2;
export const FIXTURE_SAMPLES_PER_BATCH = 2;

const rollout = (response: string): Rollout => ({ prompt: "p", promptIds: [1], responseIds: [2, 3], response, finish: "stop" });

function program(task: TaskType, step: number, k: number): IoProgram | InductionProgram {
  const snippet = `def f(x):\n    return x * ${k + 2} + ${step}`;
  if (task === "induction") return { snippet, inputs: ["1", "2"], outputs: [String(k + 2 + step), String(2 * (k + 2) + step)], message: "multiply, then add", imports: [], step };
  return { snippet, input: String(k), output: String(k * (k + 2) + step), imports: [], step };
}

/** The samples of one step: per task, valid and invalid proposals and right and wrong answers. */
function stepSamples(step: number): Sample[] {
  const out: Sample[] = [];
  for (const task of TASKS) {
    const proposals: Proposal[] = [
      { formatOk: true, valid: true, program: program(task, step, 0) },
      { formatOk: false, valid: false, reason: "no <answer> block" },
    ];
    const responses = proposals.map((_, k) => rollout(`<think>step ${step} ${task} proposal ${k}</think><answer>\`\`\`python\n${program(task, step, k).snippet}\n\`\`\`</answer>`));
    out.push(...proposalSamples(task, responses, proposals, (i) => (i === 0 ? 0.375 : null), [0.625, -1], FIXTURE_SAMPLES_PER_BATCH));
    const drafts: SolveDraft[] = [0, 1].map((k) => ({ item: { task, program: program(task, 0, k) } as SolveDraft["item"], prompt: "p", ids: [1] }));
    const answers = [rollout(`<answer>${k0(task)}</answer>`), rollout("I do not know")];
    out.push(...answerSamples(drafts, answers, [{ reward: 1, formatOk: true, correct: true }, { reward: -1, formatOk: false, correct: false }], FIXTURE_SAMPLES_PER_BATCH));
  }
  return out;
}
const k0 = (task: TaskType): string => (task === "deduction" ? "0" : task === "abduction" ? "0" : "def f(x):\n    return x * 2");

/** A step report with smooth, step-dependent numbers (every chart gets a non-trivial curve). */
function stepReport(step: number): StepReport {
  const batches: BatchReport[] = TASKS.flatMap((task, t) => [
    {
      task,
      role: "propose" as const,
      size: 8,
      meanReward: -1 + step * 0.1 + t * 0.05,
      formatRate: Math.min(1, 0.2 + step * 0.08),
      successRate: Math.min(1, 0.1 + step * 0.07),
      meanSolveRate: 0.3 + 0.02 * step,
      dropped: 0,
      // The distribution the dashboard splits at its extremes: some 0s and 1s, some between.
      solveRates: [0, 0, 0.125, 0.5, 0.875, 1].slice(0, 3 + ((step + t) % 4)),
    },
    {
      task,
      role: "solve" as const,
      size: 8,
      meanReward: -0.5 + step * 0.05,
      formatRate: Math.min(1, 0.3 + step * 0.06),
      successRate: Math.min(1, 0.05 * step),
      meanSolveRate: null,
      dropped: step % 3 === 0 ? 1 : 0,
      solveRates: [],
    },
  ]);
  const advantages = Object.fromEntries(
    batches.map((b) => [`${b.task}/${b.role}`, { mean: 0.01 * step, std: 0.9 + 0.01 * step, min: -1.5 - 0.01 * step, max: 1.2 + 0.02 * step }]),
  );
  return {
    step,
    batches,
    buffers: { abduction: 4 + step, deduction: 4 + 2 * step, induction: 1 + step },
    added: 3,
    withheld: 0,
    update: { pgLoss: -0.01 * step, entropy: 2.5 - 0.05 * step, kl: 0.001 * step, clipFraction: 0.02, loss: -0.01 * step - 0.0025, gradNorm: 0.5 + 0.03 * step, sequences: 48, tokens: 1200, optimizerSteps: 1, skippedSteps: 0 },
    advantages,
    samples: stepSamples(step),
    seconds: 40 + step,
  };
}

function stepClock(step: number): Clock {
  const clock = new Clock();
  const ms: Array<[Parameters<Clock["ms"]["set"]>[0], number]> = [
    ["generate.propose", 9000 + 10 * step],
    ["generate.learnability", 15000],
    ["generate.solve", 8000],
    ["executor.validate", 1500],
    ["executor.learnability", 2500],
    ["executor.grade", 900],
    ["update", 3000 + 5 * step],
  ];
  for (const [k, v] of ms) clock.ms.set(k, v);
  clock.addTokens("propose", 400 + step);
  clock.addTokens("learnability", 3000);
  clock.addTokens("solve", 380);
  clock.addCalls("validate", 24);
  clock.addCalls("learnability", 120);
  clock.addCalls("grade", 24);
  return clock;
}

function evalReport(step: number): EvalReport {
  const generated = { deduction: { correct: step, total: 256 }, abduction: { correct: 2 * step, total: 256 }, induction: { correct: 1, total: 256 }, formatRate: 0.9, dropped: 0 };
  return { step, deduction: { correct: Math.min(4, step >> 1), total: 4 }, abduction: { correct: Math.min(4, step >> 2), total: 4 }, formatRate: 0.5, dropped: 0, generated };
}

/** One metrics.jsonl line of `step`, exactly as the trainer writes it (with eval every FIXTURE_EVAL_EVERY steps). */
export function fixtureMetricsLine(step: number): string {
  return `${JSON.stringify(metricsRecord(stepReport(step), stepClock(step), step % FIXTURE_EVAL_EVERY === 0 ? evalReport(step) : null))}\n`;
}

export function fixtureSamplesLine(step: number): string {
  return `${JSON.stringify({ step, samples: stepReport(step).samples } satisfies StepSamples)}\n`;
}

/** A run directory with config.json, `steps` metrics and samples lines, and train.log; returns its path. */
export function writeFixtureRun(dir: string, steps: number, overrides: Array<{ source: string; patch: unknown }> = []): string {
  mkdirSync(dir, { recursive: true });
  const { preset, config } = resolveConfig({ preset: "tiny", flags: [{ source: "fixture", patch: { samplesPerBatch: FIXTURE_SAMPLES_PER_BATCH, eval: { every: FIXTURE_EVAL_EVERY } } }, ...overrides] });
  writeFileSync(join(dir, "config.json"), JSON.stringify({ preset, config }, null, 2));
  const range = Array.from({ length: steps }, (_, i) => i + 1);
  writeFileSync(join(dir, "metrics.jsonl"), range.map(fixtureMetricsLine).join(""));
  writeFileSync(join(dir, "samples.jsonl"), range.map(fixtureSamplesLine).join(""));
  writeFileSync(join(dir, "train.log"), range.map((s) => `step ${s} | fixture`).join("\n") + "\n");
  return dir;
}
