// Frames for the RPC byte streams (TCP or stdio): a 4-byte big-endian body length, then a msgpack body.
// Pure and allocation-light; a FrameReader lives as long as its connection.
import { pack, unpack } from "msgpackr";

/** Largest body accepted by default: a request is at most a few MiB of program text. */
export const MAX_FRAME_BYTES = 16 << 20;

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
 * Splits a byte stream into frames. `push` returns the frames completed by the chunk. A length above the cap is
 * fatal for the stream (its bytes cannot be trusted to resynchronise): `push` then throws.
 */
export class FrameReader {
  private buf: Uint8Array = new Uint8Array(0);

  constructor(private readonly maxBytes = MAX_FRAME_BYTES) {}

  push(chunk: Uint8Array): Frame[] {
    this.buf = this.buf.length === 0 ? chunk : concat(this.buf, chunk);
    const frames: Frame[] = [];
    let at = 0;
    while (this.buf.length - at >= 4) {
      const n = new DataView(this.buf.buffer, this.buf.byteOffset + at, 4).getUint32(0);
      if (n > this.maxBytes) throw new Error(`frame of ${n} bytes exceeds the ${this.maxBytes}-byte limit`);
      if (this.buf.length - at - 4 < n) break;
      frames.push(decode(this.buf.subarray(at + 4, at + 4 + n)));
      at += 4 + n;
    }
    this.buf = this.buf.subarray(at);
    return frames;
  }

  /** Bytes of an incomplete frame still waiting (non-zero at end of stream = a truncated frame). */
  get pending(): number {
    return this.buf.length;
  }
}

function decode(body: Uint8Array): Frame {
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
