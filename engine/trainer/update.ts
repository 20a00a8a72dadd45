// Phase "update": TRR++ advantages per (task, role) batch, then the clipped policy-gradient loss aggregated like
// verl v0.4.1's dp_actor.update_policy (docs/reference.md §6): the step's sequences, in batch order, form mini-batches
// (one by default: the whole step, as in the reference), each split into loss micro-batches of
// algorithm.lossMicroBatch sequences whose token-means are averaged. The policy runs them in chunks of model.maxBatch
// (memory only; the loss does not depend on it) and one AdamW step applies each mini-batch. A step whose gradient
// norm is not finite is skipped, as verl's _optimizer_step does.
import type { WeightDecayMask } from "../config/schema.ts";
import { type Whitening, whitenedAdvantages } from "../trr/advantage.ts";
import { type LossStats, lossGradients, type SequenceTerms } from "../trr/loss.ts";
import type { Rng } from "../rng.ts";
import type { StepContext } from "./context.ts";
import type { PolicyLike, Sequence, StepOptions, TokenStats } from "./ports.ts";

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
  /** Optimizer steps skipped because the gradient norm was NaN or infinite (the policy applied nothing). */
  skippedSteps: number;
}

/** The indices of each (task, role) batch's sequences, in order. */
function batchIndices(seqs: readonly TrainedSequence[]): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  seqs.forEach((s, i) => groups.set(s.batch, [...(groups.get(s.batch) ?? []), i]));
  return groups;
}

