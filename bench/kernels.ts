// `bun run bench kernels [--quick]`: throughput of each WGSL op on this machine's adapter, side by side with numpy and
// torch on the CPU (and torch CUDA fp32, TF32 off, when the machine has a GPU), with a napkin-math bound beside
// each figure. Compute-bound ops in GFLOP/s, memory-bound ones in GB/s (bytes each op must move at least).
// Every WGSL result is validated against the op's TS reference before it is timed. JSON into bench/results/.
//
// Bounds: fp32 peak of the adapter (software: cores × clock × 32 flop/cycle, i.e. two 8-lane FMA units, the code
// lavapipe emits; GPU: a table of vendor figures) and, for memory-bound ops, the copy bandwidth that the baseline
// script measures on the same device.
import { cpus } from "node:os";
import { join } from "node:path";
import { spawnSync } from "bun";
import {
  AdamW,
  adamwReference,
  attentionBackward,
  attentionForward,
  defaultMatmulVariant,
  Dispatch,
  elementwise,
  elementwiseReference,
  embedding,
  embeddingBackward,
  embeddingBackwardReference,
  embeddingReference,
  finish,
  getGpu,
  gradNormReference,
  matmul,
  matmulReference,
  rmsnorm,
  rmsnormReference,
  run,
  Step,
  Tensor,
  type Gpu,
  type MatmulVariant,
} from "../kernels/index.ts";
import { describeMisses, type Tolerance } from "../test/support/close.ts";
import { TORCH_PYTHON } from "../test/support/torch.ts";
import { printTable, writeResult } from "./report.ts";

type Unit = "GFLOP/s" | "GB/s";

interface Case {
  readonly id: string;
  readonly op: string;
  /** Sizes, also sent to the baseline script. */
  readonly dims: Readonly<Record<string, number | boolean>>;
  readonly unit: Unit;
  /** Floating-point operations or bytes per call. */
  readonly work: number;
  readonly variant?: MatmulVariant;
  /** Builds the dispatches (and validates their output against the TS reference; throws on mismatch). */
  readonly prepare: () => Promise<Dispatch[]>;
}

interface Timing {
  readonly seconds: number;
  /** CPU cores this process used while timing (lavapipe's threads are ours): contention shows here. */
  readonly cores: number;
}

// ---- cases ----------------------------------------------------------------------------------------------------

function rand(n: number): Float32Array {
  return Float32Array.from({ length: n }, () => Math.random() * 2 - 1);
}

// fp32 on the adapter against the float64 references, on large sizes: a loose bound that still catches a wrong
// element (the tests hold the tight ones).
const BENCH_TOL: Tolerance = { abs: 1e-4, rel: 1e-4 };

/** Throws when `got` is not within `tol` of the op's TS reference `want`, naming the first misses. */
function validate(name: string, got: ArrayLike<number>, want: ArrayLike<number>, tol = BENCH_TOL): void {
  const message = describeMisses(name, got, want, tol);
  if (message) throw new Error(message);
}

/** A few random indices below n, and the last one: the references run on these only where the whole op is too slow. */
function sampleIndices(n: number, count = 256): number[] {
  return Array.from({ length: Math.min(n, count) }, (_, k) => (k === 0 ? n - 1 : Math.floor(Math.random() * n)));
}

function gather(values: ArrayLike<number>, indices: readonly number[]): Float64Array {
  return Float64Array.from(indices, (i) => values[i]);
}

/** Checks sampled rows of C = op(A)·op(B) with matmulReference (the whole product is too slow in TS at these sizes). */
function validateMatmulRows(name: string, got: ArrayLike<number>, ha: Float32Array, hb: Float32Array, dims: { batch: number; M: number; N: number; K: number; transA: boolean; transB: boolean }): void {
  const { batch, M, N, K, transA, transB } = dims;
  const rows = [...new Set(sampleIndices(M, 4))];
  for (let z = 0; z < batch; z++) {
    // The sampled rows of op(A) for batch z, stored untransposed [rows, K].
    const aRows = Float64Array.from({ length: rows.length * K }, (_, j) => {
      const [m, k] = [rows[Math.floor(j / K)], j % K];
      return ha[z * M * K + (transA ? k * M + m : m * K + k)];
    });
    const want = matmulReference(aRows, hb.subarray(z * K * N, (z + 1) * K * N), { batch: 1, M: rows.length, N, K }, { transB });
    const gotRows = Float64Array.from({ length: rows.length * N }, (_, j) => got[z * M * N + rows[Math.floor(j / N)] * N + (j % N)]);
    validate(`${name} (batch ${z}, rows ${rows.join(",")})`, gotRows, want);
  }
}

