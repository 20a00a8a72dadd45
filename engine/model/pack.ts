// Host-side layout of a batch of (prompt, response) sequences: right-padded rows b·T + t, and the scored rows
// (the row before each response token predicts it).

export interface Sequence {
  promptIds: number[];
  responseIds: number[];
}

export interface PackedBatch {
  ids: Uint32Array;
  positions: Uint32Array;
  lens: Uint32Array;
  /** Row of h whose logits predict each scored token, and that token, over all sequences in order. */
  rows: Uint32Array;
  targets: Uint32Array;
  /** Scored tokens of each sequence (its response length). */
  counts: number[];
}

/** The padded length for `longest` tokens: a multiple of 16 (fewer distinct graph shapes), at most `maxSeq`. */
export function bucketTokens(longest: number, maxSeq: number): number {
  return Math.min(maxSeq, Math.ceil(longest / 16) * 16);
}

/** Checks the sequences against the model's limits; the error says which sequence and why. */
export function checkSequences(seqs: readonly Sequence[], vocab: number, maxSeq: number, maxBatch: number): void {
  if (seqs.length === 0) throw new Error("no sequences given");
  if (seqs.length > maxBatch) throw new Error(`${seqs.length} sequences, over maxBatch ${maxBatch} (split the batch)`);
  seqs.forEach((s, i) => {
    const len = s.promptIds.length + s.responseIds.length;
    if (s.promptIds.length === 0) throw new Error(`sequence ${i}: empty prompt (the first token has no prediction)`);
    if (len > maxSeq) throw new Error(`sequence ${i}: ${len} tokens, over maxSeq ${maxSeq}`);
    for (const id of [...s.promptIds, ...s.responseIds]) {
      if (!Number.isInteger(id) || id < 0 || id >= vocab) throw new Error(`sequence ${i}: token id ${id} outside the vocabulary [0, ${vocab})`);
    }
  });
}

export function pack(seqs: readonly Sequence[], batch: number, tokens: number): PackedBatch {
  const n = batch * tokens;
  const ids = new Uint32Array(n);
  const positions = new Uint32Array(n);
  const lens = new Uint32Array(batch).fill(1); // padding sequences: one pad token, never scored
  const rows: number[] = [];
  const targets: number[] = [];
  for (let b = 0; b < batch; b++) for (let t = 0; t < tokens; t++) positions[b * tokens + t] = t;
  seqs.forEach((s, b) => {
    const all = [...s.promptIds, ...s.responseIds];
    ids.set(all, b * tokens);
    lens[b] = all.length;
    s.responseIds.forEach((id, j) => {
      rows.push(b * tokens + s.promptIds.length + j - 1);
      targets.push(id);
    });
  });
  return {
    ids,
    positions,
    lens,
    rows: Uint32Array.from(rows),
    targets: Uint32Array.from(targets),
    counts: seqs.map((s) => s.responseIds.length),
  };
}

/** Splits per-token values (in scored-row order) back into one array per sequence. */
export function splitBySequence(values: Float32Array, counts: readonly number[]): Float32Array[] {
  const out: Float32Array[] = [];
  let at = 0;
  for (const c of counts) {
    out.push(values.slice(at, at + c));
    at += c;
  }
  return out;
}
