// Seeded generators of plain Python values, near-equal value pairs and literal source texts (valid, malformed and
// non-literal), plus native CPython (`py_value_oracle.py`) as the reference, for the sandbox/value/ tests.
import { spawnSync } from "bun";
import { encodeValue } from "../../sandbox/value/codec.ts";
import { pyEqual } from "../../sandbox/value/equal.ts";
import { isPrintable } from "../../sandbox/value/printable.ts";
import { floatRepr } from "../../sandbox/value/repr.ts";
import { complex, dict, frozenset, list, set, tuple, type PyValue } from "../../sandbox/value/types.ts";
import { rng } from "./random-inputs.ts";

export const PYTHON = process.env.AZR_PYTHON ?? "python3";
const ORACLE = new URL("./py_value_oracle.py", import.meta.url).pathname;
const PLAIN_PY = new URL("../../sandbox/value/plain.py", import.meta.url).pathname;

export type OracleAnswer = Record<string, unknown>;

/** One python3 process answers every query (JSON lines through stdin/stdout). */
export function oracle(queries: readonly object[]): OracleAnswer[] {
  const input = queries.map((q) => JSON.stringify(q)).join("\n") + "\n";
  const proc = spawnSync([PYTHON, ORACLE, PLAIN_PY], { stdin: Buffer.from(input), stdout: "pipe", stderr: "pipe" });
  if (proc.exitCode !== 0) throw new Error(`oracle failed (${proc.exitCode}): ${proc.stderr.toString().slice(-2000)}`);
  const lines = proc.stdout.toString().trimEnd().split("\n");
  if (lines.length !== queries.length) throw new Error(`oracle answered ${lines.length} of ${queries.length}`);
  return lines.map((l) => JSON.parse(l));
}

export const toHex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
export const fromHex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, "hex"));
export const hexOf = (v: PyValue): string => toHex(encodeValue(v));

/** Exact sameness (not Python `==`): same types all the way down, floats bit for bit up to nan, sets as sets. */
export function same(a: PyValue, b: PyValue): boolean {
  if (typeof a === "number") return typeof b === "number" && (Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b)));
  if (a === null || typeof a !== "object") return a === b;
  if (b === null || typeof b !== "object") return false;
  if (a instanceof Uint8Array) return b instanceof Uint8Array && a.length === b.length && a.every((x, i) => x === b[i]);
  if (b instanceof Uint8Array || a.kind !== b.kind) return false;
  switch (a.kind) {
    case "complex":
      return same(a.re, (b as typeof a).re) && same(a.im, (b as typeof a).im);
    case "list":
    case "tuple": {
      const y = (b as typeof a).items;
      return a.items.length === y.length && a.items.every((x, i) => same(x, y[i]));
    }
    case "set":
    case "frozenset": {
      const y = (b as typeof a).items;
      return a.items.length === y.length && a.items.every((x) => y.some((z) => same(x, z)));
    }
    case "dict": {
      const y = (b as typeof a).entries;
      return a.entries.length === y.length && a.entries.every(([k, v]) => y.some(([k2, v2]) => same(k, k2) && same(v, v2)));
    }
  }
}

/** True if the value holds a set or frozenset anywhere (their repr order is the holder's, not CPython's). */
export function hasSet(v: PyValue): boolean {
  if (v === null || typeof v !== "object" || v instanceof Uint8Array) return false;
  switch (v.kind) {
    case "set":
    case "frozenset":
      return true;
    case "list":
    case "tuple":
      return v.items.some(hasSet);
    case "dict":
      return v.entries.some(([k, x]) => hasSet(k) || hasSet(x));
  }
  return false;
}

export class Gen {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = rng(seed);
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  shuffle<T>(xs: readonly T[]): T[] {
    const out = [...xs];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  }

  // ------------------------------------------------------------------------------------------------ values

  bigint(): bigint {
    switch (this.int(6)) {
      case 0:
        return BigInt(this.int(21) - 10);
      case 1:
        return this.pick([0n, 1n, -1n, 2n, 255n, 256n, 2n ** 31n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n - 1n, 2n ** 64n, -(2n ** 64n)]);
      case 2:
        return this.pick([10n ** 22n, 10n ** 23n, 2n ** 70n, 2n ** 1023n, 2n ** 1024n, -(2n ** 80n)]) + BigInt(this.int(3) - 1);
      case 3: {
        let s = String(1 + this.int(9));
        for (let i = this.int(45); i > 0; i--) s += String(this.int(10));
        return (this.chance(0.3) ? -1n : 1n) * BigInt(s);
      }
      case 4:
        return BigInt(this.int(2 ** 31) - 2 ** 30);
      default:
        return BigInt(this.int(2 ** 53)) * 2n ** BigInt(this.int(20)) * (this.chance(0.5) ? 1n : -1n);
    }
  }

