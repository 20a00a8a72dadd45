// Supervised examples for the six (task, role) pairs, in the exact AZR prompts (engine/tasks/prompts.ts): the
// solver answers with the right output / input / program, the proposer with a new program and its input (or ten
// inputs and a message for induction), each in the blocks the trainer parses. Responses are what follows the
// prompt's closing "<think>": a short reasoning line (or the executor's step-by-step trace), then the answer.
import type { Rng } from "../rng.ts";
import {
  proposeInductionPrompt,
  proposeIoPrompt,
  solveAbductionPrompt,
  solveDeductionPrompt,
  solveInductionPrompt,
} from "../tasks/prompts.ts";
import type { Role, TaskType } from "../tasks/types.ts";
import type { PromptStyle } from "../tasks/prompts.ts";
import { asInduction, asIo, type GenProgram } from "./programs.ts";

export type RoleKey = `${TaskType}/${Role}`;
export const ROLE_KEYS: readonly RoleKey[] = [
  "deduction/solve",
  "abduction/solve",
  "induction/solve",
  "deduction/propose",
  "abduction/propose",
  "induction/propose",
];

export interface Example {
  role: RoleKey;
  prompt: string;
  /** The text after the prompt, without the end-of-text token the trainer appends. */
  response: string;
  program: GenProgram;
}

export interface PromptSettings {
  /** Reference snippets shown to a deduction/abduction proposer: 1..references, drawn per example. */
  references: number;
  numInputs: number;
  bannedWords: readonly string[];
  style: PromptStyle;
}

const F = "```";
const block = (tag: string, body: string): string => `${F}${tag}\n${body}\n${F}`;
const respond = (think: string, answer: string): string => ` ${think} </think>\n<answer>\n${answer}\n</answer>`;

/** Deduction solver reasoning: the executor's trace of the intermediate values when there is one. */
function deductionThink(p: GenProgram): string {
  return p.trace.length ? `Step by step: ${p.trace.join("; ")}.` : "Run f on the input.";
}

/**
 * One example of `role` for program `p`. Proposer prompts show references drawn from `pool` (never `p` itself),
 * as the trainer shows buffered programs.
 */
export function makeExample(role: RoleKey, p: GenProgram, pool: readonly GenProgram[], rng: Rng, s: PromptSettings): Example {
  switch (role) {
    case "deduction/solve":
      return { role, program: p, prompt: solveDeductionPrompt(asIo(p), s.style), response: respond(deductionThink(p), block("output", p.output)) };
    case "abduction/solve":
      return { role, program: p, prompt: solveAbductionPrompt(asIo(p), s.style), response: respond("Find an input.", block("input", p.input)) };
    case "induction/solve":
      return { role, program: p, prompt: solveInductionPrompt(asInduction(p), s.style), response: respond("Fit the pairs.", block("python", p.snippet)) };
    case "deduction/propose":
    case "abduction/propose": {
      const others = pool.filter((q) => q.snippet !== p.snippet);
      const refs = rng.sample(others, Math.min(others.length, 1 + rng.int(s.references))).map(asIo);
      const task = role === "deduction/propose" ? "deduction" : "abduction";
      const answer = `${block("python", p.snippet)}\n${block("input", p.input)}`;
      return { role, program: p, prompt: proposeIoPrompt(task, refs, s.bannedWords, s.style), response: respond(`New: ${p.message}`, answer) };
    }
    case "induction/propose": {
      const inputs = p.inputs.slice(0, s.numInputs).map((i) => block("input", i));
      const answer = `${inputs.join("\n")}\n${block("message", p.message)}`;
      return { role, program: p, prompt: proposeInductionPrompt(p.snippet, s.numInputs, s.style), response: respond("Varied inputs.", answer) };
    }
  }
}
