// The LM head over the scored rows only, in chunks of rows: a [rows, vocab] logits block over Qwen's 152k vocabulary
// is the largest tensor of the model, so only one chunk's logits exist at a time, and the backward recomputes them
// (one more head matmul instead of keeping every chunk's logits).
//
//   per chunk:  hc = h[rows]  (a gather: the embedding kernel with h as the table)   logits = hc·Wᵀ
//               logp, lse = logProb(logits, targets)    H = entropy(logits, lse)
//   backward:   dlogits = g·(onehot − p) + gH·dH/dlogits    dhc = dlogits·W    dW += dlogitsᵀ·hc    dh[rows] += dhc
// Unused rows of the last chunk point at row 0 with g = gH = 0, so they add nothing.
import {
  bindingLimit,
  type Dispatch,
  embedding,
  embeddingBackward,
  entropyBackward,
  entropyForward,
  linear,
  linearGradInput,
  linearGradWeight,
  logProbBackward,
  logProbForward,
  type RowShards,
  type Tensor,
} from "../../kernels/index.ts";
import type { Arena } from "./arena.ts";

export interface HeadChunk {
  rows: Tensor<"u32">;
  targets: Tensor<"u32">;
  logp: Tensor;
  lse: Tensor;
  entropy: Tensor;
  g: Tensor;
  gH: Tensor;
  forward: Dispatch[];
  /** Absent for an inference-only (f16) model. */
  backward?: Dispatch[];
}

/** Rows per chunk: at most 128, and one chunk's logits must fit a storage binding. */
export function chunkRows(rows: number, vocab: number, limit = bindingLimit()): number {
  const byBinding = Math.floor(limit / (4 * vocab));
  if (byBinding < 1) throw new Error(`one row of ${vocab} logits (${4 * vocab} bytes) is over the binding limit ${limit} bytes`);
  return Math.min(rows, 128, byBinding);
}

export class Head {
  readonly size: number;
  readonly chunks: HeadChunk[] = [];
  readonly logits: Tensor<"f32">;

  /**
   * h, dh [n, hidden]; lmHead [vocab, hidden] and its gradient (row shards: each computes its block of columns). Without
   * a gradient (an inference-only model) neither the backward nor its [rows, vocab] gradient block is built.
   */
  constructor(h: Tensor, dh: Tensor, lmHead: RowShards, dLmHead: RowShards | undefined, arena: Arena) {
    const [n, hidden] = h.shape;
    const vocab = lmHead.shape[0];
    this.size = chunkRows(n, vocab);
    const C = this.size;
    const hc = arena.f32([C, hidden], "head rows");
    this.logits = arena.f32([C, vocab], "logits");
    const logits = this.logits;
    const grad = dLmHead && { dW: dLmHead, dhc: arena.f32([C, hidden], "d head rows"), dlogits: arena.f32([C, vocab], "d logits") };
    for (let i = 0; i < Math.ceil(n / C); i++) {
      const k = (what: string) => `head chunk ${i} ${what}`;
      const c = {
        rows: arena.u32([C], k("rows")),
        targets: arena.u32([C], k("targets")),
        logp: arena.f32([C], k("logp")),
        lse: arena.f32([C], k("lse")),
        entropy: arena.f32([C], k("entropy")),
        g: arena.f32([C], k("dlogp")),
        gH: arena.f32([C], k("dentropy")),
      };
      const logitsOf = [embedding({ ids: c.rows, table: h, out: hc }), ...linear({ x: hc, w: lmHead, y: logits })];
      this.chunks.push({
        ...c,
        forward: [
          ...logitsOf,
          logProbForward({ logits, targets: c.targets, logp: c.logp, lse: c.lse }),
          entropyForward({ logits, lse: c.lse, entropy: c.entropy }),
        ],
        backward: grad && [
          ...logitsOf,
          logProbBackward({ logits, targets: c.targets, lse: c.lse, g: c.g, dlogits: grad.dlogits }),
          entropyBackward({ logits, lse: c.lse, entropy: c.entropy, gH: c.gH, dlogits: grad.dlogits, accumulate: true }),
          ...linearGradInput({ dy: grad.dlogits, w: lmHead, dx: grad.dhc }),
          ...linearGradWeight({ dy: grad.dlogits, x: hc, dw: grad.dW, accumulate: true }),
          ...embeddingBackward({ ids: c.rows, dOut: grad.dhc, dTable: dh, accumulate: true, alloc: arena.alloc }),
        ],
      });
    }
  }
}
