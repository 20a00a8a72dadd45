// TRR++ on hand-computed batches: whitening per (task, role) batch and the clipped policy-gradient loss.
import { describe, expect, test } from "bun:test";
import { whitenedAdvantages } from "../engine/trr/advantage.ts";
import { type LossCoefficients, lossGradients, type SequenceTerms, surrogate } from "../engine/trr/loss.ts";
import { Rng } from "../engine/rng.ts";

describe("whitenedAdvantages", () => {
  test.each([
    ["token: equal lengths", [1, -1], [1, 1], "token", [Math.SQRT1_2, -Math.SQRT1_2]],
    ["token: a long response pulls the mean (μ 0.5, var 1)", [1, -1], [3, 1], "token", [0.5, -1.5]],
    ["sequence: lengths ignored (paper)", [1, -1], [3, 1], "sequence", [Math.SQRT1_2, -Math.SQRT1_2]],
    ["equal rewards → 0", [-0.5, -0.5, -0.5], [4, 2, 9], "token", [0, 0, 0]],
    ["one token in the batch → 0", [1], [1], "token", [0]],
    ["empty responses get 0 and no weight", [1, -1, 5], [1, 1, 0], "token", [Math.SQRT1_2, -Math.SQRT1_2, 0]],
    // μ = (2·1 + 2·0 + 1·(−1))/5 = 0.2; var = (2·0.64 + 2·0.04 + 1.44)/4 = 0.7
    ["three sequences", [1, 0, -1], [2, 2, 1], "token", [0.8 / Math.sqrt(0.7), -0.2 / Math.sqrt(0.7), -1.2 / Math.sqrt(0.7)]],
  ] as const)("%s", (_n, rewards, lengths, mode, want) => {
    const got = whitenedAdvantages(rewards, lengths, mode, 1e-8);
    got.forEach((a, i) => expect(a).toBeCloseTo(want[i], 6));
  });
  test("is invariant to shifting and scaling the rewards", () => {
    const base = whitenedAdvantages([1, -0.5, 0.25, -1], [5, 3, 8, 2], "token", 0);
    const moved = whitenedAdvantages([1, -0.5, 0.25, -1].map((r) => 3 * r + 7), [5, 3, 8, 2], "token", 0);
    moved.forEach((a, i) => expect(a).toBeCloseTo(base[i], 9));
  });
  test("mismatched lengths are an error", () => {
    expect(() => whitenedAdvantages([1, 2], [1], "token", 1e-8)).toThrow(/2 rewards but 1 lengths/);
  });
});

const C: LossCoefficients = { clipLow: 0.2, clipHigh: 0.28, dualClip: 3, entropyCoeff: 0, klCoeff: 0 };

describe("surrogate (PPO clip, dual clip)", () => {
  test.each([
    ["ratio 1", 1, 1, -1, -1, false],
    ["A>0 above 1+high: clipped", 1, 1.5, -1.28, 0, true],
    ["A>0 below 1−low: unclipped side is larger", 1, 0.5, -0.5, -0.5, false],
    ["A<0 below 1−low: clipped", -1, 0.5, 0.8, 0, true],
    ["A<0 large ratio: dual clip at c", -1, 5, 3, 0, true],
    ["A<0 ratio under c: live", -1, 2, 2, 2, false],
  ] as const)("%s", (_n, adv, ratio, loss, grad, clipped) => {
    const s = surrogate(adv, ratio, C);
    expect(s.loss).toBeCloseTo(loss, 12);
    expect(s.dRatioTerm).toBeCloseTo(grad, 12);
    expect(s.clipped).toBe(clipped);
  });
});

const seq = (advantage: number, logp: number[], extra: Partial<SequenceTerms> = {}): SequenceTerms => ({
  advantage,
  logp: Float32Array.from(logp),
  entropy: Float32Array.from(logp.map(() => 2)),
  weight: 1,
  oldLogp: null,
  refLogp: null,
  ...extra,
});
/** A plain token-mean over `total` tokens: every token weighs 1 / total. */
const over = (seqs: SequenceTerms[], total: number): SequenceTerms[] => seqs.map((s) => ({ ...s, weight: 1 / total }));

