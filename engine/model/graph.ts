// One batch shape [B, T] of the training pass: the decoder stack plus the chunked head, with the host-side steps
// that feed it (inputs, gradients in) and read it (log-probs, entropies out).
import { Step, type Tensor } from "../../kernels/index.ts";
import { Arena } from "./arena.ts";
import { Body, type BodyDims } from "./body.ts";
import type { ModelConfig } from "./config.ts";
import { Head } from "./head.ts";
import type { PackedBatch } from "./pack.ts";
import type { DeviceParams } from "./params.ts";

export class TrainGraph {
  readonly arena = new Arena();
  readonly body: Body;
  private headOf: Head | undefined;
  private scored = 0;

  constructor(
    config: ModelConfig,
    dims: BodyDims,
    private readonly params: DeviceParams,
    ropeTable: Tensor,
  ) {
    this.body = new Body(config, dims, params.weights, params.grad, ropeTable, this.arena);
  }

  /** The chunked LM head, built on first use: a generation prefill (no scored rows) never needs its logits blocks. */
  get head(): Head {
    this.headOf ??= new Head(this.body.h, this.body.dh, this.params.weights.lmHead, this.params.grad?.lmHead, this.arena);
    return this.headOf;
  }

  /** Chunks that hold scored rows in the current batch. */
  private get used(): number {
    return this.scored === 0 ? 0 : Math.ceil(this.scored / this.head.size);
  }

  /** Uploads the batch: token inputs, and each chunk's rows and targets (unused slots: row 0, target 0). */
  load(batch: PackedBatch): void {
    const { ids, positions, lens } = this.body.inputs;
    ids.write(batch.ids);
    positions.write(batch.positions);
    lens.write(batch.lens);
    this.scored = batch.rows.length;
    for (let i = 0; i < this.used; i++) {
      const C = this.head.size;
      const chunk = this.head.chunks[i];
      chunk.rows.write(padTo(batch.rows.subarray(i * C, (i + 1) * C), C));
      chunk.targets.write(padTo(batch.targets.subarray(i * C, (i + 1) * C), C));
    }
  }

  encodeForward(step: Step): void {
    step.run(...this.body.forward);
    for (let i = 0; i < this.used; i++) step.run(...this.head.chunks[i].forward);
  }

  /** Per-token log-probs and entropies of the scored rows, in order. */
  async readStats(): Promise<{ logp: Float32Array; entropy: Float32Array }> {
    const logp = new Float32Array(this.scored);
    const entropy = new Float32Array(this.scored);
    const C = this.head.size;
    for (let i = 0; i < this.used; i++) {
      const chunk = this.head.chunks[i];
      const take = Math.min(C, this.scored - i * C);
      logp.set((await chunk.logp.read()).subarray(0, take), i * C);
      entropy.set((await chunk.entropy.read()).subarray(0, take), i * C);
    }
    return { logp, entropy };
  }

  /** Runs the forward and returns the logits of every scored row (one chunk at a time: tests, diagnostics). */
  async readLogits(): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    const [C, vocab] = this.head.logits.shape;
    for (let i = 0; i < this.used; i++) {
      const step = new Step("logits");
      if (i === 0) step.run(...this.body.forward);
      step.run(...this.head.chunks[i].forward).submit();
      const block = await this.head.logits.read();
      for (let r = 0; r < Math.min(C, this.scored - i * C); r++) out.push(block.slice(r * vocab, (r + 1) * vocab));
    }
    return out;
  }

  /** Uploads ∂L/∂logp and ∂L/∂H of the scored rows (zeros on the unused slots). */
  loadGrads(dlogp: Float32Array, dentropy: Float32Array): void {
    const C = this.head.size;
    for (let i = 0; i < this.used; i++) {
      const chunk = this.head.chunks[i];
      chunk.g.write(padTo(dlogp.subarray(i * C, (i + 1) * C), C));
      chunk.gH.write(padTo(dentropy.subarray(i * C, (i + 1) * C), C));
    }
  }

  encodeBackward(step: Step): void {
    const backward = this.body.backward(); // throws first for an inference-only model
    step.clear(this.body.dh);
    for (let i = 0; i < this.used; i++) step.run(...(this.head.chunks[i].backward ?? []));
    step.run(...backward);
  }

  destroy(): void {
    this.arena.destroy();
  }
}

function padTo<T extends Uint32Array | Float32Array>(values: T, size: number): T {
  if (values.length === size) return values;
  const out = new (values.constructor as new (n: number) => T)(size);
  out.set(values);
  return out;
}
