// The shape of a Qwen2 / Llama causal LM, read from and written to a Hugging Face config.json.

export type Architecture = "qwen2" | "llama";

export interface ModelConfig {
  architecture: Architecture;
  vocabSize: number;
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  intermediate: number;
  ropeTheta: number;
  rmsEps: number;
  tiedEmbeddings: boolean;
  /** q/k/v projections carry a bias (Qwen2 always; Llama when `attention_bias`). */
  qkvBias: boolean;
  maxPositions: number;
}

const HF_ARCH: Record<Architecture, { model_type: string; architectures: string[] }> = {
  qwen2: { model_type: "qwen2", architectures: ["Qwen2ForCausalLM"] },
  llama: { model_type: "llama", architectures: ["LlamaForCausalLM"] },
};

function positiveInt(raw: Record<string, unknown>, key: string, fallback?: number): number {
  const value = raw[key] ?? fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
    throw new Error(`config.json: "${key}" must be a positive integer, got ${JSON.stringify(raw[key])}`);
  }
  return value;
}

function positiveNumber(raw: Record<string, unknown>, key: string, fallback: number): number {
  const value = raw[key] ?? fallback;
  if (typeof value !== "number" || !(value > 0)) {
    throw new Error(`config.json: "${key}" must be a positive number, got ${JSON.stringify(raw[key])}`);
  }
  return value;
}

/** Parses a Hugging Face config.json object; an architecture other than Qwen2 / Llama is an error naming it. */
export function parseHfConfig(raw: Record<string, unknown>): ModelConfig {
  const modelType = raw.model_type;
  const architecture = (Object.keys(HF_ARCH) as Architecture[]).find((a) => HF_ARCH[a].model_type === modelType);
  if (architecture === undefined) {
    throw new Error(
      `config.json: unsupported architecture model_type=${JSON.stringify(modelType)} ` +
        `(architectures=${JSON.stringify(raw.architectures)}); supported: qwen2, llama`,
    );
  }
  const hidden = positiveInt(raw, "hidden_size");
  const heads = positiveInt(raw, "num_attention_heads");
  const kvHeads = positiveInt(raw, "num_key_value_heads", heads);
  if (heads % kvHeads !== 0) {
    throw new Error(`config.json: num_attention_heads (${heads}) is not a multiple of num_key_value_heads (${kvHeads})`);
  }
  const headDim = positiveInt(raw, "head_dim", hidden / heads);
  if (raw.rope_scaling !== undefined && raw.rope_scaling !== null) {
    throw new Error(`config.json: rope_scaling ${JSON.stringify(raw.rope_scaling)} is not supported`);
  }
  return {
    architecture,
    vocabSize: positiveInt(raw, "vocab_size"),
    hidden,
    layers: positiveInt(raw, "num_hidden_layers"),
    heads,
    kvHeads,
    headDim,
    intermediate: positiveInt(raw, "intermediate_size"),
    ropeTheta: positiveNumber(raw, "rope_theta", 10000),
    rmsEps: positiveNumber(raw, "rms_norm_eps", 1e-6),
    tiedEmbeddings: raw.tie_word_embeddings === true,
    qkvBias: architecture === "qwen2" || raw.attention_bias === true,
    maxPositions: positiveInt(raw, "max_position_embeddings", 32768),
  };
}

/** The config.json that `transformers` loads for this shape. */
export function toHfConfig(config: ModelConfig, torchDtype: string): Record<string, unknown> {
  const arch = HF_ARCH[config.architecture];
  return {
    architectures: arch.architectures,
    model_type: arch.model_type,
    vocab_size: config.vocabSize,
    hidden_size: config.hidden,
    num_hidden_layers: config.layers,
    num_attention_heads: config.heads,
    num_key_value_heads: config.kvHeads,
    head_dim: config.headDim,
    intermediate_size: config.intermediate,
    rope_theta: config.ropeTheta,
    rms_norm_eps: config.rmsEps,
    tie_word_embeddings: config.tiedEmbeddings,
    max_position_embeddings: config.maxPositions,
    hidden_act: "silu",
    torch_dtype: torchDtype,
    ...(config.architecture === "llama" ? { attention_bias: config.qkvBias, mlp_bias: false } : {}),
  };
}
