// `bun run bench model [--configs tiny,25m] [--weight-dtype f32,f16] [--quick] [--repeat N] [--device cpu|cuda]`: the
// Policy's throughput (prefill, greedy decode at batch 1 and 64, forward scoring, a training step) on random
// checkpoints of the presets, with its weights stored in each `--weight-dtype`, side by side in the same run with the
// same model in PyTorch fp32 (bench/model-baselines.py, reading the same checkpoint): torch on the CPU by default,
// torch CUDA with `--device cuda` (TF32 off). Every op runs once to warm up (pipeline compiles take seconds;
// generation warms with 2 new tokens, training on a small batch of its own), then `--repeat` timed runs, best kept.
// Peak memory: ours, the most bytes our tensors held on the device (kernels' deviceMemory), for the inference ops on a
// policy loaded with `training: false` and for the training step on one loaded for training (gradients, moments, f32
// masters); torch's, over its whole run, its CUDA allocator's peak or, on the CPU, its process's peak RSS.
// JSON into bench/results/.
//
//   prefill    generate(maxNew 1): the prompt forward, the last row's logits, a sampled token; prompt tokens/s
//   decode     generate(maxNew S) − prefill: (S − 1) one-token steps with the KV cache; new tokens/s
//   score      tokenStats: log-prob and entropy of every response token (forward only); prompt + response tokens/s
//   train      accumulate (loss −mean logp) + step (AdamW, clip 1); prompt + response tokens/s
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "bun";
import { deviceMemory, getGpu, resetDevicePeak, type WeightDtype } from "../kernels/index.ts";
import { makeCheckpoint, parameterCount, Policy, SHAPE_NAMES, type ShapeName, type Sequence } from "../engine/model/index.ts";
import { TORCH_PYTHON } from "../test/support/torch.ts";
import { printTable, writeResult } from "./report.ts";

const USAGE = "usage: bun run bench model [--configs tiny,25m|qwen2.5-0.5b] [--weight-dtype f32,f16] [--quick] [--repeat N] [--device cpu|cuda]";
const WEIGHT_DTYPES: readonly WeightDtype[] = ["f32", "f16"];
const NO_CUDA = 3; // model-baselines.py probe: CUDA asked for, torch sees none

interface Options {
  configs: ShapeName[];
  /** Our weight storage, each measured in turn (torch stays fp32). */
  weightDtypes: WeightDtype[];
  quick: boolean;
  repeat: number;
  /** Where torch runs. */
  device: "cpu" | "cuda";
}

interface Sizes {
  promptLen: number; // decode prompts
  maxNew: number;
  decodeBatches: number[];
  trainBatch: number; // score and train
  trainPrompt: number;
  trainResponse: number;
}

// Modest on purpose: on lavapipe the default suite (tiny, 25m, both sides) has to finish in a few minutes.
const SIZES: Sizes = { promptLen: 32, maxNew: 8, decodeBatches: [1, 64], trainBatch: 8, trainPrompt: 32, trainResponse: 32 };
const QUICK: Sizes = { promptLen: 16, maxNew: 4, decodeBatches: [1, 64], trainBatch: 4, trainPrompt: 16, trainResponse: 16 };

function flagValue(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  if (at < 0) return undefined;
  const v = args[at + 1];
  if (v === undefined || v.startsWith("--")) throw new Error(`${name} needs a value\n${USAGE}`);
  return v;
}

