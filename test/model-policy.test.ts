// The policy against a PyTorch float64 reference written from the architecture's equations (support/model_ref.py),
// on tiny random checkpoints with the full Qwen2.5 vocabulary: a Qwen2 one (tied head, q/k/v bias, GQA) and a
// Llama one (untied head, no bias). Logits, log-probs, entropies and every parameter's gradient; greedy decoding;
// accumulation invariance; save/load and optimizer resume; input errors.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deviceMemory } from "../kernels/index.ts";
import { loadCheckpoint, Policy, readSafetensors, type TensorMap, writeSafetensors } from "../engine/model/index.ts";
import { resolveShape } from "../engine/model/make.ts";
import { Rng } from "../engine/rng.ts";
import { Tokenizer } from "../engine/tokenizer/index.ts";
import { asSeq, gradsOf, modelRef, POLICY_TOL as TOL, gradTol, randomIds as randomIdsBelow, type RefSeq, refSequences, reorderedTol, resumedTol, writeRandomCheckpoint } from "./support/model-ref.ts";
import { expectClose } from "./support/close.ts";
import { SLOW_TEST_MS } from "./support/timeouts.ts";

setDefaultTimeout(SLOW_TEST_MS);

const root = mkdtempSync(join(tmpdir(), "model-policy-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const tokenizer = Tokenizer.qwen25Default();
const shapes = {
  qwen2: { hidden: 32, layers: 2, heads: 4, kvHeads: 2, intermediate: 48 },
  llama: { architecture: "llama", hidden: 32, layers: 2, heads: 4, kvHeads: 1, headDim: 8, intermediate: 40, qkvBias: false, tiedEmbeddings: false },
} as const;

function writeCheckpoint(dir: string, shape: (typeof shapes)[keyof typeof shapes], seed: number): TensorMap {
  return writeRandomCheckpoint(dir, resolveShape({ ...shape, seed }, tokenizer), tokenizer, seed);
}

const randomIds = (rng: Rng, n: number) => randomIdsBelow(rng, n, tokenizer.vocabSize);

/** Four sequences over 48 padded tokens with 149 scored rows: two chunks of the LM head, one a partial one. */
const sequences = (seed: number): RefSeq[] => refSequences(seed, tokenizer.vocabSize, [[3, 40], [8, 37], [1, 44], [20, 28]]);

const concat = (arrays: Float32Array[]) => Float32Array.from(arrays.flatMap((a) => Array.from(a)));


for (const [arch, shape] of Object.entries(shapes)) {
  describe(`${arch} policy vs torch float64`, () => {
    const dir = join(root, arch);
    let policy: Policy;
    let tensors: TensorMap;
    beforeAll(async () => {
      tensors = writeCheckpoint(dir, shape, arch === "qwen2" ? 11 : 12);
      policy = await Policy.load(dir, { maxSeq: 64, maxBatch: 4 });
    });
    afterAll(() => policy.destroy());

    test("logits of every position", async () => {
      const ids = randomIds(Rng.seeded(5), 37);
      const ours = await policy.logits(ids);
      const ref = modelRef(dir, { mode: "logits", ids }).tensors.get("logits")!;
      expect(ref.shape).toEqual([37, tokenizer.vocabSize]);
      expect(ours.length).toBe(37);
      expectClose("logits", concat(ours), ref.data, TOL.logits);
    });

    test("log-probs, entropies and every parameter gradient of a masked loss", async () => {
      const seqs = sequences(21);
      const stats = await policy.accumulate(seqs.map(asSeq), gradsOf(seqs));
      const ref = modelRef(dir, { mode: "grads", seqs });
      expectClose("logp", concat(stats.logp), ref.tensors.get("logp")!.data, TOL.logp);
      expectClose("entropy", concat(stats.entropy), ref.tensors.get("entropy")!.data, TOL.entropy);
      const grads = await policy.gradients();
      const names = [...grads.keys()];
      expect(names.sort()).toEqual([...tensors.keys()].sort());
      for (const name of names) {
        const want = ref.tensors.get(`grad:${name}`)!.data;
        expectClose(name, grads.get(name)!.data, want, gradTol(want));
      }
      await policy.step({ lr: 0, weightDecay: 0, betas: [0.9, 0.999], eps: 1e-8, maxGradNorm: 0 }); // zeroes the gradients
    });

    test("micro-batches accumulate to the whole batch's gradient, and step() clears it", async () => {
      const seqs = sequences(22).map(asSeq);
      const grads = gradsOf(sequences(22));
      const all = grads();
      await policy.accumulate(seqs, () => all);
      const whole = await policy.gradients();
      await policy.step({ lr: 0, weightDecay: 0, betas: [0.9, 0.999], eps: 1e-8, maxGradNorm: 0 });
      for (const t of (await policy.gradients()).values()) expect(t.data.every((v) => v === 0)).toBe(true);
      const part = (a: number, b: number) => () => ({ dlogp: all.dlogp.slice(a, b), dentropy: all.dentropy.slice(a, b) });
      await policy.accumulate(seqs.slice(0, 1), part(0, 1));
      await policy.accumulate(seqs.slice(1, 3), part(1, 3));
      await policy.accumulate(seqs.slice(3), part(3, 4));
      const parts = await policy.gradients();
      for (const [name, t] of whole) expectClose(name, parts.get(name)!.data, t.data, reorderedTol(t.data));
      await policy.step({ lr: 0, weightDecay: 0, betas: [0.9, 0.999], eps: 1e-8, maxGradNorm: 0 });
    });

    test("greedy generation of 32 tokens equals the reference's, batched prompts of different lengths", async () => {
      const rng = Rng.seeded(31);
      const prompts = [randomIds(rng, 5), randomIds(rng, 17), randomIds(rng, 1)];
      const ref = modelRef(dir, { mode: "greedy", prompts, max_new: 32 });
      expect(ref.values.get("min_margin") as number).toBeGreaterThan(1e-4); // the reference's choices are not near-ties
      const gens = await policy.generate(prompts, { maxNew: 32, temperature: 0, seed: 0 });
      expect(gens.map((g) => g.ids)).toEqual(ref.values.get("ids") as number[][]);
      expect(gens.every((g) => g.finish === "length" && g.text === tokenizer.decode(g.ids, { skipSpecial: true }))).toBe(true);
      const alone = await policy.generate([prompts[1]], { maxNew: 32, temperature: 0, seed: 0 });
      expect(alone[0].ids).toEqual(gens[1].ids);
    });
  });
}

describe("generation options", () => {
  const dir = join(root, "gen");
  let policy: Policy;
  beforeAll(async () => {
    writeCheckpoint(dir, shapes.qwen2, 41);
    policy = await Policy.load(dir, { maxSeq: 64, maxBatch: 2 });
  });
  afterAll(() => policy.destroy());
  const prompts = [tokenizer.encode("def f(x):"), tokenizer.encode("print(1 + 2)")];

  test("sampling is reproducible by seed, differs across seeds, and batches past maxBatch", async () => {
    const opts = { maxNew: 12, temperature: 1, topK: 50, topP: 0.9, seed: 7 };
    const three = [...prompts, prompts[0]];
    const a = await policy.generate(three, opts);
    const b = await policy.generate(three, opts);
    const c = await policy.generate(three, { ...opts, seed: 8 });
    expect(a).toEqual(b);
    expect(a.length).toBe(3);
    expect(c.map((g) => g.ids)).not.toEqual(a.map((g) => g.ids));
  });

  test("a stop string ends a sequence once its text contains it; the others run on", async () => {
    const greedy = await policy.generate(prompts, { maxNew: 20, temperature: 0, seed: 0 });
    const ids = greedy[0].ids;
    const stop = tokenizer.decode(ids.slice(5, 7)); // text that first appears by token 7
    expect(stop.length).toBeGreaterThan(0);
    const stopped = await policy.generate(prompts, { maxNew: 20, temperature: 0, seed: 0, stop: [stop] });
    expect(stopped[0].finish).toBe("stop");
    expect(stopped[0].text).toContain(stop);
    expect(ids.slice(0, stopped[0].ids.length)).toEqual(stopped[0].ids);
    expect(stopped[0].ids.length).toBeLessThanOrEqual(7);
    if (!greedy[1].text.includes(stop)) expect(stopped[1]).toEqual(greedy[1]);
  });

  test("bad requests are refused with the reason, before any work", async () => {
    const v = tokenizer.vocabSize;
    await expect(policy.generate([[1, 2]], { maxNew: 63, temperature: 0, seed: 0 })).rejects.toThrow(/exceeds maxSeq 64/);
    await expect(policy.generate([[]], { maxNew: 1, temperature: 0, seed: 0 })).rejects.toThrow(/prompt 0 is empty/);
    await expect(policy.generate([[1]], { maxNew: 1, temperature: -1, seed: 0 })).rejects.toThrow(/temperature/);
    await expect(policy.tokenStats([{ promptIds: [v], responseIds: [1] }])).rejects.toThrow(/token id 151665 outside/);
    await expect(policy.tokenStats([{ promptIds: [1], responseIds: [] }, { promptIds: [1], responseIds: [] }, { promptIds: [1], responseIds: [] }])).rejects.toThrow(/over maxBatch 2/);
    await expect(policy.accumulate([{ promptIds: [1], responseIds: [2, 3] }], () => ({ dlogp: [new Float32Array(1)] }))).rejects.toThrow(/dlogp\[0\] has 1 values for 2/);
  });
});

describe("save, load and optimizer resume", () => {
  const dir = join(root, "resume");
  const seqs = sequences(51).slice(0, 2).map(asSeq);
  const grads = gradsOf(sequences(51).slice(0, 2));
  const opt = { lr: 1e-2, weightDecay: 0.1, betas: [0.9, 0.99] as [number, number], eps: 1e-8, maxGradNorm: 1 };
  const trainStep = async (p: Policy) => {
    await p.accumulate(seqs, grads);
    return p.step(opt);
  };

  test("save writes the loaded tensors back bit-exact; a stepped policy saved and reloaded gives the same logits", async () => {
    const tensors = writeCheckpoint(dir, shapes.llama, 52);
    const policy = await Policy.load(dir, { maxSeq: 64, maxBatch: 4 });
    await policy.save(join(root, "resaved"));
    for (const [name, t] of loadCheckpoint(join(root, "resaved")).tensors) {
      expect({ name, same: Buffer.from(t.data.buffer).equals(Buffer.from(tensors.get(name)!.data.buffer)) }).toEqual({ name, same: true });
    }
    const { gradNorm } = await trainStep(policy);
    expect(gradNorm).toBeGreaterThan(0);
    await policy.save(join(root, "stepped"));
    const again = await Policy.load(join(root, "stepped"), { maxSeq: 64, maxBatch: 4 });
    const ids = [1, 2, 3, 4, 5];
    expect(await again.logits(ids)).toEqual(await policy.logits(ids));
    expect(await again.logits(ids)).not.toEqual(await (await Policy.load(dir, { maxSeq: 64, maxBatch: 4 })).logits(ids));
    policy.destroy();
    again.destroy();
  });

  test("destroy frees every device buffer; new step options replace the optimizer's buffers, not add to them", async () => {
    const before = deviceMemory().liveBytes;
    const policy = await Policy.load(dir, { maxSeq: 64, maxBatch: 4 });
    await trainStep(policy);
    const afterOne = deviceMemory().liveBytes;
    await policy.accumulate(seqs, grads);
    await policy.step({ ...opt, weightDecay: 0, betas: [0.8, 0.9] }); // another AdamW, the moments copied over
    expect(deviceMemory().liveBytes).toBe(afterOne);
    policy.destroy();
    expect(deviceMemory().liveBytes).toBe(before);
  });

  test("two steps equal one step, save with optimizer, reload, one step", async () => {
    const straight = await Policy.load(dir, { maxSeq: 64, maxBatch: 4 });
    await trainStep(straight);
    await straight.save(join(root, "mid"));
    await straight.saveOptimizer(join(root, "mid.adam"));
    await trainStep(straight);
    const resumed = await Policy.load(join(root, "mid"), { maxSeq: 64, maxBatch: 4 });
    await resumed.loadOptimizer(join(root, "mid.adam"));
    await trainStep(resumed);
    const a = await straight.gradients(); // both zero after the step; the parameters are what must agree
    expect([...a.values()].every((t) => t.data.every((v) => v === 0))).toBe(true);
    await straight.save(join(root, "straight-2"));
    await resumed.save(join(root, "resumed-2"));
    const x = loadCheckpoint(join(root, "straight-2")).tensors;
    const y = loadCheckpoint(join(root, "resumed-2")).tensors;
    for (const [name, t] of x) expectClose(name, y.get(name)!.data, t.data, resumedTol(t.data));
    await expect(resumed.loadOptimizer(join(root, "mid", "config.json"))).rejects.toThrow(/optimizer state/);
    await expect(resumed.loadOptimizer(join(root, "mid", "model.safetensors"))).rejects.toThrow('format "pt", expected azr-adamw-2');
    const saved = readFileSync(join(root, "mid.adam"));
    writeFileSync(join(root, "cut.adam"), saved.subarray(0, saved.length - 4));
    await expect(resumed.loadOptimizer(join(root, "cut.adam"))).rejects.toThrow(/optimizer state .*cut\.adam: not a safetensors file .*runs past the end/);
    const { tensors, metadata } = readSafetensors(join(root, "mid.adam"));
    const norm = "model.norm.weight.exp_avg";
    writeSafetensors(join(root, "reshaped.adam"), new Map(tensors).set(norm, { shape: [1, 32], data: tensors.get(norm)!.data }), "F32", metadata);
    await expect(resumed.loadOptimizer(join(root, "reshaped.adam"))).rejects.toThrow(`"${norm}" has shape [1,32], the model's is [32]`);
    const fewer = new Map(tensors);
    fewer.delete(norm);
    writeSafetensors(join(root, "fewer.adam"), fewer, "F32", metadata);
    await expect(resumed.loadOptimizer(join(root, "fewer.adam"))).rejects.toThrow(`no tensor "${norm}"`);
    straight.destroy();
    resumed.destroy();
  });
});
