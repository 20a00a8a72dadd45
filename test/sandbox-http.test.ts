// `serve --http`: SandboxFusion's POST /run_code (request and response shapes, status strings, deadlines, non-zero
// exits, stderr, output caps), the protocol over POST /v1/submit, concurrency, the in-flight bound, and bad input
// answered 4xx with a message while the server stays up. Last, sandbox/examples/run_code.py run by the system
// python3 against the server, as a user of another RL stack would.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Server } from "bun";
import { spawn } from "bun";
import { connect } from "node:net";
import { Executor } from "../sandbox/index.ts";
import { serveHttp } from "../sandbox/http-server.ts";
import { SLOW_TEST_MS } from "./support/timeouts.ts";

setDefaultTimeout(SLOW_TEST_MS);

const CAP = 2048;
let ex: Executor;
let server: Server<undefined>;
let base = "";

beforeAll(async () => {
  ex = await Executor.create({ workers: 2, spares: 1, timeoutMs: 1500, outputBytes: CAP });
  server = serveHttp(ex, "127.0.0.1", 0);
  base = `http://127.0.0.1:${server.port}`;
});
afterAll(async () => {
  await server.stop(true);
  await ex.close();
});

async function post(path: string, body: unknown, url = base): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(url + path, { method: "POST", body: typeof body === "string" ? body : JSON.stringify(body), headers: { "content-type": "application/json" } });
  return { status: res.status, body: await res.json(), headers: res.headers };
}

/** What verl's sandbox_fusion client sends. */
const runCode = (code: string, stdin = "", run_timeout = 10) =>
  post("/run_code", { code, stdin, language: "python", run_timeout, compile_timeout: run_timeout, memory_limit_MB: -1, files: {}, fetch_files: [] });

describe("POST /run_code", () => {
  test("success: SandboxFusion's fields and status strings", async () => {
    const { status, body } = await runCode("a, b = map(int, input().split())\nprint(a + b)", "20 22\n");
    expect(status).toBe(200);
    expect(Object.keys(body).sort()).toEqual(["compile_result", "files", "message", "run_result", "status"]);
    expect(Object.keys(body.run_result).sort()).toEqual(["execution_time", "return_code", "status", "stderr", "stdout"]);
    expect(body).toMatchObject({ status: "Success", message: "", compile_result: null, files: {},
      run_result: { status: "Finished", return_code: 0, stdout: "42\n", stderr: "" } });
    expect(typeof body.run_result.execution_time).toBe("number");
  });

  test("a non-zero exit and an uncaught exception: Failed, Finished, the code, stderr", async () => {
    const exit = await runCode("import sys\nprint('partial')\nprint('oops', file=sys.stderr)\nsys.exit(3)");
    expect(exit.body).toMatchObject({ status: "Failed", run_result: { status: "Finished", return_code: 3, stdout: "partial\n", stderr: "oops\n" } });
    const raised = await runCode("def f():\n    return 1 / 0\nf()");
    expect(raised.body).toMatchObject({ status: "Failed", run_result: { status: "Finished", return_code: 1, stdout: "" } });
    expect(raised.body.run_result.stderr).toStartWith("Traceback (most recent call last):\n");
    expect(raised.body.run_result.stderr).toEndWith("ZeroDivisionError: division by zero\n");
  });

  test("deadlines: run_timeout, and a longer one clamped to the executor's", async () => {
    const [short, long] = await Promise.all([
      runCode("import time\nprint('a', flush=True)\ntime.sleep(60)", "", 0.2),
      runCode("while True:\n    pass", "", 3600),
    ]);
    for (const r of [short, long]) {
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ status: "Failed", run_result: { status: "TimeLimitExceeded", return_code: null } });
    }
    expect(short.body.run_result.stdout).toBe("a\n");
  });

  test("a program that kills its interpreter: Failed, run_result Error, no return code", async () => {
    const { status, body } = await runCode("import os\nos.abort()");
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: "Failed", run_result: { status: "Error", return_code: null } });
    expect(body.message).toContain("trap");
  });

  test("output past the cap is cut, flagged in message, and the exit code still counts", async () => {
    const { body } = await runCode("import sys\nprint('x' * 100000)\nsys.stderr.write('e' * 100000)\nsys.exit(0)");
    expect(body.status).toBe("Success");
    expect(body.run_result.stdout).toBe("x".repeat(CAP));
    expect(body.run_result.stderr).toBe("e".repeat(CAP));
    expect(body.message).toContain("stdout and stderr truncated");
  });

  test("concurrent requests each get their own answer", async () => {
    const n = 24;
    const answers = await Promise.all(Array.from({ length: n }, (_, i) => runCode("print(int(input()) ** 2)", `${i}\n`)));
    expect(answers.map((a) => a.body.run_result.stdout)).toEqual(Array.from({ length: n }, (_, i) => `${i * i}\n`));
  });

  test("bad input is a 4xx naming the problem, and the server stays up", async () => {
    const cases: Array<[unknown, number, string]> = [
      ["{not json", 400, "not JSON"],
      ["[1, 2]", 400, "JSON object"],
      [{ code: "print(1)", language: "cpp" }, 400, 'unsupported language "cpp"'],
      [{ code: "print(1)" }, 400, "unsupported language (missing)"],
      [{ language: "python" }, 400, '"code"'],
      [{ code: "1", language: "python", stdin: 5 }, 400, '"stdin"'],
      [{ code: "1", language: "python", run_timeout: "10" }, 400, '"run_timeout"'],
      [{ code: "1", language: "python", run_timeout: 0 }, 400, "positive"],
      [{ code: "1", language: "python", files: { "a.txt": "eA==" } }, 400, "no filesystem"],
      [{ code: "x".repeat(3 << 20), language: "python" }, 413, "longer than"],
    ];
    for (const [body, status, says] of cases) {
      const r = await post("/run_code", body);
      expect({ status: r.status, sandbox: r.body.status }).toEqual({ status, sandbox: "SandboxError" });
      expect(r.body.message).toContain(says);
    }
    const get = await fetch(`${base}/run_code`);
    expect(get.status).toBe(405);
    expect((await fetch(`${base}/nope`, { method: "POST" })).status).toBe(404);
    expect(await (await fetch(`${base}/v1/ping`)).text()).toBe("pong");
    expect((await runCode("print('still up')")).body.run_result.stdout).toBe("still up\n");
  });
});

