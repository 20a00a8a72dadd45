// Parsing model output exactly as the reference does (spec §1.5). Python's DOTALL|IGNORECASE patterns become JS
// `is` regexes; Python's `$` (end, or before a final newline) becomes `(?=\n?$)`. Text processing only: nothing here
// runs model-written code (the executor's validate does the AST checks).

const FENCE = "```";
/** ```` ```(?:python\s*)?\n?(.*?)\n?``` ````: any fence, so the python block must come first (spec §1.5.4). */
const CODE_BLOCK = /```(?:python\s*)?\n?(.*?)\n?```/gis;
const blockOf = (tag: string): RegExp => new RegExp(`${FENCE}${tag}\\s*\\n?(.*?)\\n?${FENCE}`, "gis");
const PY_END = "(?=\\n?$)";

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
  return stripChars(segment.trim(), "\"'");
}

function stripChars(s: string, chars: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && chars.includes(s[start])) start++;
  while (end > start && chars.includes(s[end - 1])) end--;
  return s.slice(start, end);
}

/** `re.match(r"(?s)<think>.*?</think>\s*<answer>.*?</answer>")`: anchored at the start, anything after is ignored. */
export function formatOk(generation: string): boolean {
  return /^<think>.*?<\/think>\s*<answer>.*?<\/answer>/s.test(generation);
}

/** Text after the last `<answer>` up to the next `</answer>` (or the end), stripped; "" when there is no `<answer>`. */
export function extractAnswer(generation: string): string {
  if (!generation.includes("<answer>")) return "";
  const afterLast = generation.split("<answer>").at(-1) ?? "";
  return afterLast.split("</answer>")[0].trim();
}

export type FReplaceLocation = "not_first" | "any_last";

export interface ProposalOptions {
  rejectMultipleDefs: boolean; // reference Qwen2.5 scripts: true
  fReplaceLocation: FReplaceLocation; // "not_first": the first def becomes f; "any_last": the last, unless f exists
}

export type Proposal = { ok: true; code: string; input: string; imports: string[] } | { ok: false; reason: string };

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Names of every `def` (top-level, nested or method): `^\s*def\s+(\w+)\s*\(` per line. */
export function defNames(code: string): string[] {
  return [...code.matchAll(/^\s*def\s+(\w+)\s*\(/gm)].map((m) => m[1]);
}

/** Renames the chosen def to `f`, its definition and every call (`\bNAME\s*\(` → `f(`), like the reference. */
export function renameToF(code: string, name: string): string {
  if (name === "f") return code;
  const n = escapeRegex(name);
  return code.replace(new RegExp(`def\\s+${n}\\s*\\(`, "g"), "def f(").replace(new RegExp(`\\b${n}\\s*\\(`, "g"), "f(");
}

/**
 * Import statements of a snippet, one per entry, in order, duplicates removed. The reference walks the AST; a
 * line-based match finds the same statements (nested ones included) for the code the executor later validates.
 */
export function parseImports(code: string): string[] {
  const found = code
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => /^(import\s+[\w.]|from\s+[\w.]+\s+import\s)/.test(line))
    .map((line) => line.replace(/\s*#.*$/, "").replace(/\s+/g, " "));
  return [...new Set(found)];
}

/** Deduction/abduction proposer answer → code (renamed to f), input and imports (spec §1.5.4). */
export function parseProposal(answer: string, opts: ProposalOptions): Proposal {
  const code = [...answer.matchAll(CODE_BLOCK)][0]?.[1];
  if (code === undefined) return { ok: false, reason: "no code block" };
  const input =
    [...answer.matchAll(blockOf("input"))][0]?.[1] ?? answer.match(new RegExp(`# Input:\\s*(.*?)(?=\\n${FENCE}|\\n?$)`, "is"))?.[1];
  if (input === undefined) return { ok: false, reason: "no input block" };
  const trimmed = code.trim();
  const names = defNames(trimmed);
  if (names.length === 0) return { ok: false, reason: "no def" };
  if (opts.rejectMultipleDefs && names.length > 1) return { ok: false, reason: "multiple defs" };
  const target =
    opts.fReplaceLocation === "not_first" ? names[0] : names.includes("f") ? "f" : (names.at(-1) as string);
  const renamed = renameToF(trimmed, target);
  return { ok: true, code: renamed, input: input.trim(), imports: parseImports(renamed) };
}

export type InductionProposal = { ok: true; inputs: string[]; message: string } | { ok: false; reason: string };

/** Induction proposer answer → the last `numInputs` input blocks and the message (spec §1.5.5). */
export function parseInductionProposal(answer: string, numInputs: number): InductionProposal {
  const inputs = [...answer.matchAll(blockOf("input"))].map((m) => m[1].trim());
  if (inputs.length < numInputs) return { ok: false, reason: `${inputs.length} input blocks, need ${numInputs}` };
  const message =
    answer.match(new RegExp(`${FENCE}message\\s*\\n?(.*?)\\n?${FENCE}`, "is"))?.[1] ??
    answer.match(/<message>\s*(.*?)\s*<\/message>/is)?.[1] ??
    answer.match(new RegExp(`# Message:\\s*(.*?)(?=\\n${FENCE}|\\n?$)`, "is"))?.[1];
  if (message === undefined) return { ok: false, reason: "no message" };
  return { ok: true, inputs: inputs.slice(-numInputs), message: message.trim() };
}

/**
 * Solver answer → the predicted input (abduction) or output (deduction): the last block, then `# Input:`, then
 * `input(...)`, then `<input>`, then "the input is ...", else the whole answer. Never fails; not stripped (spec §1.5.6).
 */
export function parseSolverValue(answer: string, kind: "input" | "output"): string {
  const title = kind === "input" ? "Input" : "Output";
  const patterns = [
    blockOf(kind),
    new RegExp(`# ${title}:\\s*(.*?)(?=\\n${FENCE}|\\n?$)`, "gis"),
    new RegExp(`${kind}\\s*\\((.*?)\\)`, "gis"),
    new RegExp(`<${kind}>\\s*(.*?)(?:</${kind}>|\\s*${PY_END})`, "gis"),
    new RegExp(`the ${kind} is\\s*(.*?)\\.?${PY_END}`, "gis"),
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
  return last ? last[1].trim() : null;
}
