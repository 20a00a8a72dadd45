// Global gradient norm over a list of tensors, the clipping factor, and clipping in place.
//
//   gradNorm({ grads, norm, scale, maxNorm: 1.0 })   // norm[0] = ‖all grads‖₂; scale[0] = min(1, maxNorm/(norm+1e-6))
//   clipGrads({ grads, scale })                      // g *= scale[0] for every tensor (AdamW reads scale instead)
//
// Deterministic reduction (no atomics): every tensor is cut into fixed chunks of CHUNK elements, one invocation
// sums each chunk's squares in order into its own slot of a partials buffer, then a single invocation adds the
// partials in order. The factor matches torch.nn.utils.clip_grad_norm_ (coefficient clamped to 1).
import { groupsFor } from "./checks.ts";
import { Dispatch, linearGrid, type Kernel } from "./kernel.ts";
import { allocate, type Allocator, type Tensor } from "./tensor.ts";

const WG = 64;
const CHUNK = 1024;

const partialKernel: Kernel = {
  name: "gradnorm_partials",
  params: { n: "u32", first: "u32" },
  buffers: { g: "f32", partials: "f32 write" },
  code: `
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  let start = c * ${CHUNK}u;
  if (start >= P.n) { return; }
  var s = 0.0;
  for (var i = start; i < min(start + ${CHUNK}u, P.n); i++) { s = fma(g[i], g[i], s); }
  partials[P.first + c] = s;
}`,
};

const finalKernel: Kernel = {
  name: "gradnorm_final",
  params: { count: "u32", maxNorm: "f32", clip: "u32" },
  buffers: { partials: "f32", norm: "f32 write", scale: "f32 write" },
  code: `
@compute @workgroup_size(1) fn main() {
  var s = 0.0;
  for (var i = 0u; i < P.count; i++) { s += partials[i]; }
  let total = sqrt(s);
  norm[0] = total;
  scale[0] = select(1.0, min(1.0, P.maxNorm / (total + 1e-6)), P.clip != 0u);
}`,
};

const clipKernel: Kernel = {
  name: "clip_grads",
  params: { n: "u32" },
  buffers: { scale: "f32", g: "f32 write" },
  code: `
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let i = gid.x + gid.y * nw.x * ${WG}u;
  if (i < P.n) { g[i] = g[i] * scale[0]; }
}`,
};

function checkScalar(op: string, name: string, t: Tensor): void {
  if (t.dtype !== "f32" || t.size !== 1) throw new Error(`${op}: ${name} must be an f32 tensor of one element, got ${t.describe()}`);
}

function checkGrads(op: string, grads: readonly Tensor[]): void {
  if (grads.length === 0) throw new Error(`${op}: no gradient tensors given`);
  for (const g of grads) if (g.dtype !== "f32") throw new Error(`${op}: gradients must be f32, got ${g.describe()}`);
}

export interface GradNormArgs {
  readonly grads: readonly Tensor[];
  /** f32 [1]: the global norm, before clipping. */
  readonly norm: Tensor;
  /** f32 [1]: the clipping factor (1 when maxNorm is not given or not exceeded). */
  readonly scale: Tensor;
  readonly maxNorm?: number;
  /** Where its partial-sums buffer comes from (default: a tensor of its own, never freed). */
  readonly alloc?: Allocator;
}

/** One dispatch per tensor, plus the final sum, over a partial-sums buffer from `alloc`. */
export function gradNorm({ grads, norm, scale, maxNorm, alloc = allocate }: GradNormArgs): Dispatch[] {
  checkGrads("gradNorm", grads);
  checkScalar("gradNorm", "norm", norm);
  checkScalar("gradNorm", "scale", scale);
  if (maxNorm !== undefined && !(maxNorm > 0)) throw new Error(`gradNorm: maxNorm must be > 0, got ${maxNorm}`);
  const chunks = grads.map((g) => Math.ceil(g.size / CHUNK));
  const count = chunks.reduce((a, b) => a + b, 0);
  const partials = alloc([Math.max(1, count)], "f32", "gradnorm partials");
  const out: Dispatch[] = [];
  let first = 0;
  grads.forEach((g, k) => {
    if (g.size > 0) out.push(new Dispatch(partialKernel, { g, partials }, { n: g.size, first }, [groupsFor(chunks[k], WG)]));
    first += chunks[k];
  });
  out.push(
    new Dispatch(finalKernel, { partials, norm, scale }, { count, maxNorm: maxNorm ?? 0, clip: maxNorm === undefined ? 0 : 1 }, [1]),
  );
  return out;
}

export interface ClipGradsArgs {
  readonly grads: readonly Tensor[];
  readonly scale: Tensor;
}

/** Multiplies every gradient by scale[0] in place. */
export function clipGrads({ grads, scale }: ClipGradsArgs): Dispatch[] {
  checkGrads("clipGrads", grads);
  checkScalar("clipGrads", "scale", scale);
  return grads.map((g) => new Dispatch(clipKernel, { scale, g }, { n: g.size }, linearGrid(g.size, WG)));
}

// ---- reference ------------------------------------------------------------------------------------------------

export function gradNormReference(grads: readonly ArrayLike<number>[], maxNorm?: number): { norm: number; scale: number } {
  let s = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) s += g[i] * g[i];
  const norm = Math.sqrt(s);
  return { norm, scale: maxNorm === undefined ? 1 : Math.min(1, maxNorm / (norm + 1e-6)) };
}
