// The policy: a Qwen2 / Llama causal LM on the device, loaded from a Hugging Face checkpoint directory. It generates
// (batched, KV cache, seeded sampling), scores response tokens (log-prob and entropy), back-propagates a host-side
// loss given per token into the parameter gradients, and steps AdamW.
//
//   const policy = await Policy.load(dir, { maxSeq: 1024, maxBatch: 8 });
//   await Policy.load(dir, { weightDtype: "f16" })   // matrices in f16 (needs shader-f16), f32 masters for training
//   await Policy.load(dir, { training: false })      // inference only: no gradients or masters; accumulate and step
//                                                    // refuse with INFERENCE_ONLY
//   const gens = await policy.generate(promptIds, { maxNew: 64, temperature: 1, seed: 1, stop: ["</answer>"] });
//   await policy.accumulate(seqs, (stats) => ({ dlogp: ... }));   // any number of micro-batches
//   const { gradNorm } = await policy.step({ lr, weightDecay, betas, eps, maxGradNorm });
//
// Device memory is allocated per batch shape [B, T] (T rounded up to 16) and per generation batch size, each kept
// for the two most recent.
import { finish, getGpu, requireShaderF16, ropeTable, Sampler, Step, type Tensor, type WeightDtype } from "../../kernels/index.ts";
import type { Tokenizer } from "../tokenizer/index.ts";
import { type Checkpoint, loadCheckpoint, readConfig, saveCheckpoint } from "./checkpoint.ts";
import type { ModelConfig } from "./config.ts";
import { Decoder } from "./decode.ts";
import { checkGenerateOptions, type GenerateOptions, type Generation, generationBatches, Progress, stopIds } from "./generation.ts";
import { TrainGraph } from "./graph.ts";
import { adapterLimits, checkPlan, formatPlan, type MemoryPlan, type PlanStorage, planMemory } from "./memory.ts";
import { Optimizer, type StepOptions } from "./optimizer.ts";
import { bucketTokens, checkSequences, pack, type Sequence, splitBySequence } from "./pack.ts";
import { DeviceParams } from "./params.ts";
import type { TensorMap } from "./safetensors.ts";
import { Recent } from "./recent.ts";

/** Per sequence, one value per response token. */
export interface TokenStats {
  logp: Float32Array[];
  entropy: Float32Array[];
}

/** ∂L/∂logp (and optionally ∂L/∂entropy) per response token. */
export interface TokenGrads {
  dlogp: Float32Array[];
  dentropy?: Float32Array[];
}

export interface PolicySizes {
  /** Longest sequence (prompt + response) in tokens; default 1024. */
  maxSeq?: number;
  /** Most sequences per call of tokenStats / accumulate and per generation batch; default 8. */
  maxBatch?: number;
}

export interface PolicyOptions extends PolicySizes {
  /** How the weight matrices are stored on the device; default f32. f16 needs shader-f16. */
  weightDtype?: WeightDtype;
  /** Hold what training needs (gradients, AdamW state, f32 masters of f16 matrices); default true. */
  training?: boolean;
}

const DEFAULT_SIZES = { maxSeq: 1024, maxBatch: 8 } as const;

/** The plan of training at [batch, seqLen] (seqLen bucketed as the graphs are) beside generation at the policy's sizes. */
export function planFor(c: ModelConfig, sizes: Required<PolicySizes>, batch: number, seqLen: number, storage?: PlanStorage): MemoryPlan {
  return planMemory(c, { batch, tokens: bucketTokens(seqLen, sizes.maxSeq), ...sizes }, adapterLimits(), storage);
}

/** Training graphs and decoders kept alive, each for the most recent shapes. */
const KEPT_SHAPES = 2;

export class Policy {
  readonly config: ModelConfig;
  readonly tokenizer: Tokenizer;
  readonly maxSeq: number;
  readonly maxBatch: number;
  private readonly params: DeviceParams;
  private readonly rope: Tensor;
  private readonly optimizer: Optimizer;
  private readonly graphs = new Recent<TrainGraph>(KEPT_SHAPES);
  private readonly decoders = new Recent<Decoder>(KEPT_SHAPES);
  /** The generate call in progress: calls share the decoders, so each waits for the one before it. */
  private generating: Promise<unknown> = Promise.resolve();

  private constructor(ckpt: Checkpoint, sizes: PolicyOptions) {
    this.config = ckpt.config;
    this.tokenizer = ckpt.tokenizer;
    this.maxSeq = sizes.maxSeq ?? DEFAULT_SIZES.maxSeq;
    this.maxBatch = sizes.maxBatch ?? DEFAULT_SIZES.maxBatch;
    for (const [key, value] of Object.entries({ maxSeq: this.maxSeq, maxBatch: this.maxBatch })) {
      if (!Number.isInteger(value) || value < 1) throw new Error(`Policy: ${key} must be a positive integer, got ${value}`);
    }
    if (this.config.headDim % 4 !== 0) throw new Error(`Policy: headDim ${this.config.headDim} is not a multiple of 4 (the attention kernels need it)`);
    this.params = new DeviceParams(this.config, ckpt.tensors, sizes.weightDtype, sizes.training);
    this.rope = ropeTable({ headDim: this.config.headDim, theta: this.config.ropeTheta, maxPositions: this.maxSeq });
    this.optimizer = new Optimizer(this.params);
  }

