// Phase "update": TRR++ advantages per (task, role) batch, then the clipped policy-gradient loss, token-mean over the
// mini-batch, accumulated over micro-batches of model.maxBatch and applied by one AdamW step per mini-batch (one
// mini-batch = the whole step by default, as in the reference).
import { whitenedAdvantages } from "../trr/advantage.ts";
import { type LossStats, lossGradients, type SequenceTerms } from "../trr/loss.ts";
import type { StepContext } from "./context.ts";
import type { PolicyLike, Sequence, TokenStats } from "./ports.ts";

export interface TrainedSequence extends Sequence {
  /** The (task, role) batch, e.g. "deduction/solve": one baseline each. */
  batch: string;
  reward: number;
}

export interface UpdateStats extends LossStats {
  gradNorm: number;
  sequences: number;
  tokens: number;
  optimizerSteps: number;
}

/** Advantage of each sequence, whitened within its own batch. */
export function batchAdvantages(seqs: readonly TrainedSequence[], mode: "token" | "sequence", eps: number): number[] {
  const out = new Array<number>(seqs.length).fill(0);
  const groups = new Map<string, number[]>();
  seqs.forEach((s, i) => groups.set(s.batch, [...(groups.get(s.batch) ?? []), i]));
  for (const idx of groups.values()) {
    const adv = whitenedAdvantages(
      idx.map((i) => seqs[i].reward),
      idx.map((i) => seqs[i].responseIds.length),
      mode,
      eps,
    );
    idx.forEach((i, k) => (out[i] = adv[k]));
  }
  return out;
}

export interface AdvantageStats {
  mean: number;
  std: number;
  min: number;
  max: number;
}

/** Mean, standard deviation and range of each batch's advantages, as `update` computes them (for metrics.jsonl). */
export function advantageStats(seqs: readonly TrainedSequence[], mode: "token" | "sequence", eps: number): Record<string, AdvantageStats> {
  const advantages = batchAdvantages(seqs, mode, eps);
  const groups = new Map<string, number[]>();
  seqs.forEach((s, i) => groups.set(s.batch, [...(groups.get(s.batch) ?? []), advantages[i]]));
  const out: Record<string, AdvantageStats> = {};
  for (const [batch, xs] of groups) {
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const std = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
    out[batch] = { mean, std, min: Math.min(...xs), max: Math.max(...xs) };
  }
  return out;
}

async function statsInChunks(policy: PolicyLike, seqs: Sequence[], chunk: number): Promise<Float32Array[]> {
  const logp: Float32Array[] = [];
  for (let i = 0; i < seqs.length; i += chunk) logp.push(...(await policy.tokenStats(seqs.slice(i, i + chunk))).logp);
  return logp;
}

export async function update(ctx: StepContext, all: readonly TrainedSequence[], reference: PolicyLike | null): Promise<UpdateStats> {
  const { config, policy } = ctx;
  const a = config.algorithm;
  const advantages = batchAdvantages(all, a.whitening, a.whitenEps);
  const live = all.map((s, i) => ({ seq: { promptIds: s.promptIds, responseIds: s.responseIds }, advantage: advantages[i] })).filter((s) => s.seq.responseIds.length > 0);
  const chunk = config.model.maxBatch;
  const coeffs = { clipLow: a.clipLow, clipHigh: a.clipHigh, dualClip: a.dualClip, entropyCoeff: a.entropyCoeff, klCoeff: a.klCoeff };
  const seqs = live.map((l) => l.seq);
  // With one mini-batch the sampling policy is the current one, so every ratio is exactly 1 and no extra pass is
  // needed; with several, later mini-batches compare against the log-probs from before the first optimizer step.
  const oldLogp = a.miniBatches > 1 ? await statsInChunks(policy, seqs, chunk) : null;
  const refLogp = a.klCoeff > 0 ? await statsInChunks(reference as PolicyLike, seqs, chunk) : null;
  const totals: UpdateStats = { pgLoss: 0, entropy: 0, kl: 0, clipFraction: 0, loss: 0, gradNorm: 0, sequences: seqs.length, tokens: 0, optimizerSteps: 0 };
  const per = Math.max(1, Math.ceil(live.length / a.miniBatches));
  const share = 1 / Math.max(1, Math.ceil(live.length / per)); // each mini-batch's token-means, averaged
  const opt = { lr: a.lr, weightDecay: a.weightDecay, betas: a.betas, eps: a.adamEps, maxGradNorm: a.maxGradNorm };
  if (live.length === 0) {
    // Nothing to learn from (every response empty): still one optimizer step, so step counts stay aligned.
    totals.gradNorm = (await policy.step(opt)).gradNorm;
    totals.optimizerSteps = 1;
    return totals;
  }
  for (let m = 0; m < live.length; m += per) {
    const mini = live.slice(m, m + per);
    const tokens = mini.reduce((acc, l) => acc + l.seq.responseIds.length, 0);
    totals.tokens += tokens;
    for (let c = 0; c < mini.length; c += chunk) {
      const part = mini.slice(c, c + chunk);
      const offset = m + c;
      await policy.accumulate(
        part.map((p) => p.seq),
        (stats: TokenStats) => {
          const terms: SequenceTerms[] = part.map((p, k) => ({
            advantage: p.advantage,
            logp: stats.logp[k],
            entropy: stats.entropy[k],
            oldLogp: oldLogp ? oldLogp[offset + k] : null,
            refLogp: refLogp ? refLogp[offset + k] : null,
          }));
          const g = lossGradients(terms, coeffs, tokens);
          for (const key of ["pgLoss", "entropy", "kl", "clipFraction", "loss"] as const) totals[key] += g.sums[key] * share;
          return { dlogp: g.dlogp, dentropy: a.entropyCoeff > 0 ? g.dentropy : undefined };
        },
      );
    }
    const { gradNorm } = await policy.step(opt);
    totals.gradNorm = gradNorm;
    totals.optimizerSteps++;
  }
  return totals;
}
