// Half-precision weight storage (weightDtype f16) against the PyTorch float64 reference run on the same rounded
// weights: a Qwen2 checkpoint stored in bf16 on disk (converted at load, then to f16) and a Llama one in f32 (rounded
// to f16 at load). Every matrix is stored f16 and widened to f32 as the kernels load it; products, sums, norms and
// softmaxes are f32 as in the f32 policy, so the f32 policy's tolerances (POLICY_TOL) apply to the difference from
// torch float64 on the rounded weights. Greedy tokens equal the reference's. Training is refused, naming the reason.
// Under a forced 2 MiB binding limit the f16 embedding and LM head split into row shards (twice the rows of an f32
// shard) and give the same logits.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { capBindingLimit, fromHalf, getGpu, requireGpu, toHalf } from "../kernels/index.ts";
import { loadCheckpoint, planFor, Policy, resolveShape, saveCheckpoint, type TensorMap, TRAINING_NEEDS_F32 } from "../engine/model/index.ts";
import { Rng } from "../engine/rng.ts";
import { Tokenizer } from "../engine/tokenizer/index.ts";
import { modelRef, POLICY_TOL as TOL, randomIds, writeRandomCheckpoint } from "./support/model-ref.ts";
import { expectClose } from "./support/close.ts";
import { SLOW_TEST_MS } from "./support/timeouts.ts";

setDefaultTimeout(SLOW_TEST_MS);

const tokenizer = Tokenizer.qwen25Default();
const shapes = {
  qwen2: { hidden: 32, layers: 2, heads: 4, kvHeads: 2, intermediate: 48 },
  llama: { architecture: "llama", hidden: 32, layers: 2, heads: 4, kvHeads: 1, headDim: 8, intermediate: 40, qkvBias: false, tiedEmbeddings: false },
} as const;
const disk = { qwen2: "BF16", llama: "F32" } as const;

const root = mkdtempSync(join(tmpdir(), "model-half-"));
beforeAll(() => getGpu());
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The tensors the f16 policy computes with: matrices rounded to f16 (nearest even), vectors as loaded. */
function rounded(tensors: TensorMap): TensorMap {
  return new Map([...tensors].map(([name, t]) => [name, t.shape.length === 2 ? { shape: t.shape, data: fromHalf(toHalf(t.data, name)) } : t]));
}

const concat = (arrays: Float32Array[]) => Float32Array.from(arrays.flatMap((a) => Array.from(a)));

