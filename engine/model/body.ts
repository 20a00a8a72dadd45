// The decoder stack over a right-padded batch [B, T]: embedding, per layer attention and MLP blocks with residuals,
// final RMSNorm. Forward keeps every activation the backward needs; the backward adds into the parameter gradients.
//
//   layer l:  xn1 = rmsnorm(x_l)           q,k,v = xn1·Wᵀ (+b)        qr,kr = rope(q,k)
//             att = attention(qr,kr,v)     xm = x_l + att·Woᵀ
//             xn2 = rmsnorm(xm)            act = silu(xn2·Wgᵀ) ⊙ (xn2·Wuᵀ)   x_{l+1} = xm + act·Wdᵀ
//   final:    h = rmsnorm(x_L)
// Linear weights are HF's [out, in] (row shards over the binding limit), so every projection is linear(): y = x·Wᵀ,
// whose backward is dx = dy·W and dW += dyᵀ·x.
import {
  addBias,
  attentionBackward,
  attentionForward,
  biasBackward,
  type Dispatch,
  elementwise,
  elementwiseBackward,
  embeddingBackward,
  embeddingShards,
  linear,
  linearGradInput,
  linearGradWeight,
  rmsnorm,
  rmsnormBackward,
  rope,
  type Tensor,
} from "../../kernels/index.ts";
import type { Arena } from "./arena.ts";
import type { ModelConfig } from "./config.ts";
import { type LayerWeights, type ModelWeights, INFERENCE_ONLY } from "./params.ts";

/** What one layer's forward keeps. */
interface LayerActs {
  x: Tensor;
  xn1: Tensor;
  rstd1: Tensor;
  q: Tensor;
  k: Tensor;
  v: Tensor;
  qr: Tensor;
  kr: Tensor;
  att: Tensor;
  lse: Tensor;
  xm: Tensor;
  xn2: Tensor;
  rstd2: Tensor;
  gate: Tensor;
  up: Tensor;
  act: Tensor;
}

/** Inputs of one batch: token ids and positions per row (b·T + t), real lengths per sequence. */
export interface BodyInputs {
  ids: Tensor<"u32">;
  positions: Tensor<"u32">;
  lens: Tensor<"u32">;
}

export interface BodyDims {
  batch: number;
  tokens: number;
}

/** Activation bytes of the forward and the backward's scratch, for the memory plan (mirrors the allocation below). */
export function bodyActivationBytes(c: ModelConfig, { batch, tokens }: BodyDims): { forward: number; backward: number } {
  const n = batch * tokens;
  const q = c.heads * c.headDim;
  const kv = c.kvHeads * c.headDim;
  const perLayer = n * (4 * c.hidden + 2 + 3 * q + 3 * kv + 3 * c.intermediate) + batch * c.heads * tokens;
  const forward = (c.layers * perLayer + n * (5 * c.hidden + 3) + batch) * 4;
  const backward = (n * (2 * c.hidden + 3 * q + 3 * kv + 3 * c.intermediate) + batch * c.heads * tokens) * 4;
  return { forward, backward };
}

/** The largest single activation tensor (activations are never sharded: the batch must keep each under a binding). */
export function largestActivation(c: ModelConfig, { batch, tokens }: BodyDims): { what: string; bytes: number } {
  const n = batch * tokens;
  const widest = Math.max(c.intermediate, c.heads * c.headDim, c.hidden);
  const name = widest === c.intermediate ? "MLP gate/up" : widest === c.hidden ? "hidden state" : "attention q";
  return { what: `${name} [${batch}·${tokens}, ${widest}]`, bytes: n * widest * 4 };
}

/** Forward and backward dispatches of the decoder stack for one batch shape. */
export class Body {
  readonly inputs: BodyInputs;
  readonly layers: LayerActs[] = [];
  /** x_L, the input of the final norm, and its output h [B·T, hidden]. */
  readonly last: Tensor;
  readonly h: Tensor;
  readonly hRstd: Tensor;
  /** ∂L/∂h: the head writes it before the backward runs. */
  readonly dh: Tensor;
  readonly forward: Dispatch[] = [];
  private backwardDispatches: Dispatch[] | undefined;
  private readonly scratch: { o: Tensor; down: Tensor };