  float(): number {
    switch (this.int(6)) {
      case 0:
        return this.pick([0, -0, 1, -1, 0.5, 0.1, 0.2, 0.3, 0.1 + 0.2, NaN, Infinity, -Infinity, 1e16, 1e15, 1e17, 1e-4, 1e-5]);
      case 1:
        return this.pick([2 ** 53, 2 ** 53 + 2, 2 ** 70, 1e22, 1e23, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 123456789.125, 9999999999999998]);
      case 2: {
        const bits = new Uint32Array([this.int(2 ** 32), this.int(2 ** 32)]);
        return new Float64Array(bits.buffer)[0];
      }
      case 3:
        return Math.round((this.next() - 0.5) * 10 ** this.int(8)) / 10 ** this.int(6);
      case 4:
        return (this.next() - 0.5) * 10 ** (this.int(60) - 30);
      default:
        return this.int(1000) - 500;
    }
  }

  codePoint(): number {
    switch (this.int(5)) {
      case 0:
        return 32 + this.int(95);
      case 1:
        return this.pick([0, 7, 9, 10, 13, 27, 0x7f, 0x80, 0x9f, 0xa0, 0xad, 0xe9, 0xff, 0x100, 0x378, 0x2028, 0x200b, 0x3000, 0xe000, 0xfeff, 0xfffd, 0xffff, 0x1f600, 0xe0001, 0x10ffff, 0xd800, 0xdbff, 0xdc00, 0xdfff]);
      case 2:
        return this.int(0x3000);
      case 3:
        return this.int(0x10000);
      default:
        return this.int(0x110000);
    }
  }

  str(): string {
    if (this.chance(0.3)) return this.pick(["", "a", "abc", "'", '"', "'\"", "\\", "\n\t\r", "a b", "x'y", "héllo", "日本", "😀", "\ud800", "a\udfffb"]);
    let s = "";
    for (let i = this.int(6); i > 0; i--) {
      const cp = this.codePoint();
      // a lone high surrogate before a lone low one is not comparable (types.ts); a JS pair would merge them
      if (cp >= 0xdc00 && cp <= 0xdfff && /[\ud800-\udbff]$/.test(s)) continue;
      s += String.fromCodePoint(cp);
    }
    return s;
  }

  bytes(): Uint8Array {
    if (this.chance(0.3)) return new TextEncoder().encode(this.pick(["", "a", "'", '"', "'\"", "\\", "abc"]));
    return Uint8Array.from({ length: this.int(6) }, () => (this.chance(0.5) ? 32 + this.int(95) : this.int(256)));
  }

  scalar(): PyValue {
    switch (this.int(9)) {
      case 0:
        return this.pick([null, true, false]);
      case 1:
      case 2:
        return this.bigint();
      case 3:
      case 4:
        return this.float();
      case 5:
        return complex(this.pick([0, -0, 1, 1.5, -2, NaN, Infinity, this.float()]), this.pick([0, -0, 1, -1, 2.5, NaN, -Infinity, this.float()]));
      case 6:
      case 7:
        return this.str();
      default:
        return this.bytes();
    }
  }

  /** A hashable value: scalars, tuples of hashables, frozensets. */
  hashable(depth: number): PyValue {
    if (depth >= 3 || this.chance(0.75)) return this.scalar();
    return this.chance(0.5)
      ? tuple(Array.from({ length: this.int(3) }, () => this.hashable(depth + 1)))
      : frozenset(dedupe(Array.from({ length: this.int(4) }, () => this.hashable(depth + 1))));
  }

