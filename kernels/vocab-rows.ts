// WGSL prelude shared by the kernels that walk whole vocabulary rows (loss, entropy, sampling).
//
// A row of V logits is read as V/4 vec4s when V % 4 == 0 (4 independent lanes per load: ~1.4x faster on lavapipe),
// otherwise as V scalars. The prelude defines, for the chosen width W:
//   alias V            the element type (vec4f or f32); `V(x)` splats
//   alias U            the matching index type (vec4u or u32)
//   hmax(v), hsum(v)   horizontal max / sum of one element
//   lanes(c)           the vocabulary ids held by element c
//   at(e)              the scalar logit at flat index e (row * vocab + id)
//   nanOf(x)           a quiet NaN (built at run time: WGSL rejects a constant NaN)
import { expectRank } from "./checks.ts";
import type { BufferDecl } from "./kernel.ts";
import type { Tensor } from "./tensor.ts";

export type RowWidth = 1 | 4;

/** The widest element that tiles a row of `vocab` logits. */
export function rowWidth(vocab: number): RowWidth {
  return vocab % 4 === 0 ? 4 : 1;
}

/** How a kernel declares the logits binding (and other [rows, vocab] bindings) for width `w`. */
export function rowDecl(w: RowWidth, write = false): BufferDecl {
  return `${w === 4 ? "vec4f" : "f32"}${write ? " write" : ""}`;
}

/** The prelude for width `w`; `logits` names the binding that `at()` reads. */
export function rowPrelude(w: RowWidth, logits = "logits"): string {
  const common = `fn nanOf(x: u32) -> f32 { return bitcast<f32>(0x7fc00000u | (x & 0u)); }\n`;
  if (w === 4) {
    return `${common}alias V = vec4f;
alias U = vec4u;
fn hmax(v: vec4f) -> f32 { return max(max(v.x, v.y), max(v.z, v.w)); }
fn hsum(v: vec4f) -> f32 { return (v.x + v.y) + (v.z + v.w); }
fn lanes(c: u32) -> vec4u { return vec4u(4u * c) + vec4u(0u, 1u, 2u, 3u); }
fn at(e: u32) -> f32 { return ${logits}[e / 4u][e % 4u]; }
`;
  }
  return `${common}alias V = f32;
alias U = u32;
fn hmax(v: f32) -> f32 { return v; }
fn hsum(v: f32) -> f32 { return v; }
fn lanes(c: u32) -> u32 { return c; }
fn at(e: u32) -> f32 { return ${logits}[e]; }
`;
}

/** Checks that `logits` is f32 [rows, vocab] and returns both sizes. */
export function rowsOf(op: string, logits: Tensor): { rows: number; vocab: number } {
  if (logits.dtype !== "f32") throw new Error(`${op}: logits must be f32, got ${logits.describe()}`);
  const [rows, vocab] = expectRank(op, "logits", logits, 2, "[rows, vocab]");
  return { rows, vocab };
}
