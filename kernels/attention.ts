// Causal self-attention with grouped-query heads: forward (online softmax), backward by recomputation, and a decode
// forward that reads a KV cache.
//
//   O[b,t,h] = Σ_{j ≤ t} softmax_j(scale · Q[b,t,h]·K[b,j,h/g]) · V[b,j,h/g],   g = heads / kvHeads, scale = 1/√D
//
// Layouts are the projections' own (no transposes): Q, O, dO, dQ [B, T, Hq, D]; K, V, dK, dV [B, T, Hkv, D];
// per-row statistics lse, delta [B, Hq, T]. Batches are right-padded: lens[b] tokens of sequence b are real. Query
// rows t ≥ lens[b] give O = 0, lse = 0 and no gradient; with the causal mask a real row never sees a padded key.
//
// One invocation per row, vec4 loops over D (D % 4 == 0), no workgroup memory and no barriers: the fastest shape
// on lavapipe, and deterministic everywhere. Each loop takes the other side's rows 4 at a time (4 dot products in
// flight, one vec4 exp, one online-softmax rescale per 4 keys). The loops over D run to a uniform bound (P.dv), not
// the constant DV that sizes the private arrays: with a constant bound lavapipe's LLVM unrolls them and the first
// dispatch at D = 64 JIT-compiles for 8-18 s per kernel instead of 1-3 s, for at most ~1.3x faster loops.
//   forward   per query row: online softmax over keys 0..t, keeps lse = max + log Σ exp for the backward
//   backward  1) per query row: delta = dO·O, then dQ = scale · Σ_j P_j (dO·V_j − delta) K_j
//             2) per key row: dV = Σ_i P_i dO_i and dK = scale · Σ_i P_i (dO_i·V − delta_i) Q_i over the g query
//                heads of its group and rows i ≥ j — each key owns its sums, so no atomics
//   decode    query row t of sequence b sits at position positions[b] + t and attends to cache rows 0..that position
import { expectRank, expectTensor, groupsFor } from "./checks.ts";
import { Dispatch, type Kernel } from "./kernel.ts";
import type { Tensor } from "./tensor.ts";

const WG = 64;

/** Sizes of one attention call, read off the tensors. */
export interface AttentionDims {
  batch: number;
  /** query rows per sequence */
  tq: number;
  /** key rows per sequence (= tq in training; the cache length when decoding) */
  tk: number;
  heads: number;
  kvHeads: number;
  headDim: number;
}

const PARAMS = { dv: "u32", rows: "u32", tq: "u32", tk: "u32", hq: "u32", hkv: "u32", group: "u32", scale: "f32" } as const;

function params(d: AttentionDims, rows: number): Record<keyof typeof PARAMS, number> {
  const { tq, tk, heads, kvHeads, headDim } = d;
  return { dv: headDim / 4, rows, tq, tk, hq: heads, hkv: kvHeads, group: heads / kvHeads, scale: 1 / Math.sqrt(headDim) };
}

/** WGSL shared by the kernels: the array size DV, row decoding and offsets (in vec4s). */
function prelude(headDim: number): string {
  return `
const DV = ${headDim / 4}u;
fn hsum(v: vec4f) -> f32 { return (v.x + v.y) + (v.z + v.w); }
// (b, t, h) of query row \`row\` (ordered b, h, t: neighbouring invocations share K/V rows and loop lengths)
fn queryRow(row: u32) -> vec3u { return vec3u(row / (P.tq * P.hq), row % P.tq, (row / P.tq) % P.hq); }
fn qOffset(b: u32, t: u32, h: u32) -> u32 { return ((b * P.tq + t) * P.hq + h) * DV; }
fn kOffset(b: u32, j: u32, kvh: u32) -> u32 { return ((b * P.tk + j) * P.hkv + kvh) * DV; }
`;
}

type ForwardMode = "train" | "decode";

// Blocks of 4 rows: rows past the end are clamped to the last one (in bounds) and masked out.
const LANES = ["x", "y", "z", "w"] as const;
/** `f(lane)` for the 4 lanes, joined by `sep`. */
const each = (f: (lane: (typeof LANES)[number], i: number) => string, sep = " ") => LANES.map(f).join(sep);
/** vec4f of hsum(<name>0) .. hsum(<name>3). */
const sums = (name: string) => `vec4f(${each((_, i) => `hsum(${name}${i})`, ", ")})`;
/** Block of 4 rows starting at \`first\`: lanes past \`last\` are dead. */
const alive = (first: string, last: string) => `vec4u(${first}) + vec4u(0u, 1u, 2u, 3u) <= vec4u(${last})`;
/** The 4 clamped row indices of a block. */
const clamped = (first: string, last: string) => `min(vec4u(${first}) + vec4u(0u, 1u, 2u, 3u), vec4u(${last}))`;

