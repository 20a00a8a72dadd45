// Frames for the RPC byte streams (TCP or stdio): a 4-byte big-endian body length, then a msgpack body.
// Pure and allocation-light; a FrameReader lives as long as its connection. A body is checked for its shape
// (msgpack-shape.ts: value count, nesting) before msgpackr decodes it, so no frame costs more than a linear scan
// unless it is an ordinary message.
import { pack, unpack } from "msgpackr";
import { DEFAULT_SHAPE, msgpackShapeProblem, type ShapeLimits } from "./msgpack-shape.ts";

/** Largest body a FrameReader accepts by default (the client reading answers); the server caps requests lower. */
const MAX_FRAME_BYTES = 16 << 20;

export function encodeFrame(value: unknown): Uint8Array {
  const body = pack(value);
  const frame = new Uint8Array(4 + body.length);
  new DataView(frame.buffer).setUint32(0, body.length);
  frame.set(body, 4);
  return frame;
}

/** A frame that arrived whole: its decoded value, or why it could not be decoded. */
export type Frame = { value: unknown } | { problem: string };

/**
 * Splits a byte stream into frames. `append` adds bytes, `take` returns the next whole frame (or null until one has
 * arrived), so a reader that stops taking leaves the rest undecoded; `push` does both for every frame completed. A
 * length above the cap is fatal for the stream (its bytes cannot be trusted to resynchronise): `take` then throws.
 */
export class FrameReader {
  private buf: Uint8Array = new Uint8Array(0);

  constructor(
    private readonly maxBytes = MAX_FRAME_BYTES,
    private readonly shape: ShapeLimits = DEFAULT_SHAPE,
  ) {}

  append(chunk: Uint8Array): void {
    this.buf = this.buf.length === 0 ? chunk : concat(this.buf, chunk);
  }

  take(): Frame | null {
    if (this.buf.length < 4) return null;
    const n = new DataView(this.buf.buffer, this.buf.byteOffset, 4).getUint32(0);
    if (n > this.maxBytes) throw new Error(`frame of ${n} bytes exceeds the ${this.maxBytes}-byte limit`);
    if (this.buf.length - 4 < n) return null;
    const body = this.buf.subarray(4, 4 + n);
    this.buf = this.buf.subarray(4 + n);
    return decodeBody(body, this.shape);
  }

  push(chunk: Uint8Array): Frame[] {
    this.append(chunk);
    const frames: Frame[] = [];
    for (let f = this.take(); f !== null; f = this.take()) frames.push(f);
    return frames;
  }

  /** Bytes not yet taken (non-zero at end of stream = a truncated frame). */
  get pending(): number {
    return this.buf.length;
  }
}

/** One msgpack body: shape-checked (msgpack-shape.ts), then decoded. */
export function decodeBody(body: Uint8Array, shape: ShapeLimits = DEFAULT_SHAPE): Frame {
  const problem = msgpackShapeProblem(body, shape);
  if (problem) return { problem };
  try {
    return { value: unpack(body) };
  } catch (e) {
    return { problem: `not msgpack: ${(e as Error).message}` };
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
