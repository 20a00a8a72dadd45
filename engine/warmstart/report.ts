// Held-out scoring of a warm-started policy, through the trainer's own phases: greedy rollouts (trainer/rollout.ts),
// then the solver's reward path (scoreSolve: format, then the executor's judge) or the proposer's (validateProposal:
// format, parse, the executor's validate). So "format rate" and "valid" mean exactly what they mean in self-play.
import { REFERENCE_DEFAULTS, type TrainConfig } from "../config/schema.ts";
import { Rng } from "../rng.ts";
import type { PromptStyle } from "../tasks/prompts.ts";
import type { PosedProgram } from "../tasks/types.ts";
import { Clock } from "../trainer/clock.ts";
import type { StepContext } from "../trainer/context.ts";
import type { ExecutorLike, PolicyLike } from "../trainer/ports.ts";
import { ProgressDisplay } from "../trainer/progress.ts";
import { encodePrompt, type Rollout, rollouts } from "../trainer/rollout.ts";
import { scoreSolve } from "../trainer/solve.ts";
import { validateProposal } from "../trainer/validate.ts";
import { type Example, type RoleKey } from "./examples.ts";
import { asInduction, asIo } from "./programs.ts";

export interface RoleScore {
  role: RoleKey;
  total: number;
  /** Responses whose tags pass the trainer's format check. */
  formatRate: number;
  /** solve: answers the executor judged right; propose: proposals the executor validated. */
  successRate: number;
}

/** A StepContext for scoring outside a training run: the reference's task and reward settings, nothing sampled. */
export function scoringContext(policy: PolicyLike, executor: ExecutorLike, maxBatch: number, promptStyle: PromptStyle): StepContext {
  const d = REFERENCE_DEFAULTS;
  const config: TrainConfig = { ...d, model: { ...d.model, maxBatch }, tasks: { ...d.tasks, promptStyle } };
  return { policy, executor, config, rng: Rng.seeded(0), clock: new Clock(), progress: new ProgressDisplay(null, 0), step: 0, interrupted: () => false };
}

/** Greedy responses to each example's prompt, scored as the trainer scores that role. */
export async function scoreExamples(ctx: StepContext, examples: readonly Example[], maxNew: number, onDone?: (n: number) => void): Promise<RoleScore[]> {
  const byRole = new Map<RoleKey, Example[]>();
  for (const e of examples) byRole.set(e.role, [...(byRole.get(e.role) ?? []), e]);
  const scores: RoleScore[] = [];
  for (const [role, list] of byRole) {
    const [task, kind] = role.split("/") as [PosedProgram["task"], "solve" | "propose"];
    const prompts = list.map((e) => ({ prompt: e.prompt, ids: encodePrompt(ctx, e.prompt) }));
    const outs: Rollout[] = [];
    for (let at = 0; at < prompts.length; at += ctx.config.model.maxBatch) {
      const chunk = prompts.slice(at, at + ctx.config.model.maxBatch);
      outs.push(...(await rollouts(ctx, "eval", chunk, { temperature: 0, maxNew })));
      onDone?.(chunk.length);
    }
    const marks = await Promise.all(
      outs.map(async (o, i) => {
        const p = list[i].program;
        if (kind === "solve") {
          const item = (task === "induction" ? { task, program: asInduction(p) } : { task, program: asIo(p) }) as PosedProgram;
          const s = await scoreSolve(ctx, { item, prompt: o.prompt, ids: o.promptIds }, o);
          return { fmt: s.formatOk, ok: s.correct };
        }
        const draft = { task, prompt: o.prompt, ids: o.promptIds, source: task === "induction" ? asIo(p) : null };
        const v = await validateProposal(ctx, draft, o.response);
        return { fmt: v.formatOk, ok: v.valid && v.formatOk };
      }),
    );
    const rate = (f: (m: { fmt: boolean; ok: boolean }) => boolean): number => marks.filter(f).length / Math.max(1, marks.length);
    scores.push({ role, total: marks.length, formatRate: rate((m) => m.fmt), successRate: rate((m) => m.ok) });
  }
  return scores;
}

/** The report's table: one line per role. */
export function scoreTable(scores: readonly RoleScore[]): string {
  const pct = (x: number): string => `${(100 * x).toFixed(1)}%`.padStart(6);
  return scores
    .map((s) => `${s.role.padEnd(18)} n ${String(s.total).padStart(3)} | format ${pct(s.formatRate)} | ${s.role.endsWith("solve") ? "solved" : "valid "} ${pct(s.successRate)}`)
    .join("\n");
}
