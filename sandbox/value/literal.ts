// Python literals → PyValue with `ast.literal_eval` semantics (CPython 3.12 Lib/ast.py), and call-argument text.
// The parser builds the same tree shape CPython's parser would (parentheses transparent, unary and binary +/-
// as nodes), then converts it with literal_eval's own rules: a sign only on a number constant, `a ± bj` only as
// (signed int/float) ± (imaginary constant), `set()` with no arguments, sets and dicts deduplicated as Python does
// (the first key object stays, the last value wins). Everything else is a `NotLiteral`.

import { NotLiteral } from "./errors.ts";
import { hashKey, pyEqual, UnhashableError } from "./equal.ts";
import { endsWithHighSurrogate, startsWithLowSurrogate, tokenize, type Token } from "./lex.ts";
import { LIMITS, type PyValue } from "./types.ts";

export interface LiteralOptions {
  /**
   * Also accept what CPython's repr prints for plain values but literal_eval refuses: `nan`, `inf` (and `nanj`,
   * `infj` in complex reprs) and `frozenset()` / `frozenset({...})`. For parsing gold outputs, never answers.
   */
  readonly repr?: boolean;
}

/** `ast.literal_eval(text)` as plain data. Throws `NotLiteral` where literal_eval raises or the value is not plain. */
export function parseLiteral(text: string, options: LiteralOptions = {}): PyValue {
  const body = text.replace(/^[ \t]+/, ""); // literal_eval strips leading spaces and tabs
  const p = new Parser(tokenize(body, { inParens: false, comments: true }), options.repr === true, text.length - body.length);
  const node = p.expressions();
  p.expectEnd();
  return p.convert(node, 0);
}

export interface Arguments {
  readonly args: PyValue[];
  readonly kwargs: Array<[string, PyValue]>;
}

/**
 * The arguments of `f(<text>)` when every one is a literal (`'a', 2, k=3`). Throws `NotLiteral` for anything
 * else — a computed value, `*`/`**`, a comment, a syntax error — so the caller can evaluate the text in a guest.
 */
export function parseArguments(text: string): Arguments {
  const p = new Parser(tokenize(text, { inParens: true, comments: false }), false, 0);
  const args: PyValue[] = [];
  const kwargs: Array<[string, PyValue]> = [];
  while (!p.atEnd()) {
    const kw = p.keywordName();
    if (kw !== undefined) {
      if (kwargs.some(([k]) => k === kw)) p.reject(`keyword argument repeated: ${kw}`);
      kwargs.push([kw, p.convert(p.expression(), 0)]);
    } else {
      if (kwargs.length > 0) p.reject("positional argument follows keyword argument");
      args.push(p.convert(p.expression(), 0));
    }
    if (!p.eat(",")) break;
  }
  p.expectEnd();
  return { args, kwargs };
}

type Node =
  | { readonly t: "const"; readonly v: PyValue; readonly num: boolean; readonly at: number }
  | { readonly t: "ellipsis"; readonly at: number }
  | { readonly t: "unary"; readonly neg: boolean; readonly operand: Node; readonly at: number }
  | { readonly t: "binop"; readonly sub: boolean; readonly left: Node; readonly right: Node; readonly at: number }
  | { readonly t: "tuple" | "list" | "set" | "frozenset"; readonly items: readonly Node[]; readonly at: number }
  | { readonly t: "dict"; readonly entries: readonly (readonly [Node, Node])[]; readonly at: number };

const CLOSERS = new Set([")", "]", "}"]);

