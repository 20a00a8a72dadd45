// The byte-level BPE model: a pre-token's UTF-8 bytes start as one symbol each and the lowest-ranked adjacent pair
// is merged until no pair has a rank, leftmost first among equal ranks (the order of Hugging Face's `Word::merge_all`).
// Symbols are token ids throughout; a pair is looked up by one number key, and results are cached per pre-token.

import { BYTE_TO_CHAR, bytesToSymbols } from "./byte-level.ts";

export interface BpeSpec {
  /** Token text (in the byte-level alphabet) → id. */
  readonly vocab: ReadonlyMap<string, number>;
  /** Merge rules, highest priority first: each pair's concatenation must be in `vocab`. */
  readonly merges: readonly (readonly [string, string])[];
  /** Llama-3's `ignore_merges`: a pre-token that is itself in the vocabulary is one token. */
  readonly ignoreMerges: boolean;
}

// Pair keys are left * ID_SPAN + right; heap entries are rank * POS_SPAN + position. Both stay below 2^53.
const ID_SPAN = 2 ** 21;
const POS_SPAN = 2 ** 32;
// A cached pre-token costs its text plus its ids; long ones (whitespace runs, minified data) rarely repeat.
const CACHE_MAX_ENTRIES = 200_000;
const CACHE_MAX_WORD_LENGTH = 256;

export class BpeModel {
  private readonly vocab: ReadonlyMap<string, number>;
  private readonly ignoreMerges: boolean;
  private readonly byteIds: Int32Array;
  private readonly rankOfPair = new Map<number, number>();
  private readonly mergedId: Int32Array;
  private readonly cache = new Map<string, readonly number[]>();
  private readonly encoder = new TextEncoder();

  constructor(spec: BpeSpec) {
    this.vocab = spec.vocab;
    this.ignoreMerges = spec.ignoreMerges;
    this.byteIds = Int32Array.from(BYTE_TO_CHAR, (ch, byte) => {
      const id = spec.vocab.get(ch);
      if (id === undefined) {
        throw new Error(`byte-level vocabulary lacks the symbol ${JSON.stringify(ch)} for byte ${byte}`);
      }
      return id;
    });
    for (const id of spec.vocab.values()) {
      if (!Number.isInteger(id) || id < 0 || id >= ID_SPAN) throw new Error(`vocabulary id ${id} is out of range`);
    }
    this.mergedId = new Int32Array(spec.merges.length);
    spec.merges.forEach(([left, right], rank) => {
      const leftId = spec.vocab.get(left);
      const rightId = spec.vocab.get(right);
      const merged = spec.vocab.get(left + right);
      if (leftId === undefined || rightId === undefined || merged === undefined) {
        throw new Error(`merge #${rank} ${JSON.stringify([left, right])} uses a token missing from the vocabulary`);
      }
      // A repeated pair takes its last rank, as the Rust implementation's map (collected in order) does.
      this.rankOfPair.set(leftId * ID_SPAN + rightId, rank);
      this.mergedId[rank] = merged;
    });
  }

  /** Appends the ids of one pre-token (a piece of text the pre-tokenizer produced) to `out`. */
  encodeWord(word: string, out: number[]): void {
    const cached = this.cache.get(word);
    if (cached !== undefined) {
      for (const id of cached) out.push(id);
      return;
    }
    const ids = this.encodeBytes(this.encoder.encode(word));
    if (word.length <= CACHE_MAX_WORD_LENGTH) {
      if (this.cache.size >= CACHE_MAX_ENTRIES) this.cache.clear();
      this.cache.set(word, ids);
    }
    for (const id of ids) out.push(id);
  }

  private encodeBytes(bytes: Uint8Array): number[] {
    if (this.ignoreMerges) {
      const whole = this.vocab.get(bytesToSymbols(bytes));
      if (whole !== undefined) return [whole];
    }
    const count = bytes.length;
    const ids = new Int32Array(count);
    // A doubly linked list over positions; a merged symbol lives at its left position, the right one is unlinked.
    const prev = new Int32Array(count);
    const next = new Int32Array(count);
    for (let pos = 0; pos < count; pos++) {
      ids[pos] = this.byteIds[bytes[pos]];
      prev[pos] = pos - 1;
      next[pos] = pos + 1 < count ? pos + 1 : -1;
    }
    const heap: number[] = [];
    const pushPair = (pos: number): void => {
      const right = next[pos];
      if (pos < 0 || right < 0) return;
      const rank = this.rankOfPair.get(ids[pos] * ID_SPAN + ids[right]);
      if (rank !== undefined) heapPush(heap, rank * POS_SPAN + pos);
    };
    for (let pos = 0; pos + 1 < count; pos++) pushPair(pos);
    while (heap.length > 0) {
      const entry = heapPop(heap);
      const rank = Math.floor(entry / POS_SPAN);
      const pos = entry - rank * POS_SPAN;
      const right = next[pos];
      // Stale entry: the symbol was absorbed (prev = -2) or its pair changed since it was queued.
      if (prev[pos] === -2 || right < 0 || this.rankOfPair.get(ids[pos] * ID_SPAN + ids[right]) !== rank) continue;
      ids[pos] = this.mergedId[rank];
      next[pos] = next[right];
      if (next[right] >= 0) prev[next[right]] = pos;
      prev[right] = -2;
      pushPair(prev[pos]);
      pushPair(pos);
    }
    const result: number[] = [];
    for (let pos = 0; pos >= 0 && pos < count; pos = next[pos]) result.push(ids[pos]);
    return result;
  }
}

function heapPush(heap: number[], value: number): void {
  let i = heap.length;
  heap.push(value);
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (heap[parent] <= value) break;
    heap[i] = heap[parent];
    i = parent;
  }
  heap[i] = value;
}

function heapPop(heap: number[]): number {
  const top = heap[0];
  const last = heap.pop()!;
  if (heap.length === 0) return top;
  let i = 0;
  for (;;) {
    let child = 2 * i + 1;
    if (child >= heap.length) break;
    if (child + 1 < heap.length && heap[child + 1] < heap[child]) child++;
    if (heap[child] >= last) break;
    heap[i] = heap[child];
    i = child;
  }
  heap[i] = last;
  return top;
}
