// Matmul C = op(A)·op(B) (+ C when accumulating), plain or batched, with transposed operands for the backward pass.
//
//   matmul({ a: x, b: w, c: y })                                   // y[M,N] = x[M,K]·w[K,N]
//   matmul({ a: dy, b: w, c: dx, transB: true })                   // dx = dy·wᵀ
//   matmul({ a: x, b: dy, c: dw, transA: true, accumulate: true }) // dw += xᵀ·dy (K = tokens: one long-K dispatch)
//   matmulBackward({ a, b, dc, da, db, transA, transB })          // both gradients of any of the above
//
// Batched: 3-D operands [batch, ...] (same batch everywhere) run as one dispatch with the batch on the z grid.
// Column blocks: any 2-D operand may be `columns(t, from, count)`, a window of a wider row-major matrix read or
// written in place (row stride and offset travel as uniforms). A weight split into row shards (shards.ts) computes
// or consumes its block of the output's columns this way, so no [rows, vocab] tensor is ever copied.
// Shapes travel in a uniform, so one pipeline serves every shape of a variant.
//
// Variants (one switch, `variant`, default by adapter or AZR_MATMUL):
//   rbv8x8 — for software adapters (lavapipe): no workgroup memory (barriers are coroutine switches there); each
//            invocation keeps an 8×8 block of C in registers (8 rows × 2 vec4), K unrolled by 4, fma on vec4.
//            An operand whose stored rows hold a multiple of 4 elements is bound as a vec4 array; any other is
//            bound as f32 and read four scalars at a time (≈0.7× the vec4 speed, measured). Shapes like the LM
//            head's (a 151,665-token vocabulary) need that: `tiled` on a [2, hidden]·[vocab, hidden]ᵀ decode
//            product wastes 31/32 of each 64-row tile and ran ~200× slower than this on lavapipe.
//   tiled  — for GPUs: 64×64 C tile per 16×16 workgroup, 16-deep K slices staged in workgroup memory, 4×4 per
//            invocation. Scalar loads with zero fill at the edges, so any shape works with one pipeline.
// Every output element is one sequential fma chain over k: results are bitwise reproducible on one adapter.
// Half-precision weights: B may be f16 (A and C are f32). Each B element is widened to f32 as it is loaded, so every
// product and the whole sum over k run in f32 exactly as for an f32 B holding the same (rounded) values; only the
// storage (and the bytes read) halves. Both variants take it, as generated code (`_hB` in the kernel name).
import { requireGpu } from "./device.ts";
import { flags } from "./flags.ts";
import { Dispatch, type Kernel } from "./kernel.ts";
import type { Tensor } from "./tensor.ts";

export type MatmulVariant = "rbv8x8" | "tiled";

export interface MatmulFlags {
  /** A is stored [K,M] (or [batch,K,M]) and used transposed. */
  readonly transA?: boolean;
  /** B is stored [N,K] (or [batch,N,K]) and used transposed. */
  readonly transB?: boolean;
  /** C += op(A)·op(B) instead of C = op(A)·op(B). */
  readonly accumulate?: boolean;
  /** Overrides the adapter's default variant (tests run every variant). */
  readonly variant?: MatmulVariant;
}

export interface MatmulShape {
  readonly batch: number;
  readonly M: number;
  readonly N: number;
  readonly K: number;
}

/** The variant used when none is asked for: AZR_MATMUL, else by adapter. */
export function defaultMatmulVariant(): MatmulVariant {
  if (flags.matmul !== "auto") return flags.matmul;
  return requireGpu().isSoftware ? "rbv8x8" : "tiled";
}

/** Columns [from, from + count) of a 2-D row-major tensor, used in place as a [rows, count] operand. */
export interface Columns {
  readonly tensor: Tensor;
  readonly from: number;
  readonly count: number;
}

export type MatmulOperand = Tensor | Columns;

export function columns(tensor: Tensor, from: number, count: number): Columns {
  const width = tensor.shape[1];
  if (tensor.shape.length !== 2 || !Number.isInteger(from) || !Number.isInteger(count) || from < 0 || count < 1 || from + count > width) {
    throw new Error(`columns ${from}..${from + count} of ${tensor.describe()}: a 2-D tensor and a non-empty range inside its columns`);
  }
  return { tensor, from, count };
}

/** An operand as the kernels see it: its buffer, its logical shape, its row stride and its first element. */
interface Strided {
  readonly tensor: Tensor;
  readonly shape: readonly number[];
  readonly ld: number;
  readonly offset: number;
}

