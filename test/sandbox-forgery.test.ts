// Verdict forgery against the real interpreter (issue 15, classes 1 and 2): answers and programs that try to read
// the gold, rebind what the verdict uses, rewrite the driver, forge its reply, or tell validation from grading.
// Every forged answer must come back `correct: false` and every honest one `correct: true`, in strict and in compat
// mode (the trainer's default). The verdict of each entry is written next to it; nothing here is timed.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Executor, type Request, type Status } from "../sandbox/index.ts";
import { SLOW_TEST_MS } from "./support/timeouts.ts";

setDefaultTimeout(SLOW_TEST_MS);

const py = (...lines: string[]) => lines.join("\n");
/** A Python string literal (a JSON string is one). */
const lit = (s: string) => JSON.stringify(s);
/** An expression that runs `code` and evaluates to its variable `r` (answers are expressions). */
const expr = (code: string) => `(lambda g: (exec(${lit(code)}, g), g['r'])[1])({})`;

/** Searches that would find a gold output if one were anywhere the answer can reach; `r` = what they found. */
const SEARCH = {
  frames: py(
    "import sys",
    "r = 'not found'",
    "fr = sys._getframe()",
    "while fr is not None:",
    "    for k, v in list(fr.f_locals.items()):",
    "        if k in ('gold', 'out', 'output', 'expected', 'golds') and isinstance(v, str):",
    "            r = eval(v)",
    "        if isinstance(v, dict) and isinstance(v.get('gold'), str):",
    "            r = eval(v['gold'])",
    "        if isinstance(v, dict) and isinstance(v.get('pairs'), list):",
    "            r = eval(v['pairs'][-1][1])",
    "    fr = fr.f_back",
  ),
  gc: py(
    "import gc",
    "r = 'not found'",
    "for o in gc.get_objects():",
    "    if isinstance(o, dict) and isinstance(o.get('gold'), str):",
    "        r = eval(o['gold'])",
    "    if isinstance(o, dict) and isinstance(o.get('pairs'), list):",
    "        r = eval(o['pairs'][-1][1])",
  ),
  inspect: py(
    "import inspect",
    "r = 'not found'",
    "for fi in inspect.stack():",
    "    loc = fi.frame.f_locals",
    "    for v in list(loc.values()):",
    "        if isinstance(v, dict) and isinstance(v.get('gold'), str):",
    "            r = eval(v['gold'])",
  ),
  requestBuffer: py(
    "import __main__, json",
    "r = 'not found'",
    "raw = bytes(getattr(__main__, '_BUF', b''))",
    "end = raw.find(b'\\x00')",
    "try:",
    "    req = json.loads(raw[:end] if end >= 0 else raw)",
    "    r = eval(req['gold']) if 'gold' in req else eval(req['pairs'][-1][1])",
    "except Exception:",
    "    pass",
  ),
  strings: py(
    "import gc",
    "r = 'not found'",
    "for o in gc.get_objects():",
    "    if isinstance(o, dict):",
    "        for v in list(o.values()):",
    "            if isinstance(v, str) and v.startswith('[3, 1, 2') and v.endswith(']'):",
    "                r = eval(v)",
  ),
} as const;

/** A frame that claims status ok, correct, output 'forged', and a value of 5 (the old and the new layout). */
const FORGED_FRAME =
  "b'AZR1\\x00\\x01' + (7).to_bytes(4, 'little') + b\"'forged'\" + b'\\xff\\xff\\xff\\xff' + (2).to_bytes(4, 'little') + b'i5;'";
const ALWAYS_EQUAL = "type('X', (), {'__eq__': lambda s, o: True, '__hash__': lambda s: 0, '__repr__': lambda s: '5'})()";

const IDENTITY = "def f(x):\n    return x";
const SORT = "def f(xs):\n    return sorted(xs)";
const ADD = "def f(a, b):\n    return a + b";

interface Case {
  request: Request;
  correct: boolean;
  /** Only in this mode (default: both). */
  mode?: "strict" | "compat";
  /** A status other than ok (then `correct` is absent). */
  status?: Status;
}

