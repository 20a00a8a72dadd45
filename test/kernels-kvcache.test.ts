// KV cache append (kvcache.ts) against PyTorch index assignment: every row lands at its sequence's position and no
// other cache row changes.
import { beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { getGpu, run, Tensor } from "../kernels/index.ts";
import { kvCacheAppend, kvCacheAppendReference } from "../kernels/kvcache.ts";
import { ints, normals, rng, seedNote, TEST_SEED } from "./support/random-inputs.ts";
import { arr, runTorch } from "./support/torch.ts";
import { SLOW_TEST_MS } from "./support/timeouts.ts";

setDefaultTimeout(SLOW_TEST_MS);

const TORCH = `
k, v = inp["kCache"].clone(), inp["vCache"].clone()
tn = inp["k"].shape[1]
for b, p in enumerate(inp["positions"]):
    n = max(0, min(tn, k.shape[1] - p))
    k[b, p:p + n] = inp["k"][b, :n]
    v[b, p:p + n] = inp["v"][b, :n]
out["k"], out["v"] = k, v
`;

beforeAll(async () => {
  await getGpu();
});

// [batch, newTokens, maxTokens, kvHeads, headDim]
const SHAPES: [number, number, number, number, number][] = [
  [3, 1, 17, 2, 16],
  [2, 5, 33, 1, 64],
  [4, 3, 8, 3, 4],
];

test.each(SHAPES)("append B=%i Tn=%i into Tmax=%i (Hkv=%i, D=%i) matches torch exactly", async (b, tn, tmax, hkv, d) => {
  const next = rng(TEST_SEED + b * 31 + tn * 7 + d);
  const cacheSize = b * tmax * hkv * d;
  const newSize = b * tn * hkv * d;
  const [kc, vc, k, v] = [cacheSize, cacheSize, newSize, newSize].map((n) => normals(next, n));
  // Random positions, one sequence at the last row that still fits and (when possible) one that overhangs the end.
  const positions = ints(next, b, tmax - tn + 1);
  positions[0] = tmax - tn;
  if (tn > 1) positions[b - 1] = tmax - 1;

  const kCache = Tensor.from(kc, [b, tmax, hkv, d]);
  const vCache = Tensor.from(vc, [b, tmax, hkv, d]);
  run(
    kvCacheAppend({
      k: Tensor.from(k, [b, tn, hkv, d]),
      v: Tensor.from(v, [b, tn, hkv, d]),
      positions: Tensor.from(positions, [b], "u32"),
      kCache,
      vCache,
    }),
  );
  const ref = runTorch(TORCH, {
    kCache: arr(kc, [b, tmax, hkv, d]),
    vCache: arr(vc, [b, tmax, hkv, d]),
    k: arr(k, [b, tn, hkv, d]),
    v: arr(v, [b, tn, hkv, d]),
    positions: Array.from(positions),
  });
  // A copy: bit-exact (the float32 inputs are exact in float64).
  expect(Array.from(await kCache.read()), seedNote).toEqual(ref.k.data);
  expect(Array.from(await vCache.read()), seedNote).toEqual(ref.v.data);
  const tsRef = kvCacheAppendReference({ k: kc, v: vc }, { k, v }, positions, { tn, tmax, rowSize: hkv * d });
  expect(Array.from(tsRef.k)).toEqual(ref.k.data);
  expect(Array.from(tsRef.v)).toEqual(ref.v.data);
});

test("a head size that is not a multiple of 4 is refused", () => {
  const t = (shape: number[]) => Tensor.zeros(shape);
  expect(() =>
    kvCacheAppend({ k: t([1, 1, 1, 6]), v: t([1, 1, 1, 6]), positions: Tensor.zeros([1], "u32"), kCache: t([1, 4, 1, 6]), vCache: t([1, 4, 1, 6]) }),
  ).toThrow("headDim must be a multiple of 4");
});