class Parser {
  private i = 0;
  private values = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly repr: boolean,
    private readonly shift: number,
  ) {}

  reject(why: string, at = this.peek().at): never {
    throw new NotLiteral("rejected", at + this.shift, why);
  }

  private peek(): Token {
    return this.tokens[this.i];
  }

  private isOp(op: string, k = 0): boolean {
    const tok = this.tokens[this.i + k];
    return tok !== undefined && tok.t === "op" && tok.op === op;
  }

  eat(op: string): boolean {
    if (!this.isOp(op)) return false;
    this.i++;
    return true;
  }

  private expect(op: string): void {
    if (!this.eat(op)) this.reject(`'${op}' was expected`);
  }

  atEnd(): boolean {
    return this.peek().t === "end";
  }

  expectEnd(): void {
    if (!this.atEnd()) this.reject("unexpected text after the value");
  }

  /** At `name =` (not `==`): consumes both and returns the name. */
  keywordName(): string | undefined {
    const tok = this.peek();
    if (tok.t !== "name" || !this.isOp("=", 1) || this.isOp("=", 2)) return undefined;
    if (tok.keyword) this.reject(`cannot assign to ${tok.id}`);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(tok.id)) {
      throw new NotLiteral("unsupported", tok.at, "a non-ASCII keyword name (NFKC rules)");
    }
    this.i += 2;
    return tok.id;
  }

  /** eval input: one expression, or a tuple without parentheses (`1, 2`). */
  expressions(): Node {
    const at = this.peek().at;
    const first = this.expression();
    if (!this.isOp(",")) return first;
    const items = [first];
    while (this.eat(",") && !this.atEnd()) items.push(this.expression());
    return { t: "tuple", items, at };
  }

  /** A sum of signed terms; any other operator or keyword after it makes the text non-literal. */
  expression(): Node {
    let left = this.unary();
    while (this.isOp("+") || this.isOp("-")) {
      const at = this.peek().at;
      const sub = this.isOp("-");
      this.i++;
      left = { t: "binop", sub, left, right: this.unary(), at };
    }
    const tok = this.peek();
    if (tok.t === "op" ? !(CLOSERS.has(tok.op) || tok.op === "," || tok.op === ":") : tok.t !== "end") {
      this.reject("not a literal (an operator, keyword or name follows a value)");
    }
    return left;
  }

  private unary(): Node {
    const at = this.peek().at;
    if (this.isOp("+") || this.isOp("-")) {
      const neg = this.isOp("-");
      this.i++;
      if (this.isOp("+") || this.isOp("-")) this.reject("a sign on a sign");
      return { t: "unary", neg, operand: this.atom(), at };
    }
    return this.atom();
  }

  private atom(): Node {
    const tok = this.peek();
    const node = this.primary(tok);
    if (this.isOp("(") || this.isOp("[") || this.isOp(".")) this.reject("a call, subscript or attribute");
    return node;
  }

  private primary(tok: Token): Node {
    const at = tok.at;
    switch (tok.t) {
      case "num": {
        this.i++;
        const v = tok.v;
        return { t: "const", v: typeof v === "object" ? { kind: "complex", re: 0, im: v.imag } : v, num: true, at };
      }
      case "str":
        return { t: "const", v: this.strings(), num: false, at };
      case "name":
        return this.name(tok);
      case "end":
        return this.reject("a value was expected");
    }
    this.i++;
    switch (tok.op) {
      case "(": {
        if (this.eat(")")) return { t: "tuple", items: [], at };
        const first = this.expression();
        if (this.eat(")")) return first; // parentheses only group
        if (!this.isOp(",")) this.reject("')' was expected");
        return { t: "tuple", items: [first, ...this.rest(")")], at };
      }
      case "[":
        return { t: "list", items: this.sequence("]"), at };
      case "{": {
        if (this.eat("}")) return { t: "dict", entries: [], at };
        const first = this.expression();
        if (!this.eat(":")) return { t: "set", items: [first, ...this.rest("}")], at };
        const entries: [Node, Node][] = [[first, this.expression()]];
        while (this.eat(",") && !this.isOp("}")) {
          const k = this.expression();
          this.expect(":");
          entries.push([k, this.expression()]);
        }
        this.expect("}");
        return { t: "dict", entries, at };
      }
      case "...":
        return { t: "ellipsis", at };
    }
    return this.reject(`unexpected '${tok.op}'`, at);
  }

  /** Comma-separated expressions up to `close` (a trailing comma allowed). */
  private sequence(close: string): Node[] {
    if (this.eat(close)) return [];
    return [this.expression(), ...this.rest(close)];
  }

  /** After a first element: `(, expr)* [,] close`. */
  private rest(close: string): Node[] {
    const items: Node[] = [];
    while (this.eat(",") && !this.isOp(close)) items.push(this.expression());
    this.expect(close);
    return items;
  }

  /** Adjacent string literals concatenate; bytes and str may not mix. */
  private strings(): string | Uint8Array {
    let acc = (this.peek() as Token & { t: "str" }).v;
    this.i++;
    for (let tok = this.peek(); tok.t === "str"; tok = this.peek()) {
      const v = tok.v;
      if (typeof acc === "string" !== (typeof v === "string")) this.reject("cannot mix bytes and nonbytes literals");
      if (typeof acc === "string" && typeof v === "string") {
        if (endsWithHighSurrogate(acc) && startsWithLowSurrogate(v)) {
          throw new NotLiteral("unsupported", tok.at, "a lone high surrogate followed by a lone low one");
        }
        acc += v;
      } else {
        const joined = new Uint8Array((acc as Uint8Array).length + (v as Uint8Array).length);
        joined.set(acc as Uint8Array);
        joined.set(v as Uint8Array, (acc as Uint8Array).length);
        acc = joined;
      }
      this.i++;
    }
    return acc;
  }

  private name(tok: Token & { t: "name" }): Node {
    const at = tok.at;
    this.i++;
    if (tok.keyword) {
      if (tok.id === "True") return { t: "const", v: true, num: false, at };
      if (tok.id === "False") return { t: "const", v: false, num: false, at };
      if (tok.id === "None") return { t: "const", v: null, num: false, at };
      this.reject(`the keyword '${tok.id}'`, at);
    }
    if (tok.id === "set" && this.isOp("(")) {
      this.i++;
      if (!this.eat(")")) this.reject("set() with arguments");
      return { t: "set", items: [], at };
    }
    if (this.repr) {
      switch (tok.id) {
        case "nan":
          return { t: "const", v: NaN, num: true, at };
        case "inf":
          return { t: "const", v: Infinity, num: true, at };
        case "nanj":
          return { t: "const", v: { kind: "complex", re: 0, im: NaN }, num: true, at };
        case "infj":
          return { t: "const", v: { kind: "complex", re: 0, im: Infinity }, num: true, at };
        case "frozenset":
          if (this.eat("(")) {
            if (this.eat(")")) return { t: "frozenset", items: [], at };
            if (!this.isOp("{")) this.reject("frozenset() of something other than a set display");
            const arg = this.expression();
            this.expect(")");
            if (arg.t !== "set") this.reject("frozenset() of something other than a set display");
            return { t: "frozenset", items: arg.items, at };
          }
      }
    }
    return this.reject(`the name '${tok.id}'`, at);
  }

  // -------------------------------------------------------------------------------------------------------------
  // conversion: Lib/ast.py literal_eval's _convert, _convert_signed_num, _convert_num

  convert(node: Node, depth: number): PyValue {
    if (++this.values > LIMITS.values) throw new NotLiteral("limit", node.at, `more than ${LIMITS.values} values`);
    switch (node.t) {
      case "const":
        return node.v;
      case "ellipsis":
        throw new NotLiteral("not_plain", node.at + this.shift, "Ellipsis is not plain data");
      case "tuple":
      case "list":
      case "set":
      case "frozenset": {
        this.checkDepth(node, depth);
        const items = node.items.map((n) => this.convert(n, depth + 1));
        if (node.t === "tuple" || node.t === "list") return { kind: node.t, items };
        return { kind: node.t, items: this.unique(items, node.at).firsts.map((i) => items[i]) };
      }
      case "dict": {
        this.checkDepth(node, depth);
        const keys: PyValue[] = [];
        const values: PyValue[] = [];
        for (const [k, v] of node.entries) {
          keys.push(this.convert(k, depth + 1));
          values.push(this.convert(v, depth + 1));
        }
        // a repeated key keeps its first key object and takes the last value
        const { firsts, firstOf } = this.unique(keys, node.at);
        const slot = new Map(firsts.map((i, j) => [i, j]));
        const entries: [PyValue, PyValue][] = firsts.map((i) => [keys[i], values[i]]);
        firstOf.forEach((first, i) => (entries[slot.get(first)!][1] = values[i]));
        return { kind: "dict", entries };
      }
      case "binop": {
        const left = this.signedNum(node.left);
        const right = this.num(node.right);
        if ((typeof left === "bigint" || typeof left === "number") && typeof right === "object") {
          const c = right as { re: number; im: number };
          const l = this.toFloat(left, node.at);
          return node.sub
            ? { kind: "complex", re: l - c.re, im: 0 - c.im }
            : { kind: "complex", re: l + c.re, im: 0 + c.im };
        }
        return this.reject("an operator other than int/float ± imaginary", node.at);
      }
      case "unary":
        return this.signedNum(node);
    }
  }

  /** Python's set/dict insertion: `firsts` are the members kept, `firstOf[i]` the kept member equal to item i. */
  private unique(items: readonly PyValue[], at: number): { firsts: number[]; firstOf: number[] } {
    const firsts: number[] = [];
    const firstOf: number[] = [];
    const buckets = new Map<string, number[]>();
    items.forEach((v, i) => {
      let key: string;
      try {
        key = hashKey(v);
      } catch (e) {
        if (e instanceof UnhashableError) this.reject(e.message, at);
        throw e;
      }
      const bucket = buckets.get(key);
      const first = bucket?.find((j) => pyEqual(v, items[j]));
      if (first === undefined) {
        firsts.push(i);
        if (bucket) bucket.push(i);
        else buckets.set(key, [i]);
      }
      firstOf.push(first ?? i);
    });
    return { firsts, firstOf };
  }

  private checkDepth(node: Node, depth: number): void {
    if (depth >= LIMITS.depth) {
      throw new NotLiteral("limit", node.at + this.shift, `containers nested deeper than ${LIMITS.depth}`);
    }
  }

  private toFloat(v: bigint | number, at: number): number {
    if (typeof v === "number") return v;
    const f = Number(v); // correctly rounded, as PyLong_AsDouble
    if (!Number.isFinite(f)) this.reject("int too large to convert to float", at);
    return f;
  }

  private num(node: Node): PyValue {
    if (node.t !== "const" || !node.num) this.reject("not a number", node.at);
    return (node as Node & { t: "const" }).v;
  }

  private signedNum(node: Node): PyValue {
    if (node.t !== "unary") return this.num(node);
    const v = this.num(node.operand);
    if (!node.neg) return v;
    if (typeof v === "bigint") return -v;
    if (typeof v === "number") return -v;
    const c = v as { re: number; im: number };
    return { kind: "complex", re: -c.re, im: -c.im };
  }
}
