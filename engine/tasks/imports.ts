// The import statements of a Python snippet, exactly as the reference's parse_imports lists them
// (LeapLabTHU/Absolute-Zero-Reasoner master @ a82124e, absolute_zero_reasoner/utils/code_utils/parsers.py): it walks
// `ast.parse(code)` with `ast.walk`, so the order is breadth-first (every top-level import, then those one level
// deeper, …), duplicates stay, and each statement is re-rendered from its parts (`from x import (a,\n b)` becomes
// `from x import a, b`). Here a tokenizer that knows strings (f-strings included), comments, brackets, backslash
// continuations and indentation finds the statements and their depth in the tree; text it cannot read as Python gets
// the reference's own fallback for a SyntaxError, a line regex. Text processing only: nothing is executed.
import { PY_SPACE, pyStrip } from "./pyre.ts";

class PySyntaxError extends Error {}

type Token = { kind: "name" | "op" | "string" | "number"; text: string; depth: number };
interface LogicalLine {
  indent: number;
  tokens: Token[];
}

const ID_START = /[\p{ID_Start}_]/u;
const ID_CONTINUE = /[\p{ID_Continue}]/u;
const STRING_PREFIX = /^(?:[rRuUbBfF]|[rR][bBfF]|[bBfF][rR])$/;
const OPENERS = "([{";
const CLOSERS = ")]}";

/** Length of the line break at `i` (`\r\n`, `\n` or a lone `\r`), 0 when there is none. */
function lineBreak(src: string, i: number): number {
  if (src[i] === "\r") return src[i + 1] === "\n" ? 2 : 1;
  return src[i] === "\n" ? 1 : 0;
}

/** Splits source into logical lines of tokens, the way CPython's tokenizer joins and indents them. */
function logicalLines(src: string): LogicalLine[] {
  const lines: LogicalLine[] = [];
  let tokens: Token[] = [];
  let depth = 0;
  let indent = 0;
  let atLineStart = true;
  let i = 0;
  const endLine = (): void => {
    if (tokens.length > 0) lines.push({ indent, tokens });
    tokens = [];
    atLineStart = true;
  };
  while (i < src.length) {
    if (atLineStart && depth === 0) {
      let col = 0;
      while (i < src.length && " \t\f".includes(src[i])) {
        col = src[i] === " " ? col + 1 : src[i] === "\t" ? Math.floor(col / 8) * 8 + 8 : 0;
        i++;
      }
      indent = col;
      atLineStart = false;
      continue;
    }
    const c = src[i];
    const br = lineBreak(src, i);
    if (br > 0) {
      i += br;
      if (depth === 0) endLine();
      continue;
    }
    if (c === "\\") {
      const next = lineBreak(src, i + 1);
      if (next === 0) throw new PySyntaxError("unexpected character after line continuation");
      i += 1 + next;
      continue;
    }
    if (c === " " || c === "\t" || c === "\f") {
      i++;
      continue;
    }
    if (c === "#") {
      while (i < src.length && lineBreak(src, i) === 0) i++;
      continue;
    }
    if (c === "'" || c === '"') {
      i = scanString(src, i, "");
      tokens.push({ kind: "string", text: "", depth });
      continue;
    }
    const cp = src.codePointAt(i) as number;
    const ch = String.fromCodePoint(cp);
    if (ID_START.test(ch)) {
      let j = i + ch.length;
      while (j < src.length) {
        const n = String.fromCodePoint(src.codePointAt(j) as number);
        if (!ID_CONTINUE.test(n)) break;
        j += n.length;
      }
      const word = src.slice(i, j);
      if ((src[j] === "'" || src[j] === '"') && STRING_PREFIX.test(word)) {
        i = scanString(src, j, word);
        tokens.push({ kind: "string", text: "", depth });
        continue;
      }
      tokens.push({ kind: "name", text: word.normalize("NFKC"), depth });
      i = j;
      continue;
    }
    if (/[0-9]/.test(c) || (c === "." && /[0-9]/.test(src[i + 1] ?? ""))) {
      let j = i + 1;
      while (j < src.length && /[0-9a-zA-Z_.]/.test(src[j])) j++;
      tokens.push({ kind: "number", text: src.slice(i, j), depth });
      i = j;
      continue;
    }
    if (src.startsWith("...", i)) {
      tokens.push({ kind: "op", text: "...", depth });
      i += 3;
      continue;
    }
    if (src.startsWith(":=", i)) {
      tokens.push({ kind: "op", text: ":=", depth });
      i += 2;
      continue;
    }
    if (OPENERS.includes(c)) {
      tokens.push({ kind: "op", text: c, depth });
      depth++;
      i++;
      continue;
    }
    if (CLOSERS.includes(c)) {
      if (depth === 0) throw new PySyntaxError(`unmatched '${c}'`);
      depth--;
      tokens.push({ kind: "op", text: c, depth });
      i++;
      continue;
    }
    if ("+-*/%@&|^~<>=!.,:;".includes(c)) {
      tokens.push({ kind: "op", text: c, depth });
      i++;
      continue;
    }
    throw new PySyntaxError(`invalid character ${JSON.stringify(ch)}`);
  }
  if (depth > 0) throw new PySyntaxError("unclosed bracket");
  endLine();
  return lines;
}

