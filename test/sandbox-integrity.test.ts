// Restore integrity and bounded host calls against a guest that holds a real memory primitive: pure Python builds a
// read/write view of all linear memory (a code object whose LOAD_CONST index points outside its co_consts tuple, at
// a fake bytearray spanning address 0 up), then writes wherever it likes. Whatever it writes, the next request
// starts byte-identical to the snapshot (`verifyRestore` compares every byte after every restore; a mismatch
// replaces the instance and shows up in restartReasons) and sees none of it. Plus: the instrumentation covers
// every memory-writing opcode, host calls that copy much stop at the deadline, and deadlines cannot overflow.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createChannel, post } from "../sandbox/channel.ts";
import { Executor, type Request, type Result } from "../sandbox/index.ts";
import { MAX_TIMER_MS, requestDeadline } from "../sandbox/pool.ts";
import { IOV_MAX, WASI_ERRNO, WasiHost } from "../sandbox/wasi.ts";
import { DIRTY_EXPORT, encodeU32, rewriteModule } from "../sandbox/wasm-rewrite.ts";
import { SLOW_TEST_MS } from "./support/timeouts.ts";

setDefaultTimeout(SLOW_TEST_MS);

const py = (...lines: string[]) => lines.join("\n");

/** `_mem()`: a bytearray whose buffer is all of linear memory (wasm32 CPython 3.12 object layouts). */
const PRIMITIVE = py(
  "import struct, __main__",
  "_keep = []",
  "def _mem():",
  "    # PyByteArrayObject: refcnt, type, size, alloc, bytes, start, exports — a 2 GiB buffer at address 0",
  "    fake = struct.pack('<IIIIIII', 0x10000000, id(bytearray), 0x7ffffff0, 0x7ffffff0, 0, 0, 0)",
  "    ptr = struct.pack('<I', id(fake) + 16)  # bytes payload starts 16 bytes in",
  "    consts = (None,)",
  "    index = ((id(ptr) + 16 - (id(consts) + 12)) // 4) & 0xffffffff  # tuple items start 12 bytes in",
  "    b = index.to_bytes(4, 'big')",
  "    code = bytes([151, 0, 144, b[0], 144, b[1], 144, b[2], 100, b[3], 83, 0])  # RESUME; EXTENDED_ARG×3; LOAD_CONST; RETURN_VALUE",
  "    def g():",
  "        pass",
  "    g.__code__ = g.__code__.replace(co_code=code, co_consts=consts, co_stacksize=2)",
  "    m = g()",
  "    _keep.append((fake, ptr, consts, m))",
  "    return m",
  "def _u32(m, a):",
  "    return int.from_bytes(m[a:a + 4], 'little')",
  "def _buffer(m, ba):",
  "    return _u32(m, id(ba) + 16)  # PyByteArrayObject.ob_bytes",
  "def _secret():",
  "    # 24 bytes that no request's text holds, set one by one so that no temporary (a stack buffer) spells them out",
  "    s = bytearray(24)",
  "    for i in range(24):",
  "        s[i] = (i * 37 + 11) % 251",
  "    return s",
);


const run = (code: string, input = "0"): Request => ({ op: "run", code: PRIMITIVE + "\n" + code, input });

/** Searches memory up to the request buffer's end, and the 8 MiB freed block at `input`, for the secret (ignoring
 * the copy this request just made); and reads the request buffer's tail. */
const search = (block: number) => run(py(
  "def f(block):",
  "    m = _mem()",
  "    s = _secret()",
  "    own = _buffer(m, s)",
  "    hits = []",
  "    for lo, hi in ((0, _buffer(m, __main__._BUF) + len(__main__._BUF)), (block, block + (8 << 20))):",
  "        at = m.find(s, lo, hi)",
  "        while at >= 0:",
  "            if at != own:",
  "                hits.append(at)",
  "            at = m.find(s, at + 1, hi)",
  "    return hits, bytes(__main__._BUF[-64:]) == bytes(64)",
), String(block));

