// Host side of generation: options, and per-sequence bookkeeping of tokens, text and stop conditions.
import type { StreamDecoder, Tokenizer } from "../tokenizer/index.ts";

export interface GenerateOptions {
  maxNew: number;
  /** 0 = greedy. */
  temperature: number;
  /** 0 or absent = off. */
  topK?: number;
  /** 1 or absent = off. */
  topP?: number;
  seed: number;
  /** Generation of a sequence ends once its text contains one of these (the text keeps it). */
  stop?: string[];
}

export interface Generation {
  ids: number[];
  text: string;
  finish: "stop" | "length";
}

export function checkGenerateOptions(o: GenerateOptions): void {
  if (!Number.isInteger(o.maxNew) || o.maxNew < 0) throw new Error(`generate: maxNew must be an integer >= 0, got ${o.maxNew}`);
  if (!(o.temperature >= 0) || !Number.isFinite(o.temperature)) throw new Error(`generate: temperature must be >= 0, got ${o.temperature}`);
  if (!Number.isInteger(o.seed) || o.seed < 0 || o.seed > 0xffffffff) throw new Error(`generate: seed must be a u32, got ${o.seed}`);
  if (o.stop?.some((s) => s.length === 0)) throw new Error("generate: empty stop string");
}

/** One batch of a generate call: consecutive prompts and the sampler seed of the batch. */
export interface GenerationBatch<T> {
  prompts: T[];
  seed: number;
}

/**
 * How a generate call splits its prompts: consecutive batches of `maxBatch`, batch k seeded `seed + k` (u32). The
 * sampler draws from (seed, row, step), so a sequence's tokens depend on its batch's seed and its row in the batch:
 * whoever generates a batch of this split, in-process or a rollout worker, gets the same tokens.
 */
export function generationBatches<T>(prompts: readonly T[], maxBatch: number, seed: number): GenerationBatch<T>[] {
  const out: GenerationBatch<T>[] = [];
  for (let at = 0, k = 0; at < prompts.length; at += maxBatch, k++) out.push({ prompts: prompts.slice(at, at + maxBatch), seed: (seed + k) >>> 0 });
  return out;
}

/** Token ids that end a sequence: the tokenizer's eos and Qwen's chat / document ends, where present. */
export function stopIds(tokenizer: Tokenizer): Set<number> {
  const ids = new Set<number>();
  if (tokenizer.specialIds.eos !== undefined) ids.add(tokenizer.specialIds.eos);
  for (const token of ["<|im_end|>", "<|endoftext|>"]) {
    const id = tokenizer.tokenToId(token);
    if (id !== undefined) ids.add(id);
  }
  return ids;
}

/** One sequence being generated: its ids, its text so far (special tokens left out) and whether it has ended. */
export class Progress {
  readonly ids: number[] = [];
  text = "";
  finish: Generation["finish"] | undefined;
  private readonly decoder: StreamDecoder;

  constructor(
    private readonly tokenizer: Tokenizer,
    private readonly stops: ReadonlySet<number>,
    private readonly stopStrings: readonly string[],
  ) {
    this.decoder = tokenizer.decodeStream({ skipSpecial: true });
  }

  get done(): boolean {
    return this.finish !== undefined;
  }

  /** Adds a sampled token (ignored once the sequence has ended). */
  push(id: number, maxNew: number): void {
    if (this.done) return;
    this.ids.push(id);
    const before = this.text.length;
    // Rows past the tokenizer (a checkpoint's padded vocabulary) have no text.
    if (id < this.tokenizer.vocabSize) this.text += this.decoder.push(id);
    if (this.stops.has(id) || this.stopStrings.some((s) => this.text.includes(s, Math.max(0, before - s.length + 1)))) {
      this.finish = "stop";
    } else if (this.ids.length >= maxNew) {
      this.finish = "length";
    }
  }

  result(): Generation {
    return { ids: this.ids, text: this.text + this.decoder.end(), finish: this.finish ?? "length" };
  }
}
