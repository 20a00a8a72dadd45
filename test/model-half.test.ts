// Half-precision weight storage (weightDtype f16) against the PyTorch float64 reference run on the same rounded
// weights: a Qwen2 checkpoint stored in bf16 on disk (converted at load, then to f16) and a Llama one in f32 (rounded
// to f16 at load). Every matrix is stored f16 and widened to f32 as the kernels load it; products, sums, norms and
// softmaxes are f32 as in the f32 policy, so the f32 policy's tolerances (POLICY_TOL) apply to the difference from
// torch float64 on the rounded weights. Greedy tokens equal the reference's. Loaded for inference only, training is
// refused, naming the reason. Under a forced 2 MiB binding limit the f16 embedding and LM head split into row shards
// (twice the rows of an f32 shard) and give the same logits.
// Training in f16 (the default load): two AdamW steps against torch's mixed-precision reference (gradients through
// the f16-rounded masters, the update on the f32 masters), the f16 copy equal to each master rounded, and under the
// 2 MiB limit (masters, copies and gradients in the same shards) save, load, step equal to two steps bit for bit.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { capBindingLimit, fromHalf, getGpu, requireGpu, toHalf } from "../kernels/index.ts";
import { formatPlan, INFERENCE_ONLY, loadCheckpoint, planFor, Policy, resolveShape, saveCheckpoint, type TensorMap } from "../engine/model/index.ts";
import { Rng } from "../engine/rng.ts";
import { Tokenizer } from "../engine/tokenizer/index.ts";
import { asSeq, gradsOf, gradTol, modelRef, POLICY_TOL as TOL, randomIds, type RefResult, refSequences, writeRandomCheckpoint } from "./support/model-ref.ts";
import { describeMisses, expectClose } from "./support/close.ts";
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

/** `got` holds exactly `want`'s bits (the tensor named in a failure). */
const expectBits = (name: string, got: Float32Array, want: Float32Array) =>
  expect({ name, same: Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(Buffer.from(want.buffer, want.byteOffset, want.byteLength)) }).toEqual({ name, same: true });

// f16 training against torch's mixed-precision AdamW (float64 masters, gradients through the masters rounded to f16).
// The f32 gradients carry the f32 policy's rounding (gradTol), and AdamW hands it to the master amplified at most
// lr/eps times (lr·m̂/(√v̂ + eps) is steepest in g at g = 0). eps = 1e-4 rather than torch's default 1e-8 bounds that
// factor at 10 (lr 1e-3): up to 3.7e-6 seen after one and two steps, in elements whose gradient is near zero (with
// eps 1e-8 such an element's update would be the sign of its rounding error, ±lr). abs 1e-5 stays under half an f16
// ulp of a weight near 0.1 (3e-5), so a master that had kept only its f16 bits would miss it.
const MASTER_TOL = { abs: 1e-5, rel: 1e-6 };

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
      policy = await Policy.load(dir, { maxSeq: 64, maxBatch: 4, weightDtype: "f16", training: false });
    });
    afterAll(() => policy.destroy());

    test("the stored weights are the f16-rounded ones, read back exactly", async () => {
      const saved = join(root, `${arch}-saved`);
      await policy.save(saved);
      const want = loadCheckpoint(refDir).tensors;
      for (const [name, t] of loadCheckpoint(saved).tensors) expectBits(name, t.data, want.get(name)!.data);
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
        const sharded = await Policy.load(dir, { maxSeq: 48, maxBatch: 1, weightDtype: "f16", training: false }); // decode logits [1, vocab] fit 2 MiB
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

    test("loaded for inference only, training is refused with the reason, before any work", async () => {
      const seq = { promptIds: [1, 2, 3], responseIds: [4, 5] };
      await expect(policy.accumulate([seq], () => ({ dlogp: [new Float32Array(2)] }))).rejects.toThrow(INFERENCE_ONLY);
      await expect(policy.step({ lr: 1e-3, weightDecay: 0, betas: [0.9, 0.999], eps: 1e-8, maxGradNorm: 0 })).rejects.toThrow(INFERENCE_ONLY);
    });
  });
}

