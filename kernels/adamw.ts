// Fused AdamW (decoupled weight decay, bias correction) with global-norm gradient clipping, as torch.optim.AdamW
// after torch.nn.utils.clip_grad_norm_.
//
//   const opt = new AdamW([{ param: w, grad: dw }, { param: g, grad: dg, decay: false }], { lr: 1e-4, maxGradNorm: 1 });
//   const step = new Step(); … backward dispatches …; opt.encode(step); step.submit();
//   await opt.gradNorm.read()                        // the pre-clipping norm of that step, when wanted
//
// Per parameter, one kernel reads p, g, m, v once and writes p, m, v:
//   g' = g·scale   m = β1·m + (1−β1)·g'   v = β2·v + (1−β2)·g'²
//   p  = p·(1 − lr·wd) − (lr/bc1) · m / (sqrt(v)/sqrt(bc2) + eps)     bc_i = 1 − β_i^t
// `scale` is the clipping factor computed on the device by gradNorm (no readback inside the step).
// Lifetime: the optimizer owns m, v (zeros), the norm/scale scalars and its dispatches; build it once.
import { Dispatch, linearGrid, type Kernel, type Step } from "./kernel.ts";
import { gradNorm } from "./gradnorm.ts";
import { type Tensor, TensorSet } from "./tensor.ts";

const WG = 64;

const kernel: Kernel = {
  name: "adamw",
  params: { n: "u32", lr: "f32", beta1: "f32", beta2: "f32", eps: "f32", wd: "f32", bc1: "f32", bc2: "f32" },
  buffers: { g: "f32", scale: "f32", p: "f32 write", m: "f32 write", v: "f32 write" },
  code: `
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let i = gid.x + gid.y * nw.x * ${WG}u;
  if (i >= P.n) { return; }
  let gi = g[i] * scale[0];
  let mi = P.beta1 * m[i] + (1.0 - P.beta1) * gi;
  let vi = P.beta2 * v[i] + (1.0 - P.beta2) * gi * gi;
  m[i] = mi;
  v[i] = vi;
  let denom = sqrt(vi) / sqrt(P.bc2) + P.eps;
  p[i] = p[i] * (1.0 - P.lr * P.wd) - (P.lr / P.bc1) * mi / denom;
}`,
};

export interface AdamWConfig {
  readonly lr: number;
  readonly beta1?: number;
  readonly beta2?: number;
  readonly eps?: number;
  readonly weightDecay?: number;
  /** Clip the global gradient norm to this value before the update; no clipping when absent. */
  readonly maxGradNorm?: number;
}

export interface AdamWParam {
  readonly param: Tensor;
  readonly grad: Tensor;
  /** Apply weight decay to this tensor (default true; usually false for norms and biases). */
  readonly decay?: boolean;
}

export class AdamW {
  /** f32 [1]: global gradient norm of the last encoded step, before clipping. */
  readonly gradNorm: Tensor;
  /** f32 [1]: the clipping factor applied in the last encoded step. */
  readonly clipScale: Tensor;
  /** Steps encoded so far (bias correction uses t = steps after the increment); set it when restoring a state. */
  steps = 0;
  /** First and second moments of each parameter, in the order given (saved and restored for an exact resume). */
  readonly moments: readonly { readonly m: Tensor; readonly v: Tensor }[];
  private readonly config: Required<Omit<AdamWConfig, "maxGradNorm">>;
  /** Every buffer it allocated: moments, norm, clipping factor, the norm's partial sums. */
  private readonly owned = new TensorSet();
  private readonly normDispatches: Dispatch[];
  private readonly updates: Dispatch[];

