// The one training configuration: every knob of a run, grouped, with the reference's values as defaults
// (LeapLabTHU/Absolute-Zero-Reasoner master @ a82124e, Qwen2.5 self-play scripts; docs/reference.md §4–§6).
// Where the project departs, the switch is here and in the README's departure table. A preset, a JSON
// config file and command-line flags all produce partial objects of this shape; validate.ts checks the merged result
// before any work starts.
import type { Role, TaskType } from "../tasks/types.ts";
import type { FReplaceLocation } from "../tasks/parse.ts";
import type { InductionReward } from "../rewards/solver.ts";
import type { Whitening } from "../trr/advantage.ts";
import type { PromptStyle } from "../tasks/prompts.ts";
import { REFERENCE_BANNED_WORDS } from "../../sandbox/azr.ts";
import { resolve } from "node:path";
import { DEFAULT_STREAM } from "../rollout-workers/protocol.ts";
import type { WeightDtype } from "../../kernels/index.ts";

/** Held-out deduction/abduction rows shipped with the engine (see engine/data/README.md). */
export const DEFAULT_EVAL_FILE = resolve(import.meta.dir, "..", "data", "heldout-io.jsonl");

/** The run's `model` section: which checkpoint it trains and how the policy is sized (the architecture itself is
 * engine/model's ModelConfig, read from the checkpoint's config.json). */
export interface RunModelConfig {
  /** A checkpoint directory (config.json, safetensors, tokenizer); null = make a random one into the run dir. */
  checkpoint: string | null;
  /** Architecture preset of the random checkpoint made when `checkpoint` is null. */
  makePreset: "tiny";
  /** Parameter seed of that random checkpoint. */
  makeSeed: number;
  /** Longest prompt + response the policy is sized for (KV cache, activations). */
  maxSeq: number;
  /** Most sequences per forward/backward call (micro-batch). */
  maxBatch: number;
  /** How the policy stores its weight matrices on the device: f32, or f16 (shader-f16) with f32 masters for AdamW. */
  weightDtype: WeightDtype;
}

export interface DataConfig {
  /** Deduction/abduction seed rows (`*_seed_io.jsonl`); null = the zero seed (identity triplet). */
  seedFile: string | null;
  /** Induction seed rows (`*_code_f_seed_io.jsonl`); null = the zero seed (identity with 6 pairs). */
  inductionSeedFile: string | null;
  /** How many leading rows of each seed file to load (reference: data_len 64 × seed_batch_factor 4). */
  seedRows: number;
}

// Each enum is one const array (what validateConfig accepts) and the type read from it.
export const CAP_POLICIES = ["keep_oldest", "fifo"] as const;
export type CapPolicy = (typeof CAP_POLICIES)[number];
export const SOLVE_MIXES = ["max_new", "uniform_total"] as const;
export type SolveMix = (typeof SOLVE_MIXES)[number];
/** last_offered: the buffer's last N entries, N = programs offered in the window (reference); step_tag: by tag. */
export const RECENT_SETS = ["last_offered", "step_tag"] as const;
export type RecentSet = (typeof RECENT_SETS)[number];
/** refill: filter at contentMaxTokens, refill by drawing again (reference); drop: filter at maxPromptTokens, train smaller. */
export const SOLVE_LENGTH_FILTERS = ["refill", "drop"] as const;
export type SolveLengthFilter = (typeof SOLVE_LENGTH_FILTERS)[number];
/** all: decay every parameter (torch AdamW, as verl uses it); matrices: skip norms and biases. */
export const WEIGHT_DECAY_MASKS = ["all", "matrices"] as const;
export type WeightDecayMask = (typeof WEIGHT_DECAY_MASKS)[number];

export interface BufferConfig {
  /** Most programs per buffer (reference max_programs). */
  cap: number;
  /** keep_oldest: a full buffer drops new programs (reference); fifo: it evicts its oldest. */
  capPolicy: CapPolicy;
  /** Drop a program whose (snippet, input[s]) is already buffered (reference: no dedup after seeding). */
  dedup: boolean;
  /** max_new: prefer programs added within `recentWindow` steps, fill uniformly (reference); uniform_total: uniform. */
  solveMix: SolveMix;
  /** Steps back that count as "recent" for max_new (reference past_epoch_window = 1). */
  recentWindow: number;
  /**
   * Which entries max_new treats as recent. last_offered (reference): the buffer's last N entries, where N counts the
   * programs offered at steps in the window, kept or not, so a full keep_oldest buffer keeps calling its last
   * programs recent. step_tag: the entries whose own step is in the window (none once a keep_oldest buffer is full).
   */
  recentSet: RecentSet;
}