/** End of the string literal whose opening quote is at `i`; f-strings may nest expressions (Python 3.12 rules). */
function scanString(src: string, i: number, prefix: string): number {
  const quote = src[i];
  const triple = src.startsWith(quote.repeat(3), i);
  const close = triple ? quote.repeat(3) : quote;
  const raw = /[rR]/.test(prefix);
  const fmt = /[fF]/.test(prefix);
  // A backslash keeps the next character in the literal (in raw strings too, as far as finding the end goes).
  let p = i + close.length;
  while (true) {
    if (p >= src.length) throw new PySyntaxError("unterminated string literal");
    const c = src[p];
    if (src.startsWith(close, p)) return p + close.length;
    if (!triple && lineBreak(src, p) > 0) throw new PySyntaxError("unterminated string literal");
    if (c === "\\") {
      // \N{NAME} in a non-raw f-string is an escape, not a replacement field.
      if (fmt && !raw && src.startsWith("N{", p + 1)) p = src.indexOf("}", p) + 1 || src.length;
      else p += 1 + Math.max(1, lineBreak(src, p + 1));
      continue;
    }
    if (fmt && c === "{") {
      if (src[p + 1] === "{") p += 2;
      else p = scanReplacement(src, p + 1);
      continue;
    }
    if (fmt && c === "}" && src[p + 1] === "}") {
      p += 2;
      continue;
    }
    p++;
  }
}

