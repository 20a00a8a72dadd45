// The memory plan of a policy: what the device holds for a model shape at a training batch [batch, tokens] and a
// generation batch [maxBatch, maxSeq], component by component, and the reasons it cannot run on an adapter.
//
//   const plan = planMemory(config, { batch: 8, tokens: 1024, maxBatch: 8, maxSeq: 1024 }, adapterLimits());
//   planMemory(config, sizes, limits, { weightDtype: "f16", training: true })   // f16 matrices (2 bytes a parameter)
//                                              // with their f32 masters (4 more), f32 gradients and AdamW moments
//   planMemory(config, sizes, limits, { weightDtype: "f16", training: false })  // inference only: no masters, gradients,
//                                              // moments, backward scratch or logits gradient
//   formatPlan(plan)          // the table, in MiB / GiB
//   plan.problems             // [] when it fits; else each names the limit it breaks and what to change
//
// Two limits matter. A binding holds at most `binding` bytes: weights over it are split into row shards (shards.ts),
// the LM head's logits are cut into row chunks that fit, but an activation [batch·tokens, features] or the decode
// logits [maxBatch, vocab] are single tensors, so the batch must keep them under it. And the whole must fit the
// device's memory: WebGPU does not report it, so it is the host's RAM on a software adapter (lavapipe allocates
// there), AZR_DEVICE_MEMORY when set, and unchecked otherwise.
import { totalmem } from "node:os";
import { bindingLimit, DTYPE_BYTES, flags, requireGpu, shardRows, type WeightDtype } from "../../kernels/index.ts";
import { bodyActivationBytes, largestActivation } from "./body.ts";
import type { ModelConfig } from "./config.ts";
import { kvCacheBytes } from "./decode.ts";
import { chunkRows } from "./head.ts";
import { shardDtype, storedDtype } from "./params.ts";
import { parameterCount, weightSpecs } from "./weights.ts";

export interface PlanSizes {
  /** Training micro-batch: sequences per forward/backward and their padded length. */
  batch: number;
  tokens: number;
  /** Generation batch and the KV cache's length. */
  maxBatch: number;
  maxSeq: number;
}

export interface AdapterLimits {
  /** Bytes one binding may hold (bindingLimit()). */
  binding: number;
  /** Bytes the device can allocate in all; undefined when unknown. */
  memory: number | undefined;
  /** Where `memory` comes from, for the message. */
  memorySource: string;
}

export interface PlanItem {
  what: string;
  bytes: number;
}

/** How the model is held: its matrices' dtype, and whether it trains (params.ts) or only infers. */
export interface PlanStorage {
  weightDtype: WeightDtype;
  training: boolean;
}

const F32_TRAINING: PlanStorage = { weightDtype: "f32", training: true };

export interface MemoryPlan {
  config: ModelConfig;
  storage: PlanStorage;
  sizes: PlanSizes;
  limits: AdapterLimits;
  items: PlanItem[];
  total: number;
  /** Weight matrices split into row shards, with their shard counts (a training model's masters and gradients alike). */
  sharded: { name: string; shards: number }[];
  problems: string[];
}

/** The running adapter's limits (after `await getGpu()`). */
export function adapterLimits(): AdapterLimits {
  if (flags.deviceMemory !== undefined) return { binding: bindingLimit(), memory: flags.deviceMemory, memorySource: "AZR_DEVICE_MEMORY" };
  if (requireGpu().isSoftware) return { binding: bindingLimit(), memory: totalmem(), memorySource: "host RAM (software adapter)" };
  return { binding: bindingLimit(), memory: undefined, memorySource: "unknown (set AZR_DEVICE_MEMORY to check it)" };
}

const F32 = 4;

/** Elements of the tensors stored in `dtype` (matrices in `weightDtype`, vectors in f32). */
function elementsStored(c: ModelConfig, weightDtype: WeightDtype, dtype: WeightDtype): number {
  return weightSpecs(c).reduce((sum, s) => sum + (storedDtype(s.shape, weightDtype) === dtype ? s.shape.reduce((a, b) => a * b, 1) : 0), 0);
}

/** The plan at these sizes; an inference-only model counts nothing the backward or the optimizer needs. */
export function planMemory(c: ModelConfig, sizes: PlanSizes, limits: AdapterLimits, storage: PlanStorage = F32_TRAINING): MemoryPlan {
  const { weightDtype, training } = storage;
  const f32Params = parameterCount(c) * F32;
  const halves = elementsStored(c, weightDtype, "f16");
  const acts = bodyActivationBytes(c, sizes);
  const n = sizes.batch * sizes.tokens;
  const rowFits = F32 * c.vocabSize <= limits.binding;
  const rows = rowFits ? chunkRows(n, c.vocabSize, limits.binding) : 1;
  const head = (rows * c.vocabSize + rows * c.hidden) * F32 * (training ? 2 : 1);
  const items: PlanItem[] = [
    {
      what: weightDtype === "f32" ? "parameters (f32)" : "parameters (f16 matrices, f32 norms and biases)",
      bytes: elementsStored(c, weightDtype, "f32") * F32 + halves * DTYPE_BYTES.f16,
    },
    ...(training
      ? [
          ...(halves > 0 ? [{ what: "f32 masters of the f16 matrices", bytes: halves * F32 }] : []),
          { what: "gradients (f32)", bytes: f32Params },
          { what: "AdamW moments m, v (f32)", bytes: 2 * f32Params },
        ]
      : []),
    { what: `activations [${sizes.batch} x ${sizes.tokens}]${training ? " kept for the backward" : " (forward: prefill, scoring)"}`, bytes: acts.forward },
    ...(training ? [{ what: "backward scratch", bytes: acts.backward }] : []),
    { what: `LM head chunk (${rows} rows x ${c.vocabSize}: logits${training ? ", their gradient" : ""})`, bytes: head },
    { what: `KV cache [${sizes.maxBatch} x ${sizes.maxSeq}]`, bytes: kvCacheBytes(c, sizes.maxBatch, sizes.maxSeq) },
    { what: `decode logits [${sizes.maxBatch} x ${c.vocabSize}]`, bytes: sizes.maxBatch * c.vocabSize * F32 },
  ];
  const total = items.reduce((s, i) => s + i.bytes, 0);
  const sharded = weightSpecs(c)
    .map(({ name, shape: [rows, ...rest] }) => {
      const per = shardRows(rows, rest.reduce((a, b) => a * b, 1), limits.binding, shardDtype([rows, ...rest], weightDtype, training));
      return { name, shards: Math.ceil(rows / per) };
    })
    .filter((s) => s.shards > 1);
  return { config: c, storage, sizes, limits, items, total, sharded, problems: problems(c, sizes, limits, total, rowFits, storage) };
}

