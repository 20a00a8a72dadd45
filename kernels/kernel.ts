// Kernels, dispatches and steps: how WGSL runs.
//
//   const add: Kernel = {                            // a kernel: WGSL plus what it binds (declared once per op file)
//     name: "add",
//     params: { n: "u32" },                          // uniform fields, readable in WGSL as P.n
//     buffers: { a: "f32", b: "f32", out: "f32 write" },   // storage arrays, in binding order; "vec4f" types too
//     code: `@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u) {
//              if (g.x < P.n) { out[g.x] = a[g.x] + b[g.x]; } }`,
//   };
//   const d = new Dispatch(add, { a, b, out }, { n: 1000 }, [16]);   // bind group + uniform built here, once
//   const step = new Step(); step.run(d); step.submit();             // one encoder, one compute pass, one submit
//   d.set({ n: 500 });                              // update a uniform before the next submit (e.g. a position)
//
// Costs and lifetimes: a pipeline is compiled once per distinct generated WGSL text and cached for the process
// (lavapipe additionally JIT-compiles it on its first dispatch: 0.2-5 s, then disk-cached). A Dispatch owns its
// bind group and a 16-byte-aligned uniform buffer for the life of the model. A Step is one command encoder: build
// one per training step, encode every dispatch, submit once. Storage writes are ordered between dispatches of one
// pass, so no barriers are needed. A Dispatch holds one set of uniform values: encoding it twice in a step with
// different values is not possible (build two Dispatches).
import { bindingLimit, requireGpu, requireShaderF16 } from "./device.ts";
import type { DType, Tensor } from "./tensor.ts";

export type ParamType = "u32" | "i32" | "f32";
/**
 * A storage binding: element type, `vec4f`/`vec4u`/`vec4i`/`vec4h` for vector access, " write" when the kernel writes
 * it. A kernel with an f16 binding gets `enable f16;` (the device must have `shader-f16`).
 */
export type BufferDecl = `${DType | "vec4f" | "vec4u" | "vec4i" | "vec4h"}${"" | " write"}`;

export interface Kernel {
  readonly name: string;
  readonly params: Readonly<Record<string, ParamType>>;
  readonly buffers: Readonly<Record<string, BufferDecl>>;
  /** WGSL with the entry point `main`; the Params struct `P` and the buffers are declared by `source()`. */
  readonly code: string;
}

const ELEMENT_DTYPE: Record<string, DType> = { f32: "f32", u32: "u32", i32: "i32", f16: "f16", vec4f: "f32", vec4u: "u32", vec4i: "i32", vec4h: "f16" };

function parseDecl(decl: BufferDecl): { wgslType: string; dtype: DType; write: boolean } {
  const [type, access] = decl.split(" ");
  const dtype = ELEMENT_DTYPE[type];
  return { wgslType: type.startsWith("vec4") ? `vec4<${dtype}>` : type, dtype, write: access === "write" };
}

/** The full WGSL of a kernel: params struct at binding 0, buffers from binding 1 in declaration order. */
function source(kernel: Kernel): string {
  const lines: string[] = [];
  if (Object.values(kernel.buffers).some((decl) => parseDecl(decl).dtype === "f16")) lines.push("enable f16;");
  const params = Object.entries(kernel.params);
  if (params.length > 0) {
    lines.push(`struct Params { ${params.map(([n, t]) => `${n}: ${t}`).join(", ")} }`);
    lines.push(`@group(0) @binding(0) var<uniform> P: Params;`);
  }
  Object.entries(kernel.buffers).forEach(([name, decl], i) => {
    const { wgslType, write } = parseDecl(decl);
    lines.push(`@group(0) @binding(${i + 1}) var<storage, ${write ? "read_write" : "read"}> ${name}: array<${wgslType}>;`);
  });
  return `${lines.join("\n")}\n${kernel.code}`;
}

interface Compiled {
  readonly pipeline: GPUComputePipeline;
  readonly layout: GPUBindGroupLayout;
}
const pipelines = new Map<string, Compiled>();