/** Reads the state the tampering below patches in place (objects no Python code can mutate). */
const PROBE: Request = {
  op: "run",
  code: py("import math", "def f(x):", "    return 250, 250 + x, math.pi, math.__name__, sorted([3, 1, 2])"),
  input: "1",
};
const PROBE_OUTPUT = "(250, 251, 3.141592653589793, 'math', [1, 2, 3])";

/** Patches immutable objects through the primitive (the cached small int 250, math.pi, the string
 * math.__name__), writes the secret into the request buffer's tail and into every page of an 8 MiB block it then frees
 * (the free top of the heap, which the old full restore skipped); returns that block's address. */
const TAMPER = run(py(
  "import math",
  "def f(x):",
  "    m = _mem()",
  "    a = id(250) + 12  # PyLongObject digit",
  "    m[a:a + 4] = (9).to_bytes(4, 'little')",
  "    p = id(math.pi) + 8  # PyFloatObject value",
  "    m[p:p + 8] = struct.pack('<d', 3.0)",
  "    h = math.__name__",
  "    m[id(h) + 20:id(h) + 24] = b'MATH'  # compact ASCII payload",
  "    s = _secret()",
  "    block = bytearray(8 << 20)",
  "    base = _buffer(m, block)",
  "    for page in range(0, 8 << 20, 4096):",
  "        m[base + page:base + page + len(s)] = s",
  "    del block",
  "    buf = _buffer(m, __main__._BUF)",
  "    m[buf + len(__main__._BUF) - 64:buf + len(__main__._BUF) - 64 + len(s)] = s  # the request buffer's tail",
  "    return 250, math.pi == 3.0, math.__name__, base",
));


describe.each([
  ["dirty-page restore", { dirtyTracking: true }],
  ["full restore", { dirtyTracking: false }],
])("memory primitive vs %s", (_name, opts) => {
  let ex: Executor;
  beforeAll(async () => {
    ex = await Executor.create({ workers: 1, spares: 0, timeoutMs: 5000, verifyRestore: true, ...opts });
  });
  afterAll(async () => {
    await ex?.close();
  });

  test("the primitive is real: it reads object headers and writes what ordinary Python then sees", async () => {
    const r = await ex.submit(run(py(
      "def f(x):",
      "    m = _mem()",
      "    b = bytearray(b'abcd')",
      "    m[_buffer(m, b)] = ord('Z')",
      "    return _u32(m, id(None) + 4) == id(type(None)), bytes(b)",
    )));
    expect(r).toMatchObject({ status: "ok", output: "(True, b'Zbcd')" });
  });

  test("immutable objects patched in memory, a freed block and the request buffer's tail are all restored", async () => {
    const tampered = await ex.submit(TAMPER);
    const took = /^\(9, True, 'MATH', (\d+)\)$/.exec(tampered.output ?? ""); // the patches took effect in that request
    expect({ status: tampered.status, took: took !== null, output: tampered.output }).toMatchObject({ status: "ok", took: true });
    expect(await ex.submit(PROBE)).toMatchObject({ status: "ok", output: PROBE_OUTPUT });
    expect(await ex.submit(search(Number(took![1])))).toMatchObject({ status: "ok", output: "([], True)" });
  });

  test("the tampering never shows in the requests after it", async () => {
    await ex.submit(TAMPER);
    for (let i = 0; i < 20; i++) expect((await ex.submit(PROBE)).output).toBe(PROBE_OUTPUT);
  });

  test("zeroing the request buffer and the boundary header does not hurt the next innocent request", async () => {
    const zero = await ex.submit(run(py(
      "def f(x):",
      "    m = _mem()",
      "    buf = _buffer(m, __main__._BUF)",
      "    m[buf:buf + len(__main__._BUF)] = bytes(len(__main__._BUF))",
      "    hdr = _buffer(m, __main__._HDR)",
      "    m[hdr:hdr + 4] = b'\\xff\\xff\\xff\\x7f'",
      "    return 1",
    )));
    expect(zero).toMatchObject({ status: "ok", output: "1" });
    expect(await ex.submit(PROBE)).toMatchObject({ status: "ok", output: PROBE_OUTPUT });
  });

  test("a program calling the driver's own boundary read gets end of file, and its request ends normally", async () => {
    const r = await ex.submit({
      op: "run",
      code: py("import __main__", "def f(x):", "    return __main__._READ(__main__._HDRV), x"),
      input: "5",
    });
    expect(r).toMatchObject({ status: "ok", output: "(0, 5)" });
    expect(await ex.submit(PROBE)).toMatchObject({ status: "ok", output: PROBE_OUTPUT });
  });

  test("every restore was byte-exact: no instance was ever replaced", async () => {
    expect((await ex.submit(PROBE)).output).toBe(PROBE_OUTPUT);
    expect(ex.restartReasons()).toEqual({});
  });
});

