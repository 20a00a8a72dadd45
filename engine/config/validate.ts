// Merging config patches and checking the result before any work starts. Every error names the offending key and
// value and says how to fix it.
import { natsUrlProblem } from "../../sandbox/index.ts";
import { names } from "../rollout-workers/protocol.ts";
import { INDUCTION_REWARDS } from "../rewards/solver.ts";
import { F_REPLACE_LOCATIONS } from "../tasks/parse.ts";
import { PROMPT_STYLES } from "../tasks/prompts.ts";
import { ROLES, TASK_TYPES } from "../tasks/types.ts";
import { WHITENINGS } from "../trr/advantage.ts";
import {
  CAP_POLICIES, type ConfigPatch, RECENT_SETS, SOLVE_LENGTH_FILTERS, SOLVE_MIXES, type TrainConfig, WEIGHT_DECAY_MASKS,
} from "./schema.ts";

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Fields whose value may be null as well as their default's type. */
const NULLABLE = new Set(["model.checkpoint", "data.seedFile", "data.inductionSeedFile", "executor.url", "rollout.workers", "eval.generatedFile"]);

const kindOf = (v: unknown): string => (v === null ? "null" : Array.isArray(v) ? "array" : typeof v);

/**
 * `base` with each patch applied in order (later wins). A key the schema lacks, or a value of another type than the
 * default's, is an error naming `source` (a preset, a file, a flag) so the user knows which input to fix.
 */
export function mergeConfig(base: TrainConfig, patches: Array<{ source: string; patch: unknown }>): TrainConfig {
  const out = structuredClone(base) as unknown as Record<string, unknown>;
  for (const { source, patch } of patches) mergeInto(out, patch, "", source);
  return out as unknown as TrainConfig;
}

function mergeInto(target: Record<string, unknown>, patch: unknown, prefix: string, source: string): void {
  if (kindOf(patch) !== "object") {
    throw new ConfigError(`${source}: ${prefix || "config"} must be an object, got ${JSON.stringify(patch)}`);
  }
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (!(key in target)) {
      throw new ConfigError(
        `${source}: unknown setting "${path}"; valid keys here: ${Object.keys(target).join(", ")}`,
      );
    }
    const current = target[key];
    if (kindOf(current) === "object") {
      mergeInto(current as Record<string, unknown>, value, path, source);
      continue;
    }
    const want = NULLABLE.has(path) ? (kindOf(value) === "null" ? "null" : "string") : kindOf(current);
    if (kindOf(value) !== want) {
      throw new ConfigError(
        `${source}: "${path}" must be ${NULLABLE.has(path) ? "a string or null" : `a ${want}`}, got ` +
          `${JSON.stringify(value)} (${kindOf(value)})`,
      );
    }
    target[key] = structuredClone(value);
  }
}

type Check = [ok: boolean, path: string, value: unknown, fix: string];

/** Whether `value` is one of an enum's values (its const array). */
const isOneOf = (values: readonly string[], value: string): boolean => values.includes(value);

/** The fix for a value outside an enum: `use "a" or "b"`. */
const useOneOf = (values: readonly string[]): string => `use ${values.map((v) => JSON.stringify(v)).join(" or ")}`;

