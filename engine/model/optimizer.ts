// AdamW over every parameter (kernels/adamw.ts), with its state saved to and restored from one file for an exact
// resume. File: 8-byte little-endian header length, JSON header {format, steps, params: [{name, size}]}, then each
// parameter's m and v as f32, in header order. Written to a temporary name and renamed.
import { readFileSync } from "node:fs";
import { AdamW, type Step, type Tensor } from "../../kernels/index.ts";
import { writeAtomic } from "../write-atomic.ts";
import type { DeviceParams } from "./params.ts";

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

const FORMAT = "azr-adamw-1";

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

  /** Encodes clipping and the update into `step`; weight decay applies to matrices only (not norms, not biases). */
  /** The optimizer for these options, its moments carried over from the last one (built once per option set). */
  prepare(step: Step, opt: StepOptions): AdamW {
    const clip = opt.maxGradNorm > 0 && Number.isFinite(opt.maxGradNorm) ? opt.maxGradNorm : undefined;
    const config = { lr: opt.lr, beta1: opt.betas[0], beta2: opt.betas[1], eps: opt.eps, weightDecay: opt.weightDecay, maxGradNorm: clip };
    const mask = opt.weightDecayMask ?? "all";
    const key = JSON.stringify({ ...config, lr: 0, mask });
    if (this.adam !== undefined && key === this.key) return this.adam;
    const p = this.params;
    const gradients = p.gradients().byName;
    const adam = new AdamW(
      p.names.flatMap((name) => {
        const param = p.params.get(name)!;
        const grads = gradients.get(name)!.shards;
        const decay = mask === "all" || param.shape.length > 1;
        return param.shards.map((s, i) => ({ param: s.tensor, grad: grads[i].tensor, decay }));
      }),
      config,
    );
    const old = this.adam;
    if (old !== undefined) {
      // New hyperparameters: the moments and the step count carry over.
      adam.steps = old.steps;
      adam.moments.forEach((mo, i) => step.copy(old.moments[i].m, mo.m).copy(old.moments[i].v, mo.v));
    } else if (this.pending !== undefined) {
      restore(adam, this.pending, p);
      this.pending = undefined;
    }
    this.adam = adam;
    this.key = key;
    return adam;
  }

  async save(path: string): Promise<void> {
    const p = this.params;
    const state: State = this.pending ?? { steps: 0, m: [], v: [] };
    if (this.adam !== undefined) {
      state.steps = this.adam.steps;
      // AdamW holds one moment pair per shard, in name order: a name's moments are its shards' concatenated.
      let at = 0;
      for (const name of p.names) {
        const shards = this.adam.moments.slice(at, (at += p.params.get(name)!.shards.length));
        state.m.push(await concatenated(shards.map((mo) => mo.m)));
        state.v.push(await concatenated(shards.map((mo) => mo.v)));
      }
    } else if (this.pending === undefined) {
      for (const name of p.names) {
        state.m.push(new Float32Array(p.params.get(name)!.size));
        state.v.push(new Float32Array(p.params.get(name)!.size));
      }
    }
    const header = new TextEncoder().encode(
      JSON.stringify({ format: FORMAT, steps: state.steps, params: p.names.map((name) => ({ name, size: p.params.get(name)!.size })) }),
    );
    const parts: Uint8Array[] = [new Uint8Array(8), header];
    new DataView(parts[0].buffer).setBigUint64(0, BigInt(header.length), true);
    state.m.forEach((m, i) => parts.push(bytes(m), bytes(state.v[i])));
    writeAtomic(path, Buffer.concat(parts));
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

function bytes(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Writes a per-name state into the per-shard moments (shards in name order, rows in order). */
function restore(adam: AdamW, state: State, p: DeviceParams): void {
  adam.steps = state.steps;
  let at = 0;
  p.names.forEach((name, i) => {
    const param = p.params.get(name)!;
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
  const buf = readFileSync(path);
  const fail = (why: string): never => {
    throw new Error(`optimizer state ${path}: ${why}`);
  };
  if (buf.length < 8) fail("shorter than its header length");
  const headerLen = Number(buf.readBigUInt64LE(0));
  if (headerLen > buf.length - 8) fail("header runs past the end of the file");
  const header = JSON.parse(buf.subarray(8, 8 + headerLen).toString("utf8")) as {
    format: string;
    steps: number;
    params: { name: string; size: number }[];
  };
  if (header.format !== FORMAT) fail(`format ${JSON.stringify(header.format)}, expected ${FORMAT}`);
  if (header.params.length !== p.names.length) fail(`${header.params.length} parameters, the model has ${p.names.length}`);
  const state: State = { steps: header.steps, m: [], v: [] };
  let at = 8 + headerLen;
  header.params.forEach(({ name, size }, i) => {
    if (name !== p.names[i]) fail(`parameter ${i} is "${name}", the model has "${p.names[i]}"`);
    if (size !== p.params.get(name)!.size) fail(`"${name}" has ${size} elements, the model's has ${p.params.get(name)!.size}`);
    for (const into of [state.m, state.v]) {
      if (at + size * 4 > buf.length) fail(`truncated in "${name}"`);
      into.push(new Float32Array(buf.buffer.slice(buf.byteOffset + at, buf.byteOffset + at + size * 4)));
      at += size * 4;
    }
  });
  if (at !== buf.length) fail(`${buf.length - at} bytes after the last tensor`);
  return state;
}
