// Runs test/support/model_ref.py (the PyTorch float64 reference of engine/model) on a checkpoint directory; large
// results come back as raw float64 rather than JSON.
import { spawnSync } from "bun";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ModelConfig, randomTensors, saveCheckpoint, type Sequence, type TensorMap } from "../../engine/model/index.ts";
import { Rng } from "../../engine/rng.ts";
import type { Tokenizer } from "../../engine/tokenizer/index.ts";
import type { Tolerance } from "./close.ts";
import { TORCH_PYTHON } from "./torch.ts";

export interface RefTensor {
  shape: number[];
  data: Float64Array;
}

export interface RefSeq {
  prompt: number[];
  response: number[];
  /** ∂L/∂logp and ∂L/∂entropy per response token. */
  c: number[];
  e: number[];
}

export type RefTask =
  | { mode: "logits"; ids: number[] }
  | { mode: "grads"; seqs: RefSeq[] }
  | { mode: "greedy"; prompts: number[][]; max_new: number }
  | { mode: "adamw"; seqs: RefSeq[]; steps: number; opt: { lr: number; betas: [number, number]; eps: number; weight_decay: number; max_grad_norm: number } };

export interface RefResult {
  tensors: Map<string, RefTensor>;
  values: Map<string, unknown>;
}

const SCRIPT = join(import.meta.dir, "model_ref.py");

export function modelRef(checkpoint: string, task: RefTask): RefResult {
  const dir = mkdtempSync(join(tmpdir(), "model-ref-"));
  try {
    const prefix = join(dir, "out");
    const proc = spawnSync([TORCH_PYTHON, SCRIPT, checkpoint, prefix], { stdin: Buffer.from(JSON.stringify(task)), stderr: "pipe" });
    if (proc.exitCode !== 0) throw new Error(`model reference failed (exit ${proc.exitCode}):\n${proc.stderr.toString()}`);
    const header = JSON.parse(readFileSync(`${prefix}.json`, "utf8")) as Record<string, { shape?: number[]; offset?: number; value?: unknown }>;
    const bin = readFileSync(`${prefix}.bin`);
    const all = new Float64Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength));
    const result: RefResult = { tensors: new Map(), values: new Map() };
    for (const [name, h] of Object.entries(header)) {
      if (h.shape === undefined) {
        result.values.set(name, h.value);
        continue;
      }
      const size = h.shape.reduce((a, b) => a * b, 1);
      result.tensors.set(name, { shape: h.shape, data: all.subarray(h.offset!, h.offset! + size) });
    }
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A random checkpoint whose norms and biases are random too (ones and zeros would hide mistakes in their use). */
export function writeRandomCheckpoint(dir: string, config: ModelConfig, tokenizer: Tokenizer, seed: number, std = 0.1): TensorMap {
  const tensors = randomTensors(config, seed, std);
  const rng = Rng.seeded(seed + 1);
  for (const [name, t] of tensors) {
    if (name.endsWith("norm.weight")) for (let i = 0; i < t.data.length; i++) t.data[i] = 0.5 + rng.float();
    if (name.endsWith(".bias")) for (let i = 0; i < t.data.length; i++) t.data[i] = rng.float() - 0.5;
  }
  saveCheckpoint(dir, { config, tensors, tokenizer });
  return tensors;
}

export function randomIds(rng: Rng, n: number, vocab: number): number[] {
  return Array.from({ length: n }, () => Math.floor(rng.float() * vocab));
}

/** Sequences of [prompt, response] lengths with random ids below `vocab` and random loss weights per response token. */
export function refSequences(seed: number, vocab: number, lengths: readonly (readonly [number, number])[]): RefSeq[] {
  const rng = Rng.seeded(seed);
  return lengths.map(([p, r]) => ({
    prompt: randomIds(rng, p, vocab),
    response: randomIds(rng, r, vocab),
    c: Array.from({ length: r }, () => rng.float() - 0.5),
    e: Array.from({ length: r }, () => 0.3 * (rng.float() - 0.5)),
  }));
}

/** A reference sequence as the policy takes it. */
export const asSeq = (s: RefSeq): Sequence => ({ promptIds: s.prompt, responseIds: s.response });

/** The `grad` callback of Policy.accumulate that gives the reference's loss weights (c per logp, e per entropy). */
export const gradsOf = (seqs: RefSeq[]) => () => ({
  dlogp: seqs.map((s) => Float32Array.from(s.c)),
  dentropy: seqs.map((s) => Float32Array.from(s.e)),
});

// Per-element tolerances of the policy (fp32) against this float64 reference (model-policy: weights ~0.1, hidden 32,
// two layers, a 151k vocabulary; model-shards: the same kernels with sums cut at shard edges), a few
// times what rounding leaves. Logits (|x| ≤ ~3.5) and log-probs (≤ ~13) are short sums of products: ~1e-6 relative
// seen. An entropy sums 151k fp32 terms (~2e-5 relative seen). A gradient element sums ~150 rows of products
// through two layers, so its rounding scales with the tensor's largest terms, not its own size: the absolute slack
// is a fraction of the tensor's peak (up to 2e-5 of it seen, in model.norm.weight). Accumulating in micro-batches
// only reorders fp32 sums (up to 6e-7 of the peak seen), and a resumed optimizer repeats the same fp32 updates.
export const POLICY_TOL: Record<"logits" | "logp" | "entropy", Tolerance> = {
  logits: { abs: 5e-6, rel: 2e-6 },
  logp: { abs: 5e-6, rel: 5e-6 },
  entropy: { abs: 1e-4, rel: 4e-5 },
};
const peak = (values: ArrayLike<number>) => Array.from(values).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
export const gradTol = (want: ArrayLike<number>): Tolerance => ({ abs: 5e-5 * peak(want), rel: 1e-4 });
export const reorderedTol = (want: ArrayLike<number>): Tolerance => ({ abs: 2e-6 * peak(want), rel: 1e-5 });
export const resumedTol = (want: ArrayLike<number>): Tolerance => ({ abs: 1e-7 * peak(want), rel: 1e-6 });