  constructor(params: readonly AdamWParam[], config: AdamWConfig) {
    this.config = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, ...config };
    checkConfig(this.config);
    if (params.length === 0) throw new Error("AdamW: no parameters given");
    for (const { param, grad } of params) {
      if (param.dtype !== "f32" || grad.dtype !== "f32" || param.size !== grad.size) {
        throw new Error(`AdamW: parameter ${param.describe()} and gradient ${grad.describe()} must be f32 of one size`);
      }
    }
    const alloc = this.owned.alloc;
    this.gradNorm = alloc([1], "f32", "grad norm");
    this.clipScale = alloc([1], "f32", "clip scale");
    this.normDispatches = gradNorm({
      grads: params.map((p) => p.grad),
      norm: this.gradNorm,
      scale: this.clipScale,
      maxNorm: config.maxGradNorm,
      alloc,
    });
    this.moments = params.map(({ param }) => ({
      m: alloc(param.shape, "f32", `${param.label} adam m`),
      v: alloc(param.shape, "f32", `${param.label} adam v`),
    }));
    this.updates = params.map(({ param, grad, decay = true }, i) => {
      const { m, v } = this.moments[i];
      const { beta1, beta2, eps, weightDecay } = this.config;
      const uniforms = { n: param.size, beta1, beta2, eps, wd: decay ? weightDecay : 0, ...this.schedule(1, this.config.lr) };
      return new Dispatch(kernel, { g: grad, scale: this.clipScale, p: param, m, v }, uniforms, linearGrid(param.size, WG));
    });
  }

  /** Frees the moments and the norm buffers (work already submitted still completes). */
  destroy(): void {
    this.owned.destroy();
  }

  /** Encodes the norm, the clipping factor and every parameter's update into `step`; `lr` overrides the config's. */
  encode(step: Step, lr = this.config.lr): void {
    step.run(...this.nextStep(lr));
  }

  /** Encodes only the norm and the clipping factor: a caller that must see the norm first (a non-finite one skips). */
  encodeNorm(step: Step): void {
    step.run(...this.normDispatches);
  }

  /** Encodes every parameter's update, after encodeNorm's norm was read in an earlier submission. */
  encodeUpdate(step: Step, lr = this.config.lr): void {
    step.run(...this.advance(lr));
  }

  /** Advances the step count, sets its uniforms and returns its dispatches, in order (encode() runs them). */
  nextStep(lr = this.config.lr): Dispatch[] {
    return [...this.normDispatches, ...this.advance(lr)];
  }

  /** Advances the step count and sets its uniforms; returns the parameter updates alone. */
  private advance(lr: number): Dispatch[] {
    if (!(lr >= 0)) throw new Error(`AdamW: learning rate must be >= 0, got ${lr}`);
    this.steps += 1;
    const schedule = this.schedule(this.steps, lr);
    for (const d of this.updates) d.set(schedule);
    return this.updates;
  }

  /** The uniforms that change from step to step. */
  private schedule(t: number, lr: number): Record<string, number> {
    return { lr, bc1: 1 - this.config.beta1 ** t, bc2: 1 - this.config.beta2 ** t };
  }
}

function checkConfig(c: Required<Omit<AdamWConfig, "maxGradNorm">>): void {
  const bad = (name: string, value: number, rule: string) => new Error(`AdamW: ${name} = ${value}; it must be ${rule}`);
  if (!(c.lr >= 0)) throw bad("lr", c.lr, ">= 0");
  if (!(c.beta1 >= 0 && c.beta1 < 1)) throw bad("beta1", c.beta1, "in [0, 1)");
  if (!(c.beta2 >= 0 && c.beta2 < 1)) throw bad("beta2", c.beta2, "in [0, 1)");
  if (!(c.eps > 0)) throw bad("eps", c.eps, "> 0");
  if (!(c.weightDecay >= 0)) throw bad("weightDecay", c.weightDecay, ">= 0");
}

// ---- reference ------------------------------------------------------------------------------------------------

/** One AdamW update in float64, in place on p, m, v (t counts from 1). */
export function adamwReference(
  p: Float64Array,
  g: ArrayLike<number>,
  m: Float64Array,
  v: Float64Array,
  t: number,
  c: Required<Omit<AdamWConfig, "maxGradNorm">>,
  scale = 1,
): void {
  const bc1 = 1 - c.beta1 ** t;
  const bc2 = 1 - c.beta2 ** t;
  for (let i = 0; i < p.length; i++) {
    const gi = g[i] * scale;
    m[i] = c.beta1 * m[i] + (1 - c.beta1) * gi;
    v[i] = c.beta2 * v[i] + (1 - c.beta2) * gi * gi;
    p[i] = p[i] * (1 - c.lr * c.weightDecay) - ((c.lr / bc1) * m[i]) / (Math.sqrt(v[i]) / Math.sqrt(bc2) + c.eps);
  }
}