function matmulCase(M: number, N: number, K: number, opts: { transA?: boolean; transB?: boolean; batch?: number; variant?: MatmulVariant }): Case {
  const { transA = false, transB = false, batch = 1, variant = defaultMatmulVariant() } = opts;
  const tag = `${batch > 1 ? `${batch}×` : ""}${M}×${N}×${K}${transA ? " Aᵀ" : ""}${transB ? " Bᵀ" : ""}`;
  return {
    id: `matmul ${tag} ${variant}`,
    op: "matmul",
    dims: { M, N, K, batch, transA, transB },
    unit: "GFLOP/s",
    work: 2 * batch * M * N * K,
    variant,
    prepare: async () => {
      const lead = batch > 1 ? [batch] : [];
      const [ha, hb] = [rand(batch * M * K), rand(batch * K * N)];
      const a = Tensor.from(ha, [...lead, ...(transA ? [K, M] : [M, K])]);
      const b = Tensor.from(hb, [...lead, ...(transB ? [N, K] : [K, N])]);
      const c = Tensor.zeros([...lead, M, N]);
      const d = matmul({ a, b, c, transA, transB, variant });
      run(d);
      validateMatmulRows(`matmul ${tag}`, await c.read(), ha, hb, { batch, M, N, K, transA, transB });
      return [d];
    },
  };
}

function swigluCase(n: number): Case {
  return {
    id: `swiglu fwd n=${n}`,
    op: "swiglu",
    dims: { n },
    unit: "GB/s",
    work: 3 * 4 * n,
    prepare: async () => {
      const [hg, hu] = [rand(n), rand(n)];
      const out = Tensor.zeros([n]);
      const d = elementwise({ op: "swiglu", inputs: { gate: Tensor.from(hg, [n]), up: Tensor.from(hu, [n]) }, out });
      run(d);
      const at = sampleIndices(n);
      validate("swiglu", gather(await out.read(), at), elementwiseReference("swiglu", { gate: gather(hg, at), up: gather(hu, at) }));
      return [d];
    },
  };
}

function rmsnormCase(R: number, D: number): Case {
  return {
    id: `rmsnorm fwd ${R}×${D}`,
    op: "rmsnorm",
    dims: { R, D },
    unit: "GB/s",
    work: 4 * (2 * R * D + D + R),
    prepare: async () => {
      const [hx, hw] = [rand(R * D), rand(D)];
      const y = Tensor.zeros([R, D]);
      const d = rmsnorm({ x: Tensor.from(hx, [R, D]), w: Tensor.from(hw, [D]), y, rstd: Tensor.zeros([R]), eps: 1e-6 });
      run(d);
      // Whole rows (the norm is per row), a few of them.
      const rows = [...new Set(sampleIndices(R, 8))];
      const at = rows.flatMap((r) => Array.from({ length: D }, (_, d) => r * D + d));
      validate("rmsnorm", gather(await y.read(), at), rmsnormReference(gather(hx, at), hw, rows.length, D, 1e-6).y);
      return [d];
    },
  };
}

const ADAMW = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 } as const;

