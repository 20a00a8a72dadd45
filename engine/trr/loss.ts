// The policy loss of one optimizer step and its gradient with respect to each response token's log-prob and entropy
// (docs/reference.md §6; verl v0.4.1 trainer/ppo/core_algos.py compute_policy_loss and agg_loss): PPO-style clipped
// surrogate with dual clip on a log-ratio clamped to ±20, each token weighted by its sequence's `weight` (the
// aggregation: token-mean per micro-batch, averaged; see trainer/update.ts tokenWeights), minus an optional entropy
// bonus, plus an optional k3 KL to a frozen reference policy. The model turns these per-token gradients into parameter
// gradients (Policy.accumulate).

export interface LossCoefficients {
  clipLow: number;
  clipHigh: number;
  /** 0 = off. */
  dualClip: number;
  entropyCoeff: number;
  klCoeff: number;
}

export interface SequenceTerms {
  advantage: number;
  /** The loss weight of each of this sequence's tokens (1 / tokens for a plain token-mean). */
  weight: number;
  /** Current log-probs of the response tokens. */
  logp: Float32Array;
  entropy: Float32Array;
  /** Log-probs under the policy that sampled (null: the same parameters, so every ratio is exactly 1). */
  oldLogp: Float32Array | null;
  /** Log-probs under the frozen reference policy (needed when klCoeff > 0). */
  refLogp: Float32Array | null;
}

export interface LossStats {
  /** Each term aggregated with the token weights (a token-mean, or the mean of micro-batch token-means). */
  pgLoss: number;
  entropy: number;
  kl: number;
  /** Fraction of tokens whose gradient was cut by a clip. */
  clipFraction: number;
  loss: number;
}

const KL_CLAMP = 10; // verl clamps k3 to [−10, 10]
const LOG_RATIO_CLAMP = 20; // verl clamps log(ratio) to [−20, 20] before exp

/** One token's clipped surrogate and its derivative with respect to log-prob. */
export function surrogate(advantage: number, ratio: number, c: LossCoefficients): { loss: number; dRatioTerm: number; clipped: boolean } {
  const unclipped = -advantage * ratio;
  const bounded = Math.min(Math.max(ratio, 1 - c.clipLow), 1 + c.clipHigh);
  const clippedLoss = -advantage * bounded;
  // The max picks the unclipped term unless the clipped one is strictly larger (then the gradient is 0).
  let loss = Math.max(unclipped, clippedLoss);
  let live = unclipped >= clippedLoss;
  if (advantage < 0 && c.dualClip > 0) {
    const floor = -advantage * c.dualClip;
    if (floor < loss) {
      loss = floor;
      live = false;
    }
  }
  // d(−A·r)/dlogp = −A·r since r = exp(logp − old).
  return { loss, dRatioTerm: live ? -advantage * ratio : 0, clipped: !live };
}

/**
 * Per-token gradients of the loss, each token weighted by its sequence's `weight`, so the sequences of one
 * mini-batch may be processed in several calls and the sums added.
 */
export function lossGradients(
  seqs: readonly SequenceTerms[],
  c: LossCoefficients,
): { dlogp: Float32Array[]; dentropy: Float32Array[]; sums: LossStats } {
  const sums: LossStats = { pgLoss: 0, entropy: 0, kl: 0, clipFraction: 0, loss: 0 };
  const dlogp: Float32Array[] = [];
  const dentropy: Float32Array[] = [];
  for (const s of seqs) {
    const n = s.logp.length;
    const inv = s.weight;
    if (c.klCoeff > 0 && s.refLogp === null) throw new Error("lossGradients: klCoeff > 0 needs reference log-probs");
    const g = new Float32Array(n);
    const ge = new Float32Array(n).fill(-c.entropyCoeff * inv);
    for (let t = 0; t < n; t++) {
      const logRatio = s.oldLogp === null ? 0 : s.logp[t] - s.oldLogp[t];
      const clamped = Math.min(Math.max(logRatio, -LOG_RATIO_CLAMP), LOG_RATIO_CLAMP);
      const pg = surrogate(s.advantage, Math.exp(clamped), c);
      let grad = clamped === logRatio ? pg.dRatioTerm : 0; // the clamp passes no gradient
      let kl = 0;
      if (c.klCoeff > 0 && s.refLogp !== null) {
        const d = s.refLogp[t] - s.logp[t];
        const k3 = Math.exp(d) - d - 1;
        kl = Math.min(Math.max(k3, -KL_CLAMP), KL_CLAMP);
        if (Math.abs(k3) < KL_CLAMP) grad += c.klCoeff * (1 - Math.exp(d));
      }
      g[t] = grad * inv;
      sums.pgLoss += pg.loss * inv;
      sums.entropy += s.entropy[t] * inv;
      sums.kl += kl * inv;
      sums.clipFraction += (pg.clipped ? 1 : 0) * inv;
    }
    dlogp.push(g);
    dentropy.push(ge);
  }
  sums.loss = sums.pgLoss - c.entropyCoeff * sums.entropy + c.klCoeff * sums.kl;
  return { dlogp, dentropy, sums };
}