// ---- the instrumentation: every memory-writing opcode marks, everything it cannot mark is refused ------------------

const bytes = (s: string) => [...new TextEncoder().encode(s)];
const name = (s: string) => [...encodeU32(bytes(s).length), ...bytes(s)];
const vec = (items: number[][]) => [...encodeU32(items.length), ...items.flat()];
const section = (id: number, body: number[]) => [id, ...encodeU32(body.length), ...body];

/** One memory of 4 pages, a passive data segment of 8 bytes, and `body` as an exported (i32, i32, i32) -> (). */
function bulkModule(body: number[]): Uint8Array {
  const code = [...encodeU32(body.length + 2), 0x00, ...body, 0x0b];
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([[0x60, 3, 0x7f, 0x7f, 0x7f, 0]])), ...section(3, vec([[0]])),
    ...section(5, vec([[0x00, 4]])),
    ...section(7, vec([[...name("op"), 0x00, 0], [...name("memory"), 0x02, 0]])),
    ...section(12, [1]), // data count (needed by memory.init)
    ...section(10, vec([code])), ...section(11, vec([[0x01, ...encodeU32(8), ...bytes("initdata")]])),
  ]);
}

function marked(wasm: Uint8Array, a: number, b: number, c: number): number[] {
  const { wasm: out, stats } = rewriteModule(wasm, { stripCustom: true, dirty: true });
  expect(stats.bulk).toBe(1);
  const ex = new WebAssembly.Instance(new WebAssembly.Module(out), {}).exports as {
    op(a: number, b: number, c: number): void;
    [DIRTY_EXPORT]: WebAssembly.Memory;
  };
  ex.op(a, b, c);
  return [...new Uint8Array(ex[DIRTY_EXPORT].buffer, 0, 64)].flatMap((v, i) => (v ? [i] : []));
}

describe("marks cover every memory-writing opcode", () => {
  const args = [0x20, 0, 0x20, 1, 0x20, 2];
  test("memory.fill marks every page of its range", () => {
    expect(marked(bulkModule([...args, 0xfc, 0x0b, 0x00]), 4096 - 1, 7, 2 * 4096 + 2)).toEqual([0, 1, 2, 3]);
  });
  test("memory.copy marks its destination's pages", () => {
    expect(marked(bulkModule([...args, 0xfc, 0x0a, 0x00, 0x00]), 3 * 4096, 0, 100)).toEqual([3]);
  });
  test("memory.init marks its destination's pages", () => {
    expect(marked(bulkModule([...args, 0xfc, 0x08, 0x00, 0x00]), 2 * 4096 - 4, 0, 8)).toEqual([1, 2]);
  });
  test("a module that already names a second memory, or uses atomics, is refused", () => {
    const multi = bulkModule([0x20, 0, 0x20, 1, 0x36, 0x42, 0x01, 0x00]); // i32.store to memory 1
    expect(() => rewriteModule(multi, { stripCustom: true, dirty: true })).toThrow("multi-memory");
    const grow = bulkModule([0x41, 0x01, 0x40, 0x01, 0x1a]); // memory.grow of memory 1
    expect(() => rewriteModule(grow, { stripCustom: true, dirty: true })).toThrow("multi-memory");
    const fill = bulkModule([0x20, 0, 0x20, 1, 0x20, 2, 0xfc, 0x0b, 0x01]); // memory.fill of memory 1
    expect(() => rewriteModule(fill, { stripCustom: true, dirty: true })).toThrow("multi-memory");
    const atomic = bulkModule([0x20, 0, 0x20, 1, 0xfe, 0x17, 0x02, 0x00]); // i32.atomic.store
    expect(() => rewriteModule(atomic, { stripCustom: true, dirty: true })).toThrow("unsupported opcode 0xfe");
  });
});