describe("POST /v1/submit", () => {
  test("protocol requests as JSON: AZR ops and script, the id echoed", async () => {
    const run = await post("/v1/submit", { id: "a", op: "run", code: "def f(x):\n    return x * 2", input: "21" });
    expect(run).toMatchObject({ status: 200, body: { id: "a", status: "ok", output: "42" } });
    const judged = await post("/v1/submit", { op: "judge_deduction", code: "def f(x):\n    return x", input: "1", gold: "1", answer: "1.0" });
    expect(judged.body).toMatchObject({ status: "ok", correct: true });
    const script = await post("/v1/submit", { op: "script", code: "print(input()[::-1])", stdin: "abc" });
    expect(script.body).toMatchObject({ status: "ok", exit_code: 0, stdout: "cba\n", stdout_truncated: false });
    const unknown = await post("/v1/submit", { op: "explode" });
    expect(unknown).toMatchObject({ status: 200, body: { status: "invalid" } });
    const garbage = await post("/v1/submit", "nope");
    expect(garbage).toMatchObject({ status: 400, body: { id: null, status: "invalid" } });
    expect(garbage.body.error).toContain("not JSON");
  });
});

test("past maxInFlight a request is told 503 at once, not queued; afterwards the server serves", async () => {
  const small = serveHttp(ex, "127.0.0.1", 0, { maxBodyBytes: 1 << 20, maxInFlight: 2, bodyDeadlineMs: 30_000 });
  const url = `http://127.0.0.1:${small.port}`;
  try {
    const slow = { code: "while True:\n    pass", language: "python", run_timeout: 1 };
    const answers = await Promise.all(Array.from({ length: 6 }, () => post("/run_code", slow, url)));
    const busy = answers.filter((a) => a.status === 503);
    expect(answers.filter((a) => a.status === 200).length).toBe(2);
    expect(busy.length).toBe(4);
    for (const b of busy) {
      expect(b.body.message).toContain("busy: 2 requests in flight");
      expect(b.headers.get("retry-after")).toBe("1");
    }
    const after = await post("/run_code", { code: "print('ok')", language: "python" }, url);
    expect(after.body.run_result.stdout).toBe("ok\n");
  } finally {
    await small.stop(true);
  }
});

test("a client that never finishes its body is answered 408 and frees its place", async () => {
  const small = serveHttp(ex, "127.0.0.1", 0, { maxBodyBytes: 1 << 20, maxInFlight: 1, bodyDeadlineMs: 300 });
  try {
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(small.port!, "127.0.0.1", () => {
        socket.write("POST /run_code HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{");
      });
      let got = "";
      socket.on("data", (d) => {
        got += d.toString();
        if (got.includes("}")) {
          socket.destroy();
          resolve(got);
        }
      });
      socket.on("error", reject);
    });
    expect(reply).toStartWith("HTTP/1.1 408");
    expect(reply).toContain("did not arrive within 300 ms");
    const after = await post("/run_code", { code: "print('next')", language: "python" }, `http://127.0.0.1:${small.port}`);
    expect(after.body.run_result.stdout).toBe("next\n");
  } finally {
    await small.stop(true);
  }
});

test("sandbox/examples/run_code.py, run by /usr/bin/python3, against the server", async () => {
  const example = new URL("../sandbox/examples/run_code.py", import.meta.url).pathname;
  const p = spawn(["/usr/bin/python3", example, base], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  expect({ code, err }).toEqual({ code: 0, err: "" });
  expect(out.split("\n")).toEqual([
    "sum: Success Finished 0 '42\\n'",
    "exit: Failed 3 'oops\\n'",
    "loop: Failed TimeLimitExceeded",
    'cpp: 400 SandboxError unsupported language "cpp": this sandbox runs only "python"',
    "azr run: 1 ok 42",
    "",
  ]);
});
