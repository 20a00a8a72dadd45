// The picture of a run (engine/trainer/curve.ts) and the 95 % intervals it and the eval line use (metrics.ts).
import { describe, expect, test } from "bun:test";
import { curvePage } from "../engine/trainer/curve.ts";
import { wilson95 } from "../engine/trainer/metrics.ts";

describe("wilson95", () => {
  test("matches the closed form at known points", () => {
    // Wilson score interval, z = 1.96 (the closed form evaluated independently in Python): 5/10 → [0.2366, 0.7634]; 0/10 → [0, 0.2775]; 10/10 → [0.7225, 1].
    const near = (got: [number, number], want: [number, number]) => got.forEach((g, i) => expect(Math.abs(g - want[i])).toBeLessThan(5e-5));
    near(wilson95({ correct: 5, total: 10 }), [0.2366, 0.7634]);
    near(wilson95({ correct: 0, total: 10 }), [0, 0.2775]);
    near(wilson95({ correct: 10, total: 10 }), [0.7225, 1]);
    near(wilson95({ correct: 30, total: 256 }), [0.08333, 0.16236]);
  });
  test("no trials: the whole unit interval", () => {
    expect(wilson95({ correct: 0, total: 0 })).toEqual([0, 1]);
  });
});

describe("curvePage", () => {
  const evalAt = (step: number, correct: number) => ({
    step,
    deduction: { correct, total: 4 },
    abduction: { correct: 0, total: 4 },
    formatRate: 1,
    dropped: 0,
    generated: { deduction: { correct: 2 * correct, total: 200 }, abduction: { correct: 1, total: 200 }, induction: { correct: 0, total: 200 }, formatRate: 1, dropped: 0 },
  });
  const records = [
    { step: 0, eval: evalAt(0, 1) },
    { step: 1, "reward/deduction/propose": -0.5, "reward/deduction/solve": 0.25, "valid_rate/deduction": 0.5 },
    { step: 2, "reward/deduction/propose": 0.1, "reward/deduction/solve": 0.5, "valid_rate/deduction": 0.75, eval: evalAt(2, 3) },
  ];
  const page = curvePage("run <a&b>", records);

  test("one point per evaluation and per step, with an interval whisker per eval point", () => {
    expect(page.match(/generated deduction step \d+: /g)).toEqual(["generated deduction step 0: ", "generated deduction step 2: "]);
    expect(page).toContain("eval.file deduction step 2: 0.75<");
    expect(page.match(/deduction\/solve step \d+: /g)).toEqual(["deduction/solve step 1: ", "deduction/solve step 2: "]);
    expect(page).toContain("valid-proposal rate");
    // 5 eval series × 2 points: a whisker each.
    expect(page.match(/<line [^>]*stroke-width="1"\/>/g)?.length).toBe(10);
  });
  test("self-contained and escaped: no script, no external reference", () => {
    expect(page).toContain("run &lt;a&amp;b&gt;");
    expect(page).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
  });
  test("series absent from every record are left out of the legend", () => {
    expect(page).not.toContain("induction/propose");
  });
});
