// Argument checks shared by the op wrappers: each names the op and the operand, so a wrong call says what to fix.
import type { DType, Tensor } from "./tensor.ts";

/** Throws unless `t` has exactly the shape `want` and the dtype `dtype`. */
export function expectTensor(op: string, name: string, t: Tensor, want: readonly number[], dtype: DType = "f32"): void {
  if (t.dtype !== dtype || t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
    throw new Error(`${op}: ${name} must be ${dtype}[${want}], got ${t.describe()}`);
  }
}

/** Throws unless `t` has `rank` dimensions (returns the shape for destructuring). */
export function expectRank(op: string, name: string, t: Tensor, rank: number, layout: string): readonly number[] {
  if (t.shape.length !== rank || t.shape.some((d) => d < 1)) {
    throw new Error(`${op}: ${name} must be ${layout} (all dims >= 1), got ${t.describe()}`);
  }
  return t.shape;
}

/** Workgroups of `size` invocations covering `n` items along x. */
export function groupsFor(n: number, size: number): number {
  return Math.ceil(n / size);
}
