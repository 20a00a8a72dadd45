// `bun run train [--preset P] [--config FILE] [--checkpoint DIR] [--steps N] [--out DIR] [--resume DIR] [--set K=V]
//   [--executor nats://HOST:PORT] [--rollout-workers nats://HOST:PORT] [--dry-run [--shape S] [--weight-dtype D]]`
// Self-play training. Exit codes: 0 done, 2 bad flag/config/path (or a --dry-run plan that does not fit), 130 stopped
// by Ctrl-C (state saved), 1 other.
import { resolve } from "node:path";
import { resolveConfig } from "../config/load.ts";
import { ConfigError, mergeConfig, validateConfig } from "../config/validate.ts";
import { fieldsHelp } from "../config/fields.ts";
import { TRAIN_PRESET_NAMES } from "../config/presets.ts";
import { REFERENCE_DEFAULTS } from "../config/schema.ts";
import { RUN_CONFIG, RunDirError, runConfig, runTraining } from "../trainer/run.ts";
import { DEFAULT_PORT, PortInUse, startDashboard } from "../../dashboard/server.ts";
import { getGpu, WEIGHT_DTYPES, type WeightDtype } from "../../kernels/index.ts";
import { formatPlan, planFor, SHAPE_NAMES, readConfig, resolveShape } from "../model/index.ts";
import type { TrainConfig } from "../config/schema.ts";
import { Tokenizer } from "../tokenizer/index.ts";
import { runMain, UsageError } from "./usage.ts";

const USAGE = `usage: bun run train [options]
  --preset P        ${TRAIN_PRESET_NAMES.join(" | ")} (default tiny: the shipped warm-start model, runs on a CPU)
  --config FILE     JSON file with settings that override the preset (same shape as config.json of a run)
  --checkpoint DIR  model checkpoint to train (required by qwen2.5-coder; tiny uses engine/data/warmstart)
  --steps N         number of training steps
  --out DIR         run directory for metrics, logs and checkpoints (default runs/<preset>-<time>)
  --resume DIR      continue the run in DIR from its latest checkpoint (only --steps, --executor and --rollout-workers may change)
  --executor URL    run programs on the executor fleet at nats://HOST:PORT (executor.url; default in-process)
  --set KEY=VALUE   override one setting, e.g. --set rewards.extremeValue=0 --set tasks.types='["deduction"]'
  --rollout-workers nats://HOST:PORT
                    generate on \`bun run rollout-worker\` processes through this nats-server (same tokens as in-process)
  --dashboard[=P]   serve the run's live dashboard on 127.0.0.1, port P (default ${DEFAULT_PORT}), while it trains
  --dry-run         print the memory plan on this adapter (model.maxBatch x model.maxSeq) and stop; exit 2 if it does not fit
  --shape S         with --dry-run: plan for a model shape (${SHAPE_NAMES.join(" | ")}) instead of the checkpoint's
  --weight-dtype D  with --dry-run: plan for ${WEIGHT_DTYPES.join(" | ")} weight storage instead of model.weightDtype's (f16
                    trains with f32 master weights; set it for a run with --set model.weightDtype=f16)
  --help            this text

settings for --set KEY=VALUE (and --config files), with the reference's defaults (a preset overrides some):
${fieldsHelp()}`;


interface Flags {
  preset?: string;
  config?: string;
  checkpoint?: string;
  steps?: string;
  out?: string;
  resume?: string;
  executor?: string;
  "rollout-workers"?: string;
  set: string[];
  /** Port of the live dashboard, when asked for. */
  dashboard?: number;
  dryRun?: boolean;
  shape?: string;
  "weight-dtype"?: string;
}

export function parseFlags(argv: readonly string[]): Flags | "help" {
  const flags: Flags = { set: [] };
  const single = ["preset", "config", "checkpoint", "steps", "out", "resume", "executor", "rollout-workers", "shape", "weight-dtype"] as const;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--help" || arg === "-h") return "help";
    const [name, inline] = arg.startsWith("--") ? arg.slice(2).split(/=(.*)/s, 2) : [null, undefined];
    if (name === null) throw new UsageError(`unexpected argument "${arg}"; flags start with --`);
    if (name === "dry-run" && inline === undefined) {
      flags.dryRun = true;
      continue;
    }
    if (name === "dashboard") {
      if (inline !== undefined && !(/^\d+$/.test(inline) && Number(inline) <= 65535)) throw new UsageError(`--dashboard=${inline}: use a port number in 0…65535`);
      flags.dashboard = inline === undefined ? DEFAULT_PORT : Number(inline);
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined || (inline === undefined && value.startsWith("--"))) throw new UsageError(`--${name} needs a value`);
    if (name === "set") flags.set.push(value);
    else if ((single as readonly string[]).includes(name)) {
      if (flags[name as (typeof single)[number]] !== undefined) throw new UsageError(`--${name} given twice`);
      flags[name as (typeof single)[number]] = value;
    } else throw new UsageError(`unknown flag --${name}`);
  }
  if (flags.shape !== undefined && !flags.dryRun) throw new UsageError("--shape only applies to --dry-run");
  if (flags["weight-dtype"] !== undefined && !flags.dryRun) {
    throw new UsageError("--weight-dtype only applies to --dry-run; a run takes --set model.weightDtype=f16");
  }
  if (flags["weight-dtype"] !== undefined && !(WEIGHT_DTYPES as readonly string[]).includes(flags["weight-dtype"])) {
    throw new UsageError(`--weight-dtype ${flags["weight-dtype"]}: use one of ${WEIGHT_DTYPES.join(", ")}`);
  }
  if (flags.shape !== undefined && !(SHAPE_NAMES as readonly string[]).includes(flags.shape)) {
    throw new UsageError(`--shape ${flags.shape}: use one of ${SHAPE_NAMES.join(", ")}`);
  }
  return flags;
}