  value(depth = 0): PyValue {
    if (depth === 0 && this.chance(0.02)) return this.chain(95 + this.int(6));
    if (depth >= 4 || this.chance(0.45)) return this.scalar();
    const n = this.int(5);
    switch (this.int(6)) {
      case 0:
      case 1:
        return list(Array.from({ length: n }, () => this.value(depth + 1)));
      case 2:
        return tuple(Array.from({ length: n }, () => this.value(depth + 1)));
      case 3:
        return set(dedupe(Array.from({ length: n }, () => this.hashable(depth + 1))));
      case 4:
        return frozenset(dedupe(Array.from({ length: n }, () => this.hashable(depth + 1))));
      default: {
        const keys = dedupe(Array.from({ length: n }, () => this.hashable(depth + 1)));
        return dict(keys.map((k) => [k, this.value(depth + 1)] as const));
      }
    }
  }

  /** `n` containers nested inside one another around a scalar (100 is the deepest allowed). */
  chain(n: number): PyValue {
    let v: PyValue = this.scalar();
    for (let i = 0; i < n; i++) {
      const k = this.int(4);
      v = k === 0 ? list([v]) : k === 1 ? tuple([v]) : k === 2 ? dict([[this.bigint(), v]]) : list([v, this.scalar()]);
    }
    return v;
  }

  // ------------------------------------------------------------------------------------------------ pairs

  /** A second value for an equality test: the same, a near variant, or an unrelated one. */
  partner(v: PyValue): PyValue {
    const k = this.next();
    if (k < 0.3) return copy(v);
    if (k < 0.9) return this.mutate(v, 0);
    return this.value();
  }

  /** A variant of `v`, often equal under Python `==` but of other types or order. */
  mutate(v: PyValue, depth: number): PyValue {
    if (v === null) return this.pick([null, 0n, false, ""]);
    switch (typeof v) {
      case "boolean":
        return this.pick([v, v ? 1n : 0n, v ? 1 : 0, complex(v ? 1 : 0, 0), !v]);
      case "bigint":
        return this.pick([v, Number(v), complex(Number(v), this.pick([0, -0, 1])), v + 1n, v === 1n ? true : v === 0n ? false : -v]);
      case "number":
        return this.pick([
          v,
          -v,
          Number.isInteger(v) ? BigInt(v) : v,
          complex(v, this.pick([0, -0])),
          nextUp(v),
          v === 1 ? true : v === 0 ? false : v,
          Number.isFinite(v) && Number.isInteger(v) ? BigInt(v) + 1n : v,
        ]);
      case "string":
        return this.pick([v, v + "x", /^[\x00-\x7f]*$/.test(v) ? new TextEncoder().encode(v) : v, v.slice(1)]);
    }
    if (v instanceof Uint8Array) return this.pick([v.slice(), new TextDecoder("latin1").decode(v), v.slice(1)]);
    const sub = (x: PyValue): PyValue => (this.chance(0.4) ? this.mutate(x, depth + 1) : copy(x));
    switch (v.kind) {
      case "complex":
        return this.pick([complex(v.re, v.im), v.im === 0 ? v.re : v, complex(v.im, v.re), complex(-v.re, v.im)]);
      case "list":
      case "tuple": {
        const items = v.items.map(sub);
        const kind = this.chance(0.15) ? (v.kind === "list" ? "tuple" : "list") : v.kind;
        const out = this.chance(0.1) ? items.slice(1) : this.chance(0.05) ? this.shuffle(items) : items;
        return kind === "list" ? list(out) : tuple(out);
      }
      case "set":
      case "frozenset": {
        const items = dedupe(this.shuffle(v.items.map((x) => (this.chance(0.3) ? this.mutateHashable(x) : copy(x)))));
        const out = this.chance(0.1) ? items.slice(1) : items;
        return (this.chance(0.3) ? (v.kind === "set" ? "frozenset" : "set") : v.kind) === "set" ? set(out) : frozenset(out);
      }
      case "dict": {
        const entries = this.shuffle(v.entries.map(([k, x]) => [this.chance(0.3) ? this.mutateHashable(k) : copy(k), sub(x)] as const));
        const kept = dedupeBy(entries, (e) => e[0]);
        return dict(this.chance(0.1) ? kept.slice(1) : kept);
      }
    }
  }

  private mutateHashable(v: PyValue): PyValue {
    for (let tries = 0; tries < 5; tries++) {
      const m = this.mutate(v, 9);
      if (isHashable(m)) return m;
    }
    return copy(v);
  }

  // ------------------------------------------------------------------------------------------------ texts

