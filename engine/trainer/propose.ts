// Phase "propose": the step's propose prompts, drawn from the buffer snapshot taken before any of this step's
// proposals land (docs/reference.md §0, §1.2–1.3). Deduction/abduction proposers see K references from their own buffer; an
// induction proposer sees one snippet drawn from the union of the two. Over-long prompts are re-drawn.
import type { BufferSnapshot } from "../buffers/buffers.ts";
import { drawInductionSource, drawReferences } from "../buffers/sampling.ts";
import { drawFitting, proposeInductionPrompt, proposeIoPrompt } from "../tasks/prompts.ts";
import type { IoProgram, TaskType } from "../tasks/types.ts";
import type { StepContext } from "./context.ts";
import { encodePrompt } from "./rollout.ts";

export interface ProposeDraft {
  task: TaskType;
  prompt: string;
  ids: number[];
  /** Induction: the program whose inputs the proposer writes. */
  source: IoProgram | null;
}

export function proposeDrafts(ctx: StepContext, task: TaskType, snapshot: BufferSnapshot): ProposeDraft[] {
  const { tasks } = ctx.config;
  const drafts: ProposeDraft[] = [];
  for (let i = 0; i < tasks.batchSize; i++) {
    let source: IoProgram | null = null;
    let ids: number[] = [];
    const draw = (): string => {
      if (task === "induction") {
        source = drawInductionSource(snapshot.abduction, snapshot.deduction, ctx.rng);
        return proposeInductionPrompt(source.snippet, tasks.numInputs, tasks.promptStyle);
      }
      const refs = drawReferences(snapshot[task], tasks.references, ctx.rng);
      return proposeIoPrompt(task, refs, tasks.bannedWords, tasks.promptStyle);
    };
    const count = (text: string): number => {
      ids = encodePrompt(ctx, text);
      return ids.length;
    };
    const prompt = drawFitting(draw, count, tasks.contentMaxTokens);
    drafts.push({ task, prompt, ids, source });
  }
  return drafts;
}