  /**
   * Loads a Hugging Face checkpoint directory (config.json, safetensors, tokenizer.json) onto the device. A model that
   * cannot fit the adapter at [maxBatch, maxSeq] is refused before any weight is read, naming the limit.
   */
  static async load(dir: string, sizes: PolicyOptions = {}): Promise<Policy> {
    await getGpu();
    const { maxBatch = DEFAULT_SIZES.maxBatch, maxSeq = DEFAULT_SIZES.maxSeq, weightDtype = "f32", training = true } = sizes;
    if (weightDtype === "f16") requireShaderF16("weightDtype f16");
    checkPlan(planFor(readConfig(dir), { maxBatch, maxSeq }, maxBatch, maxSeq, { weightDtype, training }));
    return new Policy(loadCheckpoint(dir), sizes);
  }

  /** How the weight matrices are stored, and whether the policy trains. */
  get storage(): PlanStorage {
    return { weightDtype: this.params.weightDtype, training: this.params.training };
  }

  /** The training graph of shape [batch, tokens]. */
  private graph(batch: number, tokens: number): TrainGraph {
    return this.graphs.get(`${batch}x${tokens}`, () => new TrainGraph(this.config, { batch, tokens }, this.params, this.rope));
  }

  /** The decoder (KV caches [batch, maxSeq]) for a batch size. */
  private decoder(batch: number): Decoder {
    return this.decoders.get(String(batch), () => new Decoder(this.config, batch, this.maxSeq, this.params.weights, this.rope));
  }

  /**
   * Generates for every prompt (in the batches of `generationBatches`); equal prompts, options and seed give equal
   * results. Concurrent calls run one after another.
   */
  generate(prompts: number[][], opts: GenerateOptions): Promise<Generation[]> {
    const run = this.generating.then(() => this.generateAll(prompts, opts));
    this.generating = run.catch(() => {});
    return run;
  }

  private async generateAll(prompts: number[][], opts: GenerateOptions): Promise<Generation[]> {
    checkGenerateOptions(opts);
    prompts.forEach((p, i) => {
      if (p.length === 0) throw new Error(`generate: prompt ${i} is empty`);
      if (p.length + opts.maxNew > this.maxSeq) {
        throw new Error(`generate: prompt ${i} has ${p.length} tokens; with maxNew ${opts.maxNew} that exceeds maxSeq ${this.maxSeq}`);
      }
      checkSequences([{ promptIds: p, responseIds: [] }], this.config.vocabSize, this.maxSeq, 1);
    });
    const out: Generation[] = [];
    for (const batch of generationBatches(prompts, this.maxBatch, opts.seed)) out.push(...(await this.generateBatch(batch.prompts, opts, batch.seed)));
    return out;
  }

  private async generateBatch(prompts: number[][], opts: GenerateOptions, seed: number): Promise<Generation[]> {
    const stops = stopIds(this.tokenizer);
    const progress = prompts.map(() => new Progress(this.tokenizer, stops, opts.stop ?? []));
    if (opts.maxNew === 0) return progress.map((p) => p.result());
    const B = prompts.length;
    const lens = prompts.map((p) => p.length);
    const decoder = this.decoder(B);
    const graph = this.graph(B, bucketTokens(Math.max(...lens), this.maxSeq));
    graph.load(pack(prompts.map((p) => ({ promptIds: p, responseIds: [] })), B, graph.body.dims.tokens));
    const sampler = new Sampler(decoder.logits, decoder.tokens, { temperature: opts.temperature, topK: opts.topK ?? 0, topP: opts.topP ?? 1, seed });
    const first = new Step("prefill");
    first.run(...graph.body.forward, ...decoder.prefill(graph.body, lens), sampler.at(0)).submit();
    for (let s = 0; ; s++) {
      const tokens = await decoder.tokens.read();
      progress.forEach((p, b) => p.push(tokens[b], opts.maxNew));
      if (progress.every((p) => p.done)) break;
      decoder.ids.write(tokens);
      decoder.positions.write(lens.map((len) => len + s));
      new Step("decode").run(...decoder.step, sampler.at(s + 1)).submit();
    }
    return progress.map((p) => p.result());
  }

  private forward(seqs: Sequence[]): { graph: TrainGraph; counts: number[] } {
    checkSequences(seqs, this.config.vocabSize, this.maxSeq, this.maxBatch);
    const longest = Math.max(...seqs.map((s) => s.promptIds.length + s.responseIds.length));
    const graph = this.graph(seqs.length, bucketTokens(longest, this.maxSeq));
    const batch = pack(seqs, seqs.length, graph.body.dims.tokens);
    graph.load(batch);
    const step = new Step("forward");
    graph.encodeForward(step);
    step.submit();
    return { graph, counts: batch.counts };
  }

