// Embedding lookup and its gradient.
//
//   embedding({ ids, table, out })                       // out[t, :] = table[ids[t], :]   (ids u32 [T], table [V, D])
//   embeddingBackward({ ids, dOut, dTable })             // dTable[v, :] = Σ_{t : ids[t] = v} dOut[t, :]
//
// An id outside [0, V) gives a NaN row in the forward (a bad id cannot pass unnoticed) and no gradient.
// The gradient avoids float atomics and stays bitwise reproducible: (1) each position t finds its rank in the
// order (ids[t], t) by counting — O(T²) comparisons, a few ms for T = 2048 — and scatters itself to that rank,
// giving the positions sorted by id; (2) each vocabulary row binary-searches its run of positions and sums them,
// column by column, in position order. Rows with no occurrence get zero (or keep their value when accumulating, e.g. a
// tied output head's gradient written first by a matmul).
import { expectRank, expectTensor, groupsFor } from "./checks.ts";
import { Dispatch, linearGrid, type Kernel } from "./kernel.ts";
import { Tensor } from "./tensor.ts";

const WG = 64;

const forwardKernel: Kernel = {
  name: "embedding_forward",
  params: { T: "u32", V: "u32", D: "u32" },
  buffers: { ids: "u32", table: "f32", out: "f32 write" },
  code: `
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3u) {
  let d = gid.x;
  let t = gid.y;
  if (d >= P.D || t >= P.T) { return; }
  let id = ids[t];
  let nan = bitcast<f32>(0x7fc00000u | (id & 0u));
  out[t * P.D + d] = select(nan, table[min(id, P.V - 1u) * P.D + d], id < P.V);
}`,
};

const sortKernel: Kernel = {
  name: "embedding_sort_positions",
  params: { T: "u32" },
  buffers: { ids: "u32", sortedIds: "u32 write", sortedPos: "u32 write" },
  code: `
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3u) {
  let t = gid.x;
  if (t >= P.T) { return; }
  let id = ids[t];
  var rank = 0u;
  for (var s = 0u; s < P.T; s++) {
    let o = ids[s];
    rank += u32(o < id || (o == id && s < t));
  }
  sortedIds[rank] = id;
  sortedPos[rank] = t;
}`,
};

const gatherKernel: Kernel = {
  name: "embedding_backward",
  params: { T: "u32", V: "u32", D: "u32", acc: "u32" },
  buffers: { sortedIds: "u32", sortedPos: "u32", dOut: "f32", dTable: "f32 write" },
  code: `
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let v = gid.x + gid.y * nw.x * ${WG}u;
  if (v >= P.V) { return; }
  // This row's run of ranks: [lo, hi).
  var lo = 0u;
  var hi = P.T;
  while (lo < hi) {
    let mid = (lo + hi) / 2u;
    if (sortedIds[mid] < v) { lo = mid + 1u; } else { hi = mid; }
  }
  hi = lo;
  while (hi < P.T && sortedIds[hi] == v) { hi++; }
  for (var d = 0u; d < P.D; d++) {
    var s = 0.0;
    for (var r = lo; r < hi; r++) { s += dOut[sortedPos[r] * P.D + d]; }
    let o = v * P.D + d;
    dTable[o] = select(s, dTable[o] + s, P.acc != 0u);
  }
}`,
};

export interface EmbeddingArgs {
  /** u32 [T] token ids. */
  readonly ids: Tensor;
  /** f32 [V, D]. */
  readonly table: Tensor;
  /** f32 [T, D]. */
  readonly out: Tensor;
}

export function embedding({ ids, table, out }: EmbeddingArgs): Dispatch {
  const [T] = expectRank("embedding", "ids", ids, 1, "[T]");
  const [V, D] = expectRank("embedding", "table", table, 2, "[V, D]");
  expectTensor("embedding", "ids", ids, [T], "u32");
  expectTensor("embedding", "table", table, [V, D]);
  expectTensor("embedding", "out", out, [T, D]);
  return new Dispatch(forwardKernel, { ids, table, out }, { T, V, D }, [groupsFor(D, WG), T]);
}

export interface EmbeddingBackwardArgs {
  readonly ids: Tensor;
  /** f32 [T, D]: gradient of the lookup's output. */
  readonly dOut: Tensor;
  /** f32 [V, D]. */
  readonly dTable: Tensor;
  /** dTable += … instead of dTable = …. */
  readonly accumulate?: boolean;
}

/** Two dispatches (sort positions by id, then per-row sums); owns two u32 [T] scratch tensors. */
export function embeddingBackward({ ids, dOut, dTable, accumulate = false }: EmbeddingBackwardArgs): Dispatch[] {
  const [T] = expectRank("embeddingBackward", "ids", ids, 1, "[T]");
  const [V, D] = expectRank("embeddingBackward", "dTable", dTable, 2, "[V, D]");
  expectTensor("embeddingBackward", "ids", ids, [T], "u32");
  expectTensor("embeddingBackward", "dOut", dOut, [T, D]);
  expectTensor("embeddingBackward", "dTable", dTable, [V, D]);
  const sortedIds = Tensor.zeros([T], "u32", "embedding sorted ids");
  const sortedPos = Tensor.zeros([T], "u32", "embedding sorted positions");
  return [
    new Dispatch(sortKernel, { ids, sortedIds, sortedPos }, { T }, [groupsFor(T, WG)]),
    new Dispatch(
      gatherKernel,
      { sortedIds, sortedPos, dOut, dTable },
      { T, V, D, acc: accumulate ? 1 : 0 },
      linearGrid(V, WG),
    ),
  ];
}

// ---- references -----------------------------------------------------------------------------------------------

export function embeddingReference(ids: ArrayLike<number>, table: ArrayLike<number>, V: number, D: number): Float64Array {
  const out = new Float64Array(ids.length * D);
  for (let t = 0; t < ids.length; t++) {
    for (let d = 0; d < D; d++) out[t * D + d] = ids[t] < V ? table[ids[t] * D + d] : NaN;
  }
  return out;
}

export function embeddingBackwardReference(ids: ArrayLike<number>, dOut: ArrayLike<number>, V: number, D: number): Float64Array {
  const dTable = new Float64Array(V * D);
  for (let t = 0; t < ids.length; t++) {
    if (ids[t] >= V) continue;
    for (let d = 0; d < D; d++) dTable[ids[t] * D + d] += dOut[t * D + d];
  }
  return dTable;
}