function parseOptions(args: string[]): Options {
  const known = new Set(["--configs", "--weight-dtype", "--quick", "--repeat", "--device"]);
  const unknown = args.filter((a, i) => a.startsWith("--") && !known.has(a) && !(i > 0 && known.has(args[i - 1])));
  if (unknown.length > 0) throw new Error(`unknown option ${unknown[0]}\n${USAGE}`);
  const configs = (flagValue(args, "--configs") ?? "tiny,25m").split(",").filter(Boolean);
  for (const c of configs) {
    if (!(SHAPE_NAMES as readonly string[]).includes(c)) throw new Error(`--configs: unknown preset "${c}"; one of ${SHAPE_NAMES.join(", ")}`);
  }
  if (configs.length === 0) throw new Error(`--configs: name at least one preset\n${USAGE}`);
  const weightDtypes = (flagValue(args, "--weight-dtype") ?? "f32").split(",").filter(Boolean);
  for (const d of weightDtypes) {
    if (!(WEIGHT_DTYPES as readonly string[]).includes(d)) throw new Error(`--weight-dtype: unknown storage "${d}"; one or more of ${WEIGHT_DTYPES.join(", ")}`);
  }
  if (weightDtypes.length === 0) throw new Error(`--weight-dtype: name at least one of ${WEIGHT_DTYPES.join(", ")}\n${USAGE}`);
  const repeat = Number(flagValue(args, "--repeat") ?? "1");
  if (!Number.isInteger(repeat) || repeat < 1) throw new Error(`--repeat ${flagValue(args, "--repeat")}: use a whole number ≥ 1`);
  const device = flagValue(args, "--device") ?? "cpu";
  if (device !== "cpu" && device !== "cuda") throw new Error(`--device ${device}: use cpu or cuda`);
  return { configs: configs as ShapeName[], weightDtypes: [...new Set(weightDtypes)] as WeightDtype[], quick: args.includes("--quick"), repeat, device };
}

// ---- workload ---------------------------------------------------------------------------------------------------

/** Deterministic ids among ordinary BPE tokens (well below Qwen's specials, so no prompt holds a stop token). */
function tokenIds(seed: number, n: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % 100_000;
  });
}

/** Warms the training pipelines on a small batch of its own (the graph of the measured shape is already built by
 *  the score op, and the policy keeps two shapes): a full-size warm-up step would double the suite's longest op. */
const WARM_TRAIN: Sequence[] = [{ promptIds: tokenIds(3, 8), responseIds: tokenIds(4, 8) }];

interface Workload {
  decode: { prompts: number[][]; maxNew: number }[];
  seqs: Sequence[];
}

function workload(z: Sizes): Workload {
  return {
    decode: z.decodeBatches.map((B) => ({ prompts: Array.from({ length: B }, (_, b) => tokenIds(1000 * B + b, z.promptLen)), maxNew: z.maxNew })),
    seqs: Array.from({ length: z.trainBatch }, (_, b) => ({ promptIds: tokenIds(7 + b, z.trainPrompt), responseIds: tokenIds(70 + b, z.trainResponse) })),
  };
}

// ---- measurement ------------------------------------------------------------------------------------------------

/** One op's best time and the CPU cores this process used meanwhile (lavapipe's threads are ours). */
interface Timed {
  seconds: number;
  cores: number;
}

/** Same shape as model-baselines.py's answer, so one function turns either into rows. */
interface Measured {
  decode: { batch: number; prefill_s: number; prefill_cores: number; generate_s: number; generate_cores: number; ids: number[][] }[];
  score_s: number;
  score_cores: number;
  train_s: number;
  train_cores: number;
}

/** model-baselines.py's answer: the peak over its whole run (see the file comment for what it counts). */
type TorchMeasured = Measured & { peak_bytes: number };
/** Ours, with the device peak of the policy loaded for inference (prefill, decode, score) and for training. */
type OursMeasured = Measured & { peakBytes: { inference: number; training: number } };

/** `warm` (default: `fn` itself) once, then `repeat` timed runs of `fn`. */
async function best<T>(fn: () => Promise<T>, repeat: number, warm: () => Promise<unknown> = fn): Promise<Timed & { result: T }> {
  await warm();
  const times: number[] = [];
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  let result!: T;
  for (let i = 0; i < repeat; i++) {
    const t0 = performance.now();
    result = await fn();
    times.push((performance.now() - t0) / 1000);
  }
  const cpu = process.cpuUsage(cpu0);
  return { seconds: Math.min(...times), cores: (cpu.user + cpu.system) / 1000 / (performance.now() - wall0), result };
}

/** Peak device bytes while `fn` runs on a policy from `load` (destroyed after), from what was live before the load. */
async function withPolicy<T>(load: () => Promise<Policy>, fn: (policy: Policy) => Promise<T>): Promise<{ result: T; peakBytes: number }> {
  resetDevicePeak();
  const policy = await load();
  try {
    const result = await fn(policy);
    return { result, peakBytes: deviceMemory().peakBytes };
  } finally {
    policy.destroy();
  }
}