function strided(x: MatmulOperand): Strided {
  if (!("from" in x)) return { tensor: x, shape: x.shape, ld: x.shape[x.shape.length - 1], offset: 0 };
  return { tensor: x.tensor, shape: [x.tensor.shape[0], x.count], ld: x.tensor.shape[1], offset: x.from };
}

function describeOperand(x: MatmulOperand): string {
  return "from" in x ? `${x.tensor.describe()}[:, ${x.from}:${x.from + x.count}]` : x.describe();
}

export interface MatmulArgs extends MatmulFlags {
  readonly a: MatmulOperand;
  readonly b: MatmulOperand;
  readonly c: MatmulOperand;
}

/** Checks the three shapes against each other and returns the problem size. */
export function matmulShape({ a: a0, b: b0, c: c0, ...opts }: MatmulArgs): MatmulShape {
  const fail = (why: string): never => {
    throw new Error(
      `matmul${opts.transA ? " transA" : ""}${opts.transB ? " transB" : ""}: ${why} (A ${describeOperand(a0)}, B ${describeOperand(b0)}, C ${describeOperand(c0)})`,
    );
  };
  const [a, b, c] = [a0, b0, c0].map(strided);
  if (a.tensor.dtype !== "f32" || c.tensor.dtype !== "f32") fail("A and C must be f32");
  if (b.tensor.dtype !== "f32" && b.tensor.dtype !== "f16") fail("B must be f32 or f16");
  for (const t of [a, b, c]) {
    if (t.shape.length !== 2 && t.shape.length !== 3) fail("operands must be 2-D or 3-D (batched)");
  }
  const rank = c.shape.length;
  if (a.shape.length !== rank || b.shape.length !== rank) fail("A, B and C must all be 2-D or all 3-D");
  const batch = rank === 3 ? c.shape[0] : 1;
  if (rank === 3 && (a.shape[0] !== batch || b.shape[0] !== batch)) fail("batch sizes differ");
  const [ar, ac] = a.shape.slice(rank - 2);
  const [br, bc] = b.shape.slice(rank - 2);
  const [M, N] = c.shape.slice(rank - 2);
  const [aM, aK] = opts.transA ? [ac, ar] : [ar, ac];
  const [bK, bN] = opts.transB ? [bc, br] : [br, bc];
  if (aM !== M) fail(`A has ${aM} rows, C has ${M}`);
  if (bN !== N) fail(`B has ${bN} columns, C has ${N}`);
  if (aK !== bK) fail(`inner dimensions differ: A gives K=${aK}, B gives K=${bK}`);
  if (aK === 0) fail("K must be at least 1");
  return { batch, M, N, K: aK };
}

/** Builds the dispatch for C = op(A)·op(B) (+C). */
export function matmul(args: MatmulArgs): Dispatch {
  const { transA = false, transB = false, accumulate = false, variant = defaultMatmulVariant() } = args;
  const { M, N, K, batch } = matmulShape(args);
  const [a, b, c] = [args.a, args.b, args.c].map(strided);
  const params = { M, N, K, acc: accumulate ? 1 : 0, lda: a.ld, ldb: b.ld, ldc: c.ld, oa: a.offset, ob: b.offset, oc: c.offset };
  const buffers = { A: a.tensor, B: b.tensor, C: c.tensor };
  const halfB = b.tensor.dtype === "f16";
  if (variant === "tiled") {
    return new Dispatch(tiledKernel(transA, transB, halfB), buffers, params, [Math.ceil(N / TILE), Math.ceil(M / TILE), batch]);
  }
  // vec4 access needs the operand's stored rows and its first element on 4-element boundaries.
  const aligned = (t: Strided) => t.ld % 4 === 0 && t.offset % 4 === 0;
  const vec4 = { a: aligned(a), b: aligned(b), c: aligned(c) && N % 4 === 0 };
  const rb = registerBlockFor(M, transA);
  return new Dispatch(registerKernel(transA, transB, vec4, halfB, rb), buffers, params, [
    Math.ceil(N / (32 * rb.groups)),
    Math.ceil(M / (rb.wy * rb.rows)),
    batch,
  ]);
}

export interface MatmulBackwardArgs extends MatmulFlags {
  readonly a: MatmulOperand;
  readonly b: MatmulOperand;
  readonly dc: MatmulOperand;
  readonly da?: MatmulOperand;
  readonly db?: MatmulOperand;
}

/**
 * Gradients of C = op(A)·op(B) given dC: dA and dB (either may be omitted). Overwrites them unless `accumulate`.
 * Each gradient is itself one matmul with the operands' roles and transpositions swapped.
 */
