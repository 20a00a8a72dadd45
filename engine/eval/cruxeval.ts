// Greedy pass@1 of a checkpoint on CRUXEval-format rows ({"code", "input", "output"}, `def f(...)` programs): the
// output prediction task (CRUXEval-O) is AZR's deduction solve prompt, the input prediction task (CRUXEval-I) its
// abduction solve prompt. Answers are read from <answer> as the trainer reads them and judged by the sandbox
// executor (trainer/grade.ts), never in this process; the tags' format rate is reported beside the accuracy.
import { readFileSync } from "node:fs";
import { Executor } from "../../sandbox/index.ts";
import { REFERENCE_DEFAULTS, type TrainConfig } from "../config/schema.ts";
import { extractAnswer, formatOk, generationText } from "../tasks/parse.ts";
import { type PromptStyle, solvePrompt } from "../tasks/prompts.ts";
import type { IoProgram } from "../tasks/types.ts";
import { Clock } from "../trainer/clock.ts";
import type { StepContext } from "../trainer/context.ts";
import { gradeAnswer } from "../trainer/grade.ts";
import type { ExecutorLike, PolicyLike } from "../trainer/ports.ts";
import { ProgressDisplay } from "../trainer/progress.ts";
import { encodePrompt } from "../trainer/rollout.ts";

export type EvalTask = "deduction" | "abduction";
export const EVAL_TASKS: readonly EvalTask[] = ["deduction", "abduction"];

export interface EvalRow {
  /** 0-based index of the row in the file (blank lines skipped). */
  index: number;
  code: string;
  input: string;
  output: string;
}

export interface RowResult {
  index: number;
  task: EvalTask;
  /** The raw response and the text inside <answer>, as judged. */
  response: string;
  answer: string;
  formatOk: boolean;
  correct: boolean;
  /** Prompt over the length limit: not generated, counted wrong. */
  skipped: boolean;
}

export interface TaskSummary {
  task: EvalTask;
  total: number;
  correct: number;
  accuracy: number;
  formatRate: number;
  skipped: number;
}

/** Rows of a JSONL file; CRUXEval's `code` or AZR's `snippet` names the program. Errors name the line. */
export function readRows(path: string, limit: number): EvalRow[] {
  const rows: EvalRow[] = [];
  readFileSync(path, "utf8")
    .split("\n")
    .forEach((line, i) => {
      if (line.trim() === "" || rows.length >= limit) return;
      let row: Record<string, unknown>;
      try {
        row = JSON.parse(line);
      } catch (e) {
        throw new Error(`${path}:${i + 1}: not valid JSON (${(e as Error).message})`);
      }
      const code = row.code ?? row.snippet;
      for (const [key, v] of [["code", code], ["input", row.input], ["output", row.output]] as const) {
        if (typeof v !== "string") throw new Error(`${path}:${i + 1}: "${key}" must be a string (CRUXEval rows are {"code", "input", "output"})`);
      }
      rows.push({ index: rows.length, code: code as string, input: row.input as string, output: row.output as string });
    });
  if (rows.length === 0) throw new Error(`${path}: no rows`);
  return rows;
}

/** The executor the trainer would make with its default settings (the reference's compat mode and banned words). */
export function defaultExecutor(): Promise<Executor> {
  const e = REFERENCE_DEFAULTS.executor;
  return Executor.create({ workers: 2, timeoutMs: e.timeoutMs, memoryMiB: e.memoryMiB, hashSeed: e.hashSeed, compat: e.compat, bannedImports: [...new Set(REFERENCE_DEFAULTS.tasks.bannedWords)] });
}

export interface EvalOptions {
  tasks: readonly EvalTask[];
  /** azr (the verbatim solve prompts, default) or compact (for checkpoints warm-started on the tiny preset's). */
  promptStyle: PromptStyle;
  maxNew: number;
  maxPromptTokens: number;
  batch: number;
  /** Called as rows finish (generated and judged). */
  onDone?: (n: number) => void;
}

/** Greedy answers to every (row, task) and their verdicts, in row order per task. */
export async function evaluateRows(policy: PolicyLike, executor: ExecutorLike, rows: readonly EvalRow[], o: EvalOptions): Promise<RowResult[]> {
  const config: TrainConfig = { ...REFERENCE_DEFAULTS, tasks: { ...REFERENCE_DEFAULTS.tasks, promptStyle: o.promptStyle } };
  const ctx: Pick<StepContext, "executor" | "clock" | "progress" | "config" | "policy"> = {
    policy,
    executor,
    config,
    clock: new Clock(),
    progress: new ProgressDisplay(null, 0),
  };
  const results: RowResult[] = [];
  for (const task of o.tasks) {
    const items = rows.map((r) => {
      const program: IoProgram = { snippet: r.code, input: r.input, output: r.output, imports: [], step: 0 };
      const prompt = solvePrompt({ task, program }, o.promptStyle);
      return { row: r, program, prompt, ids: encodePrompt(ctx, prompt) };
    });
    const fits = items.filter((it) => it.ids.length <= o.maxPromptTokens);
    for (const it of items) {
      if (it.ids.length > o.maxPromptTokens) results.push({ index: it.row.index, task, response: "", answer: "", formatOk: false, correct: false, skipped: true });
    }
    for (let at = 0; at < fits.length; at += o.batch) {
      const chunk = fits.slice(at, at + o.batch);
      const gens = await policy.generate(chunk.map((c) => c.ids), { maxNew: o.maxNew, temperature: 0, seed: 0, stop: ["</answer>"] });
      const judged = await Promise.all(
        chunk.map(async (c, k) => {
          const response = policy.tokenizer.decode(gens[k].ids, { skipSpecial: true });
          const generation = generationText(c.prompt, response, config.tasks.splitOnFirstAssistant);
          const answer = extractAnswer(generation);
          const grade = await gradeAnswer(ctx, "eval", { task, program: c.program }, answer);
          return { index: c.row.index, task, response, answer, formatOk: formatOk(generation), correct: grade.accuracy === 1, skipped: false };
        }),
      );
      results.push(...judged);
      o.onDone?.(chunk.length);
    }
  }
  return results.sort((a, b) => o.tasks.indexOf(a.task) - o.tasks.indexOf(b.task) || a.index - b.index);
}

export function summarize(results: readonly RowResult[], tasks: readonly EvalTask[]): TaskSummary[] {
  return tasks.map((task) => {
    const mine = results.filter((r) => r.task === task);
    const correct = mine.filter((r) => r.correct).length;
    const n = Math.max(1, mine.length);
    return { task, total: mine.length, correct, accuracy: correct / n, formatRate: mine.filter((r) => r.formatOk).length / n, skipped: mine.filter((r) => r.skipped).length };
  });
}
