// The policy loss of one optimizer step and its gradient with respect to each response token's log-prob and entropy
// (spec §6; verl's compute_policy_loss): PPO-style clipped surrogate with dual clip, token-mean aggregation over the
// whole mini-batch, minus an optional entropy bonus, plus an optional k3 KL to a frozen reference policy. The model
// turns these per-token gradients into parameter gradients (Policy.accumulate).

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
  /** Current log-probs of the response tokens. */
  logp: Float32Array;
  entropy: Float32Array;
  /** Log-probs under the policy that sampled (null: the same parameters, so every ratio is exactly 1). */
  oldLogp: Float32Array | null;
  /** Log-probs under the frozen reference policy (needed when klCoeff > 0). */
  refLogp: Float32Array | null;
}

export interface LossStats {
  /** Token-mean of each term over the mini-batch. */
  pgLoss: number;
  entropy: number;
  kl: number;
  /** Fraction of tokens whose gradient was cut by a clip. */
  clipFraction: number;
  loss: number;
}

const KL_CLAMP = 10; // verl clamps k3 to [−10, 10]

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
 * Per-token gradients of the mini-batch loss, where `totalTokens` is the number of response tokens in the whole
 * mini-batch (token-mean), so the sequences of one mini-batch may be processed in several calls.
 */
export function lossGradients(
  seqs: readonly SequenceTerms[],
  c: LossCoefficients,
  totalTokens: number,
): { dlogp: Float32Array[]; dentropy: Float32Array[]; sums: LossStats } {
  const sums: LossStats = { pgLoss: 0, entropy: 0, kl: 0, clipFraction: 0, loss: 0 };
  const inv = totalTokens > 0 ? 1 / totalTokens : 0;
  const dlogp: Float32Array[] = [];
  const dentropy: Float32Array[] = [];
  for (const s of seqs) {
    const n = s.logp.length;
    if (c.klCoeff > 0 && s.refLogp === null) throw new Error("lossGradients: klCoeff > 0 needs reference log-probs");
    const g = new Float32Array(n);
    const ge = new Float32Array(n).fill(-c.entropyCoeff * inv);
    for (let t = 0; t < n; t++) {
      const ratio = s.oldLogp === null ? 1 : Math.exp(s.logp[t] - s.oldLogp[t]);
      const pg = surrogate(s.advantage, ratio, c);
      let grad = pg.dRatioTerm;
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