function forwardKernel(headDim: number, mode: ForwardMode): Kernel {
  const train = mode === "train";
  return {
    name: `attention_${mode}_d${headDim}`,
    params: PARAMS,
    buffers: train
      ? { q: "vec4f", k: "vec4f", v: "vec4f", lens: "u32", o: "vec4f write", lse: "f32 write" }
      : { q: "vec4f", k: "vec4f", v: "vec4f", positions: "u32", o: "vec4f write" },
    code: `${prelude(headDim)}
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3u) {
  let row = gid.x;
  if (row >= P.rows) { return; }
  let r = queryRow(row);
  let b = r.x; let t = r.y; let h = r.z;
  let qo = qOffset(b, t, h);
${
  train
    ? `  if (t >= lens[b]) {
    for (var c = 0u; c < P.dv; c++) { o[qo + c] = vec4f(0.0); }
    lse[row] = 0.0;
    return;
  }
  let last = t;`
    : `  let last = min(positions[b] + t, P.tk - 1u);`
}
  let kvh = h / P.group;
  var qs = array<vec4f, DV>();
  for (var c = 0u; c < P.dv; c++) { qs[c] = q[qo + c] * P.scale; }
  var acc = array<vec4f, DV>();
  var m = -3.0e38;
  var l = 0.0;
  for (var j = 0u; j <= last; j += 4u) {
    let jj = ${clamped("j", "last")};
    let kb = vec4u(${each((x) => `kOffset(b, jj.${x}, kvh)`, ", ")});
    ${each((_, i) => `var s${i} = vec4f(0.0);`)}
    for (var c = 0u; c < P.dv; c++) {
      ${each((x, i) => `s${i} = fma(qs[c], k[kb.${x} + c], s${i});`)}
    }
    let s = select(vec4f(-3.0e38), ${sums("s")}, ${alive("j", "last")});
    let mn = max(m, max(max(s.x, s.y), max(s.z, s.w)));
    let corr = exp(m - mn);
    let p = exp(s - vec4f(mn));
    l = l * corr + hsum(p);
    for (var c = 0u; c < P.dv; c++) {
      var a = acc[c] * corr;
      ${each((x) => `a = fma(vec4f(p.${x}), v[kb.${x} + c], a);`)}
      acc[c] = a;
    }
    m = mn;
  }
  let inv = 1.0 / l;
  for (var c = 0u; c < P.dv; c++) { o[qo + c] = acc[c] * inv; }
${train ? "  lse[row] = m + log(l);" : ""}
}`,
  };
}

function dqKernel(headDim: number): Kernel {
  return {
    name: `attention_dq_d${headDim}`,
    params: PARAMS,
    buffers: { q: "vec4f", k: "vec4f", v: "vec4f", lens: "u32", o: "vec4f", lse: "f32", dO: "vec4f", dq: "vec4f write", delta: "f32 write" },
    code: `${prelude(headDim)}
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3u) {
  let row = gid.x;
  if (row >= P.rows) { return; }
  let r = queryRow(row);
  let b = r.x; let t = r.y; let h = r.z;
  let qo = qOffset(b, t, h);
  if (t >= lens[b]) {
    for (var c = 0u; c < P.dv; c++) { dq[qo + c] = vec4f(0.0); }
    delta[row] = 0.0;
    return;
  }
  let kvh = h / P.group;
  var qs = array<vec4f, DV>();
  var g = array<vec4f, DV>();
  var dd = vec4f(0.0);
  for (var c = 0u; c < P.dv; c++) {
    qs[c] = q[qo + c] * P.scale;
    g[c] = dO[qo + c];
    dd = fma(g[c], o[qo + c], dd);
  }
  let D = hsum(dd);
  let L = lse[row];
  var acc = array<vec4f, DV>();
  for (var j = 0u; j <= t; j += 4u) {
    let jj = ${clamped("j", "t")};
    let kb = vec4u(${each((x) => `kOffset(b, jj.${x}, kvh)`, ", ")});
    ${each((_, i) => `var s${i} = vec4f(0.0); var d${i} = vec4f(0.0);`)}
    for (var c = 0u; c < P.dv; c++) {
      ${each((x, i) => `s${i} = fma(qs[c], k[kb.${x} + c], s${i}); d${i} = fma(g[c], v[kb.${x} + c], d${i});`, "\n      ")}
    }
    let p = select(vec4f(0.0), exp(${sums("s")} - vec4f(L)), ${alive("j", "t")});
    let ds = p * (${sums("d")} - vec4f(D));
    for (var c = 0u; c < P.dv; c++) {
      var a = acc[c];
      ${each((x) => `a = fma(vec4f(ds.${x}), k[kb.${x} + c], a);`)}
      acc[c] = a;
    }
  }
  for (var c = 0u; c < P.dv; c++) { dq[qo + c] = acc[c] * P.scale; }
  delta[row] = D;
}`,
  };
}

