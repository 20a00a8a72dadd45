// Added tokens (`<|im_end|>`, `<tool_call>`) are found in the raw text before anything else runs: exact matches,
// leftmost first and longest first at one position, as Hugging Face's AddedVocabulary does.

import { escapeRegExp } from "./onig-regex.ts";
import type { AddedToken } from "./tokenizer-json.ts";

/** A stretch of ordinary text, or the id of an added token found in the text. */
export type Segment = string | number;

function matcher(tokens: readonly AddedToken[]): RegExp | null {
  if (tokens.length === 0) return null;
  const alternatives = [...tokens]
    .sort((a, b) => b.content.length - a.content.length)
    .map((token) => {
      const body = `(${escapeRegExp(token.content)})`;
      return `${token.lstrip ? "\\p{White_Space}*" : ""}${body}${token.rstrip ? "\\p{White_Space}*" : ""}`;
    });
  return new RegExp(alternatives.join("|"), "gu");
}

export class AddedTokenSplitter {
  private readonly all: RegExp | null;
  private readonly nonSpecial: RegExp | null;
  /** Content → id; a match reports which token it found through its one defined capture group. */
  private readonly idByContent: ReadonlyMap<string, number>;

  constructor(tokens: readonly AddedToken[]) {
    this.all = matcher(tokens);
    this.nonSpecial = matcher(tokens.filter((token) => !token.special));
    this.idByContent = new Map(tokens.map((token) => [token.content, token.id]));
  }

  /** Splits `text` at added tokens; with `matchSpecial` false, special ones stay ordinary text. */
  split(text: string, matchSpecial: boolean): Segment[] {
    const re = matchSpecial ? this.all : this.nonSpecial;
    if (re === null) return text === "" ? [] : [text];
    const segments: Segment[] = [];
    let start = 0;
    re.lastIndex = 0;
    for (let match = re.exec(text); match !== null; match = re.exec(text)) {
      if (match.index > start) segments.push(text.slice(start, match.index));
      const content = match.find((group, i) => i > 0 && group !== undefined)!;
      segments.push(this.idByContent.get(content)!);
      start = match.index + match[0].length;
    }
    if (start < text.length) segments.push(text.slice(start));
    return segments;
  }
}
