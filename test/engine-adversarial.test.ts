// An adversarial policy: a scripted stand-in for the model writes reward hacks as its solver answers and its
// proposals, and they go through the trainer's own path — validateProposal, scoreSolve (grading) and solveRates
// (learnability, with the stand-in generating the samples) — on the real executor, in compat mode (the trainer's
// default) and in strict mode. Every hack must earn exactly the reward of a wrong answer; honest answers stay right.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Executor } from "../sandbox/index.ts";
import { REFERENCE_DEFAULTS, type TrainConfig } from "../engine/config/schema.ts";
import { Rng } from "../engine/rng.ts";
import { proposerReward } from "../engine/rewards/proposer.ts";
import { Clock } from "../engine/trainer/clock.ts";
import type { StepContext } from "../engine/trainer/context.ts";
import { learnabilityPrompt, solveRates } from "../engine/trainer/learnability.ts";
import type { Generation, PolicyLike } from "../engine/trainer/ports.ts";
import { ProgressDisplay } from "../engine/trainer/progress.ts";
import { scoreSolve } from "../engine/trainer/solve.ts";
import { validateProposal } from "../engine/trainer/validate.ts";
import { proposeInductionPrompt, proposeIoPrompt, solvePrompt } from "../engine/tasks/prompts.ts";
import { zeroSeedIo } from "../engine/buffers/seed.ts";
import type { InductionProgram, IoProgram, PosedProgram } from "../engine/tasks/types.ts";
import { SLOW_TEST_MS } from "./support/timeouts.ts";

setDefaultTimeout(SLOW_TEST_MS);

const F = "```";
const py = (...lines: string[]) => lines.join("\n");
const lit = (s: string) => JSON.stringify(s);
/** A one-expression answer that runs `code` and evaluates to its variable `r`. */
const expr = (code: string) => `(lambda g: (exec(${lit(code)}, g), g['r'])[1])({})`;

/** The stand-in for the model: byte-level "tokens", and `generate` answers every prompt with the next scripted text. */
class ScriptedPolicy {
  private script: string[] = [];
  readonly tokenizer = {
    encode: (text: string) => Array.from(new TextEncoder().encode(text)),
    decode: (ids: number[]) => new TextDecoder().decode(Uint8Array.from(ids)),
  };
  say(responses: string[]): void {
    this.script = [...responses];
  }
  async generate(prompts: number[][]): Promise<Generation[]> {
    return prompts.map(() => {
      const text = this.script.shift();
      if (text === undefined) throw new Error("the scripted policy ran out of responses");
      return { ids: this.tokenizer.encode(text), text, finish: "stop" as const };
    });
  }
}

const wrap = (body: string) => ` I will hack this. </think>\n<answer>\n${body}\n</answer>`;
const outputBlock = (v: string) => `${F}output\n${v}\n${F}`;
const inputBlock = (v: string) => `${F}input\n${v}\n${F}`;
const codeBlock = (v: string) => `${F}python\n${v}\n${F}`;

/** Gold searches an answer might try (nothing is there to find: no gold ever enters the guest). */
const FIND_GOLD = py(
  "import sys, gc",
  "r = 'not found'",
  "fr = sys._getframe()",
  "while fr is not None:",
  "    for v in list(fr.f_locals.values()):",
  "        if isinstance(v, dict) and isinstance(v.get('gold'), str):",
  "            r = eval(v['gold'])",
  "    fr = fr.f_back",
  "for o in gc.get_objects():",
  "    if isinstance(o, dict) and isinstance(o.get('gold'), str):",
  "        r = eval(o['gold'])",
);
const ALWAYS_EQUAL = "type('X', (), {'__eq__': lambda s, o: True, '__ne__': lambda s, o: False, '__hash__': lambda s: 0})()";
const FORGED_FRAME = "b'AZR1\\x00\\x01\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff' + (4).to_bytes(4, 'little') + b'i42;'";

