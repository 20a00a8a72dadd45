// The in-loop evaluation's tasks (engine/trainer/evaluate.ts): eval.file's rows as deduction and abduction, a warm
// start's generated held-out programs as all three task types, and the rule that no held-out program seeds a buffer.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REFERENCE_DEFAULTS } from "../engine/config/schema.ts";
import { evalSnippets, evalTasks } from "../engine/trainer/evaluate.ts";

const TMP = mkdtempSync(join(tmpdir(), "azr-evaluate-test-"));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

// Constants no row of the default eval.file uses.
const program = (k: number) => ({
  snippet: `def f(a):\n    return a + ${k * 1001}`,
  input: "1",
  output: String(1 + k * 1001),
  inputs: ["1", "2", "3", "4"],
  outputs: [1, 2, 3, 4].map((x) => String(x + k * 1001)),
  message: `The function adds ${k}.`,
  imports: [],
});
const generated = join(TMP, "heldout.jsonl");
writeFileSync(generated, `${[1, 2, 3, 4, 5].map((k) => JSON.stringify(program(k))).join("\n")}\n`);
const config = { ...REFERENCE_DEFAULTS.eval, limit: 3, generatedFile: generated, generatedLimit: 4 };

describe("evalTasks", () => {
  test("eval.file's rows twice (deduction, abduction); each generated program three times", () => {
    const t = evalTasks(config, new Set());
    expect(t.file.map((i) => i.task)).toEqual(["deduction", "abduction", "deduction", "abduction", "deduction", "abduction"]);
    const g = t.generated ?? [];
    expect(g.length).toBe(12);
    expect(g.filter((i) => i.task === "induction").map((i) => i.program.snippet)).toEqual([1, 2, 3, 4].map((k) => program(k).snippet));
    const ind = g.find((i) => i.task === "induction");
    expect(ind?.task === "induction" && ind.program.outputs).toEqual(program(1).outputs);
  });
  test("every posed snippet is withheld from the buffers", () => {
    const s = evalSnippets(evalTasks(config, new Set()));
    for (const k of [1, 2, 3, 4]) expect(s.has(program(k).snippet)).toBe(true);
    expect(s.has(program(5).snippet)).toBe(false); // beyond generatedLimit
  });
  test("a generated program that also seeds the buffers is an error naming it", () => {
    expect(() => evalTasks(config, new Set([program(2).snippet]))).toThrow(/eval.generatedFile .*"def f\(a\):\\n    return a \+ 2002" also seeds the buffers/);
  });
  test("no generated file: only eval.file's tasks", () => {
    expect(evalTasks({ ...config, generatedFile: null }, new Set()).generated).toBeNull();
  });
});
