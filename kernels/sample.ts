// Token sampling for generation (forward only): temperature, top-k and top-p (nucleus) over rows of logits, with a
// counter-based RNG so that a (seed, row, step) triple always draws the same token. Temperature 0 is greedy
// (the first index of the maximum).
//
// Order of the filters, as in HF/vLLM: scale by 1/temperature, keep the k largest logits, then keep the smallest
// prefix of the rest (by decreasing probability, renormalised) whose mass reaches top-p; draw from what is left.
// Tokens tied with the k-th largest (or the nucleus boundary) logit are all kept.
//
// One workgroup of 64 per row, each invocation owning a contiguous chunk of the row (so that index order is the
// chunk order), no float atomics (partials combine in a fixed order: deterministic):
//   1. row max (and, when greedy, the first index holding it)
//   2. top-k threshold: radix select over the logits' order-preserving u32 keys, 4 bits per pass (8 passes), the
//      weight of a key being 1 (a count)
//   3. top-p threshold: the same radix select with weight exp((x − max)/T), among keys ≥ the top-k threshold
//   4. inverse CDF: u·Σw with u from a PCG hash of (seed, row, step); the invocation whose chunk holds the point
//      scans it in index order.
// Steps 2 and 3 run only when their filter is on; the cost is then ~9 passes over the row each, against the one
// matmul of hidden × vocab that made the logits.
import { expectTensor } from "./checks.ts";
import { Dispatch, type Kernel } from "./kernel.ts";
import type { Tensor } from "./tensor.ts";
import { rowDecl, rowPrelude, rowsOf, rowWidth, type RowWidth } from "./vocab-rows.ts";

const WG = 64;

export interface SamplingOptions {
  /** 0 = greedy; otherwise logits are divided by it */
  temperature: number;
  /** keep the k most likely tokens; 0 = off */
  topK: number;
  /** keep the smallest most-likely set whose mass reaches topP, in (0, 1]; 1 = off */
  topP: number;
  /** u32 seed of the RNG stream */
  seed: number;
}

