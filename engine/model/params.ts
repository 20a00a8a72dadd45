// The model's parameters on the device, per Hugging Face tensor name, each with its gradient: f32 row shards, one
// shard unless the tensor exceeds the adapter's binding limit (Qwen2.5's 151,936-row embedding on lavapipe).
import { RowShards, type Tensor } from "../../kernels/index.ts";
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

/** Parameters and gradients on the device, in `weightSpecs` order. */
export class DeviceParams {
  readonly names: string[];
  readonly params: Map<string, RowShards>;
  readonly grads: Map<string, RowShards>;
  readonly weights: ModelWeights;
  readonly grad: ModelWeights;

  constructor(
    readonly config: ModelConfig,
    tensors: TensorMap,
  ) {
    const specs = weightSpecs(config);
    this.names = specs.map((s) => s.name);
    this.params = new Map(specs.map((s) => [s.name, RowShards.from(tensors.get(s.name)!.data, s.shape, s.name)]));
    this.grads = new Map(specs.map((s) => [s.name, RowShards.zeros(s.shape, `${s.name} grad`)]));
    this.weights = structure(config, (n) => this.params.get(n)!);
    this.grad = structure(config, (n) => this.grads.get(n)!);
  }

  /** Every parameter read back, by name. */
  download(): Promise<TensorMap> {
    return readAll(this.names, this.params);
  }

  /** Every gradient read back, by name (tests, diagnostics). */
  downloadGrads(): Promise<TensorMap> {
    return readAll(this.names, this.grads);
  }

  destroy(): void {
    for (const t of [...this.params.values(), ...this.grads.values()]) t.destroy();
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
