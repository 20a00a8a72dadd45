// The config is merged and checked before any work starts; every error names the value and its fix.
import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveConfig } from "../engine/config/load.ts";
import { TRAIN_PRESET_NAMES, TRAIN_PRESETS, SEED_CORPUS, WARMSTART_CHECKPOINT } from "../engine/config/presets.ts";
import { FIELD_KEYS, fieldsHelp } from "../engine/config/fields.ts";
import { REFERENCE_DEFAULTS } from "../engine/config/schema.ts";
import { ConfigError, mergeConfig, validateConfig } from "../engine/config/validate.ts";

const flag = (patch: unknown) => ({ source: "--set", patch });

describe("defaults and presets", () => {
  test("the reference's values (docs/reference.md §4–§6)", () => {
    const d = REFERENCE_DEFAULTS;
    expect([d.tasks.batchSize, d.tasks.references, d.tasks.numInputs, d.rewards.learnabilitySamples]).toEqual([64, 6, 10, 8]);
    expect([d.algorithm.lr, d.algorithm.maxGradNorm, d.algorithm.klCoeff, d.algorithm.miniBatches]).toEqual([1e-6, 1, 0, 1]);
    expect([d.buffers.cap, d.buffers.capPolicy, d.buffers.dedup, d.buffers.solveMix]).toEqual([16384, "keep_oldest", false, "max_new"]);
    expect([d.rewards.extremeValue, d.rewards.learnabilityTemperature, d.executor.timeoutMs]).toEqual([-0.5, 1, 10_000]);
    expect(d.tasks.types).toEqual(["abduction", "deduction", "induction"]);
    // The departures of docs/reference.md §8 default to the reference's behaviour.
    expect([d.tasks.contentMaxTokens, d.tasks.maxPromptTokens, d.tasks.solveLengthFilter, d.buffers.recentSet]).toEqual([5600, 6144, "refill", "last_offered"]);
    expect([d.algorithm.lossMicroBatch, d.algorithm.weightDecayMask, d.tasks.splitOnFirstAssistant]).toEqual([16, "all", true]);
  });
  test("tiny is the default and validates; qwen2.5-coder needs --checkpoint", () => {
    expect(resolveConfig({}).preset).toBe("tiny");
    expect(TRAIN_PRESET_NAMES).toEqual(["tiny", "learn", "qwen2.5-coder"]);
    expect(() => resolveConfig({ preset: "qwen2.5-coder" })).toThrow(/pass --checkpoint DIR/);
    expect(TRAIN_PRESETS["qwen2.5-coder"].data.seedFile).toMatch(/7b_coder_seed_io\.jsonl$/);
    // Its seed files ship in the repository, so a fresh clone resolves it given a checkpoint directory.
    const ckpt = mkdtempSync(join(tmpdir(), "azr-ckpt-"));
    writeFileSync(join(ckpt, "config.json"), "{}");
    const coder = resolveConfig({ preset: "qwen2.5-coder", flags: [flag({ model: { checkpoint: ckpt } })] }).config;
    expect([coder.data.seedFile, coder.data.inductionSeedFile].every((f) => f !== null && existsSync(f) && f.startsWith(SEED_CORPUS))).toBe(true);
    rmSync(ckpt, { recursive: true });
    // tiny and learn: seeded with the warm start's own programs, evaluated on its held-out ones (all shipped).
    for (const preset of ["tiny", "learn"]) {
      const c = resolveConfig({ preset }).config;
      expect([c.data.seedFile, c.data.inductionSeedFile, c.eval.generatedFile]).toEqual(["seed.jsonl", "seed.jsonl", "heldout.jsonl"].map((f) => join(WARMSTART_CHECKPOINT, f)));
    }
    expect(resolveConfig({ preset: "learn" }).config.eval.generatedLimit).toBeGreaterThanOrEqual(200);
  });
});

