// AdamW over every parameter (kernels/adamw.ts), with its state saved to and restored from one safetensors file for
// an exact resume: per parameter `<name>.exp_avg` (m) and `<name>.exp_avg_sq` (v) as F32 in the parameter's shape
// (torch's AdamW state names), `__metadata__` {format: "azr-adamw-2", steps}. Read and written by ./safetensors.ts
// (atomically).
import { AdamW, Step, type Tensor } from "../../kernels/index.ts";
import type { DeviceParams } from "./params.ts";
import { readSafetensors, type TensorMap, writeSafetensors } from "./safetensors.ts";

export interface StepOptions {
  lr: number;
  weightDecay: number;
  betas: [number, number];
  eps: number;
  /** Clip the global gradient norm to this; 0 or Infinity = no clipping. */
  maxGradNorm: number;
  /** Which parameters weight decay reaches: `all` (torch's AdamW, as verl uses it; the default) or `matrices`. */
  weightDecayMask?: "all" | "matrices";
}

const FORMAT = "azr-adamw-2";
const M = ".exp_avg";
const V = ".exp_avg_sq";

interface State {
  steps: number;
  m: Float32Array[];
  v: Float32Array[];
}

export class Optimizer {
  private adam: AdamW | undefined;
  private key = "";
  /** State loaded before the first step built the AdamW (its hyperparameters come with the step). */
  private pending: State | undefined;

  constructor(private readonly params: DeviceParams) {}

  /** The optimizer for these options, its moments carried over from the last one, which is then freed (built once per
   *  option set). */
  prepare(opt: StepOptions): AdamW {
    const clip = opt.maxGradNorm > 0 && Number.isFinite(opt.maxGradNorm) ? opt.maxGradNorm : undefined;
    const config = { lr: opt.lr, beta1: opt.betas[0], beta2: opt.betas[1], eps: opt.eps, weightDecay: opt.weightDecay, maxGradNorm: clip };
    const mask = opt.weightDecayMask ?? "all";
    const key = JSON.stringify({ ...config, lr: 0, mask });
    if (this.adam !== undefined && key === this.key) return this.adam;
    const p = this.params;
    const gradients = p.gradients().byName;
    const adam = new AdamW(
      p.names.flatMap((name) => {
        const param = p.trained(name);
        const grads = gradients.get(name)!.shards;
        const decay = mask === "all" || param.shape.length > 1;
        return param.shards.map((s, i) => ({ param: s.tensor, grad: grads[i].tensor, decay }));
      }),
      config,
    );
    const old = this.adam;
    if (old !== undefined) {
      // New hyperparameters: the moments and the step count carry over; the old buffers go once the copy is submitted.
      adam.steps = old.steps;
      const carry = new Step("optimizer moments");
      adam.moments.forEach((mo, i) => carry.copy(old.moments[i].m, mo.m).copy(old.moments[i].v, mo.v));
      carry.submit();
      old.destroy();
    } else if (this.pending !== undefined) {
      restore(adam, this.pending, p);
      this.pending = undefined;
    }
    this.adam = adam;
    this.key = key;
    return adam;
  }

  destroy(): void {
    this.adam?.destroy();
    this.adam = undefined;
  }

  async save(path: string): Promise<void> {
    const p = this.params;
    const state: State = this.pending ?? { steps: 0, m: [], v: [] };
    if (this.adam !== undefined) {
      state.steps = this.adam.steps;
      // AdamW holds one moment pair per shard, in name order: a name's moments are its shards' concatenated.
      let at = 0;
      for (const name of p.names) {
        const shards = this.adam.moments.slice(at, (at += p.trained(name).shards.length));
        state.m.push(await concatenated(shards.map((mo) => mo.m)));
        state.v.push(await concatenated(shards.map((mo) => mo.v)));
      }
    } else if (this.pending === undefined) {
      for (const name of p.names) {
        state.m.push(new Float32Array(p.trained(name).size));
        state.v.push(new Float32Array(p.trained(name).size));
      }
    }
    const tensors: TensorMap = new Map();
    p.names.forEach((name, i) => {
      const shape = [...p.trained(name).shape];
      tensors.set(name + M, { shape, data: state.m[i] }).set(name + V, { shape, data: state.v[i] });
    });
    writeSafetensors(path, tensors, "F32", { format: FORMAT, steps: String(state.steps) });
  }

  load(path: string): void {
    const state = parseState(path, this.params);
    if (this.adam !== undefined) restore(this.adam, state, this.params);
    else this.pending = state;
  }
}

async function concatenated(tensors: readonly Tensor[]): Promise<Float32Array> {
  const parts = await Promise.all(tensors.map((t) => t.read() as Promise<Float32Array>));
  const out = new Float32Array(parts.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of parts) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}

/** Writes a per-name state into the per-shard moments (shards in name order, rows in order). */
function restore(adam: AdamW, state: State, p: DeviceParams): void {
  adam.steps = state.steps;
  let at = 0;
  p.names.forEach((name, i) => {
    const param = p.trained(name);
    for (const s of param.shards) {
      const mo = adam.moments[at++];
      const [from, to] = [s.start * param.rowSize, (s.start + s.rows) * param.rowSize];
      mo.m.write(state.m[i].subarray(from, to));
      mo.v.write(state.v[i].subarray(from, to));
    }
  });
}

/** Reads an optimizer file and checks that it matches the model's parameters, naming the first that does not. */
function parseState(path: string, p: DeviceParams): State {
  const fail = (why: string): never => {
    throw new Error(`optimizer state ${path}: ${why}`);
  };
  let file: ReturnType<typeof readSafetensors>;
  try {
    file = readSafetensors(path);
  } catch (e) {
    return fail(`not a safetensors file (${(e as Error).message})`);
  }
  const { tensors, metadata } = file;
  if (metadata.format !== FORMAT) fail(`format ${JSON.stringify(metadata.format)}, expected ${FORMAT}`);
  const steps = Number(metadata.steps);
  if (!Number.isInteger(steps) || steps < 0) fail(`steps ${JSON.stringify(metadata.steps)} is not a whole number`);
  const state: State = { steps, m: [], v: [] };
  for (const name of p.names) {
    const shape = p.trained(name).shape;
    for (const [suffix, into] of [[M, state.m], [V, state.v]] as const) {
      const t = tensors.get(name + suffix) ?? fail(`no tensor "${name + suffix}"`);
      if (JSON.stringify(t.shape) !== JSON.stringify(shape)) fail(`"${name + suffix}" has shape ${JSON.stringify(t.shape)}, the model's is ${JSON.stringify(shape)}`);
      into.push(t.data);
    }
  }
  const expected = new Set(p.names.flatMap((name) => [name + M, name + V]));
  const extra = [...tensors.keys()].find((k) => !expected.has(k));
  if (extra !== undefined) fail(`tensor "${extra}" names no parameter of the model`);
  return state;
}
