// `bun run bench executor [--quick]`: executor throughput on the reference system's seed programs, side by side in
// one run with native CPython (unsafe warm exec in fresh dicts; a subprocess per call) and the reference design
// (one forked pebble worker, serial, docs/reference.md §3). Two workloads: `run` (f(input) for each seed program) and
// `azr-step` (per program: validation, 8 graded deduction answers, 10 induction inputs validated). The reference row
// does what the reference does (§2): one determinism-template call per validation, deduction judged in the trainer
// process by `eval(gold) == eval(answer)` first (only a miss reaches the executor), identical answers judged once.
// Then what each op costs inside the pool, and the cost of a timeout.
import { availableParallelism, tmpdir } from "node:os";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "bun";
import { Executor, type ExecutorOptions, type Request } from "../sandbox/index.ts";
import { TORCH_PYTHON as DEBIAN_PYTHON } from "../test/support/torch.ts";
import { printTable, writeResult } from "./report.ts";

const SEED = join(import.meta.dir, "../engine/data/azr-seed");

/** One call of a baseline executor: a template whose last line is evaluated, or a deduction to judge (the reference
 * tries `eval(gold) == eval(answer)` in its own process before it sends the executor template). */
type Call = { exec: string } | { deduction: { code: string; gold: string; answer: string } };

export interface Job {
  requests: Request[]; // what our executor is asked
  calls: Call[]; // the same work as the reference executor's templates (executor-baselines.py)
}

interface Measured {
  name: string;
  workload: string;
  perSecond: number; // jobs (programs) per second, median pass
  calls: number; // calls per job, for calls/s
  p50: number;
  p99: number;
}

const readJsonl = (file: string): Array<Record<string, unknown>> =>
  readFileSync(join(SEED, file), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));

/** The reference's CHECK_DETERMINISM template (docs/reference.md §2.1): f called twice in one execution. */
const determinism = (code: string, input: string): Call => ({
  exec: `${code}\nreturns = f(${input})\nif returns != f(${input}):\n    raise Exception('Non-deterministic code')\nrepr(returns)`,
});

export interface SeedPrograms {
  io: Array<{ snippet: string; input: string; output: string }>; // deduction/abduction triples
  ind: Array<{ snippet: string; inputs: string[]; outputs: string[] }>; // induction programs with their I/O
}

/** The first n seed programs of each kind, which every workload of this suite is made of. */
export function seedPrograms(n: number): SeedPrograms {
  return {
    io: readJsonl("7b_seed_io.jsonl").slice(0, n) as SeedPrograms["io"],
    ind: readJsonl("7b_code_f_seed_io.jsonl").slice(0, n) as SeedPrograms["ind"],
  };
}