function adamwCase(n: number): Case {
  return {
    id: `adamw n=${n}`,
    op: "adamw",
    dims: { n },
    unit: "GB/s",
    // reads p, g, m, v; writes p, m, v
    work: 7 * 4 * n,
    prepare: async () => {
      const [hp, hg] = [rand(n), rand(n)];
      const param = Tensor.from(hp, [n]);
      const grad = Tensor.from(hg, [n]);
      const opt = new AdamW([{ param, grad }], ADAMW);
      const ds = opt.nextStep(); // grad norm + update; the timed repeats reuse step 1's uniforms
      run(...ds);
      // Step 1 from zero moments, elementwise: the reference runs on the sampled elements alone.
      const at = sampleIndices(n);
      const want = gather(hp, at);
      const { scale } = gradNormReference([hg]);
      adamwReference(want, gather(hg, at), new Float64Array(at.length), new Float64Array(at.length), 1, ADAMW, scale);
      validate("adamw", gather(await param.read(), at), want);
      return ds;
    },
  };
}

function embeddingCases(T: number, V: number, D: number): Case[] {
  const setup = () => {
    const ids = Tensor.from(Uint32Array.from({ length: T }, () => Math.floor(Math.random() * V)), [T], "u32");
    return { ids, table: Tensor.from(rand(V * D), [V, D]) };
  };
  return [
    {
      id: `embedding fwd T=${T} V=${V} D=${D}`,
      op: "embedding",
      dims: { T, V, D },
      unit: "GB/s",
      work: 4 * (2 * T * D + T),
      prepare: async () => {
        const { ids, table } = setup();
        const out = Tensor.zeros([T, D]);
        const d = embedding({ ids, table, out });
        run(d);
        const [hid, ht, ho] = [await ids.read(), await table.read(), await out.read()];
        validate("embedding", ho, embeddingReference(hid, ht, V, D), { abs: 0, rel: 0 }); // a copy: exact
        return [d];
      },
    },
    {
      id: `embedding bwd T=${T} V=${V} D=${D}`,
      op: "embedding_backward",
      dims: { T, V, D },
      unit: "GB/s",
      work: 4 * (T * D + V * D + T),
      prepare: async () => {
        const { ids } = setup();
        const dTable = Tensor.zeros([V, D]);
        const hd = rand(T * D);
        const ds = embeddingBackward({ ids, dOut: Tensor.from(hd, [T, D]), dTable });
        run(...ds);
        validate("embedding backward", await dTable.read(), embeddingBackwardReference(await ids.read(), hd, V, D));
        return ds;
      },
    },
  ];
}

function attentionCase(B: number, T: number, H: number, Hkv: number, D: number): Case {
  // Causal: half of the T² score matrix. Forward 2 matmuls (QKᵀ, PV); backward 5 (recompute S, dV, dP, dQ, dK).
  const forwardFlops = 2 * 2 * B * H * T * T * D * 0.5;
  return {
    id: `attention fwd+bwd B=${B} T=${T} H=${H}/${Hkv} D=${D}`,
    op: "attention",
    dims: { B, T, H, Hkv, D },
    unit: "GFLOP/s",
    work: 3.5 * forwardFlops,
    prepare: async () => {
      const q = Tensor.from(rand(B * T * H * D), [B, T, H, D]);
      const k = Tensor.from(rand(B * T * Hkv * D), [B, T, Hkv, D]);
      const v = Tensor.from(rand(B * T * Hkv * D), [B, T, Hkv, D]);
      const lens = Tensor.from(new Uint32Array(B).fill(T), [B], "u32");
      const [out, dOut, dq] = [Tensor.zeros([B, T, H, D]), Tensor.from(rand(B * T * H * D), [B, T, H, D]), Tensor.zeros([B, T, H, D])];
      const [dk, dv] = [Tensor.zeros([B, T, Hkv, D]), Tensor.zeros([B, T, Hkv, D])];
      const [lse, delta] = [Tensor.zeros([B, H, T]), Tensor.zeros([B, H, T])];
      const args = { q, k, v, lens, out, lse };
      const ds = [attentionForward(args), ...attentionBackward({ ...args, dOut, dq, dk, dv, delta })];
      run(...ds);
      // Correctness is test/kernels-attention.test.ts's job; here only that every output was written and finite.
      for (const t of [out, dq, dk, dv]) {
        if (!(await t.read()).every(Number.isFinite)) throw new Error(`attention: non-finite values in ${t.describe()}`);
      }
      return ds;
    },
  };
}

