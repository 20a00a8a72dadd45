// Reads a Hugging Face `tokenizer.json` (and its `tokenizer_config.json`) into a checked description of a byte-level
// BPE tokenizer. Every component type outside that family is rejected with the JSON path and the types we accept.

import type { BpeSpec } from "./bpe.ts";
import { compileOnigPattern, escapeRegExp, UnsupportedPatternError } from "./onig-regex.ts";

export interface AddedToken {
  readonly id: number;
  readonly content: string;
  /** Special ones (`<|im_end|>`) can be kept out of matching and skipped when decoding; others (`<tool_call>`) not. */
  readonly special: boolean;
  /** Whether the token swallows the whitespace on its left / right. */
  readonly lstrip: boolean;
  readonly rstrip: boolean;
}

export type NormalizationForm = "NFC" | "NFD" | "NFKC" | "NFKD";

export interface PreTokenizerSpec {
  /** `Split` patterns (behavior Isolated), applied in order, each to every piece the previous one produced. */
  readonly splits: readonly RegExp[];
  /** ByteLevel's options: a space is put before each piece not starting with one; GPT-2's own split. */
  readonly addPrefixSpace: boolean;
  readonly byteLevelSplit: RegExp | null;
}

export interface TokenizerSpec {
  readonly bpe: BpeSpec;
  readonly addedTokens: readonly AddedToken[];
  readonly normalization: readonly NormalizationForm[];
  readonly preTokenizer: PreTokenizerSpec;
  /** Ids the post-processor puts around a single sequence when special tokens are added (Llama-3's BOS). */
  readonly template: { readonly prefix: readonly number[]; readonly suffix: readonly number[] };
}

/** The parts of `tokenizer_config.json` the engine uses. */
export interface TokenizerConfig {
  readonly bosToken: string | null;
  readonly eosToken: string | null;
  readonly padToken: string | null;
  readonly unkToken: string | null;
  /** `split_special_tokens`: when true, special tokens in text are encoded as plain text by default. */
  readonly splitSpecialTokens: boolean;
}

// GPT-2's pattern, which ByteLevel applies itself when `use_regex` is true.
const GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
const NORMALIZATION_FORMS: readonly NormalizationForm[] = ["NFC", "NFD", "NFKC", "NFKD"];

type Json = { readonly [key: string]: unknown };

/** Reads JSON values at named paths, failing with the file and the path. */
class Reader {
  constructor(private readonly source: string) {}

  fail(path: string, problem: string): never {
    throw new Error(`${this.source}: ${path} ${problem}`);
  }

  object(value: unknown, path: string): Json {
    if (typeof value !== "object" || value === null || Array.isArray(value)) this.fail(path, "must be an object");
    return value as Json;
  }

  array(value: unknown, path: string): readonly unknown[] {
    if (!Array.isArray(value)) this.fail(path, "must be an array");
    return value;
  }

  string(value: unknown, path: string): string {
    if (typeof value !== "string") this.fail(path, "must be a string");
    return value;
  }

  id(value: unknown, path: string): number {
    if (!Number.isInteger(value) || (value as number) < 0) this.fail(path, "must be a non-negative integer id");
    return value as number;
  }

  flag(value: unknown, path: string, fallback: boolean): boolean {
    if (value === undefined || value === null) return fallback;
    if (typeof value !== "boolean") this.fail(path, "must be true or false");
    return value;
  }

  type(value: Json, path: string, accepted: readonly string[]): string {
    const type = this.string(value.type, `${path}.type`);
    if (!accepted.includes(type)) {
      const accepts = `byte-level BPE accepts ${accepted.join(", ")}`;
      this.fail(`${path}.type`, `is ${JSON.stringify(type)}, which is not supported (${accepts})`);
    }
    return type;
  }
}

