// Tensors: a typed shape over one GPU storage buffer, allocated once and reused.
//
//   await getGpu();                                  // once per process, before any tensor
//   const x = Tensor.zeros([4, 8]);                  // f32 by default; Tensor.zeros([n], "u32") for token ids
//   const h = Tensor.from(toHalf(data, "w"), [8, 4], "f16");   // half precision: the host side is the f16 bits (half.ts)
//   const w = Tensor.from(new Float32Array(32), [8, 4]);
//   x.write(data); x.poison();                       // upload (length checked) / fill with NaN (tests)
//   const v = x.view([32]);                          // same buffer, new shape (same element count)
//   const host = await x.read();                     // the only way data comes back: explicit and awaited
//   deviceMemory(); resetDevicePeak();               // bytes the live tensors hold now / at most since the reset
//
// Costs: allocation is a device buffer (do it at model construction, not per step); write() is a queued copy that
// lands before the next submit; read() waits for all submitted work, then copies the buffer back (~1 ms per MB).
// Buffers are rounded up to 16 bytes so that kernels may bind them as arrays of vec4.
import { bindingLimit, requireGpu } from "./device.ts";

/** Element types; "f16" (2 bytes) needs the adapter's `shader-f16` feature to be bound (see device.ts). */
export type DType = "f32" | "u32" | "i32" | "f16";
export type HostArray<D extends DType> = D extends "f32"
  ? Float32Array
  : D extends "u32"
    ? Uint32Array
    : D extends "i32"
      ? Int32Array
      : Uint16Array;

const ARRAY_TYPE = { f32: Float32Array, u32: Uint32Array, i32: Int32Array, f16: Uint16Array } as const;
/** Bytes per element. */
export const DTYPE_BYTES: Record<DType, number> = { f32: 4, u32: 4, i32: 4, f16: 2 };
/** NaN for floats (two f16 NaNs per word); for ids an all-ones word, which no valid index or vocabulary id equals. */
const POISON_WORD = { f32: 0x7fc00000, u32: 0xffffffff, i32: 0xffffffff, f16: 0x7e007e00 } as const;

/** Bytes rounded up to whole 4-byte words (buffer copies and writes move words). */
const words = (bytes: number) => Math.ceil(bytes / 4) * 4;

/** Storage bytes of every tensor buffer not yet destroyed, keyed by buffer (views share one), and their high-water
 *  mark: what an adapter must hold for a workload (read-back staging and uniforms, a few KiB, are left out). */
const liveBuffers = new Map<GPUBuffer, number>();
let liveBytes = 0;
let peakBytes = 0;

export interface DeviceMemory {
  liveBytes: number;
  peakBytes: number;
}

export function deviceMemory(): DeviceMemory {
  return { liveBytes, peakBytes };
}

/** Starts a new high-water mark from what is live now. */
export function resetDevicePeak(): void {
  peakBytes = liveBytes;
}

/** Where an op that needs scratch tensors gets them: `Tensor.zeros` by default, or an owner that frees them with what
 *  it owns (a graph's arena, an optimizer), so that dropping the owner drops the scratch. */
export type Allocator = <D extends DType>(shape: readonly number[], dtype: D, label: string) => Tensor<D>;

export const allocate: Allocator = (shape, dtype, label) => Tensor.zeros(shape, dtype, label);

export class Tensor<D extends DType = DType> {
  readonly shape: readonly number[];
  readonly dtype: D;
  /** Number of elements. */
  readonly size: number;
  readonly buffer: GPUBuffer;
  readonly label: string;

  private constructor(shape: readonly number[], dtype: D, buffer: GPUBuffer, label: string) {
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.size = elementCount(shape);
    this.buffer = buffer;
    this.label = label;
  }

