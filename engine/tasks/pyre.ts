// Python `re` / `str` semantics in JavaScript regex terms, so patterns ported from the reference match what Python's
// match on any text (docs/reference.md §1.5). JavaScript differs in four ways that matter here: `\w` and `\b` are
// ASCII-only (Python's are Unicode), `\s` has another set (JS adds U+FEFF, lacks U+001C–U+001F and U+0085), `^` in
// multiline mode also matches after `\r`, U+2028 and U+2029 (Python's only after `\n`), and IGNORECASE folds `i` with
// U+0130/U+0131 in Python only. Use these pieces with the `u` flag.

/** Python's `\s` for str patterns (str.isspace): 29 code points. */
export const PY_SPACE = "[\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";
/** Python's `\w` for str patterns: letters, numbers and `_` (equal to Python 3.11's set on Unicode 14 code points). */
export const PY_WORD = "[\\p{L}\\p{N}_]";
/** Python's `\b` before a word character: the previous character is not one. */
export const PY_WORD_START = `(?<!${PY_WORD})`;
/** Python's `^` under re.MULTILINE: the start, or just after `\n`. */
export const PY_LINE_START = "(?<![^\\n])";
/** Python's `$` without MULTILINE: the end, or just before a final `\n`. */
export const PY_END = "(?=\\n?$)";

const SPACE_CHARS = new Set([..."\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000"]);
for (let c = 0x2000; c <= 0x200a; c++) SPACE_CHARS.add(String.fromCharCode(c));

/** str.strip(chars); with no chars, Python's whitespace (str.isspace), not JavaScript's trim set. */
export function pyStrip(s: string, chars?: string): string {
  const drop = (c: string): boolean => (chars === undefined ? SPACE_CHARS.has(c) : chars.includes(c));
  let start = 0;
  let end = s.length;
  while (start < end && drop(s[start])) start++;
  while (end > start && drop(s[end - 1])) end--;
  return s.slice(start, end);
}

/**
 * A literal word for a pattern compiled with the `iu` flags that also matches what Python's IGNORECASE adds: an `i`
 * matches U+0130 (İ) and U+0131 (ı) as well. Other letters of ASCII words fold the same in both engines.
 */
export function caseless(word: string): string {
  return word.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/i/gi, "[i\\u0130\\u0131]");
}
