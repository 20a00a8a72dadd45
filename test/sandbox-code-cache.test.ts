// Pristine mode ships the marshalled code of a repeated program (code-cache.ts): results must be those of a fresh
// compile, state must still not leak between requests, and a program that does not compile is still reported.
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { CodeCache } from "../sandbox/code-cache.ts";
import { Executor } from "../sandbox/index.ts";
import { SLOW_TEST_MS } from "./support/timeouts.ts";

setDefaultTimeout(SLOW_TEST_MS);

let ex: Executor;
beforeAll(async () => {
  ex = await Executor.create({ workers: 1, spares: 0, timeoutMs: 2000, verifyRestore: true });
});
afterAll(() => ex.close());

test("a program run many times gives a fresh interpreter's answer every time (module state, builtins, caches)", async () => {
  const code = [
    "import math, functools, builtins",
    "COUNT = [0]",
    "@functools.lru_cache(None)",
    "def g(n):",
    "    COUNT[0] += 1",
    "    return n * 2",
    "def f(x):",
    "    math.pi = 3",
    "    builtins.len = lambda s: 42",
    "    return (g(x), COUNT[0], math.pi)",
  ].join("\n");
  for (let i = 0; i < 6; i++) {
    const r = await ex.submit({ op: "run", code, input: String(i % 2) });
    expect(r).toMatchObject({ status: "ok", output: `(${(i % 2) * 2}, 1, 3)` });
    const after = await ex.submit({ op: "run", code: "import math\ndef f():\n    return (math.pi, len('ab'))", input: "" });
    expect(after).toMatchObject({ status: "ok", output: "(3.141592653589793, 2)" });
  }
});

test("abduction answers on one program agree with a fresh compile; a syntax error stays an error", async () => {
  const code = "def f(a, b):\n    return sorted(a)[b]";
  const verdicts = [];
  for (const answer of ["[3, 1, 2], 0", "[5, 4], 1", "[9], 0", "[1, 2], 5"]) {
    verdicts.push((await ex.submit({ op: "judge_abduction", code, gold: "1", answer })).correct);
  }
  expect(verdicts).toEqual([true, false, false, false]);
  for (let i = 0; i < 3; i++) {
    expect((await ex.submit({ op: "run", code: "def f(:\n    pass", input: "" })).status).toBe("error");
  }
});

test("the cache compiles each program once and forgets the least recently used", async () => {
  const compiled: string[] = [];
  const cache = new CodeCache(async (code) => {
    compiled.push(code);
    return code === "bad" ? null : `m:${code}`;
  }, 2);
  expect(await Promise.all([cache.lookup("a"), cache.lookup("a")])).toEqual(["m:a", "m:a"]);
  expect(await cache.lookup("bad")).toBeNull();
  await cache.lookup("c"); // evicts "a" (capacity 2)
  expect(await cache.lookup("a")).toBe("m:a");
  expect(compiled).toEqual(["a", "bad", "c", "a"]);
});