export interface TaskConfig {
  /** Task types trained, in the reference's order. */
  types: TaskType[];
  /** Prompts per (task, role) per step (reference data.train_batch_size). */
  batchSize: number;
  /** Reference snippets shown to a deduction/abduction proposer (reference io_n). */
  references: number;
  /** Inputs an induction proposer must write (reference num_inputs, hard-wired 10). */
  numInputs: number;
  /** Reject proposals with more than one `def` anywhere (reference Qwen2.5 scripts: true). */
  rejectMultipleDefs: boolean;
  fReplaceLocation: FReplaceLocation;
  /** Import names a proposal may not use (shown in the prompt, checked on AST import names by the executor). */
  bannedWords: string[];
  /**
   * Reference content_max_length: a propose prompt longer than this is re-drawn; with solveLengthFilter "refill" a
   * solve prompt longer than this is dropped and the batch refilled.
   */
  contentMaxTokens: number;
  /** Any prompt longer than this is dropped (reference data.max_prompt_length), learnability prompts included. */
  maxPromptTokens: number;
  /**
   * refill (reference get_pred_code_io_data): solve prompts over contentMaxTokens are dropped and the batch is
   * refilled to batchSize with uniform draws from the prompts that fit. drop: prompts over maxPromptTokens are dropped
   * and the step trains on the smaller batch.
   */
  solveLengthFilter: SolveLengthFilter;
  /** true: cut the decoded text at its first "Assistant:" like the reference; false: at the prompt's own marker. */
  splitOnFirstAssistant: boolean;
  /** azr: the reference's verbatim prompts; compact: the short CPU-scale prompts (tasks/compact-templates.ts). */
  promptStyle: PromptStyle;
  /**
   * Roles trained each step: both (self-play, the reference), or ["solve"] only (a control: the solver trains on
   * the buffers as seeded, which then never grow).
   */
  roles: Role[];
}

export interface RolloutConfig {
  /** Response length cap (reference max_response_length). */
  maxNewTokens: number;
  temperature: number;
  /** 0 = off. */
  topK: number;
  topP: number;
  /**
   * nats://HOST:PORT of the rollout workers' nats-server (engine/rollout-workers/): generation runs on
   * `bun run rollout-worker` processes there; null = in this process. Either way the same seeds give the same tokens.
   */
  workers: string | null;
  /** The JetStream stream (work queue) the learner and its workers share. */
  workersStream: string;
}

export interface RewardConfig {
  /** Solver rollouts per valid proposal for the learnability estimate (reference n_samples). */
  learnabilitySamples: number;
  /** Their sampling temperature (paper branch: 1.0; master's greedy val_kwargs makes s ∈ {0,1}). */
  learnabilityTemperature: number;
  /** Proposer reward when the solve rate is 0 or 1 (reference code: −0.5; paper Eq. 4: 0). */
  extremeValue: number;
  /** binary: an induction answer scores 1 only if every hidden pair passes (reference scripts); accuracy: the fraction. */
  inductionReward: InductionReward;
}

export interface AlgorithmConfig {
  /** token: mean/std over all valid response tokens of a (task, role) batch (verl); sequence: over rewards (paper). */
  whitening: Whitening;
  whitenEps: number;
  clipLow: number;
  clipHigh: number;
  /** Dual-clip bound c for negative advantages; 0 = off. */
  dualClip: number;
  entropyCoeff: number;
  /** Weight of the k3 KL to the frozen initial policy; 0 = no reference model is loaded. */
  klCoeff: number;
  lr: number;
  weightDecay: number;
  /** Which parameters weight decay applies to (matters only when weightDecay > 0). */
  weightDecayMask: WeightDecayMask;
  betas: [number, number];
  adamEps: number;
  maxGradNorm: number;
  /** Optimizer steps per training step; >1 splits the step's sequences and computes old log-probs first. */
  miniBatches: number;
  /**
   * Sequences per loss micro-batch (verl ppo_micro_batch_size_per_gpu = 16): the loss is the token-mean of each
   * micro-batch, averaged over the mini-batch's micro-batches. 0 = one token-mean over the whole mini-batch.
   */
  lossMicroBatch: number;
  /**
   * A control, not a method: permute the advantages among the sequences of each (task, role) batch before the loss,
   * so rewards no longer say which response earned them. A run must not learn with it.
   */
  shuffleAdvantages: boolean;
}