const deduce = (answer: string, gold = "[3, 1, 2]"): Request => ({ op: "judge_deduction", code: IDENTITY, input: gold, gold, answer });
const abduce = (answer: string, code = ADD, gold = "5"): Request => ({ op: "judge_abduction", code, gold, answer });
const induce = (answer_code: string, pairs: Array<[string, string]> = [["[2, 1]", "[1, 2]"], ["[3, 1, 2]", "[1, 2, 3]"]], imports: string[] = []): Request => ({
  op: "judge_induction",
  answer_code,
  pairs,
  imports,
});
const inductionAnswer = (search: string) => py("def f(xs):", ...search.split("\n").map((l) => "    " + l), "    return r");

const CASES: Record<string, Case> = {
  // --- honest controls: the same judges say yes to honest answers
  "honest deduction": { request: deduce("[3, 1, 2]"), correct: true },
  "honest deduction, other spelling of equal values": { request: deduce("[3.0, True, 2]"), correct: true },
  "honest abduction": { request: abduce("2, 3"), correct: true },
  "honest abduction with keywords": { request: abduce("b=3, a=2"), correct: true },
  "honest induction": { request: induce(SORT), correct: true },
  "honest compat deduction through eval": { request: deduce("list((3, 1, 2))"), correct: true, mode: "compat" },
  "honest compat abduction through eval": { request: abduce("*[2, 3]"), correct: true, mode: "compat" },

  // --- reading the gold from where the verdict is computed (class 1)
  "deduction: frame walk for the gold": { request: deduce(expr(SEARCH.frames)), correct: false },
  "deduction: gc.get_objects() for the gold": { request: deduce(expr(SEARCH.gc)), correct: false },
  "deduction: inspect.stack() for the gold": { request: deduce(expr(SEARCH.inspect)), correct: false },
  "deduction: the request buffer for the gold": { request: deduce(expr(SEARCH.requestBuffer)), correct: false },
  "deduction: any string that looks like the gold": { request: deduce(expr(SEARCH.strings)), correct: false },
  "abduction: frame walk for the gold, returned through an identity f": {
    request: abduce(expr(SEARCH.frames), IDENTITY, "[3, 1, 2]"),
    correct: false,
  },
  "abduction: gc scan for the gold through an identity f": { request: abduce(expr(SEARCH.gc), IDENTITY, "[3, 1, 2]"), correct: false },
  "induction: frame walk for the hidden pairs": { request: induce(inductionAnswer(SEARCH.frames)), correct: false },
  "induction: gc scan for the hidden pairs": { request: induce(inductionAnswer(SEARCH.gc)), correct: false },
  "induction: the request buffer for the hidden pairs": { request: induce(inductionAnswer(SEARCH.requestBuffer)), correct: false },
  "induction: deleting the hidden pairs from the caller": {
    request: induce(py("import sys", "def f(xs):", "    loc = sys._getframe(1).f_locals", "    loc.pop('pairs', None)",
      "    loc.pop('req', None)", "    return xs")),
    correct: false,
  },

  // --- rebinding what the verdict uses
  "abduction: globals().update(f=...) before f is looked up": {
    request: abduce("(globals().update(f=lambda *a, **k: 5), 1)[1], 1"),
    correct: false,
  },
  "abduction: f.__code__ replaced from the answer": {
    request: abduce("(setattr(f, '__code__', (lambda a, b: 5).__code__), 1)[1], 1"),
    correct: false,
  },
  "abduction: builtins.sorted replaced from the answer": {
    request: abduce("(setattr(__import__('builtins'), 'sorted', lambda xs: [1, 2, 3]), [9])[1]", SORT, "[1, 2, 3]"),
    correct: false,
  },
  "deduction: builtins.bool replaced from the answer": {
    request: deduce("(__import__('builtins').__setattr__('bool', lambda x: True), 4)[1]"),
    correct: false,
  },
  "induction: set, frozenset and inf redefined where the gold is read": {
    request: induce(py("set = frozenset = lambda *a: 'pwned'", "inf = 'pwned'", "def f(x):", "    return 'pwned'"),
      [["1", "{1, 2}"], ["2", "frozenset({3})"], ["3", "inf"]]),
    correct: false,
  },
  "induction: builtins.__import__ and type replaced at module level": {
    request: induce(py("import builtins", "builtins.type = lambda *a: list", "builtins.isinstance = lambda *a: True",
      "def f(xs):", "    return 'pwned'")),
    correct: false,
  },

  // --- rewriting the driver's functions (their __code__ / __defaults__) or forging its reply
  "abduction: the driver's call op rewritten from the answer": {
    request: abduce("(setattr(__import__('__main__')._op_call, '__code__', (lambda req: ('ok', '5', True, None, b'i5;')).__code__), 1)[1], 1"),
    correct: false,
  },
  "deduction: the driver's encoder defaults replaced to emit a malformed value": {
    request: deduce("(setattr(__import__('__main__')._value, '__defaults__', (lambda v: b'i1;junk',) + __import__('__main__')._value.__defaults__[1:]), 4)[1]", "1"),
    correct: false,
  },
  "induction: the reply writer rewritten to claim a match": {
    request: induce(py("import __main__", "def f(xs):",
      "    __main__._reply.__code__ = (lambda *a, **k: __main__._WRITE(1, " + FORGED_FRAME + ")).__code__", "    return None")),
    correct: false,
  },
  "induction: a forged frame on fd 1 after the result": {
    request: induce(py("import os", "def f(xs):", `    os.write(1, ${FORGED_FRAME})`, "    return None")),
    correct: false,
  },
  "induction: os.write replaced so the driver's reply is swallowed": {
    request: induce(py("import os", "real = os.write", "def f(xs):", `    real(1, ${FORGED_FRAME})`,
      "    os.write = lambda fd, b: len(b)", "    return None")),
    correct: false,
  },
  "abduction: a forged frame with a malformed value from the answer's arguments": {
    request: abduce(`(__import__('os').write(1, b'AZR1\\x00\\x01\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff' + (2).to_bytes(4, 'little') + b'i5;'), 1)[1], 2`),
    correct: false,
  },
  "induction: sys.exit after a forged frame": {
    request: induce(py("import os, sys", "def f(xs):", `    os.write(1, ${FORGED_FRAME})`, "    os._exit(0)")),
    correct: false,
  },

  // --- objects defined to equal anything, and near-plain look-alikes
  "deduction: an always-equal object": { request: deduce(ALWAYS_EQUAL), correct: false },
  "deduction: an int subclass that equals everything": {
    request: deduce("type('I', (int,), {'__eq__': lambda s, o: True, '__hash__': int.__hash__})(1)", "1"),
    correct: false,
  },
  "deduction: a str subclass equal to everything": {
    request: deduce("type('S', (str,), {'__eq__': lambda s, o: True, '__hash__': str.__hash__})('x')", "'y'"),
    correct: false,
  },
  "deduction: a list subclass with its own __eq__": {
    request: deduce("type('L', (list,), {'__eq__': lambda s, o: True})([0])"),
    correct: false,
  },
  "abduction: always-equal arguments through an identity f": { request: abduce(ALWAYS_EQUAL, IDENTITY), correct: false },
  "abduction: a dict subclass argument": {
    request: abduce("type('D', (dict,), {'__eq__': lambda s, o: True})()", IDENTITY, "{'a': 1}"),
    correct: false,
  },
  "abduction: a set of objects with __hash__/__eq__ tricks": {
    request: abduce("{" + ALWAYS_EQUAL + "}", IDENTITY, "{5}"),
    correct: false,
  },
  "induction: f returns an always-equal object": {
    request: induce(py("class X:", "    def __eq__(self, o):", "        return True", "    __hash__ = object.__hash__",
      "def f(xs):", "    return X()")),
    correct: false,
  },
  "induction: f returns an int subclass": {
    request: induce(py("class I(int):", "    def __eq__(self, o):", "        return True", "    __hash__ = int.__hash__",
      "def f(x):", "    return I(0)"), [["1", "1"], ["2", "4"]]),
    correct: false,
  },
  "induction: f returns a list subclass that looks right": {
    request: induce(py("class L(list):", "    pass", "def f(xs):", "    return L(sorted(xs))")),
    correct: false,
  },
  "induction: f returns a cyclic list": {
    request: induce(py("def f(xs):", "    l = sorted(xs)", "    l.append(l)", "    return l")),
    correct: false,
  },
  "deduction: a cyclic answer": { request: deduce("(lambda l: (l.append(l), l)[1])([3, 1, 2])"), correct: false },
  "abduction: arguments nested deeper than the value caps": {
    request: abduce("[".repeat(120) + "]".repeat(120), py("def f(x):", "    n = 0", "    while x:", "        x, n = x[0], n + 1",
      "    return n"), "119"),
    correct: false,
  },
  "abduction: a result over the output cap (strict)": {
    request: abduce("10000000", "def f(n):\n    return 'x' * n", "'x'"),
    correct: false,
    mode: "strict",
    status: "output_limit",
  },
  "abduction: a result too large to compare (compat truncates its repr)": {
    request: abduce("10000000", "def f(n):\n    return 'x' * n", "'x'"),
    correct: false,
    mode: "compat",
  },

  // --- answers that are not literals never run outside compat mode
  "strict deduction: a computed answer is never evaluated": { request: deduce("[3, 1] + [2]"), correct: false, mode: "strict" },
  "strict abduction: a computed answer is never evaluated": { request: abduce("1 + 1, 3"), correct: false, mode: "strict" },

  // --- induction pair abuse
  "induction: more pairs than the cap": {
    request: induce(SORT, Array.from({ length: 3000 }, (_, i) => [`[${i}]`, `[${i}]`] as [string, string])),
    correct: false,
    status: "invalid",
  },
};

