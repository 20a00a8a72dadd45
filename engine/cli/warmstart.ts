// `bun run warmstart --out DIR [--size tiny|small] [--steps N] [--seed S] [--vocab N] [--short] [--traces] ...`
// Makes a base model from generated programs only (engine/warmstart/recipe.ts) and writes it as a Hugging Face
// checkpoint directory with report.json. Exit codes: 0 written, 2 bad flag or path, 1 other.
import { existsSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { ROLE_KEYS, type RoleKey } from "../warmstart/examples.ts";
import { SIZES, type SizeName, warmstart, type WarmstartOptions } from "../warmstart/recipe.ts";
import { scoreTable } from "../warmstart/report.ts";
import { MIN_VOCAB } from "../warmstart/vocab.ts";
import { Bar } from "./bar.ts";
import { parseFlagValues, runMain, UsageError, wholeNumber } from "./usage.ts";

const FULL = { steps: 1200, programs: 3000, heldOut: 32 };
const SHORT = { steps: 60, programs: 200, heldOut: 8 };

const USAGE = `usage: bun run warmstart --out DIR [options]
  --out DIR          checkpoint directory to write (must not exist yet)
  --init DIR         continue from this checkpoint (e.g. an earlier warm start) instead of a random model
  --size S           ${Object.keys(SIZES).join(" | ")} (default tiny: hidden 64, 2 layers)
  --steps N          optimizer steps (default ${FULL.steps}; --short: ${SHORT.steps})
  --seed S           seed of the model, the programs and the order (default 1)
  --vocab N          ordinary ids of the truncated Qwen2.5 vocabulary (default 4096)
  --batch N          sequences per step (default 8)
  --lr X             peak learning rate (default 0.003)
  --programs N       training programs (default ${FULL.programs}; --short: ${SHORT.programs})
  --held-out N       held-out prompts per role for the report (default ${FULL.heldOut}; --short: ${SHORT.heldOut})
  --max-prompt N     longest prompt in tokens (default 768)
  --max-new N        response cap in tokens (default 320)
  --roles LIST       roles trained and scored, comma-separated (default all six: ${ROLE_KEYS.join(",")})
  --verbatim         train on the reference's verbatim prompts (default: the compact prompts of the tiny preset)
  --traces           step-by-step execution traces inside <think> for deduction answers
  --short            a run of minutes (the defaults marked --short above)
  --help             this text`;

function parseRoles(raw: string | undefined): RoleKey[] {
  if (raw === undefined) return [...ROLE_KEYS];
  const roles = [...new Set(raw.split(",").map((r) => r.trim()))];
  for (const r of roles) if (!(ROLE_KEYS as readonly string[]).includes(r)) throw new UsageError(`--roles: unknown role "${r}"; use ${ROLE_KEYS.join(", ")}`);
  return roles as RoleKey[];
}

function parseWarmstartFlags(argv: string[]): WarmstartOptions | "help" {
  const values = parseFlagValues(argv, {
    out: { type: "string" }, init: { type: "string" }, size: { type: "string" }, steps: { type: "string" }, seed: { type: "string" },
    vocab: { type: "string" }, batch: { type: "string" }, lr: { type: "string" }, programs: { type: "string" },
    "held-out": { type: "string" }, "max-prompt": { type: "string" }, "max-new": { type: "string" },
    roles: { type: "string" }, verbatim: { type: "boolean" }, traces: { type: "boolean" }, short: { type: "boolean" }, help: { type: "boolean" },
  });
  if (values.help) return "help";
  if (typeof values.out !== "string") throw new UsageError("--out DIR is required");
  const out = resolve(values.out);
  if (existsSync(out) && readdirSync(out).length > 0) throw new UsageError(`--out ${values.out} already exists and is not empty; choose another directory`);
  const size = (values.size as string | undefined) ?? "tiny";
  if (!(size in SIZES)) throw new UsageError(`--size ${size}: use one of ${Object.keys(SIZES).join(", ")}`);
  const lr = values.lr === undefined ? 3e-3 : Number(values.lr);
  if (!(Number.isFinite(lr) && lr >= 0)) throw new UsageError(`--lr ${values.lr}: use a number ≥ 0`);
  const d = values.short ? SHORT : FULL;
  const init = values.init === undefined ? null : resolve(values.init as string);
  if (init !== null && !existsSync(join(init, "config.json"))) throw new UsageError(`--init ${values.init}: no config.json there; not a model checkpoint directory`);
  return {
    out,
    init,
    size: size as SizeName,
    steps: wholeNumber("steps", values.steps, d.steps),
    seed: wholeNumber("seed", values.seed, 1, 0),
    vocab: wholeNumber("vocab", values.vocab, 4096, MIN_VOCAB),
    batch: wholeNumber("batch", values.batch, 8),
    lr,
    programs: wholeNumber("programs", values.programs, d.programs, 10),
    heldOut: wholeNumber("held-out", values["held-out"], d.heldOut),
    maxPromptTokens: wholeNumber("max-prompt", values["max-prompt"], 768, 64),
    maxNewTokens: wholeNumber("max-new", values["max-new"], 320, 8),
    traces: values.traces === true,
    promptStyle: values.verbatim ? "azr" : "compact",
    roles: parseRoles(values.roles as string | undefined),
  };
}

async function main(argv: string[]): Promise<number> {
  const o = parseWarmstartFlags(argv);
  if (o === "help") {
    console.log(USAGE);
    return 0;
  }
  let bar: Bar | null = null;
  const sink = process.stderr;
  const report = await warmstart({
    ...o,
    onPhase: (text) => {
      bar?.end();
      bar = null;
      sink.write(`warmstart: ${text}\n`);
      if (text.startsWith("training")) bar = new Bar(sink, "train", o.steps);
      else if (text.startsWith("scoring")) bar = new Bar(sink, "score", Number(/on (\d+)/.exec(text)?.[1] ?? 0));
    },
    onStep: (_t, loss, tps) => bar?.tick(1, `loss ${loss.toFixed(3)} | ${tps.toFixed(0)} tok/s`),
    onScored: (n) => bar?.tick(n),
  });
  (bar as Bar | null)?.end();
  sink.write(`warmstart: ${report.parameters} parameters, vocabulary ${report.vocabSize}, ${report.trainedTokens} tokens in ${report.trainSeconds.toFixed(0)} s (${report.tokensPerSecond.toFixed(0)} tok/s)\n`);
  sink.write(`warmstart: loss ${report.lossFirst.toFixed(3)} (first tenth) -> ${report.lossLast.toFixed(3)} (last tenth)\n`);
  sink.write(`held-out, random model:\n${scoreTable(report.before)}\nheld-out, warm-started:\n${scoreTable(report.after)}\n`);
  sink.write(`wrote ${o.out} (report.json inside)\n`);
  return 0;
}

if (import.meta.main) runMain("warmstart", USAGE, main);
