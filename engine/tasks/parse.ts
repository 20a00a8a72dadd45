// Parsing model output exactly as the reference does (docs/reference.md §1.5; LeapLabTHU/Absolute-Zero-Reasoner
// master @ a82124e, absolute_zero_reasoner/rewards/code_reward.py and reward_managers.py). Python's DOTALL|IGNORECASE
// patterns become JS `isu` regexes built from the Python-semantics pieces of pyre.ts (Unicode `\w`, Python's `\s`,
// `^` only after `\n`, `$` also before a final newline). Text processing only: nothing here runs model-written code
// (the executor's validate does the AST checks).
import { parseImports } from "./imports.ts";
import { caseless, PY_END, PY_LINE_START, PY_SPACE, PY_WORD, PY_WORD_START, pyStrip } from "./pyre.ts";

const FENCE = "```";
const S = PY_SPACE;
/** ```` ```(?:python\s*)?\n?(.*?)\n?``` ````: any fence, so the python block must come first (§1.5.4). */
const CODE_BLOCK = new RegExp(`${FENCE}(?:${caseless("python")}${S}*)?\\n?(.*?)\\n?${FENCE}`, "gisu");
const blockOf = (tag: string): RegExp => new RegExp(`${FENCE}${caseless(tag)}${S}*\\n?(.*?)\\n?${FENCE}`, "gisu");
/** `# Title:\s*(.*?)(?=\n```|$)`, the fallback for a missing block. */
const hashLine = (title: string): RegExp => new RegExp(`# ${caseless(title)}:${S}*(.*?)(?=\\n${FENCE}|\\n?$)`, "gisu");

/**
 * The text the reference grades: decode(prompt + response), the part after the first "Assistant:", stripped of
 * whitespace and then of quote characters. With `splitOnFirstAssistant` false the split happens at the prompt's own
 * (last) "Assistant:", so a reference snippet or response that contains "Assistant:" cannot cut the text (a fix).
 */
export function generationText(prompt: string, response: string, splitOnFirstAssistant: boolean): string {
  const marker = "Assistant:";
  let segment: string;
  if (splitOnFirstAssistant) {
    const parts = (prompt + response).split(marker);
    if (parts.length < 2) throw new Error(`prompt has no "${marker}": not built by engine/tasks/prompts.ts`);
    segment = parts[1];
  } else {
    const at = prompt.lastIndexOf(marker);
    if (at < 0) throw new Error(`prompt has no "${marker}": not built by engine/tasks/prompts.ts`);
    segment = prompt.slice(at + marker.length) + response;
  }
  return pyStrip(pyStrip(segment), "\"'");
}

/** `re.match(r"(?s)<think>.*?</think>\s*<answer>.*?</answer>")`: anchored at the start, anything after is ignored. */
const FORMAT = new RegExp(`^<think>.*?</think>${S}*<answer>.*?</answer>`, "su");
export function formatOk(generation: string): boolean {
  return FORMAT.test(generation);
}

/** Text after the last `<answer>` up to the next `</answer>` (or the end), stripped; "" when there is no `<answer>`. */
export function extractAnswer(generation: string): string {
  if (!generation.includes("<answer>")) return "";
  const afterLast = generation.split("<answer>").at(-1) ?? "";
  return pyStrip(afterLast.split("</answer>")[0]);
}

export const F_REPLACE_LOCATIONS = ["not_first", "any_last"] as const;
export type FReplaceLocation = (typeof F_REPLACE_LOCATIONS)[number];

export interface ProposalOptions {
  rejectMultipleDefs: boolean; // reference Qwen2.5 scripts: true
  fReplaceLocation: FReplaceLocation; // "not_first": the first def becomes f; "any_last": the last, unless f exists
}

export type ParsedProposal = { ok: true; code: string; input: string; imports: string[] } | { ok: false; reason: string };

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