export function matmulBackward({ a, b, dc, da, db, ...opts }: MatmulBackwardArgs): Dispatch[] {
  matmulShape({ a, b, c: dc, ...opts });
  const { transA = false, transB = false, accumulate, variant } = opts;
  const out: Dispatch[] = [];
  if (da) {
    // dA = dC·op(B)ᵀ; when A is stored transposed, dA = op(B)·dCᵀ.
    out.push(
      transA
        ? matmul({ a: b, b: dc, c: da, transA: transB, transB: true, accumulate, variant })
        : matmul({ a: dc, b, c: da, transB: !transB, accumulate, variant }),
    );
  }
  if (db) {
    // dB = op(A)ᵀ·dC; when B is stored transposed, dB = dCᵀ·op(A).
    out.push(
      transB
        ? matmul({ a: dc, b: a, c: db, transA: true, transB: transA, accumulate, variant })
        : matmul({ a, b: dc, c: db, transA: !transA, accumulate, variant }),
    );
  }
  return out;
}

// Row strides (ld) and first elements (o) of A, B and C: their natural values unless an operand is a column block.
const PARAMS = { M: "u32", N: "u32", K: "u32", acc: "u32", lda: "u32", ldb: "u32", ldc: "u32", oa: "u32", ob: "u32", oc: "u32" } as const;

// ---- rbv8x8: register blocked, no workgroup memory -------------------------------------------------------------

/** Register block of one invocation: `rows` rows × `groups` vec4 column groups; `wy` invocations along y (8 along x). */
export interface RegisterBlock {
  readonly rows: number;
  readonly groups: number;
  readonly wy: number;
}
export const RB: RegisterBlock = { rows: 8, groups: 2, wy: 4 };

/**
 * A few rows (a decode step's [batch, hidden] against the LM head) get one row of invocations per workgroup and as
 * few rows per invocation as cover M: with RB, rows past M are computed and dropped, 16× the work at M = 2
 * (decode at batch 1 on lavapipe: 18 ms a token with 4 rows, 13 ms with 1).
 */
