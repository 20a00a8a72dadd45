// A step's report as one summary line (stderr) and one JSONL record (metrics.jsonl in the run directory).
import type { Clock } from "./clock.ts";
import type { Count, EvalReport, EvalSet } from "./evaluate.ts";
import type { StepReport } from "./step.ts";

const SHORT = { abduction: "abd", deduction: "ded", induction: "ind" } as const;
const num = (x: number, digits = 2): string => (x >= 0 ? "+" : "") + x.toFixed(digits);

/**
 * e.g. `step 3 | abd P -1.00 valid 0/2 S -0.75 solved 1/2 | ded ... | buf abd 4 ded 3 ind 1 | loss -0.012 gn 0.41 | 48.2s`
 */
export function summaryLine(r: StepReport): string {
  const parts = [`step ${r.step}`];
  const tasks = [...new Set(r.batches.map((b) => b.task))];
  for (const task of tasks) {
    const p = r.batches.find((b) => b.task === task && b.role === "propose");
    const s = r.batches.find((b) => b.task === task && b.role === "solve");
    const text: string[] = [SHORT[task]];
    if (p) text.push(`P ${num(p.meanReward)} valid ${Math.round(p.successRate * p.size)}/${p.size}`);
    if (s) text.push(`S ${num(s.meanReward)} solved ${Math.round(s.successRate * s.size)}/${s.size}`);
    parts.push(text.join(" "));
  }
  const prop = r.batches.filter((b) => b.role === "propose");
  const valid = prop.reduce((a, b) => a + b.successRate * b.size, 0);
  const total = prop.reduce((a, b) => a + b.size, 0);
  parts.push(`valid ${total ? ((100 * valid) / total).toFixed(0) : 0}%`);
  parts.push(`buf abd ${r.buffers.abduction} ded ${r.buffers.deduction} ind ${r.buffers.induction}`);
  const skipped = r.update.skippedSteps > 0 ? ` (${r.update.skippedSteps} step${r.update.skippedSteps > 1 ? "s" : ""} skipped: not finite)` : "";
  parts.push(`loss ${num(r.update.loss, 4)} gn ${r.update.gradNorm.toPrecision(3)}${skipped}`);
  parts.push(`${r.seconds.toFixed(1)}s`);
  return parts.join(" | ");
}

/** The 95 % Wilson score interval of a binomial proportion (well behaved at 0, 1 and small n). */
export function wilson95(c: Count): [number, number] {
  if (c.total === 0) return [0, 1];
  const z = 1.959963984540054;
  const n = c.total;
  const p = c.correct / n;
  const centre = (p + (z * z) / (2 * n)) / (1 + (z * z) / n);
  const half = (z / (1 + (z * z) / n)) * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/** e.g. `deduction 12/48 25.0% [14.9, 38.8]` */
function countText(task: string, c: Count): string {
  const [lo, hi] = wilson95(c);
  const pct = (x: number): string => (100 * x).toFixed(1);
  return `${task} ${c.correct}/${c.total} ${c.total ? pct(c.correct / c.total) : "-"}% [${pct(lo)}, ${pct(hi)}]`;
}

function setText(e: EvalSet): string {
  const counts = (["deduction", "abduction", "induction"] as const).flatMap((t) => (e[t] ? [countText(t, e[t] as Count)] : []));
  return [...counts, `format ${(100 * e.formatRate).toFixed(0)}%`].join(" | ");
}

/** The eval report with 95 % intervals: eval.file's set, then the generated set on a second line. */
export function evalLine(e: EvalReport): string {
  const lines = [`eval step ${e.step} | ${setText(e)}`];
  if (e.generated) lines.push(`eval step ${e.step} generated | ${setText(e.generated)}`);
  return lines.join("\n");
}

/**
 * The JSONL record of a step: every batch's numbers keyed `task/role` (learnability solve rates as a list), buffers,
 * the update, advantage statistics per batch, and where time went.
 */
export function metricsRecord(r: StepReport, clock: Clock, evaluation: EvalReport | null): Record<string, unknown> {
  const rec: Record<string, unknown> = { step: r.step, seconds: Math.round(r.seconds * 1000) / 1000 };
  for (const b of r.batches) {
    const k = `${b.task}/${b.role}`;
    rec[`reward/${k}`] = b.meanReward;
    rec[`format_rate/${k}`] = b.formatRate;
    rec[`${b.role === "propose" ? "valid_rate" : "solve_rate"}/${b.task}`] = b.successRate;
    if (b.meanSolveRate !== null) rec[`learnability_solve_rate/${b.task}`] = b.meanSolveRate;
    if (b.role === "propose") rec[`learnability_rates/${b.task}`] = b.solveRates;
    rec[`size/${k}`] = b.size;
    if (b.dropped) rec[`dropped_prompts/${k}`] = b.dropped;
  }
  rec["buffer/abduction"] = r.buffers.abduction;
  rec["buffer/deduction"] = r.buffers.deduction;
  rec["buffer/induction"] = r.buffers.induction;
  rec["buffer/added"] = r.added;
  rec["buffer/withheld"] = r.withheld;
  for (const [k, v] of Object.entries(r.update)) rec[`update/${k}`] = v;
  for (const [batch, stats] of Object.entries(r.advantages)) {
    for (const [k, v] of Object.entries(stats)) rec[`advantage/${batch}/${k}`] = v;
  }
  const timing = clock.toJSON();
  rec.time_ms = timing.ms;
  rec.tokens = timing.tokens;
  rec.executor_calls = timing.calls;
  if (evaluation) rec.eval = evaluation;
  return rec;
}
