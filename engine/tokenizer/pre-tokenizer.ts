// Cuts normalized text into pre-tokens, the units BPE merges within: each `Split` pattern (Isolated: matches and the
// gaps between them both become pieces), then ByteLevel's optional prefix space and GPT-2 split.

import type { PreTokenizerSpec } from "./tokenizer-json.ts";

type Emit = (piece: string) => void;
type Step = (piece: string, emit: Emit) => void;

function isolatedSplit(re: RegExp): Step {
  return (text, emit) => {
    let start = 0;
    re.lastIndex = 0;
    for (let match = re.exec(text); match !== null; match = re.exec(text)) {
      const end = match.index + match[0].length;
      if (end === match.index) {
        re.lastIndex = end + ((text.codePointAt(end) ?? 0) > 0xffff ? 2 : 1); // an empty match produces no piece
        continue;
      }
      if (match.index > start) emit(text.slice(start, match.index));
      emit(match[0]);
      start = end;
    }
    if (start < text.length) emit(text.slice(start));
  };
}

const prefixSpace: Step = (piece, emit) => emit(piece.startsWith(" ") ? piece : " " + piece);

/** Calls `emit` with each pre-token of `text`, in order. */
export type PreTokenize = (text: string, emit: Emit) => void;

export function buildPreTokenizer(spec: PreTokenizerSpec): PreTokenize {
  const steps: Step[] = spec.splits.map(isolatedSplit);
  if (spec.addPrefixSpace) steps.push(prefixSpace);
  if (spec.byteLevelSplit) steps.push(isolatedSplit(spec.byteLevelSplit));
  // Chain from the last step backwards so that each step hands its pieces straight to the next.
  return steps.reduceRight<PreTokenize>(
    (downstream, step) => (text, emit) => step(text, (piece) => downstream(piece, emit)),
    (text, emit) => emit(text),
  );
}