// ---- host calls: bounded work, checked deadlines ------------------------------------------------------------------

describe("host calls stop at the deadline and copy nothing they do not keep", () => {
  const DEADLINE_MS = 1000;
  let ex: Executor;
  beforeAll(async () => {
    ex = await Executor.create({ workers: 1, spares: 1, timeoutMs: DEADLINE_MS });
  });
  afterAll(async () => {
    await ex?.close();
  });

  const loops: Record<string, [string, Result["status"]]> = {
    "os.write(2, 16 MiB) forever": [py("import os", "def f(x):", "    b = b'x' * (16 << 20)", "    while True:",
      "        os.write(2, b)"), "output_limit"],
    "os.write(1, 16 MiB) forever (a giant reply frame)": [py("import os", "def f(x):", "    b = b'x' * (16 << 20)",
      "    while True:", "        os.write(1, b)"), "output_limit"],
    "os.writev(2, 1000 × 1 MiB) forever": [py("import os", "def f(x):", "    bs = [b'y' * (1 << 20)] * 1000",
      "    while True:", "        os.writev(2, bs)"), "output_limit"],
    "os.writev past IOV_MAX and past 2 GiB, errors swallowed": [py("import os", "def f(x):", "    b = b'z' * (16 << 20)",
      "    while True:", "        for bs in ([b'a'] * 5000, [b] * 160):", "            try:", "                os.writev(2, bs)",
      "            except OSError:", "                pass"), "timeout"],
    "os.urandom(32 MiB) forever": [py("import os", "def f(x):", "    while True:", "        os.urandom(32 << 20)"), "timeout"],
  };
  for (const [label, [code, status]] of Object.entries(loops)) {
    test(label, async () => {
      const rss = process.memoryUsage().rss;
      const r = await ex.submit({ op: "run", code, input: "0" });
      expect({ label, status: r.status }).toEqual({ label, status });
      // Stopped by the deadline check inside the host call, not by the watchdog (deadline + graceMs = 11 s); the
      // margin is for a loaded 2-core machine.
      expect(r.ms).toBeLessThan(DEADLINE_MS + 3000);
      // The guest's own 100 MiB lives in its memory; the host copied none of the gigabytes written.
      expect(process.memoryUsage().rss - rss).toBeLessThan(1 << 30);
    });
  }

  test("the interpreter answers normally afterwards", async () => {
    expect(await ex.submit(PROBE)).toMatchObject({ status: "ok", output: PROBE_OUTPUT });
  });
});