/** Prints the memory plan of the run's model (or a named shape) at the config's sizes on this adapter; 2 if it does not fit. */
async function dryRun(config: TrainConfig, shape: string | undefined, weightDtype = config.model.weightDtype): Promise<number> {
  const model =
    shape !== undefined || config.model.checkpoint === null
      ? resolveShape({ preset: (shape ?? config.model.makePreset) as (typeof SHAPE_NAMES)[number], seed: 0 }, Tokenizer.qwen25Default())
      : readConfig(config.model.checkpoint);
  await getGpu();
  const { maxBatch, maxSeq } = config.model;
  const plan = planFor(model, { maxBatch, maxSeq }, maxBatch, maxSeq, { weightDtype, training: true });
  console.log(formatPlan(plan));
  return plan.problems.length === 0 ? 0 : 2;
}

/** `a.b=value` → { a: { b: value } }; the value is JSON when it parses, else a string. */
function setPatch(text: string): unknown {
  const eq = text.indexOf("=");
  if (eq <= 0) throw new UsageError(`--set ${text}: expected KEY=VALUE, e.g. --set rewards.extremeValue=0`);
  let value: unknown;
  try {
    value = JSON.parse(text.slice(eq + 1));
  } catch {
    value = text.slice(eq + 1);
  }
  return text
    .slice(0, eq)
    .split(".")
    .reduceRight((acc: unknown, key) => ({ [key]: acc }), value);
}

/** What a resumed run may change too: how many steps, and where its programs and rollouts run (results do not depend on it). */
function resumablePatches(flags: Flags): Array<{ source: string; patch: unknown }> {
  const out: Array<{ source: string; patch: unknown }> = [];
  if (flags.steps !== undefined) {
    if (!/^\d+$/.test(flags.steps)) throw new UsageError(`--steps ${flags.steps}: use a whole number`);
    out.push({ source: "--steps", patch: { steps: Number(flags.steps) } });
  }
  if (flags.executor !== undefined) out.push({ source: "--executor", patch: { executor: { url: flags.executor } } });
  if (flags["rollout-workers"] !== undefined) out.push({ source: "--rollout-workers", patch: { rollout: { workers: flags["rollout-workers"] } } });
  return out;
}

async function main(argv: string[]): Promise<number> {
  const flags = parseFlags(argv);
  if (flags === "help") {
    console.log(USAGE);
    return 0;
  }
  let plan: { preset: string; config: ReturnType<typeof resolveConfig>["config"]; outDir: string; resume: boolean };
  if (flags.resume !== undefined) {
    for (const k of ["preset", "config", "checkpoint", "out"] as const) {
      if (flags[k] !== undefined) throw new UsageError(`--resume continues the run's saved config; --${k} cannot be combined with it`);
    }
    if (flags.set.length) throw new UsageError("--resume continues the run's saved config; --set cannot be combined with it");
    const outDir = resolve(flags.resume);
    const saved = runConfig(outDir);
    // Over the defaults, so a run saved before a setting existed (executor.url) resumes with that setting's default.
    const config = validateConfig(mergeConfig(REFERENCE_DEFAULTS, [{ source: RUN_CONFIG, patch: saved.config }, ...resumablePatches(flags)]));
    plan = { preset: saved.preset, config, outDir, resume: true };
  } else {
    const patches = [
      ...(flags.checkpoint !== undefined ? [{ source: "--checkpoint", patch: { model: { checkpoint: resolve(flags.checkpoint) } } }] : []),
      ...resumablePatches(flags),
      ...flags.set.map((s) => ({ source: `--set ${s}`, patch: setPatch(s) })),
    ];
    const { preset, config } = resolveConfig({ preset: flags.preset, configFile: flags.config, flags: patches });
    const outDir = resolve(flags.out ?? `runs/${preset}-${new Date().toISOString().replace(/[:.]/g, "-")}`);
    plan = { preset, config, outDir, resume: false };
  }
  if (flags.dryRun) return dryRun(plan.config, flags.shape, flags["weight-dtype"] as WeightDtype | undefined);

  let stops = 0;
  process.on("SIGINT", () => {
    stops++;
    if (stops > 1) process.exit(130);
    process.stderr.write("\nCtrl-C: finishing the current phase, then saving (press again to quit without saving)\n");
  });
  process.stderr.write(`train: preset ${plan.preset}, ${plan.config.steps} steps, run directory ${plan.outDir}\n`);
  const dashboard = flags.dashboard === undefined ? null : await startDashboard({ runs: [plan.outDir], port: flags.dashboard });
  if (dashboard) process.stderr.write(`train: live dashboard at ${dashboard.url} (it stops with the run; afterwards: bun run dashboard ${plan.outDir})\n`);
  const result = await runTraining({ ...plan, sink: process.stderr, interrupted: () => stops > 0 }).finally(() => dashboard?.stop());
  process.stderr.write(
    result.interrupted
      ? `stopped after step ${result.lastStep}; continue with: bun run train --resume ${plan.outDir}\n`
      : `done: ${result.lastStep} steps; metrics in ${plan.outDir}/metrics.jsonl\n`,
  );
  return result.interrupted ? 130 : 0;
}

if (import.meta.main) runMain("train", USAGE, main, [ConfigError, RunDirError, PortInUse]);
