// The six roles' prompts, byte for byte, against prompts built by the reference's template code in Python
// (test/support/azr_reference.py, texts copied from LeapLabTHU/Absolute-Zero-Reasoner master @ a82124e,
// absolute_zero_reasoner/data_construction/prompts.py): seed-corpus programs, the zero seeds, and snippets full of
// braces, placeholders and unicode that a template engine could mangle.
import { expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { loadInductionSeeds, loadIoSeeds, zeroSeedInduction, zeroSeedIo } from "../engine/buffers/seed.ts";
import { SEED_CORPUS } from "../engine/config/presets.ts";
import { Rng } from "../engine/rng.ts";
import { proposeInductionPrompt, proposeIoPrompt, solveAbductionPrompt, solveDeductionPrompt, solveInductionPrompt } from "../engine/tasks/prompts.ts";
import { REFERENCE_BANNED_WORDS } from "../sandbox/azr.ts";
import type { InductionProgram, IoProgram } from "../engine/tasks/types.ts";
import { runReference } from "./support/azr-reference.ts";
import { SLOW_TEST_MS } from "./support/timeouts.ts";

setDefaultTimeout(SLOW_TEST_MS);

const TRICKY: IoProgram[] = [
  { snippet: "def f(d):\n    return {k: v for k, v in d.items()} or '{x}' or f'{{y}}'", input: "{'a': {1}}", output: "{'a': {1}}", imports: [], step: 0 },
  { snippet: "def f(s):\n    return s + '<|BANNED_KEYWORDS|> {remove_after_return_prompt} {}'", input: "'{0}'", output: "'{0}x'", imports: [], step: 0 },
  { snippet: "def fé(变量):\r\n    return 变量  # Assistant: <think>", input: '"ñ\\n"', output: "'ñ\\n'", imports: [], step: 0 },
];

test("every role's prompt equals the reference's, byte for byte", () => {
  const io = [...zeroSeedIo(), ...loadIoSeeds(join(SEED_CORPUS, "7b_coder_seed_io.jsonl"), 256), ...TRICKY];
  const ind: InductionProgram[] = [
    ...zeroSeedInduction(),
    ...loadInductionSeeds(join(SEED_CORPUS, "7b_coder_code_f_seed_io.jsonl"), 256),
    { ...zeroSeedInduction()[0], inputs: TRICKY.map((p) => p.input), outputs: TRICKY.map((p) => p.output), message: "{message} {{x}}" },
  ];
  const rng = Rng.seeded(3);
  const cases: Array<{ ours: string; item: Record<string, unknown> }> = [];
  for (const p of io) {
    const refs = rng.sample(io, 1 + rng.int(6));
    const banned = rng.int(2) === 0 ? [...REFERENCE_BANNED_WORDS] : ["{x}", "a"];
    cases.push(
      { ours: proposeIoPrompt("abduction", refs, banned), item: { role: "propose_abduction", refs, banned } },
      { ours: proposeIoPrompt("deduction", refs, banned), item: { role: "propose_deduction", refs, banned } },
      { ours: proposeInductionPrompt(p.snippet, 10), item: { role: "propose_induction", snippet: p.snippet, num_inputs: 10 } },
      { ours: solveAbductionPrompt(p), item: { role: "solve_abduction", snippet: p.snippet, output: p.output } },
      { ours: solveDeductionPrompt(p), item: { role: "solve_deduction", snippet: p.snippet, input: p.input } },
    );
  }
  for (const p of ind) cases.push({ ours: solveInductionPrompt(p), item: { role: "solve_induction", inputs: p.inputs, outputs: p.outputs, message: p.message } });
  const want = runReference<string>("prompt", cases.map((c) => c.item));
  const wrong = cases.flatMap((c, i) => (c.ours === want[i] ? [] : [{ role: c.item.role, ours: c.ours, want: want[i] }]));
  expect(cases.length).toBe(5 * io.length + ind.length);
  expect(wrong.slice(0, 2)).toEqual([]);
});
