// Elementwise ops as a table: one row per op, forward and backward as expressions. Both the WGSL kernels and the
// TS references are derived from the row, so adding an op is adding a row.
//
//   elementwise({ op: "swiglu", inputs: { gate, up }, out })                         // out = silu(gate)·up
//   elementwiseBackward({ op: "swiglu", inputs: { gate, up }, g, grads: { gate: dgate, up: dup } })
//   elementwise({ op: "add", inputs: { a: x, b: h }, out: y })                       // residual add
//   elementwise({ op: "add", inputs: { a: x, b: h }, out: y, accumulate: true })     // y += x + h
//
// Expressions use only syntax that WGSL and JS share (arithmetic, exp, parentheses), with the inputs named as in
// the row and `g` the incoming gradient; they work on vec4 as well as on scalars (WGSL broadcasts 1.0 + v).
// Tensors with a multiple of 4 elements run the vec4 kernel, others the scalar one (two pipelines per row).
import { expectTensor } from "./checks.ts";
import { Dispatch, linearGrid, type BufferDecl, type Kernel } from "./kernel.ts";
import type { Tensor } from "./tensor.ts";

interface Row {
  readonly inputs: readonly string[];
  /** WGSL `let` bindings shared by forward and backward (evaluated in order), then the expressions. */
  readonly lets: Readonly<Record<string, string>>;
  readonly forward: string;
  /** Gradient of the output with respect to each input, times g. */
  readonly backward: Readonly<Record<string, string>>;
}

export const ELEMENTWISE = {
  add: { inputs: ["a", "b"], lets: {}, forward: "a + b", backward: { a: "g", b: "g" } },
  swiglu: {
    inputs: ["gate", "up"],
    lets: { sig: "1.0 / (1.0 + exp(-gate))" },
    forward: "gate * sig * up",
    backward: { gate: "g * up * sig * (1.0 + gate * (1.0 - sig))", up: "g * gate * sig" },
  },
} as const satisfies Record<string, Row>;

export type ElementwiseOp = keyof typeof ELEMENTWISE;
type InputsOf<O extends ElementwiseOp> = (typeof ELEMENTWISE)[O]["inputs"][number];
/** The input tensors of `op`, by the names in its row. */
export type ElementwiseInputs<O extends ElementwiseOp> = Readonly<Record<InputsOf<O>, Tensor>>;

const WG = 64;

function letLines(row: Row, ty: string): string {
  return Object.entries(row.lets)
    .map(([n, e]) => `let ${n}: ${ty} = ${e};`)
    .join(" ");
}

function kernelFor(op: ElementwiseOp, direction: "forward" | "backward", vec4: boolean): Kernel {
  const row: Row = ELEMENTWISE[op];
  const ty = vec4 ? "vec4f" : "f32";
  // Inputs are bound as `<name>_in` so that the expressions can use the bare names.
  const buffers: Record<string, BufferDecl> = {};
  for (const name of row.inputs) buffers[`${name}_in`] = ty;
  const loads = row.inputs.map((n) => `let ${n} = ${n}_in[i];`);
  const stores: string[] = [];
  if (direction === "forward") {
    buffers.out = `${ty} write`;
    stores.push(`out[i] = select(${row.forward}, out[i] + (${row.forward}), P.acc != 0u);`);
  } else {
    buffers.g_in = ty;
    loads.push("let g = g_in[i];");
    for (const [name, expr] of Object.entries(row.backward)) {
      buffers[`d_${name}`] = `${ty} write`;
      stores.push(`d_${name}[i] = select(${expr}, d_${name}[i] + (${expr}), P.acc != 0u);`);
    }
  }
  return {
    name: `${op}_${direction}_${vec4 ? "vec4" : "scalar"}`,
    params: { n: "u32", acc: "u32" },
    buffers,
    code: `
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let i = gid.x + gid.y * nw.x * ${WG}u;
  if (i >= P.n) { return; }
  ${loads.join(" ")}
  ${letLines(row, ty)}
  ${stores.join("\n  ")}
}`,
  };
}

