// The `script` op: a whole program as __main__ with stdin; stdout, stderr (each capped, with a truncation flag) and
// the exit code as CPython gives them, the deadline and the caps decided by the host. Hostile scripts forge reply
// frames, write past the caps, read past their stdin, sleep past the deadline, exit in odd ways and rewrite the
// driver; after each one a probe must see exactly the state it saw first (and `verifyRestore` compares every byte of
// memory with the snapshot after every restore).
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { Executor, type Result, type ScriptRequest } from "../sandbox/index.ts";
import { ExecutorClient } from "../sandbox/rpc-client.ts";
import { listen } from "../sandbox/rpc-server.ts";
import { SLOW_TEST_MS } from "./support/timeouts.ts";

setDefaultTimeout(SLOW_TEST_MS);

const py = (...lines: string[]) => lines.join("\n");
const CAP = 4096;
let ex: Executor;

beforeAll(async () => {
  ex = await Executor.create({ workers: 1, spares: 1, timeoutMs: 1500, outputBytes: CAP, verifyRestore: true });
});
afterAll(() => ex.close());

const script = (code: string, stdin?: string, more: Partial<ScriptRequest> = {}): Promise<Result> =>
  ex.submit({ op: "script", code, stdin, ...more });

/** Everything a program could leave behind for the next one. */
const PROBE = py(
  "import sys, builtins, gc, linecache, time, os",
  "print(len(sys.modules), sorted(sys.modules)[-3:], id(object()), sys.argv, hasattr(builtins, 'leak'),",
  "      sys.getrecursionlimit(), len(gc.get_objects()), sorted(linecache.cache), time.time(), os.urandom(4).hex(),",
  "      type(sys.stdout).__name__, sys.stdin.read(), __name__)",
);

/** A reply frame as the driver writes it: b'AZR1', status index, flag, output and error fields, no value. */
const FORGE = py(
  "import sys, os",
  "def frame(status, out):",
  "    o = out.encode()",
  "    return b'AZR1' + bytes((status, 2)) + len(o).to_bytes(4, 'little') + o + b'\\xff\\xff\\xff\\xff' * 2",
  "f = sys._getframe()",
  "while '_reply' not in f.f_globals:",
  "    f = f.f_back",
  "driver = f.f_globals",
);
const SILENCE_DRIVER = "driver['_reply'].__code__ = (lambda *a, **k: None).__code__";

let baseline = "";

test("a plain program: stdout, stderr, stdin, exit code 0, __main__", async () => {
  const r = await script(py("import sys", "a, b = map(int, input().split())", "print(a + b)", "print('note', file=sys.stderr)",
    "print(sys.stdin.read().upper(), end='')", "if __name__ == '__main__':", "    print('main')"), "3 4\nrest\n");
  expect(r).toMatchObject({ status: "ok", exit_code: 0, stdout: "7\nREST\nmain\n", stderr: "note\n", stdout_truncated: false, stderr_truncated: false });
  const probe = await script(PROBE, "in");
  expect(probe.status).toBe("ok");
  baseline = probe.stdout!;
  expect(baseline).toContain("['<script>']");
});