/** The inference ops on a policy loaded with `training: false`, then the train step on one loaded for training. */
async function measureOurs(load: (training: boolean) => Promise<Policy>, work: Workload, repeat: number, log: (s: string) => void): Promise<OursMeasured> {
  const inference = await withPolicy(() => load(false), (policy) => measureInference(policy, work, repeat, log));
  const training = await withPolicy(() => load(true), (policy) => measureTrain(policy, work, repeat, log));
  return { ...inference.result, ...training.result, peakBytes: { inference: inference.peakBytes, training: training.peakBytes } };
}

async function measureInference(policy: Policy, work: Workload, repeat: number, log: (s: string) => void): Promise<Pick<Measured, "decode" | "score_s" | "score_cores">> {
  const decode: Measured["decode"] = [];
  for (const { prompts, maxNew } of work.decode) {
    const greedy = (n: number) => () => policy.generate(prompts, { maxNew: n, temperature: 0, seed: 1 });
    // Two new tokens compile everything generation uses: the prefill and one decode step.
    const prefill = await best(greedy(1), repeat, greedy(2));
    const gen = await best(greedy(maxNew), repeat);
    decode.push({ batch: prompts.length, prefill_s: prefill.seconds, prefill_cores: prefill.cores, generate_s: gen.seconds, generate_cores: gen.cores, ids: gen.result.map((g) => g.ids) });
    log(`decode batch ${prompts.length}: prefill ${prefill.seconds.toFixed(2)} s, generate ${gen.seconds.toFixed(2)} s`);
  }
  const score = await best(() => policy.tokenStats(work.seqs), repeat);
  log(`score ${score.seconds.toFixed(2)} s`);
  return { decode, score_s: score.seconds, score_cores: score.cores };
}

async function measureTrain(policy: Policy, work: Workload, repeat: number, log: (s: string) => void): Promise<Pick<Measured, "train_s" | "train_cores">> {
  const trainStep = (seqs: Sequence[]) => async () => {
    const n = seqs.reduce((a, s) => a + s.responseIds.length, 0);
    await policy.accumulate(seqs, (stats) => ({ dlogp: stats.logp.map((l) => l.map(() => -1 / n)) }));
    return policy.step({ lr: 1e-5, weightDecay: 0, betas: [0.9, 0.999], eps: 1e-8, maxGradNorm: 1 });
  };
  const train = await best(trainStep(work.seqs), repeat, trainStep(WARM_TRAIN));
  log(`train ${train.seconds.toFixed(2)} s`);
  return { train_s: train.seconds, train_cores: train.cores };
}

const wire = (seqs: Sequence[]) => seqs.map((s) => ({ prompt: s.promptIds, response: s.responseIds }));

/** Runs model-baselines.py: `probe` (exit NO_CUDA when CUDA is asked for but absent) or `run` with a task on stdin. */
function runBaseline(args: string[], task?: unknown): { exitCode: number; stdout: string; stderr: string } {
  const proc = spawnSync([TORCH_PYTHON, join(import.meta.dir, "model-baselines.py"), ...args], {
    stdin: Buffer.from(task === undefined ? "" : JSON.stringify(task)),
    stdout: "pipe",
    stderr: "pipe",
  });
  return { exitCode: proc.exitCode ?? -1, stdout: proc.stdout.toString(), stderr: proc.stderr.toString() };
}

interface TorchMachine {
  torch: string;
  device: string;
  threads: number;
  cuda_device: string | null;
  attention: string;
}

// ---- report -----------------------------------------------------------------------------------------------------

interface Row {
  measure: string;
  shape: string;
  tokens: number;
  ours: Timed & { tokensPerSecond: number };
  torch: Timed & { tokensPerSecond: number };
}

