// Log-softmax over each vocabulary row with a gather of the target token's log-probability: the building block of
// the policy-gradient loss (the loss is −Σ A·logp over response tokens; its gradient enters here as g = ∂L/∂logp).
//
//   forward    logp[r] = logits[r, targets[r]] − lse[r],   lse[r] = log Σ_v exp(logits[r, v])
//   backward   dlogits[r, v] = g[r] · (onehot(targets[r])_v − exp(logits[r, v] − lse[r]))
//
// Forward: one invocation per row, two passes over the row (max, then Σexp(x − max)): stable for any logits.
// A target outside [0, vocab) gives logp = NaN, so a bad id cannot pass unnoticed. Backward: one invocation per
// (row, vec4 of the row); it needs the forward's lse, not its logp.
import { expectTensor, groupsFor } from "./checks.ts";
import { Dispatch, type Kernel } from "./kernel.ts";
import type { Tensor } from "./tensor.ts";
import { rowDecl, rowPrelude, rowsOf, rowWidth, type RowWidth } from "./vocab-rows.ts";

const WG = 64;

function forwardKernel(w: RowWidth): Kernel {
  return {
    name: `logprob_forward_w${w}`,
    params: { rows: "u32", vocab: "u32", vw: "u32" },
    buffers: { logits: rowDecl(w), targets: "u32", logp: "f32 write", lse: "f32 write" },
    code: `${rowPrelude(w)}
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3u) {
  let row = gid.x;
  if (row >= P.rows) { return; }
  let base = row * P.vw;
  var m = logits[base];
  for (var c = 1u; c < P.vw; c++) { m = max(m, logits[base + c]); }
  let mx = hmax(m);
  var s = V(0.0);
  for (var c = 0u; c < P.vw; c++) { s += exp(logits[base + c] - V(mx)); }
  let l = mx + log(hsum(s));
  lse[row] = l;
  let t = targets[row];
  logp[row] = select(nanOf(t), at(row * P.vocab + min(t, P.vocab - 1u)) - l, t < P.vocab);
}`,
  };
}

function backwardKernel(w: RowWidth): Kernel {
  return {
    name: `logprob_backward_w${w}`,
    params: { vw: "u32" },
    buffers: { logits: rowDecl(w), targets: "u32", lse: "f32", g: "f32", dlogits: rowDecl(w, true) },
    code: `${rowPrelude(w)}
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  let row = gid.y;
  if (c >= P.vw) { return; }
  let i = row * P.vw + c;
  let p = exp(logits[i] - V(lse[row]));
  let hit = select(V(0.0), V(1.0), lanes(c) == U(targets[row]));
  dlogits[i] = g[row] * (hit - p);
}`,
  };
}

export interface LogProbForwardArgs {
  /** f32 [rows, vocab] */
  logits: Tensor;
  /** u32 [rows]: the token whose log-probability is gathered */
  targets: Tensor<"u32">;
  /** out f32 [rows] */
  logp: Tensor;
  /** out f32 [rows]: log Σ exp(logits), kept for the backward (and for entropy) */
  lse: Tensor;
}

/** logp and lse for every row; build once, encode every step. */
export function logProbForward(a: LogProbForwardArgs): Dispatch {
  const op = "logProbForward";
  const { rows, vocab } = rowsOf(op, a.logits);
  expectTensor(op, "targets", a.targets, [rows], "u32");
  expectTensor(op, "logp", a.logp, [rows]);
  expectTensor(op, "lse", a.lse, [rows]);
  const w = rowWidth(vocab);
  return new Dispatch(forwardKernel(w), { ...a }, { rows, vocab, vw: vocab / w }, [groupsFor(rows, WG)]);
}

export interface LogProbBackwardArgs {
  logits: Tensor;
  targets: Tensor<"u32">;
  /** f32 [rows] from the forward */
  lse: Tensor;
  /** f32 [rows]: ∂L/∂logp (0 on rows that do not count, e.g. padding and prompt tokens) */
  g: Tensor;
  /** out f32 [rows, vocab]: overwritten */
  dlogits: Tensor;
}

/** dlogits = g · (onehot(target) − softmax(logits)), row by row. */
export function logProbBackward(a: LogProbBackwardArgs): Dispatch {
  const op = "logProbBackward";
  const { rows, vocab } = rowsOf(op, a.logits);
  expectTensor(op, "targets", a.targets, [rows], "u32");
  expectTensor(op, "lse", a.lse, [rows]);
  expectTensor(op, "g", a.g, [rows]);
  expectTensor(op, "dlogits", a.dlogits, [rows, vocab]);
  const w = rowWidth(vocab);
  const vw = vocab / w;
  return new Dispatch(backwardKernel(w), { ...a }, { vw }, [groupsFor(vw, WG), rows]);
}

/** Plain TS reference of the forward, in float64 (logits row-major [rows, vocab]). */
export function logProbReference(
  logits: ArrayLike<number>,
  vocab: number,
  targets: ArrayLike<number>,
): { logp: Float64Array; lse: Float64Array } {
  const rows = targets.length;
  const logp = new Float64Array(rows);
  const lse = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    lse[r] = logSumExp(logits, r * vocab, vocab);
    const t = targets[r];
    logp[r] = t < vocab ? logits[r * vocab + t] - lse[r] : NaN;
  }
  return { logp, lse };
}

/** Plain TS reference of the backward, in float64. */
export function logProbBackwardReference(
  logits: ArrayLike<number>,
  vocab: number,
  targets: ArrayLike<number>,
  g: ArrayLike<number>,
): Float64Array {
  const rows = targets.length;
  const d = new Float64Array(rows * vocab);
  for (let r = 0; r < rows; r++) {
    const lse = logSumExp(logits, r * vocab, vocab);
    for (let v = 0; v < vocab; v++) {
      const p = Math.exp(logits[r * vocab + v] - lse);
      d[r * vocab + v] = g[r] * ((v === targets[r] ? 1 : 0) - p);
    }
  }
  return d;
}

/** log Σ exp(x[start .. start+n)), max-subtracted. */
export function logSumExp(x: ArrayLike<number>, start: number, n: number): number {
  let m = -Infinity;
  for (let i = 0; i < n; i++) m = Math.max(m, x[start + i]);
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.exp(x[start + i] - m);
  return m + Math.log(s);
}