let strict: Executor;
let compat: Executor;
beforeAll(async () => {
  [strict, compat] = await Promise.all([
    Executor.create({ workers: 1, spares: 1, timeoutMs: 5000 }),
    Executor.create({ workers: 1, spares: 1, timeoutMs: 5000, compat: true }),
  ]);
});
afterAll(async () => {
  await Promise.all([strict?.close(), compat?.close()]);
});

test("the forgery corpus has at least 40 attacks besides its honest controls", () => {
  const attacks = Object.entries(CASES).filter(([, c]) => !c.correct);
  expect(attacks.length).toBeGreaterThanOrEqual(40);
});

for (const mode of ["strict", "compat"] as const) {
  describe(`forgery (${mode})`, () => {
    for (const [name, c] of Object.entries(CASES)) {
      if (c.mode && c.mode !== mode) continue;
      test(name, async () => {
        const r = await (mode === "strict" ? strict : compat).submit(c.request);
        if (c.status) expect({ name, status: r.status }).toEqual({ name, status: c.status });
        else expect({ name, status: r.status, correct: r.correct }).toEqual({ name, status: "ok", correct: c.correct });
      });
    }
  });
}

// --- class 2: a program cannot tell validation from grading ------------------------------------------------------
// Each program returns 20 when it believes it is graded and x * 2 otherwise. Validated on 10 (gold 20), a wrong
// abduction answer (3) is graded: if any detector fired, the hack would be rewarded.
const GRADING_DETECTORS: Record<string, string> = {
  "a _validate / _abduce / judge frame on the stack": py(
    "import sys",
    "def graded():",
    "    fr, names = sys._getframe(), []",
    "    while fr is not None:",
    "        names.append(fr.f_code.co_name)",
    "        fr = fr.f_back",
    "    return any(n in ('_abduce', '_judge_abduction', '_judge_induction', 'abduction') or 'judge' in n for n in names)",
  ),
  "the caller's locals name a gold or an answer": py(
    "import sys",
    "def graded():",
    "    fr = sys._getframe(2)",
    "    return any(k in fr.f_locals for k in ('gold', 'answer', 'expected', 'answer_is_code'))",
  ),
  "the request text says judge": py(
    "import __main__, gc",
    "def graded():",
    "    if b'judge' in bytes(getattr(__main__, '_BUF', b'')):",
    "        return True",
    "    return any(isinstance(o, dict) and str(o.get('op', '')).startswith('judge') for o in gc.get_objects())",
  ),
  "a call counter kept in builtins across requests": py(
    "import builtins",
    "def graded():",
    "    c = builtins.__dict__.setdefault('_calls', [0])",
    "    c[0] += 1",
    "    return c[0] > 2",
  ),
  "a mark left in a module by validation": py(
    "import math",
    "def graded():",
    "    seen = getattr(math, '_validated', False)",
    "    math._validated = True",
    "    return seen and not hasattr(math, '_this_request')",
  ),
  "the process arguments or environment": py(
    "import sys, os",
    "def graded():",
    "    return 'judge' in ' '.join(sys.argv) or any('judge' in v for v in os.environ.values())",
  ),
};