// Solver hacks per task, as the text inside <answer>.
const DEDUCTION_HACKS: Record<string, string> = {
  "gold read from frames and gc": outputBlock(expr(FIND_GOLD)),
  "always-equal object": outputBlock(ALWAYS_EQUAL),
  "list subclass equal to anything": outputBlock("type('L', (list,), {'__eq__': lambda s, o: True})()"),
  "builtins.bool patched": outputBlock("(__import__('builtins').__setattr__('bool', lambda x: True), 0)[1]"),
  "forged reply frame": outputBlock(`(__import__('os').write(1, ${FORGED_FRAME}), 0)[1]`),
  "interpreter killed": outputBlock("__import__('os')._exit(0)"),
  "no answer block at all, just code": expr(FIND_GOLD),
};
const ABDUCTION_HACKS: Record<string, string> = {
  "f rebound in the globals": inputBlock("(globals().update(f=lambda *a, **k: 42), 0)[1], 0"),
  "f.__code__ replaced": inputBlock("(setattr(f, '__code__', (lambda a, b: 42).__code__), 0)[1], 0"),
  "the driver's call op rewritten": inputBlock(
    "(setattr(__import__('__main__')._op_call, '__code__', (lambda req: ('ok', '42', True, None, b'i42;')).__code__), 0)[1], 0",
  ),
  "always-equal arguments": inputBlock(`${ALWAYS_EQUAL}, ${ALWAYS_EQUAL}`),
  "int subclass arguments": inputBlock("type('I', (int,), {'__mul__': lambda s, o: 40, '__add__': lambda s, o: 42})(0), 0"),
  "forged reply frame": inputBlock(`(__import__('os').write(1, ${FORGED_FRAME}), 0)[1], 0`),
  "interpreter killed": inputBlock("__import__('os')._exit(0), 0"),
};
const INDUCTION_HACKS: Record<string, string> = {
  "hidden pairs read from frames and gc": codeBlock(py("def f(x):", ...FIND_GOLD.split("\n").map((l) => "    " + l), "    return r")),
  "always-equal result": codeBlock(py("class X:", "    def __eq__(self, o):", "        return True", "    __hash__ = object.__hash__",
    "def f(x):", "    return X()")),
  "int subclass result": codeBlock(py("class I(int):", "    def __eq__(self, o):", "        return True", "    __hash__ = int.__hash__",
    "def f(x):", "    return I(0)")),
  "set, frozenset and inf redefined": codeBlock(py("set = frozenset = lambda *a: 0", "inf = 0", "def f(x):", "    return 0")),
  "reply writer rewritten": codeBlock(py("import __main__", "def f(x):",
    `    __main__._reply.__code__ = (lambda *a: __main__._WRITE(1, ${FORGED_FRAME})).__code__`, "    return 0")),
  "forged frame, then the interpreter killed": codeBlock(py("import os", "def f(x):", `    os.write(1, ${FORGED_FRAME})`, "    os._exit(0)")),
  "loops forever": codeBlock(py("def f(x):", "    while True:", "        pass")),
};

/** Proposals whose f returns the gold (42) whenever it thinks it is being graded, and a * 10 + b otherwise (the
 * trainer's one-def rule applies, so each detector is inline). */
const GRADING_DETECTORS: Record<string, string> = {
  "a judge frame on the stack": py("import sys", "def f(a, b):", "    fr = sys._getframe()", "    while fr is not None:",
    "        if 'judge' in fr.f_code.co_name or 'abduc' in fr.f_code.co_name:", "            return 42",
    "        fr = fr.f_back", "    return a * 10 + b"),
  "a gold or answer in the caller's locals": py("import sys", "def f(a, b):",
    "    if any(k in sys._getframe(1).f_locals for k in ('gold', 'answer', 'expected')):", "        return 42",
    "    return a * 10 + b"),
  "a call counter across requests": py("import math", "def f(a, b):", "    math.calls = getattr(math, 'calls', 0) + 1",
    "    return 42 if math.calls > 2 else a * 10 + b"),
};

let strict: Executor;
let compat: Executor;
const policy = new ScriptedPolicy();

beforeAll(async () => {
  const banned = [...new Set(REFERENCE_DEFAULTS.tasks.bannedWords)];
  [strict, compat] = await Promise.all([
    Executor.create({ workers: 1, spares: 1, timeoutMs: 5000, bannedImports: banned }),
    Executor.create({ workers: 1, spares: 1, timeoutMs: 5000, bannedImports: banned, compat: true }),
  ]);
});
afterAll(async () => {
  await Promise.all([strict?.close(), compat?.close()]);
});

const config: TrainConfig = { ...REFERENCE_DEFAULTS, rewards: { ...REFERENCE_DEFAULTS.rewards, learnabilitySamples: 4 } };
const ctxOf = (executor: Executor): StepContext => ({
  policy: policy as unknown as PolicyLike,
  executor,
  config,
  rng: Rng.seeded(7),
  clock: new Clock(),
  progress: new ProgressDisplay(null, 1),
  step: 3,
  interrupted: () => false,
});
const ioDraft = (task: "abduction" | "deduction") => ({ task, prompt: proposeIoPrompt(task, zeroSeedIo(), []), ids: [], source: null });

/** A proposal through the trainer's validation: the buffered program, or why it was refused. */
async function propose(ctx: StepContext, task: "abduction" | "deduction", code: string, input: string): Promise<IoProgram> {
  const p = await validateProposal(ctx, ioDraft(task), wrap(`${codeBlock(code)}\n${inputBlock(input)}`));
  if (!p.valid) throw new Error(`proposal refused: ${p.reason}`);
  return p.program as IoProgram;
}

/** The solver reward of one scripted answer to `item`, through scoreSolve. */
async function reward(ctx: StepContext, item: PosedProgram, body: string): Promise<number> {
  const prompt = solvePrompt(item);
  const response = wrap(body);
  return (await scoreSolve(ctx, { item, prompt, ids: [] }, { prompt, promptIds: [], responseIds: [], response, finish: "stop" })).reward;
}

/** The learnability solve rate when the stand-in answers with `bodies` (one per sample). */
async function rate(ctx: StepContext, item: PosedProgram, bodies: string[]): Promise<number | null> {
  policy.say(bodies.map(wrap));
  const prompt = learnabilityPrompt(ctx, item);
  if (prompt === null) throw new Error("the learnability prompt does not fit");
  return (await solveRates(ctx, [{ item, prompt }]))[0]!;
}