/** Advantage of each sequence, whitened within its own batch. */
export function batchAdvantages(seqs: readonly TrainedSequence[], mode: Whitening, eps: number): number[] {
  const out = new Array<number>(seqs.length).fill(0);
  for (const idx of batchIndices(seqs).values()) {
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

/**
 * The loss weight of each token of each sequence of one mini-batch: verl's token-mean per micro-batch of `micro`
 * consecutive sequences (masked_mean: sum / (tokens + 1e-8)), divided by the number of micro-batches
 * (loss / gradient_accumulation). micro = 0: one token-mean over the whole mini-batch.
 *
 * @example tokenWeights([2, 2, 4], 2)   // ≈ [1/8, 1/8, 1/8]: micro-batches of 4 and 4 tokens, 2 of them
 * @example tokenWeights([1, 3, 2], 2)   // ≈ [1/8, 1/8, 1/4]
 * @example tokenWeights([1, 3, 4], 0)   // ≈ [1/8, 1/8, 1/8]
 */
export function tokenWeights(lengths: readonly number[], micro: number): number[] {
  const size = micro > 0 ? micro : Math.max(1, lengths.length);
  const count = Math.max(1, Math.ceil(lengths.length / size));
  const out: number[] = [];
  for (let m = 0; m < lengths.length; m += size) {
    const part = lengths.slice(m, m + size);
    const tokens = part.reduce((a, b) => a + b, 0);
    for (const _ of part) out.push(1 / ((tokens + 1e-8) * count));
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
export function advantageStats(seqs: readonly TrainedSequence[], mode: Whitening, eps: number): Record<string, AdvantageStats> {
  const advantages = batchAdvantages(seqs, mode, eps);
  const out: Record<string, AdvantageStats> = {};
  for (const [batch, idx] of batchIndices(seqs)) {
    const xs = idx.map((i) => advantages[i]);
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

/** The optimizer step's options as the trainer passes them; engine/model applies weightDecayMask. */
export type TrainerStepOptions = StepOptions & { weightDecayMask: WeightDecayMask };

/** The advantages permuted among the sequences of each batch (the shuffled-advantage control). */
export function shuffledWithinBatches(seqs: readonly TrainedSequence[], advantages: readonly number[], rng: Rng): number[] {
  const out = [...advantages];
  for (const idx of batchIndices(seqs).values()) {
    const order = rng.sample(idx, idx.length);
    idx.forEach((i, k) => (out[i] = advantages[order[k]]));
  }
  return out;
}

/** shuffle: permute each batch's advantages with this Rng (a control run); null = the method. */
export async function update(
  ctx: Pick<StepContext, "config" | "policy">,
  all: readonly TrainedSequence[],
  reference: PolicyLike | null,
  shuffle: Rng | null = null,
): Promise<UpdateStats> {
  const { config, policy } = ctx;
  const a = config.algorithm;
  const whitened = batchAdvantages(all, a.whitening, a.whitenEps);
  const advantages = shuffle ? shuffledWithinBatches(all, whitened, shuffle) : whitened;
  const chunk = config.model.maxBatch;
  const coeffs = { clipLow: a.clipLow, clipHigh: a.clipHigh, dualClip: a.dualClip, entropyCoeff: a.entropyCoeff, klCoeff: a.klCoeff };
  const seqs = all.map((s) => ({ promptIds: s.promptIds, responseIds: s.responseIds }));
  const scored = seqs.flatMap((s, i) => (s.responseIds.length > 0 ? [i] : []));
  // With one mini-batch the sampling policy is the current one, so every ratio is exactly 1 and no extra pass is
  // needed; with several, later mini-batches compare against the log-probs from before the first optimizer step.
  const before = async (p: PolicyLike): Promise<Map<number, Float32Array>> => {
    const logp = await statsInChunks(p, scored.map((i) => seqs[i]), chunk);
    return new Map(scored.map((i, k) => [i, logp[k]]));
  };
  const oldLogp = a.miniBatches > 1 ? await before(policy) : null;
  const refLogp = a.klCoeff > 0 ? await before(reference as PolicyLike) : null;
  const totals: UpdateStats = {
    pgLoss: 0, entropy: 0, kl: 0, clipFraction: 0, loss: 0, gradNorm: 0, sequences: scored.length, tokens: 0, optimizerSteps: 0, skippedSteps: 0,
  };
  const opt: TrainerStepOptions = {
    lr: a.lr, weightDecay: a.weightDecay, weightDecayMask: a.weightDecayMask, betas: a.betas, eps: a.adamEps, maxGradNorm: a.maxGradNorm,
  };
  const step = async (): Promise<void> => {
    const { gradNorm } = await policy.step(opt);
    totals.gradNorm = gradNorm;
    totals.optimizerSteps++;
    if (!Number.isFinite(gradNorm)) totals.skippedSteps++;
  };
  if (scored.length === 0) {
    // Nothing to learn from (every response empty): still one optimizer step, so step counts stay aligned.
    await step();
    return totals;
  }
  const per = Math.max(1, Math.ceil(all.length / a.miniBatches));
  const share = 1 / Math.ceil(all.length / per); // the mini-batches' losses, averaged
  for (let m = 0; m < all.length; m += per) {
    const members = Array.from({ length: Math.min(per, all.length - m) }, (_, k) => m + k);
    const weights = tokenWeights(members.map((i) => seqs[i].responseIds.length), a.lossMicroBatch);
    const weightOf = new Map(members.map((i, k) => [i, weights[k]]));
    const live = members.filter((i) => seqs[i].responseIds.length > 0);
    totals.tokens += live.reduce((acc, i) => acc + seqs[i].responseIds.length, 0);
    for (let c = 0; c < live.length; c += chunk) {
      const part = live.slice(c, c + chunk);
      await policy.accumulate(
        part.map((i) => seqs[i]),
        (stats: TokenStats) => {
          const terms: SequenceTerms[] = part.map((i, k) => ({
            advantage: advantages[i],
            weight: weightOf.get(i) as number,
            logp: stats.logp[k],
            entropy: stats.entropy[k],
            oldLogp: oldLogp?.get(i) ?? null,
            refLogp: refLogp?.get(i) ?? null,
          }));
          const g = lossGradients(terms, coeffs);
          for (const key of ["pgLoss", "entropy", "kl", "clipFraction", "loss"] as const) totals[key] += g.sums[key] * share;
          return { dlogp: g.dlogp, dentropy: a.entropyCoeff > 0 ? g.dentropy : undefined };
        },
      );
    }
    await step();
  }
  return totals;
}