  constructor(
    readonly config: ModelConfig,
    readonly dims: BodyDims,
    private readonly w: ModelWeights,
    /** The parameter gradients; undefined for an inference-only model, which then has no backward. */
    private readonly g: ModelWeights | undefined,
    private readonly ropeTable: Tensor,
    private readonly arena: Arena,
  ) {
    const c = config;
    const n = dims.batch * dims.tokens;
    this.inputs = { ids: arena.u32([n], "ids"), positions: arena.u32([n], "positions"), lens: arena.u32([dims.batch], "lens") };
    this.scratch = { o: arena.f32([n, c.hidden], "o_proj out"), down: arena.f32([n, c.hidden], "down_proj out") };
    let x = arena.f32([n, c.hidden], "x0");
    this.forward.push(...embeddingShards({ ids: this.inputs.ids, table: w.embed, out: x }));
    for (let l = 0; l < c.layers; l++) {
      const acts = this.layerActs(x, l);
      this.layers.push(acts);
      const next = arena.f32([n, c.hidden], `x${l + 1}`);
      this.forward.push(...this.layerForward(acts, w.layers[l], next));
      x = next;
    }
    this.last = x;
    this.h = arena.f32([n, c.hidden], "h");
    this.hRstd = arena.f32([n], "h rstd");
    this.dh = arena.f32([n, c.hidden], "dh");
    this.forward.push(rmsnorm({ x, w: w.norm, y: this.h, rstd: this.hRstd, eps: c.rmsEps }));
  }

  private layerActs(x: Tensor, l: number): LayerActs {
    const c = this.config;
    const { batch, tokens } = this.dims;
    const n = batch * tokens;
    const a = this.arena;
    const q = c.heads * c.headDim;
    const kv = c.kvHeads * c.headDim;
    return {
      x,
      xn1: a.f32([n, c.hidden], `L${l} xn1`),
      rstd1: a.f32([n], `L${l} rstd1`),
      q: a.f32([n, q], `L${l} q`),
      k: a.f32([n, kv], `L${l} k`),
      v: a.f32([n, kv], `L${l} v`),
      qr: a.f32([n, c.heads, c.headDim], `L${l} q rope`),
      kr: a.f32([n, c.kvHeads, c.headDim], `L${l} k rope`),
      att: a.f32([n, q], `L${l} attention`),
      lse: a.f32([batch, c.heads, tokens], `L${l} lse`),
      xm: a.f32([n, c.hidden], `L${l} xm`),
      xn2: a.f32([n, c.hidden], `L${l} xn2`),
      rstd2: a.f32([n], `L${l} rstd2`),
      gate: a.f32([n, c.intermediate], `L${l} gate`),
      up: a.f32([n, c.intermediate], `L${l} up`),
      act: a.f32([n, c.intermediate], `L${l} act`),
    };
  }

  /** 4-D attention views [B, T, heads, headDim] of a row-major [B·T, heads·headDim] tensor. */
  private heads(t: Tensor, heads: number): Tensor {
    return t.view([this.dims.batch, this.dims.tokens, heads, this.config.headDim]);
  }

