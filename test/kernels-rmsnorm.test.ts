// RMSNorm forward and backward (rmsnorm.ts) against PyTorch float64 autograd.
import { beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { getGpu, run, Tensor } from "../kernels/index.ts";
import { rmsnorm, rmsnormBackward } from "../kernels/rmsnorm.ts";
import { normals, rng, seedNote, TEST_SEED } from "./support/random-inputs.ts";
import { arr, relError, runTorch } from "./support/torch.ts";
import { SLOW_TEST_MS } from "./support/timeouts.ts";

setDefaultTimeout(SLOW_TEST_MS);

const SLOW_MS = 60_000;
// Row sums of up to 256 squares / products in fp32.
const BOUND = { y: 1e-5, rstd: 1e-5, dx: 2e-5, dw: 2e-5 };
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
  const errors = {
    y: relError(await y.read(), ref.y.data),
    rstd: relError(await rstd.read(), ref.rstd.data),
    dx: relError(await dx.read(), ref.dx.data),
    dw: relError(await dw.read(), ref.dw.data),
    dxAcc: relError(await dxAcc.read(), ref.dx.data.map((v, i) => v + prior[i])),
    dwAcc: relError(await dwAcc.read(), ref.dw.data.map((v, i) => v + prior[i])),
  };
  const note = `${JSON.stringify(errors)} ${seedNote}`;
  expect(errors.y, note).toBeLessThan(BOUND.y);
  expect(errors.rstd, note).toBeLessThan(BOUND.rstd);
  expect(errors.dx, note).toBeLessThan(BOUND.dx);
  expect(errors.dw, note).toBeLessThan(BOUND.dw);
  expect(errors.dxAcc, note).toBeLessThan(BOUND.dx);
  expect(errors.dwAcc, note).toBeLessThan(BOUND.dw);
}, SLOW_MS);

test("bad shapes and eps are rejected", () => {
  const x = Tensor.zeros([2, 8]);
  expect(() => rmsnorm({ x, w: Tensor.zeros([4]), y: Tensor.zeros([2, 8]), rstd: Tensor.zeros([2]), eps: 1e-6 })).toThrow("w must be f32[8]");
  expect(() => rmsnorm({ x, w: Tensor.zeros([8]), y: Tensor.zeros([2, 8]), rstd: Tensor.zeros([2]), eps: 0 })).toThrow("eps must be > 0");
});
