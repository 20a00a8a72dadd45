// The policy with its weights split into row shards, against the PyTorch float64 reference: a binding limit of
// 64 KiB (capBindingLimit, as AZR_MAX_BINDING does) on a hidden-64 model with a 2,004 / 2,003-token vocabulary splits
// the embedding and the LM head into 8 shards and each MLP matrix into 2, as Qwen2.5's 151,936-row embedding is split
// on lavapipe's 128 MiB. Every sharded op runs forward and backward: the embedding lookup and its gradient, the head's
// logits, log-probs and entropies in row chunks (column blocks of the logits per shard) and their gradients, the MLP
// and attention projections, decoding with the KV cache, the gradient norm and AdamW over the shards, and the
// optimizer state saved and restored per shard.
// AZR_SLOW=1 adds a Qwen2.5-0.5B-shaped random checkpoint on the adapter's own limits (its 151,936 x 896 embedding is
// 5 shards on lavapipe): greedy tokens equal to torch float64's, and a training step. Minutes and ~10 GiB: not in CI.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { adamwReference, capBindingLimit, getGpu, gradNormReference } from "../kernels/index.ts";
import { loadCheckpoint, type ModelConfig, Policy, resolveShape, type Sequence, type TensorMap } from "../engine/model/index.ts";
import { Rng } from "../engine/rng.ts";
import { Tokenizer } from "../engine/tokenizer/index.ts";
import { gradTol, modelRef, POLICY_TOL as TOL, randomIds, type RefSeq, refSequences, writeRandomCheckpoint } from "./support/model-ref.ts";
import { expectClose, type Tolerance } from "./support/close.ts";
import { SLOW_TEST_MS } from "./support/timeouts.ts";

setDefaultTimeout(SLOW_TEST_MS);

const LIMIT = 64 << 10;
// Activations are not sharded: [maxBatch·maxSeq, intermediate] = [3·16, 320] f32 = 60 KiB fits the limit.
const SIZES = { maxSeq: 16, maxBatch: 3 };
const tokenizer = Tokenizer.qwen25Default();
const base = { ropeTheta: 1e6, rmsEps: 1e-6, maxPositions: 32768, hidden: 64, heads: 4, headDim: 16, intermediate: 320 } as const;
const configs: Record<string, ModelConfig> = {
  // vocab % 4 == 0: the head's column blocks are vec4-aligned.
  qwen2: { ...base, architecture: "qwen2", vocabSize: 2004, layers: 2, kvHeads: 2, qkvBias: true, tiedEmbeddings: true },
  // vocab % 4 != 0: scalar column blocks; an untied head is sharded on its own.
  llama: { ...base, architecture: "llama", vocabSize: 2003, layers: 1, kvHeads: 1, qkvBias: false, tiedEmbeddings: false },
};

const root = mkdtempSync(join(tmpdir(), "model-shards-"));
beforeAll(() => getGpu());
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** AdamW from the same f32 gradients (kernels-adamw.test.ts): f32 rounding of the update only. */
const STEPPED: Tolerance = { abs: 1e-5, rel: 1e-5 };

const concat = (arrays: Float32Array[]) => Float32Array.from(arrays.flatMap((a) => Array.from(a)));
const asSeq = (s: RefSeq): Sequence => ({ promptIds: s.prompt, responseIds: s.response });
const gradsOf = (seqs: RefSeq[]) => () => ({ dlogp: seqs.map((s) => Float32Array.from(s.c)), dentropy: seqs.map((s) => Float32Array.from(s.e)) });
const OPT = { lr: 1e-2, weightDecay: 0.1, betas: [0.9, 0.99] as [number, number], eps: 1e-8, maxGradNorm: 0.5 };

