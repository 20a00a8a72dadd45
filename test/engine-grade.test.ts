// Validation and grading through the real executor (docs/reference.md §2): proposals become buffered programs with gold outputs
// from the sandbox, and solver answers are judged there. Nothing model-written runs in the test process.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Executor } from "../sandbox/index.ts";
import { REFERENCE_DEFAULTS, type TrainConfig } from "../engine/config/schema.ts";
import { Clock } from "../engine/trainer/clock.ts";
import { gradeAnswer } from "../engine/trainer/grade.ts";
import { ProgressDisplay } from "../engine/trainer/progress.ts";
import { scoreSolve } from "../engine/trainer/solve.ts";
import { validateProposal } from "../engine/trainer/validate.ts";
import { proposeInductionPrompt, proposeIoPrompt, solvePrompt } from "../engine/tasks/prompts.ts";
import { zeroSeedIo } from "../engine/buffers/seed.ts";
import type { InductionProgram, IoProgram, PosedProgram } from "../engine/tasks/types.ts";
import { SLOW_TEST_MS } from "./support/timeouts.ts";

setDefaultTimeout(SLOW_TEST_MS);

const F = "```";
let executor: Executor;
beforeAll(async () => {
  executor = await Executor.create({ workers: 1, timeoutMs: 5000, compat: true, bannedImports: [...new Set(REFERENCE_DEFAULTS.tasks.bannedWords)] });
});
afterAll(async () => {
  await executor.close();
});

const ctxWith = (patch: Partial<TrainConfig["rewards"]> = {}) => ({
  executor,
  clock: new Clock(),
  progress: new ProgressDisplay(null, 1),
  config: { ...REFERENCE_DEFAULTS, rewards: { ...REFERENCE_DEFAULTS.rewards, ...patch } },
  step: 7,
});
const wrapAnswer = (body: string, closed = true) => ` plan </think>\n<answer>\n${body}\n${closed ? "</answer>" : ""}`;
const ioDraft = (task: "abduction" | "deduction") => ({ task, prompt: proposeIoPrompt(task, zeroSeedIo(), []), ids: [], source: null });

describe("validateProposal", () => {
  test("a valid proposal becomes a program with the executor's repr output, renamed to f, tagged with the step", async () => {
    const ctx = ctxWith();
    const p = await validateProposal(ctx, ioDraft("deduction"), wrapAnswer(`${F}python\ndef g(s):\n    return s[::-1] * 2\n${F}\n${F}input\n'ab'\n${F}`));
    expect(p).toEqual({ formatOk: true, valid: true, program: { snippet: "def f(s):\n    return s[::-1] * 2", input: "'ab'", output: "'baba'", imports: [], step: 7 } });
    expect(ctx.clock.calls.get("validate")).toBe(1);
  });
  test("valid but badly tagged: still a program (it goes to the buffer), formatOk false", async () => {
    const p = await validateProposal(ctxWith(), ioDraft("abduction"), wrapAnswer(`${F}python\ndef f(x):\n    return x + 1\n${F}\n${F}input\n1\n${F}`, false));
    expect([p.valid, p.formatOk]).toEqual([true, false]);
  });
  test.each([
    ["banned import", `${F}python\nimport random\ndef f(x):\n    return x\n${F}\n${F}input\n1\n${F}`],
    ["runtime error", `${F}python\ndef f(x):\n    return x / 0\n${F}\n${F}input\n1\n${F}`],
    ["two defs (parse rule, no executor call)", `${F}python\ndef h(x):\n    return x\ndef f(x):\n    return h(x)\n${F}\n${F}input\n1\n${F}`],
    ["syntax error", `${F}python\ndef f(x)\n    return x\n${F}\n${F}input\n1\n${F}`],
  ])("invalid: %s", async (_n, body) => {
    const p = await validateProposal(ctxWith(), ioDraft("deduction"), wrapAnswer(body));
    expect(p.valid).toBe(false);
  });
  test("the reference quirk (compat): a non-*Error exception is valid with gold ''", async () => {
    const p = await validateProposal(ctxWith(), ioDraft("deduction"), wrapAnswer(`${F}python\ndef f(x):\n    raise StopIteration\n${F}\n${F}input\n1\n${F}`));
    expect(p.valid && (p.program as IoProgram).output).toBe("");
  });
  test("induction: the source snippet runs on each of the 10 inputs; the first bad input makes it invalid", async () => {
    const source: IoProgram = { snippet: "def f(a):\n    return a * 2", input: "1", output: "2", imports: [], step: 0 };
    const draft = { task: "induction" as const, prompt: proposeInductionPrompt(source.snippet, 10), ids: [], source };
    const inputs = Array.from({ length: 10 }, (_, i) => `${F}input\n${i}\n${F}`).join("\n");
    const ctx = ctxWith();
    const good = await validateProposal(ctx, draft, wrapAnswer(`${inputs}\n${F}message\ndoubles\n${F}`));
    expect(good.valid && (good.program as InductionProgram).outputs).toEqual(["0", "2", "4", "6", "8", "10", "12", "14", "16", "18"]);
    expect(ctx.clock.calls.get("validate")).toBe(10);
    const badCtx = ctxWith();
    const bad = await validateProposal(badCtx, draft, wrapAnswer(`${F}input\nnope\n${F}\n${inputs.split("\n").slice(0, 27).join("\n")}\n${F}message\nm\n${F}`));
    expect(bad.valid).toBe(false);
    expect(badCtx.clock.calls.get("validate")).toBe(1);
  });
});

