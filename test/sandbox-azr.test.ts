// AZR semantics of the executor's ops (docs/reference.md §2–§3), against the real interpreter: run, validate, the three judges,
// the reference-compatible mode, and malformed requests.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Executor, type Request } from "../sandbox/index.ts";
import { SLOW_TEST_MS } from "./support/timeouts.ts";

setDefaultTimeout(SLOW_TEST_MS);

let ex: Executor;
let compat: Executor;

beforeAll(async () => {
  [ex, compat] = await Promise.all([
    Executor.create({ workers: 1, timeoutMs: 2000, requireSingleDef: true }),
    Executor.create({ workers: 1, timeoutMs: 2000, compat: true }),
  ]);
});
afterAll(async () => {
  await Promise.all([ex?.close(), compat?.close()]);
});

const run = (code: string, input: string, e = ex) => e.submit({ op: "run", code, input });
const validate = (code: string, input: string, e = ex) => e.submit({ op: "validate", code, input });
const deduce = (gold: string, answer: string, e = ex) =>
  e.submit({ op: "judge_deduction", code: "def f(x):\n    return x", input: "1", gold, answer });

describe("run", () => {
  test("returns repr(f(input)) with several args, kwargs and a trailing comment", async () => {
    const code = "def f(a, b=0, *, c=1):\n    return [a, b, c, str(a)]";
    expect(await run(code, "'x', 2, c=3 # the input")).toMatchObject({ status: "ok", output: "['x', 2, 3, 'x']" });
  });
  test("an exception is an error `Type: message`, prints never reach the output", async () => {
    const r = await run("def f(x):\n    print('noise')\n    return x // 0", "1");
    expect(r.status).toBe("error");
    expect(r.error).toStartWith("ZeroDivisionError:");
    expect((await run("def f(x):\n    print('noise')\n    return x", "7")).output).toBe("7");
  });
  test("exit() exists as under site.py and is an error, not a crash", async () => {
    expect((await run("def f(x):\n    exit(3)", "1")).error).toStartWith("SystemExit");
  });
  test("set order of strings is fixed by PYTHONHASHSEED across requests and workers", async () => {
    const code = "def f(s):\n    return ''.join(set(s))";
    const a = await run(code, "'abcdefghij'");
    const b = await run(code, "'abcdefghij'");
    expect(a.output).toBe(b.output!);
  });
});

describe("validate", () => {
  test("a valid program gives its gold output", async () => {
    expect(await validate("def f(x):\n    return sorted(x)", "[3, 1, 2]")).toMatchObject({
      status: "ok",
      output: "[1, 2, 3]",
    });
  });
  test.each([
    ["syntax error", "def f(x)\n    return x"],
    ["NUL byte", "def f(x):\n    return x\0"],
    ["banned import", "import time\ndef f(x):\n    return x"],
    ["banned from-import", "from datetime import date\ndef f(x):\n    return x"],
    ["dotted entry os.path", "from os import path\ndef f(x):\n    return x"],
    ["__import__ literal", "def f(x):\n    return __import__('random').random()"],
    ["importlib literal", "import importlib\ndef f(x):\n    return importlib.import_module('time')"],
    ["computed __import__", "def f(x):\n    return __import__('ti' + 'me')"],
    ["two defs (single-def rule)", "def g(x):\n    return x\ndef f(x):\n    return g(x)"],
    ["no def (single-def rule)", "f = lambda x: x"],
    ["global counter", "n = 0\ndef f(x):\n    global n\n    n += 1\n    return n"],
    ["id()", "def f(x):\n    return id(object())"],
    ["default object hash", "class A: pass\ndef f(x):\n    return hash(A()) % 1000"],
    ["os.urandom", "import os\ndef f(x):\n    return os.urandom(4)"],
  ])("%s -> invalid", async (_name, code) => {
    const r = await validate(code, "1");
    expect(r.status).toBe("invalid");
    expect(r.error).toBeString();
  });
  test("import os and import sys pass (the dotted entries only ban the dotted names)", async () => {
    expect((await validate("import os, sys\ndef f(x):\n    return x", "1")).status).toBe("ok");
  });
  test("an exception is an error", async () => {
    expect((await validate("def f(x):\n    raise Exception('no')", "1")).status).toBe("error");
  });
});

