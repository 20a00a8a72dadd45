// Phase "solve": the step's solve batches, drawn from the buffer snapshot taken before this step's proposals (so
// tasks proposed at step t are first solved at t + 1), and the solver rewards of their rollouts (spec §1.4, §4).
import type { BufferSnapshot } from "../buffers/buffers.ts";
import { drawSolveBatch } from "../buffers/sampling.ts";
import { solverReward } from "../rewards/solver.ts";
import { extractAnswer, formatOk, generationText, parseInductionSolution } from "../tasks/parse.ts";
import { solvePrompt } from "../tasks/prompts.ts";
import type { PosedProgram, TaskType } from "../tasks/types.ts";
import type { StepContext } from "./context.ts";
import { gradeAnswer } from "./grade.ts";
import { encodePrompt, type Rollout } from "./rollout.ts";

export interface SolveDraft {
  item: PosedProgram;
  prompt: string;
  ids: number[];
}

/** The solve prompts of one task type; those over tasks.maxPromptTokens are dropped (counted in `dropped`). */
export function solveDrafts(ctx: StepContext, task: TaskType, snapshot: BufferSnapshot): { drafts: SolveDraft[]; dropped: number } {
  const { buffers, tasks } = ctx.config;
  const entries = snapshot[task] as ReadonlyArray<PosedProgram["program"]>;
  const picked = drawSolveBatch(entries, tasks.batchSize, ctx.step, buffers.recentWindow, buffers.solveMix, ctx.rng);
  const drafts: SolveDraft[] = [];
  for (const program of picked) {
    const item = { task, program } as PosedProgram;
    const prompt = solvePrompt(item, tasks.promptStyle);
    const ids = encodePrompt(ctx, prompt);
    if (ids.length <= tasks.maxPromptTokens) drafts.push({ item, prompt, ids });
  }
  return { drafts, dropped: picked.length - drafts.length };
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
