// Safetensors files (single or sharded by model.safetensors.index.json): read as f32, written as f32/bf16/f16.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { f32ToHalf, halfToF32 } from "../../kernels/half.ts";
import { writeAtomic } from "../write-atomic.ts";

export type DiskDtype = "F32" | "BF16" | "F16";
export interface NamedTensor {
  shape: number[];
  data: Float32Array;
}
export type TensorMap = Map<string, NamedTensor>;

export const SINGLE_FILE = "model.safetensors";
export const INDEX_FILE = "model.safetensors.index.json";

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

const WIDTH: Record<DiskDtype, number> = { F32: 4, BF16: 2, F16: 2 };

function decode(entry: HeaderEntry, bytes: Uint8Array, name: string, file: string): Float32Array {
  const count = entry.shape.reduce((a, b) => a * b, 1);
  const width = WIDTH[entry.dtype as DiskDtype];
  if (width === undefined) throw new Error(`${file}: tensor "${name}" has unsupported dtype ${entry.dtype} (F32, BF16, F16)`);
  if (bytes.length !== count * width) {
    throw new Error(`${file}: tensor "${name}" holds ${bytes.length} bytes, shape ${JSON.stringify(entry.shape)} needs ${count * width}`);
  }
  const copy = new Uint8Array(bytes); // its own aligned buffer (Buffer.slice would be a view of the whole file)
  if (entry.dtype === "F32") return new Float32Array(copy.buffer);
  const halves = new Uint16Array(copy.buffer);
  const out = new Float32Array(count);
  if (entry.dtype === "BF16") {
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < count; i++) bits[i] = halves[i]! << 16;
  } else {
    for (let i = 0; i < count; i++) out[i] = halfToF32(halves[i]!);
  }
  return out;
}

/** One safetensors file: its tensors (as f32) and its `__metadata__` strings. */
export interface SafetensorsFile {
  tensors: TensorMap;
  metadata: Record<string, string>;
}

function isEntry(e: unknown): e is HeaderEntry {
  const x = e as HeaderEntry;
  return typeof x === "object" && x !== null && typeof x.dtype === "string" && Array.isArray(x.shape) && x.shape.every(Number.isInteger) &&
    Array.isArray(x.data_offsets) && x.data_offsets.length === 2 && x.data_offsets.every(Number.isInteger) && x.data_offsets[0] <= x.data_offsets[1];
}

/** Reads one safetensors file, naming the file and what is wrong when it is not one. */
export function readSafetensors(path: string): SafetensorsFile {
  const buf = readFileSync(path);
  if (buf.length < 8) throw new Error(`${path}: shorter than the 8-byte header length`);
  const headerLen = Number(buf.readBigUInt64LE(0));
  if (headerLen > buf.length - 8) throw new Error(`${path}: header length ${headerLen} runs past the end of the file`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(buf.subarray(8, 8 + headerLen).toString("utf8"));
  } catch (e) {
    throw new Error(`${path}: header is not JSON (${(e as Error).message})`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) throw new Error(`${path}: header is not a JSON object`);
  const base = 8 + headerLen;
  const tensors: TensorMap = new Map();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") {
      if (typeof entry !== "object" || entry === null || !Object.values(entry).every((v) => typeof v === "string")) {
        throw new Error(`${path}: __metadata__ is not an object of strings`);
      }
      metadata = entry as Record<string, string>;
      continue;
    }
    if (!isEntry(entry)) throw new Error(`${path}: header entry "${name}" is not a tensor ({dtype, shape, data_offsets})`);
    const [start, end] = entry.data_offsets;
    if (base + end > buf.length) throw new Error(`${path}: tensor "${name}" runs past the end of the file`);
    tensors.set(name, { shape: entry.shape, data: decode(entry, buf.subarray(base + start, base + end), name, path) });
  }
  return { tensors, metadata };
}

function readFile(path: string, into: TensorMap): void {
  for (const [name, t] of readSafetensors(path).tensors) into.set(name, t);
}

/** All tensors of a checkpoint directory, converted to f32. */
export function readSafetensorsDir(dir: string): TensorMap {
  const tensors: TensorMap = new Map();
  const indexPath = join(dir, INDEX_FILE);
  if (existsSync(indexPath)) {
    const index = JSON.parse(readFileSync(indexPath, "utf8")) as { weight_map: Record<string, string> };
    for (const shard of new Set(Object.values(index.weight_map))) readFile(join(dir, shard), tensors);
    return tensors;
  }
  const single = join(dir, SINGLE_FILE);
  if (!existsSync(single)) throw new Error(`no ${SINGLE_FILE} or ${INDEX_FILE} in ${dir}`);
  readFile(single, tensors);
  return tensors;
}

function encode(data: Float32Array, dtype: DiskDtype): Uint8Array {
  if (dtype === "F32") return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint16Array(data.length);
  if (dtype === "BF16") {
    const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
    for (let i = 0; i < data.length; i++) {
      const b = bits[i]!;
      out[i] = (b + 0x7fff + ((b >>> 16) & 1)) >>> 16; // round to nearest even, as torch does
    }
  } else {
    for (let i = 0; i < data.length; i++) out[i] = f32ToHalf(data[i]!);
  }
  return new Uint8Array(out.buffer);
}

/** Writes one safetensors file atomically (tmp + rename), tensors in name order, header padded to 8 bytes;
 * `metadata` is the header's `__metadata__` (string values, as the format requires). */
export function writeSafetensors(path: string, tensors: TensorMap, dtype: DiskDtype, metadata: Record<string, string> = { format: "pt" }): void {
  const names = [...tensors.keys()].sort();
  const blobs = names.map((n) => encode(tensors.get(n)!.data, dtype));
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  names.forEach((name, i) => {
    header[name] = { dtype, shape: tensors.get(name)!.shape, data_offsets: [offset, offset + blobs[i]!.length] };
    offset += blobs[i]!.length;
  });
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (json.length % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const blob of blobs) {
    out.set(blob, at);
    at += blob.length;
  }
  writeAtomic(path, out);
}
