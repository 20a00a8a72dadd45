// Tensors larger than one binding: a row-major tensor split along its first dimension into shards that each fit
// bindingLimit(), and the linear layer over such a weight.
//
//   const w = RowShards.from(data, [vocab, hidden], "embed");    // one shard when it fits, else ceil(bytes / limit)
//   RowShards.from(data, shape, "embed", "f16")                  // stored in half precision (f32 in, f32 out on read)
//   RowShards.from(data, shape, "embed", "f16", "f32")           // f16, in the shards of an f32 tensor of that shape
//   w.whole()                                                    // the one tensor (throws, naming the limit, if sharded)
//   linear({ x, w, y })                                          // y = x·wᵀ: shard s writes columns [start, start+rows) of y
//   linearGradInput({ dy, w, dx })                               // dx (+)= dy·w = Σ_s dy[:, block s]·w_s
//   linearGradWeight({ dy, x, dw })                              // dw_s += dy[:, block s]ᵀ·x
//
// Shards hold a multiple of 4 rows (the last one the rest), so each column block starts on a vec4 boundary of the
// output and the matmul keeps its vector loads. HF weights are [out, in]: a row shard is a block of output features,
// so neither the forward nor the backward needs a gather: the matmul reads and writes column blocks in place.
import { bindingLimit } from "./device.ts";
import type { Dispatch } from "./kernel.ts";
import { columns, matmul, type MatmulVariant } from "./matmul.ts";
import { fromHalf, toHalf } from "./half.ts";
import { DTYPE_BYTES, elementCount, Tensor } from "./tensor.ts";

/** How a weight is stored on the device: f32, or f16 read by the matmul and embedding kernels (widened to f32). */
export const WEIGHT_DTYPES = ["f32", "f16"] as const;
export type WeightDtype = (typeof WEIGHT_DTYPES)[number];

export interface Shard {
  readonly tensor: Tensor;
  /** First row of the whole tensor that this shard holds. */
  readonly start: number;
  readonly rows: number;
}

/** Rows per shard for rows of `rowSize` elements under the binding limit: a multiple of 4 (or all rows when they fit). */
export function shardRows(rows: number, rowSize: number, limit = bindingLimit(), dtype: WeightDtype = "f32"): number {
  const rowBytes = DTYPE_BYTES[dtype] * rowSize;
  const fit = Math.floor((limit - (limit % 16)) / rowBytes); // buffers round up to 16 bytes
  if (fit >= rows) return rows;
  const aligned = fit - (fit % 4);
  if (aligned < 1) throw new Error(`a row of ${rowSize} ${dtype} (${rowBytes} bytes) does not fit 4 rows per binding of ${limit} bytes`);
  // As many shards as needed, as even as the 4-row grain allows.
  const count = Math.ceil(rows / aligned);
  return Math.min(aligned, Math.ceil(rows / count / 4) * 4);
}

export class RowShards {
  readonly shape: readonly number[];
  readonly label: string;
  readonly dtype: WeightDtype;
  readonly shards: readonly Shard[];

  private constructor(shape: readonly number[], label: string, dtype: WeightDtype, shards: Shard[]) {
    this.shape = Object.freeze([...shape]);
    this.label = label;
    this.dtype = dtype;
    this.shards = shards;
  }

  /**
   * Zero-filled, split under the binding limit (f16 rows are half the bytes, so twice as many fit a shard), or split
   * as `shardAs` would be: an f16 copy of an f32 master (shardAs "f32") then pairs with it shard for shard.
   */
  static zeros(shape: readonly number[], label: string, dtype: WeightDtype = "f32", shardAs: WeightDtype = dtype): RowShards {
    if (shape.length === 0) throw new Error(`RowShards ${label}: a scalar has no rows`);
    const [rows, ...rest] = shape;
    const rowSize = elementCount(rest);
    const per = shardRows(rows, rowSize, bindingLimit(), shardAs);
    const shards: Shard[] = [];
    for (let start = 0; start < rows || shards.length === 0; start += per) {
      const n = Math.min(per, rows - start);
      const name = per >= rows ? label : `${label} rows ${start}..${start + n - 1}`;
      shards.push({ tensor: Tensor.zeros([n, ...rest], dtype, name), start, rows: n });
    }
    return new RowShards(shape, label, dtype, shards);
  }

  /** `data` (f32) uploaded; an f16 weight is rounded to nearest even, and a value past the f16 range is an error. */
  static from(data: Float32Array, shape: readonly number[], label: string, dtype: WeightDtype = "f32", shardAs: WeightDtype = dtype): RowShards {
    const t = RowShards.zeros(shape, label, dtype, shardAs);
    t.write(data);
    return t;
  }

