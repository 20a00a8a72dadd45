// `bun run eval --checkpoint DIR [--file F.jsonl] [--tasks deduction,abduction] [--limit N] [--max-new N] [--style S] [--json]`
// Greedy pass@1 of any checkpoint (ours or a Qwen2.5 one) on CRUXEval-format rows with the AZR solve prompts (or the
// compact ones a warm start's report.json names), judged by the sandbox executor (engine/eval/cruxeval.ts). Prints a per-task summary (accuracy, format rate), or
// with --json {summary, rows}. Exit codes: 0 done, 2 bad flag or path, 1 other.
import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { DEFAULT_EVAL_FILE } from "../config/schema.ts";
import { defaultExecutor, EVAL_TASKS, type EvalTask, evaluateRows, readRows, summarize } from "../eval/cruxeval.ts";
import { Policy, readConfig } from "../model/index.ts";
import { PROMPT_STYLES, type PromptStyle } from "../tasks/prompts.ts";
import { REPORT_FILE, trainedPromptStyle } from "../warmstart/recipe.ts";
import { Bar } from "./bar.ts";
import { parseFlagValues, runMain, UsageError, wholeNumber } from "./usage.ts";

const USAGE = `usage: bun run eval --checkpoint DIR [options]
  --checkpoint DIR   Hugging Face checkpoint directory (config.json, safetensors, tokenizer.json)
  --file F.jsonl     rows {"code", "input", "output"} (CRUXEval format; default: the engine's held-out rows)
  --tasks LIST       deduction (CRUXEval-O), abduction (CRUXEval-I), comma-separated (default both)
  --limit N          the first N rows only
  --max-new N        response cap in tokens (default 512)
  --max-prompt N     longer prompts are skipped and counted wrong (default 2048)
  --batch N          prompts generated at once (default 8)
  --style S          azr (the verbatim AZR solve prompts) | compact (the tiny preset's); default: the style a warm
                     start's report.json names, else azr
  --json             print {summary, rows} as JSON instead of the table
  --help             this text`;

export interface EvalRequest {
  checkpoint: string;
  file: string;
  tasks: EvalTask[];
  limit: number;
  maxNew: number;
  maxPrompt: number;
  batch: number;
  promptStyle: PromptStyle;
  json: boolean;
}

/** The style a warm-start checkpoint was trained on, said on stderr, else the verbatim AZR prompts. */
function checkpointStyle(checkpoint: string): PromptStyle {
  let trained: PromptStyle | undefined;
  try {
    trained = trainedPromptStyle(checkpoint);
  } catch (e) {
    throw new UsageError(`--checkpoint: ${(e as Error).message}; pass --style to choose the prompts`);
  }
  if (trained === undefined) return "azr";
  console.error(`eval: ${trained} prompts, as ${join(checkpoint, REPORT_FILE)} says this warm start was trained (--style azr to override)`);
  return trained;
}

function parseEvalFlags(argv: string[]): EvalRequest | "help" {
  const values = parseFlagValues(argv, {
    checkpoint: { type: "string" }, file: { type: "string" }, tasks: { type: "string" }, limit: { type: "string" },
    "max-new": { type: "string" }, "max-prompt": { type: "string" }, batch: { type: "string" }, style: { type: "string" },
    json: { type: "boolean" }, help: { type: "boolean" },
  });
  if (values.help) return "help";
  if (typeof values.checkpoint !== "string") throw new UsageError("--checkpoint DIR is required");
  const checkpoint = resolve(values.checkpoint);
  if (!existsSync(join(checkpoint, "config.json"))) throw new UsageError(`--checkpoint ${values.checkpoint}: no config.json there; not a model checkpoint directory`);
  const file = resolve((values.file as string | undefined) ?? DEFAULT_EVAL_FILE);
  if (!(existsSync(file) && statSync(file).isFile())) throw new UsageError(`--file ${values.file}: no such file`);
  const tasks = ((values.tasks as string | undefined) ?? EVAL_TASKS.join(",")).split(",").map((t) => t.trim());
  for (const t of tasks) if (!(EVAL_TASKS as readonly string[]).includes(t)) throw new UsageError(`--tasks: unknown task "${t}"; use ${EVAL_TASKS.join(", ")}`);
  const style = (values.style as string | undefined) ?? checkpointStyle(checkpoint);
  if (!(PROMPT_STYLES as readonly string[]).includes(style)) throw new UsageError(`--style ${style}: use ${PROMPT_STYLES.join(" or ")}`);
  return {
    checkpoint,
    promptStyle: style as PromptStyle,
    file,
    tasks: [...new Set(tasks)] as EvalTask[],
    limit: wholeNumber("limit", values.limit, Number.MAX_SAFE_INTEGER),
    maxNew: wholeNumber("max-new", values["max-new"], 512),
    maxPrompt: wholeNumber("max-prompt", values["max-prompt"], 2048),
    batch: wholeNumber("batch", values.batch, 8),
    json: values.json === true,
  };
}

async function main(argv: string[]): Promise<number> {
  const req = parseEvalFlags(argv);
  if (req === "help") {
    console.log(USAGE);
    return 0;
  }
  const rows = readRows(req.file, req.limit);
  const maxSeq = Math.min(readConfig(req.checkpoint).maxPositions, req.maxPrompt + req.maxNew);
  const policy = await Policy.load(req.checkpoint, { maxSeq, maxBatch: req.batch });
  const executor = await defaultExecutor();
  try {
    const bar = new Bar(process.stderr, "eval", rows.length * req.tasks.length);
    const results = await evaluateRows(policy, executor, rows, { tasks: req.tasks, promptStyle: req.promptStyle, maxNew: req.maxNew, maxPromptTokens: req.maxPrompt, batch: req.batch, onDone: (n) => bar.tick(n) });
    bar.end();
    const summary = summarize(results, req.tasks);
    if (req.json) console.log(JSON.stringify({ checkpoint: req.checkpoint, file: req.file, summary, rows: results }));
    else {
      for (const s of summary) {
        console.log(`${s.task.padEnd(10)} pass@1 ${(100 * s.accuracy).toFixed(1)}% (${s.correct}/${s.total}) | format ${(100 * s.formatRate).toFixed(1)}%${s.skipped ? ` | ${s.skipped} prompts over --max-prompt` : ""}`);
      }
    }
    return 0;
  } finally {
    await executor.close();
    policy.destroy();
  }
}

if (import.meta.main) runMain("eval", USAGE, main);