function sampleKernel(w: RowWidth): Kernel {
  return {
    name: `sample_w${w}`,
    params: { vocab: "u32", vw: "u32", chunk: "u32", invTemp: "f32", topK: "u32", topP: "f32", seed: "u32", step: "u32" },
    buffers: { logits: rowDecl(w), tokens: "u32 write" },
    code: `${rowPrelude(w)}
var<workgroup> partF: array<f32, ${WG}>;
var<workgroup> partU: array<u32, ${WG}>;
var<workgroup> hist: array<array<f32, 16>, ${WG}>;
var<workgroup> bins: array<f32, 16>;

// Order-preserving map f32 -> u32 (a < b  <=>  key(a) < key(b)).
fn key(x: V) -> U {
  let u = bitcast<U>(x);
  return select(u | U(0x80000000u), ~u, (u & U(0x80000000u)) != U(0u));
}

fn pcg(v: u32) -> u32 {
  let s = v * 747796405u + 2891336453u;
  let w = ((s >> ((s >> 28u) + 4u)) ^ s) * 277803737u;
  return (w >> 22u) ^ w;
}

fn reduceMax(lid: u32, x: f32) -> f32 {
  partF[lid] = x;
  workgroupBarrier();
  var m = partF[0];
  for (var i = 1u; i < ${WG}u; i++) { m = max(m, partF[i]); }
  workgroupBarrier();
  return m;
}

fn reduceSum(lid: u32, x: f32) -> f32 {
  partF[lid] = x;
  workgroupBarrier();
  var s = 0.0;
  for (var i = 0u; i < ${WG}u; i++) { s += partF[i]; }
  workgroupBarrier();
  return s;
}

fn reduceMinU(lid: u32, x: u32) -> u32 {
  partU[lid] = x;
  workgroupBarrier();
  var m = partU[0];
  for (var i = 1u; i < ${WG}u; i++) { m = min(m, partU[i]); }
  workgroupBarrier();
  return m;
}

// Sampling weight of logit x: exp((x − max)/T) when its key is at least floor, else 0.
fn weight(x: V, mx: f32, floor: u32) -> V {
  return select(V(0.0), exp((x - V(mx)) * P.invTemp), key(x) >= U(floor));
}

// The largest key t with  W(keys >= t) >= goal  among keys >= floor, where W sums 1 per element (byMass false)
// or weight() (byMass true). Built 4 bits at a time from the top: each round histograms the next digit of the keys
// that match the bits chosen so far.
fn radixSelect(lid: u32, base: u32, lo: u32, hi: u32, mx: f32, floor: u32, goal: f32, byMass: bool) -> u32 {
  var prefix = 0u;
  var above = 0.0;
  for (var round = 0u; round < 8u; round++) {
    let shift = 28u - 4u * round;
    let mask = select(~((1u << (shift + 4u)) - 1u), 0u, round == 0u);
    var h = array<f32, 16>();
    for (var c = lo; c < hi; c++) {
      let x = logits[base + c];
      let k = key(x);
      let wt = select(select(V(0.0), V(1.0), k >= U(floor)), weight(x, mx, floor), byMass);
      let live = (k & U(mask)) == U(prefix);
      let digit = (k >> U(shift)) & U(15u);
${
  w === 4
    ? `      for (var l = 0u; l < 4u; l++) { if (live[l]) { h[digit[l]] += wt[l]; } }`
    : `      if (live) { h[digit] += wt; }`
}
    }
    hist[lid] = h;
    workgroupBarrier();
    if (lid < 16u) {
      var s = 0.0;
      for (var i = 0u; i < ${WG}u; i++) { s += hist[i][lid]; }
      bins[lid] = s;
    }
    workgroupBarrier();
    var chosen = 0u;
    for (var d = 15u; d > 0u; d--) {
      if (above + bins[d] >= goal) { chosen = d; break; }
      above += bins[d];
    }
    prefix |= chosen << shift;
  }
  return prefix;
}

@compute @workgroup_size(${WG}) fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = wid.x;
  let base = row * P.vw;
  let lo = min(lid * P.chunk, P.vw);
  let hi = min(lo + P.chunk, P.vw);

  var m = -3.4e38;
  for (var c = lo; c < hi; c++) { m = max(m, hmax(logits[base + c])); }
  let mx = reduceMax(lid, m);

  if (P.invTemp == 0.0) {
    var first = 0xffffffffu;
    for (var c = lo; c < hi; c++) {
      let ids = select(U(0xffffffffu), lanes(c), logits[base + c] == V(mx));
      first = min(first, ${w === 4 ? "min(min(ids.x, ids.y), min(ids.z, ids.w))" : "ids"});
    }
    let best = reduceMinU(lid, first);
    if (lid == 0u) { tokens[row] = best; }
    return;
  }

  var floor = 0u;
  if (P.topK > 0u && P.topK < P.vocab) {
    floor = radixSelect(lid, base, lo, hi, mx, 0u, f32(P.topK), false);
  }
  if (P.topP < 1.0) {
    var z = V(0.0);
    for (var c = lo; c < hi; c++) { z += weight(logits[base + c], mx, floor); }
    let kept = reduceSum(lid, hsum(z));
    floor = radixSelect(lid, base, lo, hi, mx, floor, P.topP * kept, true);
  }

  // Inverse CDF in index order: find the chunk holding u·total, then the element inside it.
  var part = V(0.0);
  for (var c = lo; c < hi; c++) { part += weight(logits[base + c], mx, floor); }
  partF[lid] = hsum(part);
  workgroupBarrier();
  let u = f32(pcg(pcg(pcg(P.seed) ^ row) ^ P.step) >> 8u) * (1.0 / 16777216.0);
  var total = 0.0;
  for (var i = 0u; i < ${WG}u; i++) { total += partF[i]; }
  let point = u * total;
  var owner = 0u;
  var before = 0.0;
  var acc = 0.0;
  for (var i = 0u; i < ${WG}u; i++) {
    if (partF[i] > 0.0) { owner = i; before = acc; }
    acc += partF[i];
    if (acc > point && partF[i] > 0.0) { break; }
  }
  if (lid != owner) { return; }
  var cum = before;
  var token = 0u;
  for (var c = lo; c < hi; c++) {
    let wt = weight(logits[base + c], mx, floor);
    let ids = lanes(c);
${
  w === 4
    ? `    for (var l = 0u; l < 4u; l++) {
      if (wt[l] > 0.0) { token = ids[l]; cum += wt[l]; if (cum > point) { tokens[row] = token; return; } }
    }`
    : `    if (wt > 0.0) { token = ids; cum += wt; if (cum > point) { tokens[row] = token; return; } }`
}
  }
  tokens[row] = token;
}`,
  };
}

