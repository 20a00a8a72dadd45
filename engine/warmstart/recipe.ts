// The warm start: a base model made from nothing but generated programs. Steps:
//   1. a truncated Qwen2.5 vocabulary (vocab.ts) and a random Qwen2-shaped model on it;
//   2. a training pool and a held-out pool of programs (programs.ts), every output computed by the executor; the
//      held-out pool shares no snippet with the training pool;
//   3. supervised training through the same Policy and kernels, on the response tokens only, of all six roles in the
//      exact AZR prompts (examples.ts), one role per step in turn; an identity-first curriculum widens the allowed
//      depth as training goes;
//   4. greedy held-out scoring through the trainer's reward path (report.ts); the checkpoint and report.json, and
//      the programs a self-play run starts from and is evaluated on (seed.jsonl, heldout.jsonl).
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { Executor } from "../../sandbox/index.ts";
import { makeCheckpoint, parameterCount, Policy } from "../model/index.ts";
import { Rng } from "../rng.ts";
import { REFERENCE_BANNED_WORDS } from "../../sandbox/azr.ts";
import { PROMPT_STYLES, type PromptStyle } from "../tasks/prompts.ts";
import type { Tokenizer } from "../tokenizer/index.ts";
import { encodePrompt } from "../trainer/rollout.ts";
import { type Example, makeExample, type PromptSettings, type RoleKey } from "./examples.ts";
import { generatePool, type GenProgram, INDUCTION_INPUTS, MAX_DEPTH } from "./programs.ts";
import { type RoleScore, scoreExamples, scoringContext } from "./report.ts";
import { writeTruncatedQwen } from "./vocab.ts";

export const SIZES = {
  tiny: { hidden: 64, layers: 2, heads: 4, kvHeads: 2, headDim: 16, intermediate: 128 },
  small: { hidden: 128, layers: 4, heads: 4, kvHeads: 2, headDim: 32, intermediate: 512 },
} as const;
export type SizeName = keyof typeof SIZES;

export interface WarmstartOptions {
  out: string;
  size: SizeName;
  steps: number;
  seed: number;
  /** Continue from this checkpoint (its own tokenizer and shape) instead of a random model; null = random. */
  init: string | null;
  /** Ordinary ids of the truncated vocabulary. */
  vocab: number;
  /** Sequences per optimizer step (one role each). */
  batch: number;
  lr: number;
  /** Programs in the training pool and per role in the held-out evaluation. */
  programs: number;
  heldOut: number;
  /** The prompts trained on: the tiny preset's compact ones, or the reference's verbatim ones. */
  promptStyle: PromptStyle;
  /** Roles trained and scored (default all six). */
  roles: readonly RoleKey[];
  /** Step-by-step execution traces inside <think> for deduction answers. */
  traces: boolean;
  /** Longest prompt kept (longer proposer prompts are rebuilt with fewer references), and the response cap. */
  maxPromptTokens: number;
  maxNewTokens: number;
  /** Live progress: a step done, with its loss and tokens/s. */
  onStep?: (step: number, loss: number, tokensPerSecond: number) => void;
  onPhase?: (text: string) => void;
  onScored?: (n: number) => void;
}

export interface WarmstartReport {
  options: Omit<WarmstartOptions, "onStep" | "onPhase" | "onScored" | "out">;
  parameters: number;
  vocabSize: number;
  /** Mean response-token NLL of the first and last tenth of the steps. */
  lossFirst: number;
  lossLast: number;
  losses: number[];
  trainedTokens: number;
  tokensPerSecond: number;
  trainSeconds: number;
  /** Greedy, on held-out programs, before and after training. */
  before: RoleScore[];
  after: RoleScore[];
}

/** The report a warm start writes beside its model. */
export const REPORT_FILE = "report.json";

/** The prompt style a warm-start checkpoint was trained on (its report.json), or undefined for any other checkpoint. */
export function trainedPromptStyle(dir: string): PromptStyle | undefined {
  const path = join(dir, REPORT_FILE);
  if (!existsSync(path)) return undefined;
  let style: unknown;
  try {
    style = (JSON.parse(readFileSync(path, "utf8")) as { options?: { promptStyle?: unknown } }).options?.promptStyle;
  } catch (e) {
    throw new Error(`${path}: not a warm-start report (${(e as Error).message})`);
  }
  if (style === undefined) return undefined;
  if (!(PROMPT_STYLES as readonly unknown[]).includes(style)) throw new Error(`${path}: options.promptStyle ${JSON.stringify(style)} is none of ${PROMPT_STYLES.join(", ")}`);
  return style as PromptStyle;
}