function parseModel(r: Reader, value: unknown): BpeSpec {
  const model = r.object(value, "model");
  r.type(model, "model", ["BPE"]);
  if (model.byte_fallback === true) {
    r.fail("model.byte_fallback", "is true: that is SentencePiece-style BPE, not byte-level");
  }
  if (typeof model.dropout === "number" && model.dropout > 0) r.fail("model.dropout", "must be null (no BPE dropout)");
  for (const key of ["continuing_subword_prefix", "end_of_word_suffix"]) {
    if (model[key] !== undefined && model[key] !== null && model[key] !== "") r.fail(`model.${key}`, "must be empty");
  }
  const vocabJson = r.object(model.vocab, "model.vocab");
  const vocab = new Map<string, number>();
  for (const token in vocabJson) vocab.set(token, r.id(vocabJson[token], `model.vocab[${JSON.stringify(token)}]`));
  const merges = r.array(model.merges, "model.merges").map((merge, i): readonly [string, string] => {
    // Older files write "a b"; newer ones write ["a", "b"].
    const pair = typeof merge === "string" ? merge.split(" ") : merge;
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== "string" || typeof pair[1] !== "string") {
      r.fail(`model.merges[${i}]`, `must be "left right" or ["left", "right"], got ${JSON.stringify(merge)}`);
    }
    return [pair[0], pair[1]];
  });
  return { vocab, merges, ignoreMerges: r.flag(model.ignore_merges, "model.ignore_merges", false) };
}

function parseAddedTokens(r: Reader, value: unknown): AddedToken[] {
  return r.array(value ?? [], "added_tokens").map((item, i) => {
    const path = `added_tokens[${i}]`;
    const token = r.object(item, path);
    if (token.single_word === true) r.fail(`${path}.single_word`, "is true, which is not supported");
    const content = r.string(token.content, `${path}.content`);
    if (content === "") r.fail(`${path}.content`, "must not be empty");
    return {
      id: r.id(token.id, `${path}.id`),
      content,
      special: r.flag(token.special, `${path}.special`, false),
      lstrip: r.flag(token.lstrip, `${path}.lstrip`, false),
      rstrip: r.flag(token.rstrip, `${path}.rstrip`, false),
    };
  });
}

function parseNormalizer(r: Reader, value: unknown, path = "normalizer"): NormalizationForm[] {
  if (value === null || value === undefined) return [];
  const normalizer = r.object(value, path);
  const type = r.type(normalizer, path, [...NORMALIZATION_FORMS, "Sequence"]);
  if (type !== "Sequence") return [type as NormalizationForm];
  return r
    .array(normalizer.normalizers, `${path}.normalizers`)
    .flatMap((item, i) => parseNormalizer(r, item, `${path}.normalizers[${i}]`));
}

function compilePattern(r: Reader, pattern: string, path: string): RegExp {
  try {
    return compileOnigPattern(pattern);
  } catch (error) {
    if (error instanceof UnsupportedPatternError) r.fail(path, error.message);
    throw error;
  }
}

function parsePreTokenizer(r: Reader, value: unknown): PreTokenizerSpec {
  const root = r.object(value, "pre_tokenizer");
  const steps =
    r.type(root, "pre_tokenizer", ["Sequence", "Split", "ByteLevel"]) === "Sequence"
      ? r.array(root.pretokenizers, "pre_tokenizer.pretokenizers").map((step, i) => {
          const path = `pre_tokenizer.pretokenizers[${i}]`;
          const object = r.object(step, path);
          r.type(object, path, ["Split", "ByteLevel"]);
          return { object, path };
        })
      : [{ object: root, path: "pre_tokenizer" }];
  const last = steps[steps.length - 1];
  if (last?.object.type !== "ByteLevel") r.fail("pre_tokenizer", "must end with a ByteLevel step");
  const splits = steps.slice(0, -1).map(({ object, path }) => {
    if (object.type !== "Split") r.fail(`${path}.type`, "ByteLevel may only be the last step");
    if (object.behavior !== "Isolated") {
      r.fail(`${path}.behavior`, `is ${JSON.stringify(object.behavior)}; only "Isolated" is supported`);
    }
    if (object.invert === true) r.fail(`${path}.invert`, "is true, which is not supported");
    const pattern = r.object(object.pattern, `${path}.pattern`);
    if (typeof pattern.Regex === "string") return compilePattern(r, pattern.Regex, `${path}.pattern.Regex`);
    return new RegExp(escapeRegExp(r.string(pattern.String, `${path}.pattern.String`)), "gu");
  });
  const useRegex = r.flag(last.object.use_regex, `${last.path}.use_regex`, true);
  return {
    splits,
    addPrefixSpace: r.flag(last.object.add_prefix_space, `${last.path}.add_prefix_space`, true),
    byteLevelSplit: useRegex ? compilePattern(r, GPT2_PATTERN, `${last.path}.use_regex`) : null,
  };
}

