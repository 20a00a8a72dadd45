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

/** Fills `{name}` placeholders in one pass over the template, so inserted text is never re-scanned (like str.format). */
export function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`template placeholder {${name}} has no value`);
    return value;
  });
}

/** The R1 wrapper around a task text; the result ends with `Assistant: <think>`. */
export function wrap(task: string): string {
  return fill(INSTRUCTION_FOLLOWING, { prompt: task });
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
): string {
  const template = task === "abduction" ? PROPOSE_ABDUCTION : PROPOSE_DEDUCTION;
  return wrap(fill(template, { banned: bannedWords.join(", ") }) + referenceBlocks(refs) + "\n");
}

/** gen_code_f: one snippet followed by `f(<|YOUR INPUT WILL BE PLUGGED HERE|>)`. */
export function proposeInductionPrompt(snippet: string, numInputs: number): string {
  return wrap(fill(PROPOSE_INDUCTION, { num_inputs: String(numInputs), snippet: snippet + CODE_SUFFIX }));
}

/** pred_code_i: the snippet and the gold output; asks for an input. */
export function solveAbductionPrompt(p: Pick<IoProgram, "snippet" | "output">): string {
  return wrap(fill(SOLVE_ABDUCTION, { snippet: p.snippet, output: p.output }));
}

/** pred_code_o: the snippet and the input; asks for the output. */
export function solveDeductionPrompt(p: Pick<IoProgram, "snippet" | "input">): string {
  return wrap(fill(SOLVE_DEDUCTION, { snippet: p.snippet, input: p.input }));
}

/** pred_code_f: the visible half of the pairs as `input_i`/`output_i` blocks and the message; never the code. */
export function solveInductionPrompt(p: Pick<InductionProgram, "inputs" | "outputs" | "message">): string {
  const pairs = splitPairs(p)
    .visible.map(([inp, out], i) => `\`\`\`input_${i}\n${inp}\n\`\`\`\n\`\`\`output_${i}\n${out}\n\`\`\`\n`)
    .join("");
  return wrap(fill(SOLVE_INDUCTION, { pairs, message: p.message }));
}

/** The solve prompt of any task type for a buffered program. */
export function solvePrompt(item: PosedProgram): string {
  switch (item.task) {
    case "induction":
      return solveInductionPrompt(item.program);
    case "abduction":
      return solveAbductionPrompt(item.program);
    case "deduction":
      return solveDeductionPrompt(item.program);
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
