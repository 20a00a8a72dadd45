// Hugging Face's Rust tokenizers compile `Split` patterns with Oniguruma (Ruby syntax, UTF-8). This translates the
// subset that byte-level BPE tokenizers use into an equivalent JavaScript `u`-mode RegExp, and rejects everything
// else by name rather than guessing. The semantic differences it bridges:
// - `\s`/`\S` are Unicode White_Space in Oniguruma (JS adds U+FEFF and drops U+0085); `\d` is Unicode Nd.
// - `(?i:...)` uses Unicode case folding, so `(?i:s)` also matches U+017F "ſ"; letters become explicit classes.
// - `.` excludes only "\n" (JS also excludes "\r", U+2028, U+2029).
// - identity escapes such as `\'` are fine in Oniguruma but syntax errors in JS `u` mode.

/** A pattern construct this translator does not reproduce. */
export class UnsupportedPatternError extends Error {}

// A letter under `(?i:...)`, rendered once the folding classes of all such letters are known.
type Part = string | { readonly foldLetter: string; readonly inClass: boolean };

const SHORTHANDS: Readonly<Record<string, string>> = {
  s: "\\p{White_Space}",
  S: "\\P{White_Space}",
  d: "\\p{Nd}",
  D: "\\P{Nd}",
};
const CONTROL_ESCAPES = new Set(["r", "n", "t", "f", "v"]);
// The characters JS `u` mode lets (and makes) us escape; "-" only inside a class.
const JS_SYNTAX = new Set([..."^$\\.*+?()[]{}|/"]);

function fail(pattern: string, at: number, what: string): never {
  throw new UnsupportedPatternError(
    `unsupported regex construct ${what} at offset ${at} in pre-tokenizer pattern ${JSON.stringify(pattern)}`,
  );
}

function isLetter(ch: string): boolean {
  return /\p{L}/u.test(ch) && ch.toLowerCase() !== ch.toUpperCase();
}

/** Reads one backslash escape at `at` (pointing at the backslash); returns the JS text and the offset after it. */
function translateEscape(pattern: string, at: number, inClass: boolean): [string, number] {
  const ch = pattern[at + 1];
  if (ch === undefined) fail(pattern, at, "trailing backslash");
  if (ch in SHORTHANDS) return [SHORTHANDS[ch], at + 2];
  if (CONTROL_ESCAPES.has(ch)) return ["\\" + ch, at + 2];
  if (ch === "p" || ch === "P") {
    const close = pattern.indexOf("}", at);
    if (pattern[at + 2] !== "{" || close < 0) fail(pattern, at, `\\${ch} without {name}`);
    const name = pattern.slice(at + 3, close);
    const negated = (ch === "P") !== name.startsWith("^");
    return [`\\${negated ? "P" : "p"}{${name.replace(/^\^/, "")}}`, close + 1];
  }
  if (ch === "x") {
    const braced = /^\{([0-9a-fA-F]{1,6})\}/.exec(pattern.slice(at + 2));
    if (braced) return [`\\u{${braced[1]}}`, at + 3 + braced[0].length - 1];
    const plain = /^[0-9a-fA-F]{2}/.exec(pattern.slice(at + 2));
    if (plain) return [`\\x${plain[0]}`, at + 4];
    fail(pattern, at, "\\x without hex digits");
  }
  if (ch === "u" && /^[0-9a-fA-F]{4}/.test(pattern.slice(at + 2))) return [pattern.slice(at, at + 6), at + 6];
  if (/[0-9A-Za-z]/.test(ch)) fail(pattern, at, `\\${ch}`);
  if (ch === "-") return [inClass ? "\\-" : "-", at + 2];
  return [JS_SYNTAX.has(ch) ? "\\" + ch : ch, at + 2];
}

/** Reads a bracket class at `at` (pointing at "["); returns its parts and the offset after the closing "]". */
function translateClass(pattern: string, at: number, caseless: boolean): [Part[], number] {
  const parts: Part[] = ["["];
  let i = at + 1;
  if (pattern[i] === "^") {
    parts.push("^");
    i++;
  }
  let first = true;
  while (i < pattern.length && (pattern[i] !== "]" || first)) {
    const ch = pattern[i];
    if (ch === "[") fail(pattern, i, "nested class or POSIX bracket");
    if (ch === "&" && pattern[i + 1] === "&") fail(pattern, i, "class intersection &&");
    if (ch === "-" && caseless && !first && pattern[i + 1] !== "]") fail(pattern, i, "range inside (?i:...)");
    if (ch === "\\") {
      const [text, next] = translateEscape(pattern, i, true);
      parts.push(text);
      i = next;
    } else {
      const cp = String.fromCodePoint(pattern.codePointAt(i)!);
      parts.push(caseless && isLetter(cp) ? { foldLetter: cp, inClass: true } : JS_SYNTAX.has(cp) ? "\\" + cp : cp);
      i += cp.length;
    }
    first = false;
  }
  if (i >= pattern.length) fail(pattern, at, "unterminated [");
  parts.push("]");
  return [parts, i + 1];
}

