// In-loop evaluation (docs/reference.md §7, in-training proxy): greedy deduction and abduction accuracy on held-out programs,
// scored 1/0 by the executor on the text inside <answer> (the reference's test-split reward, which ignores the tags).
import { readFileSync } from "node:fs";
import { loadIoSeeds } from "../buffers/seed.ts";
import { extractAnswer, formatOk, generationText } from "../tasks/parse.ts";
import { solvePrompt } from "../tasks/prompts.ts";
import type { IoProgram, PosedProgram } from "../tasks/types.ts";
import type { StepContext } from "./context.ts";
import { gradeAnswer } from "./grade.ts";
import { encodePrompt, rollouts } from "./rollout.ts";

export interface EvalReport {
  step: number;
  deduction: { correct: number; total: number };
  abduction: { correct: number; total: number };
  formatRate: number;
  /** Held-out rows skipped because their prompt is too long. */
  dropped: number;
}

/** The evaluation rows: the file's first `limit` rows whose snippet is not among the run's seeds. */
export function heldOutRows(path: string, limit: number, seedSnippets: ReadonlySet<string>): IoProgram[] {
  const lines = readFileSync(path, "utf8").split("\n").filter((l) => l.trim() !== "").length;
  const rows = loadIoSeeds(path, lines).filter((r) => !seedSnippets.has(r.snippet));
  if (rows.length === 0) throw new Error(`eval.file ${path}: every row's snippet is also a seed; use a held-out file`);
  return rows.slice(0, limit);
}

export async function evaluate(ctx: StepContext, rows: readonly IoProgram[]): Promise<EvalReport> {
  const items: PosedProgram[] = rows.flatMap((program) => [
    { task: "deduction", program },
    { task: "abduction", program },
  ]);
  const prompts = items
    .map((item) => ({ item, prompt: solvePrompt(item, ctx.config.tasks.promptStyle) }))
    .map((p) => ({ ...p, ids: encodePrompt(ctx, p.prompt) }))
    .filter((p) => p.ids.length <= ctx.config.tasks.maxPromptTokens);
  const outs = await rollouts(ctx, "eval", prompts, { temperature: 0, maxNew: ctx.config.eval.maxNewTokens });
  const report: EvalReport = {
    step: ctx.step,
    deduction: { correct: 0, total: 0 },
    abduction: { correct: 0, total: 0 },
    formatRate: 0,
    dropped: items.length - prompts.length,
  };
  const graded = await Promise.all(
    outs.map(async (o, i) => {
      const generation = generationText(o.prompt, o.response, ctx.config.tasks.splitOnFirstAssistant);
      const g = await gradeAnswer(ctx, "eval", prompts[i].item, extractAnswer(generation));
      return { task: prompts[i].item.task as "deduction" | "abduction", correct: g.accuracy === 1, fmt: formatOk(generation) };
    }),
  );
  for (const g of graded) {
    report[g.task].total++;
    if (g.correct) report[g.task].correct++;
  }
  report.formatRate = graded.length ? graded.filter((g) => g.fmt).length / graded.length : 0;
  return report;
}