export function workloads({ io, ind }: SeedPrograms): Record<string, Job[]> {
  const run = io.map((p) => ({
    requests: [{ op: "run", code: p.snippet, input: p.input } as Request],
    calls: [{ exec: `${p.snippet}\nrepr(f(${p.input}))` }],
  }));
  const step = io.map((p, i) => {
    const answers = Array.from({ length: 8 }, (_, k) => (k % 2 ? p.output : "None"));
    const inputs = ind[i % ind.length].inputs.slice(0, 10);
    const code = ind[i % ind.length].snippet;
    return {
      requests: [
        { op: "validate", code: p.snippet, input: p.input } as Request,
        ...answers.map((a) => ({ op: "judge_deduction", code: p.snippet, input: p.input, gold: p.output, answer: a }) as Request),
        ...inputs.map((x) => ({ op: "run", code, input: x }) as Request),
      ],
      calls: [
        determinism(p.snippet, p.input),
        ...answers.map((answer) => ({ deduction: { code: p.snippet, gold: p.output, answer } })),
        ...inputs.map((x) => determinism(code, x)),
      ],
    };
  });
  return { run, "azr-step": step };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

/** Every job of a pass submitted at once; latency = a job's service time inside the executor (queueing excluded). */
async function measurePool(name: string, options: ExecutorOptions, jobs: Record<string, Job[]>, warm: number, passes: number): Promise<Measured[]> {
  await using ex = await Executor.create(options);
  const out: Measured[] = [];
  for (const [workload, list] of Object.entries(jobs)) {
    const rates: number[] = [];
    let latency: number[] = [];
    for (let pass = 0; pass < warm + passes; pass++) {
      const t0 = performance.now();
      const results = await Promise.all(list.map((j) => Promise.all(j.requests.map((r) => ex.submit(r)))));
      const s = (performance.now() - t0) / 1000;
      if (pass >= warm) rates.push(list.length / s);
      latency = results.map((rs) => rs.reduce((a, r) => a + r.ms, 0));
    }
    out.push({ name, workload, perSecond: median(rates), calls: list.reduce((a, j) => a + j.requests.length, 0) / list.length, p50: pct(latency, 0.5), p99: pct(latency, 0.99) });
    process.stderr.write(`  ${name} ${workload}: ${median(rates).toFixed(0)} programs/s\n`);
  }
  return out;
}

function measureNative(name: string, python: string, mode: string, jobs: Record<string, Job[]>, passes: number, only?: string, limit?: number): Measured[] {
  const out: Measured[] = [];
  for (const [workload, all] of Object.entries(jobs)) {
    if (only && workload !== only) continue;
    const list = all.slice(0, limit);
    // Native runs are not sandboxed and some seed programs write files: give them a scratch directory.
    const scratch = mkdtempSync(join(tmpdir(), "azr-bench-native-"));
    const proc = spawnSync([python, join(import.meta.dir, "executor-baselines.py")], {
      cwd: scratch,
      stdin: Buffer.from(JSON.stringify({ mode, passes, jobs: list.map((j) => j.calls) })),
      stdout: "pipe",
      stderr: "pipe",
    });
    rmSync(scratch, { recursive: true, force: true });
    if (proc.exitCode !== 0) throw new Error(`${name} baseline failed:\n${proc.stderr.toString()}`);
    const r: { seconds: number[]; latency_ms: number[]; executor_calls: number } = JSON.parse(proc.stdout.toString());
    const rate = median(r.seconds.slice(passes > 1 ? 1 : 0).map((s) => list.length / s));
    out.push({ name, workload, perSecond: rate, calls: r.executor_calls / list.length, p50: pct(r.latency_ms, 0.5), p99: pct(r.latency_ms, 0.99) });
    process.stderr.write(`  ${name} ${workload}: ${rate.toFixed(0)} programs/s\n`);
  }
  return out;
}

/** One kind of request on every seed program. */
interface Phase {
  name: string;
  requests: Request[];
}

function phaseWorkloads({ io, ind }: SeedPrograms): Phase[] {
  const pairs = (p: (typeof ind)[number]) => p.inputs.slice(0, 5).map((x, k) => [x, p.outputs[k]] as [string, string]);
  return [
    { name: "run", requests: io.map((p) => ({ op: "run", code: p.snippet, input: p.input })) },
    { name: "validate", requests: io.map((p) => ({ op: "validate", code: p.snippet, input: p.input })) },
    { name: "judge_deduction (right)", requests: io.map((p) => ({ op: "judge_deduction", code: p.snippet, input: p.input, gold: p.output, answer: p.output })) },
    { name: "judge_deduction (wrong)", requests: io.map((p) => ({ op: "judge_deduction", code: p.snippet, input: p.input, gold: p.output, answer: "None" })) },
    { name: "judge_abduction", requests: io.map((p) => ({ op: "judge_abduction", code: p.snippet, gold: p.output, answer: p.input })) },
    { name: "judge_induction (5 pairs)", requests: ind.map((p) => ({ op: "judge_induction", answer_code: p.snippet, pairs: pairs(p), imports: [] })) },
  ];
}

interface PhaseCost {
  name: string;
  cold: number; // mean ms per request, first sight of each program (compiles included)
  warm: number; // mean ms per request, compiled code cached
}

/** Each op alone on one worker, one request at a time: the mean cost with the compile cache cold, then warm. */
async function measurePhases(options: ExecutorOptions, seeds: SeedPrograms): Promise<PhaseCost[]> {
  const out: PhaseCost[] = [];
  for (const phase of phaseWorkloads(seeds)) {
    await using ex = await Executor.create(options);
    // One request at a time, so a result's `ms` is that request's own cost (nothing queued beside it).
    const pass = async () => {
      let total = 0;
      for (const r of phase.requests) total += (await ex.submit(r)).ms;
      return total / phase.requests.length;
    };
    const cold = await pass();
    const warm = Math.min(await pass(), await pass());
    out.push({ name: phase.name, cold, warm });
  }
  return out;
}

/** Deadline → the next result from the same (single) worker: a spinning program, then a trivial one. */
async function timeoutCost(spares: number, deadlineMs: number): Promise<number> {
  await using ex = await Executor.create({ workers: 1, spares, timeoutMs: deadlineMs });
  const costs: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const spin = ex.submit({ op: "run", code: "def f():\n    while True:\n        pass", input: "" });
    const next = ex.submit({ op: "run", code: "def f():\n    return 1", input: "" });
    const [s] = await Promise.all([spin, next]);
    if (s.status !== "timeout") throw new Error(`timeout probe answered ${s.status}`);
    costs.push(performance.now() - t0 - deadlineMs);
  }
  return median(costs);
}

