// A bounded sample of what the model wrote in a step, for the dashboard's sample browser (samples.jsonl, one line
// per step): the first `perBatch` proposals and solver answers of each (task, role) batch with their verdicts and
// rewards. Texts are cut at TEXT_LIMIT characters so a long-response run cannot grow the file without bound.
import type { PosedProgram, TaskType } from "../tasks/types.ts";
import type { Rollout } from "./rollout.ts";
import type { SolveDraft, SolveOutcome } from "./solve.ts";
import type { Proposal } from "./validate.ts";

const TEXT_LIMIT = 4000;

export interface ProposalSample {
  task: TaskType;
  role: "propose";
  response: string;
  formatOk: boolean;
  valid: boolean;
  /** Why the proposal is invalid (absent when valid). */
  reason?: string;
  /** The program it adds to the buffer, with the executor's gold output(s) (absent when invalid). */
  program?: PosedProgram["program"];
  /** Learnability solve rate (null when not estimated). */
  solveRate: number | null;
  reward: number;
}

export interface AnswerSample {
  task: TaskType;
  role: "solve";
  /** The buffered program the solver was posed. */
  program: PosedProgram["program"];
  response: string;
  formatOk: boolean;
  correct: boolean;
  reward: number;
}

export type Sample = ProposalSample | AnswerSample;

export interface StepSamples {
  step: number;
  samples: Sample[];
}

const cut = (text: string): string => (text.length <= TEXT_LIMIT ? text : `${text.slice(0, TEXT_LIMIT)}… [${text.length - TEXT_LIMIT} more characters]`);

const cutProgram = (p: PosedProgram["program"]): PosedProgram["program"] => ({ ...p, snippet: cut(p.snippet) });

export function proposalSamples(
  task: TaskType,
  proposed: readonly Rollout[],
  proposals: readonly Proposal[],
  solveRate: (i: number) => number | null,
  rewards: readonly number[],
  perBatch: number,
): ProposalSample[] {
  return proposals.slice(0, perBatch).map((p, i) => ({
    task,
    role: "propose",
    response: cut(proposed[i].response),
    formatOk: p.formatOk,
    valid: p.valid,
    ...(p.valid ? { program: cutProgram(p.program) } : { reason: cut(p.reason) }),
    solveRate: solveRate(i),
    reward: rewards[i],
  }));
}

export function answerSamples(drafts: readonly SolveDraft[], solved: readonly Rollout[], outcomes: readonly SolveOutcome[], perBatch: number): AnswerSample[] {
  return outcomes.slice(0, perBatch).map((o, i) => ({
    task: drafts[i].item.task,
    role: "solve",
    program: cutProgram(drafts[i].item.program),
    response: cut(solved[i].response),
    formatOk: o.formatOk,
    correct: o.correct,
    reward: o.reward,
  }));
}
