// Embedding lookup and its deterministic gradient (embedding.ts) against PyTorch float64.
import { beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { getGpu, run, Tensor } from "../kernels/index.ts";
import { embedding, embeddingBackward, embeddingBackwardReference, embeddingReference } from "../kernels/embedding.ts";
import { expectThreeWay } from "./support/close.ts";
import { ints, normals, rng, seedNote, TEST_SEED } from "./support/random-inputs.ts";
import { arr, runTorch } from "./support/torch.ts";
import { SLOW_TEST_MS } from "./support/timeouts.ts";

setDefaultTimeout(SLOW_TEST_MS);

// The forward copies (exact); the gradient sums at most T = 64 O(1) terms per element in fp32 (~√64 · 6e-8 each).
const TOL = { y: { abs: 0, rel: 0 }, dTable: { abs: 1e-6, rel: 1e-6 } };

const TORCH = `
table = inp["table"].requires_grad_(True)
ids = torch.tensor(inp["ids"], dtype=torch.long)
y = torch.nn.functional.embedding(ids, table)
(y * inp["g"]).sum().backward()
out["y"], out["dtable"] = y, table.grad
`;

beforeAll(async () => {
  await getGpu();
});

// [tokens, vocab, dim]: repeated ids (vocab < tokens), odd sizes, and a vocabulary larger than the token count.
const SHAPES: [number, number, number][] = [
  [37, 11, 13],
  [64, 300, 32],
];

test.each(SHAPES)("T=%i V=%i D=%i: lookup and gradient match torch; gradient is bitwise reproducible", async (T, V, D) => {
  const next = rng(TEST_SEED + T * 131 + V);
  const table = normals(next, V * D);
  const ids = ints(next, T, V);
  ids[T - 1] = ids[0]; // at least one repeat
  const g = normals(next, T * D);
  const tIds = Tensor.from(ids, [T], "u32");
  const tTable = Tensor.from(table, [V, D]);
  const y = Tensor.zeros([T, D]);
  const dOut = Tensor.from(g, [T, D]);
  const [d1, d2] = [Tensor.zeros([V, D]), Tensor.zeros([V, D])];
  for (const t of [y, d1, d2]) t.poison();
  run(
    embedding({ ids: tIds, table: tTable, out: y }),
    ...embeddingBackward({ ids: tIds, dOut, dTable: d1 }),
    ...embeddingBackward({ ids: tIds, dOut, dTable: d2 }),
  );
  const ref = runTorch(TORCH, { table: arr(table, [V, D]), ids: Array.from(ids), g: arr(g, [T, D]) });
  const [r1, r2] = [await d1.read(), await d2.read()];
  expectThreeWay("y", { wgsl: await y.read(), reference: embeddingReference(ids, table, V, D), torch: ref.y.data }, TOL.y, seedNote);
  const dTableRef = embeddingBackwardReference(ids, g, V, D);
  expectThreeWay("dTable", { wgsl: r1, reference: dTableRef, torch: ref.dtable.data }, TOL.dTable, seedNote);
  expect(Buffer.from(r1.buffer).equals(Buffer.from(r2.buffer))).toBe(true);
});

test("accumulate adds onto the table gradient; an out-of-range id gives a NaN row and no gradient", async () => {
  const [T, V, D] = [3, 4, 8];
  const tIds = Tensor.from([1, 9, 1], [T], "u32");
  const y = Tensor.zeros([T, D]);
  const dTable = Tensor.from(new Float32Array(V * D).fill(0.5), [V, D]);
  run(
    embedding({ ids: tIds, table: Tensor.from(new Float32Array(V * D).fill(2), [V, D]), out: y }),
    ...embeddingBackward({ ids: tIds, dOut: Tensor.from(new Float32Array(T * D).fill(1), [T, D]), dTable, accumulate: true }),
  );
  const rows = await y.read();
  expect(Array.from(rows.subarray(0, D))).toEqual(new Array(D).fill(2));
  expect(rows.subarray(D, 2 * D).every(Number.isNaN)).toBe(true);
  const grad = await dTable.read();
  expect(Array.from(grad.subarray(D, 2 * D))).toEqual(new Array(D).fill(2.5)); // row 1: 0.5 + two ones
  expect(Array.from(grad.subarray(0, D))).toEqual(new Array(D).fill(0.5));
});

test("ids must be u32 [T] and the output [T, D]", () => {
  const table = Tensor.zeros([4, 8]);
  expect(() => embedding({ ids: Tensor.zeros([3]), table, out: Tensor.zeros([3, 8]) })).toThrow("ids must be u32[3], got f32[3]");
  expect(() => embedding({ ids: Tensor.zeros([3], "u32"), table, out: Tensor.zeros([3, 4]) })).toThrow("out must be f32[3,8]");
});