const HOSTILE: Array<[string, string, string | undefined, (r: Result) => void]> = [
  ["a forged frame claiming a timeout, the driver's reply silenced", py(FORGE, "os.write(1, frame(2, '0'))", SILENCE_DRIVER), undefined,
    (r) => expect(r).toMatchObject({ status: "crash", error: "malformed script reply from the guest" })],
  ["a forged frame with exit code 999", py(FORGE, "os.write(1, frame(0, '999'))", SILENCE_DRIVER), undefined,
    (r) => expect(r.status).toBe("crash")],
  ["a forged frame, then an honest exit: the driver's frame wins, the forgery is stdout", py(FORGE, "os.write(1, frame(2, '0'))", "sys.exit(3)"), undefined,
    (r) => {
      expect(r).toMatchObject({ status: "ok", exit_code: 3 });
      expect(r.stdout).toStartWith("AZR1");
    }],
  ["the driver's own boundary read is end of file", py(FORGE, "print(driver['_READ'](driver['_HDRV']))"), undefined,
    (r) => expect(r).toMatchObject({ status: "ok", exit_code: 0, stdout: "0\n" })],
  ["stdout and stderr past the caps: truncated, the program runs on", py("import sys, os",
    "for _ in range(100):", "    print('x' * 1000)", "    sys.stderr.write('y' * 1000)", "os.write(1, b'z' * 100_000)", "sys.exit(5)"), undefined,
    (r) => {
      expect(r).toMatchObject({ status: "ok", exit_code: 5, stdout_truncated: true, stderr_truncated: true });
      expect(r.stdout!.length).toBe(CAP);
      expect(r.stderr).toBe("y".repeat(CAP));
    }],
  ["reading past stdin: '' and EOFError; fd 0 is end of file", py("import sys, os",
    "print(repr(sys.stdin.read()), repr(sys.stdin.read()), os.read(0, 100), open(0, 'rb').read())", "input()"), "once",
    (r) => {
      expect(r).toMatchObject({ status: "error", exit_code: 1, error: "EOFError: EOF when reading a line" });
      expect(r.stdout).toBe("'once' '' b'' b''\n");
      expect(r.stderr).toContain("EOFError");
    }],
  ["sleeping past the deadline is a timeout; flushed output is kept", py("import time", "print('before', flush=True)", "time.sleep(3600)"), undefined,
    (r) => expect(r).toMatchObject({ status: "timeout", stdout: "before\n" })],
  ["an endless loop is a timeout", "while True:\n    pass", undefined, (r) => expect(r.status).toBe("timeout")],
  ["os._exit: that exit code; buffered stdout is lost as natively, raw writes kept", py("import os", "print('buffered')", "os.write(1, b'raw')", "os._exit(9)"), undefined,
    (r) => expect(r).toMatchObject({ status: "ok", exit_code: 9, stdout: "raw" })],
  ["SystemExit('msg'): 1, the message on stderr", "raise SystemExit('msg')", undefined,
    (r) => expect(r).toMatchObject({ status: "ok", exit_code: 1, stderr: "msg\n" })],
  ["SystemExit(None): 0", "print('a')\nraise SystemExit(None)", undefined, (r) => expect(r).toMatchObject({ status: "ok", exit_code: 0, stdout: "a\n" })],
  ["sys.exit(-1) and sys.exit(256): the low 8 bits", "import sys\nsys.exit(-1)", undefined, (r) => expect(r.exit_code).toBe(255)],
  ["sys.exit(256)", "import sys\nsys.exit(256)", undefined, (r) => expect(r.exit_code).toBe(0)],
  ["a SystemExit code whose __str__ raises", py("class C:", "    def __str__(self):", "        raise SystemExit(4)", "raise SystemExit(C())"), undefined,
    (r) => expect(r).toMatchObject({ status: "ok", exit_code: 1 })],
  ["KeyboardInterrupt: 1 and a traceback", "raise KeyboardInterrupt", undefined,
    (r) => {
      expect(r).toMatchObject({ status: "error", exit_code: 1, error: "KeyboardInterrupt" });
      expect(r.stderr).toContain("Traceback (most recent call last):\n  File \"<script>\", line 1, in <module>\n");
    }],
  ["an uncaught exception: 1, the traceback with source lines, no driver frame", py("def g():", "    raise ValueError('boom')", "g()"), undefined,
    (r) => {
      expect(r).toMatchObject({ status: "error", exit_code: 1, error: "ValueError: boom" });
      expect(r.stderr).toBe(py("Traceback (most recent call last):", '  File "<script>", line 3, in <module>', "    g()",
        '  File "<script>", line 2, in g', "    raise ValueError('boom')", "ValueError: boom", ""));
    }],
  ["a syntax error: 1, as python prints it", "x = = 1", undefined,
    (r) => {
      expect(r).toMatchObject({ status: "error", exit_code: 1 });
      expect(r.stderr).toEndWith("SyntaxError: invalid syntax\n");
    }],
  ["os.abort kills the interpreter: crash, no exit code, stdout so far kept", "import os\nprint('x', flush=True)\nos.abort()", undefined,
    (r) => {
      expect(r).toMatchObject({ status: "crash", stdout: "x\n" });
      expect(r.exit_code).toBeUndefined();
    }],
  ["runaway allocation: memory", "x = [0] * (10**9)", undefined, (r) => expect(r).toMatchObject({ status: "memory", exit_code: 1 })],
  ["state tampering: builtins, sys, linecache, sys.modules", py("import builtins, sys, linecache",
    "builtins.leak = 1", "sys.setrecursionlimit(60)", "linecache.cache['x'] = (1, None, ['x'], 'x')", "sys.modules['leaked'] = sys",
    "sys.stdout = None", "sys.argv.append('leak')"), undefined,
    (r) => expect(r).toMatchObject({ status: "ok", exit_code: 0 })],
];

for (const [name, code, stdin, check] of HOSTILE) {
  test(`hostile: ${name}; the next request is pristine`, async () => {
    check(await script(code, stdin));
    const probe = await script(PROBE, "in");
    expect(probe.stdout).toBe(baseline);
  });
}

test("timeout_ms shortens a script's deadline; AZR ops still run beside scripts", async () => {
  const [slow, run] = await Promise.all([
    script("while True:\n    pass", undefined, { timeout_ms: 200 }),
    ex.submit({ op: "run", code: "def f(x):\n    return x * 2", input: "21" }),
  ]);
  expect(slow.status).toBe("timeout");
  expect(run).toMatchObject({ status: "ok", output: "42" });
});

test("malformed script requests are invalid", async () => {
  for (const bad of [{ op: "script" }, { op: "script", code: "1", stdin: 5 }, { op: "script", code: "1", timeout_ms: -1 }]) {
    expect((await ex.submit(bad as unknown as ScriptRequest)).status).toBe("invalid");
  }
  const big = await script("pass", "x".repeat(3 << 20));
  expect(big.status).toBe("invalid");
});

test("over msgpack RPC, stdin may be bytes", async () => {
  const server = await listen(ex, "127.0.0.1", 0);
  const port = (server.address() as { port: number }).port;
  await using client = await ExecutorClient.connect({ port });
  const r = await client.submit({ op: "script", code: "import sys\nsys.stdout.buffer.write(sys.stdin.buffer.read()[::-1])", stdin: new Uint8Array([0x61, 0x62, 0x63]) });
  expect(r).toMatchObject({ status: "ok", exit_code: 0, stdout: "cba" });
  server.close();
});