export interface ExecutorConfig {
  /** null: an in-process pool of `workers`; "nats://HOST:PORT": the executor fleet there (`executor serve --nats`),
   * whose members must run with the timeoutMs, memoryMiB, hashSeed, compat and banned words below. */
  url: string | null;
  workers: number;
  timeoutMs: number;
  memoryMiB: number;
  /** One PYTHONHASHSEED for the run (the reference's forked workers share one). */
  hashSeed: number;
  /** Reproduce the reference's validity quirks (non-*Error exceptions and determinism failures accepted, gold ''). */
  compat: boolean;
}

export interface EvalConfig {
  /** Greedy evaluation every N steps; 0 = never. */
  every: number;
  /** Held-out deduction/abduction rows (snippet, input, output, imports). */
  file: string;
  /** Rows used (the first ones after dropping any snippet that seeds the buffers). */
  limit: number;
  /**
   * Generated held-out programs (`heldout.jsonl` beside a warm start: snippet, input, output, inputs, outputs,
   * message), each posed as a deduction, an abduction and an induction task; their snippets never enter a buffer.
   * null = none.
   */
  generatedFile: string | null;
  /** Programs of generatedFile used (the first ones): this many tasks per task type. */
  generatedLimit: number;
  maxNewTokens: number;
}

export interface TrainConfig {
  /** Master seed: every sampler and generation seed of the run derives from it. */
  seed: number;
  /** Training steps (step 0 is seeding). */
  steps: number;
  /** Checkpoint every N steps (and at the end and on Ctrl-C). */
  checkpointEvery: number;
  /** Proposals and solver answers of each (task, role) batch recorded per step in samples.jsonl; 0 = none. */
  samplesPerBatch: number;
  /** Wall-clock budget of one invocation in minutes: no step starts after it is spent (0 = none). */
  maxMinutes: number;
  model: RunModelConfig;
  data: DataConfig;
  buffers: BufferConfig;
  tasks: TaskConfig;
  rollout: RolloutConfig;
  rewards: RewardConfig;
  algorithm: AlgorithmConfig;
  executor: ExecutorConfig;
  eval: EvalConfig;
}

/** The reference's values (master branch, Qwen2.5 scripts); presets override what a machine can afford. */
export const REFERENCE_DEFAULTS: TrainConfig = {
  seed: 1,
  steps: 900,
  checkpointEvery: 10,
  samplesPerBatch: 4,
  maxMinutes: 0,
  model: { checkpoint: null, makePreset: "tiny", makeSeed: 1, maxSeq: 14240, maxBatch: 16, weightDtype: "f32" },
  data: { seedFile: null, inductionSeedFile: null, seedRows: 256 },
  buffers: { cap: 16384, capPolicy: "keep_oldest", dedup: false, solveMix: "max_new", recentWindow: 1, recentSet: "last_offered" },
  tasks: {
    types: ["abduction", "deduction", "induction"],
    batchSize: 64,
    references: 6,
    numInputs: 10,
    rejectMultipleDefs: true,
    fReplaceLocation: "not_first",
    bannedWords: [...REFERENCE_BANNED_WORDS],
    contentMaxTokens: 5600,
    maxPromptTokens: 6144,
    solveLengthFilter: "refill",
    splitOnFirstAssistant: true,
    promptStyle: "azr",
    roles: ["propose", "solve"],
  },
  rollout: { maxNewTokens: 8096, temperature: 1, topK: 0, topP: 1, workers: null, workersStream: DEFAULT_STREAM },
  rewards: { learnabilitySamples: 8, learnabilityTemperature: 1, extremeValue: -0.5, inductionReward: "binary" },
  algorithm: {
    whitening: "token",
    whitenEps: 1e-8,
    clipLow: 0.2,
    clipHigh: 0.28,
    dualClip: 3,
    entropyCoeff: 0,
    klCoeff: 0,
    lr: 1e-6,
    weightDecay: 0,
    weightDecayMask: "all",
    betas: [0.9, 0.999],
    adamEps: 1e-8,
    maxGradNorm: 1,
    miniBatches: 1,
    lossMicroBatch: 16,
    shuffleAdvantages: false,
  },
  executor: { url: null, workers: 1, timeoutMs: 10_000, memoryMiB: 512, hashSeed: 0, compat: true },
  eval: { every: 10, file: DEFAULT_EVAL_FILE, limit: 48, generatedFile: null, generatedLimit: 256, maxNewTokens: 8096 },
};

/** A partial config: any subset of groups and fields (what presets, files and flags provide). */
export type ConfigPatch = { [K in keyof TrainConfig]?: TrainConfig[K] extends object ? Partial<TrainConfig[K]> : TrainConfig[K] };
