// RMSNorm forward and backward (rmsnorm.ts) against PyTorch float64 autograd.
import { beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { getGpu, run, Tensor } from "../kernels/index.ts";
import { rmsnorm, rmsnormBackward, rmsnormBackwardReference, rmsnormReference } from "../kernels/rmsnorm.ts";
import { expectThreeWay, type Tolerance } from "./support/close.ts";
import { normals, rng, seedNote, TEST_SEED } from "./support/random-inputs.ts";
import { arr, runTorch } from "./support/torch.ts";
import { SLOW_TEST_MS } from "./support/timeouts.ts";

setDefaultTimeout(SLOW_TEST_MS);

// Row sums of up to 256 squares / products in fp32 (x has scale 3): a few ulps of rstd carry into every y and dx of
// the row, and dw sums 70 rows of such products; the absolute part covers elements near zero after cancellation.
const TOL: Record<"y" | "rstd" | "dx" | "dw", Tolerance> = {
  y: { abs: 1e-5, rel: 1e-5 },
  rstd: { abs: 1e-6, rel: 1e-5 },
  dx: { abs: 2e-5, rel: 2e-5 },
  dw: { abs: 2e-5, rel: 2e-5 },
};
const EPS = 1e-6;

const TORCH = `
x = inp["x"].requires_grad_(True)
w = inp["w"].requires_grad_(True)
rstd = torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + inp["eps"])
y = x * rstd * w
(y * inp["g"]).sum().backward()
out["y"], out["rstd"], out["dx"], out["dw"] = y, rstd[:, 0], x.grad, w.grad
`;

beforeAll(async () => {
  await getGpu();
});

const SHAPES: [rows: number, dim: number][] = [
  [7, 13],
  [70, 256],
];

test.each(SHAPES)("rows=%i D=%i: y, rstd, dx and dw match torch (plain and accumulating)", async (R, D) => {
  const next = rng(TEST_SEED + R * 17 + D);
  const x = normals(next, R * D, 3);
  const w = normals(next, D);
  const g = normals(next, R * D);
  const prior = normals(next, R * D);
  const tx = Tensor.from(x, [R, D]);
  const tw = Tensor.from(w, [D]);
  const dy = Tensor.from(g, [R, D]);
  const [y, rstd, dx, dw] = [Tensor.zeros([R, D]), Tensor.zeros([R]), Tensor.zeros([R, D]), Tensor.zeros([D])];
  for (const t of [y, rstd, dx, dw]) t.poison();
  const [dxAcc, dwAcc] = [Tensor.from(prior, [R, D]), Tensor.from(prior.subarray(0, D), [D])];
  run(
    rmsnorm({ x: tx, w: tw, y, rstd, eps: EPS }),
    ...rmsnormBackward({ x: tx, w: tw, rstd, dy, dx, dw }),
    ...rmsnormBackward({ x: tx, w: tw, rstd, dy, dx: dxAcc, dw: dwAcc, accumulate: true }),
  );
  const ref = runTorch(TORCH, { x: arr(x, [R, D]), w: arr(w, [D]), g: arr(g, [R, D]), eps: EPS });
  const fwd = rmsnormReference(x, w, R, D, EPS);
  const bwd = rmsnormBackwardReference(x, w, g, R, D, EPS);
  const plusPrior = (v: ArrayLike<number>) => Array.from(v, (e, i) => e + prior[i]);
  expectThreeWay("y", { wgsl: await y.read(), reference: fwd.y, torch: ref.y.data }, TOL.y, seedNote);
  expectThreeWay("rstd", { wgsl: await rstd.read(), reference: fwd.rstd, torch: ref.rstd.data }, TOL.rstd, seedNote);
  expectThreeWay("dx", { wgsl: await dx.read(), reference: bwd.dx, torch: ref.dx.data }, TOL.dx, seedNote);
  expectThreeWay("dw", { wgsl: await dw.read(), reference: bwd.dw, torch: ref.dw.data }, TOL.dw, seedNote);
  expectThreeWay("dx accumulated", { wgsl: await dxAcc.read(), reference: plusPrior(bwd.dx), torch: plusPrior(ref.dx.data) }, TOL.dx, seedNote);
  expectThreeWay("dw accumulated", { wgsl: await dwAcc.read(), reference: plusPrior(bwd.dw), torch: plusPrior(ref.dw.data) }, TOL.dw, seedNote);
});

test("bad shapes and eps are rejected", () => {
  const x = Tensor.zeros([2, 8]);
  expect(() => rmsnorm({ x, w: Tensor.zeros([4]), y: Tensor.zeros([2, 8]), rstd: Tensor.zeros([2]), eps: 1e-6 })).toThrow("w must be f32[8]");
  expect(() => rmsnorm({ x, w: Tensor.zeros([8]), y: Tensor.zeros([2, 8]), rstd: Tensor.zeros([2]), eps: 0 })).toThrow("eps must be > 0");
});
