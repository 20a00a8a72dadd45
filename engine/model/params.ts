// The model's parameters on the device, per Hugging Face tensor name, each with its gradient: row shards, one shard
// unless the tensor exceeds the adapter's binding limit (Qwen2.5's 151,936-row embedding on lavapipe).
//
// Storage: `f32`, or `f16` for the matrices (embedding, projections, LM head; norms and biases stay f32), which the
// matmul and embedding kernels widen to f32 on load. Training an f16 model keeps an f32 master of every f16 matrix:
// the gradients (f32) accumulate through the f16 copy, AdamW steps the master, and `refresh` rounds the master into
// the copy (castHalf) after each step; what is saved is the master, so a resume is exact. Every tensor of a training
// model is split as its f32 form would be, so a copy, its master and its gradient pair shard for shard. Loaded with
// `training: false` a model holds no gradients or masters (f16: half the bytes of f32), and `gradients()` refuses
// with INFERENCE_ONLY.
import { castHalf, type Dispatch, requireShaderF16, RowShards, type Tensor, type WeightDtype } from "../../kernels/index.ts";
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

export const INFERENCE_ONLY =
  "this policy was loaded for inference only (training: false): it holds no gradients, and with weightDtype f16 no f32 " +
  "master weights; load it with Policy.load(dir, { training: true }) (the default) to train";

/** The dtype a tensor of this shape is stored in: matrices take the model's storage dtype, vectors stay f32. */
export function storedDtype(shape: readonly number[], weightDtype: WeightDtype): WeightDtype {
  return shape.length === 2 ? weightDtype : "f32";
}

/**
 * The dtype a tensor's row shards are sized for: a training model's all as f32's, so that an f16 copy pairs with its
 * master and its gradient shard for shard; an inference-only model's as stored (f16 shards hold twice the rows).
 */
export function shardDtype(shape: readonly number[], weightDtype: WeightDtype, training: boolean): WeightDtype {
  return training ? "f32" : storedDtype(shape, weightDtype);
}

/** The gradients of every parameter: by name, and structured as the weights. */
export interface Gradients {
  byName: Map<string, RowShards>;
  weights: ModelWeights;
}

/** Parameters (and, for training, their gradients and the masters of f16 matrices) on the device, in `weightSpecs` order. */
export class DeviceParams {
  readonly names: string[];
  readonly params: Map<string, RowShards>;
  readonly weights: ModelWeights;
  /** Absent when loaded for inference only. */
  private readonly grads: Gradients | undefined;
  /** The f32 master of each f16 matrix of a training model, by name. */
  private readonly masters = new Map<string, RowShards>();
  /** Rounds every master into its f16 copy, shard by shard: run after each optimizer update (none in f32). */
  readonly refresh: Dispatch[];

  constructor(
    readonly config: ModelConfig,
    tensors: TensorMap,
    readonly weightDtype: WeightDtype = "f32",
    readonly training = true,
  ) {
    if (weightDtype === "f16") requireShaderF16("weightDtype f16");
    const specs = weightSpecs(config);
    this.names = specs.map((s) => s.name);
    this.params = new Map(
      specs.map((s) => {
        const data = tensors.get(s.name)!.data;
        return [s.name, RowShards.from(data, s.shape, s.name, storedDtype(s.shape, weightDtype), shardDtype(s.shape, weightDtype, training))];
      }),
    );
    if (training) {
      for (const s of specs) {
        if (storedDtype(s.shape, weightDtype) === "f16") this.masters.set(s.name, RowShards.from(tensors.get(s.name)!.data, s.shape, `${s.name} master`));
      }
      const byName = new Map(specs.map((s) => [s.name, RowShards.zeros(s.shape, `${s.name} grad`)]));
      this.grads = { byName, weights: structure(config, (n) => byName.get(n)!) };
    }
    this.weights = structure(config, (n) => this.params.get(n)!);
    this.refresh = [...this.masters].flatMap(([name, master]) => {
      const copy = this.params.get(name)!.shards;
      return master.shards.map((s, i) => castHalf({ x: s.tensor, y: copy[i].tensor }));
    });
  }

  /** The gradients, or undefined for an inference-only model (the graphs then build no backward). */
  get grad(): ModelWeights | undefined {
    return this.grads?.weights;
  }

  /** The gradients; an inference-only model refuses with INFERENCE_ONLY. */
  gradients(): Gradients {
    if (this.grads === undefined) throw new Error(INFERENCE_ONLY);
    return this.grads;
  }

  /** The f32 tensor the optimizer steps for `name`: its master when it is an f16 matrix, else the parameter itself. */
  trained(name: string): RowShards {
    return this.masters.get(name) ?? this.params.get(name)!;
  }

  /** Every parameter read back, by name: the masters of f16 matrices when training (the exact f32 values stepped). */
  download(): Promise<TensorMap> {
    return readAll(this.names, (name) => this.trained(name));
  }

  /** Every gradient read back, by name (tests, diagnostics). */
  downloadGrads(): Promise<TensorMap> {
    const { byName } = this.gradients();
    return readAll(this.names, (name) => byName.get(name)!);
  }

  /** The f16 copies read back as f32, by name (tests: each must equal its master rounded). */
  downloadCopies(): Promise<TensorMap> {
    return readAll(this.names, (name) => this.params.get(name)!);
  }

  destroy(): void {
    for (const t of [...this.params.values(), ...this.masters.values(), ...(this.grads?.byName.values() ?? [])]) t.destroy();
  }
}

async function readAll(names: readonly string[], tensor: (name: string) => RowShards): Promise<TensorMap> {
  const out: TensorMap = new Map();
  for (const name of names) {
    const t = tensor(name);
    out.set(name, { shape: [...t.shape], data: await t.read() });
  }
  return out;
}
