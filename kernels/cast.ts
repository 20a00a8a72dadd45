// f32 → f16 on the device: the refresh of an f16 weight copy from its f32 master after each optimizer step.
//
//   castHalf({ x: master, y: copy })     // y = f16(x): x f32, y f16, one shape
//
// Bit for bit half.ts' f32ToHalf (its reference): round to nearest even, subnormals kept, a finite value past ±65504
// to ±infinity, and every NaN the quiet 0x7e00 (a NaN reaches f32ToHalf as a JS number, which has no sign or payload).
// WGSL's own f32 → f16 conversion leaves the rounding to the implementation and an overflow indeterminate, so the
// kernel does the integer arithmetic itself. An overflowing master is no error here (a kernel cannot throw): the next
// forward computes with the infinity, its gradient norm is not finite, and Policy.step skips that update.
// One invocation converts 4 elements: every f32 and f16 buffer holds whole vec4s (tensor.ts rounds to 16 bytes).
import { expectTensor } from "./checks.ts";
import { Dispatch, linearGrid, type Kernel } from "./kernel.ts";
import type { Tensor } from "./tensor.ts";

const WG = 64;

const kernel: Kernel = {
  name: "cast_f32_f16",
  params: { n: "u32" },
  buffers: { x: "vec4f", y: "vec4h write" },
  code: `
fn half(value: f32) -> u32 {
  let x = bitcast<u32>(value);
  let sign = (x >> 16u) & 0x8000u;
  let biased = (x >> 23u) & 0xffu;
  var mant = x & 0x7fffffu;
  if (biased == 0xffu) { return select(sign | 0x7c00u, 0x7e00u, mant != 0u); }
  let e = i32(biased) - 112;
  if (e >= 31) { return sign | 0x7c00u; }
  if (e <= 0) {
    if (e < -10) { return sign; }
    mant = mant | 0x800000u;
    let shift = u32(14 - e);
    return sign | ((mant + (1u << (shift - 1u)) - 1u + ((mant >> shift) & 1u)) >> shift);
  }
  return (sign | (u32(e) << 10u)) + ((mant + 0xfffu + ((mant >> 13u) & 1u)) >> 13u);
}
fn pair(a: f32, b: f32) -> vec2h { return bitcast<vec2h>(half(a) | (half(b) << 16u)); }
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let i = gid.x + gid.y * nw.x * ${WG}u;
  if (i >= P.n) { return; }
  let v = x[i];
  y[i] = vec4h(pair(v.x, v.y), pair(v.z, v.w));
}`,
};

export interface CastHalfArgs {
  /** f32, any shape. */
  readonly x: Tensor;
  /** f16, x's shape. */
  readonly y: Tensor;
}

/** y = x rounded to f16 as f32ToHalf rounds it. */
export function castHalf({ x, y }: CastHalfArgs): Dispatch {
  expectTensor("castHalf", "x", x, x.shape);
  expectTensor("castHalf", "y", y, x.shape, "f16");
  const groups = Math.ceil(x.size / 4);
  return new Dispatch(kernel, { x, y }, { n: groups }, linearGrid(groups, WG));
}