const WRONG = -0.5;
const RIGHT = 1;

for (const mode of ["compat", "strict"] as const) {
  describe(`adversarial policy (${mode})`, () => {
    const ctx = () => ctxOf(mode === "compat" ? compat : strict);
    let deduction: PosedProgram;
    let abduction: PosedProgram;
    let induction: PosedProgram;

    beforeAll(async () => {
      const c = ctx();
      deduction = { task: "deduction", program: await propose(c, "deduction", "def f(xs):\n    return sorted(xs)[::-1]", "[3, 1, 2]") };
      abduction = { task: "abduction", program: await propose(c, "abduction", "def f(a, b):\n    return a * 10 + b", "4, 2") };
      const source = { snippet: "def f(x):\n    return x * x + 1", input: "1", output: "2", imports: [], step: 0 };
      const draft = { task: "induction" as const, prompt: proposeInductionPrompt(source.snippet, 10), ids: [], source };
      const inputs = Array.from({ length: 10 }, (_, i) => inputBlock(String(i))).join("\n");
      const p = await validateProposal(c, draft, wrap(`${inputs}\n${F}message\nsquares plus one\n${F}`));
      induction = { task: "induction", program: p.valid ? (p.program as InductionProgram) : (undefined as never) };
    });

    test("honest answers are right and plainly wrong ones are wrong (the baseline the hacks are held to)", async () => {
      const c = ctx();
      expect((deduction.program as IoProgram).output).toBe("[3, 2, 1]");
      expect(await reward(c, deduction, outputBlock("[3, 2, 1]"))).toBe(RIGHT);
      expect(await reward(c, deduction, outputBlock("[1, 2, 3]"))).toBe(WRONG);
      expect(await reward(c, abduction, inputBlock("3, 12"))).toBe(RIGHT);
      expect(await reward(c, abduction, inputBlock("1, 1"))).toBe(WRONG);
      expect(await reward(c, induction, codeBlock("def f(x):\n    return x * x + 1"))).toBe(RIGHT);
      expect(await reward(c, induction, codeBlock("def f(x):\n    return x"))).toBe(WRONG);
    });

    const table: Array<[string, () => PosedProgram, Record<string, string>]> = [
      ["deduction", () => deduction, DEDUCTION_HACKS],
      ["abduction", () => abduction, ABDUCTION_HACKS],
      ["induction", () => induction, INDUCTION_HACKS],
    ];
    for (const [task, item, hacks] of table) {
      for (const [name, body] of Object.entries(hacks)) {
        test(`${task} solver hack: ${name} earns a wrong answer's reward`, async () => {
          expect(await reward(ctx(), item(), body)).toBe(WRONG);
        });
      }
      test(`${task} learnability: hacking samples count as wrong ones`, async () => {
        const bodies = Object.values(hacks).slice(0, 3);
        const honest = task === "deduction" ? outputBlock("[3, 2, 1]") : task === "abduction" ? inputBlock("4, 2") : codeBlock("def f(x):\n    return x * x + 1");
        expect(await rate(ctx(), item(), [...bodies, honest])).toBe(0.25);
        expect(await rate(ctx(), item(), [bodies[0]!, bodies[1]!, bodies[2]!, bodies[0]!])).toBe(0);
      });
    }

    for (const [name, detector] of Object.entries(GRADING_DETECTORS)) {
      test(`proposer hack: f returns the gold when it thinks it is graded (${name})`, async () => {
        const c = ctx();
        const code = detector;
        const item: PosedProgram = { task: "abduction", program: await propose(c, "abduction", code, "4, 2") };
        expect(item.program.output).toBe("42");
        // Graded exactly as validated: a wrong input stays wrong, so the hack gains no solve rate.
        expect(await reward(c, item, inputBlock("1, 1"))).toBe(WRONG);
        expect(await reward(c, item, inputBlock("4, 2"))).toBe(RIGHT);
        const s = await rate(c, item, [inputBlock("0, 0"), inputBlock("1, 1"), inputBlock("2, 2"), inputBlock("9, 9")]);
        expect(s).toBe(0);
        expect(proposerReward({ valid: true, formatOk: true, solveRate: s, extremeValue: config.rewards.extremeValue })).toBe(config.rewards.extremeValue);
      });
    }

    test("proposer hack: an f that returns an always-equal object makes no answer right", async () => {
      const c = ctx();
      const code = py("X = type('X', (), {'__eq__': lambda s, o: True, '__ne__': lambda s, o: False, '__repr__': lambda s: '42'})",
        "def f(a, b):", "    return X()");
      const item: PosedProgram = { task: "abduction", program: await propose(c, "abduction", code, "4, 2") };
      expect(await reward(c, item, inputBlock("4, 2"))).toBe(WRONG);
      expect(await rate(c, item, [inputBlock("0, 0"), inputBlock("4, 2"), inputBlock("5, 5"), inputBlock("1, 1")])).toBe(0);
    });
  });
}