  /** Python source for (something near) `v`, spelled in one of the many ways the grammar allows. */
  spell(v: PyValue, repr: boolean, top = true): string {
    if (v === null) return "None";
    switch (typeof v) {
      case "boolean":
        return v ? "True" : "False";
      case "bigint":
        return this.spellInt(v);
      case "number":
        return this.spellFloat(v, repr);
      case "string":
        return this.chance(0.1) ? this.spellStr(v.slice(0, v.length >> 1)) + this.ws() + this.spellStr(v.slice(v.length >> 1)) : this.spellStr(v);
      case "object":
        break;
    }
    if (v instanceof Uint8Array) return this.spellBytes(v);
    const items = (xs: readonly PyValue[]): string => {
      const parts = xs.map((x) => this.ws(true) + this.spell(x, repr, false) + this.ws(true));
      return parts.join(",") + (xs.length > 0 && this.chance(0.2) ? "," : "");
    };
    switch (v.kind) {
      case "complex": {
        const im = this.spellFloat(Math.abs(v.im), repr).replace(/^\((.*)\)$/, "$1") + this.pick(["j", "J"]);
        if (v.re === 0 && this.chance(0.5)) return (Object.is(v.im, -0) || v.im < 0 ? "-" : "") + im;
        const s = this.spellFloat(v.re, repr) + this.ws() + (v.im < 0 || Object.is(v.im, -0) ? "-" : "+") + this.ws() + im;
        return this.chance(0.7) ? "(" + s + ")" : s;
      }
      case "list":
        return "[" + items(v.items) + "]";
      case "tuple":
        if (v.items.length === 0) return "(" + this.ws(true) + ")";
        if (top && this.chance(0.3)) return items(v.items) + (v.items.length === 1 ? "," : "");
        return "(" + items(v.items) + (v.items.length === 1 ? "," : "") + ")";
      case "set":
        return v.items.length === 0 ? this.pick(["set()", "set( )", "{}"]) : "{" + items(v.items) + "}";
      case "frozenset":
        return v.items.length === 0 ? "frozenset()" : "frozenset({" + items(v.items) + "})";
      case "dict":
        return (
          "{" +
          v.entries.map(([k, x]) => this.ws(true) + this.spell(k, repr, false) + this.ws() + ":" + this.ws() + this.spell(x, repr, false)).join(",") +
          (v.entries.length > 0 && this.chance(0.2) ? "," : "") +
          "}"
        );
    }
  }

  /** Whitespace between tokens; `inBrackets` allows newlines and comments. */
  ws(inBrackets = false): string {
    const k = this.int(10);
    if (k < 5) return "";
    if (k < 8) return " ";
    if (!inBrackets) return this.pick(["  ", "\t", "\\\n"]);
    return this.pick(["\n", " # note\n", "\n  ", "\\\n"]);
  }

  private spellInt(v: bigint): string {
    if (v < 0n) return this.pick(["-", "- ", "-"]) + (this.chance(0.2) ? "(" + this.spellInt(-v) + ")" : this.spellInt(-v));
    switch (this.int(8)) {
      case 0:
        return "0x" + v.toString(16);
      case 1:
        return "0o" + v.toString(8);
      case 2:
        return "0b" + v.toString(2);
      case 3:
        return v.toString().replace(/(\d)(?=(\d{3})+$)/g, "$1_");
      case 4:
        return v === 0n ? this.pick(["00", "0_0", "0"]) : "0X" + v.toString(16).toUpperCase();
      case 5:
        return this.chance(0.5) ? "+" + v.toString() : v.toString();
      default:
        return v.toString();
    }
  }

  private spellFloat(v: number, repr: boolean): string {
    if (Number.isNaN(v)) return repr || this.chance(0.5) ? "nan" : "float('nan')";
    if (!Number.isFinite(v)) return (v < 0 ? "-" : "") + (repr ? "inf" : this.pick(["1e400", "1e999", "inf"]));
    if (Object.is(v, -0) || v < 0) return "-" + this.spellFloat(-v, repr);
    const r = floatRepr(v, true);
    switch (this.int(6)) {
      case 0:
        return v.toExponential();
      case 1:
        return r.replace(/\.0$/, ".");
      case 2:
        return r.replace(/^0\./, ".");
      case 3:
        return r.replace(/(\d)(\d)/, "$1_$2");
      case 4:
        return r.toUpperCase();
      default:
        return r;
    }
  }

