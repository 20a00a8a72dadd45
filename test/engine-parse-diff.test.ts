// engine/tasks/parse.ts against the reference's own regexes run by python3 (test/support/azr_reference.py) on
// 12,000 fuzzed model outputs: unicode names, CRLF and lone CR, Python-only whitespace, nested and unclosed fences,
// several defs, multi-line imports. Every field must be identical.
import { expect, setDefaultTimeout, test } from "bun:test";
import { Rng } from "../engine/rng.ts";
import {
  extractAnswer,
  formatOk,
  generationText,
  parseInductionProposal,
  parseInductionSolution,
  parseProposal,
  parseSolverValue,
} from "../engine/tasks/parse.ts";
import { runReference } from "./support/azr-reference.ts";
import { fuzzAnswer, fuzzOutput } from "./support/fuzz-python.ts";
import { seedNote, TEST_SEED } from "./support/random-inputs.ts";
import { SLOW_TEST_MS } from "./support/timeouts.ts";

setDefaultTimeout(SLOW_TEST_MS);

const PROMPT = "A conversation … User: task\nAssistant: <think>";

function ours(item: { text: string; answer: string }): Record<string, unknown> {
  let generation: string | null = null;
  try {
    generation = generationText(item.text, "", true);
  } catch {
    generation = null; // no "Assistant:" at all: the reference's split would raise
  }
  const proposal = (rejectMultipleDefs: boolean, fReplaceLocation: "not_first" | "any_last") => {
    const p = parseProposal(item.answer, { rejectMultipleDefs, fReplaceLocation });
    return p.ok ? { code: p.code, input: p.input, imports: p.imports } : null;
  };
  const induction = parseInductionProposal(item.answer, 10);
  return {
    generation,
    format: generation === null ? null : formatOk(generation),
    extract: extractAnswer(item.answer),
    proposal: proposal(true, "not_first"),
    proposal_any_last: proposal(false, "any_last"),
    induction: induction.ok ? { inputs: induction.inputs, message: induction.message } : null,
    input: parseSolverValue(item.answer, "input"),
    output: parseSolverValue(item.answer, "output"),
    function: parseInductionSolution(item.answer),
  };
}

test(`12,000 fuzzed outputs parse exactly as the reference's Python parses them ${seedNote}`, () => {
  const rng = Rng.seeded(TEST_SEED);
  const items = Array.from({ length: 12_000 }, (_, i) => {
    const answer = i % 2 === 0 ? fuzzOutput(rng) : fuzzAnswer(rng);
    const tail = rng.int(2) === 0 ? fuzzOutput(rng) : "";
    const shaped = ` ${fuzzOutput(rng)} </think>${rng.pick(["", " ", "\n\u2028", "\ufeff"])}<answer>${answer}</answer>${tail}`;
    const text = [fuzzOutput(rng), PROMPT + fuzzOutput(rng) + answer, PROMPT + shaped][rng.int(3)];
    return { text, answer };
  });
  const want = runReference<Record<string, unknown>>("parse", items);
  const wrong = items.flatMap((item, i) => {
    const got = ours(item);
    // Code that is not Python gets the reference's regex fallback for imports; such a proposal fails validation
    // and never reaches a buffer, so only the imports of code that parses are compared (docs/reference.md §1.5).
    for (const key of ["proposal", "proposal_any_last"]) {
      const w = want[i][key] as { python: boolean; imports?: string[] } | null;
      const g = got[key] as { imports?: string[] } | null;
      if (w === null || g === null) continue;
      if (!w.python) {
        delete w.imports;
        delete g.imports;
      }
      delete (w as { python?: boolean }).python;
    }
    return JSON.stringify(got) === JSON.stringify(want[i]) ? [] : [{ item, got, want: want[i] }];
  });
  // The fuzz must reach the success paths, not only the failures.
  const hits = (key: string) => want.filter((w) => w[key] !== null).length;
  expect(hits("proposal")).toBeGreaterThan(1000);
  expect(hits("induction")).toBeGreaterThan(300);
  expect(want.filter((w) => w.format === true).length).toBeGreaterThan(50);
  expect(wrong.slice(0, 3)).toEqual([]);
});
