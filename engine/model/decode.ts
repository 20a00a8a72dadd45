// Batched generation on the device: a KV cache per layer [B, maxSeq, kvHeads, headDim], the prefill that fills it
// from a batch forward (the training stack, right-padded prompts), and the one-token decode step. Each sequence sits
// at its own position, so prompts of different lengths decode together.
//
//   prefill:  Body.forward over [B, Tp]; per layer kv rows 0..Tp-1 → cache; logits of each prompt's last row
//   step:     token ids [B] at positions [B] → embedding → layers (append k,v at the position, attend rows 0..pos)
//             → final norm → logits [B, V] → Sampler → tokens [B]
// Padded prompt rows are written to the cache too, but each is overwritten by a decode step before any query can
// reach it (a query at position p attends rows ≤ p, and row p is appended first).
import {
  attentionDecode,
  bindingLimit,
  type Dispatch,
  elementwise,
  embedding,
  embeddingShards,
  kvCacheAppend,
  linear,
  rmsnorm,
  rope,
  type Tensor,
} from "../../kernels/index.ts";
import { Arena } from "./arena.ts";
import { type Body, mlpForward, projections } from "./body.ts";
import type { ModelConfig } from "./config.ts";
import type { ModelWeights } from "./params.ts";

interface Cache {
  k: Tensor;
  v: Tensor;
}

export class Decoder {
  readonly arena = new Arena();
  readonly ids: Tensor<"u32">;
  readonly positions: Tensor<"u32">;
  readonly logits: Tensor;
  readonly tokens: Tensor<"u32">;
  readonly step: Dispatch[] = [];
  private readonly caches: Cache[] = [];
  private readonly zeros: Tensor<"u32">;
  private readonly lastRows: Tensor<"u32">;
  private readonly h: Tensor;
  private readonly prefills = new WeakMap<Body, Dispatch[]>();

  constructor(
    private readonly config: ModelConfig,
    readonly batch: number,
    readonly maxSeq: number,
    private readonly w: ModelWeights,
    ropeTable: Tensor,
  ) {
    const c = config;
    const B = batch;
    const a = this.arena;
    const q = c.heads * c.headDim;
    const kv = c.kvHeads * c.headDim;
    if (B * c.vocabSize * 4 > bindingLimit()) {
      throw new Error(
        `generation batch ${B}: its logits [${B}, ${c.vocabSize}] need ${B * c.vocabSize * 4} bytes, over the binding limit ` +
          `${bindingLimit()}; use maxBatch <= ${Math.floor(bindingLimit() / (4 * c.vocabSize))}`,
      );
    }
    for (let l = 0; l < c.layers; l++) {
      this.caches.push({ k: a.f32([B, maxSeq, c.kvHeads, c.headDim], `L${l} k cache`), v: a.f32([B, maxSeq, c.kvHeads, c.headDim], `L${l} v cache`) });
    }
    this.ids = a.u32([B], "decode ids");
    this.positions = a.u32([B], "decode positions");
    this.zeros = a.u32([B], "prefill positions");
    this.lastRows = a.u32([B], "prompt last rows");
    this.logits = a.f32([B, c.vocabSize], "decode logits");
    this.tokens = a.u32([B], "sampled tokens");
    this.h = a.f32([B, c.hidden], "decode h");
    const t = {
      x: a.f32([B, c.hidden], "decode x"),
      xn: a.f32([B, c.hidden], "decode xn"),
      rstd: a.f32([B], "decode rstd"),
      q: a.f32([B, q], "decode q"),
      k: a.f32([B, kv], "decode k"),
      v: a.f32([B, kv], "decode v"),
      qr: a.f32([B, c.heads, c.headDim], "decode q rope"),
      kr: a.f32([B, c.kvHeads, c.headDim], "decode k rope"),
      att: a.f32([B, q], "decode attention"),
      o: a.f32([B, c.hidden], "decode o"),
      xm: a.f32([B, c.hidden], "decode xm"),
      gate: a.f32([B, c.intermediate], "decode gate"),
      up: a.f32([B, c.intermediate], "decode up"),
      act: a.f32([B, c.intermediate], "decode act"),
      down: a.f32([B, c.hidden], "decode down"),
    };
    const one = (x: Tensor, heads: number) => x.view([B, 1, heads, c.headDim]);
    this.step.push(...embeddingShards({ ids: this.ids, table: w.embed, out: t.x }));
    w.layers.forEach((lw, l) => {
      const cache = this.caches[l];
      this.step.push(
        rmsnorm({ x: t.x, w: lw.inputNorm, y: t.xn, rstd: t.rstd, eps: c.rmsEps }),
        ...projections(t.xn, lw, t),
        rope({ x: t.q.view(t.qr.shape), out: t.qr, positions: this.positions, table: ropeTable }),
        rope({ x: t.k.view(t.kr.shape), out: t.kr, positions: this.positions, table: ropeTable }),
        kvCacheAppend({ k: one(t.kr, c.kvHeads), v: one(t.v, c.kvHeads), positions: this.positions, kCache: cache.k, vCache: cache.v }),
        attentionDecode({ q: one(t.qr, c.heads), kCache: cache.k, vCache: cache.v, positions: this.positions, out: one(t.att, c.heads) }),
        ...linear({ x: t.att, w: lw.o, y: t.o }),
        elementwise({ op: "add", inputs: { a: t.x, b: t.o }, out: t.xm }),
        rmsnorm({ x: t.xm, w: lw.postNorm, y: t.xn, rstd: t.rstd, eps: c.rmsEps }),
        ...mlpForward(t.xn, lw, t, t.down),
        elementwise({ op: "add", inputs: { a: t.xm, b: t.down }, out: t.x }),
      );
    });
    this.step.push(rmsnorm({ x: t.x, w: w.norm, y: this.h, rstd: t.rstd, eps: c.rmsEps }), ...this.headMatmul());
  }

  private headMatmul(): Dispatch[] {
    return linear({ x: this.h, w: this.w.lmHead, y: this.logits });
  }

  /** Dispatches that copy a prompt batch's keys and values into the cache and compute its last rows' logits. */
  prefill(body: Body, promptLens: readonly number[]): Dispatch[] {
    const T = body.dims.tokens;
    this.lastRows.write(promptLens.map((len, b) => b * T + len - 1));
    let d = this.prefills.get(body);
    if (d === undefined) {
      const c = this.config;
      const B = this.batch;
      d = body.layers.map((acts, l) =>
        kvCacheAppend({
          k: acts.kr.view([B, T, c.kvHeads, c.headDim]),
          v: acts.v.view([B, T, c.kvHeads, c.headDim]),
          positions: this.zeros,
          kCache: this.caches[l].k,
          vCache: this.caches[l].v,
        }),
      );
      d.push(embedding({ ids: this.lastRows, table: body.h, out: this.h }), ...this.headMatmul());
      this.prefills.set(body, d);
    }
    return d;
  }

  destroy(): void {
    this.arena.destroy();
  }
}

/** Cache bytes of a decoder, for the memory plan. */
export function kvCacheBytes(c: ModelConfig, batch: number, maxSeq: number): number {
  return 2 * c.layers * batch * maxSeq * c.kvHeads * c.headDim * 4;
}
