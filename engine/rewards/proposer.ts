// Proposer rewards (docs/reference.md §4, "Proposer"): learnability of a valid, well-formatted task, else −1.

/**
 * The solve rate of N learnability rollouts: the mean score over the answers the executor could judge (null = the
 * executor gave no verdict, which the reference drops). A score is a verdict or an induction accuracy in [0, 1].
 * null when none could be judged.
 *
 * @example solveRate([true, false, null, true]) === 2 / 3
 * @example solveRate([1, 0.5]) === 0.75
 * @example solveRate([null]) === null
 */
export function solveRate(scores: ReadonlyArray<boolean | number | null>): number | null {
  const judged = scores.filter((v): v is boolean | number => v !== null).map(Number);
  if (judged.length === 0) return null;
  return judged.reduce((a, b) => a + b, 0) / judged.length;
}

/**
 * The proposer's reward: −1 when the proposal is invalid or its tags fail the format regex; else learnability
 * 1 − s for 0 < s < 1, and `extremeValue` when s is 0 or 1 (or unknown): −0.5 in the reference code, 0 in the paper.
 *
 * @example proposerReward({ valid: false, formatOk: true, solveRate: 0.5, extremeValue: -0.5 }) === -1
 * @example proposerReward({ valid: true, formatOk: false, solveRate: 0.5, extremeValue: -0.5 }) === -1
 * @example proposerReward({ valid: true, formatOk: true, solveRate: 0.25, extremeValue: -0.5 }) === 0.75
 * @example proposerReward({ valid: true, formatOk: true, solveRate: 1, extremeValue: 0 }) === 0
 */
export function proposerReward(p: { valid: boolean; formatOk: boolean; solveRate: number | null; extremeValue: number }): number {
  if (!p.valid || !p.formatOk) return -1;
  const s = p.solveRate;
  if (s === null || s <= 0 || s >= 1) return p.extremeValue;
  return 1 - s;
}
