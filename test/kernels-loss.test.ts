// Log-prob gather (loss.ts) and entropy (entropy.ts), forward and backward, against PyTorch float64.
import { beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { getGpu, run, Tensor } from "../kernels/index.ts";
import { entropyBackward, entropyBackwardReference, entropyForward, entropyReference } from "../kernels/entropy.ts";
import { logProbBackward, logProbBackwardReference, logProbForward, logProbReference } from "../kernels/loss.ts";
import { ints, normals, rng, seedNote, TEST_SEED } from "./support/random-inputs.ts";
import { expectThreeWay, type Tolerance } from "./support/close.ts";
import { arr, runTorch } from "./support/torch.ts";
import { SLOW_TEST_MS } from "./support/timeouts.ts";

setDefaultTimeout(SLOW_TEST_MS);

const TORCH = `
x = inp["logits"].clone().requires_grad_(True)
t = torch.tensor(inp["targets"], dtype=torch.long)
ls = torch.log_softmax(x, -1)
logp = ls.gather(1, t[:, None])[:, 0]
H = -(ls.exp() * ls).sum(-1)
out["logp"] = logp
out["lse"] = torch.logsumexp(x, -1)
out["entropy"] = H
out["dlogp"], = torch.autograd.grad((logp * inp["g"]).sum(), x, retain_graph=True)
out["dH"], = torch.autograd.grad((H * inp["gH"]).sum(), x)
`;

// fp32 sums over a row of up to ~1000 terms: relative errors of a few 1e-7 expected. logp and lse reach ~80 (the
// shifted row), so their slack is relative; gradients are probabilities (≤ 1) times O(1) weights, most of them tiny,
// so theirs is mostly absolute: a few ulps of the largest probability in the row.
const TOL: Record<"logp" | "lse" | "entropy" | "dlogits", Tolerance> = {
  logp: { abs: 1e-5, rel: 1e-5 },
  lse: { abs: 1e-5, rel: 1e-5 },
  entropy: { abs: 2e-5, rel: 2e-5 },
  dlogits: { abs: 2e-6, rel: 2e-5 },
};

beforeAll(async () => {
  await getGpu();
});

// Odd vocabularies take the scalar path; multiples of 4 the vec4 path. One row gets +80 (exp overflows in fp32
// without max-subtraction) and one row is nearly one-hot.
const SHAPES: [rows: number, vocab: number][] = [
  [5, 37],
  [16, 256],
  [3, 1002],
];

describe.each(SHAPES)("rows %i × vocab %i", (rows, vocab) => {
  test("log-prob, lse, entropy and both gradients match torch", async () => {
    const next = rng(TEST_SEED + rows * 7919 + vocab);
    const logits = normals(next, rows * vocab, 3);
    for (let v = 0; v < vocab; v++) logits[v] += 80;
    if (rows > 1) logits[vocab + 1] += 40;
    const targets = ints(next, rows, vocab);
    const g = normals(next, rows);
    const gH = normals(next, rows);

    const tLogits = Tensor.from(logits, [rows, vocab]);
    const tTargets = Tensor.from(targets, [rows], "u32");
    const [logp, lse, entropy, dlogp, dH, dSum] = [[rows], [rows], [rows], [rows, vocab], [rows, vocab], [rows, vocab]].map(
      (shape) => Tensor.zeros(shape),
    );
    for (const t of [logp, lse, entropy, dlogp, dH, dSum]) t.poison();
    const tg = Tensor.from(g, [rows]);
    const tgH = Tensor.from(gH, [rows]);
    const common = { logits: tLogits, lse, entropy, gH: tgH };
    run(
      logProbForward({ logits: tLogits, targets: tTargets, logp, lse }),
      entropyForward({ logits: tLogits, lse, entropy }),
      logProbBackward({ logits: tLogits, targets: tTargets, lse, g: tg, dlogits: dlogp }),
      entropyBackward({ ...common, dlogits: dH, accumulate: false }),
      logProbBackward({ logits: tLogits, targets: tTargets, lse, g: tg, dlogits: dSum }),
      entropyBackward({ ...common, dlogits: dSum, accumulate: true }),
    );

    const ref = runTorch(TORCH, { logits: arr(logits, [rows, vocab]), targets: Array.from(targets), g: arr(g, [rows]), gH: arr(gH, [rows]) });
    const tsRef = logProbReference(logits, vocab, targets);
    const dlogpRef = logProbBackwardReference(logits, vocab, targets, g);
    const dHRef = entropyBackwardReference(logits, vocab, gH);
    const sum = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a, (x, i) => x + b[i]);
    expectThreeWay("logp", { wgsl: await logp.read(), reference: tsRef.logp, torch: ref.logp.data }, TOL.logp, seedNote);
    expectThreeWay("lse", { wgsl: await lse.read(), reference: tsRef.lse, torch: ref.lse.data }, TOL.lse, seedNote);
    expectThreeWay("entropy", { wgsl: await entropy.read(), reference: entropyReference(logits, rows, vocab), torch: ref.entropy.data }, TOL.entropy, seedNote);
    expectThreeWay("dlogp", { wgsl: await dlogp.read(), reference: dlogpRef, torch: ref.dlogp.data }, TOL.dlogits, seedNote);
    expectThreeWay("dH", { wgsl: await dH.read(), reference: dHRef, torch: ref.dH.data }, TOL.dlogits, seedNote);
    const dSumRef = sum(dlogpRef, dHRef);
    expectThreeWay("dlogp + dH", { wgsl: await dSum.read(), reference: dSumRef, torch: sum(ref.dlogp.data, ref.dH.data) }, TOL.dlogits, seedNote);
  });
});

test("a target outside the vocabulary gives NaN, not a silent value", async () => {
  const logits = Tensor.from(new Float32Array(8).fill(0.5), [2, 4]);
  const targets = Tensor.from([1, 4], [2], "u32");
  const logp = Tensor.zeros([2]);
  const lse = Tensor.zeros([2]);
  run(logProbForward({ logits, targets, logp, lse }));
  const got = await logp.read();
  expect(got[0]).toBeCloseTo(Math.log(0.25), 6);
  expect(got[1]).toBeNaN();
});

test("shape mismatches are refused with the operand named", () => {
  const logits = Tensor.zeros([3, 8]);
  const targets = Tensor.zeros([4], "u32");
  expect(() => logProbForward({ logits, targets, logp: Tensor.zeros([3]), lse: Tensor.zeros([3]) })).toThrow(
    "logProbForward: targets must be u32[3], got u32[4]",
  );
});