  /** One existing f32 or f16 tensor seen as a single shard (no copy). */
  static of(t: Tensor): RowShards {
    if (t.dtype !== "f32" && t.dtype !== "f16") throw new Error(`RowShards.of: ${t.describe()} is not a float tensor`);
    return new RowShards(t.shape, t.label, t.dtype, [{ tensor: t, start: 0, rows: t.shape[0] }]);
  }

  get size(): number {
    return elementCount(this.shape);
  }

  get rowSize(): number {
    return elementCount(this.shape.slice(1));
  }

  /** The single tensor; an op that cannot work shard by shard calls this, and a sharded weight is then an error. */
  whole(): Tensor {
    if (this.shards.length !== 1) {
      throw new Error(`${this.describe()} is split into ${this.shards.length} shards (binding limit ${bindingLimit()} bytes); this op needs it whole`);
    }
    return this.shards[0].tensor;
  }

  write(data: Float32Array): void {
    if (data.length !== this.size) throw new Error(`write to ${this.describe()}: got ${data.length} elements, expected ${this.size}`);
    for (const s of this.shards) {
      const part = data.subarray(s.start * this.rowSize, (s.start + s.rows) * this.rowSize);
      s.tensor.write(this.dtype === "f16" ? toHalf(part, s.tensor.label) : part);
    }
  }

  /** The whole tensor back on the host as f32 (an f16 weight widened exactly), shards in order. */
  async read(): Promise<Float32Array> {
    const out = new Float32Array(this.size);
    for (const s of this.shards) {
      const part = await s.tensor.read();
      out.set(part instanceof Uint16Array ? fromHalf(part) : (part as Float32Array), s.start * this.rowSize);
    }
    return out;
  }

  destroy(): void {
    for (const s of this.shards) s.tensor.destroy();
  }

  describe(): string {
    return `${this.label ? this.label + " " : ""}${this.dtype}[${this.shape.join(",")}]${this.shards.length > 1 ? ` in ${this.shards.length} row shards` : ""}`;
  }
}

function checkWeight(op: string, w: RowShards, inFeatures: number): void {
  if (w.shape.length !== 2 || w.shape[1] !== inFeatures) throw new Error(`${op}: weight ${w.describe()} must be [out, ${inFeatures}]`);
}

export interface LinearArgs {
  /** f32 [n, in]. */
  readonly x: Tensor;
  /** [out, in], HF's layout. */
  readonly w: RowShards;
  /** f32 [n, out]. */
  readonly y: Tensor;
  readonly accumulate?: boolean;
  /** The matmul variant (tests run both); the adapter's default otherwise. */
  readonly variant?: MatmulVariant;
}

/** y (+)= x·wᵀ, one matmul per shard into its block of y's columns. */
export function linear({ x, w, y, accumulate, variant }: LinearArgs): Dispatch[] {
  checkWeight("linear", w, x.shape[x.shape.length - 1]);
  if (w.shards.length === 1) return [matmul({ a: x, b: w.shards[0].tensor, c: y, transB: true, accumulate, variant })];
  return w.shards.map((s) => matmul({ a: x, b: s.tensor, c: columns(y, s.start, s.rows), transB: true, accumulate, variant }));
}

export interface LinearGradInputArgs {
  /** f32 [n, out]. */
  readonly dy: Tensor;
  readonly w: RowShards;
  /** f32 [n, in]. */
  readonly dx: Tensor;
  readonly accumulate?: boolean;
  readonly variant?: MatmulVariant;
}

/** dx (+)= dy·w: the first shard writes (or adds), the others add. */
export function linearGradInput({ dy, w, dx, accumulate = false, variant }: LinearGradInputArgs): Dispatch[] {
  checkWeight("linearGradInput", w, dx.shape[dx.shape.length - 1]);
  if (w.shards.length === 1) return [matmul({ a: dy, b: w.shards[0].tensor, c: dx, accumulate, variant })];
  return w.shards.map((s, i) => matmul({ a: columns(dy, s.start, s.rows), b: s.tensor, c: dx, accumulate: accumulate || i > 0, variant }));
}

export interface LinearGradWeightArgs {
  /** f32 [n, out]. */
  readonly dy: Tensor;
  /** f32 [n, in]. */
  readonly x: Tensor;
  /** [out, in], the weight's gradient (sharded as the weight). */
  readonly dw: RowShards;
  readonly accumulate?: boolean;
  readonly variant?: MatmulVariant;
}

/** dw (+)= dyᵀ·x, shard by shard. */
export function linearGradWeight({ dy, x, dw, accumulate, variant }: LinearGradWeightArgs): Dispatch[] {
  checkWeight("linearGradWeight", dw, x.shape[x.shape.length - 1]);
  if (dw.shards.length === 1) return [matmul({ a: dy, b: x, c: dw.shards[0].tensor, transA: true, accumulate, variant })];
  return dw.shards.map((s) => matmul({ a: columns(dy, s.start, s.rows), b: x, c: s.tensor, transA: true, accumulate, variant }));
}
