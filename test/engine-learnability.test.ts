// The learnability pipeline with the real executor and tokenizer: which proposals are estimated and buffered (a
// too-long learnability prompt keeps a valid program out, as in the reference), and the solve rate read from the
// responses alone (a snippet or response that contains "Assistant:" cannot move the cut), judged once per answer.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Executor } from "../sandbox/index.ts";
import { REFERENCE_DEFAULTS, type TrainConfig } from "../engine/config/schema.ts";
import { Tokenizer } from "../engine/tokenizer/index.ts";
import { Clock } from "../engine/trainer/clock.ts";
import { learnabilityPlan, rateFromResponses } from "../engine/trainer/learnability.ts";
import { ProgressDisplay } from "../engine/trainer/progress.ts";
import { proposerReward } from "../engine/rewards/proposer.ts";
import type { IoProgram, PosedProgram } from "../engine/tasks/types.ts";
import { SLOW_TEST_MS } from "./support/timeouts.ts";

setDefaultTimeout(SLOW_TEST_MS);

const F = "```";
let executor: Executor;
let tokenizer: Tokenizer;
beforeAll(async () => {
  executor = await Executor.create({ workers: 1, timeoutMs: 5000, compat: true, bannedImports: [...new Set(REFERENCE_DEFAULTS.tasks.bannedWords)] });
  tokenizer = Tokenizer.qwen25Default();
});
afterAll(async () => {
  await executor.close();
});

const config = (maxPromptTokens = 6144): TrainConfig => ({ ...REFERENCE_DEFAULTS, tasks: { ...REFERENCE_DEFAULTS.tasks, maxPromptTokens } });
const ctx = (c = config()) => ({ executor, clock: new Clock(), progress: new ProgressDisplay(null, 1), config: c, step: 3, policy: { tokenizer } });

// A snippet that mentions "Assistant:": the text the reference cuts at the first marker would lose the response.
const TASK: IoProgram = { snippet: 'def f(s):\n    return "Assistant: " + s', input: "'hi'", output: "'Assistant: hi'", imports: [], step: 3 };
const answer = (body: string, tags = true) => (tags ? ` think </think> <answer>${body}</answer>` : ` no tags ${`<answer>${body}`}`);

describe("rateFromResponses", () => {
  test("deduction: answers read from the responses alone, format not checked, each distinct answer judged once", async () => {
    const c = ctx();
    const item: PosedProgram = { task: "deduction", program: TASK };
    const responses = [
      answer(`${F}output\n'Assistant: hi'\n${F}`),
      answer(`${F}output\n'Assistant: hi'\n${F}`),
      answer("'Assistant: hi'", false), // no closing tags: still graded (the reference does not check the format here)
      answer(`${F}output\n'nope'\n${F}`),
      "Assistant: <answer>'Assistant: hi'</answer>", // an "Assistant:" in the response does not cut it
      "no answer tag at all",
      answer(`${F}output\n'Assistant: hi'\n${F}`),
      answer(`${F}output\n"Assistant: hi"\n${F}`), // equal as Python values
    ];
    const rate = await rateFromResponses(c, item, responses);
    expect(rate).toBe(6 / 8);
    expect(c.clock.calls.get("learnability")).toBe(5); // 8 answers, 5 distinct texts
    expect(proposerReward({ valid: true, formatOk: true, solveRate: rate, extremeValue: -0.5 })).toBe(0.25);
  });
  test("abduction: any input that reproduces the output counts; all right → s = 1 → the extreme value", async () => {
    const item: PosedProgram = { task: "abduction", program: TASK };
    const rate = await rateFromResponses(ctx(), item, [answer(`${F}input\n'hi'\n${F}`), answer(`${F}input\n"h" + "i"\n${F}`)]);
    expect(rate).toBe(1);
    expect(proposerReward({ valid: true, formatOk: true, solveRate: rate, extremeValue: -0.5 })).toBe(-0.5);
  });
});

describe("learnabilityPlan", () => {
  const long: IoProgram = { ...TASK, snippet: `def f(s):\n    return s${" + s".repeat(3000)}` };
  const item = (p: IoProgram): PosedProgram => ({ task: "deduction", program: p });
  test("valid and fitting: estimated (if well-formatted) and buffered; too long: neither; invalid: neither", () => {
    const plan = learnabilityPlan(ctx(config(2048)), [
      { valid: true, formatOk: true, item: item(TASK) },
      { valid: true, formatOk: false, item: item(TASK) },
      { valid: true, formatOk: true, item: item(long) },
      { valid: false, formatOk: true, item: null },
    ]);
    expect(plan.estimate.map((e) => e.index)).toEqual([0]);
    expect(plan.estimate[0].prompt.ids.length).toBeLessThanOrEqual(2048);
    expect(plan.buffer.map((p) => p.program.snippet)).toEqual([TASK.snippet, TASK.snippet]);
  });
  test("the limit is maxPromptTokens: the same long program fits a larger budget", () => {
    const plan = learnabilityPlan(ctx(config(20_000)), [{ valid: true, formatOk: true, item: item(long) }]);
    expect(plan.buffer.length).toBe(1);
  });
});
