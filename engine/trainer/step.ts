// One training step (docs/reference.md §0): build all prompt sets from a snapshot of the buffers, then for each task type propose
// → validate → learnability → reward → buffer, and solve → grade → reward; finally one update over every trained
// sequence. Returns the step's report (metrics.ts turns it into the summary line and the JSONL record).
import type { Buffers } from "../buffers/buffers.ts";
import type { Role, TaskType } from "../tasks/types.ts";
import { Interrupted, type StepContext } from "./context.ts";
import type { PolicyLike } from "./ports.ts";
import { Rng } from "../rng.ts";
import { type ProposeDraft, proposeDrafts } from "./propose.ts";
import { rewardProposals } from "./reward-proposals.ts";
import { rollouts } from "./rollout.ts";
import { scoreSolve, solveDrafts } from "./solve.ts";
import { answerSamples, proposalSamples, type Sample } from "./samples.ts";
import { type AdvantageStats, advantageStats, type TrainedSequence, update, type UpdateStats } from "./update.ts";
import { validateProposal } from "./validate.ts";

export interface BatchReport {
  task: TaskType;
  role: Role;
  size: number;
  meanReward: number;
  /** Responses whose tags pass the format regex. */
  formatRate: number;
  /** propose: valid proposals; solve: correct answers. */
  successRate: number;
  /** propose only: mean learnability solve rate over the estimated proposals (null when none). */
  meanSolveRate: number | null;
  /** Prompts dropped for length. */
  dropped: number;
  /** propose only: every learnability solve rate of the batch (its distribution, 0 and 1 included). */
  solveRates: number[];
}

export interface StepReport {
  step: number;
  batches: BatchReport[];
  buffers: { abduction: number; deduction: number; induction: number };
  added: number;
  /** Valid proposals kept out of the buffers because they are held-out evaluation programs. */
  withheld: number;
  update: UpdateStats;
  /** Per (task, role) batch, e.g. "deduction/solve". */
  advantages: Record<string, AdvantageStats>;
  /** The first config.samplesPerBatch proposals and answers of each batch. */
  samples: Sample[];
  seconds: number;
}

const mean = (xs: readonly number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

/** What a step's phases append to, in order. */
interface StepOutputs {
  trained: TrainedSequence[];
  batches: BatchReport[];
  samples: Sample[];
}

/** propose → validate → learnability → reward → buffer for one task; returns what the buffers took and refused. */
async function proposePhase(ctx: StepContext, buffers: Buffers, task: TaskType, propose: ProposeDraft[], out: StepOutputs): Promise<{ added: number; withheld: number }> {
  const { config } = ctx;
  stopIfInterrupted(ctx);
  ctx.progress.phase(`propose ${task}`);
  const proposed = await rollouts(ctx, "propose", propose, sampling(ctx));
  stopIfInterrupted(ctx);
  ctx.progress.phase(`validate ${task}`);
  const proposals = await Promise.all(proposed.map((o, i) => validateProposal(ctx, propose[i], o.response)));
  stopIfInterrupted(ctx);
  ctx.progress.phase(`learnability ${task}`);
  const rewarded = await rewardProposals(ctx, buffers, task, proposals);
  proposed.forEach((o, i) => out.trained.push({ batch: `${task}/propose`, promptIds: o.promptIds, responseIds: o.responseIds, reward: rewarded.rewards[i] }));
  const known = rewarded.solveRates;
  out.samples.push(...proposalSamples(task, proposed, proposals, rewarded.solveRateOf, rewarded.rewards, config.samplesPerBatch));
  out.batches.push({
    task,
    role: "propose",
    size: proposals.length,
    meanReward: mean(rewarded.rewards),
    formatRate: mean(proposals.map((p) => (p.formatOk ? 1 : 0))),
    successRate: mean(proposals.map((p) => (p.valid ? 1 : 0))),
    meanSolveRate: known.length ? mean(known) : null,
    dropped: 0,
    solveRates: known,
  });
  return { added: rewarded.added, withheld: rewarded.withheld };
}
/** solve → grade → reward for one task's solver prompts. */
async function solvePhase(ctx: StepContext, task: TaskType, solve: ReturnType<typeof solveDrafts>, out: StepOutputs): Promise<void> {
  stopIfInterrupted(ctx);
  ctx.progress.phase(`solve ${task}`);
  const solved = await rollouts(ctx, "solve", solve.drafts, sampling(ctx));
  stopIfInterrupted(ctx);
  ctx.progress.phase(`grade ${task}`);
  const outcomes = await Promise.all(solved.map((o, i) => scoreSolve(ctx, solve.drafts[i], o)));
  solved.forEach((o, i) => out.trained.push({ batch: `${task}/solve`, promptIds: o.promptIds, responseIds: o.responseIds, reward: outcomes[i].reward }));
  out.samples.push(...answerSamples(solve.drafts, solved, outcomes, ctx.config.samplesPerBatch));
  out.batches.push({
    task,
    role: "solve",
    size: outcomes.length,
    meanReward: mean(outcomes.map((o) => o.reward)),
    formatRate: mean(outcomes.map((o) => (o.formatOk ? 1 : 0))),
    successRate: mean(outcomes.map((o) => (o.correct ? 1 : 0))),
    meanSolveRate: null,
    dropped: solve.dropped,
    solveRates: [],
  });
}

const sampling = (ctx: StepContext) => ({ temperature: ctx.config.rollout.temperature, maxNew: ctx.config.rollout.maxNewTokens });

function stopIfInterrupted(ctx: StepContext): void {
  if (ctx.interrupted()) throw new Interrupted(`interrupted during step ${ctx.step}`);
}

export async function trainStep(ctx: StepContext, buffers: Buffers, reference: PolicyLike | null): Promise<StepReport> {
  const started = performance.now();
  const { config } = ctx;
  // Every prompt set of the step comes from this snapshot, before any of the step's proposals land.
  const snapshot = buffers.snapshot();
  const proposing = config.tasks.roles.includes("propose");
  const plans = config.tasks.types.map((task) => ({ task, propose: proposing ? proposeDrafts(ctx, task, snapshot) : null, solve: solveDrafts(ctx, task, snapshot) }));
  const trained: TrainedSequence[] = [];
  const batches: BatchReport[] = [];
  const samples: Sample[] = [];
  let added = 0;
  let withheld = 0;

  for (const { task, propose, solve } of plans) {
    if (propose) {
      const took = await proposePhase(ctx, buffers, task, propose, { trained, batches, samples });
      added += took.added;
      withheld += took.withheld;
    }
    await solvePhase(ctx, task, solve, { trained, batches, samples });
  }

  // Last chance to stop: after the update the step is complete and must be checkpointed as such.
  stopIfInterrupted(ctx);
  ctx.progress.phase("update");
  // The control run's permutation draws from its own stream, so the run's Rng (and every later sample) is untouched.
  const shuffle = config.algorithm.shuffleAdvantages ? Rng.seeded(((config.seed >>> 0) ^ 0x9e3779b9) + ctx.step) : null;
  const stats = await ctx.clock.time("update", () => update(ctx, trained, reference, shuffle));
  const advantages = advantageStats(trained, config.algorithm.whitening, config.algorithm.whitenEps);
  return { step: ctx.step, batches, buffers: buffers.sizes(), added, withheld, update: stats, advantages, samples, seconds: (performance.now() - started) / 1000 };
}