describe("judges", () => {
  test("deduction outside compat mode reads answers as literals only; compat keeps the reference's eval", async () => {
    expect(await deduce("{'a': 1}", "dict(a=1)")).toMatchObject({ status: "ok", correct: false });
    expect(await deduce("{'a': 1}", "dict(a=1)", compat)).toMatchObject({ status: "ok", correct: true });
    expect(await deduce("[1, 2]", "[1, True + 1]", compat)).toMatchObject({ status: "ok", correct: true });
  });
  test.each([
    ["{'a': 1}", "{'a': 1.0}", true],
    ["[1, 2]", "[1,2]", true],
    ["1", "1.0", true],
    ["True", "1", true],
    ["(1, 2)", "[1, 2]", false],
    ["0.3", "0.30000000000000004", false],
    ["'abc'", "abc", false],
    ["'abc'", "'abc'", true],
  ])("deduction: %p == %p is %p", async (gold, answer, correct) => {
    expect(await deduce(gold, answer)).toMatchObject({ status: "ok", correct });
  });
  test("deduction never runs a strict-mode answer: a hostile one is just wrong", async () => {
    const r = await deduce("1", "__import__('os').system('touch /tmp/azr-pwned') or 1");
    expect(r.status).toBe("ok");
    expect(await Bun.file("/tmp/azr-pwned").exists()).toBe(false);
  });
  test("abduction: any input that reproduces the gold output is correct", async () => {
    const code = "def f(a, b):\n    return a + b";
    const judge = (answer: string) => ex.submit({ op: "judge_abduction", code, gold: "5", answer });
    expect(await judge("2, 3")).toMatchObject({ status: "ok", correct: true });
    expect(await judge("1, 4")).toMatchObject({ status: "ok", correct: true });
    expect(await judge("1, 1")).toMatchObject({ status: "ok", correct: false });
    expect(await judge("'a', 1")).toMatchObject({ status: "ok", correct: false });
  });
  test("induction: gold imports are prepended and every pair must pass", async () => {
    const req = (answer_code: string, pairs: Array<[string, string]>): Request => ({
      op: "judge_induction",
      answer_code,
      pairs,
      imports: ["import math"],
    });
    const code = "def f(x):\n    return math.isqrt(x)";
    expect(await ex.submit(req(code, [["16", "4"], ["17", "4"]]))).toMatchObject({ status: "ok", correct: true });
    expect(await ex.submit(req(code, [["16", "4"], ["25", "6"]]))).toMatchObject({ status: "ok", correct: false });
  });
});

describe("compat mode (reference quirks)", () => {
  test("outputs are stripped and truncated to 200 + ... + 200", async () => {
    const r = await run("def f(n):\n    return 'x' * n", "1000", compat);
    expect(r.output).toBe("'" + "x".repeat(199) + "..." + "x".repeat(199) + "'");
  });
  test("`input(` anywhere is a RuntimeError", async () => {
    const r = await run("def parse_input(s):\n    return s\ndef f(x):\n    return parse_input(x)", "1", compat);
    expect(r).toMatchObject({ status: "error", error: "RuntimeError" });
  });
  test("validate accepts non-*Error exceptions and non-determinism with an empty gold", async () => {
    expect(await validate("def f(x):\n    raise Exception('boom')", "1", compat)).toMatchObject({
      status: "ok",
      output: "",
    });
    const counter = "n = 0\ndef f(x):\n    global n\n    n += 1\n    return n";
    expect(await validate(counter, "1", compat)).toMatchObject({ status: "ok", output: "" });
    expect((await validate("def f(x):\n    raise ValueError('v')", "1", compat)).status).toBe("error");
  });
  test("the dotted banned entries are inert and __import__ is not checked", async () => {
    expect((await validate("import os.path\ndef f(x):\n    return x", "1", compat)).status).toBe("ok");
    expect((await validate("def f(x):\n    return __import__('time') and x", "1", compat)).status).toBe("ok");
    expect((await validate("import time\ndef f(x):\n    return x", "1", compat)).status).toBe("invalid");
  });
  test("a multi-line input breaks the last-line template", async () => {
    expect((await run("def f(x):\n    return x", "[1,\n2]", compat)).status).toBe("error");
    expect((await run("def f(x):\n    return x", "[1,\n2]")).output).toBe("[1, 2]");
  });
});

describe("host misuse", () => {
  test("a malformed request is an invalid result, not a throw", async () => {
    const bad = [null, {}, { op: "nope" }, { op: "run", code: 1, input: "1" }, { op: "judge_induction" }];
    for (const req of bad) {
      const r = await ex.submit(req as unknown as Request);
      expect(r.status).toBe("invalid");
      expect(r.error).toContain("malformed request");
    }
  });
  test.each([
    [{ workers: 0 }, "workers"],
    [{ timeoutMs: 1.5 }, "timeoutMs"],
    [{ memoryMiB: 32 }, "memoryMiB"],
    [{ hashSeed: -1 }, "hashSeed"],
    [{ maxRequestBytes: 64 * 2 ** 20 }, "maxRequestBytes"],
    [{ bannedImports: [""] }, "bannedImports"],
  ])("bad option %p is refused up front, naming %s", async (opts, name) => {
    expect(Executor.create(opts)).rejects.toThrow(`option ${name}`);
  });
  test("submit after close rejects", async () => {
    const e = await Executor.create({ workers: 1 });
    await e.close();
    expect(e.submit({ op: "run", code: "def f(x):\n    return x", input: "1" })).rejects.toThrow("closed");
  });
});
