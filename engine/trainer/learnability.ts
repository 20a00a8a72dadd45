// Phase "learnability": the solve rate of each new task, from N fresh solver rollouts of the current policy at the
// learnability temperature (spec §4). They are graded by the executor and never trained on. The solver's tag
// format is not checked here (as in the reference); identical answers to one task are judged once.
import { extractAnswer, generationText } from "../tasks/parse.ts";
import { solvePrompt } from "../tasks/prompts.ts";
import type { PosedProgram } from "../tasks/types.ts";
import { solveRate } from "../rewards/proposer.ts";
import type { StepContext } from "./context.ts";
import { gradeAnswer } from "./grade.ts";
import { encodePrompt, rollouts } from "./rollout.ts";

/** One solve rate per task (null: its prompt is too long, or no answer could be judged). */
export async function solveRates(ctx: StepContext, items: readonly PosedProgram[]): Promise<Array<number | null>> {
  const { config } = ctx;
  const n = config.rewards.learnabilitySamples;
  const prompts = items.map((item) => {
    const prompt = solvePrompt(item, config.tasks.promptStyle);
    const ids = encodePrompt(ctx, prompt);
    return ids.length <= config.tasks.maxPromptTokens ? { prompt, ids } : null;
  });
  const batch = prompts.flatMap((p) => (p === null ? [] : Array.from({ length: n }, () => p)));
  const outs = await rollouts(ctx, "learnability", batch, {
    temperature: config.rewards.learnabilityTemperature,
    maxNew: config.rollout.maxNewTokens,
  });
  let next = 0;
  return Promise.all(
    items.map(async (item, i) => {
      if (prompts[i] === null) return null;
      const mine = outs.slice(next, next + n);
      next += n;
      const cache = new Map<string, Promise<boolean | number | null>>();
      const scores = await Promise.all(
        mine.map((o) => {
          const answer = extractAnswer(generationText(o.prompt, o.response, config.tasks.splitOnFirstAssistant));
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
