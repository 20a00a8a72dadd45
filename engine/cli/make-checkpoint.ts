// `bun run make-checkpoint --out DIR [options]`: writes a random-init checkpoint in Hugging Face format (USAGE below).
// Exit codes: 0 written (or --help), 2 bad flag, 1 other.
import { type CheckpointSpec, makeCheckpoint, parameterCount, SHAPE_NAMES, type ShapeName, readConfig } from "../model/index.ts";
import { parseFlagValues, UsageError, wholeNumber } from "./usage.ts";

const USAGE = `usage: bun run make-checkpoint --out DIR [options]
  --out DIR              where to write config.json, model.safetensors and the tokenizer files (required)
  --preset NAME          a model shape: ${SHAPE_NAMES.join(", ")}
  --arch qwen2|llama     architecture (qwen2: q/k/v bias; llama: none)
  --hidden N --layers N --heads N --kv-heads N --intermediate N --vocab N
                         override the shape's sizes
  --untied               a separate LM head instead of the tied embedding
  --no-bias              no q/k/v bias
  --seed S               the initialisation seed (default 0)
  --dtype f32|bf16|f16   the stored dtype
  --tokenizer FILE       the tokenizer.json to ship (default: Qwen2.5's)
  --help                 this text`;

/** Whole-number flags and the spec field each sets; the seed may be 0, a size may not. */
const INT_FLAGS = { hidden: "hidden", layers: "layers", heads: "heads", "kv-heads": "kvHeads", intermediate: "intermediate", vocab: "vocabSize", seed: "seed" } as const;
const DTYPES = ["f32", "bf16", "f16"] as const;

export function parseSpec(argv: string[]): { out: string; spec: CheckpointSpec } | "help" {
  const values = parseFlagValues(argv, {
    out: { type: "string" }, preset: { type: "string" }, arch: { type: "string" }, dtype: { type: "string" },
    tokenizer: { type: "string" }, untied: { type: "boolean" }, "no-bias": { type: "boolean" }, help: { type: "boolean" },
    ...Object.fromEntries(Object.keys(INT_FLAGS).map((k) => [k, { type: "string" as const }])),
  });
  if (values.help) return "help";
  if (typeof values.out !== "string") throw new UsageError("--out DIR is required");
  const spec: CheckpointSpec = { seed: 0 };
  for (const [flag, key] of Object.entries(INT_FLAGS)) {
    const raw = values[flag];
    if (raw !== undefined) (spec as unknown as Record<string, number>)[key] = wholeNumber(flag, raw, 0, key === "seed" ? 0 : 1);
  }
  if (typeof values.preset === "string") {
    if (!SHAPE_NAMES.includes(values.preset as ShapeName)) throw new UsageError(`--preset must be one of ${SHAPE_NAMES.join(", ")}`);
    spec.preset = values.preset as ShapeName;
  }
  if (values.arch !== undefined) {
    if (values.arch !== "qwen2" && values.arch !== "llama") throw new UsageError(`--arch must be qwen2 or llama`);
    spec.architecture = values.arch;
    spec.qkvBias = values.arch === "qwen2";
  }
  if (values.untied) spec.tiedEmbeddings = false;
  if (values["no-bias"]) spec.qkvBias = false;
  if (values.dtype !== undefined) {
    if (!DTYPES.includes(values.dtype as (typeof DTYPES)[number])) throw new UsageError(`--dtype must be ${DTYPES.join(", ")}`);
    spec.dtype = values.dtype as (typeof DTYPES)[number];
  }
  if (typeof values.tokenizer === "string") spec.tokenizer = values.tokenizer;
  return { out: values.out, spec };
}

if (import.meta.main) {
  try {
    const parsed = parseSpec(process.argv.slice(2));
    if (parsed === "help") {
      console.log(USAGE);
      process.exit(0);
    }
    const { out, spec } = parsed;
    await makeCheckpoint(out, spec);
    const config = readConfig(out);
    console.log(`wrote ${out}: ${config.architecture}, ${(parameterCount(config) / 1e6).toFixed(2)}M parameters`);
  } catch (err) {
    const usage = err instanceof UsageError;
    console.error(`make-checkpoint: ${(err as Error).message}${usage ? `\n${USAGE}` : ""}`);
    process.exit(usage ? 2 : 1);
  }
}
