// A tokenizer for the part of Python's lexical grammar that literals use (CPython 3.12 Parser/tokenizer.c):
// numbers, string and bytes literals with every prefix and escape, names, brackets and operators, comments,
// backslash continuations, and the logical-line rules of eval input. Anything else is a `NotLiteral`.

import { NotLiteral } from "./errors.ts";
import { LIMITS } from "./types.ts";

export type Token =
  | { readonly t: "num"; readonly v: bigint | number | { readonly imag: number }; readonly at: number }
  | { readonly t: "str"; readonly v: string | Uint8Array; readonly at: number }
  | { readonly t: "name"; readonly id: string; readonly keyword: boolean; readonly at: number }
  | { readonly t: "op"; readonly op: string; readonly at: number }
  | { readonly t: "end"; readonly at: number };

/** Python keywords: none of them can start or continue a literal except the three constants. */
const KEYWORDS = new Set(
  (
    "False None True and as assert async await break class continue def del elif else except finally for from " +
    "global if import in is lambda nonlocal not or pass raise return try while with yield"
  ).split(" "),
);

const NAME = /[\p{ID_Start}_][\p{ID_Continue}\u00b7\u0387\u1369-\u1371\u19da]*/uy;
const STRING_PREFIX = /(?:[rR][bBfF]?|[bBfF][rR]?|[uU])?(?='|")/y;
const OP_CHARS = "()[]{},:+-=*.";

/** The operator starting with `c` at `pos`: the three two- and three-character ones, or `c` itself. */
function operatorAt(src: string, pos: number, c: string): string {
  if (c === "*" && src[pos + 1] === "*") return "**";
  if (c === ":" && src[pos + 1] === "=") return ":=";
  if (c === "." && src.startsWith("...", pos)) return "...";
  return c;
}
const PREFIX_LETTERS = "rRbBuUfF";
const ID_CONTINUE = /[\p{ID_Continue}]/u;

function stringPrefix(src: string, pos: number): RegExpExecArray | null {
  STRING_PREFIX.lastIndex = pos;
  return STRING_PREFIX.exec(src);
}

function nameAt(src: string, pos: number): RegExpExecArray | null {
  NAME.lastIndex = pos;
  return NAME.exec(src);
}

/** A character that can continue a name (ASCII fast path; beyond it, Unicode ID_Continue). */
function isNameChar(src: string, pos: number): boolean {
  const c = src.charCodeAt(pos);
  if (c < 0x80) return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f;
  return ID_CONTINUE.test(String.fromCodePoint(src.codePointAt(pos)!));
}
const OTHER_OPS = "%&|^~<>!/@;";
const MAX_PARENS = 200; // CPython's MAXLEVEL: "too many nested parentheses"

/**
 * The tokens of `text`. `inParens`: the text sits inside a call's parentheses (newlines never end it);
 * `comments`: allow `#` comments (in call-argument text one would swallow the caller's closing parenthesis).
 * Fails on what CPython's tokenizer rejects, on a second logical line at the top, and on an f-string (never a
 * literal). `\N{...}` escapes are `unsupported` (no Unicode name table here).
 */
export function tokenize(text: string, mode: { inParens: boolean; comments: boolean }): Token[] {
  const { inParens } = mode;
  if (!text.isWellFormed()) throw new NotLiteral("rejected", 0, "a lone surrogate in the source");
  if (text.includes("\0")) throw new NotLiteral("rejected", text.indexOf("\0"), "a null byte in the source");
  const src = text.includes("\r") ? text.replace(/\r\n?/g, "\n") : text;
  const tokens: Token[] = [];
  let depth = 0;
  let pos = 0;
  let lineStart = true; // no token yet on this logical line
  let lineBegin = 0; // where the current physical line starts
  let lastNewline = -1; // the last newline outside brackets, strings and continuations
  let ended = false; // a NEWLINE at the top has been seen: only blank lines may follow
  const fail = (at: number, why: string): never => {
    throw new NotLiteral("rejected", at, why);
  };
  const push = (tok: Token): void => {
    if (ended) fail(tok.at, "a second logical line");
    // the first token's line may not be indented (a form feed resets the column, as in CPython)
    const indent = tokens.length === 0 && !inParens ? src.slice(lineBegin, tok.at).replaceAll("\\\n", "") : "";
    if (/[ \t]/.test(indent.replace(/^.*\f/s, ""))) {
      fail(tok.at, "unexpected indent");
    }
    tokens.push(tok);
    lineStart = false;
  };
  while (pos < src.length) {
    const c = src[pos];
    if (c === " " || c === "\t" || c === "\f") {
      pos++;
      continue;
    }
    if (c === "#") {
      if (!mode.comments) throw new NotLiteral("unsupported", pos, "a comment in argument text");
      const nl = src.indexOf("\n", pos);
      pos = nl < 0 ? src.length : nl;
      continue;
    }
    if (c === "\n") {
      if (depth === 0) lastNewline = pos;
      pos++;
      if (depth === 0 && !inParens) {
        if (!lineStart) ended = true;
        lineStart = true;
        lineBegin = pos;
      }
      continue;
    }
    if (c === "\\") {
      if (src[pos + 1] !== "\n") fail(pos, "unexpected character after line continuation character");
      pos += 2;
      if (pos === src.length && !inParens) fail(pos, "unexpected EOF after a line continuation");
      continue;
    }
    const at = pos;
    const prefix = c === "'" || c === '"' || PREFIX_LETTERS.includes(c) ? stringPrefix(src, pos) : null;
    if (prefix) {
      const p = prefix[0].toLowerCase();
      if (p.includes("f")) throw new NotLiteral("rejected", at, "an f-string is not a literal");
      const r = readString(src, pos + p.length, p.includes("r"), p.includes("b"), at);
      pos = r.end;
      push({ t: "str", v: r.value, at });
      continue;
    }
    if ((c >= "0" && c <= "9") || (c === "." && src[pos + 1] >= "0" && src[pos + 1] <= "9")) {
      const end = scanNumber(src, pos);
      if (end < 0) fail(pos, "invalid number literal");
      const lit = src.slice(pos, end);
      pos = end;
      // CPython refuses a number run straight into a name character or another digit ("invalid decimal literal")
      if (pos < src.length && isNameChar(src, pos)) fail(pos, "invalid number literal");
      push({ t: "num", v: numberValue(lit, at), at });
      continue;
    }
    const name = isNameChar(src, pos) ? nameAt(src, pos) : null;
    if (name) {
      const raw = name[0];
      pos += raw.length;
      const ascii = /^[\x00-\x7f]*$/.test(raw);
      push({ t: "name", id: ascii ? raw : raw.normalize("NFKC"), keyword: ascii && KEYWORDS.has(raw), at });
      continue;
    }
    const op = OP_CHARS.includes(c) ? operatorAt(src, pos, c) : undefined;
    if (op) {
      if (op === "(" || op === "[" || op === "{") {
        if (++depth > MAX_PARENS) fail(pos, "too many nested parentheses");
      } else if (op === ")" || op === "]" || op === "}") {
        if (--depth < 0) fail(pos, "unmatched bracket");
      }
      pos += op.length;
      push({ t: "op", op, at });
      continue;
    }
    if (OTHER_OPS.includes(c)) {
      push({ t: "op", op: c, at });
      pos++;
      continue;
    }
    fail(pos, `invalid character ${JSON.stringify(c)}`);
  }
  if (depth > 0) fail(src.length, "unclosed bracket");
  if (!inParens && lastNewline >= 0) checkLastLine(src.slice(lastNewline + 1), lastNewline + 1);
  tokens.push({ t: "end", at: src.length });
  return tokens;
}

/**
 * CPython's tokenizer refuses a last line of only spaces or tabs (continuations joined) without a newline
 * ("unexpected indent").
 */
function checkLastLine(tail: string, at: number): void {
  const line = tail.replaceAll("\\\n", "");
  if (/^[ \t\f]+$/.test(line) && /[ \t]/.test(line.replace(/^.*\f/s, ""))) {
    throw new NotLiteral("rejected", at, "unexpected indent");
  }
}

const isDigit = (c: number, base = 10): boolean =>
  base <= 10 ? c >= 0x30 && c < 0x30 + base : (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66);

/** The end of `digit (_? digit)*` in `base` from `pos` (`pos` itself when no digit starts there). */
function digitRun(src: string, pos: number, base: number): number {
  if (!isDigit(src.charCodeAt(pos), base)) return pos;
  let p = pos + 1;
  for (;;) {
    const c = src.charCodeAt(p);
    if (isDigit(c, base)) p++;
    else if (c === 0x5f && isDigit(src.charCodeAt(p + 1), base)) p += 2;
    else return p;
  }
}

/**
 * The end of the number literal at `pos` (CPython's tokenizer: hex/octal/binary, decimal ints without leading
 * zeros, point and exponent floats, imaginary suffix), or -1 if none is valid there. One linear pass.
 */
function scanNumber(src: string, pos: number): number {
  const x = src.charCodeAt(pos + 1) | 0x20;
  if (src[pos] === "0" && (x === 0x78 || x === 0x6f || x === 0x62)) {
    const base = x === 0x78 ? 16 : x === 0x6f ? 8 : 2;
    let p = pos + 2;
    if (src[p] === "_") p++;
    const end = digitRun(src, p, base);
    return end === p ? -1 : end;
  }
  const intEnd = digitRun(src, pos, 10);
  let p = intEnd;
  let float = false;
  if (src[p] === ".") {
    float = true;
    p = digitRun(src, p + 1, 10);
  }
  if ((src.charCodeAt(p) | 0x20) === 0x65) {
    let q = p + 1;
    if (src[q] === "+" || src[q] === "-") q++;
    const e = digitRun(src, q, 10);
    if (e > q) [p, float] = [e, true];
  }
  if ((src.charCodeAt(p) | 0x20) === 0x6a) return p + 1;
  if (float) return p;
  // a decimal int: no leading zeros unless all of it is zeros
  return src[pos] !== "0" || /^0(?:_?0)*$/.test(src.slice(pos, intEnd)) ? intEnd : -1;
}

function numberValue(lit: string, at: number): bigint | number | { imag: number } {
  const s = lit.includes("_") ? lit.replaceAll("_", "") : lit;
  const last = s[s.length - 1];
  if (last === "j" || last === "J") return { imag: Number(s.slice(0, -1)) };
  const base = s[1];
  if (s[0] === "0" && s.length > 1 && (base === "x" || base === "X" || base === "o" || base === "O" || base === "b" || base === "B")) {
    // valid at any length, but past LIMITS.intDigits decimal digits not comparable; refuse huge ones before BigInt
    const bitsPerDigit = base === "x" || base === "X" ? 4 : base === "o" || base === "O" ? 3 : 1;
    const significant = s.slice(2).replace(/^0+/, "").length;
    const tooBig = (): never => {
      throw new NotLiteral("limit", at, `an int over ${LIMITS.intDigits} decimal digits`);
    };
    if ((significant - 1) * bitsPerDigit > LIMITS.intDigits * Math.log2(10)) tooBig();
    const v = BigInt(s); // BigInt accepts 0x/0o/0b
    if (v.toString().length > LIMITS.intDigits) tooBig();
    return v;
  }
  if (/^\d+$/.test(s)) {
    if (s.length > LIMITS.intDigits) {
      // CPython: "Exceeds the limit (4300 digits) for integer string conversion" (a SyntaxError)
      const digits = s.replace(/^0+(?=\d)/, "");
      if (digits.length > LIMITS.intDigits) throw new NotLiteral("rejected", at, "an int literal over 4300 digits");
    }
    return s.length <= 15 ? BigInt(Number(s)) : BigInt(s);
  }
  return Number(s);
}

const SIMPLE_ESCAPES: Record<string, string> = {
  "\\": "\\",
  "'": "'",
  '"': '"',
  a: "\x07",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
};

/** One string or bytes literal whose body starts at `pos` (after the prefix). */
function readString(
  src: string,
  pos: number,
  raw: boolean,
  bytes: boolean,
  at: number,
): { value: string | Uint8Array; end: number } {
  const q = src[pos];
  const triple = src.startsWith(q + q + q, pos);
  const close = triple ? q + q + q : q;
  let i = pos + close.length;
  const bodyStart = i;
  // find the end: a backslash always takes the next character with it (in raw literals too)
  for (;;) {
    if (i >= src.length) throw new NotLiteral("rejected", at, "an unterminated string literal");
    const c = src[i];
    if (c === "\\") {
      i += 2;
      continue;
    }
    if (c === "\n" && !triple) throw new NotLiteral("rejected", at, "an unterminated string literal");
    if (src.startsWith(close, i)) break;
    i++;
  }
  const body = src.slice(bodyStart, i);
  const end = i + close.length;
  if (bytes) {
    for (let k = 0; k < body.length; k++) {
      if (body.charCodeAt(k) > 0x7f) throw new NotLiteral("rejected", at, "bytes can only contain ASCII characters");
    }
  }
  if (raw || !body.includes("\\")) {
    return { value: bytes ? Uint8Array.from(body, (ch) => ch.charCodeAt(0)) : body, end };
  }
  return { value: bytes ? unescapeBytes(body, at) : unescapeStr(body, at), end };
}

function isOctal(c: string | undefined): boolean {
  return c !== undefined && c >= "0" && c <= "7";
}

/** Reads 1–3 octal digits at `k`; returns [value, next index]. */
function octal(body: string, k: number): [number, number] {
  let v = 0;
  let n = 0;
  while (n < 3 && isOctal(body[k + n])) v = v * 8 + (body.charCodeAt(k + n++) - 48);
  return [v, k + n];
}

function hexDigits(body: string, k: number, n: number, at: number, what: string): number {
  const h = body.slice(k, k + n);
  if (h.length !== n || !/^[0-9a-fA-F]+$/.test(h)) throw new NotLiteral("rejected", at, `truncated ${what} escape`);
  return parseInt(h, 16);
}

function unescapeStr(body: string, at: number): string {
  let out = "";
  for (let k = 0; k < body.length; ) {
    const next = body.indexOf("\\", k);
    if (next !== k) {
      out += next < 0 ? body.slice(k) : body.slice(k, next);
      if (next < 0) break;
      k = next;
    }
    const e = body[k + 1];
    k += 2;
    if (e === "\n") continue;
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) {
      out += simple;
      continue;
    }
    let cp: number;
    if (isOctal(e)) [cp, k] = octal(body, k - 1);
    else if (e === "x") [cp, k] = [hexDigits(body, k, 2, at, "\\xXX"), k + 2];
    else if (e === "u") [cp, k] = [hexDigits(body, k, 4, at, "\\uXXXX"), k + 4];
    else if (e === "U") {
      cp = hexDigits(body, k, 8, at, "\\UXXXXXXXX");
      if (cp > 0x10ffff) throw new NotLiteral("rejected", at, "illegal Unicode character");
      k += 8;
    } else if (e === "N") throw new NotLiteral("unsupported", at, "\\N{...} escapes need the Unicode name table");
    else {
      out += "\\" + e; // an unknown escape keeps its backslash (a warning in CPython, not an error)
      continue;
    }
    out = appendCodePoint(out, cp, at);
  }
  return out;
}

