// Causal GQA attention (attention.ts): training forward and backward on right-padded batches, and the decode
// forward over a KV cache, against PyTorch float64 autograd.
import { beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { getGpu, run, Tensor } from "../kernels/index.ts";
import {
  attentionBackward,
  attentionBackwardReference,
  attentionDecode,
  attentionForward,
  attentionReference,
  type AttentionDims,
} from "../kernels/attention.ts";
import { ints, normals, rng, seedNote, TEST_SEED } from "./support/random-inputs.ts";
import { expectClose, expectThreeWay, FLOAT64, type Tolerance } from "./support/close.ts";
import { arr, runTorch } from "./support/torch.ts";
import { SLOW_TEST_MS } from "./support/timeouts.ts";

setDefaultTimeout(SLOW_TEST_MS);

// Scores masked with -inf: causal (key j <= query position) and, for decode, the position offset per sequence.
const TORCH_ATTEND = `
def attend(q, k, v, qpos):
    B, Tq, Hq, D = q.shape
    g = Hq // k.shape[2]
    kk, vv = k.repeat_interleave(g, dim=2), v.repeat_interleave(g, dim=2)
    s = torch.einsum("bthd,bshd->bhts", q, kk) / math.sqrt(D)
    allowed = torch.arange(k.shape[1])[None, None, :] <= qpos[:, :, None]  # [B, Tq, Tk]
    s = s.masked_fill(~allowed[:, None], float("-inf"))
    return torch.einsum("bhts,bshd->bthd", torch.softmax(s, -1), vv), torch.logsumexp(s, -1)
`;

const TORCH_TRAIN = `${TORCH_ATTEND}
q, k, v = (inp[n].clone().requires_grad_(True) for n in ("q", "k", "v"))
B, T = q.shape[0], q.shape[1]
valid = (torch.arange(T)[None, :] < torch.tensor(inp["lens"])[:, None]).to(torch.float64)  # [B, T]
o, lse = attend(q, k, v, torch.arange(T)[None, :].expand(B, T))
o = o * valid[:, :, None, None]
out["o"], out["lse"] = o, lse * valid[:, None, :]
out["dq"], out["dk"], out["dv"] = torch.autograd.grad((o * inp["dO"]).sum(), (q, k, v))
`;

const TORCH_DECODE = `${TORCH_ATTEND}
q = inp["q"]
qpos = torch.tensor(inp["positions"])[:, None] + torch.arange(q.shape[1])[None, :]
out["o"], _ = attend(q, inp["kCache"], inp["vCache"], qpos)
`;

// fp32 dot products over D and softmax sums over up to T keys; the backward sums T·g terms per key. Outputs are
// convex mixes of O(1) values and gradients sums of O(1) products, so the absolute slack matches the relative one.
const TOL: Record<"out" | "lse" | "dq" | "dk" | "dv", Tolerance> = {
  out: { abs: 1e-5, rel: 1e-5 },
  lse: { abs: 1e-5, rel: 1e-5 },
  dq: { abs: 5e-5, rel: 5e-5 },
  dk: { abs: 5e-5, rel: 5e-5 },
  dv: { abs: 5e-5, rel: 5e-5 },
};

beforeAll(async () => {
  await getGpu();
});

const shapeOf = (d: AttentionDims, kv: boolean) => [d.batch, kv ? d.tk : d.tq, kv ? d.kvHeads : d.heads, d.headDim];

// [batch, tokens, heads, kvHeads, headDim]: GQA ratios 1, 3, 4; lengths not multiples of the 64-row workgroups.
const TRAIN: [number, number, number, number, number][] = [
  [2, 13, 4, 4, 16],
  [3, 37, 6, 2, 32],
  [2, 70, 4, 1, 64],
];

describe.each(TRAIN)("training: B=%i T=%i heads=%i kvHeads=%i D=%i", (batch, tokens, heads, kvHeads, headDim) => {
  test("forward (out, lse) and backward (dQ, dK, dV) match torch on a right-padded batch", async () => {
    const d: AttentionDims = { batch, tq: tokens, tk: tokens, heads, kvHeads, headDim };
    const next = rng(TEST_SEED + tokens * 131 + headDim);
    const [qShape, kShape] = [shapeOf(d, false), shapeOf(d, true)];
    const size = (s: number[]) => s.reduce((x, y) => x * y, 1);
    const [q, k, v, dO] = [qShape, kShape, kShape, qShape].map((s) => normals(next, size(s)));
    // One full-length sequence, one of length 1, the rest random.
    const lens = ints(next, batch, tokens).map((n) => n + 1);
    lens[0] = tokens;
    lens[batch - 1] = 1;

    const t = {
      q: Tensor.from(q, qShape),
      k: Tensor.from(k, kShape),
      v: Tensor.from(v, kShape),
      lens: Tensor.from(lens, [batch], "u32"),
      out: Tensor.zeros(qShape),
      lse: Tensor.zeros([batch, heads, tokens]),
      dOut: Tensor.from(dO, qShape),
      dq: Tensor.zeros(qShape),
      dk: Tensor.zeros(kShape),
      dv: Tensor.zeros(kShape),
      delta: Tensor.zeros([batch, heads, tokens]),
    };
    for (const x of [t.out, t.lse, t.dq, t.dk, t.dv, t.delta]) x.poison();
    const { q: tq, k: tk, v: tv, lens: tl, out, lse } = t;
    run(attentionForward({ q: tq, k: tk, v: tv, lens: tl, out, lse }), ...attentionBackward(t));

    const ref = runTorch(TORCH_TRAIN, {
      q: arr(q, qShape),
      k: arr(k, kShape),
      v: arr(v, kShape),
      dO: arr(dO, qShape),
      lens: Array.from(lens),
    });
    const fwd = attentionReference(q, k, v, d, (b, t) => (t < lens[b] ? t : -1));
    const bwd = attentionBackwardReference(q, k, v, dO, d, lens);
    expectThreeWay("out", { wgsl: await t.out.read(), reference: fwd.out, torch: ref.o.data }, TOL.out, seedNote);
    expectThreeWay("lse", { wgsl: await t.lse.read(), reference: fwd.lse, torch: ref.lse.data }, TOL.lse, seedNote);
    expectThreeWay("dq", { wgsl: await t.dq.read(), reference: bwd.dq, torch: ref.dq.data }, TOL.dq, seedNote);
    expectThreeWay("dk", { wgsl: await t.dk.read(), reference: bwd.dk, torch: ref.dk.data }, TOL.dk, seedNote);
    expectThreeWay("dv", { wgsl: await t.dv.read(), reference: bwd.dv, torch: ref.dv.data }, TOL.dv, seedNote);
  });
});

test("the float64 TS references agree with torch", () => {
  const d: AttentionDims = { batch: 2, tq: 9, tk: 9, heads: 4, kvHeads: 2, headDim: 8 };
  const next = rng(TEST_SEED);
  const [q, k, v, dO] = [false, true, true, false].map((kv) => normals(next, 2 * 9 * (kv ? 2 : 4) * 8));
  const lens = [9, 5];
  const ref = runTorch(TORCH_TRAIN, {
    q: arr(q, shapeOf(d, false)),
    k: arr(k, shapeOf(d, true)),
    v: arr(v, shapeOf(d, true)),
    dO: arr(dO, shapeOf(d, false)),
    lens,
  });
  const fwd = attentionReference(q, k, v, d, (b, t) => (t < lens[b] ? t : -1));
  const bwd = attentionBackwardReference(q, k, v, dO, d, lens);
  expectClose("out", fwd.out, ref.o.data, FLOAT64);
  expectClose("lse", fwd.lse, ref.lse.data, FLOAT64);
  expectClose("dq", bwd.dq, ref.dq.data, FLOAT64);
  expectClose("dk", bwd.dk, ref.dk.data, FLOAT64);
  expectClose("dv", bwd.dv, ref.dv.data, FLOAT64);
});

// [batch, newTokens, cacheTokens, heads, kvHeads, headDim]
const DECODE: [number, number, number, number, number, number][] = [
  [3, 1, 40, 4, 2, 32],
  [2, 3, 21, 2, 2, 16],
  [2, 1, 9, 8, 1, 64],
];

test.each(DECODE)("decode: B=%i Tq=%i over a cache of %i (heads=%i kvHeads=%i D=%i) matches torch", async (batch, tq, tk, heads, kvHeads, headDim) => {
  const d: AttentionDims = { batch, tq, tk, heads, kvHeads, headDim };
  const next = rng(TEST_SEED + tk * 17 + headDim);
  const [qShape, kShape] = [shapeOf(d, false), shapeOf(d, true)];
  const size = (s: number[]) => s.reduce((x, y) => x * y, 1);
  const [q, kc, vc] = [qShape, kShape, kShape].map((s) => normals(next, size(s)));
  const positions = ints(next, batch, tk - tq + 1);
  positions[0] = tk - tq;
  positions[batch - 1] = 0;
  const out = Tensor.zeros(qShape);
  out.poison();
  run(
    attentionDecode({
      q: Tensor.from(q, qShape),
      kCache: Tensor.from(kc, kShape),
      vCache: Tensor.from(vc, kShape),
      positions: Tensor.from(positions, [batch], "u32"),
      out,
    }),
  );
  const ref = runTorch(TORCH_DECODE, { q: arr(q, qShape), kCache: arr(kc, kShape), vCache: arr(vc, kShape), positions: Array.from(positions) });
  const tsRef = attentionReference(q, kc, vc, d, (b, t) => positions[b] + t);
  expectThreeWay("out", { wgsl: await out.read(), reference: tsRef.out, torch: ref.o.data }, TOL.out, seedNote);
});

test("heads that are not a multiple of kvHeads are refused", () => {
  const z = (s: number[]) => Tensor.zeros(s);
  expect(() =>
    attentionForward({ q: z([1, 4, 3, 8]), k: z([1, 4, 2, 8]), v: z([1, 4, 2, 8]), lens: Tensor.zeros([1], "u32"), out: z([1, 4, 3, 8]), lse: z([1, 3, 4]) }),
  ).toThrow("attentionForward: heads (3) must be a multiple of kvHeads (2)");
});