describe("the WASI host refuses oversized or out-of-memory host-call arguments", () => {
  function host(ticks: { n: number }, writes: Uint8Array[] = [], pages = 1) {
    const memory = new WebAssembly.Memory({ initial: pages });
    const wasi = new WasiHost({
      args: [], env: {}, randomSeed: 1, read: () => 0, write: (_fd, b) => void writes.push(b), tick: () => void ticks.n++,
    });
    wasi.bind(memory);
    const dv = new DataView(memory.buffer);
    return { wasi: wasi.imports().wasi_snapshot_preview1 as Record<string, (...a: number[]) => number>, dv, memory };
  }

  test("fd_write: more than IOV_MAX buffers is EINVAL, a buffer outside memory EFAULT, over 2 GiB in all EINVAL", () => {
    const ticks = { n: 0 };
    const { wasi, dv } = host(ticks);
    expect(wasi.fd_write!(2, 0, IOV_MAX + 1, 60000)).toBe(WASI_ERRNO.INVAL);
    dv.setUint32(0, 65000, true);
    dv.setUint32(4, 1000, true);
    expect(wasi.fd_write!(2, 0, 1, 60000)).toBe(WASI_ERRNO.FAULT);
    for (let i = 0; i < 3; i++) {
      dv.setUint32(8 * i, 0, true);
      dv.setUint32(8 * i + 4, 2 ** 31 - 1, true);
    }
    expect(wasi.fd_write!(2, 0, 3, 60000)).toBe(WASI_ERRNO.FAULT); // each also overruns a 64 KiB memory
    expect(wasi.fd_write!(2, 65532, 1, 60000)).toBe(WASI_ERRNO.FAULT); // the iovec array itself overruns
    expect(ticks.n).toBe(4); // the deadline was checked on every call

    const big = host(ticks, [], 40); // 2.5 MiB: 1024 buffers of 2 MiB + 1 each fit, but sum past SSIZE_MAX
    for (let i = 0; i < IOV_MAX; i++) {
      big.dv.setUint32(8 * i, 0, true);
      big.dv.setUint32(8 * i + 4, (2 << 20) + 1, true);
    }
    expect(big.wasi.fd_write!(2, 0, IOV_MAX, 2 << 20)).toBe(WASI_ERRNO.INVAL);
    expect(big.wasi.fd_write!(2, 0, IOV_MAX - 1, 2 << 20)).toBe(WASI_ERRNO.SUCCESS);
  });

  test("fd_write hands the embedder a view of guest memory, not a copy", () => {
    const writes: Uint8Array[] = [];
    const { wasi, dv, memory } = host({ n: 0 }, writes);
    dv.setUint32(0, 100, true);
    dv.setUint32(4, 5000, true);
    expect(wasi.fd_write!(2, 0, 1, 8)).toBe(WASI_ERRNO.SUCCESS);
    expect(writes[0]!.buffer).toBe(memory.buffer);
    expect(writes[0]!.length).toBe(5000);
    expect(dv.getUint32(8, true)).toBe(5000);
  });

  test("random_get checks the deadline every 64 KiB and refuses a range outside memory", () => {
    const ticks = { n: 0 };
    const { wasi } = host(ticks);
    expect(wasi.random_get!(0, 65536)).toBe(WASI_ERRNO.SUCCESS);
    expect(ticks.n).toBe(1);
    expect(wasi.random_get!(1, 65536)).toBe(WASI_ERRNO.FAULT);
    expect(wasi.random_get!(-1, 4)).toBe(WASI_ERRNO.FAULT); // 0xffffffff as the guest's i32
  });

  test("poll_oneoff refuses more than IOV_MAX subscriptions and checks the deadline", () => {
    const ticks = { n: 0 };
    const { wasi } = host(ticks);
    expect(wasi.poll_oneoff!(0, 0, IOV_MAX + 1, 0)).toBe(WASI_ERRNO.INVAL);
    expect(wasi.poll_oneoff!(0, 64000, 100, 0)).toBe(WASI_ERRNO.FAULT);
    expect(ticks.n).toBe(2);
  });
});

describe("deadline arithmetic cannot overflow into an instant timeout", () => {
  test("requestDeadline clamps what the Int32 slot and the watchdog timer cannot hold, and refuses nonsense", () => {
    expect(requestDeadline(2 ** 40, 10_000)).toBe(MAX_TIMER_MS - 10_000);
    expect(requestDeadline(2 ** 25 * 3000, 0)).toBe(MAX_TIMER_MS);
    expect(requestDeadline(0.5, 0)).toBe(1);
    expect(() => requestDeadline(Number.NaN, 0)).toThrow("positive");
    expect(() => requestDeadline(-5, 0)).toThrow("positive");
  });

  test("the channel refuses a deadline its Int32 slot would wrap", () => {
    const ch = createChannel(16);
    expect(() => post(ch, new Uint8Array(1), 2 ** 31)).toThrow("Int32");
    expect(() => post(ch, new Uint8Array(1), 1.5)).toThrow("Int32");
  });

  test("a long per-program deadline times many induction pairs still runs, answered correctly", async () => {
    await using ex = await Executor.create({ workers: 1, spares: 0, timeoutMs: 2 ** 25 });
    const pairs: Array<[string, string]> = Array.from({ length: 64 }, (_, i) => [String(i), String(i + 1)]);
    const r = await ex.submit({ op: "judge_induction", answer_code: "def f(x):\n    return x + 1", pairs, imports: [] });
    expect(r).toMatchObject({ status: "ok", correct: true });
  });
});