/** The uniform values for `options` at decode step `step` (also what `Sampler.at` sets). */
function uniforms(vocab: number, o: SamplingOptions, step: number): Record<string, number> {
  const w = rowWidth(vocab);
  const vw = vocab / w;
  return {
    vocab,
    vw,
    chunk: Math.ceil(vw / WG),
    invTemp: o.temperature === 0 ? 0 : 1 / o.temperature,
    topK: o.topK,
    topP: o.topP,
    seed: o.seed,
    step,
  };
}

function checkOptions(o: SamplingOptions): void {
  const bad = (what: string) => new Error(`sample: ${what}`);
  if (!(o.temperature >= 0) || !Number.isFinite(o.temperature)) throw bad(`temperature must be >= 0 (0 = greedy), got ${o.temperature}`);
  if (!Number.isInteger(o.topK) || o.topK < 0) throw bad(`topK must be an integer >= 0 (0 = off), got ${o.topK}`);
  if (!(o.topP > 0 && o.topP <= 1)) throw bad(`topP must be in (0, 1] (1 = off), got ${o.topP}`);
  if (!Number.isInteger(o.seed) || o.seed < 0 || o.seed > 0xffffffff) throw bad(`seed must be a u32, got ${o.seed}`);
}

/**
 * Samples one token per row of `logits` [rows, vocab] into `tokens` u32 [rows]. Row r of step s draws with the
 * counter (seed, r, s): the same triple gives the same token. Build once per (logits, tokens); call `at(step)` before
 * each submit.
 */
export class Sampler {
  readonly dispatch: Dispatch;
  private readonly vocab: number;
  private readonly options: SamplingOptions;

  constructor(logits: Tensor, tokens: Tensor<"u32">, options: SamplingOptions) {
    const { rows, vocab } = rowsOf("sample", logits);
    expectTensor("sample", "tokens", tokens, [rows], "u32");
    checkOptions(options);
    this.vocab = vocab;
    this.options = { ...options };
    const w = rowWidth(vocab);
    this.dispatch = new Dispatch(sampleKernel(w), { logits, tokens }, uniforms(vocab, options, 0), [rows]);
  }

  /** The dispatch, set to draw for decode step `step` (a u32). */
  at(step: number): Dispatch {
    if (!Number.isInteger(step) || step < 0 || step > 0xffffffff) throw new Error(`sample: step must be a u32, got ${step}`);
    this.dispatch.set({ step });
    return this.dispatch;
  }
}

/**
 * Plain TS reference: the distribution one row is sampled from, after temperature, top-k and top-p (float64).
 * Greedy rows put all mass on the first maximum.
 */
export function samplingDistribution(logits: ArrayLike<number>, o: SamplingOptions): Float64Array {
  const n = logits.length;
  const probs = new Float64Array(n);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => logits[b] - logits[a] || a - b);
  if (o.temperature === 0) {
    probs[order[0]] = 1;
    return probs;
  }
  const mx = logits[order[0]];
  const w = order.map((i) => Math.exp((logits[i] - mx) / o.temperature));
  const withTies = (count: number) => {
    while (count < n && logits[order[count]] === logits[order[count - 1]]) count++;
    return count;
  };
  let kept = withTies(o.topK > 0 && o.topK < n ? o.topK : n);
  const zk = w.slice(0, kept).reduce((s, x) => s + x, 0);
  if (o.topP < 1) {
    let before = 0;
    let nucleus = 0;
    while (nucleus < kept && before < o.topP * zk) before += w[nucleus++];
    kept = Math.min(withTies(nucleus), kept);
  }
  const z = w.slice(0, kept).reduce((s, x) => s + x, 0);
  for (let r = 0; r < kept; r++) probs[order[r]] = w[r] / z;
  return probs;
}