function parseTemplate(r: Reader, value: unknown, path = "post_processor"): TokenizerSpec["template"] {
  if (value === null || value === undefined) return { prefix: [], suffix: [] };
  const processor = r.object(value, path);
  const type = r.type(processor, path, ["ByteLevel", "TemplateProcessing", "Sequence"]);
  if (type === "ByteLevel") return { prefix: [], suffix: [] }; // it only adjusts offsets, which we do not report
  if (type === "Sequence") {
    const parts = r
      .array(processor.processors, `${path}.processors`)
      .map((item, i) => parseTemplate(r, item, `${path}.processors[${i}]`));
    return { prefix: parts.flatMap((p) => p.prefix), suffix: parts.flatMap((p) => p.suffix) };
  }
  const specials = r.object(processor.special_tokens ?? {}, `${path}.special_tokens`);
  const prefix: number[] = [];
  const suffix: number[] = [];
  let seenSequence = false;
  r.array(processor.single, `${path}.single`).forEach((item, i) => {
    const piece = r.object(item, `${path}.single[${i}]`);
    if (piece.Sequence !== undefined) {
      seenSequence = true;
      return;
    }
    const tokenPath = `${path}.single[${i}].SpecialToken`;
    const name = r.string(r.object(piece.SpecialToken, tokenPath).id, `${tokenPath}.id`);
    const specialPath = `${path}.special_tokens[${JSON.stringify(name)}]`;
    const special = r.object(specials[name], specialPath);
    const ids = r.array(special.ids, `${specialPath}.ids`).map((id, k) => r.id(id, `${specialPath}.ids[${k}]`));
    (seenSequence ? suffix : prefix).push(...ids);
  });
  return { prefix, suffix };
}

/** Checks a parsed `tokenizer.json`; `source` names it in errors. */
export function parseTokenizerJson(json: unknown, source: string): TokenizerSpec {
  const r = new Reader(source);
  const root = r.object(json, "(root)");
  const decoder = r.object(root.decoder, "decoder");
  r.type(decoder, "decoder", ["ByteLevel"]);
  return {
    bpe: parseModel(r, root.model),
    addedTokens: parseAddedTokens(r, root.added_tokens),
    normalization: parseNormalizer(r, root.normalizer),
    preTokenizer: parsePreTokenizer(r, root.pre_tokenizer),
    template: parseTemplate(r, root.post_processor),
  };
}

/** Checks a parsed `tokenizer_config.json`; special tokens may be strings or `{content}` objects. */
export function parseTokenizerConfig(json: unknown, source: string): TokenizerConfig {
  const r = new Reader(source);
  const root = r.object(json, "(root)");
  const token = (key: string): string | null => {
    const value = root[key];
    if (value === undefined || value === null) return null;
    return typeof value === "string" ? value : r.string(r.object(value, key).content, `${key}.content`);
  };
  return {
    bosToken: token("bos_token"),
    eosToken: token("eos_token"),
    padToken: token("pad_token"),
    unkToken: token("unk_token"),
    splitSpecialTokens: r.flag(root.split_special_tokens, "split_special_tokens", false),
  };
}