function cases(gpu: Gpu, quick: boolean): Case[] {
  const other: MatmulVariant = defaultMatmulVariant() === "rbv8x8" ? "tiled" : "rbv8x8";
  const squares = gpu.isSoftware ? [256, 512, 1024] : [1024, 2048, 4096];
  const big = !gpu.isSoftware;
  const list: Case[] = [
    ...squares.map((n) => matmulCase(n, n, n, {})),
    matmulCase(squares[1], squares[1], squares[1], { variant: other }),
    // Training shapes (tokens × d_model × …): projections, FFN, and the two backward forms.
    matmulCase(2048, 384, 128, {}),
    matmulCase(2048, 512, 128, {}),
    matmulCase(2048, 128, 512, { transB: true }),
    matmulCase(128, 512, 2048, { transA: true }),
    matmulCase(256, 256, 32, { transB: true, batch: 32 }),
    swigluCase(big ? 2 ** 26 : 2 ** 22),
    rmsnormCase(big ? 16384 : 2048, 1024),
    adamwCase(big ? 2 ** 26 : 2 ** 22),
    ...embeddingCases(2048, 32768, 128),
    attentionCase(8, 256, 4, 2, 32),
    ...(big ? [attentionCase(8, 1024, 16, 4, 64)] : []),
  ];
  return quick ? list.filter((c) => !/1024×1024×1024|4096/.test(c.id)) : list;
}

// ---- timing ---------------------------------------------------------------------------------------------------

/** Best of 3 trials, each `reps` calls encoded into one step (about 0.3 s), after a warm-up (lavapipe's JIT). */
async function time(ds: Dispatch[]): Promise<Timing> {
  const once = async () => {
    const t0 = performance.now();
    run(...ds);
    await finish();
    return (performance.now() - t0) / 1000;
  };
  await once();
  const reps = Math.max(1, Math.min(1000, Math.ceil(0.3 / (await once()))));
  let best: Timing = { seconds: Infinity, cores: 0 };
  for (let trial = 0; trial < 3; trial++) {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const step = new Step("bench");
    for (let r = 0; r < reps; r++) step.run(...ds);
    step.submit();
    await finish();
    const wall = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    if (wall / reps < best.seconds) best = { seconds: wall / reps, cores: (cpu.user + cpu.system) / 1e6 / wall };
  }
  return best;
}

// ---- bounds and baselines -------------------------------------------------------------------------------------

/** fp32 FMA peak in GFLOP/s (no tensor cores), by adapter name; undefined when unknown. */
function gpuPeakGflops(description: string): number | undefined {
  const table: [RegExp, number][] = [
    [/H100.*PCIe/i, 51_200],
    [/H100|H200/i, 66_900],
    [/A100/i, 19_500],
    [/L4\b/i, 30_300],
    [/RTX 4090/i, 82_600],
  ];
  return table.find(([re]) => re.test(description))?.[1];
}

function cpuPeakGflops(): number {
  const cores = cpus();
  // os.cpus() reports 0 MHz on some VMs; 2.1 GHz is this project's reference machine.
  const ghz = (cores[0]?.speed || 2100) / 1000;
  return cores.length * ghz * 32;
}

interface Baselines {
  machine: Record<string, string | number | null>;
  results: Record<string, { numpy?: number; torch_cpu?: number; torch_cuda?: number }>;
}

/** numpy comes from NUMPY_PYTHON (default: the first python3 on PATH, often a pip numpy with OpenBLAS), torch from
 *  Debian's interpreter (TORCH_PYTHON); both default to what the machine has. */
const NUMPY_PYTHON = process.env.AZR_NUMPY_PYTHON ?? "python3";

function runBaseline(mode: "numpy" | "torch", python: string, list: Case[]): Baselines | undefined {
  const proc = spawnSync([python, join(import.meta.dir, "kernels-baselines.py"), mode], {
    stdin: Buffer.from(JSON.stringify(list.map((c) => ({ id: c.id, op: c.op, ...c.dims })))),
    stdout: "pipe",
    stderr: "pipe",
  });
  if (proc.exitCode !== 0) {
    const knob = mode === "numpy" ? "AZR_NUMPY_PYTHON" : "AZR_TORCH_PYTHON";
    console.error(`${mode} baselines failed under ${python} (set ${knob} to a python that has ${mode}):\n${proc.stderr}`);
    return undefined;
  }
  return JSON.parse(proc.stdout.toString());
}

