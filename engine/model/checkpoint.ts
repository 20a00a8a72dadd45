// Hugging Face checkpoint directories: load (config + weights + tokenizer), save atomically, and random init.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { Rng } from "../rng.ts";
import { Tokenizer } from "../tokenizer/index.ts";
import { type ModelConfig, parseHfConfig, toHfConfig } from "./config.ts";
import { type DiskDtype, readSafetensorsDir, SINGLE_FILE, type TensorMap, writeSafetensors } from "./safetensors.ts";
import { checkWeights, weightSpecs } from "./weights.ts";

export const CONFIG_FILE = "config.json";

export interface Checkpoint {
  config: ModelConfig;
  tensors: TensorMap;
  tokenizer: Tokenizer;
}

export function readConfig(dir: string): ModelConfig {
  const path = join(dir, CONFIG_FILE);
  if (!existsSync(path)) throw new Error(`no ${CONFIG_FILE} in checkpoint directory ${dir}`);
  return parseHfConfig(JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>);
}

export function loadCheckpoint(dir: string): Checkpoint {
  const config = readConfig(dir);
  const tensors = readSafetensorsDir(dir);
  checkWeights(config, tensors);
  return { config, tensors, tokenizer: Tokenizer.fromDir(dir) };
}

const TORCH_DTYPE: Record<DiskDtype, string> = { F32: "float32", BF16: "bfloat16", F16: "float16" };

/** Writes the checkpoint into a temporary sibling directory, then renames it over `dir`. */
export function saveCheckpoint(dir: string, ckpt: Checkpoint, dtype: DiskDtype = "F32"): void {
  mkdirSync(dirname(dir), { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  const named: TensorMap = new Map(weightSpecs(ckpt.config).map((s) => [s.name, ckpt.tensors.get(s.name)!]));
  writeSafetensors(join(tmp, SINGLE_FILE), named, dtype);
  writeFileSync(join(tmp, CONFIG_FILE), `${JSON.stringify(toHfConfig(ckpt.config, TORCH_DTYPE[dtype]), null, 2)}\n`);
  ckpt.tokenizer.saveTo(tmp);
  const old = `${dir}.old-${process.pid}`;
  if (existsSync(dir)) renameSync(dir, old);
  renameSync(tmp, dir);
  rmSync(old, { recursive: true, force: true });
}

/** Standard normal by Box-Muller. */
function gaussian(rng: Rng): number {
  const u = 1 - rng.float();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.float());
}

/** Random init: matrices ~ N(0, std), norms one, biases zero; equal seeds give equal tensors. */
export function randomTensors(config: ModelConfig, seed: number, std = 0.02): TensorMap {
  const rng = Rng.seeded(seed);
  const tensors: TensorMap = new Map();
  for (const spec of weightSpecs(config)) {
    const data = new Float32Array(spec.shape.reduce((a, b) => a * b, 1));
    if (spec.init === "ones") data.fill(1);
    else if (spec.init === "normal") for (let i = 0; i < data.length; i++) data[i] = std * gaussian(rng);
    tensors.set(spec.name, { shape: spec.shape, data });
  }
  return tensors;
}
