// Public API of kernels/: WGSL compute on Dawn for the policy's forward and backward passes.
//
//   await getGpu();                                       // once: the process-wide device (device.ts)
//   const x = Tensor.zeros([T, D]);                      // buffers allocated once, at model construction (tensor.ts)
//   const d = matmul({ a: x, b: w, c: y });              // an op = a function returning prepared Dispatch(es)
//   const step = new Step(); step.run(d, …); step.submit();   // one encoder, one pass, one submit per step (kernel.ts)
//   const loss = await lossTensor.read();                // reads only on request
//
// Conventions for every op: arguments are one object naming the tensors (inputs, then outputs); shapes and dtypes
// are checked when the dispatch is built, which is done once; `accumulate: true` adds into an output instead of
// overwriting it (gradients arriving from several consumers); each op file also exports a plain TS reference
// (`…Reference`) in float64. Knobs: see flags.ts.
export { bindingLimit, capBindingLimit, getGpu, requireGpu, requireShaderF16, type Gpu } from "./device.ts";
export { flags } from "./flags.ts";
export { Tensor, TensorSet, allocate, elementCount, DTYPE_BYTES, deviceMemory, resetDevicePeak, type Allocator, type DeviceMemory, type DType, type HostArray } from "./tensor.ts";
export { fromHalf, toHalf } from "./half.ts";
export {
  Dispatch,
  Step,
  run,
  finish,
  linearGrid,
  type Kernel,
  type ParamType,
  type BufferDecl,
  type Workgroups,
} from "./kernel.ts";
export * from "./matmul.ts";
export * from "./elementwise.ts";
export * from "./bias.ts";
export * from "./embedding.ts";
export * from "./rmsnorm.ts";
export * from "./rope.ts";
export * from "./gradnorm.ts";
export * from "./adamw.ts";
export * from "./attention.ts";
export * from "./loss.ts";
export * from "./entropy.ts";
export * from "./sample.ts";
export * from "./kvcache.ts";
export * from "./shards.ts";
export * from "./cast.ts";
