// update(): one baseline per (task, role) batch, the loss weights of verl's micro-batch aggregation, and, with the
// real policy on lavapipe, an optimizer step whose gradient norm is not finite counted as skipped.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REFERENCE_DEFAULTS, type TrainConfig } from "../engine/config/schema.ts";
import { randomTensors, saveCheckpoint, Policy } from "../engine/model/index.ts";
import { readSafetensorsDir } from "../engine/model/safetensors.ts";
import { resolveShape } from "../engine/model/make.ts";
import { Tokenizer } from "../engine/tokenizer/index.ts";
import { whitenedAdvantages } from "../engine/trr/advantage.ts";
import { Rng } from "../engine/rng.ts";
import { batchAdvantages, shuffledWithinBatches, tokenWeights, type TrainedSequence, update } from "../engine/trainer/update.ts";
import { SLOW_TEST_MS } from "./support/timeouts.ts";

setDefaultTimeout(SLOW_TEST_MS);

const seq = (batch: string, reward: number, n: number): TrainedSequence => ({
  batch,
  reward,
  promptIds: [1, 2],
  responseIds: Array.from({ length: n }, (_, i) => 3 + i),
});

describe("batchAdvantages groups by (task, role)", () => {
  test("interleaved batches are whitened separately, each as if alone", () => {
    const seqs = [seq("deduction/solve", 1, 3), seq("abduction/propose", -1, 2), seq("deduction/solve", -0.5, 5), seq("abduction/propose", 0.25, 4), seq("deduction/solve", 1, 1)];
    const got = batchAdvantages(seqs, "token", 1e-8);
    const ded = whitenedAdvantages([1, -0.5, 1], [3, 5, 1], "token", 1e-8);
    const abd = whitenedAdvantages([-1, 0.25], [2, 4], "token", 1e-8);
    expect(got).toEqual([ded[0], abd[0], ded[1], abd[1], ded[2]]);
  });
  test("a batch of equal rewards has zero advantages whatever the other batches hold", () => {
    const got = batchAdvantages([seq("induction/solve", -1, 4), seq("induction/propose", 1, 2), seq("induction/solve", -1, 9), seq("induction/propose", -1, 2)], "token", 1e-8);
    expect([got[0], got[2]]).toEqual([0, 0]);
    expect(got[1]).toBeGreaterThan(0);
  });
});

describe("shuffledWithinBatches (the shuffled-advantage control)", () => {
  const seqs = Array.from({ length: 12 }, (_, i) => seq(i % 3 === 0 ? "deduction/propose" : "deduction/solve", i % 4 === 0 ? 1 : -1, 1 + (i % 5)));
  const adv = batchAdvantages(seqs, "token", 1e-8);
  test("each batch keeps its own advantages, only their order among its sequences changes", () => {
    const got = shuffledWithinBatches(seqs, adv, Rng.seeded(3));
    for (const batch of ["deduction/propose", "deduction/solve"]) {
      const of = (xs: number[]) => xs.filter((_, i) => seqs[i].batch === batch).sort((a, b) => a - b);
      expect(of(got)).toEqual(of(adv));
    }
    expect(got).not.toEqual(adv);
  });
  test("the same Rng state gives the same permutation", () => {
    expect(shuffledWithinBatches(seqs, adv, Rng.seeded(9))).toEqual(shuffledWithinBatches(seqs, adv, Rng.seeded(9)));
  });
});

describe("tokenWeights (verl: token-mean per micro-batch, averaged)", () => {
  test.each([
    [[2, 2, 4], 2, [1 / 8, 1 / 8, 1 / 8]],
    [[1, 3, 2], 2, [1 / 8, 1 / 8, 1 / 4]],
    [[1, 3, 4], 0, [1 / 8, 1 / 8, 1 / 8]],
    [[5, 0, 3], 16, [1 / 8, 1 / 8, 1 / 8]],
  ])("%j in micro-batches of %d", (lengths, micro, want) => {
    tokenWeights(lengths, micro).forEach((w, i) => expect(w).toBeCloseTo(want[i], 7)); // verl adds 1e-8 to each token count
  });
});

describe("update with the real policy", () => {
  const root = mkdtempSync(join(tmpdir(), "azr-update-"));
  const tokenizer = Tokenizer.qwen25Default();
  /** A small random checkpoint; `poison` puts a NaN in the final norm, as an overflowed forward would. */
  const load = async (name: string, poison: boolean): Promise<Policy> => {
    const config = resolveShape({ seed: 5, hidden: 32, layers: 1, heads: 2, kvHeads: 1, intermediate: 32 }, tokenizer);
    const tensors = randomTensors(config, 5);
    if (poison) tensors.get("model.norm.weight")!.data[0] = Number.NaN;
    saveCheckpoint(join(root, name), { config, tensors, tokenizer });
    return Policy.load(join(root, name), { maxSeq: 32, maxBatch: 4 });
  };
  let healthy: Policy;
  let poisoned: Policy;
  beforeAll(async () => {
    healthy = await load("healthy", false);
    poisoned = await load("poisoned", true);
  });
  afterAll(() => {
    healthy.destroy();
    poisoned.destroy();
    rmSync(root, { recursive: true, force: true });
  });
  const config: TrainConfig = { ...REFERENCE_DEFAULTS, model: { ...REFERENCE_DEFAULTS.model, maxBatch: 4 } };
  const batch = [seq("a/solve", 1, 3), seq("a/solve", -1, 4), seq("b/solve", 1, 2), seq("b/solve", -0.5, 5), seq("b/solve", 0, 1)];

  test("a finite gradient norm: one optimizer step, none skipped", async () => {
    const ok = await update({ config, policy: healthy }, batch, null);
    expect([ok.optimizerSteps, ok.skippedSteps, ok.tokens, ok.sequences]).toEqual([1, 0, 15, 5]);
    expect(Number.isFinite(ok.gradNorm) && ok.gradNorm > 0).toBe(true);
  });
  test("a NaN gradient norm is reported and counted as a skipped step", async () => {
    const bad = await update({ config, policy: poisoned }, batch, null);
    expect(Number.isNaN(bad.gradNorm)).toBe(true);
    expect([bad.optimizerSteps, bad.skippedSteps]).toEqual([1, 1]);
  });
  test("a skipped step leaves every weight as it was (verl zeroes the gradients and skips)", async () => {
    const before = readSafetensorsDir(join(root, "poisoned"));
    await update({ config, policy: poisoned }, batch, null);
    await poisoned.save(join(root, "poisoned-after"));
    const after = readSafetensorsDir(join(root, "poisoned-after"));
    for (const [name, t] of before) {
      const got = after.get(name)!.data;
      t.data.forEach((x, i) => {
        if (Number.isNaN(x) ? !Number.isNaN(got[i]) : got[i] !== x) throw new Error(`${name}[${i}]: ${x} became ${got[i]}`);
      });
    }
  });
});
