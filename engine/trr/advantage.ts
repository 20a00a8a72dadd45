// Task-Relative REINFORCE++ advantages (docs/reference.md §6): one baseline per (task, role) batch. With γ = 1 every response token's
// return is its sequence's scalar reward, so whitening the returns over a batch's tokens gives one advantage per
// sequence, shared by all of its tokens.

export const WHITENINGS = ["token", "sequence"] as const;
export type Whitening = (typeof WHITENINGS)[number];

/**
 * Whitened advantages of one (task, role) batch, one per sequence.
 * - "token" (verl's masked_whiten, the reference): mean and Bessel-corrected variance over all valid response tokens,
 *   so a sequence of L tokens weighs L times; A = (r − μ) / sqrt(var + eps).
 * - "sequence" (the paper's formula): the same over the rewards, one weight each.
 * Fewer than two weighted items (no variance defined) give all zeros, as does a batch of equal rewards.
 *
 * @example whitenedAdvantages([1, -1], [1, 1], "token", 1e-8)   // ≈ [0.7071, -0.7071]: μ 0, var 2
 * @example whitenedAdvantages([1, -1], [3, 1], "token", 1e-8)   // μ = 0.5, var = (3·0.25 + 2.25)/3 = 1 → [0.5, -1.5]
 */
export function whitenedAdvantages(
  rewards: readonly number[],
  lengths: readonly number[],
  mode: Whitening,
  eps: number,
): number[] {
  if (rewards.length !== lengths.length) {
    throw new Error(`whitenedAdvantages: ${rewards.length} rewards but ${lengths.length} lengths`);
  }
  const weights = mode === "token" ? lengths : lengths.map((l) => (l > 0 ? 1 : 0));
  const n = weights.reduce((a, b) => a + b, 0);
  if (n < 2) return rewards.map(() => 0);
  const mean = rewards.reduce((acc, r, i) => acc + weights[i] * r, 0) / n;
  const variance = rewards.reduce((acc, r, i) => acc + weights[i] * (r - mean) ** 2, 0) / (n - 1);
  const scale = 1 / Math.sqrt(variance + eps);
  return rewards.map((r, i) => (weights[i] > 0 ? (r - mean) * scale : 0));
}
