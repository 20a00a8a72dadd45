// `bun run generate --checkpoint DIR (--prompt TEXT | --prompt-ids 1,2,3) [--max-new N] [--greedy | --temperature T]
//   [--top-k K] [--top-p P] [--seed S] [--stop TEXT ...] [--weight-dtype f32|f16] [--json]`
// Generates from a Hugging Face checkpoint with the policy's own batched decoder. Prints the generated text, or with
// --json one object {prompt_ids, ids, text, finish}. Exit codes: 0 done, 2 bad flag or path, 1 other.
import { existsSync, statSync } from "node:fs";
import { parseArgs } from "node:util";
import { WEIGHT_DTYPES, type WeightDtype } from "../../kernels/index.ts";
import { Policy } from "../model/index.ts";
import type { GenerateOptions } from "../model/generation.ts";
import { Tokenizer } from "../tokenizer/index.ts";
import { UsageError } from "./usage.ts";

export const USAGE =
  "usage: bun run generate --checkpoint DIR (--prompt TEXT | --prompt-ids 1,2,3) [--max-new N] [--greedy | --temperature T] " +
  "[--top-k K] [--top-p P] [--seed S] [--stop TEXT ...] [--weight-dtype f32|f16 (f16: half the weight memory, needs shader-f16)] [--json]";


export interface GenerateRequest {
  checkpoint: string;
  /** Text to encode, or token ids given as they are. */
  prompt: { text: string } | { ids: number[] };
  options: GenerateOptions;
  weightDtype: WeightDtype;
  json: boolean;
}

function number(flag: string, raw: string | undefined, fallback: number, ok: (n: number) => boolean, what: string): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (raw.trim() === "" || !ok(n)) throw new UsageError(`--${flag} ${raw}: ${what}`);
  return n;
}

const isCount = (n: number) => Number.isSafeInteger(n) && n >= 0;

function parseGenerateArgs(argv: string[]): GenerateRequest {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        checkpoint: { type: "string" },
        prompt: { type: "string" },
        "prompt-ids": { type: "string" },
        "max-new": { type: "string" },
        greedy: { type: "boolean" },
        temperature: { type: "string" },
        "top-k": { type: "string" },
        "top-p": { type: "string" },
        seed: { type: "string" },
        stop: { type: "string", multiple: true },
        "weight-dtype": { type: "string" },
        json: { type: "boolean" },
      },
    }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (values.checkpoint === undefined) throw new UsageError("--checkpoint DIR is required");
  if (!existsSync(values.checkpoint) || !statSync(values.checkpoint).isDirectory()) {
    throw new UsageError(`--checkpoint ${values.checkpoint} is not a directory`);
  }
  if ((values.prompt === undefined) === (values["prompt-ids"] === undefined)) throw new UsageError("give exactly one of --prompt TEXT and --prompt-ids 1,2,3");
  let prompt: GenerateRequest["prompt"];
  if (values.prompt !== undefined) {
    if (values.prompt.length === 0) throw new UsageError("--prompt is empty");
    prompt = { text: values.prompt };
  } else {
    const ids = values["prompt-ids"]!.split(",").map((s) => s.trim());
    if (ids.some((s) => !/^\d+$/.test(s))) throw new UsageError(`--prompt-ids ${values["prompt-ids"]}: comma-separated token ids, e.g. 1,2,3`);
    prompt = { ids: ids.map(Number) };
  }
  if (values.greedy && values.temperature !== undefined) throw new UsageError("--greedy and --temperature exclude each other");
  const temperature = values.greedy ? 0 : number("temperature", values.temperature, 0, (n) => Number.isFinite(n) && n >= 0, "a number >= 0 (0 = greedy)");
  const options: GenerateOptions = {
    maxNew: number("max-new", values["max-new"], 64, isCount, "a whole number"),
    temperature,
    topK: number("top-k", values["top-k"], 0, isCount, "a whole number (0 = off)"),
    topP: number("top-p", values["top-p"], 1, (n) => n > 0 && n <= 1, "a number in (0, 1] (1 = off)"),
    seed: number("seed", values.seed, 0, (n) => isCount(n) && n <= 0xffffffff, "a whole number below 2^32"),
    stop: values.stop ?? [],
  };
  const weightDtype = values["weight-dtype"] ?? "f32";
  if (!(WEIGHT_DTYPES as readonly string[]).includes(weightDtype)) throw new UsageError(`--weight-dtype ${weightDtype}: use one of ${WEIGHT_DTYPES.join(", ")}`);
  return { checkpoint: values.checkpoint, prompt, options, weightDtype: weightDtype as WeightDtype, json: values.json ?? false };
}

async function main(req: GenerateRequest): Promise<void> {
  const ids = "ids" in req.prompt ? req.prompt.ids : Tokenizer.fromDir(req.checkpoint).encode(req.prompt.text);
  if (ids.length === 0) throw new UsageError("the prompt encodes to no tokens");
  // The cache holds exactly this prompt plus its new tokens.
  const policy = await Policy.load(req.checkpoint, { maxSeq: ids.length + req.options.maxNew, maxBatch: 1, weightDtype: req.weightDtype, training: false });
  const [gen] = await policy.generate([ids], req.options);
  policy.destroy();
  if (req.json) process.stdout.write(`${JSON.stringify({ prompt_ids: ids, ids: gen.ids, text: gen.text, finish: gen.finish })}\n`);
  else process.stdout.write(`${gen.text}\n`);
}

if (import.meta.main) {
  try {
    await main(parseGenerateArgs(process.argv.slice(2)));
    process.exit(0);
  } catch (e) {
    const usage = e instanceof UsageError;
    process.stderr.write(`generate: ${(e as Error).message}\n${usage ? `${USAGE}\n` : ""}`);
    process.exit(usage ? 2 : 1);
  }
}