function dkvKernel(headDim: number): Kernel {
  return {
    name: `attention_dkv_d${headDim}`,
    params: PARAMS,
    buffers: {
      q: "vec4f", k: "vec4f", v: "vec4f", lens: "u32", lse: "f32", dO: "vec4f", delta: "f32",
      dk: "vec4f write", dv: "vec4f write",
    },
    code: `${prelude(headDim)}
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3u) {
  let row = gid.x;
  if (row >= P.rows) { return; }
  // key row (b, kvh, j), ordered like the query rows
  let j = row % P.tk;
  let kvh = (row / P.tk) % P.hkv;
  let b = row / (P.tk * P.hkv);
  let ko = kOffset(b, j, kvh);
  let len = lens[b];
  var ks = array<vec4f, DV>();
  var vs = array<vec4f, DV>();
  for (var c = 0u; c < P.dv; c++) { ks[c] = k[ko + c] * P.scale; vs[c] = v[ko + c]; }
  var gk = array<vec4f, DV>();
  var gv = array<vec4f, DV>();
  for (var h = kvh * P.group; h < (kvh + 1u) * P.group; h++) {
    for (var i = j; i < len; i += 4u) {
      let ii = ${clamped("i", "len - 1u")};
      let qb = vec4u(${each((x) => `qOffset(b, ii.${x}, h)`, ", ")});
      let sb = vec4u((b * P.hq + h) * P.tq) + ii;
      ${each((_, n) => `var s${n} = vec4f(0.0); var d${n} = vec4f(0.0);`)}
      for (var c = 0u; c < P.dv; c++) {
        ${each((x, n) => `s${n} = fma(q[qb.${x} + c], ks[c], s${n}); d${n} = fma(dO[qb.${x} + c], vs[c], d${n});`, "\n        ")}
      }
      let p = select(vec4f(0.0), exp(${sums("s")} - vec4f(${each((x) => `lse[sb.${x}]`, ", ")})), ${alive("i", "len - 1u")});
      let ds = p * (${sums("d")} - vec4f(${each((x) => `delta[sb.${x}]`, ", ")}));
      for (var c = 0u; c < P.dv; c++) {
        var av = gv[c];
        var ak = gk[c];
        ${each((x) => `av = fma(vec4f(p.${x}), dO[qb.${x} + c], av); ak = fma(vec4f(ds.${x}), q[qb.${x} + c], ak);`, "\n        ")}
        gv[c] = av;
        gk[c] = ak;
      }
    }
  }
  for (var c = 0u; c < P.dv; c++) { dk[ko + c] = gk[c] * P.scale; dv[ko + c] = gv[c]; }
}`,
  };
}

/** Reads and checks the sizes: q [B, Tq, Hq, D], k and v [B, Tk, Hkv, D]. */
function dimsOf(op: string, q: Tensor, k: Tensor, v: Tensor): AttentionDims {
  const [batch, tq, heads, headDim] = expectRank(op, "q", q, 4, "[batch, tokens, heads, headDim]");
  const [, tk, kvHeads] = expectRank(op, "k", k, 4, "[batch, tokens, kvHeads, headDim]");
  expectTensor(op, "k", k, [batch, tk, kvHeads, headDim]);
  expectTensor(op, "v", v, [batch, tk, kvHeads, headDim]);
  if (headDim % 4 !== 0) throw new Error(`${op}: headDim must be a multiple of 4, got ${headDim}`);
  if (heads % kvHeads !== 0) throw new Error(`${op}: heads (${heads}) must be a multiple of kvHeads (${kvHeads})`);
  return { batch, tq, tk, heads, kvHeads, headDim };
}