/** End of an f-string replacement field `{…}` whose body starts at `p`: nested strings, brackets, a format spec. */
function scanReplacement(src: string, p: number): number {
  let depth = 0;
  while (true) {
    if (p >= src.length) throw new PySyntaxError("unterminated f-string");
    const c = src[p];
    if (c === "'" || c === '"') {
      p = scanString(src, p, "");
      continue;
    }
    const word = /^[A-Za-z]{1,2}(?=['"])/.exec(src.slice(p, p + 3));
    if (word && STRING_PREFIX.test(word[0]) && !/[\p{ID_Continue}]/u.test(src[p - 1] ?? "")) {
      p = scanString(src, p + word[0].length, word[0]);
      continue;
    }
    if (OPENERS.includes(c)) depth++;
    else if (c === ")" || c === "]") depth--;
    else if (c === "}") {
      if (depth === 0) return p + 1;
      depth--;
    } else if (c === ":" && depth === 0) return scanFormatSpec(src, p + 1); // `{x:=^9}` is a format spec too
    p++;
  }
}

/** End of a format spec (after `:` in a replacement field): literal text with nested `{…}` fields, up to `}`. */
function scanFormatSpec(src: string, p: number): number {
  while (true) {
    if (p >= src.length) throw new PySyntaxError("unterminated f-string");
    if (src[p] === "{") p = scanReplacement(src, p + 1);
    else if (src[p] === "}") return p + 1;
    else p++;
  }
}

/** Simple statements of a token run, split at `;` outside brackets. */
function splitStatements(tokens: readonly Token[]): Token[][] {
  const out: Token[][] = [[]];
  for (const t of tokens) {
    if (t.kind === "op" && t.text === ";" && t.depth === 0) out.push([]);
    else out[out.length - 1].push(t);
  }
  return out.filter((s) => s.length > 0);
}

/** Index of a compound header's colon: the first `:` outside brackets that no `lambda` claims; -1 if none. */
function headerColon(tokens: readonly Token[]): number {
  let lambdas = 0;
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k];
    if (t.depth !== 0) continue;
    if (t.kind === "name" && t.text === "lambda") lambdas++;
    else if (t.kind === "op" && t.text === ":") {
      if (lambdas === 0) return k;
      lambdas--;
    }
  }
  return -1;
}

const isName = (t: Token | undefined, text?: string): boolean => t?.kind === "name" && (text === undefined || t.text === text);
const isOp = (t: Token | undefined, text: string): boolean => t?.kind === "op" && t.text === text;

/** An import statement's text as the reference renders it from its AST node, or null when it is not an import. */
function renderImport(s: readonly Token[]): string | null {
  let k = 0;
  const fail = (): never => {
    throw new PySyntaxError("invalid import statement");
  };
  const dotted = (): string => {
    if (!isName(s[k])) fail();
    const parts = [s[k++].text];
    while (isOp(s[k], ".")) {
      k++;
      if (!isName(s[k])) fail();
      parts.push(s[k++].text);
    }
    return parts.join(".");
  };
  const alias = (name: string): string => {
    if (!isName(s[k], "as")) return name;
    k++;
    if (!isName(s[k])) fail();
    return `${name} as ${s[k++].text}`;
  };
  if (isName(s[0], "import")) {
    k = 1;
    const names = [alias(dotted())];
    while (isOp(s[k], ",")) {
      k++;
      names.push(alias(dotted()));
    }
    if (k !== s.length) fail();
    return `import ${names.join(", ")}`;
  }
  if (!isName(s[0], "from")) return null;
  k = 1;
  let level = 0;
  while (isOp(s[k], ".") || isOp(s[k], "...")) level += s[k++].text.length;
  const module = isName(s[k]) && !isName(s[k], "import") ? dotted() : "";
  if (level === 0 && module === "") fail();
  if (!isName(s[k], "import")) fail();
  k++;
  const names: string[] = [];
  if (isOp(s[k], "*")) {
    names.push("*");
    k++;
  } else {
    const paren = isOp(s[k], "(");
    if (paren) k++;
    while (true) {
      if (!isName(s[k])) fail();
      names.push(alias(s[k++].text));
      if (!isOp(s[k], ",")) break;
      k++;
      if (paren && isOp(s[k], ")")) break; // a trailing comma, allowed inside parentheses only
    }
    if (paren && !isOp(s[k++], ")")) fail();
  }
  if (k !== s.length) fail();
  return `from ${".".repeat(level)}${module} import ${names.join(", ")}`;
}

const CLAUSES = new Set(["elif", "else", "except", "finally"]);
const COMPOUND = new Set(["if", "while", "for", "with", "def", "class", "try", "async"]);

interface Block {
  indent: number;
  /** ast.walk depth of the statements in this block (Module = 0, so top-level statements are 1). */
  depth: number;
  match: boolean;
  /** The compound statement a clause (elif/else/except/finally) at this level would continue. */
  last: { kind: string; depth: number } | null;
}

