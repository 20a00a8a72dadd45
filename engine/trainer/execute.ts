// Calling the executor from a phase: every call is timed and counted under its category and ticks the progress
// display. Nothing model-written runs in this process; the executor port itself is ExecutorLike (ports.ts).
import type { Request, Result } from "../../sandbox/protocol.ts";
import type { IoProgram } from "../tasks/types.ts";
import type { ExecCategory } from "./clock.ts";
import type { StepContext } from "./context.ts";

/** The program text the executor runs: its imports prepended again, as the reference does (harmless repeats). */
export function withImports(p: Pick<IoProgram, "snippet" | "imports">): string {
  return p.imports.length > 0 ? `${p.imports.join("\n")}\n${p.snippet}` : p.snippet;
}

/** One executor call from a phase, timed and counted under `category`. */
export async function submit(ctx: Pick<StepContext, "executor" | "clock" | "progress">, category: ExecCategory, req: Request): Promise<Result> {
  const r = await ctx.clock.time(`executor.${category}`, () => ctx.executor.submit(req));
  ctx.clock.addCalls(category, 1);
  ctx.progress.tick();
  return r;
}

/** A judge result as a verdict: right, wrong, or null when the executor itself failed (the reference's None). */
export function verdictOf(r: Result): boolean | null {
  if (r.status === "crash") return null;
  return r.status === "ok" && r.correct === true;
}
