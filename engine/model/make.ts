// makeCheckpoint: a random-init checkpoint of a preset or explicit shape, in Hugging Face format.
import { Tokenizer } from "../tokenizer/index.ts";
import type { ModelConfig } from "./config.ts";
import { randomTensors, saveCheckpoint } from "./checkpoint.ts";
import { SHAPE_NAMES, SHAPES, type ShapeName } from "./shapes.ts";
import type { DiskDtype } from "./safetensors.ts";

export interface CheckpointSpec extends Partial<ModelConfig> {
  preset?: ShapeName;
  seed: number;
  dtype?: "f32" | "bf16" | "f16";
  /** tokenizer.json to ship with the checkpoint (default: Qwen2.5's). */
  tokenizer?: string;
}

const DTYPES: Record<NonNullable<CheckpointSpec["dtype"]>, DiskDtype> = { f32: "F32", bf16: "BF16", f16: "F16" };

export function resolveShape(spec: CheckpointSpec, tokenizer: Tokenizer): ModelConfig {
  const preset = spec.preset ?? "tiny";
  if (!SHAPE_NAMES.includes(preset)) throw new Error(`unknown preset "${preset}"; one of ${SHAPE_NAMES.join(", ")}`);
  const { preset: _p, seed: _s, dtype: _d, tokenizer: _t, ...overrides } = spec;
  const shape: ModelConfig = { vocabSize: tokenizer.vocabSize, ...SHAPES[preset], ...overrides };
  if (overrides.hidden !== undefined && overrides.headDim === undefined) shape.headDim = shape.hidden / shape.heads;
  if (!Number.isInteger(shape.headDim) || shape.heads % shape.kvHeads !== 0) {
    throw new Error(`bad shape: hidden ${shape.hidden}, heads ${shape.heads}, kvHeads ${shape.kvHeads}, headDim ${shape.headDim}`);
  }
  if (shape.vocabSize < tokenizer.vocabSize) {
    throw new Error(`vocabSize ${shape.vocabSize} is smaller than the tokenizer's ${tokenizer.vocabSize} ids`);
  }
  return shape;
}

export async function makeCheckpoint(dir: string, spec: CheckpointSpec): Promise<void> {
  const dtype = DTYPES[spec.dtype ?? "f32"];
  if (dtype === undefined) throw new Error(`unknown dtype "${spec.dtype}"; one of f32, bf16, f16`);
  const tokenizer = spec.tokenizer === undefined ? Tokenizer.qwen25Default() : Tokenizer.fromFile(spec.tokenizer);
  const config = resolveShape(spec, tokenizer);
  saveCheckpoint(dir, { config, tensors: randomTensors(config, spec.seed), tokenizer }, dtype);
}