/** The compute pipeline for a kernel, compiled on first use and cached for the process. */
function compile(kernel: Kernel): Compiled {
  const code = source(kernel);
  const hit = pipelines.get(code);
  if (hit) return hit;
  if (code.startsWith("enable f16;")) requireShaderF16(`kernel ${kernel.name} (f16 buffers)`);
  const { device } = requireGpu();
  const entries: GPUBindGroupLayoutEntry[] = [];
  if (Object.keys(kernel.params).length > 0) {
    entries.push({ binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: "uniform" } });
  }
  Object.values(kernel.buffers).forEach((decl, i) => {
    const type = parseDecl(decl).write ? "storage" : "read-only-storage";
    entries.push({ binding: i + 1, visibility: GPUShaderStage.COMPUTE, buffer: { type } });
  });
  const layout = device.createBindGroupLayout({ label: kernel.name, entries });
  const module = device.createShaderModule({ label: kernel.name, code });
  const pipeline = device.createComputePipeline({
    label: kernel.name,
    layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }),
    compute: { module, entryPoint: "main" },
  });
  const compiled = { pipeline, layout };
  pipelines.set(code, compiled);
  return compiled;
}

export type Workgroups = readonly [number, number?, number?];

/**
 * Workgroups of `size` invocations covering `items` along x, wrapping into y past 32768 workgroups (a dimension
 * holds at most 65535). The kernel's flat index is `gid.x + gid.y * nw.x * size` (nw: num_workgroups).
 */
export function linearGrid(items: number, size: number): [number, number] {
  const groups = Math.ceil(items / size);
  const x = Math.min(groups, 32768);
  return [x, Math.max(1, Math.ceil(groups / x))];
}

/** One kernel bound to its tensors and uniform values, ready to encode any number of times. */
export class Dispatch {
  readonly kernel: Kernel;
  readonly workgroups: readonly [number, number, number];
  private readonly pipeline: GPUComputePipeline;
  private readonly bindGroup: GPUBindGroup;
  private readonly uniform: GPUBuffer | undefined;
  private readonly values: Record<string, number>;

  constructor(
    kernel: Kernel,
    tensors: Readonly<Record<string, Tensor>>,
    params: Readonly<Record<string, number>>,
    workgroups: Workgroups,
  ) {
    const { device, limits } = requireGpu();
    this.kernel = kernel;
    this.workgroups = checkWorkgroups(kernel.name, workgroups, limits.maxComputeWorkgroupsPerDimension);
    const { pipeline, layout } = compile(kernel);
    this.pipeline = pipeline;
    this.values = {};
    for (const name of Object.keys(kernel.params)) {
      if (!(name in params)) throw new Error(`${kernel.name}: missing uniform parameter '${name}'`);
    }
    for (const name of Object.keys(params)) {
      if (!(name in kernel.params)) throw new Error(`${kernel.name}: unknown uniform parameter '${name}'`);
    }
    const entries: GPUBindGroupEntry[] = [];
    const fieldCount = Object.keys(kernel.params).length;
    if (fieldCount > 0) {
      this.uniform = device.createBuffer({
        label: `${kernel.name} params`,
        size: Math.ceil((fieldCount * 4) / 16) * 16,
        usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      });
      entries.push({ binding: 0, resource: { buffer: this.uniform } });
      this.set(params);
    }
    Object.entries(kernel.buffers).forEach(([name, decl], i) => {
      const t = tensors[name];
      if (!t) throw new Error(`${kernel.name}: no tensor bound to '${name}'`);
      const { dtype } = parseDecl(decl);
      if (t.dtype !== dtype) throw new Error(`${kernel.name}: '${name}' must be ${dtype}, got ${t.describe()}`);
      if (t.buffer.size > bindingLimit()) {
        throw new Error(`${kernel.name}: '${name}' ${t.describe()} is ${t.buffer.size} bytes, over this adapter's binding limit ${bindingLimit()}`);
      }
      entries.push({ binding: i + 1, resource: { buffer: t.buffer } });
    });
    for (const name of Object.keys(tensors)) {
      if (!(name in kernel.buffers)) throw new Error(`${kernel.name}: unknown buffer '${name}'`);
    }
    checkAliasing(kernel, tensors);
    this.bindGroup = device.createBindGroup({ label: kernel.name, layout, entries });
  }