/** Rows from either side's measurements; decode time is generate − prefill over the (maxNew − 1) one-token steps. */
function rowsOf(m: Measured, work: Workload, sizes: Sizes): { measure: string; shape: string; tokens: number; t: Timed }[] {
  const rows = m.decode.flatMap((d, i) => {
    const B = d.batch;
    const steps = work.decode[i].maxNew - 1;
    return [
      { measure: `prefill B=${B}`, shape: `${B}×${sizes.promptLen}`, tokens: B * sizes.promptLen, t: { seconds: d.prefill_s, cores: d.prefill_cores } },
      { measure: `decode B=${B}`, shape: `${B}×${steps} steps`, tokens: B * steps, t: { seconds: d.generate_s - d.prefill_s, cores: d.generate_cores } },
    ];
  });
  const len = sizes.trainPrompt + sizes.trainResponse;
  const shape = `${sizes.trainBatch}×(${sizes.trainPrompt}+${sizes.trainResponse})`;
  const tokens = sizes.trainBatch * len;
  return [
    ...rows,
    { measure: "score (tokenStats)", shape, tokens, t: { seconds: m.score_s, cores: m.score_cores } },
    { measure: "train (accumulate+step)", shape, tokens, t: { seconds: m.train_s, cores: m.train_cores } },
  ];
}

/** Greedy rows equal to torch's, per decode batch (fp32 on both sides: a near-tie may flip one argmax). */
function agreement(ours: Measured, torch: Measured): string[] {
  return ours.decode.map((d, i) => {
    const same = d.ids.filter((ids, b) => ids.every((id, t) => id === torch.decode[i].ids[b][t])).length;
    return `B=${d.batch}: ${same}/${d.ids.length} rows identical`;
  });
}