describe("lossGradients", () => {
  test("token-mean over the mini-batch: −A/T per token, entropy bonus −coef/T", () => {
    const out = lossGradients(over([seq(1, [-1, -2]), seq(-1, [-3])], 3), { ...C, entropyCoeff: 0.01 });
    expect(Array.from(out.dlogp[0])).toEqual([-1 / 3, -1 / 3].map(Math.fround));
    expect(Array.from(out.dlogp[1])).toEqual([Math.fround(1 / 3)]);
    expect(out.dentropy[0][0]).toBeCloseTo(-0.01 / 3, 9);
    expect(out.sums.pgLoss).toBeCloseTo((-1 - 1 + 1) / 3, 9);
    expect(out.sums.entropy).toBeCloseTo(2, 6);
    expect(out.sums.loss).toBeCloseTo(-1 / 3 - 0.02, 6);
  });
  test("one mini-batch split over two calls gives the same gradients (accumulation invariance)", () => {
    const seqs = [seq(0.7, [-1, -2, -0.5]), seq(-1.2, [-3]), seq(0.1, [-0.2, -0.1])];
    const whole = lossGradients(over(seqs, 6), C);
    const a = lossGradients(over(seqs.slice(0, 1), 6), C);
    const b = lossGradients(over(seqs.slice(1), 6), C);
    expect([...a.dlogp, ...b.dlogp].map((x) => Array.from(x))).toEqual(whole.dlogp.map((x) => Array.from(x)));
    expect(a.sums.pgLoss + b.sums.pgLoss).toBeCloseTo(whole.sums.pgLoss, 12);
  });
  test("k3 KL to the reference: value and gradient by hand", () => {
    const out = lossGradients(over([seq(0, [Math.log(0.5)], { refLogp: Float32Array.from([Math.log(0.25)]) })], 1), { ...C, klCoeff: 0.1 });
    const k3 = 0.5 - Math.log(0.5) - 1;
    expect(out.sums.kl).toBeCloseTo(k3, 6);
    expect(out.dlogp[0][0]).toBeCloseTo(0.1 * (1 - 0.5), 6);
  });
  test("klCoeff > 0 without reference log-probs is an error", () => {
    expect(() => lossGradients(over([seq(1, [-1])], 1), { ...C, klCoeff: 0.1 })).toThrow(/reference log-probs/);
  });
  test("gradients equal finite differences of the loss (old and reference policies, away from kinks)", () => {
    const rng = Rng.seeded(3);
    const coef = { ...C, entropyCoeff: 0, klCoeff: 0.05 };
    for (let trial = 0; trial < 20; trial++) {
      const n = 1 + rng.int(4);
      const logp = Array.from({ length: n }, () => -0.1 - 3 * rng.float());
      const s = seq(rng.float() * 4 - 2, logp, {
        oldLogp: Float32Array.from(logp.map((l) => l + (rng.float() - 0.5) * 0.6)),
        refLogp: Float32Array.from(logp.map((l) => l + (rng.float() - 0.5))),
      });
      const g = lossGradients(over([s], n), coef).dlogp[0];
      for (let t = 0; t < n; t++) {
        const h = 1e-3;
        const at = (delta: number) => {
          const l = Float32Array.from(s.logp);
          l[t] += delta;
          return lossGradients(over([{ ...s, logp: l }], n), coef).sums.loss;
        };
        const fd = (at(h) - at(-h)) / (2 * h);
        const ratio = Math.exp(s.logp[t] - (s.oldLogp as Float32Array)[t]);
        const nearKink = [1 - C.clipLow, 1 + C.clipHigh, C.dualClip].some((k) => Math.abs(ratio - k) < 0.01);
        if (!nearKink) expect(g[t]).toBeCloseTo(fd, 3);
      }
    }
  });
});
