// Python `==` on plain values, and the hash-equality that sets and dicts use (1, 1.0, True and 1+0j are one key).
// There is no object identity here: CPython's `x is y` shortcut inside containers never applies, so a nan compares
// unequal wherever it sits — `[nan] == [nan]` is False, as `eval(gold) == eval(answer)` is for separately built values.

import type { PyValue } from "./types.ts";
import { fromCodeUnits } from "./utf8.ts";

/** Python's `a == b`. */
export function pyEqual(a: PyValue, b: PyValue): boolean {
  if (a === null || b === null) return a === b;
  if (a === b && typeof a !== "object") return true; // equal primitives (nan !== nan already)
  const ta = typeof a;
  const tb = typeof b;
  if (ta === "string" || tb === "string") return false; // unequal strings, or str against anything else
  if (a instanceof Uint8Array) return b instanceof Uint8Array && bytesEqual(a, b);
  if (b instanceof Uint8Array) return false;
  if (ta !== "object" || tb !== "object") return numericEqual(a, b);
  const x = a as Exclude<PyValue, null | boolean | bigint | number | string | Uint8Array>;
  const y = b as typeof x;
  switch (x.kind) {
    case "complex":
      return y.kind === "complex" ? x.re === y.re && x.im === y.im : false;
    case "list":
    case "tuple":
      return y.kind === x.kind && itemsEqual(x.items, y.items);
    case "set":
    case "frozenset":
      return (y.kind === "set" || y.kind === "frozenset") && setsEqual(x.items, y.items);
    case "dict":
      return y.kind === "dict" && dictsEqual(x.entries, y.entries);
  }
}

/** `==` where at least one side is a bool, int or float and neither is a str, bytes or None. */
function numericEqual(a: PyValue, b: PyValue): boolean {
  const x = realOf(a);
  const y = realOf(b);
  if (x === undefined || y === undefined) {
    // complex against a real number: equal iff the imaginary part is 0 and the real parts are equal
    if (x === undefined && y !== undefined && isComplex(a)) return a.im === 0 && realEqual(a.re, y);
    if (y === undefined && x !== undefined && isComplex(b)) return b.im === 0 && realEqual(x, b.re);
    return false;
  }
  return realEqual(x, y);
}

function isComplex(v: PyValue): v is { kind: "complex"; re: number; im: number } {
  return typeof v === "object" && v !== null && !(v instanceof Uint8Array) && v.kind === "complex";
}

/** bool → int; int and float as they are; anything else → undefined. */
function realOf(v: PyValue): bigint | number | undefined {
  switch (typeof v) {
    case "boolean":
      return v ? 1n : 0n;
    case "bigint":
    case "number":
      return v;
  }
  return undefined;
}

/** Exact comparison of ints and floats, as CPython's float_richcompare does (no rounding of big ints). */
function realEqual(x: bigint | number, y: bigint | number): boolean {
  if (typeof x === "number") return typeof y === "number" ? x === y : floatEqualsInt(x, y);
  return typeof y === "number" ? floatEqualsInt(y, x) : x === y;
}

function floatEqualsInt(f: number, i: bigint): boolean {
  return Number.isInteger(f) && BigInt(f) === i;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function itemsEqual(a: readonly PyValue[], b: readonly PyValue[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!pyEqual(a[i], b[i])) return false;
  return true;
}

/** Below this many members a linear scan beats building a hash index. */
const SCAN_LIMIT = 8;

function setsEqual(a: readonly PyValue[], b: readonly PyValue[]): boolean {
  if (a.length !== b.length) return false;
  const find = finder(b);
  for (const v of a) if (find(v) < 0) return false;
  return true;
}

function dictsEqual(a: readonly (readonly [PyValue, PyValue])[], b: readonly (readonly [PyValue, PyValue])[]): boolean {
  if (a.length !== b.length) return false;
  const find = finder(b.map((e) => e[0]));
  for (const [k, v] of a) {
    const j = find(k);
    if (j < 0 || !pyEqual(v, b[j][1])) return false;
  }
  return true;
}

/** A lookup of a member equal to `v` among `members` (its index, or -1): a scan when small, else a hash index. */
function finder(members: readonly PyValue[]): (v: PyValue) => number {
  if (members.length <= SCAN_LIMIT) {
    return (v) => {
      for (let i = 0; i < members.length; i++) if (pyEqual(v, members[i])) return i;
      return -1;
    };
  }
  const index = new Map<string, number[]>();
  members.forEach((m, i) => {
    const k = hashKey(m);
    const bucket = index.get(k);
    if (bucket) bucket.push(i);
    else index.set(k, [i]);
  });
  return (v) => {
    const bucket = index.get(hashKey(v));
    if (bucket) for (const i of bucket) if (pyEqual(v, members[i])) return i;
    return -1;
  };
}

/** Index of the first member equal to an earlier one, or -1. Throws `UnhashableError` for a list, set or dict. */
export function firstDuplicate(members: readonly PyValue[]): number {
  if (members.length <= SCAN_LIMIT) {
    for (let i = 0; i < members.length; i++) {
      checkHashable(members[i]);
      for (let j = 0; j < i; j++) if (pyEqual(members[i], members[j])) return i;
    }
    return -1;
  }
  const seen = new Map<string, number[]>();
  for (let i = 0; i < members.length; i++) {
    const k = hashKey(members[i]);
    const bucket = seen.get(k);
    if (!bucket) seen.set(k, [i]);
    else if (bucket.some((j) => pyEqual(members[i], members[j]))) return i;
    else bucket.push(i);
  }
  return -1;
}

export class UnhashableError extends TypeError {
  constructor(readonly typeName: string) {
    super(`unhashable type: '${typeName}'`);
  }
}

/** Throws `UnhashableError` for a list, set or dict, also inside a tuple (frozenset members are hashable already). */
function checkHashable(v: PyValue): void {
  if (v === null || typeof v !== "object" || v instanceof Uint8Array) return;
  if (v.kind === "tuple") v.items.forEach(checkHashable);
  else if (v.kind !== "complex" && v.kind !== "frozenset") throw new UnhashableError(v.kind);
}

/**
 * A string equal for any two values Python treats as the same set member or dict key (equal values, equal
 * hashes); unequal values may share one, so a match still needs `pyEqual`. Throws for unhashable values.
 */
export function hashKey(v: PyValue): string {
  switch (typeof v) {
    case "boolean":
      return v ? "n1" : "n0";
    case "bigint":
      return "n" + v.toString();
    case "number":
      return floatKey(v);
    case "string":
      return "s" + v;
  }
  if (v === null) return "N";
  if (v instanceof Uint8Array) return "b" + fromCodeUnits(v);
  switch (v.kind) {
    case "complex":
      return v.im === 0 ? floatKey(v.re) : "c" + floatKey(v.re) + "," + floatKey(v.im);
    case "tuple":
      return "t(" + v.items.map(hashKey).join("\u0000") + ")";
    case "frozenset":
      return "z(" + v.items.map(hashKey).sort().join("\u0000") + ")";
  }
  throw new UnhashableError(v.kind);
}

function floatKey(f: number): string {
  return Number.isInteger(f) ? "n" + BigInt(f).toString() : "f" + f;
}
