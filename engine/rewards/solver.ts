// Solver rewards (docs/reference.md §4, "Solver"): pure functions of what parsing and the executor found.

/** binary: an induction answer scores 1 only if every hidden pair passes; accuracy: the fraction that pass. */
export const INDUCTION_REWARDS = ["binary", "accuracy"] as const;
export type InductionReward = (typeof INDUCTION_REWARDS)[number];

/**
 * The reward of one solve answer: −1 when the tags fail the format regex (the answer is not executed), the accuracy
 * when it is above 0, else −0.5.
 *
 * @example solverReward({ formatOk: false, accuracy: 1 }) === -1
 * @example solverReward({ formatOk: true, accuracy: 1 }) === 1
 * @example solverReward({ formatOk: true, accuracy: 0 }) === -0.5
 * @example solverReward({ formatOk: true, accuracy: 0.4 }) === 0.4   // induction with inductionReward "accuracy"
 */
export function solverReward(a: { formatOk: boolean; accuracy: number }): number {
  if (!a.formatOk) return -1;
  return a.accuracy > 0 ? a.accuracy : -0.5;
}

/**
 * An induction answer's accuracy from its hidden pairs: binary (the reference scripts) scores 1 only when every pair
 * passes; accuracy scores the fraction that pass.
 *
 * @example inductionAccuracy([true, true, false], "binary") === 0
 * @example inductionAccuracy([true, true, false, false], "accuracy") === 0.5
 */
export function inductionAccuracy(passes: readonly boolean[], mode: InductionReward): number {
  if (passes.length === 0) return 0;
  const passed = passes.filter(Boolean).length;
  if (mode === "binary") return passed === passes.length ? 1 : 0;
  return passed / passes.length;
}
