// A structural pre-check of one msgpack body, run before msgpackr decodes it: one linear pass over the bytes, no
// allocation per element, so a hostile frame (a map with a million keys, arrays nested ten thousand deep) is
// refused in about a millisecond per MiB instead of costing the server's thread a full decode. Pure.

export interface ShapeLimits {
  /** Most values in the body, containers and scalars alike (a map of n pairs holds 2n values plus itself). */
  maxElements: number;
  /** Most containers open at once. */
  maxDepth: number;
}

/** Defaults: a request is a flat object of strings plus at most a list of [input, output] pairs. */
export const DEFAULT_SHAPE: ShapeLimits = { maxElements: 65_536, maxDepth: 16 };

/** The msgpack timestamp extension (type -1) is the only extension a message may carry; msgpackr's own record and
 * structure extensions could make a small body expand into many objects, so they are refused. */
const TIMESTAMP_EXT = 0xff;

/** Why `body` is not one msgpack value within `limits`, or null when it is. */
export function msgpackShapeProblem(body: Uint8Array, limits: ShapeLimits = DEFAULT_SHAPE): string | null {
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const open: number[] = []; // values still to read in each open container
  let pos = 0;
  let elements = 0;
  let remaining = 1; // values still to read at the current level (the root: one)
  while (remaining > 0 || open.length > 0) {
    if (remaining === 0) {
      remaining = open.pop()!;
      continue;
    }
    if (pos >= body.length) return "truncated msgpack value";
    if (++elements > limits.maxElements) return `more than ${limits.maxElements} msgpack values`;
    remaining--;
    const b = body[pos]!;
    const [kind, size] = TABLE[b]!;
    if (kind === Kind.None) return `byte 0x${b.toString(16)} at ${pos} starts no msgpack value`;
    // the header's fixed part: the first byte, any length or count field, an ext type byte
    const field = kind === Kind.Sized || kind === Kind.Ext || kind === Kind.Array || kind === Kind.Map ? size : 0;
    const fixedEnd = pos + 1 + field + (kind === Kind.Ext || kind === Kind.FixExt ? 1 : 0);
    if (fixedEnd > body.length) return "truncated msgpack value";
    const counted = field > 0 ? uint(dv, pos + 1, field) : size; // payload bytes, or the container's item count
    if ((kind === Kind.Ext || kind === Kind.FixExt) && body[fixedEnd - 1] !== TIMESTAMP_EXT) {
      return `msgpack extension type ${body[fixedEnd - 1]} is not accepted`;
    }
    const isMap = kind === Kind.Map || kind === Kind.FixMap;
    const children = isMap ? 2 * counted : kind === Kind.Array || kind === Kind.FixArray ? counted : 0;
    pos = fixedEnd + (kind >= Kind.Array ? 0 : counted);
    if (pos > body.length) return "truncated msgpack value";
    if (children > 0) {
      if (children > body.length - pos) return `a container declares ${children} values in ${body.length - pos} bytes`;
      if (open.length + 1 > limits.maxDepth) return `msgpack nesting deeper than ${limits.maxDepth}`;
      open.push(remaining);
      remaining = children;
    }
  }
  return pos === body.length ? null : `${body.length - pos} bytes after the msgpack value`;
}

/** Kinds of value header, by first byte (0xc1: none). The containers come last (`kind >= Kind.Array`). */
const enum Kind {
  None,
  Scalar, // payload of `size` bytes follows
  Sized, // a big-endian length of `size` bytes, then that many payload bytes (str, bin)
  Ext, // a length of `size` bytes, a type byte, then the payload
  FixExt, // a type byte, then `size` payload bytes
  Array, // a count of `size` bytes, then that many values
  Map, // a count of `size` bytes, then twice that many values
  FixArray, // `size` values follow
  FixMap, // 2 × `size` values follow
}

/** [kind, size] per first byte, built once. Fixint, fixstr, fixarray and fixmap carry their size in the byte. */
const TABLE: ReadonlyArray<readonly [Kind, number]> = Array.from({ length: 256 }, (_, b): readonly [Kind, number] => {
  if (b <= 0x7f || b >= 0xe0) return [Kind.Scalar, 0];
  if (b <= 0x8f) return [Kind.FixMap, b & 0x0f];
  if (b <= 0x9f) return [Kind.FixArray, b & 0x0f];
  if (b <= 0xbf) return [Kind.Scalar, b & 0x1f];
  const fixed: Record<number, readonly [Kind, number]> = {
    0xc0: [Kind.Scalar, 0], 0xc2: [Kind.Scalar, 0], 0xc3: [Kind.Scalar, 0], // nil, false, true
    0xc4: [Kind.Sized, 1], 0xc5: [Kind.Sized, 2], 0xc6: [Kind.Sized, 4], // bin
    0xc7: [Kind.Ext, 1], 0xc8: [Kind.Ext, 2], 0xc9: [Kind.Ext, 4],
    0xca: [Kind.Scalar, 4], 0xcb: [Kind.Scalar, 8], // float
    0xcc: [Kind.Scalar, 1], 0xcd: [Kind.Scalar, 2], 0xce: [Kind.Scalar, 4], 0xcf: [Kind.Scalar, 8], // uint
    0xd0: [Kind.Scalar, 1], 0xd1: [Kind.Scalar, 2], 0xd2: [Kind.Scalar, 4], 0xd3: [Kind.Scalar, 8], // int
    0xd4: [Kind.FixExt, 1], 0xd5: [Kind.FixExt, 2], 0xd6: [Kind.FixExt, 4], 0xd7: [Kind.FixExt, 8],
    0xd8: [Kind.FixExt, 16],
    0xd9: [Kind.Sized, 1], 0xda: [Kind.Sized, 2], 0xdb: [Kind.Sized, 4], // str
    0xdc: [Kind.Array, 2], 0xdd: [Kind.Array, 4], 0xde: [Kind.Map, 2], 0xdf: [Kind.Map, 4],
  };
  return fixed[b] ?? [Kind.None, 0];
});

/** The big-endian unsigned integer of `n` (1, 2 or 4) bytes at `pos`. */
function uint(dv: DataView, pos: number, n: number): number {
  return n === 1 ? dv.getUint8(pos) : n === 2 ? dv.getUint16(pos) : dv.getUint32(pos);
}
