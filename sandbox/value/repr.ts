// CPython's repr of plain values (Objects/floatobject.c, complexobject.c, unicodeobject.c, bytesobject.c).
// Set and frozenset members print in the order held: after a decode that is the guest's own iteration order, so the
// text equals the guest's repr; a set from `parseLiteral` holds source order, not CPython's hash order.

import { isPrintable } from "./printable.ts";
import type { PyValue } from "./types.ts";

export function pyRepr(v: PyValue): string {
  if (v === null) return "None";
  switch (typeof v) {
    case "boolean":
      return v ? "True" : "False";
    case "bigint":
      return v.toString();
    case "number":
      return floatRepr(v, true);
    case "string":
      return strRepr(v);
  }
  if (v instanceof Uint8Array) return bytesRepr(v);
  switch (v.kind) {
    case "complex":
      return complexRepr(v.re, v.im);
    case "list":
      return "[" + v.items.map(pyRepr).join(", ") + "]";
    case "tuple":
      return v.items.length === 1 ? "(" + pyRepr(v.items[0]) + ",)" : "(" + v.items.map(pyRepr).join(", ") + ")";
    case "set":
      return v.items.length === 0 ? "set()" : "{" + v.items.map(pyRepr).join(", ") + "}";
    case "frozenset":
      return v.items.length === 0 ? "frozenset()" : "frozenset({" + v.items.map(pyRepr).join(", ") + "})";
    case "dict":
      return "{" + v.entries.map(([k, x]) => pyRepr(k) + ": " + pyRepr(x)).join(", ") + "}";
  }
}

/**
 * `PyOS_double_to_string(x, 'r', 0, flags)`: the shortest digits that round-trip (JS finds the same ones), laid out
 * as CPython does — exponent form when the decimal point sits before the 4th leading zero or after the 16th digit.
 * `addDot0` appends ".0" to integral values (float repr); complex parts go without it.
 */
export function floatRepr(x: number, addDot0: boolean): string {
  if (Number.isNaN(x)) return "nan";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  if (x === 0) return (Object.is(x, -0) ? "-0" : "0") + (addDot0 ? ".0" : "");
  const sign = x < 0 ? "-" : "";
  const { digits, decpt } = shortestDigits(Math.abs(x));
  let body: string;
  if (decpt <= -4 || decpt > 16) {
    const e = decpt - 1;
    const mantissa = digits.length === 1 ? digits : digits[0] + "." + digits.slice(1);
    body = mantissa + "e" + (e < 0 ? "-" : "+") + String(Math.abs(e)).padStart(2, "0");
  } else if (decpt <= 0) {
    body = "0." + "0".repeat(-decpt) + digits;
  } else if (decpt >= digits.length) {
    body = digits + "0".repeat(decpt - digits.length) + (addDot0 ? ".0" : "");
  } else {
    body = digits.slice(0, decpt) + "." + digits.slice(decpt);
  }
  return sign + body;
}

/** The shortest round-trip digits of a finite x > 0 (no trailing zeros) and the decimal point's position. */
function shortestDigits(x: number): { digits: string; decpt: number } {
  const s = String(x); // ECMAScript Number::toString: shortest round-trip digits, nearest (ties to even)
  const e = s.indexOf("e");
  if (e >= 0) {
    const mantissa = s.slice(0, e).replace(".", "");
    return { digits: mantissa, decpt: Number(s.slice(e + 1)) + 1 };
  }
  const dot = s.indexOf(".");
  const int = dot < 0 ? s : s.slice(0, dot);
  const frac = dot < 0 ? "" : s.slice(dot + 1);
  if (int !== "0") return { digits: (int + frac).replace(/0+$/, ""), decpt: int.length };
  const zeros = frac.length - frac.replace(/^0+/, "").length;
  return { digits: frac.slice(zeros), decpt: -zeros };
}

/** complex_repr: a +0.0 real part prints only the imaginary part; otherwise `(re±imj)`. */
function complexRepr(re: number, im: number): string {
  if (re === 0 && !Object.is(re, -0)) return floatRepr(im, false) + "j";
  const i = floatRepr(im, false);
  return "(" + floatRepr(re, false) + (i[0] === "-" ? "" : "+") + i + "j)";
}

const HEX = "0123456789abcdef";

function hex(n: number, width: number): string {
  let s = "";
  for (let i = width - 1; i >= 0; i--) s += HEX[(n >> (4 * i)) & 15];
  return s;
}

/** unicode_repr: single quotes unless the text has a ' and no ", escapes for the quote, \\, controls, non-printables. */
function strRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (let i = 0; i < s.length; i++) {
    let cp = s.charCodeAt(i);
    if (cp < 0x7f) {
      if (cp >= 0x20) out += cp === 0x5c || String.fromCharCode(cp) === quote ? "\\" + s[i] : s[i];
      else if (cp === 0x09) out += "\\t";
      else if (cp === 0x0a) out += "\\n";
      else if (cp === 0x0d) out += "\\r";
      else out += "\\x" + hex(cp, 2);
      continue;
    }
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < s.length) {
      const lo = s.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdfff) cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
    }
    if (cp > 0xffff) i++;
    if (isPrintable(cp)) out += String.fromCodePoint(cp);
    else if (cp <= 0xff) out += "\\x" + hex(cp, 2);
    else if (cp <= 0xffff) out += "\\u" + hex(cp, 4);
    else out += "\\U" + hex(cp, 8);
  }
  return out + quote;
}

/** bytes_repr: the same quote rule; printable ASCII as is, \t \n \r, everything else \xhh. */
function bytesRepr(b: Uint8Array): string {
  const quote = b.includes(0x27) && !b.includes(0x22) ? 0x22 : 0x27;
  let out = "b" + String.fromCharCode(quote);
  for (const c of b) {
    if (c === quote || c === 0x5c) out += "\\" + String.fromCharCode(c);
    else if (c === 0x09) out += "\\t";
    else if (c === 0x0a) out += "\\n";
    else if (c === 0x0d) out += "\\r";
    else if (c < 0x20 || c >= 0x7f) out += "\\x" + hex(c, 2);
    else out += String.fromCharCode(c);
  }
  return out + String.fromCharCode(quote);
}
