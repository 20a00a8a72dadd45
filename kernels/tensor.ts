// Tensors: a typed shape over one GPU storage buffer, allocated once and reused.
//
//   await getGpu();                                  // once per process, before any tensor
//   const x = Tensor.zeros([4, 8]);                  // f32 by default; Tensor.zeros([n], "u32") for token ids
//   const w = Tensor.from(new Float32Array(32), [8, 4]);
//   x.write(data); x.poison();                       // upload (length checked) / fill with NaN (tests)
//   const v = x.view([32]);                          // same buffer, new shape (same element count)
//   const host = await x.read();                     // the only way data comes back: explicit and awaited
//
// Costs: allocation is a device buffer (do it at model construction, not per step); write() is a queued copy that
// lands before the next submit; read() waits for all submitted work, then copies the buffer back (~1 ms per MB).
// Buffers are rounded up to 16 bytes so that kernels may bind them as arrays of vec4.
import { bindingLimit, requireGpu } from "./device.ts";

export type DType = "f32" | "u32" | "i32";
export type HostArray<D extends DType> = D extends "f32" ? Float32Array : D extends "u32" ? Uint32Array : Int32Array;

const ARRAY_TYPE = { f32: Float32Array, u32: Uint32Array, i32: Int32Array } as const;
/** NaN for floats; for ids an all-ones word, which no valid index or vocabulary id equals. */
const POISON_WORD = { f32: 0x7fc00000, u32: 0xffffffff, i32: 0xffffffff } as const;

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
    const bytes = Math.max(16, Math.ceil((size * 4) / 16) * 16);
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
    const typed = data instanceof ARRAY_TYPE[this.dtype] ? (data as HostArray<D>) : new ARRAY_TYPE[this.dtype](data);
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
    const bytes = this.size * 4;
    const staging = device.createBuffer({ size: Math.max(4, bytes), usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
    try {
      const encoder = device.createCommandEncoder();
      if (bytes > 0) encoder.copyBufferToBuffer(this.buffer, 0, staging, 0, Math.ceil(bytes / 4) * 4);
      device.queue.submit([encoder.finish()]);
      await staging.mapAsync(GPUMapMode.READ);
      const copy = staging.getMappedRange(0, bytes).slice(0);
      staging.unmap();
      return new ARRAY_TYPE[this.dtype](copy) as HostArray<D>;
    } finally {
      staging.destroy();
    }
  }

  /** Frees the buffer now (every view of it too). */
  destroy(): void {
    this.buffer.destroy();
  }

  /** `name f32[2,3]`, for error messages. */
  describe(): string {
    return `${this.label ? this.label + " " : ""}${this.dtype}[${this.shape.join(",")}]`;
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
