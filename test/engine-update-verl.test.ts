// The policy update against verl's algorithm: test/support/verl_loss.py states verl v0.4.1's REINFORCE++ returns,
// masked whitening, clipped policy loss (clip 0.2 / 0.28, dual clip 3) and token-mean-per-micro-batch aggregation in
// PyTorch; the project's pieces that update() composes (batchAdvantages, tokenWeights, lossGradients) must give the
// same advantages, loss and gradient for every token, on 6 (task, role) groups × 64 sequences with ratios ≠ 1.
import { expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { spawnSync } from "bun";
import { REFERENCE_DEFAULTS } from "../engine/config/schema.ts";
import { Rng } from "../engine/rng.ts";
import { lossGradients } from "../engine/trr/loss.ts";
import { batchAdvantages, tokenWeights, type TrainedSequence } from "../engine/trainer/update.ts";
import { seedNote, TEST_SEED } from "./support/random-inputs.ts";
import { SLOW_TEST_MS } from "./support/timeouts.ts";
import { TORCH_PYTHON } from "./support/torch.ts";

setDefaultTimeout(SLOW_TEST_MS);

const GROUPS = ["abduction/propose", "abduction/solve", "deduction/propose", "deduction/solve", "induction/propose", "induction/solve"];

function close(got: number, want: number, what: string): void {
  if (!(Math.abs(got - want) <= 1e-9 + 2e-5 * Math.abs(want))) throw new Error(`${what}: ${got} vs verl ${want} ${seedNote}`);
}

for (const entropyCoeff of [0, 0.001]) {
  test(`loss, advantages and every token's gradient equal verl's (entropy coeff ${entropyCoeff}) ${seedNote}`, () => {
    const rng = Rng.seeded(TEST_SEED + entropyCoeff * 1e3);
    const a = { ...REFERENCE_DEFAULTS.algorithm, entropyCoeff };
    const seqs: TrainedSequence[] = [];
    const logp: Float32Array[] = [];
    const oldLogp: Float32Array[] = [];
    const entropy: Float32Array[] = [];
    for (const batch of GROUPS) {
      for (let i = 0; i < 64; i++) {
        const n = 1 + rng.int(40);
        const reward = [-1, -0.5, 1, rng.float()][rng.int(4)];
        seqs.push({ batch, reward, promptIds: [1], responseIds: Array.from({ length: n }, () => 2) });
        const lp = Float32Array.from({ length: n }, () => -0.05 - 4 * rng.float());
        logp.push(lp);
        // Ratios spread over both clip bounds and the dual clip; a few log-ratios past verl's ±20 clamp.
        oldLogp.push(Float32Array.from(lp, (l) => l - (rng.int(50) === 0 ? 25 * Math.sign(rng.float() - 0.5) : 1.6 * (rng.float() - 0.5))));
        entropy.push(Float32Array.from({ length: n }, () => 3 * rng.float()));
      }
    }
    const advantages = batchAdvantages(seqs, a.whitening, a.whitenEps);
    const weights = tokenWeights(seqs.map((s) => s.responseIds.length), a.lossMicroBatch);
    const g = lossGradients(
      seqs.map((_, i) => ({ advantage: advantages[i], weight: weights[i], logp: logp[i], entropy: entropy[i], oldLogp: oldLogp[i], refLogp: null })),
      { clipLow: a.clipLow, clipHigh: a.clipHigh, dualClip: a.dualClip, entropyCoeff, klCoeff: 0 },
    );
    const input = {
      groups: seqs.map((s) => s.batch),
      rewards: seqs.map((s) => s.reward),
      logp: logp.map((x) => Array.from(x)),
      old_logp: oldLogp.map((x) => Array.from(x)),
      entropy: entropy.map((x) => Array.from(x)),
      micro: a.lossMicroBatch,
      clip_low: a.clipLow,
      clip_high: a.clipHigh,
      dual_clip: a.dualClip,
      entropy_coeff: entropyCoeff,
    };
    const proc = spawnSync([TORCH_PYTHON, join(import.meta.dir, "support", "verl_loss.py")], { stdin: Buffer.from(JSON.stringify(input)), stdout: "pipe", stderr: "pipe" });
    if (proc.exitCode !== 0) throw new Error(proc.stderr.toString());
    const want = JSON.parse(proc.stdout.toString()) as { loss: number; advantages: number[]; dlogp: number[][]; dentropy: number[][] };
    expect(a.lossMicroBatch).toBe(16);
    close(g.sums.loss, want.loss, "loss");
    let checked = 0;
    seqs.forEach((_, i) => {
      close(advantages[i], want.advantages[i], `advantage ${i}`);
      want.dlogp[i].forEach((d, t) => close(g.dlogp[i][t], d, `dlogp[${i}][${t}]`));
      if (entropyCoeff > 0) want.dentropy[i].forEach((d, t) => close(g.dentropy[i][t], d, `dentropy[${i}][${t}]`));
      checked += want.dlogp[i].length;
    });
    // Not a vacuous check: clipped, dual-clipped and live tokens all occur.
    expect(g.sums.clipFraction).toBeGreaterThan(0.05);
    expect(want.dlogp.flat().filter((d) => d !== 0).length).toBeGreaterThan(checked / 2);
  });
}
