// The plain-value byte format, version 1 (one value, big-endian lengths), host side. `plain.py` is the guest side.
//   N None · T/F bool · i int (ASCII decimal, optional '-', then ';') · f float (8 bytes binary64)
//   c complex (8 + 8 bytes) · s str (u32 length, UTF-8 with surrogatepass) · b bytes (u32 length, bytes)
//   l/t list/tuple, S/Z set/frozenset (u32 count, values) · d dict (u32 count, count × key value)
// The decoder is strict: anything the guest's encoder cannot produce honestly is a DecodeError, never a value.

import { firstDuplicate, UnhashableError } from "./equal.ts";
import { LIMITS, type PyValue } from "./types.ts";

export type DecodeFault =
  | "truncated" // the bytes end inside a value
  | "trailing" // bytes after the value
  | "tag" // an unknown tag byte
  | "length" // a length or count past the end of the bytes
  | "int" // an int that is not canonical decimal, or longer than LIMITS.intDigits
  | "utf8" // a str that is not UTF-8 (surrogates allowed), or one JS cannot hold (see types.ts)
  | "depth" // containers nested deeper than LIMITS.depth
  | "size" // more than LIMITS.values values or LIMITS.bytes bytes
  | "duplicate" // a set or frozenset with two equal members, or a dict with two equal keys
  | "unhashable"; // a list, set or dict as a set member or dict key

export class DecodeError extends Error {
  constructor(
    readonly fault: DecodeFault,
    readonly offset: number,
    detail: string,
  ) {
    super(`plain value: ${fault} at byte ${offset}: ${detail}`);
    this.name = "DecodeError";
  }
}

export class EncodeError extends Error {
  constructor(detail: string) {
    super(`plain value: ${detail}`);
    this.name = "EncodeError";
  }
}

const TAG = {
  None: 0x4e, // N
  True: 0x54, // T
  False: 0x46, // F
  int: 0x69, // i
  float: 0x66, // f
  complex: 0x63, // c
  str: 0x73, // s
  bytes: 0x62, // b
  list: 0x6c, // l
  tuple: 0x74, // t
  set: 0x53, // S
  frozenset: 0x5a, // Z
  dict: 0x64, // d
} as const;
const SEMICOLON = 0x3b;
const MINUS = 0x2d;

// ---------------------------------------------------------------------------------------------------------------
// decode

/** Decodes one value that must span all of `bytes`. Throws `DecodeError` for anything malformed or over the caps. */
export function decodeValue(bytes: Uint8Array): PyValue {
  if (bytes.length > LIMITS.bytes) throw new DecodeError("size", 0, `${bytes.length} bytes > ${LIMITS.bytes}`);
  const r = new Reader(bytes);
  const v = r.value(0);
  if (r.pos !== bytes.length) throw new DecodeError("trailing", r.pos, `${bytes.length - r.pos} bytes after the value`);
  return v;
}

class Reader {
  pos = 0;
  private values = 0;
  private readonly view: DataView;
  constructor(private readonly b: Uint8Array) {
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }

  value(depth: number): PyValue {
    const at = this.pos;
    if (at >= this.b.length) throw new DecodeError("truncated", at, "a value was expected");
    if (++this.values > LIMITS.values) throw new DecodeError("size", at, `more than ${LIMITS.values} values`);
    const tag = this.b[this.pos++];
    switch (tag) {
      case TAG.None:
        return null;
      case TAG.True:
        return true;
      case TAG.False:
        return false;
      case TAG.int:
        return this.int(at);
      case TAG.float:
        return this.float();
      case TAG.complex:
        return { kind: "complex", re: this.float(), im: this.float() };
      case TAG.str:
        return decodeUtf8(this.bytes(), this.pos - 0);
      case TAG.bytes:
        return this.bytes().slice();
      case TAG.list:
        return { kind: "list", items: this.items(at, depth) };
      case TAG.tuple:
        return { kind: "tuple", items: this.items(at, depth) };
      case TAG.set:
        return { kind: "set", items: this.members(at, depth) };
      case TAG.frozenset:
        return { kind: "frozenset", items: this.members(at, depth) };
      case TAG.dict:
        return { kind: "dict", entries: this.entries(at, depth) };
    }
    throw new DecodeError("tag", at, `unknown tag 0x${tag.toString(16).padStart(2, "0")}`);
  }

  private need(n: number): void {
    if (this.b.length - this.pos < n) throw new DecodeError("truncated", this.pos, `${n} more bytes were expected`);
  }

  private u32(): number {
    this.need(4);
    const n = this.view.getUint32(this.pos);
    this.pos += 4;
    return n;
  }

  private float(): number {
    this.need(8);
    const f = this.view.getFloat64(this.pos);
    this.pos += 8;
    return f;
  }

