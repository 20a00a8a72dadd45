// Python str ↔ UTF-8 with `surrogatepass` (lone surrogates are their own 3-byte sequences), strict both ways,
// and code units ↔ JS strings without hitting the engine's argument-count limit.

/**
 * UTF-8 with surrogatepass → JS string: no overlongs, nothing past U+10FFFF, no truncated sequences, and no lone
 * high surrogate directly before a lone low one (JS would read the two as one code point). Calls `fail` with the
 * offending byte's offset otherwise.
 */
export function decodeUtf8(b: Uint8Array, fail: (offset: number, why: string) => never): string {
  let ascii = true;
  for (let i = 0; i < b.length; i++) {
    if (b[i] >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return fromCodeUnits(b);
  const units: number[] = [];
  let lastLone = false; // the previous code point was a lone high surrogate
  for (let i = 0; i < b.length; ) {
    const c = b[i];
    let cp: number;
    let n: number;
    if (c < 0x80) [cp, n] = [c, 1];
    else if (c >= 0xc2 && c <= 0xdf) [cp, n] = [c & 0x1f, 2];
    else if (c >= 0xe0 && c <= 0xef) [cp, n] = [c & 0x0f, 3];
    else if (c >= 0xf0 && c <= 0xf4) [cp, n] = [c & 0x07, 4];
    else return fail(i, `byte 0x${c.toString(16)}`);
    if (i + n > b.length) fail(i, "a truncated sequence");
    for (let k = 1; k < n; k++) {
      const d = b[i + k];
      if ((d & 0xc0) !== 0x80) fail(i + k, "a bad continuation byte");
      cp = (cp << 6) | (d & 0x3f);
    }
    if ((n === 3 && cp < 0x800) || (n === 4 && (cp < 0x10000 || cp > 0x10ffff))) fail(i, "an overlong or out-of-range sequence");
    if (cp >= 0xdc00 && cp <= 0xdfff && lastLone) fail(i, "a lone high surrogate before a lone low one (not representable)");
    lastLone = cp >= 0xd800 && cp <= 0xdbff;
    if (cp >= 0x10000) units.push(0xd800 + ((cp - 0x10000) >> 10), 0xdc00 + ((cp - 0x10000) & 0x3ff));
    else units.push(cp);
    i += n;
  }
  return fromCodeUnits(units);
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

/** UTF-16 code units (or bytes as code units 0–255) → string; short runs by concatenation, long ones in chunks. */
export function fromCodeUnits(units: Uint8Array | readonly number[]): string {
  let s = "";
  if (units.length <= 64) {
    for (let i = 0; i < units.length; i++) s += String.fromCharCode(units[i]);
    return s;
  }
  for (let i = 0; i < units.length; i += 8192) s += String.fromCharCode(...units.slice(i, i + 8192));
  return s;
}
