// Phase "learnability": the solve rate of each new task, from N fresh solver rollouts of the current policy at the
// learnability temperature (docs/reference.md §4). They are graded by the executor and never trained on. As in the
// reference (rewards/reward_managers.py, _get_problem_generator_rewards_and_valid_programs), the answer is read from
// the decoded response alone, the solver's tag format is not checked, and identical answers to one task are judged
// once. A task whose solve prompt is over maxPromptTokens has no estimate and is not buffered.
import { extractAnswer } from "../tasks/parse.ts";
import { solvePrompt } from "../tasks/prompts.ts";
import type { PosedProgram } from "../tasks/types.ts";
import { solveRate } from "../rewards/proposer.ts";
import type { StepContext } from "./context.ts";
import { gradeAnswer } from "./grade.ts";
import { encodePrompt, rollouts, type TokenizerHolder } from "./rollout.ts";

export interface LearnabilityPrompt {
  prompt: string;
  ids: number[];
}

/** The solve prompt a new task's learnability rollouts use; null when it is over maxPromptTokens (reference filter). */
export function learnabilityPrompt(ctx: Pick<StepContext, "config"> & TokenizerHolder, item: PosedProgram): LearnabilityPrompt | null {
  const prompt = solvePrompt(item, ctx.config.tasks.promptStyle);
  const ids = encodePrompt(ctx, prompt);
  return ids.length <= ctx.config.tasks.maxPromptTokens ? { prompt, ids } : null;
}

export interface ProposalOutcome {
  valid: boolean;
  formatOk: boolean;
  /** The task a valid proposal poses. */
  item: PosedProgram | null;
}

/**
 * What happens to a step's proposals: every valid one whose learnability prompt fits is buffered (a too-long one is
 * not, as in the reference); of those, the well-formatted ones get a learnability estimate (the others are −1 anyway).
 */
export function learnabilityPlan(
  ctx: Pick<StepContext, "config"> & TokenizerHolder,
  proposals: readonly ProposalOutcome[],
): { estimate: Array<{ index: number; item: PosedProgram; prompt: LearnabilityPrompt }>; buffer: PosedProgram[] } {
  const estimate: Array<{ index: number; item: PosedProgram; prompt: LearnabilityPrompt }> = [];
  const buffer: PosedProgram[] = [];
  proposals.forEach((p, index) => {
    if (!p.valid || p.item === null) return;
    const prompt = learnabilityPrompt(ctx, p.item);
    if (prompt === null) return;
    buffer.push(p.item);
    if (p.formatOk) estimate.push({ index, item: p.item, prompt });
  });
  return { estimate, buffer };
}

/** One solve rate per task (null: no answer could be judged), from N rollouts of its learnabilityPrompt. */
export async function solveRates(
  ctx: StepContext,
  items: ReadonlyArray<{ item: PosedProgram; prompt: LearnabilityPrompt }>,
): Promise<Array<number | null>> {
  const { config } = ctx;
  const n = config.rewards.learnabilitySamples;
  const batch = items.flatMap(({ prompt }) => Array.from({ length: n }, () => prompt));
  const outs = await rollouts(ctx, "learnability", batch, {
    temperature: config.rewards.learnabilityTemperature,
    maxNew: config.rollout.maxNewTokens,
  });
  return Promise.all(items.map(({ item }, k) => rateFromResponses(ctx, item, outs.slice(k * n, (k + 1) * n).map((o) => o.response))));
}

/**
 * The solve rate of one task from its learnability responses (each decoded without special tokens): the answer is
 * read from the response alone, the format is not checked, identical answers are judged once (induction excepted).
 */
export async function rateFromResponses(
  ctx: Pick<StepContext, "executor" | "clock" | "progress" | "config">,
  item: PosedProgram,
  responses: readonly string[],
): Promise<number | null> {
  const cache = new Map<string, Promise<boolean | number | null>>();
  const scores = await Promise.all(
    responses.map((response) => {
      const answer = extractAnswer(response);
      const key = item.task === "induction" ? `${cache.size}` : answer; // induction answers are not cached
      if (!cache.has(key)) {
        cache.set(key, gradeAnswer(ctx, "learnability", item, answer).then((g) => (g.verdict === null ? null : g.accuracy)));
      }
      return cache.get(key) as Promise<boolean | number | null>;
    }),
  );
  return solveRate(scores);
}
