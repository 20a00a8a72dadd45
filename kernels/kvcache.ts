// KV cache append for generation (forward only): writes the keys and values of Tn new tokens of each sequence into
// the layer's cache at that sequence's own position.
//
//   kCache[b, positions[b] + t] = k[b, t]   and the same for v,   for t < Tn
//
// Layouts: caches [B, Tmax, Hkv, D], new rows [B, Tn, Hkv, D] (the layout attention reads). One invocation per vec4
// of the new rows. Positions live on the GPU (the decode attention reads the same tensor), so they cannot be checked
// here: the caller keeps positions[b] + Tn <= Tmax (rows past the end are dropped, never written out of bounds).
import { expectRank, expectTensor, groupsFor } from "./checks.ts";
import { Dispatch, type Kernel } from "./kernel.ts";
import type { Tensor } from "./tensor.ts";

const WG = 64;

const appendKernel: Kernel = {
  name: "kvcache_append",
  params: { total: "u32", tn: "u32", tmax: "u32", rw: "u32" },
  buffers: { k: "vec4f", v: "vec4f", positions: "u32", kCache: "vec4f write", vCache: "vec4f write" },
  code: `
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  if (i >= P.total) { return; }
  let c = i % P.rw;
  let bt = i / P.rw;
  let t = bt % P.tn;
  let b = bt / P.tn;
  let dst = positions[b] + t;
  if (dst >= P.tmax) { return; }
  let j = (b * P.tmax + dst) * P.rw + c;
  kCache[j] = k[i];
  vCache[j] = v[i];
}`,
};

export interface KvAppendArgs {
  /** f32 [B, Tn, Hkv, D]: the new tokens' keys (after RoPE) */
  k: Tensor;
  /** f32 [B, Tn, Hkv, D] */
  v: Tensor;
  /** u32 [B]: cache row of each sequence's first new token */
  positions: Tensor<"u32">;
  /** f32 [B, Tmax, Hkv, D], updated in place */
  kCache: Tensor;
  vCache: Tensor;
}

export function kvCacheAppend(a: KvAppendArgs): Dispatch {
  const op = "kvCacheAppend";
  const [b, tn, hkv, d] = expectRank(op, "k", a.k, 4, "[batch, newTokens, kvHeads, headDim]");
  if (d % 4 !== 0) throw new Error(`${op}: headDim must be a multiple of 4, got ${d}`);
  expectTensor(op, "v", a.v, [b, tn, hkv, d]);
  expectTensor(op, "positions", a.positions, [b], "u32");
  const [, tmax] = expectRank(op, "kCache", a.kCache, 4, "[batch, maxTokens, kvHeads, headDim]");
  expectTensor(op, "kCache", a.kCache, [b, tmax, hkv, d]);
  expectTensor(op, "vCache", a.vCache, [b, tmax, hkv, d]);
  if (tn > tmax) throw new Error(`${op}: ${tn} new tokens do not fit a cache of ${tmax}`);
  const rw = (hkv * d) / 4;
  const total = b * tn * rw;
  return new Dispatch(appendKernel, { ...a }, { total, tn, tmax, rw }, [groupsFor(total, WG)]);
}

/** Plain TS reference: appends into copies of the caches (row-major, same layouts as the kernel). */
export function kvCacheAppendReference(
  cache: { k: Float32Array; v: Float32Array },
  rows: { k: ArrayLike<number>; v: ArrayLike<number> },
  positions: ArrayLike<number>,
  dims: { tn: number; tmax: number; rowSize: number },
): { k: Float32Array; v: Float32Array } {
  const k = cache.k.slice();
  const v = cache.v.slice();
  const { tn, tmax, rowSize } = dims;
  for (let b = 0; b < positions.length; b++) {
    for (let t = 0; t < tn && positions[b] + t < tmax; t++) {
      for (let c = 0; c < rowSize; c++) {
        const src = (b * tn + t) * rowSize + c;
        const dst = (b * tmax + positions[b] + t) * rowSize + c;
        k[dst] = rows.k[src];
        v[dst] = rows.v[src];
      }
    }
  }
  return { k, v };
}