async function benchConfig(preset: ShapeName, opts: Options, sizes: Sizes, log: (s: string) => void) {
  const work = workload(sizes);
  const dir = mkdtempSync(join(tmpdir(), `azr-bench-model-${preset}-`));
  try {
    const ckpt = join(dir, "checkpoint");
    await makeCheckpoint(ckpt, { preset, seed: 1 });
    const maxSeq = Math.max(sizes.promptLen + sizes.maxNew, sizes.trainPrompt + sizes.trainResponse);
    const maxBatch = Math.max(...sizes.decodeBatches, sizes.trainBatch);
    // Torch first: lavapipe keeps the host memory of destroyed buffers, so after our runs of a 0.5B model the two
    // processes together would not fit a 24 GiB machine (the baseline was OOM-killed there).
    log(`  torch (${opts.device}) ...`);
    const task = {
      checkpoint: ckpt,
      device: opts.device,
      repeat: opts.repeat,
      decode: work.decode.map((d) => ({ prompts: d.prompts, max_new: d.maxNew })),
      seqs: wire(work.seqs),
      warm_train: wire(WARM_TRAIN),
    };
    const base = runBaseline(["run"], task);
    if (base.exitCode !== 0) throw new Error(`model baseline (${TORCH_PYTHON}) failed:\n${base.stderr}`);
    const torch: TorchMeasured = JSON.parse(base.stdout);
    log(`  torch peak ${(torch.peak_bytes / 2 ** 30).toFixed(2)} GiB`);
    const ours = new Map<WeightDtype, OursMeasured>();
    let params = 0;
    for (const weightDtype of opts.weightDtypes) {
      const load = async (training: boolean) => {
        const policy = await Policy.load(ckpt, { maxSeq, maxBatch, weightDtype, training });
        params = parameterCount(policy.config);
        log(`${preset} (${weightDtype} weights, ${training ? "training" : "inference"}): ${(params / 1e6).toFixed(2)}M parameters, maxSeq ${maxSeq}, maxBatch ${maxBatch}`);
        return policy;
      };
      const m = await measureOurs(load, work, opts.repeat, (s) => log(`  ours ${s}`));
      ours.set(weightDtype, m);
      log(`  ours peak device memory: inference ${(m.peakBytes.inference / 2 ** 30).toFixed(2)} GiB, training ${(m.peakBytes.training / 2 ** 30).toFixed(2)} GiB`);
      const shorter = m.decode.filter((d) => d.ids.some((ids) => ids.length < sizes.maxNew));
      if (shorter.length > 0) throw new Error(`${preset}: greedy generation hit a stop token before maxNew ${sizes.maxNew} (batch ${shorter[0].batch}); decode figures would be wrong`);
    }
    const theirs = rowsOf(torch, work, sizes);
    const runs = [...ours].map(([weightDtype, m]) => ({
      weightDtype,
      peakBytes: m.peakBytes,
      rows: rowsOf(m, work, sizes).map(
        (r, i): Row => ({
          measure: r.measure,
          shape: r.shape,
          tokens: r.tokens,
          ours: { ...r.t, tokensPerSecond: r.tokens / r.t.seconds },
          torch: { ...theirs[i].t, tokensPerSecond: r.tokens / theirs[i].t.seconds },
        }),
      ),
      greedy: agreement(m, torch),
    }));
    return { preset, parameters: params, maxSeq, maxBatch, torchPeakBytes: torch.peak_bytes, runs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Options, or a usage error (exit 2) that says which flag is wrong. */
function optionsOrExit(args: string[]): Options {
  try {
    return parseOptions(args);
  } catch (e) {
    console.error(`bench model: ${(e as Error).message}`);
    process.exit(2);
  }
}

export async function main(args: string[]): Promise<void> {
  const opts = optionsOrExit(args);
  const sizes = opts.quick ? QUICK : SIZES;
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const probe = runBaseline(["probe", opts.device]);
  if (probe.exitCode === NO_CUDA) {
    console.log(`bench model: skipped — --device cuda, but ${probe.stderr.trim()} (set AZR_TORCH_PYTHON to a CUDA build of torch)`);
    return;
  }
  if (probe.exitCode !== 0) throw new Error(`model baseline probe (${TORCH_PYTHON}) failed:\n${probe.stderr}`);
  const machine: TorchMachine = JSON.parse(probe.stdout).machine;
  const gpu = await getGpu();
  if (gpu.isSoftware && opts.configs.includes("qwen2.5-0.5b")) log("warning: qwen2.5-0.5b on a software adapter takes many minutes per op");
  const results = [];
  for (const preset of opts.configs) results.push(await benchConfig(preset, opts, sizes, log));

  const f = (x: number) => (x >= 100 ? x.toFixed(0) : x.toPrecision(3));
  const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(2)} GiB`;
  printTable(
    ["config", "weights", "measure", "shape", "ours tok/s", "cores", `torch ${opts.device} tok/s`, "cores", "ours/torch"],
    results.flatMap((r) =>
      r.runs.flatMap((run) =>
        run.rows.map((row) => [r.preset, run.weightDtype, row.measure, row.shape, f(row.ours.tokensPerSecond), row.ours.cores.toFixed(1), f(row.torch.tokensPerSecond), row.torch.cores.toFixed(1), `${(row.ours.tokensPerSecond / row.torch.tokensPerSecond).toFixed(2)}×`]),
      ),
    ),
  );
  printTable(
    ["config", "weights", "ours peak: inference", "ours peak: training", `torch ${opts.device} fp32 peak ${opts.device === "cuda" ? "allocated" : "RSS"} (whole run)`],
    results.flatMap((r) => r.runs.map((run) => [r.preset, run.weightDtype, gib(run.peakBytes.inference), gib(run.peakBytes.training), gib(r.torchPeakBytes)])),
  );
  console.log(`ours: WebGPU on ${gpu.description}; torch ${machine.torch} on ${opts.device === "cuda" ? `${machine.cuda_device} (fp32, TF32 off)` : `${machine.threads} CPU threads`}, attention ${machine.attention}`);
  console.log(`best of ${opts.repeat} timed run(s) after a warm-up; decode = generate(maxNew ${sizes.maxNew}) − generate(maxNew 1), i.e. new tokens/s of the one-token steps alone`);
  console.log(`cores = CPU cores each process used while timing (${availableParallelism()} here; lavapipe's threads count as ours)`);
  for (const r of results) for (const run of r.runs) console.log(`greedy agreement with torch fp32, ${r.preset} (${run.weightDtype} weights): ${run.greedy.join(", ")}`);
  const file = writeResult("model", { date: new Date().toISOString(), adapter: gpu.description, software: gpu.isSoftware, cores: availableParallelism(), options: opts, sizes, torch: machine, configs: results });
  console.log(`wrote ${file}`);
}
