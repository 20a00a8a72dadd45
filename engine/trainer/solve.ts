// Phase "solve": the step's solve batches, drawn from the buffer snapshot taken before this step's proposals (so
// tasks proposed at step t are first solved at t + 1), and the solver rewards of their rollouts
// (docs/reference.md §1.4, §4, §5).
import type { BufferSnapshot } from "../buffers/buffers.ts";
import { drawSolveBatch, recentEntries } from "../buffers/sampling.ts";
import { solverReward } from "../rewards/solver.ts";
import { extractAnswer, formatOk, generationText, parseInductionSolution } from "../tasks/parse.ts";
import { solvePrompt } from "../tasks/prompts.ts";
import type { PosedProgram, TaskType } from "../tasks/types.ts";
import type { StepContext } from "./context.ts";
import { gradeAnswer } from "./grade.ts";
import { encodePrompt, type Rollout, type TokenizerHolder } from "./rollout.ts";

export interface SolveDraft {
  item: PosedProgram;
  prompt: string;
  ids: number[];
}

/**
 * The solve prompts of one task type. Over-long ones are dropped (counted in `dropped`); with solveLengthFilter
 * "refill" (the reference's get_pred_code_io_data) the limit is contentMaxTokens and the batch is refilled to its size
 * with uniform draws, with replacement, from the prompts kept so far; with "drop" the limit is maxPromptTokens and the
 * batch stays smaller.
 */
export function solveDrafts(
  ctx: Pick<StepContext, "config" | "rng" | "step"> & TokenizerHolder,
  task: TaskType,
  snapshot: BufferSnapshot,
): { drafts: SolveDraft[]; dropped: number } {
  const { buffers, tasks } = ctx.config;
  const entries = snapshot[task] as ReadonlyArray<PosedProgram["program"]>;
  const offered = snapshot.offered?.[task] ?? [];
  const recent = recentEntries(entries, offered, ctx.step, buffers.recentWindow, buffers.recentSet);
  const picked = drawSolveBatch(entries, recent, tasks.batchSize, buffers.solveMix, ctx.rng);
  const refill = tasks.solveLengthFilter === "refill";
  const limit = refill ? tasks.contentMaxTokens : tasks.maxPromptTokens;
  const drafts: SolveDraft[] = [];
  for (const program of picked) {
    const item = { task, program } as PosedProgram;
    const prompt = solvePrompt(item, tasks.promptStyle);
    const ids = encodePrompt(ctx, prompt);
    if (ids.length <= limit) drafts.push({ item, prompt, ids });
  }
  const dropped = picked.length - drafts.length;
  if (refill && dropped > 0) {
    if (drafts.length === 0) {
      throw new Error(
        `no ${task} solve prompt of ≤ ${limit} tokens among ${picked.length} drawn; raise tasks.contentMaxTokens or use a seed corpus with shorter programs`,
      );
    }
    // Like the reference, each draw is from the list as it has grown so far.
    while (drafts.length < tasks.batchSize) drafts.push(drafts[ctx.rng.int(drafts.length)]);
  }
  return { drafts, dropped };
}

export interface SolveOutcome {
  reward: number;
  formatOk: boolean;
  correct: boolean;
}

/** Reward of one solver rollout: −1 on bad tags (not executed; induction also needs a code block), else graded. */
export async function scoreSolve(ctx: Pick<StepContext, "executor" | "clock" | "progress" | "config" | "step">, draft: SolveDraft, rollout: Rollout): Promise<SolveOutcome> {
  const generation = generationText(rollout.prompt, rollout.response, ctx.config.tasks.splitOnFirstAssistant);
  const answer = extractAnswer(generation);
  const fmt = formatOk(generation) && (draft.item.task !== "induction" || parseInductionSolution(answer) !== null);
  if (!fmt) return { reward: solverReward({ formatOk: false, accuracy: 0 }), formatOk: false, correct: false };
  const grade = await gradeAnswer(ctx, "grade", draft.item, answer);
  return { reward: solverReward({ formatOk: true, accuracy: grade.accuracy }), formatOk: true, correct: grade.accuracy === 1 };
}