function registerBlockFor(M: number, transA: boolean): RegisterBlock {
  if (M === 1 && !transA) return { rows: 1, groups: 2, wy: 1 }; // a transposed A is read 4 rows at a time
  if (M <= 4) return { rows: 4, groups: 2, wy: 1 };
  if (M <= 8) return { rows: 8, groups: 2, wy: 1 };
  return RB;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const Q4 = range(4);
const LANE = ["x", "y", "z", "w"];

/** Which operands are bound as vec4 arrays (the others as f32). */
interface Vec4Operands {
  readonly a: boolean;
  readonly b: boolean;
  readonly c: boolean;
}

function registerKernel(transA: boolean, transB: boolean, vec4: Vec4Operands, halfB: boolean, rb: RegisterBlock): Kernel {
  const ROWS = range(rb.rows);
  const GROUPS = range(rb.groups);
  const H = range(rb.rows / 4);
  const isVec4 = (m: string) => (m === "A" ? vec4.a : m === "B" ? vec4.b : vec4.c);
  // An f16 B widens to f32 on load.
  const widen = (m: string, e: string, type: string) => (m === "B" && halfB ? `${type}(${e})` : e);
  // Element i of an operand, and the four elements from i (i a multiple of 4 when the operand is vec4).
  const ld1 = (m: string, i: string) => widen(m, isVec4(m) ? `${m}[(${i}) >> 2u][(${i}) & 3u]` : `${m}[${i}]`, "f32");
  const ld4 = (m: string, i: string) =>
    isVec4(m) ? widen(m, `${m}[(${i}) >> 2u]`, "vec4f") : `vec4f(${Q4.map((q) => widen(m, `${m}[(${i}) + ${q}u]`, "f32")).join(", ")})`;
  const idxA = (r: string, k: string) => (transA ? `aB + (${k}) * P.lda + ${r}` : `aB + (${r}) * P.lda + ${k}`);
  const idxB = (k: string, n: string) => (transB ? `bB + (${n}) * P.ldb + ${k}` : `bB + (${k}) * P.ldb + ${n}`);
  const col = (j: number, i = 0) => `(c0 + ${8 * j}u) * 4u${i ? ` + ${i}u` : ""}`;

  // One k-block of 4: the scalar A value for (row r, k+q) and the vec4 of B for (k+q, column group j).
  const loads: string[] = [];
  let aval: (r: number, q: number) => string;
  if (transA) {
    for (const q of Q4) for (const h of H) loads.push(`let t${q}_${h} = ${ld4("A", idxA(`r0 + ${h * 4}u`, `k + ${q}u`))};`);
    aval = (r, q) => `t${q}_${r >> 2}.${LANE[r & 3]}`;
  } else {
    for (const r of ROWS) loads.push(`let a${r} = ${ld4("A", idxA(`r0 + ${r}u`, "k"))};`);
    aval = (r, q) => `a${r}.${LANE[q]}`;
  }
  if (transB) {
    for (const j of GROUPS) for (const i of Q4) loads.push(`let u${j}_${i} = ${ld4("B", idxB("k", col(j, i)))};`);
    for (const q of Q4) for (const j of GROUPS) loads.push(`let b${q}_${j} = vec4f(${Q4.map((i) => `u${j}_${i}.${LANE[q]}`).join(", ")});`);
  } else {
    for (const q of Q4) for (const j of GROUPS) loads.push(`let b${q}_${j} = ${ld4("B", idxB(`k + ${q}u`, col(j)))};`);
  }
  const fmas: string[] = [];
  for (const r of ROWS) for (const j of GROUPS) for (const q of Q4) fmas.push(`s${r}_${j} = fma(vec4f(${aval(r, q)}), b${q}_${j}, s${r}_${j});`);

  // K remainder, one k at a time (only A stored transposed with B plain allows K % 4 != 0: tokens in dW = Xᵀ·dY).
  const tail: string[] = [];
  const bTail = (j: number) =>
    transB ? `vec4f(${Q4.map((i) => ld1("B", idxB("k", col(j, i)))).join(", ")})` : ld4("B", idxB("k", col(j)));
  for (const j of GROUPS) tail.push(`let e${j} = ${bTail(j)};`);
  for (const r of ROWS) {
    tail.push(`let f${r} = ${ld1("A", idxA(`r0 + ${r}u`, "k"))};`);
    for (const j of GROUPS) tail.push(`s${r}_${j} = fma(vec4f(f${r}), e${j}, s${r}_${j});`);
  }

  // Stores: rows past M and columns past N are skipped (their sums read clamped or neighbouring memory).
  const stores: string[] = [];
  for (const r of ROWS) {
    const rows = [`if (r0 + ${r}u < P.M) {`, `  let row = cB + (r0 + ${r}u) * P.ldc;`];
    for (const j of GROUPS) {
      if (vec4.c) {
        rows.push(`  if (${col(j)} < P.N) { let o = (row + ${col(j)}) >> 2u; var v = s${r}_${j}; if (P.acc != 0u) { v += C[o]; } C[o] = v; }`);
      } else {
        for (const i of Q4) {
          const at = col(j, i);
          rows.push(`  if (${at} < P.N) { let o = row + ${at}; var v = s${r}_${j}.${LANE[i]}; if (P.acc != 0u) { v += C[o]; } C[o] = v; }`);
        }
      }
    }
    rows.push("}");
    stores.push(rows.join("\n"));
  }

  const scalars = (["a", "b", "c"] as const).filter((m) => !vec4[m]).map((m) => `_s${m.toUpperCase()}`).join("");
  const code = `
@compute @workgroup_size(8, ${rb.wy})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let r0 = (wid.y * ${rb.wy}u + lid.y) * ${rb.rows}u;
  let c0 = wid.x * ${8 * rb.groups}u + lid.x;   // column groups (of 4) of this invocation: c0, c0 + 8, ...
  let aB = P.oa + wid.z * P.M * P.K;
  let bB = P.ob + wid.z * P.K * P.N;
  let cB = P.oc + wid.z * P.M * P.N;
  ${ROWS.flatMap((r) => GROUPS.map((j) => `var s${r}_${j} = vec4f(0.0);`)).join(" ")}
  let k4 = P.K & ~3u;
  for (var k = 0u; k < k4; k += 4u) {
    ${loads.join("\n    ")}
    ${fmas.join("\n    ")}
  }
  for (var k = k4; k < P.K; k += 1u) {
    ${tail.join("\n    ")}
  }
  ${stores.join("\n  ")}
}`;
  return {
    name: `matmul_rbv${rb.rows}x${4 * rb.groups}${rb.wy === RB.wy ? "" : `w${rb.wy}`}${transA ? "_tA" : ""}${transB ? "_tB" : ""}${halfB ? "_hB" : ""}${scalars}`,
    params: PARAMS,
    buffers: { A: vec4.a ? "vec4f" : "f32", B: halfB ? (vec4.b ? "vec4h" : "f16") : vec4.b ? "vec4f" : "f32", C: vec4.c ? "vec4f write" : "f32 write" },
    code,
  };
}

// ---- tiled: workgroup memory, for GPUs ------------------------------------------------------------------------

const TILE = 64; // C tile per workgroup (TILE × TILE)

function tiledKernel(transA: boolean, transB: boolean, halfB: boolean): Kernel {
  const b = (i: string) => (halfB ? `f32(B[${i}])` : `B[${i}]`);
  // Staging loads walk memory contiguously: along k for a row-major A, along m for a transposed one (same for B).
  const loadA = transA
    ? `let kk = e / TILE; let m = e % TILE; let gk = k0 + kk; let gm = row0 + m;
      As[kk][m] = select(0.0, A[aB + gk * P.lda + gm], gk < P.K && gm < P.M);`
    : `let m = e / BK; let kk = e % BK; let gk = k0 + kk; let gm = row0 + m;
      As[kk][m] = select(0.0, A[aB + gm * P.lda + gk], gk < P.K && gm < P.M);`;
  const loadB = transB
    ? `let n = e / BK; let kk = e % BK; let gk = k0 + kk; let gn = col0 + n;
      Bs[kk][n] = select(0.0, ${b("bB + gn * P.ldb + gk")}, gk < P.K && gn < P.N);`
    : `let kk = e / TILE; let n = e % TILE; let gk = k0 + kk; let gn = col0 + n;
      Bs[kk][n] = select(0.0, ${b("bB + gk * P.ldb + gn")}, gk < P.K && gn < P.N);`;
  const code = `
const TILE = ${TILE}u;
const BK = 16u;
const T = 16u;   // invocations per side; each owns rows ty + T*i and columns tx + T*j (i, j < 4)
var<workgroup> As: array<array<f32, ${TILE}>, 16>;
var<workgroup> Bs: array<array<f32, ${TILE}>, 16>;

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let row0 = wid.y * TILE;
  let col0 = wid.x * TILE;
  let aB = P.oa + wid.z * P.M * P.K;
  let bB = P.ob + wid.z * P.K * P.N;
  let cB = P.oc + wid.z * P.M * P.N;
  var s: array<array<f32, 4>, 4>;
  for (var k0 = 0u; k0 < P.K; k0 += BK) {
    for (var e = li; e < TILE * BK; e += T * T) {
      ${loadA}
    }
    for (var e = li; e < TILE * BK; e += T * T) {
      ${loadB}
    }
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk += 1u) {
      var a: array<f32, 4>;
      var b: array<f32, 4>;
      for (var i = 0u; i < 4u; i += 1u) { a[i] = As[kk][lid.y + T * i]; b[i] = Bs[kk][lid.x + T * i]; }
      for (var i = 0u; i < 4u; i += 1u) {
        for (var j = 0u; j < 4u; j += 1u) { s[i][j] = fma(a[i], b[j], s[i][j]); }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i += 1u) {
    let r = row0 + lid.y + T * i;
    for (var j = 0u; j < 4u; j += 1u) {
      let c = col0 + lid.x + T * j;
      if (r < P.M && c < P.N) {
        let o = cB + r * P.ldc + c;
        var v = s[i][j];
        if (P.acc != 0u) { v += C[o]; }
        C[o] = v;
      }
    }
  }
}`;
  return {
    name: `matmul_tiled${transA ? "_tA" : ""}${transB ? "_tB" : ""}${halfB ? "_hB" : ""}`,
    params: PARAMS,
    buffers: { A: "f32", B: halfB ? "f16" : "f32", C: "f32 write" },
    code,
  };
}

// ---- reference ----------------------------------------------------------------------------------------------

/** Plain TS reference in float64: C = op(A)·op(B) (+ C0), row-major, batched over the leading dimension. */
export function matmulReference(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  shape: MatmulShape,
  opts: MatmulFlags = {},
  c0?: ArrayLike<number>,
): Float64Array {
  const { batch, M, N, K } = shape;
  const out = new Float64Array(batch * M * N);
  for (let z = 0; z < batch; z++) {
    const ao = z * M * K;
    const bo = z * K * N;
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let k = 0; k < K; k++) {
          const av = a[ao + (opts.transA ? k * M + m : m * K + k)];
          const bv = b[bo + (opts.transB ? n * K + k : k * N + n)];
          s += av * bv;
        }
        const o = z * M * N + m * N + n;
        out[o] = s + (opts.accumulate && c0 ? c0[o] : 0);
      }
    }
  }
  return out;
}