  static zeros(shape: readonly number[]): Tensor<"f32">;
  static zeros<D extends DType>(shape: readonly number[], dtype: D, label?: string): Tensor<D>;
  static zeros(shape: readonly number[], dtype: DType = "f32", label = ""): Tensor {
    const size = elementCount(shape);
    const { device } = requireGpu();
    const bytes = Math.max(16, Math.ceil((size * DTYPE_BYTES[dtype]) / 16) * 16);
    if (bytes > bindingLimit()) {
      throw new Error(
        `tensor ${label || ""}[${shape}] needs ${bytes} bytes, over this adapter's binding limit ${bindingLimit()} ` +
          "(maxStorageBufferBindingSize / maxBufferSize / AZR_MAX_BINDING); split it into row shards (RowShards) or use a smaller batch",
      );
    }
    const buffer = device.createBuffer({
      label: label || `tensor[${shape}]`,
      size: bytes,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    liveBuffers.set(buffer, bytes);
    liveBytes += bytes;
    peakBytes = Math.max(peakBytes, liveBytes);
    return new Tensor(shape, dtype, buffer, label);
  }

  static from(data: Float32Array | readonly number[], shape: readonly number[], dtype?: "f32", label?: string): Tensor<"f32">;
  static from<D extends DType>(data: HostArray<D> | readonly number[], shape: readonly number[], dtype: D, label?: string): Tensor<D>;
  static from(data: ArrayLike<number>, shape: readonly number[], dtype: DType = "f32", label = ""): Tensor {
    const t = Tensor.zeros(shape, dtype, label);
    t.write(data as HostArray<DType>);
    return t;
  }

  /** Same buffer seen with another shape of the same element count (no copy). */
  view(shape: readonly number[]): Tensor<D> {
    if (elementCount(shape) !== this.size) {
      throw new Error(`cannot view ${this.describe()} as [${shape}]: ${elementCount(shape)} elements, not ${this.size}`);
    }
    return new Tensor(shape, this.dtype, this.buffer, this.label);
  }

  /** Uploads `data` (exactly `size` elements); ordered before the next submitted step. */
  write(data: HostArray<D> | readonly number[]): void {
    if (data.length !== this.size) {
      throw new Error(`write to ${this.describe()}: got ${data.length} elements, expected ${this.size}`);
    }
    let typed: ArrayBufferView = data instanceof ARRAY_TYPE[this.dtype] ? (data as HostArray<D>) : new ARRAY_TYPE[this.dtype](data);
    if (typed.byteLength % 4 !== 0) {
      // An odd number of f16: writeBuffer moves whole words.
      const padded = new Uint8Array(words(typed.byteLength));
      padded.set(new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength));
      typed = padded;
    }
    requireGpu().device.queue.writeBuffer(this.buffer, 0, typed.buffer, typed.byteOffset, typed.byteLength);
  }

  /** Fills the whole buffer with NaN (or all-ones words for ids), so that any element a kernel fails to write shows. */
  poison(): void {
    const words = new Uint32Array(this.buffer.size / 4).fill(POISON_WORD[this.dtype]);
    requireGpu().device.queue.writeBuffer(this.buffer, 0, words);
  }

  /** Copies the tensor back to the host after all work submitted so far. */
  async read(): Promise<HostArray<D>> {
    const { device } = requireGpu();
    const bytes = this.size * DTYPE_BYTES[this.dtype];
    const staging = device.createBuffer({ size: Math.max(4, words(bytes)), usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
    try {
      const encoder = device.createCommandEncoder();
      if (bytes > 0) encoder.copyBufferToBuffer(this.buffer, 0, staging, 0, words(bytes));
      device.queue.submit([encoder.finish()]);
      await staging.mapAsync(GPUMapMode.READ);
      const copy = staging.getMappedRange(0, words(bytes)).slice(0, bytes);
      staging.unmap();
      return new ARRAY_TYPE[this.dtype](copy) as HostArray<D>;
    } finally {
      staging.destroy();
    }
  }

  /** Frees the buffer now (every view of it too). */
  destroy(): void {
    liveBytes -= liveBuffers.get(this.buffer) ?? 0;
    liveBuffers.delete(this.buffer);
    this.buffer.destroy();
  }

  /** `name f32[2,3]`, for error messages. */
  describe(): string {
    return `${this.label ? this.label + " " : ""}${this.dtype}[${this.shape.join(",")}]`;
  }
}

/** Tensors allocated for one owner (a graph's arena, an optimizer) through its `alloc`, freed together by destroy(). */
export class TensorSet {
  private readonly tensors: Tensor[] = [];

  readonly alloc: Allocator = (shape, dtype, label) => {
    const t = Tensor.zeros(shape, dtype, label);
    this.tensors.push(t);
    return t;
  };

  destroy(): void {
    for (const t of this.tensors) t.destroy();
    this.tensors.length = 0;
  }
}

export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`bad shape [${shape}]: dimensions must be integers >= 0`);
    n *= d;
  }
  return n;
}