  private spellStr(s: string): string {
    const quote = this.pick(["'", '"', "'''", '"""']);
    const prefix = this.pick(["", "", "", "u", "U", "r", "R"]);
    let body = "";
    for (const ch of s) {
      const cp = ch.codePointAt(0)!;
      if (prefix === "r" || prefix === "R") {
        body += ch;
        continue;
      }
      const k = this.int(6);
      if (ch === "\\") body += "\\\\";
      else if (ch === quote[0]) body += "\\" + ch;
      else if (cp >= 0x20 && cp < 0x7f && k < 4) body += ch;
      else if (cp < 0x100 && k === 4) body += "\\" + cp.toString(8).padStart(this.pick([1, 2, 3]), "0");
      else if (cp < 0x100 && k < 5) body += "\\x" + cp.toString(16).padStart(2, "0");
      else if (cp < 0x10000 && cp !== 0x0a && cp !== 0x0d && cp > 0x7f && !(cp >= 0xd800 && cp <= 0xdfff) && this.chance(0.4)) body += ch;
      else if (cp < 0x10000 && this.chance(0.6)) body += "\\u" + cp.toString(16).padStart(4, "0");
      else body += "\\U" + cp.toString(16).padStart(8, "0");
    }
    return prefix + quote + body + quote;
  }

  private spellBytes(b: Uint8Array): string {
    const quote = this.pick(["'", '"', "'''"]);
    const prefix = this.pick(["b", "B", "b", "br", "Rb"]);
    let body = "";
    for (const c of b) {
      if (prefix.toLowerCase().includes("r")) body += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : "\\x" + c.toString(16).padStart(2, "0");
      else if (c === 0x5c) body += "\\\\";
      else if (c === quote.charCodeAt(0)) body += "\\" + String.fromCharCode(c);
      else if (c >= 0x20 && c < 0x7f && this.chance(0.8)) body += String.fromCharCode(c);
      else if (this.chance(0.3)) body += "\\" + c.toString(8);
      else body += "\\x" + c.toString(16).padStart(2, "0");
    }
    return prefix + quote + body + quote;
  }

  /** Leading and trailing matter around a whole text: spaces, blank lines, comments, an indent (an error). */
  frame(text: string): string {
    const lead = this.pick(["", "", "", " ", "\t ", "\n", "# c\n", "\n ", " \n"]);
    const tail = this.pick(["", "", "", " ", "\n", " # c", "\n\n", "\n x"]);
    return lead + text + tail;
  }

  /** A text that is malformed or not a literal (or, by chance, still one). */
  spoil(text: string): string {
    const junk = "()[]{},:'\"\\#+-*=.xj0_ \n;@";
    switch (this.int(22)) {
      case 0:
        return `f(${text})`;
      case 1:
        return `${text}.real`;
      case 2:
        return `${text}[0]`;
      case 3:
        return `lambda: ${text}`;
      case 4:
        return `(x := ${text})`;
      case 5:
        return `f'{${text}}'`;
      case 6:
        return `[x for x in ${text}]`;
      case 7:
        return `${text} if True else 0`;
      case 8:
        return `not ${text}`;
      case 9:
        return `${text} + 1`;
      case 10:
        return `-${text}`;
      case 11:
        return `[*${text}]`;
      case 12:
        return `{**${text}}`;
      case 13:
        return `${text} ${text}`;
      case 14:
        return text.slice(0, this.int(text.length + 1));
      case 15: {
        const i = this.int(text.length + 1);
        return text.slice(0, i) + this.pick([...junk]) + text.slice(i);
      }
      case 16: {
        const i = this.int(text.length);
        return text.slice(0, i) + text.slice(i + 1);
      }
      case 17:
        return `${text} * 2`;
      case 18:
        return `${text}, ${text}`;
      case 19:
        return `{${text}}`;
      case 20:
        return `{${text}: ${text}}`;
      default:
        return this.pick([
          "x", "inf", "nan", "Ellipsis", "...", "[...]", "True + 1j", "1 + 2", "--1", "-True", "01", "1__0", "0b2", "0x", "1e", "1_",
          "'\\x4'", "'\\U00110000'", "'abc", "b'\u00e9'", "'a' b'b'", "'\\N{BULLET}'", "1j + 2", "(1+2j) + 3j", "1 - -2j", "set(1)",
          "{[1]: 2}", "{[]}", "{{1}}", "frozenset()", "1;", "\u00ff", "'\\ud83d' '\\ude00'", "10**400", "1e400j + 1", `${"9".repeat(400)} + 1j`,
          "0777", "0777.0", "09j", ".5", "1.e5", "1if 1 else 2", "'''a'''b'", "(1,) (2,)", "{1: 2, 1.0: 3, True: 4}", "{1, 1.0, True, 1+0j}",
        ]);
    }
  }
}