export async function main(args: string[]): Promise<void> {
  const quick = args.includes("--quick");
  const n = quick ? 64 : 256;
  const warm = quick ? 2 : 4;
  const passes = 3;
  const cores = availableParallelism();
  const seeds = seedPrograms(n);
  const jobs = workloads(seeds);
  const native = process.env.AZR_NATIVE_PYTHON ?? DEBIAN_PYTHON;
  process.stderr.write(`bench executor: ${n} seed programs (7b_seed_io + 7b_code_f_seed_io), ${cores} cores\n`);

  const rows: Measured[] = [
    ...(await measurePool("pool pristine, 1 worker", { workers: 1, spares: 0 }, jobs, warm, passes)),
    ...(await measurePool(`pool pristine, ${cores} workers`, { workers: cores }, jobs, warm, passes)),
    ...(await measurePool("pool not pristine, 1 worker", { workers: 1, spares: 0, pristine: false }, jobs, warm, passes)),
    ...(await measurePool(`pool not pristine, ${cores} workers`, { workers: cores, pristine: false }, jobs, warm, passes)),
    ...measureNative("native warm exec (unsafe)", native, "warm", jobs, passes + 1),
    ...measureNative("native subprocess per call", native, "subprocess", jobs, 1, "run", 32),
    ...measureNative("reference: pebble, 1 worker", DEBIAN_PYTHON, "pebble", jobs, passes + 1),
  ];
  const phaseOptions = { workers: 1, spares: 0 };
  const costs = {
    pristine: await measurePhases(phaseOptions, seeds),
    notPristine: await measurePhases({ ...phaseOptions, pristine: false }, seeds),
    fullRestore: await measurePhases({ ...phaseOptions, dirtyTracking: false }, seeds),
  };
  const deadline = 1000;
  const cost = { spare: await timeoutCost(1, deadline), noSpare: await timeoutCost(0, deadline) };

  const ref = (w: string) => rows.find((r) => r.workload === w && r.name.startsWith("reference"))!.perSecond;
  const unsafe = (w: string) => rows.find((r) => r.workload === w && r.name.startsWith("native warm"))!.perSecond;
  const f = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(2));
  printTable(
    ["executor", "workload", "programs/s", "calls/job", "calls/s", "p50 ms", "p99 ms", "× reference", "× native warm"],
    rows.map((r) => [r.name, r.workload, f(r.perSecond), f(r.calls), f(r.perSecond * r.calls), r.p50.toFixed(2), r.p99.toFixed(2), `${(r.perSecond / ref(r.workload)).toFixed(2)}×`, `${(r.perSecond / unsafe(r.workload)).toFixed(2)}×`]),
  );
  console.log("calls/job: requests for the pools; calls that reached the executor for the baselines (the reference's fast path and");
  console.log("  its once-per-distinct-answer rule keep 7 of the 8 deduction answers out of its worker)");
  console.log("latency: pool = a program's service time inside the executor (all submitted at once); native = serial wall time");
  console.log("compile work: each timed pass repeats the warm-up's programs, so the pools' compiled-code caches are warm (as when");
  console.log("  AZR re-runs a program); the baselines compile every call's template afresh, as the reference does");
  console.log("");
  console.log(`what each op costs, 1 worker, mean service ms per request over ${n} seed programs (cold = first sight, compile included):`);
  printTable(
    ["op", "pristine cold", "pristine warm", "not pristine warm", "full restore warm"],
    costs.pristine.map((c, i) => [c.name, c.cold.toFixed(3), c.warm.toFixed(3), costs.notPristine[i].warm.toFixed(3), costs.fullRestore[i].warm.toFixed(3)]),
  );
  console.log(`timeout cost (deadline ${deadline} ms → next result from that worker): ${cost.spare.toFixed(0)} ms with a spare, ${cost.noSpare.toFixed(0)} ms without (target ≤ 200 ms)`);
  const best = (w: string) => rows.find((r) => r.workload === w && r.name === `pool pristine, ${cores} workers`)!.perSecond;
  for (const w of Object.keys(jobs)) {
    console.log(`targets, ${w}: pristine all cores ${(best(w) / ref(w)).toFixed(2)}× reference (target ≥ 3×), ${(best(w) / unsafe(w)).toFixed(2)}× unsafe native warm exec (target ≥ 0.5×)`);
  }
  const file = writeResult("executor", { date: new Date().toISOString(), cores, programs: n, quick, rows, opCostsMs: costs, timeoutCostMs: cost, deadlineMs: deadline });
  console.log(`wrote ${file}`);
}