describe("f16 training: AdamW on f32 masters, the f16 copy refreshed from them", () => {
  const dir = join(root, "train");
  const seqs = refSequences(61, tokenizer.vocabSize, [[3, 20], [8, 17]]);
  const opt = { lr: 1e-3, weightDecay: 0.1, betas: [0.9, 0.99] as [number, number], eps: 1e-4, maxGradNorm: 1 };
  let ref: RefResult;
  beforeAll(() => {
    writeRandomCheckpoint(dir, resolveShape({ ...shapes.qwen2, seed: 43 }, tokenizer), tokenizer, 43);
    const torchOpt = { lr: opt.lr, betas: opt.betas, eps: opt.eps, weight_decay: opt.weightDecay, max_grad_norm: opt.maxGradNorm };
    ref = modelRef(dir, { mode: "adamw", seqs, steps: 2, opt: torchOpt });
  });
  const trainStep = async (p: Policy) => {
    await p.accumulate(seqs.map(asSeq), gradsOf(seqs));
    return p.step(opt);
  };
  /** What save writes: the masters of the f16 matrices, f32. */
  const saved = async (p: Policy, name: string) => {
    await p.save(join(root, name));
    return loadCheckpoint(join(root, name)).tensors;
  };
  /** The masters after step s (0-based) against torch's, and the f16 copy the kernels read equal to each rounded. */
  const expectStep = async (p: Policy, s: number) => {
    const masters = await saved(p, `masters-${s}`);
    for (const [name, t] of masters) expectClose(`step ${s + 1} ${name}`, t.data, ref.tensors.get(`step${s}:${name}`)!.data, MASTER_TOL);
    const copies = await p.storedWeights();
    for (const [name, t] of masters) {
      const want = t.shape.length === 2 ? fromHalf(toHalf(t.data, name)) : t.data;
      expectBits(name, copies.get(name)!.data, want);
    }
  };

  test("two steps: gradients through the f16 copy, masters as torch's mixed-precision AdamW, the copy each master rounded", async () => {
    const policy = await Policy.load(dir, { maxSeq: 64, maxBatch: 2, weightDtype: "f16" });
    try {
      for (const s of [0, 1]) {
        await policy.accumulate(seqs.map(asSeq), gradsOf(seqs));
        const grads = await policy.gradients();
        for (const [name, t] of grads) {
          const want = ref.tensors.get(`grad${s}:${name}`)!.data;
          expectClose(`step ${s + 1} ${name} gradient`, t.data, want, gradTol(want));
        }
        if (s === 0) {
          // The rounding is visible: against the gradients through the unrounded f32 weights some are outside it.
          const unrounded = modelRef(dir, { mode: "grads", seqs }).tensors;
          const outside = [...grads].filter(([name, t]) => {
            const want = unrounded.get(`grad:${name}`)!.data;
            return describeMisses(name, t.data, want, gradTol(want)) !== undefined;
          });
          expect(outside.length).toBeGreaterThan(0);
        }
        const { gradNorm, skipped } = await policy.step(opt);
        expect({ gradNorm: gradNorm > 0, skipped }).toEqual({ gradNorm: true, skipped: false });
        await expectStep(policy, s);
      }
    } finally {
      policy.destroy();
    }
  });

  test("in row shards under a 2 MiB binding limit: masters sharded as their copies; save, load, step equals two steps exactly", async () => {
    capBindingLimit(2 << 20);
    const sizes = { maxSeq: 64, maxBatch: 2, weightDtype: "f16" } as const; // decode logits [2, vocab] fit 2 MiB
    const straight = await Policy.load(dir, sizes);
    let resumed: Policy | undefined;
    try {
      // 151,665 x 32: 10 shards, as f32 (the copy pairs with its master and gradient shard for shard).
      expect(straight.memoryPlan(2, 40)).toContain("in row shards (count, gradients alike): model.embed_tokens.weight (10)");
      await trainStep(straight);
      await expectStep(straight, 0);
      await straight.saveOptimizer(join(root, "mid.adam"));
      await trainStep(straight);
      resumed = await Policy.load(join(root, "masters-0"), sizes);
      await resumed.loadOptimizer(join(root, "mid.adam"));
      await trainStep(resumed);
      const [a, b] = [await saved(straight, "straight-2"), await saved(resumed, "resumed-2")];
      for (const [name, t] of a) expectBits(name, b.get(name)!.data, t.data);
      const [ca, cb] = [await straight.storedWeights(), await resumed.storedWeights()];
      for (const [name, t] of ca) expectBits(name, cb.get(name)!.data, t.data);
    } finally {
      straight.destroy();
      resumed?.destroy();
      capBindingLimit(undefined);
    }
  });
});