  /** Log-prob and entropy of every response token (forward only). */
  async tokenStats(seqs: Sequence[]): Promise<TokenStats> {
    const { graph, counts } = this.forward(seqs);
    return readTokenStats(graph, counts);
  }

  /**
   * Forward, then `grad` turns the token statistics into ∂L/∂logp (and ∂L/∂entropy), then the backward ADDS the
   * resulting parameter gradients to those already accumulated (micro-batches sum until `step`).
   */
  async accumulate(seqs: Sequence[], grad: (s: TokenStats) => TokenGrads): Promise<TokenStats> {
    this.params.gradients(); // an inference-only model refuses here, before any work
    const { graph, counts } = this.forward(seqs);
    const stats = await readTokenStats(graph, counts);
    const g = grad(stats);
    const scored = counts.reduce((a, b) => a + b, 0);
    graph.loadGrads(flatten("dlogp", g.dlogp, counts), g.dentropy ? flatten("dentropy", g.dentropy, counts) : new Float32Array(scored));
    const step = new Step("backward");
    graph.encodeBackward(step);
    step.submit();
    await finish();
    return stats;
  }

  /**
   * One AdamW step on the accumulated gradients, which it then clears; f16 matrices are stepped in their f32 masters,
   * then rounded into the f16 copies the kernels read. A NaN or infinite gradient norm skips the update (weights,
   * moments and the bias-correction step count stay as they were), as verl's optimizer step does.
   */
  async step(opt: StepOptions): Promise<{ gradNorm: number; skipped: boolean }> {
    const grads = this.params.gradients().byName;
    const norm = new Step("gradient norm");
    const adam = this.optimizer.prepare(opt);
    adam.encodeNorm(norm);
    norm.submit();
    const gradNorm = (await adam.gradNorm.read())[0];
    const skipped = !Number.isFinite(gradNorm);
    const step = new Step("optimizer");
    if (!skipped) {
      adam.encodeUpdate(step, opt.lr);
      step.run(...this.params.refresh);
    }
    for (const g of grads.values()) for (const s of g.shards) step.clear(s.tensor);
    step.submit();
    return { gradNorm, skipped };
  }

  /** Logits of every position of one sequence, one row per token (tests and diagnostics). */
  async logits(ids: number[]): Promise<Float32Array[]> {
    checkSequences([{ promptIds: ids, responseIds: [] }], this.config.vocabSize, this.maxSeq, 1);
    const graph = this.graph(1, bucketTokens(ids.length, this.maxSeq));
    const batch = pack([{ promptIds: ids, responseIds: [] }], 1, graph.body.dims.tokens);
    graph.load({ ...batch, rows: Uint32Array.from(ids.keys()), targets: new Uint32Array(ids.length) });
    return graph.readLogits();
  }

  /** Gradients accumulated so far, by tensor name (tests and diagnostics). */
  gradients(): ReturnType<DeviceParams["downloadGrads"]> {
    return this.params.downloadGrads();
  }

  /** What the device holds for training at [batch, seqLen] and generation at [maxBatch, maxSeq], in words. */
  memoryPlan(batch: number, seqLen: number): string {
    return formatPlan(planFor(this.config, { maxBatch: this.maxBatch, maxSeq: this.maxSeq }, batch, seqLen, this.storage));
  }

  /** Every parameter as the kernels read it, by name: an f16 matrix's copy widened exactly (tests and diagnostics). */
  storedWeights(): Promise<TensorMap> {
    return this.params.downloadCopies();
  }

  /**
   * Writes the current parameters as a Hugging Face checkpoint (f32), atomically: a training f16 model's masters (so
   * that a resume is exact), an inference-only one's f16 weights as their exact f32 values.
   */
  async save(dir: string): Promise<void> {
    saveCheckpoint(dir, { config: this.config, tensors: await this.params.download(), tokenizer: this.tokenizer });
  }

  async saveOptimizer(path: string): Promise<void> {
    await this.optimizer.save(path);
  }

  async loadOptimizer(path: string): Promise<void> {
    this.optimizer.load(path);
  }

  destroy(): void {
    this.graphs.destroy();
    this.decoders.destroy();
    this.optimizer.destroy();
    this.params.destroy();
    this.rope.destroy();
  }
}

/** The graph's per-token statistics, split back into one array per sequence. */
async function readTokenStats(graph: TrainGraph, counts: readonly number[]): Promise<TokenStats> {
  const { logp, entropy } = await graph.readStats();
  return { logp: splitBySequence(logp, counts), entropy: splitBySequence(entropy, counts) };
}

function flatten(what: string, arrays: Float32Array[], counts: readonly number[]): Float32Array {
  if (arrays.length !== counts.length) throw new Error(`accumulate: ${what} has ${arrays.length} arrays for ${counts.length} sequences`);
  const out = new Float32Array(counts.reduce((a, b) => a + b, 0));
  let at = 0;
  arrays.forEach((a, i) => {
    if (a.length !== counts[i]) throw new Error(`accumulate: ${what}[${i}] has ${a.length} values for ${counts[i]} response tokens`);
    out.set(a, at);
    at += a.length;
  });
  return out;
}
