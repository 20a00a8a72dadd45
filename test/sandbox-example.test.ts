// Runs sandbox/example.ts, the README's runnable example, as a user would: stdout, stderr and exit code together.
import { expect, setDefaultTimeout, test } from "bun:test";
import { SLOW_TEST_MS } from "./support/timeouts.ts";

setDefaultTimeout(SLOW_TEST_MS);

test("bun sandbox/example.ts runs every op", async () => {
  const proc = Bun.spawn(["bun", new URL("../sandbox/example.ts", import.meta.url).pathname], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
  expect(stdout.trim().split("\n")).toEqual([
    "ok [3, 2, 1]",
    "ok [1, 2, 3]",
    "ok true",
    "ok true",
    "ok true",
    "timeout deadline exceeded",
  ]);
});