  private layerForward(a: LayerActs, w: LayerWeights, next: Tensor): Dispatch[] {
    const c = this.config;
    const { positions, lens } = this.inputs;
    const out: Dispatch[] = [rmsnorm({ x: a.x, w: w.inputNorm, y: a.xn1, rstd: a.rstd1, eps: c.rmsEps })];
    out.push(...projections(a.xn1, w, a));
    out.push(
      rope({ x: a.q.view(a.qr.shape), out: a.qr, positions, table: this.ropeTable }),
      rope({ x: a.k.view(a.kr.shape), out: a.kr, positions, table: this.ropeTable }),
      attentionForward({
        q: this.heads(a.qr, c.heads),
        k: this.heads(a.kr, c.kvHeads),
        v: this.heads(a.v, c.kvHeads),
        lens,
        out: this.heads(a.att, c.heads),
        lse: a.lse,
      }),
      ...linear({ x: a.att, w: w.o, y: this.scratch.o }),
      elementwise({ op: "add", inputs: { a: a.x, b: this.scratch.o }, out: a.xm }),
      rmsnorm({ x: a.xm, w: w.postNorm, y: a.xn2, rstd: a.rstd2, eps: c.rmsEps }),
      ...mlpForward(a.xn2, w, a, this.scratch.down),
      elementwise({ op: "add", inputs: { a: a.xm, b: this.scratch.down }, out: next }),
    );
    return out;
  }

  /** The backward from `dh` to every parameter gradient (added), built on first use. */
  backward(): Dispatch[] {
    this.backwardDispatches ??= this.buildBackward();
    return this.backwardDispatches;
  }

  private buildBackward(): Dispatch[] {
    if (this.g === undefined) throw new Error(INFERENCE_ONLY);
    const grads = this.g;
    const c = this.config;
    const n = this.dims.batch * this.dims.tokens;
    const a = this.arena;
    const q = c.heads * c.headDim;
    const kv = c.kvHeads * c.headDim;
    const s = {
      dres: a.f32([n, c.hidden], "d residual"),
      dact: a.f32([n, c.intermediate], "d act"),
      dgate: a.f32([n, c.intermediate], "d gate"),
      dup: a.f32([n, c.intermediate], "d up"),
      dxn: a.f32([n, c.hidden], "d normed"),
      datt: a.f32([n, q], "d attention"),
      dqr: a.f32([n, c.heads, c.headDim], "d q rope"),
      dkr: a.f32([n, c.kvHeads, c.headDim], "d k rope"),
      dq: a.f32([n, c.heads, c.headDim], "d q"),
      dk: a.f32([n, c.kvHeads, c.headDim], "d k"),
      dv: a.f32([n, kv], "d v"),
      delta: a.f32([this.dims.batch, c.heads, this.dims.tokens], "attention delta"),
    };
    const out: Dispatch[] = [
      ...rmsnormBackward({ x: this.last, w: this.w.norm, rstd: this.hRstd, dy: this.dh, dx: s.dres }),
      ...rmsnormBackward({ x: this.last, w: this.w.norm, rstd: this.hRstd, dy: this.dh, dw: grads.norm, accumulate: true }),
    ];
    const { positions, lens } = this.inputs;
    for (let l = c.layers - 1; l >= 0; l--) {
      const act = this.layers[l];
      const w = this.w.layers[l];
      const g = grads.layers[l];
      // MLP block: dres is ∂L/∂x_{l+1} = ∂L/∂(down out), and passes through the residual to xm.
      out.push(
        ...linearGradWeight({ dy: s.dres, x: act.act, dw: g.down, accumulate: true }),
        ...linearGradInput({ dy: s.dres, w: w.down, dx: s.dact }),
        elementwiseBackward({ op: "swiglu", inputs: { gate: act.gate, up: act.up }, g: s.dact, grads: { gate: s.dgate, up: s.dup } }),
        ...linearGradWeight({ dy: s.dgate, x: act.xn2, dw: g.gate, accumulate: true }),
        ...linearGradWeight({ dy: s.dup, x: act.xn2, dw: g.up, accumulate: true }),
        ...linearGradInput({ dy: s.dgate, w: w.gate, dx: s.dxn }),
        ...linearGradInput({ dy: s.dup, w: w.up, dx: s.dxn, accumulate: true }),
        ...rmsnormBackward({ x: act.xm, w: w.postNorm, rstd: act.rstd2, dy: s.dxn, dx: s.dres, accumulate: true }),
        ...rmsnormBackward({ x: act.xm, w: w.postNorm, rstd: act.rstd2, dy: s.dxn, dw: g.postNorm, accumulate: true }),
      );
      // Attention block: dres is now ∂L/∂xm.
      const dq2 = s.dq.view([n, q]);
      const dk2 = s.dk.view([n, kv]);
      out.push(
        ...linearGradWeight({ dy: s.dres, x: act.att, dw: g.o, accumulate: true }),
        ...linearGradInput({ dy: s.dres, w: w.o, dx: s.datt }),
        ...attentionBackward({
          q: this.heads(act.qr, c.heads),
          k: this.heads(act.kr, c.kvHeads),
          v: this.heads(act.v, c.kvHeads),
          lens,
          out: this.heads(act.att, c.heads),
          lse: act.lse,
          dOut: this.heads(s.datt, c.heads),
          dq: this.heads(s.dqr, c.heads),
          dk: this.heads(s.dkr, c.kvHeads),
          dv: this.heads(s.dv, c.kvHeads),
          delta: s.delta,
        }),
        rope({ x: s.dqr, out: s.dq, positions, table: this.ropeTable, inverse: true }),
        rope({ x: s.dkr, out: s.dk, positions, table: this.ropeTable, inverse: true }),
      );
      if (g.qBias && g.kBias && g.vBias) {
        out.push(
          biasBackward({ dy: dq2, dBias: g.qBias, accumulate: true }),
          biasBackward({ dy: dk2, dBias: g.kBias, accumulate: true }),
          biasBackward({ dy: s.dv, dBias: g.vBias, accumulate: true }),
        );
      }
      out.push(
        ...linearGradWeight({ dy: dq2, x: act.xn1, dw: g.q, accumulate: true }),
        ...linearGradWeight({ dy: dk2, x: act.xn1, dw: g.k, accumulate: true }),
        ...linearGradWeight({ dy: s.dv, x: act.xn1, dw: g.v, accumulate: true }),
        ...linearGradInput({ dy: dq2, w: w.q, dx: s.dxn }),
        ...linearGradInput({ dy: dk2, w: w.k, dx: s.dxn, accumulate: true }),
        ...linearGradInput({ dy: s.dv, w: w.v, dx: s.dxn, accumulate: true }),
        ...rmsnormBackward({ x: act.x, w: w.inputNorm, rstd: act.rstd1, dy: s.dxn, dx: s.dres, accumulate: true }),
        ...rmsnormBackward({ x: act.x, w: w.inputNorm, rstd: act.rstd1, dy: s.dxn, dw: g.inputNorm, accumulate: true }),
      );
    }
    out.push(...embeddingBackward({ ids: this.inputs.ids, dOut: s.dres, dTable: grads.embed, accumulate: true, alloc: this.arena.alloc }));
    return out;
  }
}

