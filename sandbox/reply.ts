// Decoding what the driver writes to fd 1 at the end of a request into a Reply: the one place that reads the
// driver's reply frame (driver.py writes it).
import type { Captured } from "./capture.ts";
import { STATUSES, type Status } from "./protocol.ts";

/** What the driver replies, and what the worker posts back for a request: status, output text, the op's flag
 * (call: the two calls agreed), error text, and the plain-value encoding of the op's answer (sandbox/value); for a
 * `script` request also what the program printed, as the host captured it. */
export interface Reply {
  s: Status;
  o?: string;
  c?: boolean;
  e?: string;
  v?: Uint8Array;
  out?: Captured;
}

/** The driver's reply frame (null: it wrote none): b"AZR1", status index, flag (0, 1, 2 = absent), then output,
 *  error and value fields, each a u32 length (0xffffffff: absent) and its bytes. Anything else is a crash. */
export function decodeReply(b: Uint8Array | null): Reply {
  if (!b) return { s: "crash", e: "no reply from the driver" };
  const malformed: Reply = { s: "crash", e: "malformed reply from the driver" };
  const status = STATUSES[b[4]!];
  if (b.length < 6 || b[0] !== 0x41 || b[1] !== 0x5a || b[2] !== 0x52 || b[3] !== 0x31 || !status) return malformed;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let pos = 6;
  /** A u32-length field's bytes; undefined when absent (0xffffffff), null when it runs past the end. */
  const field = (): Uint8Array | undefined | null => {
    if (pos + 4 > b.length) return null;
    const len = dv.getUint32(pos, true);
    pos += 4;
    if (len === 0xffffffff) return undefined;
    if (pos + len > b.length) return null;
    pos += len;
    return b.subarray(pos - len, pos);
  };
  const output = field();
  const error = field();
  const value = field();
  if (output === null || error === null || value === null || pos !== b.length || b[5]! > 2) return malformed;
  const text = new TextDecoder();
  const reply: Reply = { s: status };
  if (output !== undefined) reply.o = text.decode(output);
  if (b[5] !== 2) reply.c = b[5] === 1;
  if (error !== undefined) reply.e = text.decode(error);
  if (value !== undefined) reply.v = value.slice();
  return reply;
}
