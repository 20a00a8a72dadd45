// Rotary position embedding (rope.ts) forward and backward against a PyTorch float64 transcription of Hugging
// Face's Qwen2 apply_rotary_pos_emb (rotate_half), with per-row positions and a decode offset.
import { beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { getGpu, run, Tensor } from "../kernels/index.ts";
import { rope, ropeReference, ropeTable } from "../kernels/rope.ts";
import { expectThreeWay } from "./support/close.ts";
import { ints, normals, rng, seedNote, TEST_SEED } from "./support/random-inputs.ts";
import { arr, runTorch } from "./support/torch.ts";
import { SLOW_TEST_MS } from "./support/timeouts.ts";

setDefaultTimeout(SLOW_TEST_MS);

// A rotation per pair: fp32 rounding of the table's cos/sin (angles up to ~500 rad, a few ulps) and two products.
const TOL = { abs: 1e-6, rel: 1e-6 };

const TORCH = `
x = inp["x"].requires_grad_(True)
D = x.shape[-1]
pos = torch.tensor(inp["positions"], dtype=torch.float64) + inp["offset"]
inv_freq = 1.0 / (inp["theta"] ** (torch.arange(0, D, 2, dtype=torch.float64) / D))
emb = torch.cat([torch.outer(pos, inv_freq)] * 2, -1)
cos, sin = emb.cos()[:, None, :], emb.sin()[:, None, :]
def rotate_half(t):
    return torch.cat([-t[..., D // 2:], t[..., :D // 2]], -1)
y = x * cos + rotate_half(x) * sin
(y * inp["g"]).sum().backward()
out["y"], out["dx"] = y, x.grad
`;

beforeAll(async () => {
  await getGpu();
});

// [rows, heads, headDim, theta, offset]
const CASES: [number, number, number, number, number][] = [
  [5, 3, 6, 10000, 0],
  [40, 2, 64, 1e6, 17],
];

test.each(CASES)("rows=%i heads=%i headDim=%i theta=%d offset=%i: forward and backward match torch", async (R, H, D, theta, offset) => {
  const next = rng(TEST_SEED + R * 3 + D);
  const maxPositions = 512;
  const x = normals(next, R * H * D);
  const g = normals(next, R * H * D);
  const positions = ints(next, R, maxPositions - offset);
  const table = ropeTable({ headDim: D, theta, maxPositions });
  const tPos = Tensor.from(positions, [R], "u32");
  const [y, dx] = [Tensor.zeros([R, H, D]), Tensor.zeros([R, H, D])];
  y.poison();
  dx.poison();
  run(
    rope({ x: Tensor.from(x, [R, H, D]), out: y, positions: tPos, table, offset }),
    rope({ x: Tensor.from(g, [R, H, D]), out: dx, positions: tPos, table, offset, inverse: true }),
  );
  const ref = runTorch(TORCH, { x: arr(x, [R, H, D]), g: arr(g, [R, H, D]), positions: Array.from(positions), offset, theta });
  const reference = (v: Float32Array, inverse: boolean) => ropeReference(v, positions, H, D, theta, offset, inverse);
  expectThreeWay("y", { wgsl: await y.read(), reference: reference(x, false), torch: ref.y.data }, TOL, seedNote);
  expectThreeWay("dx", { wgsl: await dx.read(), reference: reference(g, true), torch: ref.dx.data }, TOL, seedNote);
});

test("a position past the table gives NaN; the offset can change between submits", async () => {
  const table = ropeTable({ headDim: 4, theta: 10000, maxPositions: 8 });
  const out = Tensor.zeros([2, 1, 4]);
  const d = rope({ x: Tensor.from([1, 0, 0, 0, 1, 0, 0, 0], [2, 1, 4]), out, positions: Tensor.from([0, 3], [2], "u32"), table });
  run(d);
  expect(Array.from((await out.read()).subarray(0, 4))).toEqual([1, 0, 0, 0]); // position 0: identity
  d.set({ offset: 5 }); // row 1 now at position 8: past the table
  run(d);
  const shifted = await out.read();
  expect(shifted[0]).toBeCloseTo(Math.cos(5), 6);
  expect(shifted.subarray(4, 8).every(Number.isNaN)).toBe(true);
});

test("mismatched head size is rejected", () => {
  const table = ropeTable({ headDim: 8, theta: 10000, maxPositions: 4 });
  const x = Tensor.zeros([2, 1, 4]);
  expect(() => rope({ x, out: x, positions: Tensor.zeros([2], "u32"), table })).toThrow("table is for headDim 8, x has headDim 4");
});