/** q, k, v = x·Wᵀ (+ bias): shared by the batch forward and the decode step. */
export function projections(x: Tensor, w: LayerWeights, out: { q: Tensor; k: Tensor; v: Tensor }): Dispatch[] {
  const d: Dispatch[] = [
    ...linear({ x, w: w.q, y: out.q }),
    ...linear({ x, w: w.k, y: out.k }),
    ...linear({ x, w: w.v, y: out.v }),
  ];
  if (w.qBias && w.kBias && w.vBias) {
    d.push(addBias({ y: out.q, bias: w.qBias }), addBias({ y: out.k, bias: w.kBias }), addBias({ y: out.v, bias: w.vBias }));
  }
  return d;
}

/** act = silu(x·Wgᵀ) ⊙ (x·Wuᵀ), then down = act·Wdᵀ: shared by the batch forward and the decode step. */
export function mlpForward(x: Tensor, w: LayerWeights, t: { gate: Tensor; up: Tensor; act: Tensor }, down: Tensor): Dispatch[] {
  return [
    ...linear({ x, w: w.gate, y: t.gate }),
    ...linear({ x, w: w.up, y: t.up }),
    elementwise({ op: "swiglu", inputs: { gate: t.gate, up: t.up }, out: t.act }),
    ...linear({ x: t.act, w: w.down, y: down }),
  ];
}
