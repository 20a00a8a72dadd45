// Prompt builders for the six (task, role) pairs (docs/reference.md §1.1–1.4): pure text in, text out.
import type { InductionProgram, IoProgram, PosedProgram } from "./types.ts";
import { splitPairs } from "./types.ts";
import {
  CODE_SUFFIX,
  INSTRUCTION_FOLLOWING,
  PROPOSE_ABDUCTION,
  PROPOSE_DEDUCTION,
  PROPOSE_INDUCTION,
  SOLVE_ABDUCTION,
  SOLVE_DEDUCTION,
  SOLVE_INDUCTION,
} from "./templates.ts";
import {
  COMPACT_INSTRUCTION_FOLLOWING,
  COMPACT_PROPOSE_ABDUCTION,
  COMPACT_PROPOSE_DEDUCTION,
  COMPACT_PROPOSE_INDUCTION,
  COMPACT_SOLVE_ABDUCTION,
  COMPACT_SOLVE_DEDUCTION,
  COMPACT_SOLVE_INDUCTION,
} from "./compact-templates.ts";

/** `azr`: the reference's verbatim prompts (every preset's default); `compact`: the CPU-scale departure. */
export type PromptStyle = "azr" | "compact";
export const PROMPT_STYLES: readonly PromptStyle[] = ["azr", "compact"];

/** Fills `{name}` placeholders in one pass over the template, so inserted text is never re-scanned (like str.format). */
export function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`template placeholder {${name}} has no value`);
    return value;
  });
}

/** The R1 wrapper around a task text; the result ends with `Assistant: <think>`. */
export function wrap(task: string, style: PromptStyle = "azr"): string {
  return fill(style === "azr" ? INSTRUCTION_FOLLOWING : COMPACT_INSTRUCTION_FOLLOWING, { prompt: task });
}

type Reference = Pick<IoProgram, "snippet" | "input" | "output">;

/** The `<snippet_i>` blocks appended after "### Reference Code Snippets:". */
export function referenceBlocks(refs: readonly Reference[]): string {
  return refs
    .map(
      (r, i) =>
        `<snippet_${i}>\n\`\`\`python\n${r.snippet}\n\`\`\`\n\`\`\`input\n${r.input}\n\`\`\`\n` +
        `\`\`\`output\n${r.output}\n\`\`\`\n</snippet_${i}>\n`,
    )
    .join("");
}

/** gen_code_i / gen_code_o: the task text, the references, then "\n" (composite functions are off). */
export function proposeIoPrompt(
  task: "abduction" | "deduction",
  refs: readonly Reference[],
  bannedWords: readonly string[],
  style: PromptStyle = "azr",
): string {
  const template =
    style === "azr" ? (task === "abduction" ? PROPOSE_ABDUCTION : PROPOSE_DEDUCTION) : task === "abduction" ? COMPACT_PROPOSE_ABDUCTION : COMPACT_PROPOSE_DEDUCTION;
  return wrap(fill(template, { banned: bannedWords.join(", ") }) + referenceBlocks(refs) + "\n", style);
}

/** gen_code_f: one snippet followed by `f(<|YOUR INPUT WILL BE PLUGGED HERE|>)`. */
export function proposeInductionPrompt(snippet: string, numInputs: number, style: PromptStyle = "azr"): string {
  if (style === "compact") return wrap(fill(COMPACT_PROPOSE_INDUCTION, { num_inputs: String(numInputs), snippet }), style);
  return wrap(fill(PROPOSE_INDUCTION, { num_inputs: String(numInputs), snippet: snippet + CODE_SUFFIX }));
}

/** pred_code_i: the snippet and the gold output; asks for an input. */
export function solveAbductionPrompt(p: Pick<IoProgram, "snippet" | "output">, style: PromptStyle = "azr"): string {
  return wrap(fill(style === "azr" ? SOLVE_ABDUCTION : COMPACT_SOLVE_ABDUCTION, { snippet: p.snippet, output: p.output }), style);
}

/** pred_code_o: the snippet and the input; asks for the output. */
export function solveDeductionPrompt(p: Pick<IoProgram, "snippet" | "input">, style: PromptStyle = "azr"): string {
  return wrap(fill(style === "azr" ? SOLVE_DEDUCTION : COMPACT_SOLVE_DEDUCTION, { snippet: p.snippet, input: p.input }), style);
}

/** pred_code_f: the visible half of the pairs as `input_i`/`output_i` blocks and the message; never the code. */
export function solveInductionPrompt(p: Pick<InductionProgram, "inputs" | "outputs" | "message">, style: PromptStyle = "azr"): string {
  const pairs = splitPairs(p)
    .visible.map(([inp, out], i) => `\`\`\`input_${i}\n${inp}\n\`\`\`\n\`\`\`output_${i}\n${out}\n\`\`\`\n`)
    .join("");
  return wrap(fill(style === "azr" ? SOLVE_INDUCTION : COMPACT_SOLVE_INDUCTION, { pairs, message: p.message }), style);
}

/** The solve prompt of any task type for a buffered program. */
export function solvePrompt(item: PosedProgram, style: PromptStyle = "azr"): string {
  switch (item.task) {
    case "induction":
      return solveInductionPrompt(item.program, style);
    case "abduction":
      return solveAbductionPrompt(item.program, style);
    case "deduction":
      return solveDeductionPrompt(item.program, style);
  }
}

/**
 * Draws prompts until one fits `maxTokens` (the reference re-samples references until the propose prompt is ≤ 5,600
 * tokens; docs/reference.md §1.2). `draw` builds a fresh candidate each call. Gives up after `attempts` draws with an error that
 * names the shortest length seen, since an endless loop would hang the trainer.
 */
export function drawFitting(
  draw: () => string,
  countTokens: (text: string) => number,
  maxTokens: number,
  attempts = 100,
): string {
  let shortest = Infinity;
  for (let i = 0; i < attempts; i++) {
    const prompt = draw();
    const n = countTokens(prompt);
    if (n <= maxTokens) return prompt;
    shortest = Math.min(shortest, n);
  }
  throw new Error(
    `no prompt of ≤ ${maxTokens} tokens in ${attempts} draws (shortest: ${shortest}); raise maxPromptTokens or use ` +
      `a seed corpus with shorter programs`,
  );
}
