// Named model shapes for make-checkpoint: the vocabulary is the full Qwen2.5 tokenizer's unless overridden.
import type { ModelConfig } from "./config.ts";

export type PresetName = "tiny" | "25m" | "qwen2.5-0.5b";
export const PRESET_NAMES: readonly PresetName[] = ["tiny", "25m", "qwen2.5-0.5b"];

type Shape = Omit<ModelConfig, "vocabSize">;
const base = { architecture: "qwen2", ropeTheta: 1000000, rmsEps: 1e-6, qkvBias: true, maxPositions: 32768 } as const;

export const PRESETS: Record<PresetName, Shape> = {
  tiny: { ...base, hidden: 64, layers: 2, heads: 4, kvHeads: 2, headDim: 16, intermediate: 128, tiedEmbeddings: true },
  // ≈ 25M parameters, of which 151,665 × 128 ≈ 19.4M are the tied embedding.
  "25m": { ...base, hidden: 128, layers: 4, heads: 4, kvHeads: 2, headDim: 32, intermediate: 512, tiedEmbeddings: true },
  "qwen2.5-0.5b": { ...base, hidden: 896, layers: 24, heads: 14, kvHeads: 2, headDim: 64, intermediate: 4864, tiedEmbeddings: true },
};
