// Linear-layer bias (bias.ts): in-place add and its column-sum gradient against PyTorch float64 autograd.
import { beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { addBias, addBiasReference, biasBackward, biasBackwardReference, getGpu, run, Tensor } from "../kernels/index.ts";
import { expectThreeWay } from "./support/close.ts";
import { normals, rng, seedNote, TEST_SEED } from "./support/random-inputs.ts";
import { arr, runTorch } from "./support/torch.ts";
import { SLOW_TEST_MS } from "./support/timeouts.ts";

setDefaultTimeout(SLOW_TEST_MS);

// One fp32 add per element: half an ulp of the result. Column sums of up to 300 O(1) terms: the rounding grows with
// the terms' magnitude (~√300 · 6e-8 · 1), not the sum's, hence the absolute slack.
const TOL = { y: { abs: 1e-6, rel: 1e-6 }, dBias: { abs: 1e-5, rel: 1e-5 } };

beforeAll(async () => {
  await getGpu();
});

test.each([
  [3, 5],
  [300, 64],
])("R=%i N=%i: y + bias and dBias (plain and accumulating) match torch", async (R, N) => {
  const next = rng(TEST_SEED + R + N);
  const [y0, b, g, prior] = [normals(next, R * N), normals(next, N), normals(next, R * N), normals(next, N)];
  const y = Tensor.from(y0, [R, N]);
  const dy = Tensor.from(g, [R, N]);
  const dBias = Tensor.zeros([N]);
  dBias.poison();
  const dBiasAcc = Tensor.from(prior, [N]);
  run(addBias({ y, bias: Tensor.from(b, [N]) }), biasBackward({ dy, dBias }), biasBackward({ dy, dBias: dBiasAcc, accumulate: true }));
  const ref = runTorch(
    `
b = inp["b"].requires_grad_(True)
y = inp["y"] + b
(y * inp["g"]).sum().backward()
out["y"], out["db"] = y, b.grad
`,
    { y: arr(y0, [R, N]), b: arr(b, [N]), g: arr(g, [R, N]) },
  );
  const dBiasRef = biasBackwardReference(g, N);
  expectThreeWay("y", { wgsl: await y.read(), reference: addBiasReference(y0, b), torch: ref.y.data }, TOL.y, seedNote);
  expectThreeWay("dBias", { wgsl: await dBias.read(), reference: dBiasRef, torch: ref.db.data }, TOL.dBias, seedNote);
  const plusPrior = (col: ArrayLike<number>) => Array.from(col, (v, i) => v + prior[i]);
  expectThreeWay("dBias accumulated", { wgsl: await dBiasAcc.read(), reference: plusPrior(dBiasRef), torch: plusPrior(ref.db.data) }, TOL.dBias, seedNote);
});

test("a bias of the wrong width is rejected", () => {
  expect(() => addBias({ y: Tensor.zeros([2, 3]), bias: Tensor.zeros([2]) })).toThrow("bias must be f32[3], got f32[2]");
});
