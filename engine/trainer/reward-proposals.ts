// Phase "learnability → reward → buffer" of one task's proposals (docs/reference.md §4, "Proposer"): which
// proposals are estimated and which are buffered (learnabilityPlan), their learnability solve rates, each
// proposer's reward from them, and the buffering itself. The one home of the rule "which proposals earn
// learnability"; step.ts only reports the result.
import type { Buffers } from "../buffers/buffers.ts";
import { proposerReward } from "../rewards/proposer.ts";
import type { PosedProgram, TaskType } from "../tasks/types.ts";
import type { StepContext } from "./context.ts";
import { learnabilityPlan, solveRates } from "./learnability.ts";
import type { Proposal } from "./validate.ts";

export interface RewardedProposals {
  /** One reward per proposal, in order. */
  rewards: number[];
  /** The learnability solve rate of proposal i (null: not estimated, or no answer could be judged). */
  solveRateOf: (i: number) => number | null;
  /** Every solve rate that was measured (0 and 1 included). */
  solveRates: number[];
  /** Programs that entered a buffer (duplicates and a full buffer excluded). */
  added: number;
  /** Valid programs refused because they are held-out evaluation programs. */
  withheld: number;
}

export async function rewardProposals(ctx: StepContext, buffers: Buffers, task: TaskType, proposals: readonly Proposal[]): Promise<RewardedProposals> {
  const plan = learnabilityPlan(
    ctx,
    proposals.map((p) => ({ valid: p.valid, formatOk: p.formatOk, item: p.valid ? ({ task, program: p.program } as PosedProgram) : null })),
  );
  const rates = await solveRates(ctx, plan.estimate);
  const rateOf = new Map(plan.estimate.map((e, k) => [e.index, rates[k]]));
  const solveRateOf = (i: number): number | null => rateOf.get(i) ?? null;
  const extremeValue = ctx.config.rewards.extremeValue;
  const rewards = proposals.map((p, i) => proposerReward({ valid: p.valid, formatOk: p.formatOk, solveRate: solveRateOf(i), extremeValue }));
  const outcomes = plan.buffer.map((item) => buffers.add(item));
  const count = (o: string): number => outcomes.filter((x) => x === o).length;
  return { rewards, solveRateOf, solveRates: rates.filter((r): r is number => r !== null), added: count("added"), withheld: count("held_out") };
}