const DEF = new RegExp(`${PY_LINE_START}${S}*def${S}+(${PY_WORD}+)${S}*\\(`, "gu");
/** Names of every `def` (top-level, nested or method): `re.findall(r"^\s*def\s+(\w+)\s*\(", code, re.M)`. */
export function defNames(code: string): string[] {
  return [...code.matchAll(DEF)].map((m) => m[1]);
}

/** Renames the chosen def to `f`, its definition and every call (`\bNAME\s*\(` → `f(`), like the reference. */
export function renameToF(code: string, name: string): string {
  if (name === "f") return code;
  const n = escapeRegex(name);
  return code
    .replace(new RegExp(`def${S}+${n}${S}*\\(`, "gu"), "def f(")
    .replace(new RegExp(`${PY_WORD_START}${n}${S}*\\(`, "gu"), "f(");
}

/** Deduction/abduction proposer answer → code (renamed to f), input and imports (§1.5.4). */
export function parseProposal(answer: string, opts: ProposalOptions): ParsedProposal {
  const code = [...answer.matchAll(CODE_BLOCK)][0]?.[1];
  if (code === undefined) return { ok: false, reason: "no code block" };
  const input =
    [...answer.matchAll(blockOf("input"))][0]?.[1] ?? [...answer.matchAll(hashLine("Input"))][0]?.[1];
  if (input === undefined) return { ok: false, reason: "no input block" };
  const trimmed = pyStrip(code);
  const names = defNames(trimmed);
  if (names.length === 0) return { ok: false, reason: "no def" };
  if (opts.rejectMultipleDefs && names.length > 1) return { ok: false, reason: "multiple defs" };
  const target =
    opts.fReplaceLocation === "not_first" ? names[0] : names.includes("f") ? "f" : (names.at(-1) as string);
  const renamed = renameToF(trimmed, target);
  return { ok: true, code: renamed, input: pyStrip(input), imports: parseImports(renamed) };
}

export type InductionProposal = { ok: true; inputs: string[]; message: string } | { ok: false; reason: string };

/** Induction proposer answer → the last `numInputs` input blocks and the message (§1.5.5). */
export function parseInductionProposal(answer: string, numInputs: number): InductionProposal {
  const inputs = [...answer.matchAll(blockOf("input"))].map((m) => pyStrip(m[1]));
  if (inputs.length < numInputs) return { ok: false, reason: `${inputs.length} input blocks, need ${numInputs}` };
  const message =
    [...answer.matchAll(blockOf("message"))][0]?.[1] ??
    [...answer.matchAll(new RegExp(`<${caseless("message")}>${S}*(.*?)${S}*</${caseless("message")}>`, "gisu"))][0]?.[1] ??
    [...answer.matchAll(hashLine("Message"))][0]?.[1];
  if (message === undefined) return { ok: false, reason: "no message" };
  return { ok: true, inputs: inputs.slice(-numInputs), message: pyStrip(message) };
}

/**
 * Solver answer → the predicted input (abduction) or output (deduction): the last block, then `# Input:`, then
 * `input(...)`, then `<input>`, then "the input is ...", else the whole answer. Never fails; not stripped (§1.5.6).
 */
export function parseSolverValue(answer: string, kind: "input" | "output"): string {
  const k = caseless(kind);
  const patterns = [
    blockOf(kind),
    hashLine(kind === "input" ? "Input" : "Output"),
    new RegExp(`${k}${S}*\\((.*?)\\)`, "gisu"),
    new RegExp(`<${k}>${S}*(.*?)(?:</${k}>|${S}*${PY_END})`, "gisu"),
    new RegExp(`${caseless("the")} ${k} ${caseless("is")}${S}*(.*?)\\.?${PY_END}`, "gisu"),
  ];
  for (const pattern of patterns) {
    const last = [...answer.matchAll(pattern)].at(-1);
    if (last) return last[1];
  }
  return answer;
}

/** Induction solver answer → the last code block, stripped; null (a format failure) when there is none (§1.5.7). */
export function parseInductionSolution(answer: string): string | null {
  const last = [...answer.matchAll(CODE_BLOCK)].at(-1);
  return last ? pyStrip(last[1]) : null;
}