export interface AttentionForwardArgs {
  /** f32 [B, T, Hq, D] (after RoPE) */
  q: Tensor;
  /** f32 [B, T, Hkv, D] (after RoPE) */
  k: Tensor;
  v: Tensor;
  /** u32 [B]: real tokens per sequence (1..T), the rest is right padding */
  lens: Tensor<"u32">;
  /** out f32 [B, T, Hq, D] */
  out: Tensor;
  /** out f32 [B, Hq, T]: per-row log-sum-exp of the scaled scores, kept for the backward */
  lse: Tensor;
}

export function attentionForward(a: AttentionForwardArgs): Dispatch {
  const op = "attentionForward";
  const d = dimsOf(op, a.q, a.k, a.v);
  if (d.tk !== d.tq) throw new Error(`${op}: k has ${d.tk} tokens per sequence, q has ${d.tq}`);
  expectTensor(op, "lens", a.lens, [d.batch], "u32");
  expectTensor(op, "out", a.out, [...a.q.shape]);
  expectTensor(op, "lse", a.lse, [d.batch, d.heads, d.tq]);
  const rows = d.batch * d.heads * d.tq;
  const { q, k, v, lens, out: o, lse } = a;
  return new Dispatch(forwardKernel(d.headDim, "train"), { q, k, v, lens, o, lse }, params(d, rows), [groupsFor(rows, WG)]);
}

export interface AttentionBackwardArgs extends AttentionForwardArgs {
  /** f32 [B, T, Hq, D]: ∂L/∂out */
  dOut: Tensor;
  /** out f32, shaped like q, k, v */
  dq: Tensor;
  dk: Tensor;
  dv: Tensor;
  /** scratch f32 [B, Hq, T] (dO·O per row, written by the first dispatch, read by the second) */
  delta: Tensor;
}

/** Two dispatches, to encode in order: dQ (and delta), then dK and dV. */
export function attentionBackward(a: AttentionBackwardArgs): [Dispatch, Dispatch] {
  const op = "attentionBackward";
  const d = dimsOf(op, a.q, a.k, a.v);
  if (d.tk !== d.tq) throw new Error(`${op}: k has ${d.tk} tokens per sequence, q has ${d.tq}`);
  const qShape = [...a.q.shape];
  const kShape = [...a.k.shape];
  expectTensor(op, "lens", a.lens, [d.batch], "u32");
  expectTensor(op, "out", a.out, qShape);
  expectTensor(op, "dOut", a.dOut, qShape);
  expectTensor(op, "dq", a.dq, qShape);
  expectTensor(op, "dk", a.dk, kShape);
  expectTensor(op, "dv", a.dv, kShape);
  expectTensor(op, "lse", a.lse, [d.batch, d.heads, d.tq]);
  expectTensor(op, "delta", a.delta, [d.batch, d.heads, d.tq]);
  const { q, k, v, lens, lse, dq, dk, dv, delta } = a;
  const qRows = d.batch * d.heads * d.tq;
  const kRows = d.batch * d.kvHeads * d.tk;
  return [
    new Dispatch(dqKernel(d.headDim), { q, k, v, lens, o: a.out, lse, dO: a.dOut, dq, delta }, params(d, qRows), [groupsFor(qRows, WG)]),
    new Dispatch(dkvKernel(d.headDim), { q, k, v, lens, lse, dO: a.dOut, delta, dk, dv }, params(d, kRows), [groupsFor(kRows, WG)]),
  ];
}

export interface AttentionDecodeArgs {
  /** f32 [B, Tq, Hq, D]: the new tokens' queries (after RoPE) */
  q: Tensor;
  /** f32 [B, Tmax, Hkv, D]: caches that already hold the new tokens' keys and values (kvCacheAppend first) */
  kCache: Tensor;
  vCache: Tensor;
  /** u32 [B]: position of each sequence's first new token (the same tensor kvCacheAppend used) */
  positions: Tensor<"u32">;
  /** out f32 [B, Tq, Hq, D] */
  out: Tensor;
}

export function attentionDecode(a: AttentionDecodeArgs): Dispatch {
  const op = "attentionDecode";
  const d = dimsOf(op, a.q, a.kCache, a.vCache);
  expectTensor(op, "positions", a.positions, [d.batch], "u32");
  expectTensor(op, "out", a.out, [...a.q.shape]);
  const rows = d.batch * d.heads * d.tq;
  const tensors = { q: a.q, k: a.kCache, v: a.vCache, positions: a.positions, o: a.out };
  return new Dispatch(forwardKernel(d.headDim, "decode"), tensors, params(d, rows), [groupsFor(rows, WG)]);
}

