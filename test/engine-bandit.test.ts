// A one-token bandit through the real RL path: Policy.generate samples an answer, the reward is +1 when the token is
// in the chosen half of the vocabulary (even ids) and 0 otherwise, then the trainer's update (TRR++ whitening per
// batch → clipped policy-gradient loss → Policy.accumulate → AdamW step). The exact expected reward, the
// probability mass of the chosen half computed from the logits, must climb from ≈ 0.5 towards 1; the flipped
// reward must make it fall; shuffled rewards and lr = 0 must leave it where it was.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REFERENCE_DEFAULTS, type TrainConfig } from "../engine/config/schema.ts";
import { makeCheckpoint, Policy } from "../engine/model/index.ts";
import { Rng } from "../engine/rng.ts";
import { Clock } from "../engine/trainer/clock.ts";
import type { StepContext } from "../engine/trainer/context.ts";
import { ProgressDisplay } from "../engine/trainer/progress.ts";
import { type TrainedSequence, update } from "../engine/trainer/update.ts";
import { writeTruncatedQwen } from "../engine/warmstart/vocab.ts";
import { SLOW_TEST_MS } from "./support/timeouts.ts";

setDefaultTimeout(SLOW_TEST_MS);

const TMP = mkdtempSync(join(tmpdir(), "azr-bandit-"));
const BATCH = 16;
const STEPS = 12;
let policyDir = "";
let prompt: number[] = [];

beforeAll(async () => {
  const tok = writeTruncatedQwen(join(TMP, "tok"), 512);
  prompt = tok.encode("Answer with one token:");
  policyDir = join(TMP, "model");
  await makeCheckpoint(policyDir, { preset: "tiny", seed: 3, tokenizer: join(TMP, "tok", "tokenizer.json") });
});
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

const chosen = (id: number): boolean => id % 2 === 0;

/** Probability mass of the chosen half at the answer position: the exact expected reward of a +1/0 bandit. */
async function expectedReward(policy: Policy): Promise<number> {
  const row = (await policy.logits(prompt)).at(-1) as Float32Array;
  const max = Math.max(...row);
  let total = 0;
  let good = 0;
  row.forEach((l, id) => {
    const p = Math.exp(l - max);
    total += p;
    if (chosen(id)) good += p;
  });
  return good / total;
}

type Variant = "reward" | "flipped" | "shuffled";

/** `steps` rounds of sample → reward → update; the expected reward after each. */
async function run(variant: Variant, lr: number, steps: number): Promise<number[]> {
  const policy = await Policy.load(policyDir, { maxSeq: 32, maxBatch: BATCH });
  try {
    const config: TrainConfig = {
      ...REFERENCE_DEFAULTS,
      model: { ...REFERENCE_DEFAULTS.model, maxBatch: BATCH },
      algorithm: { ...REFERENCE_DEFAULTS.algorithm, lr, maxGradNorm: 1e9 },
    };
    const rng = Rng.seeded(11);
    const ctx = { policy, config, rng, clock: new Clock(), progress: new ProgressDisplay(null, steps), step: 0, interrupted: () => false } as unknown as StepContext;
    const curve = [await expectedReward(policy)];
    for (let s = 0; s < steps; s++) {
      const gens = await policy.generate(Array.from({ length: BATCH }, () => prompt), { maxNew: 1, temperature: 1, seed: 1000 + s });
      let rewards: number[] = gens.map((g) => (chosen(g.ids[0]) ? 1 : 0));
      if (variant === "flipped") rewards = rewards.map((r) => -r);
      if (variant === "shuffled") rewards = rng.sample(rewards, rewards.length);
      const trained: TrainedSequence[] = gens.map((g, i) => ({ batch: "bandit/solve", promptIds: prompt, responseIds: g.ids, reward: rewards[i] }));
      await update(ctx, trained, null);
      curve.push(await expectedReward(policy));
    }
    return curve;
  } finally {
    policy.destroy();
  }
}

describe("one-token bandit through generate → reward → TRR++ → loss → accumulate → step", () => {
  test("rewarded, the chosen half's mass climbs from ≈ 0.5 towards 1", async () => {
    const curve = await run("reward", 0.02, STEPS);
    expect(Math.abs(curve[0] - 0.5)).toBeLessThan(0.1);
    expect(curve.at(-1) as number).toBeGreaterThan(0.9);
  });

  test("with the reward's sign flipped it falls towards 0", async () => {
    const curve = await run("flipped", 0.02, STEPS);
    expect(curve.at(-1) as number).toBeLessThan(0.1);
  });

  test("rewards shuffled within the batch leave it flat", async () => {
    const curve = await run("shuffled", 0.02, STEPS);
    expect(Math.abs((curve.at(-1) as number) - curve[0])).toBeLessThan(0.1);
  });

  test("lr = 0 leaves it exactly where it was", async () => {
    const curve = await run("reward", 0, 3);
    for (const v of curve) expect(v).toBe(curve[0]);
  });

  test("one small step raises the exact expected reward", async () => {
    const [before, after] = await run("reward", 1e-3, 1);
    expect(after).toBeGreaterThan(before);
  });
});