/** A fraction of the run → the deepest program allowed: identity only for the first sixth, every depth by 80 %. */
function curriculumDepth(progress: number): number {
  return Math.min(MAX_DEPTH, Math.floor(progress * (MAX_DEPTH + 1) * 1.25));
}

/** lr at step t (1-based): linear warm-up over the first 5 %, cosine down to a tenth. */
function learningRate(peak: number, t: number, steps: number): number {
  const warm = Math.max(1, Math.round(steps * 0.05));
  if (t <= warm) return (peak * t) / warm;
  const u = (t - warm) / Math.max(1, steps - warm);
  return peak * (0.1 + 0.45 * (1 + Math.cos(Math.PI * u)));
}

/** An example whose prompt fits: proposer prompts are redrawn with fewer references (as the trainer redraws). */
function fittingExample(role: RoleKey, p: GenProgram, pool: readonly GenProgram[], rng: Rng, s: PromptSettings, tok: Tokenizer, max: number): Example | null {
  for (let refs = s.references; refs >= 1; refs--) {
    const e = makeExample(role, p, pool, rng, { ...s, references: refs });
    if (tok.encode(e.prompt, { allowSpecial: false }).length <= max) return e;
  }
  return null;
}

/** Held-out programs written to heldout.jsonl for a self-play run's evaluation (≥ 200 tasks per task type). */
export const EVAL_PROGRAMS = 256;
/** Training programs written to seed.jsonl: a self-play run's step-0 buffers (every depth, the identity included). */
export const SEED_PROGRAMS = 256;

/**
 * The training pool and the held-out pool (which shares no snippet with it), deterministic by seed. The held-out
 * pool's first 2 × heldOut programs are the report's; all of them go to heldout.jsonl.
 */
export async function programPools(
  executor: Executor,
  o: Pick<WarmstartOptions, "seed" | "programs" | "heldOut" | "traces">,
): Promise<{ train: GenProgram[]; held: GenProgram[] }> {
  const train = await generatePool(executor, { seed: o.seed, size: o.programs, traces: o.traces, depthMix: [1, 2, 3, 3, 2] });
  const exclude = new Set(train.map((p) => p.snippet));
  const size = Math.max(o.heldOut * 2, EVAL_PROGRAMS);
  const held = await generatePool(executor, { seed: o.seed + 1_000_003, size, traces: o.traces, depthMix: [0, 2, 3, 3, 2], exclude });
  return { train, held };
}

/** A program as a JSONL row both seed loaders read (deduction/abduction and induction fields). */
const programRow = (p: GenProgram): string =>
  JSON.stringify({ snippet: p.snippet, input: p.input, output: p.output, inputs: p.inputs, outputs: p.outputs, message: p.message, imports: [] });

/** heldout.jsonl (never trained on) and seed.jsonl (a sample of the training pool) beside the checkpoint. */
export function writeProgramFiles(dir: string, pools: { train: readonly GenProgram[]; held: readonly GenProgram[] }): void {
  writeFileSync(join(dir, HELDOUT_FILE), `${pools.held.map(programRow).join("\n")}\n`);
  writeFileSync(join(dir, SEED_FILE), `${pools.train.slice(0, SEED_PROGRAMS).map(programRow).join("\n")}\n`);
}
export const HELDOUT_FILE = "heldout.jsonl";
export const SEED_FILE = "seed.jsonl";

/** Greedy scoring runs this many prompts at once (training batches may be smaller). */
const GENERATION_BATCH = 8;
const BEFORE_PER_ROLE = 4;
const PROPOSE_DEPTH = 2;

