// Grading a solver's answer through the executor (docs/reference.md §2.3): nothing model-written runs in this process. Used by
// the solve phase, the learnability estimate and evaluation.
import type { Request } from "../../sandbox/protocol.ts";
import { inductionAccuracy } from "../rewards/solver.ts";
import { parseInductionSolution, parseSolverValue } from "../tasks/parse.ts";
import type { PosedProgram } from "../tasks/types.ts";
import { splitPairs } from "../tasks/types.ts";
import type { ExecCategory } from "./clock.ts";
import type { StepContext } from "./context.ts";
import { submit, verdictOf, withImports } from "./execute.ts";

export interface Grade {
  /** Whether the answer could be read at all (induction needs a code block; the others always parse). */
  parsed: boolean;
  /** 0..1; 1/0 except induction in "accuracy" mode. */
  accuracy: number;
  /** null when the executor gave no verdict. */
  verdict: boolean | null;
}

/** Grades the text inside `<answer>` against a buffered program. */
export async function gradeAnswer(
  ctx: Pick<StepContext, "executor" | "clock" | "progress" | "config">,
  category: ExecCategory,
  item: PosedProgram,
  answer: string,
): Promise<Grade> {
  if (item.task === "induction") {
    const code = parseInductionSolution(answer);
    if (code === null) return { parsed: false, accuracy: 0, verdict: false };
    const hidden = splitPairs(item.program).hidden;
    const mode = ctx.config.rewards.inductionReward;
    // binary: one call judging every hidden pair (the executor's verdict on a group is "all pass"); accuracy: one
    // call per pair. Either way inductionAccuracy turns the verdicts into the accuracy.
    const groups = mode === "binary" ? [hidden] : hidden.map((pair) => [pair]);
    const verdicts = await Promise.all(
      groups.map(async (pairs) =>
        verdictOf(await submit(ctx, category, { op: "judge_induction", answer_code: code, pairs, imports: item.program.imports })),
      ),
    );
    if (verdicts.some((v) => v === null)) return { parsed: true, accuracy: 0, verdict: null };
    const accuracy = inductionAccuracy(verdicts as boolean[], mode);
    return { parsed: true, accuracy, verdict: accuracy === 1 };
  }
  const code = withImports(item.program);
  const req: Request =
    item.task === "deduction"
      ? { op: "judge_deduction", code, input: item.program.input, gold: item.program.output, answer: parseSolverValue(answer, "output") }
      : { op: "judge_abduction", code, gold: item.program.output, answer: parseSolverValue(answer, "input") };
  const verdict = verdictOf(await submit(ctx, category, req));
  return { parsed: true, accuracy: verdict ? 1 : 0, verdict };
}