/** Drops members equal to an earlier one (Python's set/dict insertion keeps the first). */
export function dedupe(xs: readonly PyValue[]): PyValue[] {
  return dedupeBy(xs, (x) => x);
}

function dedupeBy<T>(xs: readonly T[], key: (x: T) => PyValue): T[] {
  const out: T[] = [];
  for (const x of xs) if (!out.some((y) => pyEqual(key(x), key(y)))) out.push(x);
  return out;
}

export function isHashable(v: PyValue): boolean {
  if (v === null || typeof v !== "object" || v instanceof Uint8Array) return true;
  if (v.kind === "tuple") return v.items.every(isHashable);
  return v.kind === "complex" || v.kind === "frozenset";
}

/** A deep copy: new containers (no shared identity, which the host never has anyway). */
export function copy(v: PyValue): PyValue {
  if (v === null || typeof v !== "object") return v;
  if (v instanceof Uint8Array) return v.slice();
  switch (v.kind) {
    case "complex":
      return complex(v.re, v.im);
    case "list":
      return list(v.items.map(copy));
    case "tuple":
      return tuple(v.items.map(copy));
    case "set":
      return set(v.items.map(copy));
    case "frozenset":
      return frozenset(v.items.map(copy));
    case "dict":
      return dict(v.entries.map(([k, x]) => [copy(k), copy(x)] as const));
  }
}

function nextUp(x: number): number {
  if (!Number.isFinite(x)) return x;
  const b = new Float64Array([x]);
  const u = new BigInt64Array(b.buffer);
  u[0] += x >= 0 ? 1n : -1n;
  return b[0];
}

/**
 * Code points where the guest's printable table and the native interpreter's disagree; each must be one the
 * native Unicode version has not assigned (the guest's 15.0 is newer than 3.11's 14.0), else the table is wrong.
 */
function unicodeDifferences(uni: Record<string, unknown>): Set<number> {
  const mark = (runs: number[][]): Uint8Array => {
    const m = new Uint8Array(0x110000);
    for (const [a, b] of runs) m.fill(1, a, b + 1);
    return m;
  };
  const unprintable = mark(uni.unprintable as number[][]);
  const unassigned = mark(uni.unassigned as number[][]);
  const differs = new Set<number>();
  const notExplained: number[] = [];
  for (let cp = 0; cp < 0x110000; cp++) {
    if (isPrintable(cp) === !unprintable[cp]) continue;
    differs.add(cp);
    if (!unassigned[cp] || !isPrintable(cp)) notExplained.push(cp);
  }
  if (notExplained.length > 0) {
    throw new Error(`printable table disagrees with CPython ${uni.version} beyond new assignments: ${notExplained.slice(0, 20).map((c) => c.toString(16))}`);
  }
  return differs;
}

/** Every code point of every str in a value. */
function codePoints(v: PyValue, out: number[] = []): number[] {
  if (typeof v === "string") for (const ch of v) out.push(ch.codePointAt(0)!);
  else if (v !== null && typeof v === "object" && !(v instanceof Uint8Array)) {
    if (v.kind === "dict") v.entries.forEach(([k, x]) => (codePoints(k, out), codePoints(x, out)));
    else if (v.kind !== "complex") v.items.forEach((x) => codePoints(x, out));
  }
  return out;
}

/**
 * The printable table follows the guest (CPython 3.12, Unicode 15.0); a native CPython on another Unicode version
 * may disagree only on code points one of the two has not assigned yet (checked here). Returns whether a value
 * holds such a code point, so a repr comparison can leave it out.
 */
export function unicodeSkewOf(uni: Record<string, unknown>): (v: PyValue) => boolean {
  const differs = unicodeDifferences(uni);
  return (v) => differs.size > 0 && codePoints(v).some((cp) => differs.has(cp));
}