const GROUP_OPENERS: readonly (readonly [string, string])[] = [
  ["(?:", "(?:"],
  ["(?=", "(?="],
  ["(?!", "(?!"],
  ["(?<=", "(?<="],
  ["(?<!", "(?<!"],
  ["(?i:", "(?:"],
];

function parse(pattern: string): Part[] {
  const parts: Part[] = [];
  const caselessStack: boolean[] = [];
  let caseless = false;
  let i = 0;
  while (i < pattern.length) {
    const ch = pattern[i];
    if (ch === "\\") {
      const [text, next] = translateEscape(pattern, i, false);
      parts.push(text);
      i = next;
    } else if (ch === "[") {
      const [classParts, next] = translateClass(pattern, i, caseless);
      parts.push(...classParts);
      i = next;
    } else if (ch === "(") {
      const opener = GROUP_OPENERS.find(([onig]) => pattern.startsWith(onig, i));
      if (!opener && pattern[i + 1] === "?") fail(pattern, i, pattern.slice(i, i + 3));
      const [onig, js] = opener ?? ["(", "(?:"]; // captures are never read: make them plain groups
      caselessStack.push(caseless);
      caseless ||= onig === "(?i:";
      parts.push(js);
      i += onig.length;
    } else if (ch === ")") {
      if (caselessStack.length === 0) fail(pattern, i, "unbalanced )");
      caseless = caselessStack.pop()!;
      parts.push(")");
      i++;
    } else if ("*+?}".includes(ch) && pattern[i + 1] === "+") {
      fail(pattern, i, "possessive or stacked quantifier");
    } else if (ch === "^" || ch === "$") {
      fail(pattern, i, `anchor ${ch}`);
    } else if (ch === ".") {
      parts.push("[^\\n]");
      i++;
    } else {
      const cp = String.fromCodePoint(pattern.codePointAt(i)!);
      parts.push(caseless && isLetter(cp) ? { foldLetter: cp, inClass: false } : "]/".includes(cp) ? "\\" + cp : cp);
      i += cp.length;
    }
  }
  if (caselessStack.length > 0) fail(pattern, pattern.length, "unclosed (");
  return parts;
}

// Letter → every character that case-folds with it; shared by all tokenizers of the process (the scan costs ~0.1 s).
const foldClassCache = new Map<string, string>();

/**
 * Every character that case-folds together with each given letter, found with the JS engine's own Unicode case
 * folding (`/x/iu`, the simple folding Oniguruma also applies to single characters) in one scan of all code points.
 */
function caseFoldClasses(letters: ReadonlySet<string>): ReadonlyMap<string, string> {
  const missing = [...letters].filter((letter) => !foldClassCache.has(letter));
  if (missing.length > 0) {
    const anyMissing = new RegExp(`^[${missing.join("")}]$`, "iu");
    const perLetter = missing.map((letter) => [letter, new RegExp(`^${letter}$`, "iu")] as const);
    for (const letter of missing) foldClassCache.set(letter, "");
    for (let cp = 0; cp <= 0x10ffff; cp++) {
      if (cp === 0xd800) cp = 0xe000; // surrogate code points are not characters
      const ch = String.fromCodePoint(cp);
      if (!anyMissing.test(ch)) continue;
      for (const [letter, re] of perLetter) {
        if (re.test(ch)) foldClassCache.set(letter, foldClassCache.get(letter) + ch);
      }
    }
  }
  return foldClassCache;
}

/** The JavaScript source (for flags "gu") equivalent to an Oniguruma pre-tokenizer pattern. */
function translateOnigPattern(pattern: string): string {
  const parts = parse(pattern);
  const letters = new Set(parts.flatMap((part) => (typeof part === "string" ? [] : [part.foldLetter])));
  const classes = caseFoldClasses(letters);
  // A folded letter inside a bracket class contributes its members; outside one it becomes a class of its own.
  return parts
    .map((part) => {
      if (typeof part === "string") return part;
      const members = classes.get(part.foldLetter)!;
      return part.inClass || [...members].length === 1 ? members : `[${members}]`;
    })
    .join("");
}

/** Compiles an Oniguruma pre-tokenizer pattern into a global Unicode JS RegExp. */
export function compileOnigPattern(pattern: string): RegExp {
  const source = translateOnigPattern(pattern);
  try {
    return new RegExp(source, "gu");
  } catch (error) {
    throw new UnsupportedPatternError(
      `pre-tokenizer pattern ${JSON.stringify(pattern)} translated to /${source}/u, which JavaScript rejects: ${
        (error as Error).message
      }`,
    );
  }
}

/** JS source matching `text` literally (u mode). */
export function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|]/g, "\\$&");
}