test("an adapter without shader-f16 (AZR_SHADER_F16=off) refuses f16 weights by name, before any work; f32 still loads", async () => {
  const dir = join(root, "no-f16");
  writeRandomCheckpoint(dir, resolveShape({ ...shapes.qwen2, seed: 43 }, tokenizer), tokenizer, 43);
  const script = join(root, "no-f16.ts");
  writeFileSync(
    script,
    `import { Policy } from ${JSON.stringify(join(import.meta.dir, "..", "engine", "model", "index.ts"))};
const dir = ${JSON.stringify(dir)};
try { await Policy.load(dir, { weightDtype: "f16" }); console.log("f16 loaded"); } catch (e) { console.log("refused: " + e.message); }
(await Policy.load(dir, { maxSeq: 16, maxBatch: 1 })).destroy();
console.log("f32 loaded");`,
  );
  const proc = Bun.spawn(["bun", script], { env: { ...process.env, AZR_SHADER_F16: "off" }, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) console.error(err);
  expect(code).toBe(0);
  expect(out).toMatch(/^refused: weightDtype f16 needs the WebGPU feature shader-f16, which this adapter \(.+\) does not offer; use f32/);
  expect(out).toContain("vulkan_enable_f16_on_nvidia");
  expect(out.trimEnd().endsWith("f32 loaded")).toBe(true);
  expect(err).not.toContain("; shader-f16)"); // the adapter line no longer claims the feature
});

test("the memory plan counts f16 matrices at 2 bytes, their f32 masters when training, no training state for inference", async () => {
  const config = resolveShape({ preset: "qwen2.5-0.5b", seed: 0 }, tokenizer);
  const sizes = { maxBatch: 1, maxSeq: 64 };
  const plan = (weightDtype: "f32" | "f16", training: boolean) => planFor(config, sizes, 1, 64, { weightDtype, training });
  const [f32, f16, f16Train] = [plan("f32", true), plan("f16", false), plan("f16", true)];
  const item = (p: typeof f32, what: string) => p.items.find((i) => i.what.startsWith(what))?.bytes;
  const matrices = config.vocabSize * config.hidden; // tied: the one embedding
  expect(item(f32, "parameters")! - item(f16, "parameters")!).toBeGreaterThan(2 * matrices);
  expect(item(f16, "gradients")).toBeUndefined();
  expect(item(f16, "AdamW")).toBeUndefined();
  expect(item(f16, "f32 masters")).toBeUndefined();
  expect(item(f32, "f32 masters")).toBeUndefined();
  expect(f16.total).toBeLessThan(f32.total / 4);
  // Training in f16 holds an f32 master (4 bytes) beside the f16 copy (2) of every matrix element, and f32's gradients
  // and moments: 2 bytes more than f32 per matrix element (the copy).
  const copy = item(f32, "parameters")! - item(f16Train, "parameters")!; // 2 bytes per matrix element
  expect(item(f16Train, "f32 masters")).toBe(2 * copy);
  expect(item(f16Train, "gradients")).toBe(item(f32, "gradients"));
  expect(item(f16Train, "AdamW")).toBe(item(f32, "AdamW"));
  expect(f16Train.total - f32.total).toBe(copy);
  expect(formatPlan(f16Train)).toContain("f16 matrices with f32 masters on the device, training");
  expect(formatPlan(f16Train)).toMatch(/f32 masters of the f16 matrices +\d/);
});
