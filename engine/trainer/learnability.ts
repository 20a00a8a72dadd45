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
import { encodePrompt, rollouts } from "./rollout.ts";

export interface LearnabilityPrompt {
  prompt: string;
  ids: number[];
}

/** The solve prompt a new task's learnability rollouts use; null when it is over maxPromptTokens (reference filter). */
export function learnabilityPrompt(ctx: Pick<StepContext, "policy" | "config">, item: PosedProgram): LearnabilityPrompt | null {
  const prompt = solvePrompt(item);
  const ids = encodePrompt(ctx, prompt);
  return ids.length <= ctx.config.tasks.maxPromptTokens ? { prompt, ids } : null;
}

/** One solve rate per task (null: no answer could be judged), from its learnabilityPrompt. */
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
  let next = 0;
  return Promise.all(
    items.map(async ({ item }) => {
      const mine = outs.slice(next, next + n);
      next += n;
      const cache = new Map<string, Promise<boolean | number | null>>();
      const scores = await Promise.all(
        mine.map((o) => {
          const answer = extractAnswer(o.response);
          const key = item.task === "induction" ? `${cache.size}` : answer; // induction answers are not cached
          if (!cache.has(key)) {
            cache.set(key, gradeAnswer(ctx, "learnability", item, answer).then((g) => (g.verdict === null ? null : g.accuracy)));
          }
          return cache.get(key) as Promise<boolean | number | null>;
        }),
      );
      return solveRate(scores);
    }),
  );
}
