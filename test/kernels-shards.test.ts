// Row shards under a forced binding limit, against the float64 references: the linear layer and both its gradients
// through matmul column blocks (both matmul variants, vec4-aligned and scalar widths), the embedding lookup (a bad
// id still gives NaN) and its gradient per shard, and a tensor over the limit refused by name.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import {
  capBindingLimit,
  embeddingBackward,
  embeddingBackwardReference,
  embeddingReference,
  embeddingShards,
  getGpu,
  linear,
  linearGradInput,
  linearGradWeight,
  type MatmulVariant,
  matmulReference,
  RowShards,
  run,
  shardRows,
  Tensor,
} from "../kernels/index.ts";
import { ints, normals, rng, seedNote, TEST_SEED } from "./support/random-inputs.ts";
import { expectClose as expectWithin, type Tolerance } from "./support/close.ts";
import { SLOW_TEST_MS } from "./support/timeouts.ts";

setDefaultTimeout(SLOW_TEST_MS);

const LIMIT = 4096;
// fp32 dot products of at most 24 terms: ~1e-7 expected.
const BOUND = 1e-5;
const next = rng(TEST_SEED);

beforeAll(async () => {
  await getGpu();
  capBindingLimit(LIMIT);
});
afterAll(() => capBindingLimit(undefined));

// f32 kernels against float64 references, element by element: matmuls (as in kernels-matmul) sum K products in
// f32; the embedding lookup copies exactly and its gradient sums a few rows.
const TOL: Record<"matmul" | "lookup" | "gradient", Tolerance> = {
  matmul: { abs: 1e-5, rel: 1e-5 },
  lookup: { abs: 0, rel: 0 },
  gradient: { abs: 1e-6, rel: 1e-6 },
};

function expectClose(name: string, ours: ArrayLike<number>, ref: ArrayLike<number>, tol: Tolerance): void {
  expectWithin(name, ours, ref, tol, seedNote);
}

test("shard sizes: a multiple of 4 rows under the limit, as even as that allows", () => {
  expect(shardRows(72, 20, LIMIT)).toBe(36); // 51 rows fit, 48 aligned, two shards of 36
  expect(shardRows(10, 20, LIMIT)).toBe(10);
  expect(shardRows(1000, 1, LIMIT)).toBe(1000);
  expect(() => shardRows(8, 300, LIMIT)).toThrow(/does not fit 4 rows per binding of 4096 bytes/);
});

// [out, in] weights: 72 rows of width 20 (vec4-aligned column blocks of 36) and 70 rows of width 15 (scalar, 36 + 34).
const SHAPES = [
  { n: 9, out: 72, inF: 20 },
  { n: 5, out: 70, inF: 15 },
];
const VARIANTS: MatmulVariant[] = ["rbv8x8", "tiled"];

for (const variant of VARIANTS) {
  describe(`linear over row shards (${variant})`, () => {
    for (const { n, out, inF } of SHAPES) {
      test(`[${n}, ${inF}] x [${out}, ${inF}]^T and both gradients`, async () => {
        const xs = normals(next, n * inF);
        const ws = normals(next, out * inF);
        const dys = normals(next, n * out);
        const w = RowShards.from(ws, [out, inF], "w");
        const dw = RowShards.zeros([out, inF], "dw");
        expect(w.shards.length).toBeGreaterThanOrEqual(2);
        const x = Tensor.from(xs, [n, inF]);
        const y = Tensor.zeros([n, out]);
        const dy = Tensor.from(dys, [n, out]);
        const dx = Tensor.zeros([n, inF]);
        for (const t of [y, dx]) t.poison();
        run(...linear({ x, w, y, variant }), ...linearGradInput({ dy, w, dx, variant }), ...linearGradWeight({ dy, x, dw, variant }));
        expectClose("y", await y.read(), matmulReference(xs, ws, { batch: 1, M: n, N: out, K: inF }, { transB: true }), TOL.matmul);
        expectClose("dx", await dx.read(), matmulReference(dys, ws, { batch: 1, M: n, N: inF, K: out }), TOL.matmul);
        expectClose("dw", await dw.read(), matmulReference(dys, xs, { batch: 1, M: out, N: inF, K: n }, { transA: true }), TOL.matmul);
        for (const t of [x, y, dy, dx]) t.destroy();
        w.destroy();
        dw.destroy();
      });
    }
  });
}

test("embedding lookup and gradient per shard; an id past the vocabulary gives a NaN row", async () => {
  const V = 150;
  const D = 12; // 48-byte rows: 85 fit, 84 aligned, two shards of 76 and 74
  const T = 40;
  const table = normals(next, V * D);
  const ids = ints(next, T, V);
  ids[7] = V + 3;
  ids[8] = ids[9]; // a repeated id sums its positions
  const dOuts = normals(next, T * D);
  const shards = RowShards.from(table, [V, D], "table");
  const dTable = RowShards.zeros([V, D], "dTable");
  expect(shards.shards.map((s) => s.rows)).toEqual([76, 74]);
  const idsT = Tensor.from(ids, [T], "u32");
  const out = Tensor.zeros([T, D]);
  out.poison();
  const dOut = Tensor.from(dOuts, [T, D]);
  run(...embeddingShards({ ids: idsT, table: shards, out }), ...embeddingBackward({ ids: idsT, dOut, dTable }));
  const got = await out.read();
  const ref = embeddingReference(ids, table, V, D);
  expect(got.subarray(7 * D, 8 * D).every(Number.isNaN)).toBe(true);
  for (let d = 0; d < D; d++) got[7 * D + d] = ref[7 * D + d] = 0;
  expectClose("lookup", got, ref, TOL.lookup);
  expectClose("gradient", await dTable.read(), embeddingBackwardReference(ids, dOuts, V, D), TOL.gradient);
});

test("a single tensor over the limit is refused, naming the limit and the way out", () => {
  expect(() => Tensor.zeros([40, 40], "f32", "big")).toThrow(/tensor big\[40,40\] needs 6400 bytes, over this adapter's binding limit 4096 .*RowShards/);
  const w = RowShards.zeros([72, 20], "sharded");
  expect(() => w.whole()).toThrow(/sharded f32\[72,20\] in 2 row shards is split into 2 shards \(binding limit 4096 bytes\); this op needs it whole/);
  w.destroy();
});
