// The model's parameters on the device, per Hugging Face tensor name, each with its gradient: row shards, one shard
// unless the tensor exceeds the adapter's binding limit (Qwen2.5's 151,936-row embedding on lavapipe).
//
// Storage: `f32`, or `f16` for the matrices (embedding, projections, LM head; norms and biases stay f32), which the
// matmul and embedding kernels widen to f32 on load. f16 storage is inference-only: training would need f32 master
// weights and a refresh of the f16 copy after each AdamW step, which is not built, so an f16 model has no gradients
// and `gradients()` refuses with TRAINING_NEEDS_F32.
import { requireShaderF16, RowShards, type Tensor, type WeightDtype } from "../../kernels/index.ts";
import type { ModelConfig } from "./config.ts";
import type { TensorMap } from "./safetensors.ts";
import { weightSpecs } from "./weights.ts";

/** The tensors one decoder layer reads (biases only when the config has them); matrices may be sharded, vectors not. */
export interface LayerWeights {
  inputNorm: Tensor;
  q: RowShards;
  k: RowShards;
  v: RowShards;
  qBias?: Tensor;
  kBias?: Tensor;
  vBias?: Tensor;
  o: RowShards;
  postNorm: Tensor;
  gate: RowShards;
  up: RowShards;
  down: RowShards;
}

export interface ModelWeights {
  embed: RowShards;
  layers: LayerWeights[];
  norm: Tensor;
  /** The embedding itself when the config ties them. */
  lmHead: RowShards;
}

/** Names the structured views by the Hugging Face names of `tensors`. */
function structure(config: ModelConfig, byName: (name: string) => RowShards): ModelWeights {
  const vector = (name: string) => byName(name).whole();
  const layers: LayerWeights[] = [];
  for (let l = 0; l < config.layers; l++) {
    const p = `model.layers.${l}.`;
    layers.push({
      inputNorm: vector(`${p}input_layernorm.weight`),
      q: byName(`${p}self_attn.q_proj.weight`),
      k: byName(`${p}self_attn.k_proj.weight`),
      v: byName(`${p}self_attn.v_proj.weight`),
      ...(config.qkvBias
        ? { qBias: vector(`${p}self_attn.q_proj.bias`), kBias: vector(`${p}self_attn.k_proj.bias`), vBias: vector(`${p}self_attn.v_proj.bias`) }
        : {}),
      o: byName(`${p}self_attn.o_proj.weight`),
      postNorm: vector(`${p}post_attention_layernorm.weight`),
      gate: byName(`${p}mlp.gate_proj.weight`),
      up: byName(`${p}mlp.up_proj.weight`),
      down: byName(`${p}mlp.down_proj.weight`),
    });
  }
  const embed = byName("model.embed_tokens.weight");
  return { embed, layers, norm: vector("model.norm.weight"), lmHead: config.tiedEmbeddings ? embed : byName("lm_head.weight") };
}

export const TRAINING_NEEDS_F32 =
  "training needs f32 weights: f16 storage (weightDtype f16) is inference-only for now (generate, score, eval); " +
  "load the policy with weightDtype f32 to train";

/** The dtype a tensor of this shape is stored in: matrices take the model's storage dtype, vectors stay f32. */
export function storedDtype(shape: readonly number[], weightDtype: WeightDtype): WeightDtype {
  return shape.length === 2 ? weightDtype : "f32";
}

/** The gradients of every parameter: by name, and structured as the weights. */
export interface Gradients {
  byName: Map<string, RowShards>;
  weights: ModelWeights;
}

/** Parameters (and, in f32, their gradients) on the device, in `weightSpecs` order. */
export class DeviceParams {
  readonly names: string[];
  readonly params: Map<string, RowShards>;
  readonly weights: ModelWeights;
  /** Absent for f16 storage (inference-only). */
  private readonly grads: Gradients | undefined;

  constructor(
    readonly config: ModelConfig,
    tensors: TensorMap,
    readonly weightDtype: WeightDtype = "f32",
  ) {
    if (weightDtype === "f16") requireShaderF16("weightDtype f16");
    const specs = weightSpecs(config);
    this.names = specs.map((s) => s.name);
    this.params = new Map(specs.map((s) => [s.name, RowShards.from(tensors.get(s.name)!.data, s.shape, s.name, storedDtype(s.shape, weightDtype))]));
    this.weights = structure(config, (n) => this.params.get(n)!);
    if (weightDtype === "f32") {
      const byName = new Map(specs.map((s) => [s.name, RowShards.zeros(s.shape, `${s.name} grad`)]));
      this.grads = { byName, weights: structure(config, (n) => byName.get(n)!) };
    }
  }

  /** The gradients, or undefined for f16 storage (the graphs then build no backward). */
  get grad(): ModelWeights | undefined {
    return this.grads?.weights;
  }

  /** The gradients; an f16 model (inference-only) refuses with TRAINING_NEEDS_F32. */
  gradients(): Gradients {
    if (this.grads === undefined) throw new Error(TRAINING_NEEDS_F32);
    return this.grads;
  }

  /** Every parameter read back, by name. */
  download(): Promise<TensorMap> {
    return readAll(this.names, this.params);
  }

  /** Every gradient read back, by name (tests, diagnostics). */
  downloadGrads(): Promise<TensorMap> {
    return readAll(this.names, this.gradients().byName);
  }

  destroy(): void {
    for (const t of [...this.params.values(), ...(this.grads?.byName.values() ?? [])]) t.destroy();
  }
}

async function readAll(names: readonly string[], tensors: Map<string, RowShards>): Promise<TensorMap> {
  const out: TensorMap = new Map();
  for (const name of names) {
    const t = tensors.get(name)!;
    out.set(name, { shape: [...t.shape], data: await t.read() });
  }
  return out;
}
