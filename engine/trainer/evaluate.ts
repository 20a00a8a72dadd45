// In-loop evaluation (docs/reference.md §7, in-training proxy): greedy accuracy on held-out programs, scored 1/0 by
// the executor on the text inside <answer> (the reference's test-split reward, which ignores the tags). Two sets:
// eval.file's rows (deduction and abduction; the seed corpus's held-out rows by default) and, when configured, a
// warm start's generated held-out programs (eval.generatedFile), each posed as all three task types.
import { readFileSync } from "node:fs";
import { loadInductionSeeds, loadIoSeeds } from "../buffers/seed.ts";
import { extractAnswer, formatOk, generationText } from "../tasks/parse.ts";
import { solvePrompt } from "../tasks/prompts.ts";
import type { IoProgram, PosedProgram, TaskType } from "../tasks/types.ts";
import type { StepContext } from "./context.ts";
import { gradeAnswer } from "./grade.ts";
import { encodePrompt, rollouts } from "./rollout.ts";

export interface Count {
  correct: number;
  total: number;
}

/** One evaluation set's results; a task the set does not pose is absent. */
export interface EvalSet {
  deduction: Count;
  abduction: Count;
  induction?: Count;
  formatRate: number;
  /** Tasks skipped because their prompt is too long. */
  dropped: number;
}

/** eval.file's deduction/abduction results at the top level (as the dashboard reads them), and the generated set. */
export interface EvalReport extends EvalSet {
  step: number;
  generated: EvalSet | null;
}

/** The tasks an evaluation poses, fixed for the whole run. */
export interface EvalTasks {
  file: PosedProgram[];
  generated: PosedProgram[] | null;
}

const lineCount = (path: string): number => readFileSync(path, "utf8").split("\n").filter((l) => l.trim() !== "").length;

/** The evaluation rows: the file's first `limit` rows whose snippet is not among the run's seeds. */
export function heldOutRows(path: string, limit: number, seedSnippets: ReadonlySet<string>): IoProgram[] {
  const rows = loadIoSeeds(path, lineCount(path)).filter((r) => !seedSnippets.has(r.snippet));
  if (rows.length === 0) throw new Error(`eval.file ${path}: every row's snippet is also a seed; use a held-out file`);
  return rows.slice(0, limit);
}

/** A run's evaluation tasks from its config; the generated programs must not seed the buffers either. */
export function evalTasks(c: StepContext["config"]["eval"], seedSnippets: ReadonlySet<string>): EvalTasks {
  const file = heldOutRows(c.file, c.limit, seedSnippets).flatMap((program): PosedProgram[] => [
    { task: "deduction", program },
    { task: "abduction", program },
  ]);
  if (c.generatedFile === null) return { file, generated: null };
  const io = loadIoSeeds(c.generatedFile, c.generatedLimit);
  const induction = loadInductionSeeds(c.generatedFile, c.generatedLimit);
  const seeded = io.find((p) => seedSnippets.has(p.snippet));
  if (seeded) throw new Error(`eval.generatedFile ${c.generatedFile}: the program ${JSON.stringify(seeded.snippet)} also seeds the buffers; held-out programs must not`);
  const generated: PosedProgram[] = [
    ...io.map((program): PosedProgram => ({ task: "deduction", program })),
    ...io.map((program): PosedProgram => ({ task: "abduction", program })),
    ...induction.map((program): PosedProgram => ({ task: "induction", program })),
  ];
  return { file, generated };
}

/** Every snippet an evaluation poses (what the buffers withhold). */
export const evalSnippets = (t: EvalTasks): Set<string> => new Set([...t.file, ...(t.generated ?? [])].map((i) => i.program.snippet));

async function scoreSet(ctx: StepContext, items: readonly PosedProgram[], tasks: readonly TaskType[]): Promise<EvalSet> {
  const prompts = items
    .map((item) => ({ item, prompt: solvePrompt(item, ctx.config.tasks.promptStyle) }))
    .map((p) => ({ ...p, ids: encodePrompt(ctx, p.prompt) }))
    .filter((p) => p.ids.length <= ctx.config.tasks.maxPromptTokens);
  const outs = await rollouts(ctx, "eval", prompts, { temperature: 0, maxNew: ctx.config.eval.maxNewTokens });
  const graded = await Promise.all(
    outs.map(async (o, i) => {
      const generation = generationText(o.prompt, o.response, ctx.config.tasks.splitOnFirstAssistant);
      const g = await gradeAnswer(ctx, "eval", prompts[i].item, extractAnswer(generation));
      return { task: prompts[i].item.task, correct: g.accuracy === 1, fmt: formatOk(generation) };
    }),
  );
  const count = (task: TaskType): Count => {
    const of = graded.filter((g) => g.task === task);
    return { correct: of.filter((g) => g.correct).length, total: of.length };
  };
  return {
    deduction: count("deduction"),
    abduction: count("abduction"),
    ...(tasks.includes("induction") ? { induction: count("induction") } : {}),
    formatRate: graded.length ? graded.filter((g) => g.fmt).length / graded.length : 0,
    dropped: items.length - prompts.length,
  };
}

export async function evaluate(ctx: StepContext, tasks: EvalTasks): Promise<EvalReport> {
  const file = await scoreSet(ctx, tasks.file, ["deduction", "abduction"]);
  const generated = tasks.generated ? await scoreSet(ctx, tasks.generated, ["deduction", "abduction", "induction"]) : null;
  return { step: ctx.step, ...file, generated };
}