describe("errors name the value and the fix", () => {
  test.each([
    ["unknown preset", { preset: "big" }, /unknown preset "big"; choose one of: tiny, learn, qwen2.5-coder/],
    ["unknown key", { flags: [flag({ tasks: { batchsize: 3 } })] }, /--set: unknown setting "tasks.batchsize"; valid keys here: types, batchSize/],
    ["wrong type", { flags: [flag({ steps: "3" })] }, /"steps" must be a number, got "3" \(string\)/],
    ["nullable path", { flags: [flag({ data: { seedFile: 3 } })] }, /"data.seedFile" must be a string or null/],
    ["range", { flags: [flag({ rewards: { learnabilitySamples: 1 } })] }, /rewards.learnabilitySamples = 1: use an integer ≥ 2/],
    ["enum", { flags: [flag({ buffers: { capPolicy: "lifo" } })] }, /buffers.capPolicy = "lifo": use "keep_oldest" or "fifo"/],
    ["task types", { flags: [flag({ tasks: { types: ["deduction", "deduction"] } })] }, /tasks.types = \["deduction","deduction"\]: use distinct values/],
    ["sequence budget", { flags: [flag({ rollout: { maxNewTokens: 100000 } })] }, /model.maxSeq = 1088: must hold tasks.maxPromptTokens \+ rollout.maxNewTokens/],
    ["missing seed file", { flags: [flag({ data: { seedFile: "/nonexistent/seed.jsonl" } })] }, /data.seedFile: file \/nonexistent\/seed.jsonl does not exist/],
    ["roles", { flags: [flag({ tasks: { roles: ["propose"] } })] }, /tasks.roles = \["propose"\]: use \["propose", "solve"\] \(self-play\) or \["solve"\]/],
    ["time budget", { flags: [flag({ maxMinutes: -1 })] }, /maxMinutes = -1: use a number ≥ 0/],
    ["missing generated eval file", { flags: [flag({ eval: { generatedFile: "/nonexistent/heldout.jsonl" } })] }, /eval.generatedFile: file \/nonexistent\/heldout.jsonl does not exist/],
    ["checkpoint not a dir", { flags: [flag({ model: { checkpoint: "/nonexistent" } })] }, /--checkpoint \/nonexistent is not a directory/],
    ["checkpoint without config.json", { flags: [flag({ model: { checkpoint: tmpdir() } })] }, /has no config.json/],
    ["config file missing", { configFile: "/nonexistent.json" }, /config file \/nonexistent.json does not exist/],
    ["weight dtype", { flags: [flag({ model: { weightDtype: "bf16" } })] }, /model.weightDtype = "bf16": use "f32" or "f16"/],
    ["f16 with rollout workers", { flags: [flag({ model: { weightDtype: "f16" }, rollout: { workers: "nats://127.0.0.1:4222" } })] }, /model.weightDtype = "f16": use "f32" with rollout.workers/],
    ["executor url", { flags: [flag({ executor: { url: "http://10.0.0.5:4222" } })] }, /executor.url = "http:\/\/10.0.0.5:4222": use null \(an in-process pool\) or "nats:\/\/HOST:PORT" \(an executor fleet\): .* uses http:/],
  ])("%s", (_n, sources, pattern) => {
    expect(() => resolveConfig(sources as Parameters<typeof resolveConfig>[0])).toThrow(pattern);
  });
  test("all violations are listed at once", () => {
    const c = mergeConfig(REFERENCE_DEFAULTS, [flag({ seed: 1.5, algorithm: { lr: 0, clipLow: 2 } })]);
    try {
      validateConfig(c);
      throw new Error("no error");
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as Error).message.split("\n").length).toBe(4);
    }
  });
});

describe("precedence: flags over file over preset over defaults", () => {
  test("a config file patches the preset, a flag patches the file", () => {
    const dir = mkdtempSync(join(tmpdir(), "azr-config-"));
    const file = join(dir, "c.json");
    writeFileSync(file, JSON.stringify({ steps: 7, rewards: { extremeValue: 0 }, tasks: { batchSize: 3 } }));
    const { config } = resolveConfig({ configFile: file, flags: [flag({ steps: 9 })] });
    expect([config.steps, config.rewards.extremeValue, config.tasks.batchSize, config.rollout.maxNewTokens]).toEqual([9, 0, 3, 320]);
    writeFileSync(file, "{ nope");
    expect(() => resolveConfig({ configFile: file })).toThrow(/c.json is not valid JSON/);
  });
  test("executor.url: null (in-process) by default, a NATS address when given", () => {
    expect(resolveConfig({}).config.executor.url).toBeNull();
    const url = "nats://10.0.0.5:4222,nats://10.0.0.6:4222";
    expect(resolveConfig({ flags: [flag({ executor: { url } })] }).config.executor.url).toBe(url);
  });
  test("merging never mutates the defaults", () => {
    mergeConfig(REFERENCE_DEFAULTS, [flag({ tasks: { bannedWords: ["x"] } })]);
    expect(REFERENCE_DEFAULTS.tasks.bannedWords.length).toBe(17);
  });
});

/** Every leaf key of a config object, dotted (arrays are values). */
function leafKeys(o: Record<string, unknown>, prefix = ""): string[] {
  return Object.entries(o).flatMap(([k, v]) =>
    typeof v === "object" && v !== null && !Array.isArray(v) ? leafKeys(v as Record<string, unknown>, `${prefix}${k}.`) : [`${prefix}${k}`],
  );
}

describe("the field table (engine/config/fields.ts)", () => {
  test("has one row per schema field, and --help lists each with its default and a help line", () => {
    const keys = leafKeys(REFERENCE_DEFAULTS as unknown as Record<string, unknown>);
    expect(([...FIELD_KEYS] as string[]).sort()).toEqual([...keys].sort());
    const lines = fieldsHelp().split("\n");
    expect(lines.length).toBe(keys.length);
    for (const key of keys) {
      const line = lines.find((l) => l.startsWith(`  ${key}=`));
      expect(line, key).toBeDefined();
      expect(line!.slice(2).split(/\s{2,}/)[1]?.length ?? 0).toBeGreaterThan(5);
    }
    expect(lines.find((l) => l.startsWith("  tasks.batchSize=64 "))).toEndWith("  prompts per (task, role) per step");
  });
});
