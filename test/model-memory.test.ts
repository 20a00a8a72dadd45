// The memory plan for the real Qwen2.5 shapes (0.5B to 7B) at the tiny preset's batch: components, shards, and the
// refusals naming the limit and what to change. Pure arithmetic: no device.
import { describe, expect, test } from "bun:test";
import { formatPlan, parameterCount, planMemory, resolveShape } from "../engine/model/index.ts";
import { parseFlags } from "../engine/cli/train.ts";
import { Tokenizer } from "../engine/tokenizer/index.ts";

const tokenizer = Tokenizer.qwen25Default();
const GiB = 2 ** 30;
const lavapipe = { binding: 128 * 2 ** 20, memory: 24 * GiB, memorySource: "host RAM" };
const h200 = { binding: 2 ** 32 - 4, memory: 140 * GiB, memorySource: "AZR_DEVICE_MEMORY" };
const tinyBatch = { batch: 8, tokens: 1088, maxBatch: 8, maxSeq: 1088 };
const shape = (preset: "qwen2.5-0.5b" | "qwen2.5-1.5b" | "qwen2.5-3b" | "qwen2.5-7b") => resolveShape({ preset, seed: 0 }, tokenizer);

describe("memory plan", () => {
  test("parameter counts are the released models' (tied 0.5B-3B, untied 7B)", () => {
    expect(Math.round(parameterCount(shape("qwen2.5-0.5b")) / 1e6)).toBe(494);
    expect(Math.round(parameterCount(shape("qwen2.5-1.5b")) / 1e6)).toBe(1544);
    expect(Math.round(parameterCount(shape("qwen2.5-3b")) / 1e6)).toBe(3086);
    expect(Math.round(parameterCount(shape("qwen2.5-7b")) / 1e6)).toBe(7616);
  });

  test("each component is counted; f32 weights, gradients and moments are 16 bytes per parameter", () => {
    const c = shape("qwen2.5-0.5b");
    const plan = planMemory(c, tinyBatch, lavapipe);
    const bytes = (what: string) => plan.items.find((i) => i.what.startsWith(what))!.bytes;
    expect(bytes("parameters") + bytes("gradients") + bytes("AdamW")).toBe(16 * parameterCount(c));
    expect(bytes("KV cache")).toBe(2 * 24 * 8 * 1088 * 2 * 64 * 4);
    expect(plan.total).toBe(plan.items.reduce((s, i) => s + i.bytes, 0));
    expect(plan.sharded).toEqual([{ name: "model.embed_tokens.weight", shards: 5 }]);
  });

  test("0.5B at the tiny preset's batch on lavapipe is refused: the activation names the binding limit and the positions that fit", () => {
    const plan = planMemory(shape("qwen2.5-0.5b"), tinyBatch, lavapipe);
    expect(plan.problems[0]).toMatch(/MLP gate\/up \[8·1088, 4864\] needs 161\.5 MiB, over the adapter's binding limit 128\.0 MiB .*<= 6898 token positions \(now 8 x 1088\)/);
    expect(plan.problems[1]).toMatch(/needs 25\.\d\d GiB in all, over the device's 24\.00 GiB \(host RAM\): lower model\.maxBatch or model\.maxSeq/);
    expect(formatPlan(plan)).toContain("does not fit");
  });

  test("0.5B at 2 x 512 fits lavapipe; 7B fits neither lavapipe nor, at the tiny batch, an H200", () => {
    expect(planMemory(shape("qwen2.5-0.5b"), { batch: 2, tokens: 512, maxBatch: 2, maxSeq: 512 }, lavapipe).problems).toEqual([]);
    const big = planMemory(shape("qwen2.5-7b"), tinyBatch, h200);
    expect(big.problems).toHaveLength(1);
    expect(big.problems[0]).toMatch(/over the device's 140\.00 GiB \(AZR_DEVICE_MEMORY\)/);
    const seven = planMemory(shape("qwen2.5-7b"), { batch: 1, tokens: 1088, maxBatch: 8, maxSeq: 1088 }, h200);
    expect(seven.problems).toEqual([]);
    expect(formatPlan(planMemory(shape("qwen2.5-7b"), tinyBatch, lavapipe))).toContain("model.layers.*.mlp.down_proj.weight (3) in 28 layers");
  });

  test("f16 weights: inference splits the 0.5B embedding as f16 (3 shards); training as f32 (5), beside its f32 master", () => {
    const c = shape("qwen2.5-0.5b");
    const inference = planMemory(c, tinyBatch, lavapipe, { weightDtype: "f16", training: false });
    const training = planMemory(c, tinyBatch, lavapipe, { weightDtype: "f16", training: true });
    expect(inference.sharded).toEqual([{ name: "model.embed_tokens.weight", shards: 3 }]);
    expect(training.sharded).toEqual([{ name: "model.embed_tokens.weight", shards: 5 }]);
    const text = formatPlan(training);
    expect(text).toContain("f16 matrices with f32 masters on the device, training");
    expect(text).toContain("in row shards (count, gradients alike): model.embed_tokens.weight (5)");
    expect(text).toMatch(/f32 masters of the f16 matrices +\d/);
    expect(formatPlan(inference)).not.toContain("f32 masters");
  });

  test("train --dry-run takes --shape, and --shape alone is a usage error", () => {
    expect(parseFlags(["--dry-run", "--shape", "qwen2.5-3b"])).toMatchObject({ dryRun: true, shape: "qwen2.5-3b" });
    expect(() => parseFlags(["--shape", "qwen2.5-3b"])).toThrow("--shape only applies to --dry-run");
    expect(() => parseFlags(["--dry-run", "--shape", "huge"])).toThrow(/--shape huge: use one of tiny, 25m, qwen2\.5-0\.5b/);
    expect(parseFlags(["--dry-run", "--weight-dtype", "f16"])).toMatchObject({ dryRun: true, "weight-dtype": "f16" });
    expect(() => parseFlags(["--weight-dtype", "f16"])).toThrow("a run takes --set model.weightDtype=f16");
  });
});