/** Appends a code point from an escape; a lone low surrogate right after a lone high one cannot be held in JS. */
function appendCodePoint(out: string, cp: number, at: number): string {
  if (cp >= 0xdc00 && cp <= 0xdfff && endsWithHighSurrogate(out)) {
    throw new NotLiteral("unsupported", at, "a lone high surrogate followed by a lone low one");
  }
  return out + String.fromCodePoint(cp);
}

export function endsWithHighSurrogate(s: string): boolean {
  const last = s.charCodeAt(s.length - 1);
  return last >= 0xd800 && last <= 0xdbff;
}

export function startsWithLowSurrogate(s: string): boolean {
  const first = s.charCodeAt(0);
  return first >= 0xdc00 && first <= 0xdfff;
}

function unescapeBytes(body: string, at: number): Uint8Array {
  const out: number[] = [];
  for (let k = 0; k < body.length; ) {
    const c = body[k];
    if (c !== "\\") {
      out.push(c.charCodeAt(0));
      k++;
      continue;
    }
    const e = body[k + 1];
    k += 2;
    if (e === "\n") continue;
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) out.push(simple.charCodeAt(0));
    else if (isOctal(e)) {
      let v: number;
      [v, k] = octal(body, k - 1);
      out.push(v & 0xff); // CPython keeps the low byte of an octal escape past \377
    } else if (e === "x") {
      out.push(hexDigits(body, k, 2, at, "\\xXX"));
      k += 2;
    } else out.push(0x5c, e.charCodeAt(0)); // \u, \N and unknown escapes are plain characters in bytes
  }
  return Uint8Array.from(out);
}
