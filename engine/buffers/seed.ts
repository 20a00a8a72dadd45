// Step-0 contents of the buffers (docs/reference.md §5): the zero seed (an identity function) when no seed file is given, else
// the leading rows of a `*_seed_io.jsonl` / `*_code_f_seed_io.jsonl` file.
import { readFileSync } from "node:fs";
import type { InductionProgram, IoProgram } from "../tasks/types.ts";

const IDENTITY = "def f(a):\n    return a";

/** The reference's seed triplet; input and output are `"Hello world"` in double quotes (not repr form). */
export function zeroSeedIo(): IoProgram[] {
  return [{ snippet: IDENTITY, input: '"Hello world"', output: '"Hello world"', imports: [], step: 0 }];
}

/** The reference's induction seed: the identity with 6 pairs, output = input. */
export function zeroSeedInduction(): InductionProgram[] {
  const inputs = ['"Hello world"', "1", "dict(a=1, b=2)", "(1.1, 1.2, 1.3)", '"[[1, 0, 0], [0, 0, 0], [0, 0, 0]]"', "1001101100010001"];
  return [
    { snippet: IDENTITY, inputs, outputs: [...inputs], message: "Write a function that returns whatever you input", imports: [], step: 0 },
  ];
}

/** Parsed JSON objects of a JSONL file's first `rows` non-empty lines, each with its line number. */
function jsonlRows(path: string, rows: number): Array<{ line: number; row: Record<string, unknown> }> {
  const out: Array<{ line: number; row: Record<string, unknown> }> = [];
  const lines = readFileSync(path, "utf8").split("\n");
  for (let i = 0; i < lines.length && out.length < rows; i++) {
    if (lines[i].trim() === "") continue;
    let row: unknown;
    try {
      row = JSON.parse(lines[i]);
    } catch (e) {
      throw new Error(`${path}:${i + 1}: not valid JSON (${(e as Error).message})`);
    }
    if (typeof row !== "object" || row === null || Array.isArray(row)) throw new Error(`${path}:${i + 1}: not a JSON object`);
    out.push({ line: i + 1, row: row as Record<string, unknown> });
  }
  if (out.length === 0) throw new Error(`${path}: no rows`);
  return out;
}

function field<T>(path: string, line: number, row: Record<string, unknown>, key: string, ok: (v: unknown) => boolean, what: string): T {
  const v = row[key];
  if (!ok(v)) throw new Error(`${path}:${line}: "${key}" must be ${what}, got ${JSON.stringify(v)?.slice(0, 80)}`);
  return v as T;
}
const isString = (v: unknown): boolean => typeof v === "string";
const isStrings = (v: unknown): boolean => Array.isArray(v) && v.every(isString);

/** Deduction/abduction rows {snippet, input, output, imports?}, tagged as seeds (step 0). */
export function loadIoSeeds(path: string, rows: number): IoProgram[] {
  return jsonlRows(path, rows).map(({ line, row }) => ({
    snippet: field<string>(path, line, row, "snippet", isString, "a string"),
    input: field<string>(path, line, row, "input", isString, "a string"),
    output: field<string>(path, line, row, "output", isString, "a string"),
    imports: row.imports === undefined ? [] : field<string[]>(path, line, row, "imports", isStrings, "a list of strings"),
    step: 0,
  }));
}

/** Induction rows {snippet, inputs[], outputs[], message, imports?}, tagged as seeds (step 0). */
export function loadInductionSeeds(path: string, rows: number): InductionProgram[] {
  return jsonlRows(path, rows).map(({ line, row }) => {
    const inputs = field<string[]>(path, line, row, "inputs", isStrings, "a list of strings");
    const outputs = field<string[]>(path, line, row, "outputs", (v) => isStrings(v) && (v as string[]).length === inputs.length, `a list of ${inputs.length} strings (one per input)`);
    if (inputs.length < 2) throw new Error(`${path}:${line}: an induction seed needs ≥ 2 pairs (half are hidden), got ${inputs.length}`);
    return {
      snippet: field<string>(path, line, row, "snippet", isString, "a string"),
      inputs,
      outputs,
      message: field<string>(path, line, row, "message", isString, "a string"),
      imports: row.imports === undefined ? [] : field<string[]>(path, line, row, "imports", isStrings, "a list of strings"),
      step: 0,
    };
  });
}