function dispatchFor(
  op: ElementwiseOp,
  direction: "forward" | "backward",
  like: Tensor,
  tensors: Record<string, Tensor>,
  accumulate: boolean,
): Dispatch {
  for (const [name, t] of Object.entries(tensors)) expectTensor(`${op} ${direction}`, name.replace(/_in$/, ""), t, like.shape);
  const vec4 = like.size % 4 === 0;
  const n = vec4 ? like.size / 4 : like.size;
  return new Dispatch(kernelFor(op, direction, vec4), tensors, { n, acc: accumulate ? 1 : 0 }, linearGrid(n, WG));
}

export interface ElementwiseArgs<O extends ElementwiseOp> {
  readonly op: O;
  readonly inputs: ElementwiseInputs<O>;
  readonly out: Tensor;
  /** out += f(inputs) instead of out = f(inputs). */
  readonly accumulate?: boolean;
}

/** out = f(inputs), elementwise; every tensor f32 of one shape. */
export function elementwise<O extends ElementwiseOp>({ op, inputs, out, accumulate = false }: ElementwiseArgs<O>): Dispatch {
  const tensors: Record<string, Tensor> = { out };
  for (const name of ELEMENTWISE[op].inputs) tensors[`${name}_in`] = (inputs as Record<string, Tensor>)[name];
  return dispatchFor(op, "forward", out, tensors, accumulate);
}

export interface ElementwiseBackwardArgs<O extends ElementwiseOp> {
  readonly op: O;
  readonly inputs: ElementwiseInputs<O>;
  /** Gradient of the loss with respect to the forward output. */
  readonly g: Tensor;
  /** Gradient outputs, one per input. */
  readonly grads: ElementwiseInputs<O>;
  /** grads += … instead of grads = … (a gradient arriving from several consumers). */
  readonly accumulate?: boolean;
}

/** Gradients of every input of `op`, in one dispatch. */
export function elementwiseBackward<O extends ElementwiseOp>(args: ElementwiseBackwardArgs<O>): Dispatch {
  const { op, g, accumulate = false } = args;
  const tensors: Record<string, Tensor> = { g_in: g };
  for (const name of ELEMENTWISE[op].inputs) {
    tensors[`${name}_in`] = (args.inputs as Record<string, Tensor>)[name];
    tensors[`d_${name}`] = (args.grads as Record<string, Tensor>)[name];
  }
  return dispatchFor(op, "backward", g, tensors, accumulate);
}

// ---- references: the same expressions evaluated by JS in float64 -------------------------------------------

type Scalar = (...args: number[]) => number;
const jsFunctions = new Map<string, Scalar>();

/** Compiles a row expression for JS: the names become parameters, `exp` is Math.exp. */
function jsExpression(row: Row, expr: string, extra: readonly string[]): Scalar {
  const key = `${row.inputs.join(",")}|${extra.join(",")}|${expr}`;
  let f = jsFunctions.get(key);
  if (!f) {
    const lets = Object.entries(row.lets)
      .map(([n, e]) => `const ${n} = ${e};`)
      .join(" ");
    f = new Function("exp", ...row.inputs, ...extra, `${lets} return ${expr};`).bind(null, Math.exp) as Scalar;
    jsFunctions.set(key, f);
  }
  return f;
}

/** Reference forward: the row's expression applied element by element in float64. */
export function elementwiseReference<O extends ElementwiseOp>(op: O, inputs: Record<InputsOf<O>, ArrayLike<number>>): Float64Array {
  const row: Row = ELEMENTWISE[op];
  const cols = row.inputs.map((n) => (inputs as Record<string, ArrayLike<number>>)[n]);
  const f = jsExpression(row, row.forward, []);
  return Float64Array.from({ length: cols[0].length }, (_, i) => f(...cols.map((c) => c[i])));
}

/** Reference backward: one gradient array per input. */
export function elementwiseBackwardReference<O extends ElementwiseOp>(
  op: O,
  inputs: Record<InputsOf<O>, ArrayLike<number>>,
  g: ArrayLike<number>,
): Record<InputsOf<O>, Float64Array> {
  const row: Row = ELEMENTWISE[op];
  const cols = row.inputs.map((n) => (inputs as Record<string, ArrayLike<number>>)[n]);
  const out: Record<string, Float64Array> = {};
  for (const [name, expr] of Object.entries(row.backward)) {
    const f = jsExpression(row, expr, ["g"]);
    out[name] = Float64Array.from({ length: g.length }, (_, i) => f(...cols.map((c) => c[i]), g[i]));
  }
  return out as Record<InputsOf<O>, Float64Array>;
}
