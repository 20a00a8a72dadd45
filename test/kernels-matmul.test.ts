// Matmul (every variant, every transposition, plain and batched) forward and backward against PyTorch float64.
import { beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { fromHalf, getGpu, run, Tensor, toHalf } from "../kernels/index.ts";
import { matmul, matmulBackward, matmulReference, type MatmulVariant } from "../kernels/matmul.ts";
import { expectClose, expectThreeWay } from "./support/close.ts";
import { normals, rng, seedNote, TEST_SEED } from "./support/random-inputs.ts";
import { arr, runTorch, type RefArray } from "./support/torch.ts";
import { SLOW_TEST_MS } from "./support/timeouts.ts";

setDefaultTimeout(SLOW_TEST_MS);

// fp32 dot products of up to 68 terms of O(1) values: the rounding, ~√68 · 6e-8 per unit of the terms, does not shrink
// with the sum (cancellation), hence the absolute slack beside the relative one; ~1e-6 is seen, 1e-5 allowed.
const TOL = { abs: 1e-5, rel: 1e-5 };
const VARIANTS: MatmulVariant[] = ["rbv8x8", "tiled"];

interface Case {
  readonly batch: number;
  readonly M: number;
  readonly N: number;
  readonly K: number;
  readonly transA: boolean;
  readonly transB: boolean;
}
// Tile multiples; no multiple of anything (rbv8x8 binds every operand as f32); batched with rows that are multiples of 4 but
// not of the tiles, and an odd K (rbv8x8 runs its K remainder, reading A as f32 where its rows are K long).
const SIZES = [
  { batch: 1, M: 64, N: 64, K: 64 },
  { batch: 1, M: 37, N: 13, K: 29 },
  { batch: 2, M: 36, N: 68, K: 13 },
  // A few rows, as in a decode step (rbv8x8 narrows its register block to 1, 4 or 8 rows, one row of invocations).
  { batch: 1, M: 1, N: 9, K: 12 },
  { batch: 1, M: 3, N: 21, K: 8 },
  { batch: 2, M: 6, N: 8, K: 12 },
];
// lavapipe JIT-compiles each pipeline on its first dispatch (2-5 s each, cold).
const GPU_TIMEOUT_MS = 60_000;
const CASES: Case[] = SIZES.flatMap((s) =>
  [false, true].flatMap((transA) => [false, true].map((transB) => ({ ...s, transA, transB }))),
);

function stored(c: Case, which: "a" | "b" | "c"): number[] {
  const inner =
    which === "a" ? (c.transA ? [c.K, c.M] : [c.M, c.K]) : which === "b" ? (c.transB ? [c.N, c.K] : [c.K, c.N]) : [c.M, c.N];
  return c.batch > 1 ? [c.batch, ...inner] : inner;
}

interface Inputs {
  readonly a: Float32Array;
  readonly b: Float32Array;
  readonly dc: Float32Array;
}
const next = rng(TEST_SEED);
const inputs: Inputs[] = CASES.map((c) => ({
  a: normals(next, c.batch * c.M * c.K),
  b: normals(next, c.batch * c.K * c.N),
  dc: normals(next, c.batch * c.M * c.N),
}));
let refs: Record<string, RefArray>;

beforeAll(async () => {
  await getGpu();
  const torchInputs: Record<string, RefArray | number[]> = {};
  CASES.forEach((c, i) => {
    torchInputs[`a${i}`] = arr(inputs[i].a, stored(c, "a"));
    torchInputs[`b${i}`] = arr(inputs[i].b, stored(c, "b"));
    torchInputs[`dc${i}`] = arr(inputs[i].dc, stored(c, "c"));
    torchInputs[`t${i}`] = [Number(c.transA), Number(c.transB)];
  });
  refs = runTorch(
    `
i = 0
while f"a{i}" in inp:
    a = inp[f"a{i}"].requires_grad_(True)
    b = inp[f"b{i}"].requires_grad_(True)
    ta, tb = inp[f"t{i}"]
    c = (a.transpose(-1, -2) if ta else a) @ (b.transpose(-1, -2) if tb else b)
    (c * inp[f"dc{i}"]).sum().backward()
    out[f"c{i}"], out[f"da{i}"], out[f"db{i}"] = c, a.grad, b.grad
    i += 1
`,
    torchInputs,
  );
});

describe.each(VARIANTS)("matmul %s", (variant) => {
  test.each(CASES.map((c, i) => [i, c] as const))("case %i %o: forward and both gradients match torch", async (i, c) => {
    const a = Tensor.from(inputs[i].a, stored(c, "a"));
    const b = Tensor.from(inputs[i].b, stored(c, "b"));
    const dc = Tensor.from(inputs[i].dc, stored(c, "c"));
    const out = Tensor.zeros(stored(c, "c"));
    const da = Tensor.zeros(a.shape);
    const db = Tensor.zeros(b.shape);
    for (const t of [out, da, db]) t.poison();
    const flags = { transA: c.transA, transB: c.transB, variant };
    run(matmul({ a, b, c: out, ...flags }), ...matmulBackward({ a, b, dc, da, db, ...flags }));

    const reference = matmulReference(inputs[i].a, inputs[i].b, c, c);
    expectThreeWay("c", { wgsl: await out.read(), reference, torch: refs[`c${i}`].data }, TOL, seedNote);
    expectClose("da", await da.read(), refs[`da${i}`].data, TOL, seedNote);
    expectClose("db", await db.read(), refs[`db${i}`].data, TOL, seedNote);
  }, GPU_TIMEOUT_MS);

  test("accumulate adds to the output, and two runs are bitwise identical", async () => {
    const c = CASES[0]; // 64³, not transposed
    const a = Tensor.from(inputs[0].a, stored(c, "a"));
    const b = Tensor.from(inputs[0].b, stored(c, "b"));
    const base = inputs[0].dc;
    const [acc1, acc2] = [Tensor.from(base, stored(c, "c")), Tensor.from(base, stored(c, "c"))];
    run(matmul({ a, b, c: acc1, accumulate: true, variant }), matmul({ a, b, c: acc2, accumulate: true, variant }));
    const [r1, r2] = [await acc1.read(), await acc2.read()];
    const want = refs.c0.data.map((x, k) => x + base[k]);
    const reference = matmulReference(inputs[0].a, inputs[0].b, c, { ...c, accumulate: true }, base);
    expectThreeWay("accumulated c", { wgsl: r1, reference, torch: want }, TOL, seedNote);
    expect(Buffer.from(r1.buffer).equals(Buffer.from(r2.buffer))).toBe(true);
  }, GPU_TIMEOUT_MS);
});

// f16 B (half-precision weights): each element widens to f32 on load and the sums stay f32, so against torch float64 on
// B rounded to f16 the error is the f32 dot product's alone: TOL as above. Forward and dA = dC·op(B)ᵀ (the two products
// that read a weight); A plain, B plain or transposed, over the vec4, scalar and few-row paths.
const HALF_CASES = CASES.map((c, i) => [i, c] as const).filter(([, c]) => !c.transA);
let halfRefs: Record<string, RefArray>;
beforeAll(() => {
  const torchInputs: Record<string, RefArray | number[]> = {};
  for (const [i, c] of HALF_CASES) {
    torchInputs[`a${i}`] = arr(inputs[i].a, stored(c, "a"));
    torchInputs[`b${i}`] = arr(inputs[i].b, stored(c, "b"));
    torchInputs[`dc${i}`] = arr(inputs[i].dc, stored(c, "c"));
    torchInputs[`t${i}`] = [Number(c.transB)];
  }
  halfRefs = runTorch(
    `
for key in [k for k in inp if k.startswith("a")]:
    i = key[1:]
    b = inp[f"b{i}"].half().double()
    ob = b.transpose(-1, -2) if inp[f"t{i}"][0] else b
    out[f"c{i}"] = inp[f"a{i}"] @ ob
    out[f"da{i}"] = inp[f"dc{i}"] @ ob.transpose(-1, -2)
`,
    torchInputs,
  );
});

describe.each(VARIANTS)("matmul %s with an f16 B", (variant) => {
  test.each(HALF_CASES)("case %i %o: forward and dA match torch on the rounded B", async (i, c) => {
    const bits = toHalf(inputs[i].b, "b");
    const a = Tensor.from(inputs[i].a, stored(c, "a"));
    const b = Tensor.from(bits, stored(c, "b"), "f16");
    const dc = Tensor.from(inputs[i].dc, stored(c, "c"));
    const out = Tensor.zeros(stored(c, "c"));
    const da = Tensor.zeros(a.shape);
    for (const t of [out, da]) t.poison();
    run(matmul({ a, b, c: out, transB: c.transB, variant }), ...matmulBackward({ a, b, dc, da, transB: c.transB, variant }));
    const reference = matmulReference(inputs[i].a, fromHalf(bits), c, c);
    expectThreeWay("c", { wgsl: await out.read(), reference, torch: halfRefs[`c${i}`].data }, TOL, seedNote);
    expectClose("da", await da.read(), halfRefs[`da${i}`].data, TOL, seedNote);
  }, GPU_TIMEOUT_MS);
});

test("shape errors name the operands and the mismatch", () => {
  const a = Tensor.zeros([4, 5]);
  const b = Tensor.zeros([6, 7]);
  expect(() => matmul({ a, b, c: Tensor.zeros([4, 7]) })).toThrow("inner dimensions differ: A gives K=5, B gives K=6");
  expect(() => matmul({ a, b: Tensor.zeros([5, 7]), c: Tensor.zeros([4, 8]) })).toThrow("B has 7 columns, C has 8");
  expect(() => matmul({ a, b, c: Tensor.zeros([4, 7], "u32") })).toThrow("A and C must be f32");
  expect(() => matmul({ a, b: Tensor.zeros([5, 7], "u32"), c: Tensor.zeros([4, 7]) })).toThrow("B must be f32 or f16");
});
