// `bun run executor batch` as a user runs it: JSON lines in, the same order out, malformed lines answered, stdout,
// stderr and exit code asserted together; bad options refused before any interpreter starts.
import { expect, setDefaultTimeout, test } from "bun:test";
import { spawn } from "bun";
import { SLOW_TEST_MS } from "./support/timeouts.ts";

setDefaultTimeout(SLOW_TEST_MS);

const CLI = new URL("../sandbox/cli.ts", import.meta.url).pathname;

async function cli(args: string[], stdin = ""): Promise<{ code: number; out: string; err: string }> {
  const p = spawn([process.execPath, CLI, ...args], { stdin: new TextEncoder().encode(stdin), stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, out, err };
}

// "slow" answers after the lines below it (order is kept); the 2 s deadline stops the endless loop, with room for
// "slow" on a loaded 2-core machine.
test("batch: one result per non-blank line, in input order, malformed lines answered as invalid", async () => {
  const lines = [
    JSON.stringify({ id: "slow", op: "run", code: "def f(n):\n    return sum(i * i for i in range(n))", input: "50000" }),
    "this is not json",
    "",
    JSON.stringify({ op: "run", code: "def f():\n    return 1", input: "" }),
    JSON.stringify({ id: 2, op: "compile", code: "x" }),
    JSON.stringify({ id: 3, op: "judge_abduction", code: "def f(a, b):\n    return a * b", gold: "12", answer: "3, 4" }),
    JSON.stringify({ id: 4, op: "run", code: "def f():\n    while True:\n        pass", input: "" }),
    JSON.stringify({ id: 5, op: "validate", code: "import subprocess\ndef f(x):\n    return x", input: "1" }),
    JSON.stringify({ id: 6, op: "script", code: "import sys\nprint(input()[::-1])\nsys.exit(2)", stdin: "abc\n" }),
  ];
  const { code, out, err } = await cli(["batch", "--workers", "2", "--timeout-ms", "2000", "--progress"], lines.join("\n") + "\n");
  expect(code).toBe(0);
  const results = out.trimEnd().split("\n").map((l) => JSON.parse(l));
  expect(results.map((r) => [r.id, r.status])).toEqual([
    ["slow", "ok"],
    [null, "invalid"],
    [null, "invalid"],
    [2, "invalid"],
    [3, "ok"],
    [4, "timeout"],
    [5, "invalid"],
    [6, "ok"],
  ]);
  expect(results[7]).toMatchObject({ exit_code: 2, stdout: "cba\n", stderr: "" });
  expect(results[0].output).toBe(String(Array.from({ length: 50000 }, (_, i) => i * i).reduce((a, b) => a + b, 0)));
  expect(results[1].error).toContain("line 2");
  expect(results[3].error).toContain('"compile"');
  expect(results[4].correct).toBe(true);
  for (const r of results) expect(typeof r.ms).toBe("number");
  expect(err).toContain("8 done");
}, 60_000);

test("bad options exit 2 naming the option, before any work", async () => {
  for (const [args, says] of [
    [["batch", "--workers", "two"], "--workers"],
    [["batch", "--frobnicate"], "--frobnicate"],
    [["serve"], "--stdio"],
    [["serve", "--listen", "nohost"], "HOST:PORT"],
    [["serve", "--http", "nohost"], "HOST:PORT"],
    [["serve", "--stdio", "--http", "127.0.0.1:0"], "exactly one"],
    [["batch", "--memory-mib", "1"], "memoryMiB"],
    [["explode"], "explode"],
  ] as const) {
    const { code, out, err } = await cli([...args]);
    expect({ args, code, out }).toEqual({ args, code: 2, out: "" });
    expect(err).toContain(says);
  }
});

test("--help prints the usage and exits 0", async () => {
  const { code, out } = await cli(["--help"]);
  expect(code).toBe(0);
  expect(out).toContain("executor batch");
});