function runBaselines(list: Case[]): Baselines {
  const parts = [runBaseline("numpy", NUMPY_PYTHON, list), runBaseline("torch", TORCH_PYTHON, list)];
  const merged: Baselines = { machine: {}, results: {} };
  for (const part of parts) {
    if (!part) continue;
    Object.assign(merged.machine, part.machine);
    for (const [id, r] of Object.entries(part.results)) merged.results[id] = { ...merged.results[id], ...r };
  }
  return merged;
}

// ---- report ---------------------------------------------------------------------------------------------------

const fmt = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? "—" : x >= 100 ? x.toFixed(0) : x.toPrecision(3));

export async function main(args: string[]): Promise<void> {
  const quick = args.includes("--quick");
  const gpu = await getGpu();
  const list = cases(gpu, quick);
  const measured: { c: Case; t: Timing }[] = [];
  for (const c of list) {
    const ds = await c.prepare();
    const t = await time(ds);
    measured.push({ c, t });
    console.error(`  ${c.id}: ${fmt(c.work / t.seconds / 1e9)} ${c.unit} (${t.cores.toFixed(1)} cores)`);
  }
  console.error("running numpy / torch baselines…");
  const base = runBaselines(list);
  const flopBound = gpu.isSoftware ? cpuPeakGflops() : gpuPeakGflops(gpu.description);
  const byteBound = (gpu.isSoftware ? base.machine.cpu_bytes_per_s : base.machine.cuda_bytes_per_s) as number | undefined;

  const rate = (c: Case, seconds: number | undefined) => (seconds ? c.work / seconds / 1e9 : undefined);
  const rows = measured.map(({ c, t }) => {
    const b = base.results[c.id] ?? {};
    const bound = c.unit === "GFLOP/s" ? flopBound : byteBound === undefined ? undefined : byteBound / 1e9;
    const wgsl = rate(c, t.seconds)!;
    return {
      id: c.id,
      unit: c.unit,
      work: c.work,
      wgsl,
      wgslSeconds: t.seconds,
      cores: t.cores,
      numpy: rate(c, b.numpy),
      torchCpu: rate(c, b.torch_cpu),
      torchCuda: rate(c, b.torch_cuda),
      bound,
    };
  });

  const header = ["op", "unit", "WGSL", "cores", "numpy", "torch cpu", "torch cuda", "bound", "WGSL/bound", "WGSL/torch"];
  const table = rows.map((r) => {
    const torchBest = gpu.isSoftware ? r.torchCpu : r.torchCuda;
    return [
      r.id,
      r.unit,
      fmt(r.wgsl),
      r.cores.toFixed(1),
      fmt(r.numpy),
      fmt(r.torchCpu),
      fmt(r.torchCuda),
      fmt(r.bound),
      r.bound ? `${((100 * r.wgsl) / r.bound).toFixed(1)}%` : "—",
      torchBest ? `${(r.wgsl / torchBest).toFixed(2)}×` : "—",
    ];
  });
  console.log(`adapter: ${gpu.description}`);
  console.log(`baselines: numpy ${base.machine.numpy ?? "—"}, torch ${base.machine.torch ?? "—"}${base.machine.cuda_device ? `, CUDA ${base.machine.cuda_device} (fp32, TF32 off)` : ""}`);
  console.log(
    `bounds: ${fmt(flopBound)} GFLOP/s fp32 peak (${gpu.isSoftware ? `${cpus().length} cores × 32 flop/cycle` : "vendor figure"}), ` +
      `${fmt(byteBound === undefined ? undefined : byteBound / 1e9)} GB/s copy bandwidth (measured)`,
  );
  printTable(header, table);

  const file = writeResult("kernels", {
    date: new Date().toISOString(),
    adapter: gpu.description,
    software: gpu.isSoftware,
    cpus: cpus().length,
    baselines: base.machine,
    rows,
  });
  console.log(`wrote ${file}`);
}
