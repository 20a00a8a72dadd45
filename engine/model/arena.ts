// Device tensors allocated for one graph shape and freed together when the graph is dropped; `alloc` serves the ops
// that allocate scratch of their own (embedding backward), so it goes with the arena too.
import { type Tensor, TensorSet } from "../../kernels/index.ts";

export class Arena extends TensorSet {
  f32(shape: readonly number[], label: string): Tensor<"f32"> {
    return this.alloc(shape, "f32", label);
  }

  u32(shape: readonly number[], label: string): Tensor<"u32"> {
    return this.alloc(shape, "u32", label);
  }
}
