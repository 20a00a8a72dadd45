// Bias of a linear layer (Qwen2's q/k/v projections carry one): added in place after the matmul, and its gradient.
//
//   addBias({ y, bias })                         // y[r, c] += bias[c]          (y [R, N], bias [N])
//   biasBackward({ dy, dBias })                  // dBias[c] = Σ_r dy[r, c]     (one invocation per column, rows in
//                                                //  order: deterministic, no atomics); `accumulate` adds into dBias
import { expectRank, expectTensor, groupsFor } from "./checks.ts";
import { Dispatch, linearGrid, type Kernel } from "./kernel.ts";
import type { Tensor } from "./tensor.ts";

const WG = 64;

const addKernel: Kernel = {
  name: "bias_add",
  params: { R: "u32", N: "u32" },
  buffers: { bias: "f32", y: "f32 write" },
  code: `
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let i = gid.x + gid.y * nw.x * ${WG}u;
  if (i >= P.R * P.N) { return; }
  y[i] = y[i] + bias[i % P.N];
}`,
};

const gradKernel: Kernel = {
  name: "bias_backward",
  params: { R: "u32", N: "u32", acc: "u32" },
  buffers: { dy: "f32", dBias: "f32 write" },
  code: `
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  if (c >= P.N) { return; }
  var s = 0.0;
  for (var r = 0u; r < P.R; r++) { s += dy[r * P.N + c]; }
  dBias[c] = select(s, dBias[c] + s, P.acc != 0u);
}`,
};

export interface AddBiasArgs {
  /** f32 [R, N], updated in place. */
  readonly y: Tensor;
  /** f32 [N]. */
  readonly bias: Tensor;
}

export function addBias({ y, bias }: AddBiasArgs): Dispatch {
  const [R, N] = expectRank("addBias", "y", y, 2, "[rows, N]");
  expectTensor("addBias", "y", y, [R, N]);
  expectTensor("addBias", "bias", bias, [N]);
  return new Dispatch(addKernel, { bias, y }, { R, N }, linearGrid(R * N, WG));
}

export interface BiasBackwardArgs {
  /** f32 [R, N]: gradient of the biased output. */
  readonly dy: Tensor;
  /** f32 [N]. */
  readonly dBias: Tensor;
  readonly accumulate?: boolean;
}

export function biasBackward({ dy, dBias, accumulate = false }: BiasBackwardArgs): Dispatch {
  const [R, N] = expectRank("biasBackward", "dy", dy, 2, "[rows, N]");
  expectTensor("biasBackward", "dy", dy, [R, N]);
  expectTensor("biasBackward", "dBias", dBias, [N]);
  return new Dispatch(gradKernel, { dy, dBias }, { R, N, acc: accumulate ? 1 : 0 }, [groupsFor(N, WG)]);
}

// ---- references -----------------------------------------------------------------------------------------------

export function addBiasReference(y: ArrayLike<number>, bias: ArrayLike<number>): Float64Array {
  return Float64Array.from({ length: y.length }, (_, i) => y[i] + bias[i % bias.length]);
}

export function biasBackwardReference(dy: ArrayLike<number>, N: number): Float64Array {
  const out = new Float64Array(N);
  for (let i = 0; i < dy.length; i++) out[i % N] += dy[i];
  return out;
}
