// RMSNorm (Qwen2/Llama): y = x · rstd · w, rstd = 1/sqrt(mean(x²) + eps), over the last dimension.
//
//   rmsnorm({ x, w, y, rstd, eps })                      // x, y [R, D]; w [D]; rstd [R] saved for the backward
//   rmsnormBackward({ x, w, rstd, dy, dx, dw })          // dx [R, D], dw [D]
//
//   dx = rstd · (w⊙dy) − x · rstd³ · Σ_d(w⊙dy⊙x) / D      (one invocation per row)
//   dw = Σ_rows dy ⊙ x · rstd                              (one invocation per column, rows in order: no atomics)
// `accumulate` adds into dx/dw (dx: the residual stream's gradient arrives from two sides).
import { expectRank, expectTensor, groupsFor } from "./checks.ts";
import { Dispatch, type Kernel } from "./kernel.ts";
import type { Tensor } from "./tensor.ts";

const WG = 64;

const forwardKernel: Kernel = {
  name: "rmsnorm_forward",
  params: { R: "u32", D: "u32", eps: "f32" },
  buffers: { x: "f32", w: "f32", y: "f32 write", rstd: "f32 write" },
  code: `
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3u) {
  let r = gid.x;
  if (r >= P.R) { return; }
  let base = r * P.D;
  var ss = 0.0;
  for (var d = 0u; d < P.D; d++) { let v = x[base + d]; ss = fma(v, v, ss); }
  let s = inverseSqrt(ss / f32(P.D) + P.eps);
  rstd[r] = s;
  for (var d = 0u; d < P.D; d++) { y[base + d] = x[base + d] * s * w[d]; }
}`,
};

const dxKernel: Kernel = {
  name: "rmsnorm_backward_dx",
  params: { R: "u32", D: "u32", acc: "u32" },
  buffers: { x: "f32", w: "f32", rstd: "f32", dy: "f32", dx: "f32 write" },
  code: `
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3u) {
  let r = gid.x;
  if (r >= P.R) { return; }
  let base = r * P.D;
  let s = rstd[r];
  var dot = 0.0;
  for (var d = 0u; d < P.D; d++) { dot = fma(w[d] * dy[base + d], x[base + d], dot); }
  let c = s * s * s * dot / f32(P.D);
  for (var d = 0u; d < P.D; d++) {
    let i = base + d;
    let v = s * w[d] * dy[i] - c * x[i];
    dx[i] = select(v, dx[i] + v, P.acc != 0u);
  }
}`,
};

const dwKernel: Kernel = {
  name: "rmsnorm_backward_dw",
  params: { R: "u32", D: "u32", acc: "u32" },
  buffers: { x: "f32", rstd: "f32", dy: "f32", dw: "f32 write" },
  code: `
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3u) {
  let d = gid.x;
  if (d >= P.D) { return; }
  var s = 0.0;
  for (var r = 0u; r < P.R; r++) { let i = r * P.D + d; s = fma(dy[i], x[i] * rstd[r], s); }
  dw[d] = select(s, dw[d] + s, P.acc != 0u);
}`,
};

function rowsOf(op: string, x: Tensor): { R: number; D: number } {
  const [R, D] = expectRank(op, "x", x, 2, "[rows, D]");
  return { R, D };
}

export interface RmsnormArgs {
  readonly x: Tensor;
  readonly w: Tensor;
  readonly y: Tensor;
  /** f32 [R]: 1/rms per row, for the backward. */
  readonly rstd: Tensor;
  /** Qwen2: 1e-6. */
  readonly eps: number;
}

export function rmsnorm({ x, w, y, rstd, eps }: RmsnormArgs): Dispatch {
  const { R, D } = rowsOf("rmsnorm", x);
  expectTensor("rmsnorm", "w", w, [D]);
  expectTensor("rmsnorm", "y", y, [R, D]);
  expectTensor("rmsnorm", "rstd", rstd, [R]);
  if (!(eps > 0)) throw new Error(`rmsnorm: eps must be > 0, got ${eps}`);
  return new Dispatch(forwardKernel, { x, w, y, rstd }, { R, D, eps }, [groupsFor(R, WG)]);
}

export interface RmsnormBackwardArgs {
  readonly x: Tensor;
  readonly w: Tensor;
  readonly rstd: Tensor;
  readonly dy: Tensor;
  readonly dx?: Tensor;
  readonly dw?: Tensor;
  readonly accumulate?: boolean;
}

export function rmsnormBackward({ x, w, rstd, dy, dx, dw, accumulate = false }: RmsnormBackwardArgs): Dispatch[] {
  const op = "rmsnormBackward";
  const { R, D } = rowsOf(op, x);
  expectTensor(op, "w", w, [D]);
  expectTensor(op, "rstd", rstd, [R]);
  expectTensor(op, "dy", dy, [R, D]);
  const acc = accumulate ? 1 : 0;
  const out: Dispatch[] = [];
  if (dx) {
    expectTensor(op, "dx", dx, [R, D]);
    out.push(new Dispatch(dxKernel, { x, w, rstd, dy, dx }, { R, D, acc }, [groupsFor(R, WG)]));
  }
  if (dw) {
    expectTensor(op, "dw", dw, [D]);
    out.push(new Dispatch(dwKernel, { x, rstd, dy, dw }, { R, D, acc }, [groupsFor(D, WG)]));
  }
  return out;
}

// ---- references -----------------------------------------------------------------------------------------------

export function rmsnormReference(x: ArrayLike<number>, w: ArrayLike<number>, R: number, D: number, eps: number) {
  const y = new Float64Array(R * D);
  const rstd = new Float64Array(R);
  for (let r = 0; r < R; r++) {
    let ss = 0;
    for (let d = 0; d < D; d++) ss += x[r * D + d] ** 2;
    rstd[r] = 1 / Math.sqrt(ss / D + eps);
    for (let d = 0; d < D; d++) y[r * D + d] = x[r * D + d] * rstd[r] * w[d];
  }
  return { y, rstd };
}

export function rmsnormBackwardReference(
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  dy: ArrayLike<number>,
  R: number,
  D: number,
  eps: number,
) {
  const { rstd } = rmsnormReference(x, w, R, D, eps);
  const dx = new Float64Array(R * D);
  const dw = new Float64Array(D);
  for (let r = 0; r < R; r++) {
    let dot = 0;
    for (let d = 0; d < D; d++) dot += w[d] * dy[r * D + d] * x[r * D + d];
    const c = (rstd[r] ** 3 * dot) / D;
    for (let d = 0; d < D; d++) {
      const i = r * D + d;
      dx[i] = rstd[r] * w[d] * dy[i] - c * x[i];
      dw[d] += dy[i] * x[i] * rstd[r];
    }
  }
  return { dx, dw };
}