/** Every import with its ast.walk depth, in source order. */
function importsWithDepth(src: string): Array<{ text: string; depth: number }> {
  const found: Array<{ text: string; depth: number }> = [];
  const simple = (tokens: readonly Token[], depth: number): void => {
    for (const s of splitStatements(tokens)) {
      const text = renderImport(s);
      if (text !== null) found.push({ text, depth });
    }
  };
  const blocks: Block[] = [{ indent: 0, depth: 1, match: false, last: null }];
  let pending: { depth: number; match: boolean } | null = null;
  for (const line of logicalLines(src)) {
    let top = blocks[blocks.length - 1];
    if (pending !== null) {
      if (line.indent <= top.indent) throw new PySyntaxError("expected an indented block");
      top = { indent: line.indent, depth: pending.depth, match: pending.match, last: null };
      blocks.push(top);
      pending = null;
    } else {
      if (line.indent > top.indent) throw new PySyntaxError("unexpected indent");
      while (line.indent < top.indent) {
        blocks.pop();
        top = blocks[blocks.length - 1];
      }
      if (line.indent !== top.indent) throw new PySyntaxError("unindent does not match any outer indentation level");
    }
    const [first] = line.tokens;
    if (isOp(first, "@")) continue; // a decorator: part of the def/class that follows
    const word = first.kind === "name" ? first.text : "";
    const isMatch = word === "match" && line.tokens.length > 2 && isOp(line.tokens.at(-1), ":") && line.tokens.at(-1)!.depth === 0;
    const isCase = word === "case" && top.match;
    if (!COMPOUND.has(word) && !CLAUSES.has(word) && !isMatch && !isCase) {
      top.last = null;
      simple(line.tokens, top.depth);
      continue;
    }
    let body: number;
    if (CLAUSES.has(word)) {
      const last = top.last;
      if (last === null) throw new PySyntaxError(`'${word}' without a statement to continue`);
      if (word === "elif") {
        top.last = { kind: "if", depth: last.depth + 1 }; // each elif is an If inside the previous one's orelse
        body = last.depth + 2;
      } else body = last.depth + (word === "except" ? 2 : 1); // an except body sits under its ExceptHandler
    } else {
      top.last = { kind: word, depth: top.depth };
      body = top.depth + 1;
    }
    const colon = headerColon(line.tokens);
    if (colon < 0) throw new PySyntaxError(`'${word}' header without ':'`);
    const rest = line.tokens.slice(colon + 1);
    if (rest.length > 0) simple(rest, body);
    else pending = { depth: body, match: isMatch };
  }
  if (pending !== null) throw new PySyntaxError("expected an indented block at the end");
  return found;
}

/** The reference's fallback on a SyntaxError: `re.findall(r"^\s*(?:from|import)\s+.*$", code, re.MULTILINE)`, stripped. */
function regexImports(code: string): string[] {
  const pattern = new RegExp(`(?<![^\\n])${PY_SPACE}*(?:from|import)${PY_SPACE}+[^\\n]*`, "gu");
  return [...code.matchAll(pattern)].map((m) => pyStrip(m[0]));
}

/**
 * The reference's `parse_imports(code)`: import statements in ast.walk order (breadth-first), duplicates kept.
 *
 * @example parseImports("from collections import (\n    Counter,\n)\ndef f(x):\n    import re\n    return x")
 *   // ["from collections import Counter", "import re"]
 * @example parseImports('def f():\n    """import os"""\n    return 1')   // []
 */
export function parseImports(code: string): string[] {
  let found: Array<{ text: string; depth: number }>;
  try {
    found = importsWithDepth(code);
  } catch (e) {
    if (e instanceof PySyntaxError) return regexImports(code);
    throw e;
  }
  // A stable sort by depth: at one depth, breadth-first order is source order.
  return found
    .map((f, k) => ({ ...f, k }))
    .sort((a, b) => a.depth - b.depth || a.k - b.k)
    .map((f) => f.text);
}
