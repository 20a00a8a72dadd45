// Rotary position embedding, Qwen2/Llama style (rotate_half: dimension i pairs with i + headDim/2).
//
//   const table = ropeTable({ headDim: 64, theta: 1e6, maxPositions: 4096 });   // once per model
//   rope({ x, out, positions, table })              // x, out [rows, heads, headDim]; positions u32 [rows]
//   rope({ x: dy, out: dx, positions, table, inverse: true })                  // the backward (rotate back)
//   d.set({ offset: 17 })                           // decode: position = positions[row] + offset
//
//   out[i]        = x[i]·cos − x[i+h]·sin          angle = pos · theta^(−2i/headDim), i < h = headDim/2
//   out[i + h]    = x[i+h]·cos + x[i]·sin
// The rotation is orthogonal, so the backward is the same kernel with the angle negated (`inverse`).
// cos/sin come from a table computed once in float64 on the host: exact to fp32 rounding at any position, where
// fp32 sin(pos·freq) on the device loses ~pos·1e-7 of the angle. Positions ≥ maxPositions give NaN.
import { expectRank, expectTensor, groupsFor } from "./checks.ts";
import { Dispatch, type Kernel } from "./kernel.ts";
import { Tensor } from "./tensor.ts";

const WG = 64;

const kernel: Kernel = {
  name: "rope",
  params: { rows: "u32", heads: "u32", half: "u32", maxPos: "u32", offset: "u32", sign: "f32" },
  buffers: { x: "f32", positions: "u32", table: "f32", out: "f32 write" },
  code: `
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let i = gid.x;
  let rh = gid.y + gid.z * nw.y;   // (row, head)
  if (i >= P.half || rh >= P.rows * P.heads) { return; }
  let pos = positions[rh / P.heads] + P.offset;
  let t = 2u * (min(pos, P.maxPos - 1u) * P.half + i);
  let nan = bitcast<f32>(0x7fc00000u | (pos & 0u));
  let c = select(nan, table[t], pos < P.maxPos);
  let s = P.sign * table[t + 1u];
  let base = rh * 2u * P.half;
  let a = x[base + i];
  let b = x[base + i + P.half];
  out[base + i] = a * c - b * s;
  out[base + i + P.half] = b * c + a * s;
}`,
};

export interface RopeTableArgs {
  readonly headDim: number;
  /** Qwen2: 1e6 (rope_theta in config.json); Llama 2: 1e4. */
  readonly theta: number;
  readonly maxPositions: number;
}

/** f32 [maxPositions, headDim/2, 2]: (cos, sin) of every position and frequency, computed in float64. */
export function ropeTable({ headDim, theta, maxPositions }: RopeTableArgs): Tensor {
  if (!Number.isInteger(headDim) || headDim < 2 || headDim % 2 !== 0) throw new Error(`ropeTable: headDim must be even, got ${headDim}`);
  if (!(theta > 0)) throw new Error(`ropeTable: theta must be > 0, got ${theta}`);
  const half = headDim / 2;
  const data = new Float32Array(maxPositions * half * 2);
  for (let p = 0; p < maxPositions; p++) {
    for (let i = 0; i < half; i++) {
      const angle = p * theta ** ((-2 * i) / headDim);
      data[(p * half + i) * 2] = Math.cos(angle);
      data[(p * half + i) * 2 + 1] = Math.sin(angle);
    }
  }
  return Tensor.from(data, [maxPositions, half, 2], "f32", "rope table");
}

export interface RopeArgs {
  /** f32 [rows, heads, headDim]. */
  readonly x: Tensor;
  readonly out: Tensor;
  /** u32 [rows]: position of each row (before `offset`). */
  readonly positions: Tensor;
  readonly table: Tensor;
  /** Added to every position (decode: the cache length); a uniform, change it with `set({ offset })`. */
  readonly offset?: number;
  /** Rotate by −angle: the backward pass. */
  readonly inverse?: boolean;
}

export function rope({ x, out, positions, table, offset = 0, inverse = false }: RopeArgs): Dispatch {
  const [rows, heads, headDim] = expectRank("rope", "x", x, 3, "[rows, heads, headDim]");
  const [maxPos, half] = expectRank("rope", "table", table, 3, "[maxPositions, headDim/2, 2]");
  if (half * 2 !== headDim) throw new Error(`rope: table is for headDim ${half * 2}, x has headDim ${headDim}`);
  expectTensor("rope", "out", out, [rows, heads, headDim]);
  expectTensor("rope", "positions", positions, [rows], "u32");
  expectTensor("rope", "table", table, [maxPos, half, 2]);
  const pairs = rows * heads;
  const y = Math.min(pairs, 65535);
  return new Dispatch(
    kernel,
    { x, positions, table, out },
    { rows, heads, half, maxPos, offset, sign: inverse ? -1 : 1 },
    [groupsFor(half, WG), y, Math.ceil(pairs / y)],
  );
}

// ---- reference ------------------------------------------------------------------------------------------------

export function ropeReference(
  x: ArrayLike<number>,
  positions: ArrayLike<number>,
  heads: number,
  headDim: number,
  theta: number,
  offset = 0,
  inverse = false,
): Float64Array {
  const half = headDim / 2;
  const out = new Float64Array(x.length);
  for (let r = 0; r < positions.length; r++) {
    for (let h = 0; h < heads; h++) {
      const base = (r * heads + h) * headDim;
      for (let i = 0; i < half; i++) {
        const angle = (positions[r] + offset) * theta ** ((-2 * i) / headDim) * (inverse ? -1 : 1);
        const [c, s] = [Math.cos(angle), Math.sin(angle)];
        out[base + i] = x[base + i] * c - x[base + i + half] * s;
        out[base + i + half] = x[base + i + half] * c + x[base + i] * s;
      }
    }
  }
  return out;
}
