// Plain Python data as the host holds it: the values a guest may return and a gold repr may spell.
// Scalars are JS primitives (cheap to decode and compare); containers are tagged objects.
//   None → null · bool → boolean · int → bigint · float → number (binary64: nan, ±inf, -0.0 exact)
//   str → string · bytes → Uint8Array · complex, list, tuple, set, frozenset, dict → { kind, ... }
// A str is a sequence of code points held as a JS string; a Python str with a lone high surrogate directly followed
// by a lone low surrogate has no such form (JS would read the pair as one code point), so it is not comparable.

export type PyValue =
  | null
  | boolean
  | bigint
  | number
  | string
  | Uint8Array
  | PyComplex
  | PyList
  | PyTuple
  | PySet
  | PyFrozenSet
  | PyDict;

export interface PyComplex {
  readonly kind: "complex";
  readonly re: number;
  readonly im: number;
}
/** A container of items; set and frozenset members are in the order held (after a decode, the guest's iteration
 * order) and never two equal. */
export interface PyItems<K extends "list" | "tuple" | "set" | "frozenset"> {
  readonly kind: K;
  readonly items: readonly PyValue[];
}
export type PyList = PyItems<"list">;
export type PyTuple = PyItems<"tuple">;
export type PySet = PyItems<"set">;
export type PyFrozenSet = PyItems<"frozenset">;
/** Entries in insertion order; never two equal keys. */
export interface PyDict {
  readonly kind: "dict";
  readonly entries: readonly (readonly [PyValue, PyValue])[];
}

/** Caps shared by the host codec and `plain.py`: past them a value is not comparable. */
export const LIMITS = {
  /** containers nested inside one another (`[[...]]` with 100 pairs of brackets is the deepest allowed) */
  depth: 100,
  /** values in one tree, scalars and containers alike */
  values: 1_000_000,
  /** bytes of one encoding */
  bytes: 16 * 1024 * 1024,
  /** decimal digits of one int (CPython's default `sys.get_int_max_str_digits()`) */
  intDigits: 4300,
} as const;

export const complex = (re: number, im: number): PyComplex => ({ kind: "complex", re, im });
export const list = (items: readonly PyValue[]): PyList => ({ kind: "list", items });
export const tuple = (items: readonly PyValue[]): PyTuple => ({ kind: "tuple", items });
export const set = (items: readonly PyValue[]): PySet => ({ kind: "set", items });
export const frozenset = (items: readonly PyValue[]): PyFrozenSet => ({ kind: "frozenset", items });
export const dict = (entries: readonly (readonly [PyValue, PyValue])[]): PyDict => ({ kind: "dict", entries });

/** Python's type name of a value (`type(v).__name__`). */
export function typeName(v: PyValue): string {
  if (v === null) return "NoneType";
  switch (typeof v) {
    case "boolean":
      return "bool";
    case "bigint":
      return "int";
    case "number":
      return "float";
    case "string":
      return "str";
  }
  return v instanceof Uint8Array ? "bytes" : v.kind;
}
