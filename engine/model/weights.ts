// The Hugging Face tensor names and shapes of a Qwen2 / Llama causal LM, and the check that a checkpoint has them.
import type { ModelConfig } from "./config.ts";
import type { TensorMap } from "./safetensors.ts";

export interface WeightSpec {
  name: string;
  shape: number[];
  /** How random init fills it: norms start at one, biases at zero, matrices ~ N(0, 0.02). */
  init: "ones" | "zeros" | "normal";
}

export function weightSpecs(c: ModelConfig): WeightSpec[] {
  const q = c.heads * c.headDim;
  const kv = c.kvHeads * c.headDim;
  const specs: WeightSpec[] = [{ name: "model.embed_tokens.weight", shape: [c.vocabSize, c.hidden], init: "normal" }];
  for (let l = 0; l < c.layers; l++) {
    const p = `model.layers.${l}.`;
    specs.push(
      { name: `${p}input_layernorm.weight`, shape: [c.hidden], init: "ones" },
      { name: `${p}self_attn.q_proj.weight`, shape: [q, c.hidden], init: "normal" },
      { name: `${p}self_attn.k_proj.weight`, shape: [kv, c.hidden], init: "normal" },
      { name: `${p}self_attn.v_proj.weight`, shape: [kv, c.hidden], init: "normal" },
    );
    if (c.qkvBias) {
      specs.push(
        { name: `${p}self_attn.q_proj.bias`, shape: [q], init: "zeros" },
        { name: `${p}self_attn.k_proj.bias`, shape: [kv], init: "zeros" },
        { name: `${p}self_attn.v_proj.bias`, shape: [kv], init: "zeros" },
      );
    }
    specs.push(
      { name: `${p}self_attn.o_proj.weight`, shape: [c.hidden, q], init: "normal" },
      { name: `${p}post_attention_layernorm.weight`, shape: [c.hidden], init: "ones" },
      { name: `${p}mlp.gate_proj.weight`, shape: [c.intermediate, c.hidden], init: "normal" },
      { name: `${p}mlp.up_proj.weight`, shape: [c.intermediate, c.hidden], init: "normal" },
      { name: `${p}mlp.down_proj.weight`, shape: [c.hidden, c.intermediate], init: "normal" },
    );
  }
  specs.push({ name: "model.norm.weight", shape: [c.hidden], init: "ones" });
  if (!c.tiedEmbeddings) specs.push({ name: "lm_head.weight", shape: [c.vocabSize, c.hidden], init: "normal" });
  return specs;
}

export function parameterCount(c: ModelConfig): number {
  return weightSpecs(c).reduce((sum, s) => sum + s.shape.reduce((a, b) => a * b, 1), 0);
}

/** Throws an error naming the first missing tensor or mismatched shape; extra tensors (e.g. a tied lm_head) are ignored. */
export function checkWeights(c: ModelConfig, tensors: TensorMap): void {
  for (const spec of weightSpecs(c)) {
    const t = tensors.get(spec.name);
    if (t === undefined) throw new Error(`checkpoint is missing tensor "${spec.name}" (shape ${JSON.stringify(spec.shape)})`);
    if (t.shape.length !== spec.shape.length || t.shape.some((d, i) => d !== spec.shape[i])) {
      throw new Error(
        `tensor "${spec.name}" has shape ${JSON.stringify(t.shape)}, the config needs ${JSON.stringify(spec.shape)}`,
      );
    }
  }
}
