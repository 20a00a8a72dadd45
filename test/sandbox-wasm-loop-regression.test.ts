// Regression for the Bun bug the executor's design works around (oven-sh/bun#12616, PR #36356): Worker.terminate()
// cannot stop a thread spinning in WebAssembly. On the Bun we pin, a fuel-instrumented loop must stop itself at its
// deadline, both a bare wasm loop in a worker and Python loops (pure and C-level) in the executor.
import { expect, setDefaultTimeout, test } from "bun:test";
import { Executor } from "../sandbox/index.ts";
import { SLOW_TEST_MS } from "./support/timeouts.ts";

setDefaultTimeout(SLOW_TEST_MS);

const DEADLINE_MS = 300;

test(`a bare spinning wasm loop in a Bun ${Bun.version} worker stops at its deadline`, async () => {
  const worker = new Worker(new URL("./support/spin-fixture.ts", import.meta.url).href);
  try {
    const reply = new Promise<{ stoppedAfterMs: number; error: string }>((resolve) => {
      worker.onmessage = (e) => resolve(e.data);
    });
    worker.postMessage({ deadlineMs: DEADLINE_MS });
    const { stoppedAfterMs, error } = await reply;
    expect(error).toBe("deadline");
    expect(stoppedAfterMs).toBeGreaterThanOrEqual(DEADLINE_MS);
    expect(stoppedAfterMs).toBeLessThan(DEADLINE_MS + 1000); // it stops (a bound, not a timing target)
  } finally {
    worker.terminate();
  }
});

test("python loops in the executor stop at the deadline and the worker serves again", async () => {
  await using ex = await Executor.create({ workers: 1, spares: 0, timeoutMs: DEADLINE_MS });
  for (const code of [
    "def f(x):\n    while True:\n        pass",
    "def f(x):\n    return sum(range(10**15))",
    "import re\ndef f(x):\n    return re.match('(a*)*b', 'a' * 40)",
  ]) {
    const r = await ex.submit({ op: "run", code, input: "1" });
    expect(r.status).toBe("timeout");
    expect(r.ms).toBeGreaterThanOrEqual(DEADLINE_MS);
    expect(r.ms).toBeLessThan(DEADLINE_MS + 1000);
    expect(await ex.submit({ op: "run", code: "def f(x):\n    return x + 1", input: "1" })).toMatchObject({
      status: "ok",
      output: "2",
    });
  }
  expect(ex.restartReasons()).toEqual({ timeout: 3 });
});