for (const [arch, config] of Object.entries(configs)) {
  describe(`${arch} policy in row shards vs torch float64`, () => {
    const dir = join(root, arch);
    const V = config.vocabSize;
    // 34 scored rows in chunks of 8 (8 logits rows of 2,004 f32 fit 64 KiB): four full chunks and a partial one.
    const seqs = refSequences(61, V, [[3, 12], [8, 8], [1, 14]]);
    let policy: Policy;
    let tensors: TensorMap;
    beforeAll(async () => {
      capBindingLimit(LIMIT);
      tensors = writeRandomCheckpoint(dir, config, tokenizer, arch === "qwen2" ? 13 : 14);
      policy = await Policy.load(dir, SIZES);
    });
    afterAll(() => {
      policy.destroy();
      capBindingLimit(undefined);
    });

    test("the memory plan shows the shards; a batch whose activations exceed a binding is refused", async () => {
      const plan = policy.memoryPlan(SIZES.maxBatch, SIZES.maxSeq);
      expect(plan).toContain("model.embed_tokens.weight (8)");
      expect(plan).toContain("mlp.down_proj.weight (2)");
      expect(plan).toContain("fits");
      await expect(Policy.load(dir, { maxSeq: 64, maxBatch: 3 })).rejects.toThrow(
        /MLP gate\/up \[3·64, 320\] needs 240\.0 KiB, over the adapter's binding limit 64\.0 KiB .*<= 51 token positions \(now 3 x 64\)/,
      );
    });

    test("logits of every position", async () => {
      const ids = randomIds(Rng.seeded(5), 15, V);
      const ours = await policy.logits(ids);
      const ref = modelRef(dir, { mode: "logits", ids }).tensors.get("logits")!;
      expect(ref.shape).toEqual([15, V]);
      expectClose("logits", concat(ours), ref.data, TOL.logits);
    });

    test("log-probs, entropies and every parameter gradient", async () => {
      const stats = await policy.accumulate(seqs.map(asSeq), gradsOf(seqs));
      const ref = modelRef(dir, { mode: "grads", seqs });
      expectClose("logp", concat(stats.logp), ref.tensors.get("logp")!.data, TOL.logp);
      expectClose("entropy", concat(stats.entropy), ref.tensors.get("entropy")!.data, TOL.entropy);
      const grads = await policy.gradients();
      expect([...grads.keys()].sort()).toEqual([...tensors.keys()].sort());
      for (const [name, g] of grads) {
        const want = ref.tensors.get(`grad:${name}`)!.data;
        expectClose(name, g.data, want, gradTol(want));
      }
    });

    test("greedy generation equals the reference's, batched prompts of different lengths", async () => {
      const rng = Rng.seeded(arch === "qwen2" ? 33 : 36);
      const prompts = [randomIds(rng, 5, V), randomIds(rng, 3, V)];
      const ref = modelRef(dir, { mode: "greedy", prompts, max_new: 10 });
      expect(ref.values.get("min_margin") as number).toBeGreaterThan(1e-4);
      const gens = await policy.generate(prompts, { maxNew: 10, temperature: 0, seed: 0 });
      expect(gens.map((g) => g.ids)).toEqual(ref.values.get("ids") as number[][]);
    });

    test("the clipped gradient norm and AdamW over the shards match the float64 reference; the state resumes per shard", async () => {
      // The gradients of the previous test are still accumulated.
      const grads = await policy.gradients();
      const names = [...grads.keys()];
      const norm = gradNormReference(names.map((n) => grads.get(n)!.data), OPT.maxGradNorm);
      const { gradNorm } = await policy.step(OPT);
      expect(Math.abs(gradNorm - norm.norm) / norm.norm).toBeLessThan(1e-5);
      await policy.save(join(root, `${arch}-stepped`));
      const stepped = loadCheckpoint(join(root, `${arch}-stepped`)).tensors;
      const adam = { lr: OPT.lr, beta1: OPT.betas[0], beta2: OPT.betas[1], eps: OPT.eps, weightDecay: OPT.weightDecay };
      for (const name of names) {
        const p = Float64Array.from(tensors.get(name)!.data);
        const size = p.length;
        adamwReference(p, grads.get(name)!.data, new Float64Array(size), new Float64Array(size), 1, adam, norm.scale);
        expectClose(name, stepped.get(name)!.data, p, STEPPED);
      }
      // A second step from the saved state equals a second step straight on.
      await policy.saveOptimizer(join(root, `${arch}.adam`));
      const resumed = await Policy.load(join(root, `${arch}-stepped`), SIZES);
      await resumed.loadOptimizer(join(root, `${arch}.adam`));
      for (const p of [policy, resumed]) {
        await p.accumulate(seqs.map(asSeq), gradsOf(seqs));
        await p.step(OPT);
      }
      const ids = [1, 2, 3, 4, 5];
      expect(await resumed.logits(ids)).toEqual(await policy.logits(ids));
      resumed.destroy();
    });
  });
}

describe.skipIf(process.env.AZR_SLOW !== "1")("Qwen2.5-0.5B shape on the adapter's own limits (AZR_SLOW=1)", () => {
  const dir = join(root, "qwen2.5-0.5b");
  const config = resolveShape({ preset: "qwen2.5-0.5b", seed: 0 }, tokenizer);
  const rng = Rng.seeded(71);
  const prompts = [randomIds(rng, 7, tokenizer.vocabSize), randomIds(rng, 3, tokenizer.vocabSize)];
  const MAX_NEW = 8;

  test("loads in shards, generates the reference's greedy tokens with the KV cache, scores and takes a training step", async () => {
    writeRandomCheckpoint(dir, config, tokenizer, 72, 0.02); // Qwen2's initializer range
    const ref = modelRef(dir, { mode: "greedy", prompts, max_new: MAX_NEW }); // before our load: never both in memory
    const policy = await Policy.load(dir, { maxSeq: 64, maxBatch: 2 });
    try {
      expect(policy.memoryPlan(2, 64)).toContain("model.embed_tokens.weight (");
      expect(ref.values.get("min_margin") as number).toBeGreaterThan(1e-4);
      const gens = await policy.generate(prompts, { maxNew: MAX_NEW, temperature: 0, seed: 0 });
      expect(gens.map((g) => g.ids)).toEqual(ref.values.get("ids") as number[][]);
      const seqs = prompts.map((p, i) => ({ promptIds: p, responseIds: gens[i].ids }));
      const before = await policy.tokenStats(seqs);
      await policy.accumulate(seqs, (st) => ({ dlogp: st.logp.map((l) => l.map(() => -1 / l.length)) }));
      const { gradNorm, skipped } = await policy.step({ ...OPT, lr: 1e-4 });
      expect(skipped).toBe(false);
      expect(gradNorm).toBeGreaterThan(0);
      const after = await policy.tokenStats(seqs);
      // Raising the log-probs of the generated tokens was the loss's direction.
      expect(concat(after.logp).reduce((a, b) => a + b, 0)).toBeGreaterThan(concat(before.logp).reduce((a, b) => a + b, 0));
    } finally {
      policy.destroy();
    }
  }, 40 * 60_000);
});
