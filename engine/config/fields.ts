// One row per config field: its one-line help, whether it may be null, and the range check validateConfig applies.
// The defaults are schema.ts' REFERENCE_DEFAULTS; `bun run train --help` lists every key from this table with its
// default. The table is typed by TrainConfig's keys, so a field added to the schema without a row does not compile.
import { WEIGHT_DTYPES } from "../../kernels/index.ts";
import { natsUrlProblem } from "../../sandbox/index.ts";
import { names } from "../rollout-workers/protocol.ts";
import { INDUCTION_REWARDS } from "../rewards/solver.ts";
import { F_REPLACE_LOCATIONS } from "../tasks/parse.ts";
import { PROMPT_STYLES } from "../tasks/prompts.ts";
import { ROLES, TASK_TYPES } from "../tasks/types.ts";
import { WHITENINGS } from "../trr/advantage.ts";
import {
  CAP_POLICIES, RECENT_SETS, REFERENCE_DEFAULTS, SOLVE_LENGTH_FILTERS, SOLVE_MIXES, type TrainConfig, WEIGHT_DECAY_MASKS,
} from "./schema.ts";

type Group = { [G in keyof TrainConfig]: TrainConfig[G] extends readonly unknown[] ? never : TrainConfig[G] extends object ? G : never }[keyof TrainConfig];

/** Every leaf key of a TrainConfig, dotted: "seed", "tasks.batchSize". */
export type FieldKey = Exclude<keyof TrainConfig, Group> | { [G in Group]: `${G}.${keyof TrainConfig[G] & string}` }[Group];

type ValueAt<K extends FieldKey> = K extends `${infer G extends Group}.${infer F}`
  ? F extends keyof TrainConfig[G] ? TrainConfig[G][F] : never
  : K extends keyof TrainConfig ? TrainConfig[K] : never;

interface Field<K extends FieldKey> {
  help: string;
  /** The value may be null as well as its default's type. */
  nullable?: true;
  /** What to do about a bad value (`use an integer ≥ 1`), or null when it is fine; the merge has checked its type. */
  check?: (value: ValueAt<K>, config: TrainConfig) => string | null;
}

const problem = (ok: boolean, fix: string): string | null => (ok ? null : fix);
const int = (min: number, note = "") => (v: number) => problem(Number.isInteger(v) && v >= min, `use an integer ≥ ${min}${note}`);
const anyInt = (v: number) => problem(Number.isSafeInteger(v), "use an integer");
const atLeast = (min: number, note = "") => (v: number) => problem(v >= min, `use a number ≥ ${min}${note}`);
const positive = (v: number) => problem(v > 0, "use a number > 0");
const oneOf = (values: readonly string[], fix = `use ${values.map((v) => JSON.stringify(v)).join(" or ")}`) => (v: string) =>
  problem(values.includes(v), fix);