/** Where query (b, t, h) and key (b, j, kvh) start in the flat arrays of the reference. */
function refOffsets(d: AttentionDims) {
  const { tq, tk, heads, kvHeads, headDim: D } = d;
  return {
    q: (b: number, t: number, h: number) => ((b * tq + t) * heads + h) * D,
    k: (b: number, j: number, h: number) => ((b * tk + j) * kvHeads + Math.floor(h / (heads / kvHeads))) * D,
    stat: (b: number, t: number, h: number) => (b * heads + h) * tq + t,
  };
}

/** Softmax probabilities of query (b, t, h) over keys 0..last, and their log-sum-exp (float64). */
function probsRow(q: ArrayLike<number>, k: ArrayLike<number>, d: AttentionDims, b: number, t: number, h: number, last: number) {
  const at = refOffsets(d);
  const scale = 1 / Math.sqrt(d.headDim);
  const s = new Float64Array(last + 1);
  for (let j = 0; j <= last; j++) {
    for (let c = 0; c < d.headDim; c++) s[j] += q[at.q(b, t, h) + c] * k[at.k(b, j, h) + c] * scale;
  }
  const m = Math.max(...s);
  let sum = 0;
  for (let j = 0; j <= last; j++) sum += Math.exp(s[j] - m);
  return { p: s.map((x) => Math.exp(x - m) / sum), lse: m + Math.log(sum) };
}

/**
 * Plain TS reference of the forward, float64: `lastKey(b, t)` is the last key row query (b, t) sees, or -1 for a
 * padded row (out 0, lse 0). Training: t < lens[b] ? t : -1; decoding: positions[b] + t.
 */
export function attentionReference(
  q: ArrayLike<number>,
  k: ArrayLike<number>,
  v: ArrayLike<number>,
  d: AttentionDims,
  lastKey: (b: number, t: number) => number,
): { out: Float64Array; lse: Float64Array } {
  const at = refOffsets(d);
  const out = new Float64Array(d.batch * d.tq * d.heads * d.headDim);
  const lse = new Float64Array(d.batch * d.heads * d.tq);
  for (let b = 0; b < d.batch; b++) {
    for (let h = 0; h < d.heads; h++) {
      for (let t = 0; t < d.tq; t++) {
        const last = lastKey(b, t);
        if (last < 0) continue;
        const row = probsRow(q, k, d, b, t, h, last);
        row.p.forEach((p, j) => {
          for (let c = 0; c < d.headDim; c++) out[at.q(b, t, h) + c] += p * v[at.k(b, j, h) + c];
        });
        lse[at.stat(b, t, h)] = row.lse;
      }
    }
  }
  return { out, lse };
}

/** Plain TS reference of the training backward (tq = tk, right padding by `lens`), float64. */
export function attentionBackwardReference(
  q: ArrayLike<number>,
  k: ArrayLike<number>,
  v: ArrayLike<number>,
  dOut: ArrayLike<number>,
  d: AttentionDims,
  lens: ArrayLike<number>,
): { dq: Float64Array; dk: Float64Array; dv: Float64Array } {
  const at = refOffsets(d);
  const D = d.headDim;
  const scale = 1 / Math.sqrt(D);
  const dq = new Float64Array(q.length);
  const dk = new Float64Array(k.length);
  const dv = new Float64Array(v.length);
  const dot = (a: ArrayLike<number>, ao: number, b: ArrayLike<number>, bo: number) => {
    let s = 0;
    for (let c = 0; c < D; c++) s += a[ao + c] * b[bo + c];
    return s;
  };
  for (let b = 0; b < d.batch; b++) {
    for (let h = 0; h < d.heads; h++) {
      for (let t = 0; t < lens[b]; t++) {
        const { p } = probsRow(q, k, d, b, t, h, t);
        const qo = at.q(b, t, h);
        const dp = p.map((_, j) => dot(dOut, qo, v, at.k(b, j, h)));
        const delta = p.reduce((s, pj, j) => s + pj * dp[j], 0);
        p.forEach((pj, j) => {
          const ko = at.k(b, j, h);
          const ds = pj * (dp[j] - delta) * scale;
          for (let c = 0; c < D; c++) {
            dq[qo + c] += ds * k[ko + c];
            dk[ko + c] += ds * q[qo + c];
            dv[ko + c] += pj * dOut[qo + c];
          }
        });
      }
    }
  }
  return { dq, dk, dv };
}
