// From what the user gave (preset name, JSON config file, flags) to one checked TrainConfig, in that order of
// precedence: flags over file over preset over the reference's defaults. Paths are checked here too, so a typo
// fails before a model is built.
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_TRAIN_PRESET, NEEDS_CHECKPOINT, TRAIN_PRESET_NAMES, TRAIN_PRESETS, type TrainPreset } from "./presets.ts";
import { REFERENCE_DEFAULTS, type TrainConfig } from "./schema.ts";
import { ConfigError, mergeConfig, validateConfig } from "./validate.ts";

export interface ConfigSources {
  preset?: string;
  /** A JSON file holding a partial config. */
  configFile?: string;
  /** Flag overrides, already shaped like a partial config. */
  flags?: Array<{ source: string; patch: unknown }>;
}

function trainPreset(name: string | undefined): TrainPreset {
  const chosen = name ?? DEFAULT_TRAIN_PRESET;
  if (!(TRAIN_PRESET_NAMES as string[]).includes(chosen)) {
    throw new ConfigError(`unknown preset "${chosen}"; choose one of: ${TRAIN_PRESET_NAMES.join(", ")}`);
  }
  return chosen as TrainPreset;
}

function readConfigFile(path: string): unknown {
  if (!existsSync(path)) throw new ConfigError(`config file ${path} does not exist`);
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(e as Error).message}`);
  }
}

/** The merged, validated config; throws ConfigError naming the bad value and its fix. */
export function resolveConfig(sources: ConfigSources): { preset: TrainPreset; config: TrainConfig } {
  const preset = trainPreset(sources.preset);
  const patches = [{ source: `preset ${preset}`, patch: TRAIN_PRESETS[preset] as unknown }];
  if (sources.configFile) patches.push({ source: sources.configFile, patch: readConfigFile(sources.configFile) });
  patches.push(...(sources.flags ?? []));
  const config = validateConfig(mergeConfig(REFERENCE_DEFAULTS, patches));
  if (NEEDS_CHECKPOINT.has(preset) && config.model.checkpoint === null) {
    throw new ConfigError(`preset ${preset} trains an existing model: pass --checkpoint DIR (a Qwen2.5 checkpoint directory)`);
  }
  checkPaths(config);
  return { preset, config };
}

/** Every input path exists and has the right kind, before any work starts. */
function checkPaths(c: TrainConfig): void {
  const file = (key: string, path: string | null): void => {
    if (path !== null && !(existsSync(path) && statSync(path).isFile())) {
      throw new ConfigError(`${key}: file ${path} does not exist`);
    }
  };
  file("data.seedFile", c.data.seedFile);
  file("data.inductionSeedFile", c.data.inductionSeedFile);
  if (c.eval.every > 0) file("eval.file", c.eval.file);
  if (c.eval.every > 0) file("eval.generatedFile", c.eval.generatedFile);
  const ckpt = c.model.checkpoint;
  if (ckpt !== null) {
    if (!(existsSync(ckpt) && statSync(ckpt).isDirectory())) throw new ConfigError(`--checkpoint ${ckpt} is not a directory`);
    if (!existsSync(join(ckpt, "config.json"))) {
      throw new ConfigError(`--checkpoint ${ckpt} has no config.json: not a model checkpoint directory`);
    }
  }
}