/** What is wrong with a value, as the function that throws on it says; null when nothing is. */
function thrown(check: () => unknown): string | null {
  try {
    check();
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

export const FIELDS: { [K in FieldKey]: Field<K> } = {
  seed: { help: "master seed: every sampler and generation seed of the run derives from it", check: anyInt },
  steps: { help: "training steps (step 0 is seeding)", check: int(0) },
  checkpointEvery: { help: "checkpoint every N steps (and at the end and on Ctrl-C)", check: int(1) },
  samplesPerBatch: { help: "proposals and answers per (task, role) batch in samples.jsonl", check: int(0, " (0 = no samples.jsonl)") },
  maxMinutes: {
    help: "wall-clock budget of one invocation in minutes: no step starts after it (0 = none)",
    check: (v) => problem(v >= 0 && Number.isFinite(v), "use a number ≥ 0 (0 = no time limit)"),
  },
  "model.checkpoint": { help: "checkpoint directory to train; null = make a random one into the run directory", nullable: true },
  "model.makePreset": { help: "architecture of that random checkpoint", check: (v) => problem(v === "tiny", 'use "tiny"') },
  "model.makeSeed": { help: "parameter seed of that random checkpoint", check: anyInt },
  "model.maxSeq": { help: "longest prompt + response the policy is sized for", check: int(16) },
  "model.maxBatch": { help: "most sequences per forward/backward call (micro-batch)", check: int(1) },
  "model.weightDtype": {
    help: "weight matrices on the device: f32, or f16 (needs shader-f16; AdamW steps f32 masters, the kernels read the f16 copy)",
    check: (v, c) =>
      oneOf(WEIGHT_DTYPES)(v) ??
      // A worker's job carries the sizes only: it would generate with the f32 masters, not the learner's f16 copy.
      problem(v === "f32" || c.rollout.workers === null, 'use "f32" with rollout.workers (rollout workers load f32 weights)'),
  },
  "data.seedFile": { help: "deduction/abduction seed rows (*_seed_io.jsonl); null = the zero triplet", nullable: true },
  "data.inductionSeedFile": { help: "induction seed rows (*_code_f_seed_io.jsonl); null = the zero seed", nullable: true },
  "data.seedRows": { help: "leading rows of each seed file loaded", check: int(1) },
  "buffers.cap": { help: "most programs per buffer", check: int(1) },
  "buffers.capPolicy": { help: "keep_oldest: a full buffer drops new programs; fifo: it evicts its oldest", check: oneOf(CAP_POLICIES) },
  "buffers.dedup": { help: "drop a program whose (snippet, inputs) is already buffered" },
  "buffers.solveMix": { help: "max_new: prefer recent programs, fill uniformly; uniform_total: uniform", check: oneOf(SOLVE_MIXES) },
  "buffers.recentWindow": { help: 'steps back that count as "recent" for max_new', check: int(1) },
  "buffers.recentSet": { help: "which entries max_new treats as recent (last_offered: the last N offered; step_tag: by tag)", check: oneOf(RECENT_SETS) },
  "tasks.types": {
    help: "task types trained",
    check: (v) => problem(v.length > 0 && v.every((t) => TASK_TYPES.includes(t)) && new Set(v).size === v.length, `use distinct values of ${TASK_TYPES.join(", ")}`),
  },
  "tasks.batchSize": { help: "prompts per (task, role) per step", check: int(1) },
  "tasks.references": { help: "reference snippets shown to a deduction/abduction proposer", check: int(1) },
  "tasks.numInputs": { help: "inputs an induction proposer must write", check: int(2, " (half are hidden)") },
  "tasks.rejectMultipleDefs": { help: "reject proposals with more than one def" },
  "tasks.fReplaceLocation": { help: "which occurrence of f is renamed in a proposal", check: oneOf(F_REPLACE_LOCATIONS) },
  "tasks.bannedWords": { help: "import names a proposal may not use", check: (v) => problem(v.every((w) => typeof w === "string" && w !== ""), "use non-empty strings") },
  "tasks.contentMaxTokens": {
    help: "a longer propose prompt is re-drawn; with refill, a longer solve prompt is dropped and refilled",
    check: (v, c) => problem(Number.isInteger(v) && v >= 1 && v <= c.tasks.maxPromptTokens, `use an integer in [1, tasks.maxPromptTokens = ${c.tasks.maxPromptTokens}]`),
  },
  "tasks.maxPromptTokens": { help: "any longer prompt is dropped", check: int(1) },
  "tasks.solveLengthFilter": { help: "refill: drop solve prompts over contentMaxTokens and refill; drop: train the smaller batch", check: oneOf(SOLVE_LENGTH_FILTERS) },
  "tasks.splitOnFirstAssistant": { help: 'cut the decoded text at its first "Assistant:" (the reference) instead of the prompt\'s marker' },
  "tasks.roles": {
    help: 'roles trained: ["propose", "solve"] (self-play) or ["solve"] (the solver-only control on the seed buffers)',
    check: (v) =>
      problem(
        v.length > 0 && v.every((r) => ROLES.includes(r)) && new Set(v).size === v.length && v.includes("solve"),
        'use ["propose", "solve"] (self-play) or ["solve"] (the solver-only control)',
      ),
  },
  "tasks.promptStyle": { help: "azr: the reference's verbatim prompts; compact: the short CPU-scale ones", check: oneOf(PROMPT_STYLES, 'use "azr" (verbatim) or "compact"') },
  "rollout.maxNewTokens": { help: "response length cap", check: int(1) },
  "rollout.temperature": { help: "sampling temperature", check: atLeast(0, " (0 = greedy)") },
  "rollout.topK": { help: "top-k sampling (0 = off)", check: int(0, " (0 = off)") },
  "rollout.topP": { help: "nucleus sampling", check: (v) => problem(v > 0 && v <= 1, "use a number in (0, 1]") },
  "rollout.workers": { help: "nats://HOST:PORT of rollout workers; null = generate in this process", nullable: true, check: (v) => (v === null ? null : natsUrlProblem(v)) },
  "rollout.workersStream": { help: "the JetStream work queue the learner and its workers share", check: (v) => thrown(() => names(v)) },
  "rewards.learnabilitySamples": {
    help: "solver rollouts per valid proposal for the learnability estimate",
    check: int(2, " (with 1 sample every solve rate is 0 or 1 and learnability is always the extreme value)"),
  },
  "rewards.learnabilityTemperature": { help: "their sampling temperature", check: atLeast(0) },
  "rewards.extremeValue": { help: "proposer reward when the solve rate is 0 or 1 (paper: 0)", check: (v) => problem(v >= -1 && v <= 1, "use a number in [−1, 1] (reference −0.5, paper 0)") },
  "rewards.inductionReward": { help: "binary: 1 only if every hidden pair passes; accuracy: the fraction", check: oneOf(INDUCTION_REWARDS) },
  "algorithm.whitening": { help: "token: advantage mean/std over a batch's tokens (verl); sequence: over rewards", check: oneOf(WHITENINGS) },
  "algorithm.whitenEps": { help: "added to the std when whitening", check: positive },
  "algorithm.clipLow": { help: "PPO ratio clip below 1", check: (v) => problem(v >= 0 && v <= 1, "use a number in [0, 1]") },
  "algorithm.clipHigh": { help: "PPO ratio clip above 1", check: atLeast(0) },
  "algorithm.dualClip": { help: "dual-clip bound for negative advantages (0 = off)", check: (v) => problem(v === 0 || v > 1, "use 0 (off) or a number > 1") },
  "algorithm.entropyCoeff": { help: "entropy bonus weight", check: atLeast(0) },
  "algorithm.klCoeff": { help: "k3 KL weight to the initial policy (0 = no reference model)", check: atLeast(0) },
  "algorithm.lr": { help: "AdamW learning rate", check: positive },
  "algorithm.weightDecay": { help: "AdamW weight decay", check: atLeast(0) },
  "algorithm.weightDecayMask": { help: "all: decay every parameter (torch); matrices: skip norms and biases", check: oneOf(WEIGHT_DECAY_MASKS) },
  "algorithm.betas": { help: "AdamW betas", check: (v) => problem(v.length === 2 && v.every((b) => typeof b === "number" && b >= 0 && b < 1), "use two numbers in [0, 1)") },
  "algorithm.adamEps": { help: "AdamW epsilon", check: positive },
  "algorithm.maxGradNorm": { help: "clip the global gradient norm to this", check: positive },
  "algorithm.miniBatches": { help: "optimizer steps per training step", check: int(1) },
  "algorithm.shuffleAdvantages": { help: "control: permute the advantages within each (task, role) batch (a run must not learn)" },
  "algorithm.lossMicroBatch": { help: "sequences per loss token-mean (0 = one over the mini-batch)", check: int(0, " (0 = one token-mean over the mini-batch)") },
  "executor.url": {
    help: 'null = an in-process pool of executor.workers; "nats://HOST:PORT" = the executor fleet there',
    nullable: true,
    check: (v) => (v === null || natsUrlProblem(v) === null ? null : `use null (an in-process pool) or "nats://HOST:PORT" (an executor fleet): ${natsUrlProblem(v)}`),
  },
  "executor.workers": { help: "in-process interpreter instances", check: int(1) },
  "executor.timeoutMs": { help: "wall-clock limit per program run", check: int(1) },
  "executor.memoryMiB": { help: "memory cap per interpreter instance", check: int(64) },
  "executor.hashSeed": { help: "PYTHONHASHSEED of the run", check: int(0) },
  "executor.compat": { help: "reproduce the reference's validity quirks" },
  "eval.every": { help: "greedy evaluation every N steps", check: int(0, " (0 = never)") },
  "eval.file": { help: "held-out deduction/abduction rows (JSONL)", check: (v) => problem(v !== "", "name a JSONL file of {snippet, input, output} rows") },
  "eval.limit": { help: "rows evaluated", check: int(1) },
  "eval.generatedFile": {
    help: "a warm start's heldout.jsonl: generated programs posed as all three task types, withheld from the buffers; null = none",
    nullable: true,
    check: (v) => problem(v !== "", "use null or name a heldout.jsonl written by bun run warmstart"),
  },
  "eval.generatedLimit": { help: "generated programs evaluated (tasks per task type)", check: int(1) },
  "eval.maxNewTokens": { help: "response length cap of the evaluation", check: int(1) },
};

/** The value of a dotted key in a config. */
export function valueAt(c: TrainConfig, key: FieldKey): unknown {
  return key.split(".").reduce<unknown>((v, k) => (v as Record<string, unknown>)[k], c);
}

export const FIELD_KEYS = Object.keys(FIELDS) as FieldKey[];

/** `key=default` as JSON, cut to `max` characters (the banned-words list, the shipped eval file's absolute path). */
function keyAndDefault(key: FieldKey, max = 36): string {
  const text = `${key}=${JSON.stringify(valueAt(REFERENCE_DEFAULTS, key))}`;
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Every `--set` key with its reference default and help, one line each (what `bun run train --help` lists). */
export function fieldsHelp(): string {
  const rows = FIELD_KEYS.map((key) => [keyAndDefault(key), FIELDS[key].help] as const);
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, help]) => `  ${k.padEnd(width)}  ${help}`).join("\n");
}
