// Named model shapes for make-checkpoint and the memory plan: the vocabulary is the Qwen2.5 tokenizer's unless the
// shape names one (the released Qwen2.5 models pad theirs: 151,936 rows, 152,064 for 7B). The qwen2.5-* shapes are
// the released models' config.json numbers.
import type { ModelConfig } from "./config.ts";

export type ShapeName = "tiny" | "25m" | "qwen2.5-0.5b" | "qwen2.5-1.5b" | "qwen2.5-3b" | "qwen2.5-7b";
export const SHAPE_NAMES: readonly ShapeName[] = ["tiny", "25m", "qwen2.5-0.5b", "qwen2.5-1.5b", "qwen2.5-3b", "qwen2.5-7b"];

type Shape = Omit<ModelConfig, "vocabSize"> & { vocabSize?: number };
const base = { architecture: "qwen2", ropeTheta: 1000000, rmsEps: 1e-6, qkvBias: true, maxPositions: 32768 } as const;

export const SHAPES: Record<ShapeName, Shape> = {
  tiny: { ...base, hidden: 64, layers: 2, heads: 4, kvHeads: 2, headDim: 16, intermediate: 128, tiedEmbeddings: true },
  // ≈ 25M parameters, of which 151,665 × 128 ≈ 19.4M are the tied embedding.
  "25m": { ...base, hidden: 128, layers: 4, heads: 4, kvHeads: 2, headDim: 32, intermediate: 512, tiedEmbeddings: true },
  "qwen2.5-0.5b": { ...base, vocabSize: 151936, hidden: 896, layers: 24, heads: 14, kvHeads: 2, headDim: 64, intermediate: 4864, tiedEmbeddings: true },
  "qwen2.5-1.5b": { ...base, vocabSize: 151936, hidden: 1536, layers: 28, heads: 12, kvHeads: 2, headDim: 128, intermediate: 8960, tiedEmbeddings: true },
  "qwen2.5-3b": { ...base, vocabSize: 151936, hidden: 2048, layers: 36, heads: 16, kvHeads: 2, headDim: 128, intermediate: 11008, tiedEmbeddings: true },
  "qwen2.5-7b": { ...base, vocabSize: 152064, hidden: 3584, layers: 28, heads: 28, kvHeads: 4, headDim: 128, intermediate: 18944, tiedEmbeddings: false },
};