describe("gradeAnswer (equality rules of docs/reference.md §2.3)", () => {
  const prog: IoProgram = { snippet: "def f(a, b):\n    return [a, b]", input: "1, 2", output: "[1, 2]", imports: [], step: 0 };
  test.each([
    ["deduction: same literal", "deduction", `${F}output\n[1,2]\n${F}`, 1],
    ["deduction: 1 == 1.0 == True", "deduction", `${F}output\n[1.0, True + 1]\n${F}`, 1],
    ["deduction: tuple ≠ list", "deduction", `${F}output\n(1, 2)\n${F}`, 0],
    ["deduction: unparseable", "deduction", "no idea", 0],
    ["abduction: any input that reproduces the output", "abduction", `${F}input\n1, 2\n${F}`, 1],
    ["abduction: keyword args work too", "abduction", `${F}input\nb=2, a=1\n${F}`, 1],
    ["abduction: wrong input", "abduction", `${F}input\n2, 1\n${F}`, 0],
  ] as const)("%s", async (_n, task, answer, want) => {
    const g = await gradeAnswer(ctxWith(), "grade", { task, program: prog }, answer);
    expect(g.accuracy).toBe(want);
  });
  const ind: InductionProgram = {
    snippet: "import math\ndef f(x):\n    return math.floor(x / 2)",
    inputs: ["1", "2", "3", "4", "5", "6"],
    outputs: ["0", "1", "1", "2", "2", "3"],
    message: "halves",
    imports: ["import math"],
    step: 0,
  };
  test("induction: all hidden pairs must pass (binary); the gold imports are prepended", async () => {
    const item: PosedProgram = { task: "induction", program: ind };
    expect((await gradeAnswer(ctxWith(), "grade", item, `${F}python\ndef f(x):\n    return math.floor(x / 2)\n${F}`)).accuracy).toBe(1);
    expect((await gradeAnswer(ctxWith(), "grade", item, `${F}python\ndef f(x):\n    return 3 if x == 4 else x // 2\n${F}`)).accuracy).toBe(0);
    const none = await gradeAnswer(ctxWith(), "grade", item, "def f(x): return x // 2");
    expect([none.parsed, none.accuracy]).toEqual([false, 0]);
  });
  test("induction accuracy mode: the fraction of hidden pairs", async () => {
    const ctx = ctxWith({ inductionReward: "accuracy" });
    const g = await gradeAnswer(ctx, "grade", { task: "induction", program: ind }, `${F}python\ndef f(x):\n    return 3 if x == 4 else x // 2\n${F}`);
    expect(g.accuracy).toBeCloseTo(2 / 3, 9); // hidden inputs 4, 5, 6: only 4 fails
    expect(ctx.clock.calls.get("grade")).toBe(3);
  });
});

describe("scoreSolve", () => {
  const item: PosedProgram = { task: "deduction", program: { ...zeroSeedIo()[0], input: "'x'", output: "'x'" } };
  const draft = { item, prompt: solvePrompt(item), ids: [] };
  const rollout = (response: string) => ({ prompt: draft.prompt, promptIds: [], responseIds: [], response, finish: "stop" as const });
  test.each([
    ["right: +1", wrapAnswer(`${F}output\n'x'\n${F}`), 1, 1],
    ["wrong: −0.5", wrapAnswer(`${F}output\n'y'\n${F}`), -0.5, 1],
    ["bad tags: −1 and never executed", wrapAnswer(`${F}output\n'x'\n${F}`, false), -1, 0],
  ])("%s", async (_n, response, reward, calls) => {
    const ctx = ctxWith();
    expect((await scoreSolve(ctx, draft, rollout(response))).reward).toBe(reward);
    expect(ctx.clock.calls.get("grade") ?? 0).toBe(calls);
  });
  test("induction without a code block is a format failure (−1)", async () => {
    const ind: PosedProgram = { task: "induction", program: { snippet: "def f(a):\n    return a", inputs: ["1", "2"], outputs: ["1", "2"], message: "m", imports: [], step: 0 } };
    const d = { item: ind, prompt: solvePrompt(ind), ids: [] };
    const out = await scoreSolve(ctxWith(), d, { prompt: d.prompt, promptIds: [], responseIds: [], response: wrapAnswer("def f(a): return a"), finish: "stop" });
    expect(out.reward).toBe(-1);
  });
});