/** What is wrong with a value, as the check that throws on it says; null when nothing is. */
function problem(check: () => unknown): string | null {
  try {
    check();
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Range and consistency rules; throws one error listing every violation. */
export function validateConfig(c: TrainConfig): TrainConfig {
  const int = (v: number, min: number): boolean => Number.isInteger(v) && v >= min;
  const unit = (v: number): boolean => v >= 0 && v <= 1;
  const a = c.algorithm;
  const workersUrl = c.rollout.workers === null ? null : natsUrlProblem(c.rollout.workers);
  const workersStream = problem(() => names(c.rollout.workersStream));
  const checks: Check[] = [
    [Number.isSafeInteger(c.seed), "seed", c.seed, "use an integer"],
    [int(c.steps, 0), "steps", c.steps, "use an integer ≥ 0"],
    [int(c.checkpointEvery, 1), "checkpointEvery", c.checkpointEvery, "use an integer ≥ 1"],
    [int(c.samplesPerBatch, 0), "samplesPerBatch", c.samplesPerBatch, "use an integer ≥ 0 (0 = no samples.jsonl)"],
    [c.maxMinutes >= 0 && Number.isFinite(c.maxMinutes), "maxMinutes", c.maxMinutes, "use a number ≥ 0 (0 = no time limit)"],
    [int(c.model.maxSeq, 16), "model.maxSeq", c.model.maxSeq, "use an integer ≥ 16"],
    [int(c.model.maxBatch, 1), "model.maxBatch", c.model.maxBatch, "use an integer ≥ 1"],
    [c.model.makePreset === "tiny", "model.makePreset", c.model.makePreset, 'use "tiny"'],
    [Number.isSafeInteger(c.model.makeSeed), "model.makeSeed", c.model.makeSeed, "use an integer"],
    [int(c.data.seedRows, 1), "data.seedRows", c.data.seedRows, "use an integer ≥ 1"],
    [int(c.buffers.cap, 1), "buffers.cap", c.buffers.cap, "use an integer ≥ 1"],
    [isOneOf(CAP_POLICIES, c.buffers.capPolicy), "buffers.capPolicy", c.buffers.capPolicy, useOneOf(CAP_POLICIES)],
    [isOneOf(SOLVE_MIXES, c.buffers.solveMix), "buffers.solveMix", c.buffers.solveMix, useOneOf(SOLVE_MIXES)],
    [int(c.buffers.recentWindow, 1), "buffers.recentWindow", c.buffers.recentWindow, "use an integer ≥ 1"],
    [isOneOf(RECENT_SETS, c.buffers.recentSet), "buffers.recentSet", c.buffers.recentSet, useOneOf(RECENT_SETS)],
    [
      c.tasks.types.length > 0 && c.tasks.types.every((t) => TASK_TYPES.includes(t)) && new Set(c.tasks.types).size === c.tasks.types.length,
      "tasks.types", c.tasks.types, `use distinct values of ${TASK_TYPES.join(", ")}`,
    ],
    [
      c.tasks.roles.length > 0 && c.tasks.roles.every((r) => ROLES.includes(r)) && new Set(c.tasks.roles).size === c.tasks.roles.length && c.tasks.roles.includes("solve"),
      "tasks.roles", c.tasks.roles, 'use ["propose", "solve"] (self-play) or ["solve"] (the solver-only control)',
    ],
    [int(c.tasks.batchSize, 1), "tasks.batchSize", c.tasks.batchSize, "use an integer ≥ 1"],
    [int(c.tasks.references, 1), "tasks.references", c.tasks.references, "use an integer ≥ 1"],
    [int(c.tasks.numInputs, 2), "tasks.numInputs", c.tasks.numInputs, "use an integer ≥ 2 (half are hidden)"],
    [isOneOf(F_REPLACE_LOCATIONS, c.tasks.fReplaceLocation), "tasks.fReplaceLocation", c.tasks.fReplaceLocation, useOneOf(F_REPLACE_LOCATIONS)],
    [isOneOf(PROMPT_STYLES, c.tasks.promptStyle), "tasks.promptStyle", c.tasks.promptStyle, 'use "azr" (verbatim) or "compact"'],
    [c.tasks.bannedWords.every((w) => typeof w === "string" && w !== ""), "tasks.bannedWords", c.tasks.bannedWords, "use non-empty strings"],
    [int(c.tasks.maxPromptTokens, 1), "tasks.maxPromptTokens", c.tasks.maxPromptTokens, "use an integer ≥ 1"],
    [
      int(c.tasks.contentMaxTokens, 1) && c.tasks.contentMaxTokens <= c.tasks.maxPromptTokens,
      "tasks.contentMaxTokens", c.tasks.contentMaxTokens, `use an integer in [1, tasks.maxPromptTokens = ${c.tasks.maxPromptTokens}]`,
    ],
    [isOneOf(SOLVE_LENGTH_FILTERS, c.tasks.solveLengthFilter), "tasks.solveLengthFilter", c.tasks.solveLengthFilter, useOneOf(SOLVE_LENGTH_FILTERS)],
    [
      c.tasks.maxPromptTokens + c.rollout.maxNewTokens <= c.model.maxSeq,
      "model.maxSeq", c.model.maxSeq, `must hold tasks.maxPromptTokens + rollout.maxNewTokens = ${c.tasks.maxPromptTokens + c.rollout.maxNewTokens}; raise it or shorten those`,
    ],
    [
      c.tasks.maxPromptTokens + c.eval.maxNewTokens <= c.model.maxSeq,
      "model.maxSeq", c.model.maxSeq, `must hold tasks.maxPromptTokens + eval.maxNewTokens = ${c.tasks.maxPromptTokens + c.eval.maxNewTokens}; raise it or shorten those`,
    ],
    [int(c.rollout.maxNewTokens, 1), "rollout.maxNewTokens", c.rollout.maxNewTokens, "use an integer ≥ 1"],
    [c.rollout.temperature >= 0, "rollout.temperature", c.rollout.temperature, "use a number ≥ 0 (0 = greedy)"],
    [int(c.rollout.topK, 0), "rollout.topK", c.rollout.topK, "use an integer ≥ 0 (0 = off)"],
    [c.rollout.topP > 0 && c.rollout.topP <= 1, "rollout.topP", c.rollout.topP, "use a number in (0, 1]"],
    [workersUrl === null, "rollout.workers", c.rollout.workers, workersUrl ?? ""],
    [workersStream === null, "rollout.workersStream", c.rollout.workersStream, workersStream ?? ""],
    [
      int(c.rewards.learnabilitySamples, 2), "rewards.learnabilitySamples", c.rewards.learnabilitySamples,
      "use an integer ≥ 2 (with 1 sample every solve rate is 0 or 1 and learnability is always the extreme value)",
    ],
    [c.rewards.learnabilityTemperature >= 0, "rewards.learnabilityTemperature", c.rewards.learnabilityTemperature, "use a number ≥ 0"],
    [c.rewards.extremeValue >= -1 && c.rewards.extremeValue <= 1, "rewards.extremeValue", c.rewards.extremeValue, "use a number in [−1, 1] (reference −0.5, paper 0)"],
    [isOneOf(INDUCTION_REWARDS, c.rewards.inductionReward), "rewards.inductionReward", c.rewards.inductionReward, useOneOf(INDUCTION_REWARDS)],
    [isOneOf(WHITENINGS, a.whitening), "algorithm.whitening", a.whitening, useOneOf(WHITENINGS)],
    [a.whitenEps > 0, "algorithm.whitenEps", a.whitenEps, "use a number > 0"],
    [unit(a.clipLow), "algorithm.clipLow", a.clipLow, "use a number in [0, 1]"],
    [a.clipHigh >= 0, "algorithm.clipHigh", a.clipHigh, "use a number ≥ 0"],
    [a.dualClip === 0 || a.dualClip > 1, "algorithm.dualClip", a.dualClip, "use 0 (off) or a number > 1"],
    [a.entropyCoeff >= 0, "algorithm.entropyCoeff", a.entropyCoeff, "use a number ≥ 0"],
    [a.klCoeff >= 0, "algorithm.klCoeff", a.klCoeff, "use a number ≥ 0"],
    [a.lr > 0, "algorithm.lr", a.lr, "use a number > 0"],
    [a.weightDecay >= 0, "algorithm.weightDecay", a.weightDecay, "use a number ≥ 0"],
    [isOneOf(WEIGHT_DECAY_MASKS, a.weightDecayMask), "algorithm.weightDecayMask", a.weightDecayMask, useOneOf(WEIGHT_DECAY_MASKS)],
    [a.betas.length === 2 && a.betas.every((b) => typeof b === "number" && b >= 0 && b < 1), "algorithm.betas", a.betas, "use two numbers in [0, 1)"],
    [a.adamEps > 0, "algorithm.adamEps", a.adamEps, "use a number > 0"],
    [a.maxGradNorm > 0, "algorithm.maxGradNorm", a.maxGradNorm, "use a number > 0"],
    [int(a.miniBatches, 1), "algorithm.miniBatches", a.miniBatches, "use an integer ≥ 1"],
    [int(a.lossMicroBatch, 0), "algorithm.lossMicroBatch", a.lossMicroBatch, "use an integer ≥ 0 (0 = one token-mean over the mini-batch)"],
    [
      c.executor.url === null || natsUrlProblem(c.executor.url) === null, "executor.url", c.executor.url,
      `use null (an in-process pool) or "nats://HOST:PORT" (an executor fleet)${c.executor.url === null ? "" : `: ${natsUrlProblem(c.executor.url)}`}`,
    ],
    [int(c.executor.workers, 1), "executor.workers", c.executor.workers, "use an integer ≥ 1"],
    [int(c.executor.timeoutMs, 1), "executor.timeoutMs", c.executor.timeoutMs, "use an integer ≥ 1"],
    [int(c.executor.memoryMiB, 64), "executor.memoryMiB", c.executor.memoryMiB, "use an integer ≥ 64"],
    [int(c.executor.hashSeed, 0), "executor.hashSeed", c.executor.hashSeed, "use an integer ≥ 0"],
    [int(c.eval.every, 0), "eval.every", c.eval.every, "use an integer ≥ 0 (0 = never)"],
    [c.eval.file !== "", "eval.file", c.eval.file, "name a JSONL file of {snippet, input, output} rows"],
    [int(c.eval.limit, 1), "eval.limit", c.eval.limit, "use an integer ≥ 1"],
    [c.eval.generatedFile !== "", "eval.generatedFile", c.eval.generatedFile, "use null or name a heldout.jsonl written by bun run warmstart"],
    [int(c.eval.generatedLimit, 1), "eval.generatedLimit", c.eval.generatedLimit, "use an integer ≥ 1"],
    [int(c.eval.maxNewTokens, 1), "eval.maxNewTokens", c.eval.maxNewTokens, "use an integer ≥ 1"],
  ];
  const bad = checks.filter(([ok]) => !ok);
  if (bad.length > 0) {
    throw new ConfigError(
      `invalid config:\n${bad.map(([, path, value, fix]) => `  ${path} = ${JSON.stringify(value)}: ${fix}`).join("\n")}`,
    );
  }
  return c;
}