for (const [arch, shape] of Object.entries(shapes) as [keyof typeof shapes, (typeof shapes)[keyof typeof shapes]][]) {
  describe(`${arch} with f16 weights (${disk[arch]} on disk) vs torch float64 on the rounded weights`, () => {
    const dir = join(root, arch);
    const refDir = join(root, `${arch}-rounded`);
    let policy: Policy;
    beforeAll(async () => {
      const config = resolveShape({ ...shape, seed: 41 }, tokenizer);
      writeRandomCheckpoint(join(root, `${arch}-f32`), config, tokenizer, 41);
      const source = loadCheckpoint(join(root, `${arch}-f32`));
      saveCheckpoint(dir, source, disk[arch]);
      saveCheckpoint(refDir, { ...source, tensors: rounded(loadCheckpoint(dir).tensors) });
      if (!requireGpu().shaderF16) throw new Error("this adapter lacks shader-f16; these tests need it (lavapipe >= Mesa 25 has it)");
      policy = await Policy.load(dir, { maxSeq: 64, maxBatch: 4, weightDtype: "f16" });
    });
    afterAll(() => policy.destroy());

    test("the stored weights are the f16-rounded ones, read back exactly", async () => {
      const saved = join(root, `${arch}-saved`);
      await policy.save(saved);
      const want = loadCheckpoint(refDir).tensors;
      for (const [name, t] of loadCheckpoint(saved).tensors) expect(Buffer.from(t.data.buffer).equals(Buffer.from(want.get(name)!.data.buffer))).toBe(true);
    });

    test("logits of every position", async () => {
      const ids = randomIds(Rng.seeded(5), 37, tokenizer.vocabSize);
      const ours = concat(await policy.logits(ids));
      const ref = modelRef(refDir, { mode: "logits", ids }).tensors.get("logits")!;
      expectClose("logits", ours, ref.data, TOL.logits);
      if (arch === "llama") {
        // The rounding is visible: against the unrounded f32 weights the same logits are outside the tolerance.
        const unrounded = modelRef(join(root, `${arch}-f32`), { mode: "logits", ids }).tensors.get("logits")!;
        expect(() => expectClose("logits", ours, unrounded.data, TOL.logits)).toThrow();
      }
    });

    test("greedy generation of 24 tokens equals the reference's, batched prompts of different lengths", async () => {
      const rng = Rng.seeded(31);
      const prompts = [randomIds(rng, 5, tokenizer.vocabSize), randomIds(rng, 17, tokenizer.vocabSize), randomIds(rng, 1, tokenizer.vocabSize)];
      const ref = modelRef(refDir, { mode: "greedy", prompts, max_new: 24 });
      expect(ref.values.get("min_margin") as number).toBeGreaterThan(1e-4); // the reference's choices are not near-ties
      const gens = await policy.generate(prompts, { maxNew: 24, temperature: 0, seed: 0 });
      expect(gens.map((g) => g.ids)).toEqual(ref.values.get("ids") as number[][]);
    });

    if (arch === "llama") {
      test("in row shards under a 2 MiB binding limit: the same logits", async () => {
        capBindingLimit(2 << 20);
        const sharded = await Policy.load(dir, { maxSeq: 48, maxBatch: 1, weightDtype: "f16" }); // decode logits [1, vocab] fit 2 MiB
        try {
          // 151,665 x 32 f16 = 9.3 MiB: 5 shards each for the embedding and the untied head (f32 would need 10).
          expect(sharded.memoryPlan(1, 37)).toContain("model.embed_tokens.weight (5), lm_head.weight (5)");
          const ids = randomIds(Rng.seeded(6), 37, tokenizer.vocabSize);
          const ref = modelRef(refDir, { mode: "logits", ids }).tensors.get("logits")!;
          expectClose("logits", concat(await sharded.logits(ids)), ref.data, TOL.logits);
        } finally {
          sharded.destroy();
          capBindingLimit(undefined);
        }
      });
    }

    test("training is refused with the reason, before any work", async () => {
      const seq = { promptIds: [1, 2, 3], responseIds: [4, 5] };
      await expect(policy.accumulate([seq], () => ({ dlogp: [new Float32Array(2)] }))).rejects.toThrow(TRAINING_NEEDS_F32);
      await expect(policy.step({ lr: 1e-3, weightDecay: 0, betas: [0.9, 0.999], eps: 1e-8, maxGradNorm: 0 })).rejects.toThrow(TRAINING_NEEDS_F32);
    });
  });
}

test("the memory plan counts f16 matrices at 2 bytes and no training state", async () => {
  const config = resolveShape({ preset: "qwen2.5-0.5b", seed: 0 }, tokenizer);
  const sizes = { maxBatch: 1, maxSeq: 64 };
  const [f32, f16] = (["f32", "f16"] as const).map((d) => planFor(config, sizes, 1, 64, d));
  const item = (p: typeof f32, what: string) => p.items.find((i) => i.what.startsWith(what))?.bytes;
  const matrices = config.vocabSize * config.hidden; // tied: the one embedding
  expect(item(f32, "parameters")! - item(f16, "parameters")!).toBeGreaterThan(2 * matrices);
  expect(item(f16, "gradients")).toBeUndefined();
  expect(item(f16, "AdamW")).toBeUndefined();
  expect(f16.total).toBeLessThan(f32.total / 4);
});
