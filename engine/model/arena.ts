// Device tensors allocated for one graph shape and freed together when the graph is dropped.
import { type Allocator, type DType, Tensor } from "../../kernels/index.ts";

export class Arena {
  private readonly tensors: Tensor[] = [];

  /** For the ops that allocate scratch of their own (embedding backward): it is freed with the arena. */
  readonly alloc: Allocator = (shape, dtype, label) => this.track(Tensor.zeros(shape, dtype, label));

  f32(shape: readonly number[], label: string): Tensor<"f32"> {
    return this.track(Tensor.zeros(shape, "f32", label));
  }

  u32(shape: readonly number[], label: string): Tensor<"u32"> {
    return this.track(Tensor.zeros(shape, "u32", label));
  }

  private track<D extends DType>(t: Tensor<D>): Tensor<D> {
    this.tensors.push(t);
    return t;
  }

  destroy(): void {
    for (const t of this.tensors) t.destroy();
    this.tensors.length = 0;
  }
}
