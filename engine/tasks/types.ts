// The three task types and two roles of AZR, and the records the buffers hold (docs/reference.md §1, §5).

/** deduction = predict the output (`code_o`), abduction = predict the input (`code_i`), induction = the function (`code_f`). */
export type TaskType = "deduction" | "abduction" | "induction";
export type Role = "propose" | "solve";
export const TASK_TYPES: readonly TaskType[] = ["abduction", "deduction", "induction"]; // the reference's step order
export const ROLES: readonly Role[] = ["propose", "solve"];

/** A (program, input, gold output) triple for deduction and abduction; `output` is repr(f(input)). */
export interface IoProgram {
  snippet: string;
  input: string;
  output: string;
  imports: string[]; // import statements of the snippet, one per entry ("import re")
  step: number; // training step that added it; 0 = seed
}

/** A program with 10 recorded inputs/outputs and a message for the solver (the zero seed has 6). */
export interface InductionProgram {
  snippet: string;
  inputs: string[];
  outputs: string[];
  message: string;
  imports: string[];
  step: number;
}

/** Induction solve split: the first half of the pairs is shown, the second half is hidden (docs/reference.md §1.4). */
export function splitPairs(p: Pick<InductionProgram, "inputs" | "outputs">): {
  visible: Array<[string, string]>;
  hidden: Array<[string, string]>;
} {
  const pairs = p.inputs.map((inp, i): [string, string] => [inp, p.outputs[i]]);
  const half = Math.floor(pairs.length / 2);
  return { visible: pairs.slice(0, half), hidden: pairs.slice(half) };
}

/** A buffered program together with the task type it is posed as. */
export type PosedProgram =
  | { task: "abduction" | "deduction"; program: IoProgram }
  | { task: "induction"; program: InductionProgram };