const mean = (xs: readonly number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

export async function warmstart(o: WarmstartOptions): Promise<WarmstartReport> {
  const phase = o.onPhase ?? (() => {});
  const tmp = `${o.out}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  let initDir = o.init;
  if (initDir === null) {
    const tokDir = join(tmp, "tokenizer");
    writeTruncatedQwen(tokDir, o.vocab);
    initDir = join(tmp, "init");
    await makeCheckpoint(initDir, { preset: "tiny", ...SIZES[o.size], seed: o.seed, tokenizer: join(tokDir, "tokenizer.json") });
  }

  await using executor = await Executor.create({ workers: 2, timeoutMs: 5000 });
  phase("generating programs (the executor validates each and computes its outputs)");
  const { train, held } = await programPools(executor, o);

  const settings: PromptSettings = { references: 3, numInputs: INDUCTION_INPUTS, bannedWords: REFERENCE_BANNED_WORDS, style: o.promptStyle };
  const rng = Rng.seeded(o.seed + 7);
  const maxBatch = Math.max(o.batch, GENERATION_BATCH);
  const policy = await Policy.load(initDir, { maxSeq: o.maxPromptTokens + o.maxNewTokens, maxBatch });
  const tokenizer = policy.tokenizer;
  try {
    const ctx = scoringContext(policy, executor, maxBatch, o.promptStyle);
    const heldOut = o.roles.flatMap((role) =>
      held.slice(0, o.heldOut * 2).flatMap((p) => fittingExample(role, p, held, rng, settings, tokenizer, o.maxPromptTokens) ?? []).filter((_, i) => i < o.heldOut),
    );
    // A random model never stops before maxNew, so it is scored on a few prompts per role only.
    const firstFew = heldOut.filter((e, i) => heldOut.findIndex((f) => f.role === e.role) > i - BEFORE_PER_ROLE);
    phase(`scoring the random model on ${firstFew.length} held-out prompts`);
    const before = await scoreExamples(ctx, firstFew, o.maxNewTokens, o.onScored);

    const eos = tokenizer.specialIds.eos as number;
    const byDepth = Array.from({ length: MAX_DEPTH + 1 }, (_, d) => train.filter((p) => p.depth <= d));
    const losses: number[] = [];
    let tokens = 0;
    let trainMs = 0;
    phase(`training ${o.steps} steps`);
    for (let t = 1; t <= o.steps; t++) {
      const role = o.roles[(t - 1) % o.roles.length];
      // Proposers are taught short programs (depth ≤ PROPOSE_DEPTH): a small model writes them valid far more often.
      const depth = curriculumDepth((t - 1) / o.steps);
      const allowed = byDepth[role.endsWith("propose") ? Math.min(depth, PROPOSE_DEPTH) : depth];
      const seqs = [];
      while (seqs.length < o.batch) {
        const e = fittingExample(role, rng.pick(allowed), train, rng, settings, tokenizer, o.maxPromptTokens);
        if (e === null) continue;
        const responseIds = [...tokenizer.encode(e.response, { allowSpecial: false }), eos].slice(0, o.maxNewTokens);
        seqs.push({ promptIds: encodePrompt(ctx, e.prompt), responseIds });
      }
      const n = seqs.reduce((a, s) => a + s.responseIds.length, 0);
      const started = performance.now();
      let nll = 0;
      await policy.accumulate(seqs, (stats) => {
        nll = -stats.logp.reduce((a, l) => a + l.reduce((x, y) => x + y, 0), 0) / n;
        return { dlogp: stats.logp.map((l) => new Float32Array(l.length).fill(-1 / n)) };
      });
      await policy.step({ lr: learningRate(o.lr, t, o.steps), weightDecay: 0, betas: [0.9, 0.99], eps: 1e-8, maxGradNorm: 1 });
      trainMs += performance.now() - started;
      tokens += seqs.reduce((a, s) => a + s.promptIds.length + s.responseIds.length, 0);
      losses.push(nll);
      o.onStep?.(t, nll, tokens / (trainMs / 1000));
    }

    phase(`scoring the trained model on ${heldOut.length} held-out prompts`);
    const after = await scoreExamples(ctx, heldOut, o.maxNewTokens, o.onScored);
    const modelDir = join(tmp, "model");
    await policy.save(modelDir);
    const tenth = Math.max(1, Math.floor(losses.length / 10));
    const { out: _out, onStep: _s, onPhase: _p, onScored: _c, ...options } = o;
    const report: WarmstartReport = {
      options,
      parameters: parameterCount(policy.config),
      vocabSize: tokenizer.vocabSize,
      lossFirst: mean(losses.slice(0, tenth)),
      lossLast: mean(losses.slice(-tenth)),
      losses: losses.map((l) => Math.round(l * 1e4) / 1e4),
      trainedTokens: tokens,
      tokensPerSecond: tokens / Math.max(1e-9, trainMs / 1000),
      trainSeconds: trainMs / 1000,
      before,
      after,
    };
    // The checkpoint directory is the model itself (config, weights, tokenizer) plus report.json, renamed into place.
    writeFileSync(join(modelDir, REPORT_FILE), `${JSON.stringify(report, null, 2)}\n`);
    writeProgramFiles(modelDir, { train, held });
    mkdirSync(dirname(o.out), { recursive: true });
    renameSync(modelDir, o.out);
    return report;
  } finally {
    policy.destroy();
    rmSync(tmp, { recursive: true, force: true });
  }
}
