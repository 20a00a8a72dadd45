// Entropy of each row's token distribution, for the trainer's optional entropy bonus.
//
//   forward    H[r] = −Σ_v p_v · log p_v,   p_v = exp(x_v − lse[r]),  log p_v = x_v − lse[r]
//   backward   dlogits[r, v] (+)= gH[r] · (−p_v · (log p_v + H[r]))
//
// Both take the row's lse from logProbForward (loss.ts), so the entropy costs one more pass over the logits, not
// two. The backward either overwrites dlogits or adds to it (`accumulate`), so that it can stack on the
// log-prob gradient without a separate add.
import { expectTensor, groupsFor } from "./checks.ts";
import { Dispatch, type Kernel } from "./kernel.ts";
import type { Tensor } from "./tensor.ts";
import { rowDecl, rowPrelude, rowsOf, rowWidth, type RowWidth } from "./vocab-rows.ts";
import { logSumExp } from "./loss.ts";

const WG = 64;

function forwardKernel(w: RowWidth): Kernel {
  return {
    name: `entropy_forward_w${w}`,
    params: { rows: "u32", vw: "u32" },
    buffers: { logits: rowDecl(w), lse: "f32", entropy: "f32 write" },
    code: `${rowPrelude(w)}
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3u) {
  let row = gid.x;
  if (row >= P.rows) { return; }
  let base = row * P.vw;
  let l = V(lse[row]);
  var s = V(0.0);
  for (var c = 0u; c < P.vw; c++) {
    let logp = logits[base + c] - l;
    s += exp(logp) * logp;
  }
  entropy[row] = -hsum(s);
}`,
  };
}

function backwardKernel(w: RowWidth, accumulate: boolean): Kernel {
  return {
    name: `entropy_backward_w${w}${accumulate ? "_add" : ""}`,
    params: { vw: "u32" },
    buffers: { logits: rowDecl(w), lse: "f32", entropy: "f32", gH: "f32", dlogits: rowDecl(w, true) },
    code: `${rowPrelude(w)}
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  let row = gid.y;
  if (c >= P.vw) { return; }
  let i = row * P.vw + c;
  let logp = logits[i] - V(lse[row]);
  let d = -gH[row] * exp(logp) * (logp + V(entropy[row]));
  dlogits[i] = ${accumulate ? "dlogits[i] + d" : "d"};
}`,
  };
}

export interface EntropyForwardArgs {
  /** f32 [rows, vocab] */
  logits: Tensor;
  /** f32 [rows]: from logProbForward */
  lse: Tensor;
  /** out f32 [rows] */
  entropy: Tensor;
}

export function entropyForward(a: EntropyForwardArgs): Dispatch {
  const op = "entropyForward";
  const { rows, vocab } = rowsOf(op, a.logits);
  expectTensor(op, "lse", a.lse, [rows]);
  expectTensor(op, "entropy", a.entropy, [rows]);
  const w = rowWidth(vocab);
  return new Dispatch(forwardKernel(w), { ...a }, { rows, vw: vocab / w }, [groupsFor(rows, WG)]);
}

export interface EntropyBackwardArgs extends EntropyForwardArgs {
  /** f32 [rows]: ∂L/∂H */
  gH: Tensor;
  /** f32 [rows, vocab]: written, or added to when `accumulate` */
  dlogits: Tensor;
  accumulate: boolean;
}

export function entropyBackward(a: EntropyBackwardArgs): Dispatch {
  const op = "entropyBackward";
  const { rows, vocab } = rowsOf(op, a.logits);
  expectTensor(op, "lse", a.lse, [rows]);
  expectTensor(op, "entropy", a.entropy, [rows]);
  expectTensor(op, "gH", a.gH, [rows]);
  expectTensor(op, "dlogits", a.dlogits, [rows, vocab]);
  const w = rowWidth(vocab);
  const vw = vocab / w;
  const { logits, lse, entropy, gH, dlogits } = a;
  return new Dispatch(backwardKernel(w, a.accumulate), { logits, lse, entropy, gH, dlogits }, { vw }, [groupsFor(vw, WG), rows]);
}

/** Plain TS reference: entropy of each row, float64. */
export function entropyReference(logits: ArrayLike<number>, rows: number, vocab: number): Float64Array {
  const h = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const lse = logSumExp(logits, r * vocab, vocab);
    let s = 0;
    for (let v = 0; v < vocab; v++) {
      const logp = logits[r * vocab + v] - lse;
      s -= Math.exp(logp) * logp;
    }
    h[r] = s;
  }
  return h;
}

/** Plain TS reference of the backward (overwriting form), float64. */
export function entropyBackwardReference(logits: ArrayLike<number>, vocab: number, gH: ArrayLike<number>): Float64Array {
  const rows = gH.length;
  const h = entropyReference(logits, rows, vocab);
  const d = new Float64Array(rows * vocab);
  for (let r = 0; r < rows; r++) {
    const lse = logSumExp(logits, r * vocab, vocab);
    for (let v = 0; v < vocab; v++) {
      const logp = logits[r * vocab + v] - lse;
      d[r * vocab + v] = -gH[r] * Math.exp(logp) * (logp + h[r]);
    }
  }
  return d;
}
