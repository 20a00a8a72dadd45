// Embedding lookup and its gradient.
//
//   embedding({ ids, table, out })                       // out[t, :] = table[ids[t], :]   (ids u32 [T], table [V, D])
//   embeddingBackward({ ids, dOut, dTable })             // dTable[v, :] = Σ_{t : ids[t] = v} dOut[t, :]
//   embeddingShards / embeddingBackward with a RowShards table: one dispatch per shard, each handling the ids in its rows
//
// The lookup's table may be f16 (a half-precision embedding; each value widens to f32 exactly); the output and the
// gradient are f32. An id outside [0, V) gives a NaN row in the forward (a bad id cannot pass unnoticed) and no gradient.
// The gradient avoids float atomics and stays bitwise reproducible: (1) each position t finds its rank in the
// order (ids[t], t) by counting — O(T²) comparisons, a few ms for T = 2048 — and scatters itself to that rank,
// giving the positions sorted by id; (2) each vocabulary row binary-searches its run of positions and sums them,
// column by column, in position order. Rows with no occurrence get zero (or keep their value when accumulating, e.g. a
// tied output head's gradient written first by a matmul).
import { expectRank, expectTensor, groupsFor } from "./checks.ts";
import { Dispatch, linearGrid, type Kernel } from "./kernel.ts";
import { RowShards } from "./shards.ts";
import { allocate, type Allocator, type Tensor } from "./tensor.ts";

const WG = 64;

const forwardKernel = (table: "f32" | "f16"): Kernel => ({
  name: `embedding_forward${table === "f16" ? "_h" : ""}`,
  // This table holds rows [start, start + V) of a vocabulary of `total`; the shard at start 0 also writes the NaN rows.
  params: { T: "u32", V: "u32", D: "u32", start: "u32", total: "u32" },
  buffers: { ids: "u32", table, out: "f32 write" },
  code: `
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3u) {
  let d = gid.x;
  let t = gid.y;
  if (d >= P.D || t >= P.T) { return; }
  let id = ids[t];
  let local = id - P.start;
  let mine = id >= P.start && local < P.V;
  let bad = id >= P.total && P.start == 0u;
  if (!mine && !bad) { return; }
  let nan = bitcast<f32>(0x7fc00000u | (id & 0u));
  out[t * P.D + d] = select(nan, f32(table[min(local, P.V - 1u) * P.D + d]), mine);
}`,
});

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
  // dTable holds rows [start, start + V) of the vocabulary.
  params: { T: "u32", V: "u32", D: "u32", acc: "u32", start: "u32" },
  buffers: { sortedIds: "u32", sortedPos: "u32", dOut: "f32", dTable: "f32 write" },
  code: `
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let local = gid.x + gid.y * nw.x * ${WG}u;
  if (local >= P.V) { return; }
  let v = P.start + local;
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
    let o = local * P.D + d;
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
  const [V] = expectRank("embedding", "table", table, 2, "[V, D]");
  return lookup(ids, table, 0, V, out);
}

export interface EmbeddingShardsArgs {
  readonly ids: Tensor;
  /** [V, D] in row shards. */
  readonly table: RowShards;
  readonly out: Tensor;
}

/** The lookup over a table split into row shards: each shard's dispatch writes the positions whose id it holds. */
export function embeddingShards({ ids, table, out }: EmbeddingShardsArgs): Dispatch[] {
  return table.shards.map((s) => lookup(ids, s.tensor, s.start, table.shape[0], out));
}

/** The lookup of the ids that fall in `table`, rows [start, start + V) of a vocabulary of `total`. */
function lookup(ids: Tensor, table: Tensor, start: number, total: number, out: Tensor): Dispatch {
  const [T] = expectRank("embedding", "ids", ids, 1, "[T]");
  const [V, D] = expectRank("embedding", "table", table, 2, "[V, D]");
  expectTensor("embedding", "ids", ids, [T], "u32");
  if (table.dtype !== "f32" && table.dtype !== "f16") throw new Error(`embedding: table must be f32 or f16, got ${table.describe()}`);
  expectTensor("embedding", "out", out, [T, D]);
  return new Dispatch(forwardKernel(table.dtype), { ids, table, out }, { T, V, D, start, total }, [groupsFor(D, WG), T]);
}

export interface EmbeddingBackwardArgs {
  readonly ids: Tensor;
  /** f32 [T, D]: gradient of the lookup's output. */
  readonly dOut: Tensor;
  /** f32 [V, D], whole or in row shards. */
  readonly dTable: Tensor | RowShards;
  /** dTable += … instead of dTable = …. */
  readonly accumulate?: boolean;
  /** Where its two u32 [T] scratch tensors come from (default: tensors of their own, never freed). */
  readonly alloc?: Allocator;
}

/** Sort positions by id, then per-row sums (one dispatch per shard), over two u32 [T] scratch tensors from `alloc`. */
export function embeddingBackward({ ids, dOut, dTable, accumulate = false, alloc = allocate }: EmbeddingBackwardArgs): Dispatch[] {
  if (!(dTable instanceof RowShards)) expectRank("embeddingBackward", "dTable", dTable, 2, "[V, D]");
  const table = dTable instanceof RowShards ? dTable : RowShards.of(dTable);
  const [T] = expectRank("embeddingBackward", "ids", ids, 1, "[T]");
  expectTensor("embeddingBackward", "ids", ids, [T], "u32");
  if (table.shape.length !== 2) throw new Error(`embeddingBackward: dTable must be [V, D], got ${table.describe()}`);
  const D = table.shape[1];
  expectTensor("embeddingBackward", "dOut", dOut, [T, D]);
  const sortedIds = alloc([T], "u32", "embedding sorted ids");
  const sortedPos = alloc([T], "u32", "embedding sorted positions");
  return [
    new Dispatch(sortKernel, { ids, sortedIds, sortedPos }, { T }, [groupsFor(T, WG)]),
    ...table.shards.map(
      (s) =>
        new Dispatch(
          gatherKernel,
          { sortedIds, sortedPos, dOut, dTable: s.tensor },
          { T, V: s.rows, D, acc: accumulate ? 1 : 0, start: s.start },
          linearGrid(s.rows, WG),
        ),
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