  /** Updates uniform values; the write is queued and lands before the next submit. */
  set(params: Readonly<Record<string, number>>): void {
    if (!this.uniform) throw new Error(`${this.kernel.name} has no uniform parameters`);
    const fields = Object.entries(this.kernel.params);
    const data = new DataView(new ArrayBuffer(this.uniform.size));
    fields.forEach(([name, type], i) => {
      const value = params[name] ?? this.values[name];
      if (value === undefined) throw new Error(`${this.kernel.name}: missing uniform parameter '${name}'`);
      checkParam(this.kernel.name, name, type, value);
      if (type === "f32") data.setFloat32(i * 4, value, true);
      else if (type === "u32") data.setUint32(i * 4, value, true);
      else data.setInt32(i * 4, value, true);
      this.values[name] = value;
    });
    requireGpu().device.queue.writeBuffer(this.uniform, 0, data.buffer);
  }

  encode(pass: GPUComputePassEncoder): void {
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, this.bindGroup);
    pass.dispatchWorkgroups(...this.workgroups);
  }
}

/** WebGPU rejects a buffer bound twice in one dispatch when either binding is written: say so up front. */
function checkAliasing(kernel: Kernel, tensors: Readonly<Record<string, Tensor>>): void {
  const seen = new Map<GPUBuffer, string>();
  for (const [name, decl] of Object.entries(kernel.buffers)) {
    const buffer = tensors[name].buffer;
    const other = seen.get(buffer);
    if (other !== undefined && (parseDecl(decl).write || parseDecl(kernel.buffers[other]).write)) {
      throw new Error(`${kernel.name}: '${other}' and '${name}' are the same buffer, and one of them is written; use separate tensors`);
    }
    seen.set(buffer, name);
  }
}

function checkParam(kernel: string, name: string, type: ParamType, value: number): void {
  const ok =
    type === "f32"
      ? typeof value === "number"
      : Number.isInteger(value) && (type === "u32" ? value >= 0 && value <= 0xffffffff : value >= -(2 ** 31) && value < 2 ** 31);
  if (!ok) throw new Error(`${kernel}: parameter '${name}' = ${value} is not a valid ${type}`);
}

function checkWorkgroups(kernel: string, w: Workgroups, max: number): [number, number, number] {
  const full: [number, number, number] = [w[0], w[1] ?? 1, w[2] ?? 1];
  for (const n of full) {
    if (!Number.isInteger(n) || n < 0 || n > max) {
      throw new Error(`${kernel}: workgroup count [${full}] outside 0..${max} per dimension`);
    }
  }
  return full;
}

/**
 * One command encoder: dispatches go into a single compute pass (reopened only around copies), submitted once.
 * Cheap to create; build one per step.
 */
export class Step {
  private readonly encoder: GPUCommandEncoder;
  private pass: GPUComputePassEncoder | undefined;
  private submitted = false;

  constructor(label = "step") {
    this.encoder = requireGpu().device.createCommandEncoder({ label });
  }

  run(...dispatches: Dispatch[]): this {
    this.checkOpen();
    this.pass ??= this.encoder.beginComputePass();
    for (const d of dispatches) d.encode(this.pass);
    return this;
  }

  /** Copies all of `src` into `dst` (same dtype and size) at this point of the step. */
  copy(src: Tensor, dst: Tensor): this {
    if (src.dtype !== dst.dtype || src.size !== dst.size) {
      throw new Error(`copy ${src.describe()} -> ${dst.describe()}: dtype and element count must match`);
    }
    this.endPass();
    this.encoder.copyBufferToBuffer(src.buffer, 0, dst.buffer, 0, src.buffer.size);
    return this;
  }

  /** Sets every element of `t` to zero at this point of the step. */
  clear(t: Tensor): this {
    this.endPass();
    this.encoder.clearBuffer(t.buffer);
    return this;
  }

  submit(): void {
    this.endPass();
    this.submitted = true;
    requireGpu().device.queue.submit([this.encoder.finish()]);
  }

  private endPass(): void {
    this.checkOpen();
    this.pass?.end();
    this.pass = undefined;
  }

  private checkOpen(): void {
    if (this.submitted) throw new Error("this Step was already submitted; create a new Step");
  }
}

/** Encodes `dispatches` into one pass and submits them. */
export function run(...dispatches: Dispatch[]): void {
  new Step().run(...dispatches).submit();
}

/** Resolves when all submitted work has finished (benchmarks; reads already wait on their own). */
export function finish(): Promise<void> {
  return requireGpu().device.queue.onSubmittedWorkDone();
}
