// The pool under concurrent load: many requests in flight at once, with timeouts, crashes and memory bombs mixed
// in; every request is answered exactly once with its own result, and the failures cost the others nothing.
import { expect, setDefaultTimeout, test } from "bun:test";
import { Executor, type Request, type RestartReason, type Status } from "../sandbox/index.ts";
import { SLOW_TEST_MS } from "./support/timeouts.ts";

setDefaultTimeout(SLOW_TEST_MS);

const SPIN: Request = { op: "run", code: "def f(x):\n    while True:\n        pass", input: "0" };
const EXIT: Request = { op: "run", code: "import os\ndef f(x):\n    os._exit(x)", input: "1" };

function requestFor(i: number): [Request, Status, string | undefined] {
  if (i % 100 === 7) return [SPIN, "timeout", undefined];
  if (i % 100 === 13) return [EXIT, "crash", undefined];
  if (i % 50 === 29) return [{ op: "run", code: "def f(x):\n    return len([0] * 10**9)", input: "0" }, "memory", undefined];
  if (i % 3 === 0) {
    return [{ op: "validate", code: "def f(n):\n    return [n, n * n]", input: String(i) }, "ok", `[${i}, ${i * i}]`];
  }
  return [{ op: "run", code: "def f(n, k=1):\n    return n * k", input: `${i}, k=${i}` }, "ok", String(i * i)];
}

test("400 mixed concurrent requests: each answered once with its own result", async () => {
  await using ex = await Executor.create({ workers: 2, spares: 1, timeoutMs: 500 });
  const n = 400;
  const cases = Array.from({ length: n }, (_, i) => requestFor(i));
  const answered = new Array<number>(n).fill(0);
  const results = await Promise.all(
    cases.map(([req], i) =>
      ex.submit(req).then((r) => {
        answered[i]!++;
        return r;
      }),
    ),
  );
  expect(answered.every((c) => c === 1)).toBe(true);
  results.forEach((r, i) => {
    const [, status, output] = cases[i]!;
    expect({ i, status: r.status, output: r.output }).toEqual({ i, status, output });
  });
  expect(ex.restartReasons()).toEqual({ timeout: 4, proc_exit: 4 });
});

// The worker posts an answer and, when the instance dies with it, the restart reason; counted from separate
// messages, whichever answer settled last (under load often a timeout) was missing from restartReasons().
test("a restart is counted by the time the answer that caused it arrives", async () => {
  await using ex = await Executor.create({ workers: 1, spares: 1, timeoutMs: 500 });
  const kinds = [[SPIN, "timeout", "timeout"], [EXIT, "crash", "proc_exit"]] as const;
  const expected: Partial<Record<RestartReason, number>> = {};
  for (let round = 0; round < 3; round++) {
    for (const [req, status, reason] of kinds) {
      expect(await ex.submit(req)).toMatchObject({ status });
      expected[reason] = (expected[reason] ?? 0) + 1;
      expect(ex.restartReasons()).toEqual(expected);
    }
  }
});

test("an interpreter whose memory grew is replaced after answering (pristine and not)", async () => {
  const grow: Request = { op: "run", code: "def f(n):\n    return len(bytearray(n * 2**20))", input: "100" };
  const small: Request = { op: "run", code: "def f(n):\n    return n", input: "7" };
  for (const pristine of [true, false]) {
    await using ex = await Executor.create({ workers: 1, spares: 0, pristine, recycleMiB: 64 });
    expect(await ex.submit(grow)).toMatchObject({ status: "ok", output: String(100 * 2 ** 20) });
    expect(ex.restartReasons()).toEqual({ recycled: 1 });
    expect(await ex.submit(small)).toMatchObject({ status: "ok", output: "7" });
    expect(ex.restartReasons()).toEqual({ recycled: 1 });
  }
});