function problems(c: ModelConfig, sizes: PlanSizes, limits: AdapterLimits, total: number, rowFits: boolean, storage: PlanStorage): string[] {
  const out: string[] = [];
  const binding = `the adapter's binding limit ${bytes(limits.binding)} (maxStorageBufferBindingSize)`;
  if (!rowFits) out.push(`one row of ${c.vocabSize} logits (${bytes(F32 * c.vocabSize)}) is over ${binding}; this adapter cannot hold the LM head's rows`);
  const big = largestActivation(c, sizes);
  if (big.bytes > limits.binding) {
    const positions = Math.floor(limits.binding / (big.bytes / (sizes.batch * sizes.tokens)));
    out.push(
      `activation ${big.what} needs ${bytes(big.bytes)}, over ${binding}: keep micro-batch x sequence length <= ${positions} ` +
        `token positions (now ${sizes.batch} x ${sizes.tokens}) by lowering model.maxBatch or model.maxSeq`,
    );
  }
  const decode = sizes.maxBatch * c.vocabSize * F32;
  if (decode > limits.binding) {
    out.push(`decode logits [${sizes.maxBatch}, ${c.vocabSize}] need ${bytes(decode)}, over ${binding}: lower model.maxBatch to ${Math.floor(limits.binding / (F32 * c.vocabSize))} or fewer`);
  }
  if (limits.memory !== undefined && total > limits.memory) {
    out.push(
      `the plan needs ${bytes(total)} in all, over the device's ${bytes(limits.memory)} (${limits.memorySource}): lower model.maxBatch or ` +
        "model.maxSeq (activations and KV cache scale with them), or " +
        (storage.training
          ? "use a smaller model: training holds 16 bytes per parameter (f32 parameters, gradients, AdamW moments; f16 " +
            "matrices beside their f32 masters, 18), inference alone (Policy.load with training: false) 4, or 2 in f16 " +
            "(activation recomputation is not available yet)"
          : `use a smaller model: inference holds ${storage.weightDtype === "f32" ? "4 bytes per parameter (2 with weightDtype f16)" : "2 bytes per parameter in f16 already"}`),
    );
  }
  return out;
}

function bytes(b: number): string {
  if (b >= 2 ** 30) return `${(b / 2 ** 30).toFixed(2)} GiB`;
  return b >= 2 ** 20 ? `${(b / 2 ** 20).toFixed(1)} MiB` : `${(b / 2 ** 10).toFixed(1)} KiB`;
}

export function formatPlan(p: MemoryPlan): string {
  const c = p.config;
  const lines = [
    `memory plan (${c.architecture}, hidden ${c.hidden}, ${c.layers} layers, vocab ${c.vocabSize}: ${(parameterCount(c) / 1e6).toFixed(1)}M parameters, ${describeStorage(p.storage)}):`,
    ...p.items.map((i) => `  ${i.what.padEnd(58)} ${bytes(i.bytes).padStart(11)}`),
    `  ${"total".padEnd(58)} ${bytes(p.total).padStart(11)}`,
    `  binding limit ${bytes(p.limits.binding)}; device memory ${p.limits.memory === undefined ? "unknown" : bytes(p.limits.memory)} (${p.limits.memorySource})`,
  ];
  if (p.sharded.length > 0) lines.push(`  in row shards (count${p.storage.training ? ", gradients alike" : ""}): ${groupLayers(p.sharded).join(", ")}`);
  lines.push(p.problems.length === 0 ? "  fits" : `  does not fit:\n${p.problems.map((x) => `  - ${x}`).join("\n")}`);
  return lines.join("\n");
}

function describeStorage({ weightDtype, training }: PlanStorage): string {
  if (weightDtype === "f32") return training ? "f32 on the device, training" : "f32 on the device, inference only";
  return training ? "f16 matrices with f32 masters on the device, training" : "f16 matrices on the device, inference only";
}

/** One entry per tensor name with the layer index as `*` ("… (3) in 28 layers"), first-seen order. */
function groupLayers(sharded: readonly { name: string; shards: number }[]): string[] {
  const groups = new Map<string, number>();
  for (const s of sharded) {
    const key = `${s.name.replace(/layers\.\d+\./, "layers.*.")} (${s.shards})`;
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  return [...groups].map(([key, n]) => (key.includes("layers.*.") ? `${key} in ${n} layers` : key));
}

/** Throws the plan's problems as one error (a run that cannot fit stops before it allocates anything). */
export function checkPlan(p: MemoryPlan): void {
  if (p.problems.length > 0) throw new Error(`this model does not fit the adapter:\n${p.problems.map((x) => `  - ${x}`).join("\n")}`);
}
