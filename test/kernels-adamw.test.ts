// Fused AdamW with global-norm clipping (adamw.ts, gradnorm.ts) against torch.optim.AdamW after
// torch.nn.utils.clip_grad_norm_, over several steps, with a parameter excluded from weight decay.
import { beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { getGpu, run, Step, Tensor } from "../kernels/index.ts";
import { AdamW, adamwReference } from "../kernels/adamw.ts";
import { clipGrads, gradNorm, gradNormReference } from "../kernels/gradnorm.ts";
import { expectThreeWay } from "./support/close.ts";
import { normals, rng, seedNote, TEST_SEED } from "./support/random-inputs.ts";
import { arr, runTorch, type RefInput } from "./support/torch.ts";
import { SLOW_TEST_MS } from "./support/timeouts.ts";

setDefaultTimeout(SLOW_TEST_MS);

// Elementwise updates plus one norm over ~3k squares in fp32. An update moves a parameter by about lr = 1e-2 per step,
// and m/√v carries a few fp32 ulps of relative error into that move: ~1e-8 absolute per step is what rounding leaves;
// the 1e-5 slack covers parameters near zero. The norm is one number: relative only.
const TOL = { param: { abs: 1e-5, rel: 1e-5 }, norm: { abs: 0, rel: 1e-5 } };

const TORCH = `
ps = [inp[f"p{k}"].clone().requires_grad_(True) for k in range(inp["count"])]
lr, b1, b2, eps, wd, max_norm = inp["config"]
groups = [{"params": [p], "weight_decay": wd if k == 0 else 0.0} for k, p in enumerate(ps)]
opt = torch.optim.AdamW(groups, lr=lr, betas=(b1, b2), eps=eps)
for s in range(inp["steps"]):
    for k, p in enumerate(ps):
        p.grad = inp[f"g{s}_{k}"].clone()
    out[f"norm{s}"] = torch.nn.utils.clip_grad_norm_(ps, max_norm).reshape(1)
    if s == 0:
        for k, p in enumerate(ps):
            out[f"clipped{k}"] = p.grad.clone()
    opt.step()
for k, p in enumerate(ps):
    out[f"p{k}"] = p
`;

beforeAll(async () => {
  await getGpu();
});

/** The float64 TS references over the same steps: gradNormReference's clip scale, then adamwReference per
 *  parameter (the second parameter without weight decay). */
function referenceSteps(
  init: Float32Array[],
  grads: Float32Array[][],
  config: { lr: number; b1: number; b2: number; eps: number; wd: number; maxNorm: number },
): { norms: number[]; params: Float64Array[] } {
  const params = init.map((p) => Float64Array.from(p));
  const moments = init.map((p) => ({ m: new Float64Array(p.length), v: new Float64Array(p.length) }));
  const norms: number[] = [];
  grads.forEach((stepGrads, s) => {
    const { norm, scale } = gradNormReference(stepGrads, config.maxNorm);
    norms.push(norm);
    params.forEach((p, k) => {
      const hyper = { lr: config.lr, beta1: config.b1, beta2: config.b2, eps: config.eps, weightDecay: k === 0 ? config.wd : 0 };
      adamwReference(p, stepGrads[k], moments[k].m, moments[k].v, s + 1, hyper, scale);
    });
  });
  return { norms, params };
}

test("three AdamW steps (two clipped, one not) match torch; decay only where asked", async () => {
  const next = rng(TEST_SEED);
  const shapes = [[33, 61], [97]];
  const steps = 3;
  const config = { lr: 1e-2, b1: 0.9, b2: 0.95, eps: 1e-8, wd: 0.1, maxNorm: 1.0 };
  const init = shapes.map((s) => normals(next, s.reduce((a, b) => a * b, 1)));
  // Norms ~ 3 (clipped), ~ 3, ~ 0.03 (below maxNorm).
  const grads = [0.05, 0.05, 0.0005].map((scale) => init.map((p) => normals(next, p.length, scale)));

  const params = shapes.map((s, k) => Tensor.from(init[k], s));
  const gradTensors = shapes.map((s) => Tensor.zeros(s));
  const opt = new AdamW(
    [
      { param: params[0], grad: gradTensors[0] },
      { param: params[1], grad: gradTensors[1], decay: false },
    ],
    { lr: config.lr, beta1: config.b1, beta2: config.b2, eps: config.eps, weightDecay: config.wd, maxGradNorm: config.maxNorm },
  );
  const norms: number[] = [];
  for (let s = 0; s < steps; s++) {
    gradTensors.forEach((t, k) => t.write(grads[s][k]));
    const step = new Step();
    opt.encode(step);
    step.submit();
    norms.push((await opt.gradNorm.read())[0]);
  }

  const { lr, b1, b2, eps, wd, maxNorm } = config;
  const torchInputs: Record<string, RefInput> = { count: shapes.length, steps, config: [lr, b1, b2, eps, wd, maxNorm] };
  shapes.forEach((s, k) => {
    torchInputs[`p${k}`] = arr(init[k], s);
    for (let st = 0; st < steps; st++) torchInputs[`g${st}_${k}`] = arr(grads[st][k], s);
  });
  const ref = runTorch(TORCH, torchInputs);
  const refNorms = Array.from({ length: steps }, (_, s) => ref[`norm${s}`].data[0]);
  expect(refNorms[0]).toBeGreaterThan(config.maxNorm); // the case really clips
  expect(refNorms[2]).toBeLessThan(config.maxNorm); // and really does not
  const reference = referenceSteps(init, grads, config);
  expectThreeWay("grad norms", { wgsl: norms, reference: reference.norms, torch: refNorms }, TOL.norm, seedNote);
  for (let k = 0; k < shapes.length; k++) {
    expectThreeWay(`param ${k}`, { wgsl: await params[k].read(), reference: reference.params[k], torch: ref[`p${k}`].data }, TOL.param, seedNote);
  }
});

test("gradNorm + clipGrads scale gradients in place like clip_grad_norm_; no maxNorm means no clipping", async () => {
  const next = rng(TEST_SEED + 1);
  const g = [normals(next, 3000), normals(next, 5)];
  const tensors = g.map((d, k) => Tensor.from(d, [d.length], "f32", `g${k}`));
  const [norm, scale, scale1] = [Tensor.zeros([1]), Tensor.zeros([1]), Tensor.zeros([1])];
  run(...gradNorm({ grads: tensors, norm, scale: scale1 }), ...gradNorm({ grads: tensors, norm, scale, maxNorm: 2 }), ...clipGrads({ grads: tensors, scale }));
  const ref = runTorch(
    `
gs = [inp["g0"].clone(), inp["g1"].clone()]
ps = [torch.zeros_like(x, requires_grad=True) for x in gs]
for p, x in zip(ps, gs):
    p.grad = x
out["norm"] = torch.nn.utils.clip_grad_norm_(ps, 2.0).reshape(1)
out["c0"], out["c1"] = ps[0].grad, ps[1].grad
`,
    { g0: arr(g[0], [3000]), g1: arr(g[1], [5]) },
  );
  const reference = gradNormReference(g, 2);
  expectThreeWay("norm", { wgsl: await norm.read(), reference: [reference.norm], torch: ref.norm.data }, TOL.norm, seedNote);
  expect((await scale1.read())[0]).toBe(1);
  expect(gradNormReference(g).scale).toBe(1);
  // Clipped gradients: one fp32 product each, a few ulps.
  const clipped = (k: number) => Array.from(g[k], (x) => x * reference.scale);
  expectThreeWay("clipped g0", { wgsl: await tensors[0].read(), reference: clipped(0), torch: ref.c0.data }, TOL.norm, seedNote);
  expectThreeWay("clipped g1", { wgsl: await tensors[1].read(), reference: clipped(1), torch: ref.c1.data }, TOL.norm, seedNote);
});

test("bad hyper-parameters are rejected before any work", () => {
  const p = Tensor.zeros([4]);
  expect(() => new AdamW([{ param: p, grad: Tensor.zeros([4]) }], { lr: 1e-3, beta2: 1 })).toThrow("beta2 = 1; it must be in [0, 1)");
  expect(() => new AdamW([{ param: p, grad: Tensor.zeros([5]) }], { lr: 1e-3 })).toThrow("must be f32 of one size");
});