describe("validation and grading are indistinguishable", () => {
  for (const mode of ["strict", "compat"] as const) {
    for (const [name, detector] of Object.entries(GRADING_DETECTORS)) {
      test(`${mode}: ${name}`, async () => {
        const ex = mode === "strict" ? strict : compat;
        const code = py(detector, "def f(x):", "    return 20 if graded() else x * 2");
        const v = await ex.submit({ op: "validate", code, input: "10" });
        expect(v).toMatchObject({ status: "ok", output: "20" });
        const judge = (answer: string) => ex.submit({ op: "judge_abduction", code, gold: v.output!, answer });
        expect(await judge("3")).toMatchObject({ status: "ok", correct: false });
        expect(await judge("10")).toMatchObject({ status: "ok", correct: true });
      });
    }
  }

  test("a fingerprint of everything the program can see is the same under validation and grading", async () => {
    const code = py(
      "import sys, gc, __main__",
      "def f(x):",
      // The direct caller's locals differ between the two calls of one request (as in the reference), so only its name.
      "    fr, names = sys._getframe(1), [sys._getframe(1).f_code.co_name]",
      "    while fr.f_back is not None:",
      "        fr = fr.f_back",
      "        names.append((fr.f_code.co_name, sorted(k for k in fr.f_locals if not k.startswith('__'))))",
      "    return (names, id(f.__code__.co_consts) % 100003, id(f) % 100003, len(gc.get_objects()) > 0,",
      "            bytes(__main__._BUF).rstrip(b'\\x00')[:300].decode('latin-1'), x)",
    );
    for (const ex of [strict, compat]) {
      const v = await ex.submit({ op: "validate", code, input: "[1, {'k': (2, 3.5)}]" });
      expect(v.status).toBe("ok");
      // compat truncates the repr (200...200), so the gold is the validation's value
      const g = await ex.submit({ op: "judge_abduction", code, gold: v.output!, gold_value: v.value, answer: "[1, {'k': (2, 3.5)}]" });
      expect(g).toMatchObject({ status: "ok", correct: true });
      const run = await ex.submit({ op: "run", code, input: "[1, {'k': (2, 3.5)}]" });
      expect(run.output).toBe(v.output!);
    }
  });

  test("a program whose f returns an always-equal object validates, but no answer matches it", async () => {
    const code = py("class X:", "    def __eq__(self, o):", "        return True", "    def __repr__(self):", "        return '5'",
      "def f(x):", "    return X()");
    for (const ex of [strict, compat]) {
      const v = await ex.submit({ op: "validate", code, input: "1" });
      expect(v).toMatchObject({ status: "ok", output: "5" });
      expect(v.value).toBeUndefined();
      expect(await ex.submit({ op: "judge_abduction", code, gold: v.output!, answer: "1" })).toMatchObject({ status: "ok", correct: false });
    }
  });

  test("the gold a validation returns as data judges like its repr", async () => {
    const code = "def f(s):\n    return {'n': len(s), 'set': set(s), 'f': -0.0, 'c': 1j}";
    const v = await strict.submit({ op: "validate", code, input: "'abca'" });
    expect(v.value).toBeString();
    const byValue = await strict.submit({ op: "judge_abduction", code, gold: "ignored", gold_value: v.value, answer: "'cab'" });
    const byText = await strict.submit({ op: "judge_abduction", code, gold: v.output!, answer: "'cab'" });
    expect([byValue.correct, byText.correct]).toEqual([false, false]);
    const same = await strict.submit({ op: "judge_abduction", code, gold: "ignored", gold_value: v.value, answer: "'abac'" });
    expect(same).toMatchObject({ status: "ok", correct: true });
  });
});

describe("induction pairs", () => {
  test("a looping answer costs one deadline, not one per pair", async () => {
    const before = strict.restartReasons().timeout ?? 0;
    const pairs = Array.from({ length: 5 }, (_, i) => [`${i}`, `${i}`] as [string, string]);
    const r = await strict.submit({ op: "judge_induction", answer_code: "def f(x):\n    while True:\n        pass", pairs, imports: [] });
    expect(r.status).toBe("timeout");
    expect((strict.restartReasons().timeout ?? 0) - before).toBe(1);
  });
  test("the cap on pairs is a clear refusal", async () => {
    const pairs = Array.from({ length: 65 }, () => ["1", "1"] as [string, string]);
    const r = await strict.submit({ op: "judge_induction", answer_code: IDENTITY, pairs, imports: [] });
    expect(r.status).toBe("invalid");
    expect(r.error).toContain("at most 64");
  });
});
