// Pristine state per program: whatever one program mutates (builtins, module attributes, sys settings, caches,
// registrations, sys.modules, random state) is invisible to the next. Two proofs: a probe program that reads all of
// that state gives the baseline answer after every tampering program, and `verifyRestore` compares every byte of
// linear memory with the snapshot after every restore (a mismatch would come back as a crash).
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Executor, type Request, type Result } from "../sandbox/index.ts";
import { SLOW_TEST_MS } from "./support/timeouts.ts";

setDefaultTimeout(SLOW_TEST_MS);

const py = (...lines: string[]) => lines.join("\n");

/** Reads every piece of state the tampering programs below touch. */
const PROBE: Request = {
  op: "run",
  code: py(
    "import builtins, math, sys, functools, random, re, decimal, gc, os, collections.abc",
    "def f(x):",
    "    return (len([1, 2]), sorted([2, 1]), hasattr(builtins, 'leak'), math.pi, sys.getrecursionlimit(),",
    "            functools.reduce(lambda a, b: a * b, [2, 3]), random.random(), bool(re.match('x+', 'xx')),",
    "            str(decimal.Decimal(1) / decimal.Decimal(3))[:12], gc.isenabled(), os.environ.get('LEAK'),",
    "            isinstance(1, collections.abc.Sequence), len(str(10**4000)), sys.path[:1], type(sys.stdout).__name__,",
    "            [m for m in ('leaked_module', 'fractions') if m in sys.modules], x)",
  ),
  input: "'probe'",
};

const TAMPER: Record<string, string> = {
  "builtins.len replaced": py("import builtins", "builtins.len = lambda x: -1"),
  "builtins.sorted deleted": py("import builtins", "del builtins.sorted"),
  "new builtin added": py("import builtins", "builtins.leak = 1"),
  "math.pi changed": py("import math", "math.pi = 3"),
  "recursion limit lowered": py("import sys", "sys.setrecursionlimit(50)"),
  "functools.reduce replaced": py("import functools", "functools.reduce = lambda *a: 0"),
  "random.seed called": py("import random", "random.seed(99)", "random.random()"),
  "re cache poisoned": py("import re", "re._cache[(str, 'x+', 0)] = re.compile('y')"),
  "decimal precision changed": py("import decimal", "decimal.getcontext().prec = 3"),
  "gc disabled": py("import gc", "gc.disable()"),
  "os.environ written": py("import os", "os.environ['LEAK'] = '1'"),
  "abc registration": py("import collections.abc", "collections.abc.Sequence.register(int)"),
  "int max str digits lowered": py("import sys", "sys.set_int_max_str_digits(640)"),
  "sys.path changed": py("import sys", "sys.path.insert(0, '/evil')"),
  "sys.stdout replaced": py("import sys, io", "sys.stdout = io.StringIO()", "sys.__stdout__ = sys.stdout"),
  "sys.modules polluted": py("import sys, types", "sys.modules['leaked_module'] = types.ModuleType('m')",
    "import fractions"),
  "sys.modules entry replaced": py("import sys, types", "sys.modules['re'] = types.ModuleType('re')"),
};

function tamperRequest(code: string): Request {
  return { op: "run", code: code + "\ndef f(x):\n    return 0", input: "0" };
}

async function tamperThenProbe(ex: Executor, code: string): Promise<[Result, Result]> {
  const t = await ex.submit(tamperRequest(code));
  return [t, await ex.submit(PROBE)];
}

describe.each([
  ["dirty-page restore", { dirtyTracking: true }],
  ["full restore", { dirtyTracking: false }],
])("pristine by %s", (_name, opts) => {
  let ex: Executor;
  let baseline: Result;
  beforeAll(async () => {
    ex = await Executor.create({ workers: 1, spares: 0, timeoutMs: 2000, verifyRestore: true, ...opts });
    baseline = await ex.submit(PROBE);
  });
  afterAll(async () => {
    await ex?.close();
  });

  test("the probe's baseline", () => {
    expect(baseline.status).toBe("ok");
    expect(baseline.output).toStartWith("(2, [1, 2], False, 3.141592653589793, 1000, 6, ");
  });
  test.each(Object.entries(TAMPER))("%s is invisible to the next program", async (_t, code) => {
    const [t, probe] = await tamperThenProbe(ex, code);
    expect(t.status).toBe("ok");
    expect(probe).toMatchObject({ status: "ok", output: baseline.output });
  });
  test("a program's globals never reach the next one", async () => {
    await ex.submit({ op: "run", code: "secret = 42\ndef f(x):\n    return x", input: "1" });
    const r = await ex.submit({ op: "run", code: "def f(x):\n    return 'secret' in globals()", input: "1" });
    expect(r.output).toBe("False");
  });
  test("the same program gives the same answer every time, even id() and the clock", async () => {
    const req: Request = {
      op: "run",
      code: "import os, time\ndef f(x):\n    return id(object()), os.urandom(4), time.time(), time.monotonic_ns()",
      input: "1",
    };
    const first = await ex.submit(req);
    for (let i = 0; i < 5; i++) expect((await ex.submit(req)).output).toBe(first.output!);
  });
  test("every restore so far was byte-exact (verifyRestore never replaced an instance)", async () => {
    // A mismatch is found between requests; the instance is replaced and reports why before it serves again.
    expect((await ex.submit(PROBE)).output).toBe(baseline.output!);
    expect(ex.restartReasons()).toEqual({});
  });
});

test("without pristine state the same tampering leaks (what the option protects against)", async () => {
  const ex = await Executor.create({ workers: 1, spares: 0, timeoutMs: 2000, pristine: false });
  try {
    const before = await ex.submit(PROBE);
    const [, after] = await tamperThenProbe(ex, TAMPER["math.pi changed"]!);
    expect(after.output).not.toBe(before.output!);
    expect(after.output).toContain(", 3, 1000,");
  } finally {
    await ex.close();
  }
});