  private bytes(): Uint8Array {
    const n = this.u32();
    if (n > this.b.length - this.pos) throw new DecodeError("length", this.pos - 4, `length ${n} runs past the end`);
    const s = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  private int(at: number): bigint {
    const b = this.b;
    const start = this.pos;
    const end = b.indexOf(SEMICOLON, start);
    if (end < 0) throw new DecodeError("truncated", at, "an int without its ';'");
    const digits0 = b[start] === MINUS ? start + 1 : start;
    const n = end - digits0;
    if (n === 0 || n > LIMITS.intDigits) throw new DecodeError("int", at, `${n} digits`);
    for (let i = digits0; i < end; i++) {
      if (b[i] < 0x30 || b[i] > 0x39) throw new DecodeError("int", i, "not a decimal digit");
    }
    if (b[digits0] === 0x30 && (n > 1 || digits0 > start)) throw new DecodeError("int", at, "not canonical");
    this.pos = end + 1;
    if (n <= 15) {
      let x = 0;
      for (let i = digits0; i < end; i++) x = x * 10 + (b[i] - 0x30);
      return BigInt(digits0 > start ? -x : x);
    }
    return BigInt(String.fromCharCode(...b.subarray(start, end)));
  }

  private count(at: number, depth: number, perItem: number): number {
    if (depth >= LIMITS.depth) throw new DecodeError("depth", at, `containers nested deeper than ${LIMITS.depth}`);
    const n = this.u32();
    // every value takes at least one byte, so a count the rest cannot hold is malformed before anything is allocated
    if (n * perItem > this.b.length - this.pos) throw new DecodeError("length", at, `count ${n} runs past the end`);
    return n;
  }

  private items(at: number, depth: number): PyValue[] {
    const n = this.count(at, depth, 1);
    const items = new Array<PyValue>(n);
    for (let i = 0; i < n; i++) items[i] = this.value(depth + 1);
    return items;
  }

  private members(at: number, depth: number): PyValue[] {
    const items = this.items(at, depth);
    checkUnique(items, at, "member");
    return items;
  }

  private entries(at: number, depth: number): [PyValue, PyValue][] {
    const n = this.count(at, depth, 2);
    const entries = new Array<[PyValue, PyValue]>(n);
    const keys = new Array<PyValue>(n);
    for (let i = 0; i < n; i++) {
      const k = this.value(depth + 1);
      keys[i] = k;
      entries[i] = [k, this.value(depth + 1)];
    }
    checkUnique(keys, at, "key");
    return entries;
  }
}

function checkUnique(members: readonly PyValue[], at: number, what: string): void {
  let dup: number;
  try {
    dup = firstDuplicate(members);
  } catch (e) {
    if (e instanceof UnhashableError) throw new DecodeError("unhashable", at, `${e.typeName} as a ${what}`);
    throw e;
  }
  if (dup >= 0) throw new DecodeError("duplicate", at, `${what} ${dup} equals an earlier one`);
}

/** UTF-8 with surrogatepass → JS string; strict (no overlongs, nothing past U+10FFFF, no truncated sequences). */
function decodeUtf8(b: Uint8Array, end: number): string {
  const at = end - b.length;
  let ascii = true;
  for (let i = 0; i < b.length; i++) {
    if (b[i] >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) {
    if (b.length > 64) return b.length <= 8192 ? String.fromCharCode(...b) : chunked(b);
    let s = "";
    for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
    return s;
  }
  const units: number[] = [];
  let lastLone = false; // the previous code point was a lone high surrogate
  for (let i = 0; i < b.length; ) {
    const c = b[i];
    let cp: number;
    let n: number;
    if (c < 0x80) {
      cp = c;
      n = 1;
    } else if (c >= 0xc2 && c <= 0xdf) {
      cp = c & 0x1f;
      n = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      cp = c & 0x0f;
      n = 3;
    } else if (c >= 0xf0 && c <= 0xf4) {
      cp = c & 0x07;
      n = 4;
    } else throw new DecodeError("utf8", at + i, `byte 0x${c.toString(16)}`);
    if (i + n > b.length) throw new DecodeError("utf8", at + i, "a truncated sequence");
    for (let k = 1; k < n; k++) {
      const d = b[i + k];
      if ((d & 0xc0) !== 0x80) throw new DecodeError("utf8", at + i + k, "a bad continuation byte");
      cp = (cp << 6) | (d & 0x3f);
    }
    if ((n === 3 && cp < 0x800) || (n === 4 && (cp < 0x10000 || cp > 0x10ffff))) {
      throw new DecodeError("utf8", at + i, "an overlong or out-of-range sequence");
    }
    if (cp >= 0xdc00 && cp <= 0xdfff && lastLone) {
      throw new DecodeError("utf8", at + i, "a lone high surrogate followed by a lone low one (not representable)");
    }
    lastLone = cp >= 0xd800 && cp <= 0xdbff;
    if (cp >= 0x10000) units.push(0xd800 + ((cp - 0x10000) >> 10), 0xdc00 + ((cp - 0x10000) & 0x3ff));
    else units.push(cp);
    i += n;
  }
  return units.length <= 8192 ? String.fromCharCode(...units) : chunked(units);
}

function chunked(units: ArrayLike<number> & { slice(a: number, b: number): ArrayLike<number> }): string {
  let s = "";
  for (let i = 0; i < units.length; i += 8192) s += String.fromCharCode(...(units.slice(i, i + 8192) as number[]));
  return s;
}

// ---------------------------------------------------------------------------------------------------------------
// encode

/** The canonical encoding of `value`. Throws `EncodeError` past the caps or for a malformed value. */
export function encodeValue(value: PyValue): Uint8Array {
  const w = new Writer();
  w.value(value, 0);
  return w.done();
}

class Writer {
  private buf = new Uint8Array(64);
  private view = new DataView(this.buf.buffer);
  private len = 0;
  private values = 0;

  done(): Uint8Array {
    return this.buf.slice(0, this.len);
  }

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    if (this.len + n > LIMITS.bytes) throw new EncodeError(`more than ${LIMITS.bytes} bytes`);
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  private byte(b: number): void {
    this.room(1);
    this.buf[this.len++] = b;
  }

  private u32(n: number): void {
    this.room(4);
    this.view.setUint32(this.len, n);
    this.len += 4;
  }

  private f64(f: number): void {
    this.room(8);
    this.view.setFloat64(this.len, f);
    this.len += 8;
  }

  private raw(b: Uint8Array): void {
    this.u32(b.length);
    this.room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  value(v: PyValue, depth: number): void {
    if (++this.values > LIMITS.values) throw new EncodeError(`more than ${LIMITS.values} values`);
    if (v === null) return this.byte(TAG.None);
    switch (typeof v) {
      case "boolean":
        return this.byte(v ? TAG.True : TAG.False);
      case "bigint": {
        const s = v.toString();
        if (s.length - (v < 0n ? 1 : 0) > LIMITS.intDigits) throw new EncodeError(`an int over ${LIMITS.intDigits} digits`);
        this.byte(TAG.int);
        this.room(s.length + 1);
        for (let i = 0; i < s.length; i++) this.buf[this.len++] = s.charCodeAt(i);
        this.buf[this.len++] = SEMICOLON;
        return;
      }
      case "number":
        this.byte(TAG.float);
        return this.f64(v);
      case "string":
        this.byte(TAG.str);
        return this.raw(encodeUtf8(v));
    }
    if (v instanceof Uint8Array) {
      this.byte(TAG.bytes);
      return this.raw(v);
    }
    if (v.kind === "complex") {
      this.byte(TAG.complex);
      this.f64(v.re);
      return this.f64(v.im);
    }
    if (depth >= LIMITS.depth) throw new EncodeError(`containers nested deeper than ${LIMITS.depth}`);
    switch (v.kind) {
      case "list":
      case "tuple":
      case "set":
      case "frozenset": {
        if (v.kind === "set" || v.kind === "frozenset") checkMembers(v.items, "member");
        this.byte(TAG[v.kind]);
        this.u32(v.items.length);
        for (const item of v.items) this.value(item, depth + 1);
        return;
      }
      case "dict": {
        checkMembers(
          v.entries.map((e) => e[0]),
          "key",
        );
        this.byte(TAG.dict);
        this.u32(v.entries.length);
        for (const [k, x] of v.entries) {
          this.value(k, depth + 1);
          this.value(x, depth + 1);
        }
        return;
      }
    }
  }
}

function checkMembers(members: readonly PyValue[], what: string): void {
  let dup: number;
  try {
    dup = firstDuplicate(members);
  } catch (e) {
    if (e instanceof UnhashableError) throw new EncodeError(`${e.message} as a ${what}`);
    throw e;
  }
  if (dup >= 0) throw new EncodeError(`${what} ${dup} equals an earlier one`);
}

const utf8 = new TextEncoder();

/** JS string → UTF-8 with surrogatepass: a surrogate pair is one code point, a lone surrogate its own 3 bytes. */
export function encodeUtf8(s: string): Uint8Array {
  if (s.isWellFormed()) return utf8.encode(s);
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    let cp = s.charCodeAt(i);
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < s.length) {
      const lo = s.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        i++;
      }
    }
    if (cp < 0x80) out.push(cp);
    else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
    else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
    else out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
  }
  return Uint8Array.from(out);
}
