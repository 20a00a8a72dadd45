// Phase "validate": a proposer's response → a new buffered program, or the reason it is invalid (docs/reference.md §1.5.4–5,
// §2.1–2.2). Parsing happens here; the banned-import, AST and determinism checks and the gold outputs come from the
// executor's validate op.
import { extractAnswer, formatOk, generationText, parseInductionProposal, parseProposal } from "../tasks/parse.ts";
import type { InductionProgram, IoProgram } from "../tasks/types.ts";
import type { StepContext } from "./context.ts";
import { submit, withImports } from "./execute.ts";
import type { ProposeDraft } from "./propose.ts";

export type Proposal =
  | { formatOk: boolean; valid: true; program: IoProgram | InductionProgram }
  | { formatOk: boolean; valid: false; reason: string };

export async function validateProposal(ctx: Pick<StepContext, "executor" | "clock" | "progress" | "config" | "step">, draft: ProposeDraft, response: string): Promise<Proposal> {
  const { tasks } = ctx.config;
  const generation = generationText(draft.prompt, response, tasks.splitOnFirstAssistant);
  const fmt = formatOk(generation);
  const answer = extractAnswer(generation);
  if (draft.task === "induction") {
    const source = draft.source as IoProgram;
    const parsed = parseInductionProposal(answer, tasks.numInputs);
    if (!parsed.ok) return { formatOk: fmt, valid: false, reason: parsed.reason };
    const outputs: string[] = [];
    // The first input that fails makes the whole proposal invalid, so later ones are not run.
    for (const input of parsed.inputs) {
      const r = await submit(ctx, "validate", { op: "validate", code: withImports(source), input });
      if (r.status !== "ok" || r.output === undefined) return { formatOk: fmt, valid: false, reason: `input ${input}: ${r.status}` };
      outputs.push(r.output);
    }
    const program: InductionProgram = {
      snippet: source.snippet,
      inputs: parsed.inputs,
      outputs,
      message: parsed.message,
      imports: source.imports,
      step: ctx.step,
    };
    return { formatOk: fmt, valid: true, program };
  }
  const parsed = parseProposal(answer, { rejectMultipleDefs: tasks.rejectMultipleDefs, fReplaceLocation: tasks.fReplaceLocation });
  if (!parsed.ok) return { formatOk: fmt, valid: false, reason: parsed.reason };
  const r = await submit(ctx, "validate", { op: "validate", code: parsed.code, input: parsed.input });
  if (r.status !== "ok" || r.output === undefined) return { formatOk: fmt, valid: false, reason: `${r.status}: ${r.error ?? ""}` };
  return {
    formatOk: fmt,
    valid: true,
    program: { snippet: parsed.code, input: parsed.input, output: r.output, imports: parsed.imports, step: ctx.step },
  };
}
