// Admission limits of the RPC server and the batch CLI under floods: hostile frames (a map of a million keys, deep
// nesting, foreign extensions, oversized lengths) are refused before msgpackr decodes them and cost only their own
// connection an error; one connection can have at most `maxInFlight` requests admitted and the server at most
// `maxPendingBytes` of frames, however fast a client writes; other clients keep being served. The executor behind
// the server is real; `counting` only observes how many of its submits run at once.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { connect, type AddressInfo, type Server } from "node:net";
import { Readable } from "node:stream";
import { Packr } from "msgpackr";
import { boundedLines, runBatch } from "../sandbox/batch.ts";
import { encodeFrame, FrameReader } from "../sandbox/framing.ts";
import { Executor, type Request } from "../sandbox/index.ts";
import { DEFAULT_SHAPE, msgpackShapeProblem } from "../sandbox/msgpack-shape.ts";
import { ExecutorClient } from "../sandbox/rpc-client.ts";
import { defaultLimits, listen, type ServerLimits } from "../sandbox/rpc-server.ts";
import { SLOW_TEST_MS } from "./support/timeouts.ts";

setDefaultTimeout(SLOW_TEST_MS);

const packer = new Packr({ variableMapSize: true, useRecords: false });

/** A msgpack map32 of `n` entries 1 -> 1 (two bytes each): a million keys in 2 MB, built without packing. */
function millionKeyMap(n = 1_000_000): Uint8Array {
  const b = new Uint8Array(5 + 2 * n).fill(0x01);
  b[0] = 0xdf;
  new DataView(b.buffer).setUint32(1, n);
  return b;
}
const cat = (a: Uint8Array, b: Uint8Array) => Buffer.concat([a, b]);
const frame = (body: Uint8Array) => {
  const f = new Uint8Array(4 + body.length);
  new DataView(f.buffer).setUint32(0, body.length);
  f.set(body, 4);
  return f;
};

describe("msgpack shape check", () => {
  test("ordinary values of every kind pass", () => {
    const values: unknown[] = [0, -1, 200, -200, 70_000, 2 ** 40, -(2 ** 40), 1.5, "", "x".repeat(40), "y".repeat(300),
      "z".repeat(70_000), null, true, false, new Uint8Array(3), new Uint8Array(300), new Uint8Array(70_000), [], {},
      [1, [2, [3, { a: "b" }]]], Array(20).fill(1), Array(1000).fill("s"), new Date(0),
      { id: 1, op: "judge_induction", answer_code: "def f(x):\n    return x", pairs: [["1", "2"]], imports: [] }];
    for (const v of values) expect({ v, problem: msgpackShapeProblem(packer.pack(v)) }).toEqual({ v, problem: null });
  });

  test("too many values, too deep, foreign extensions, truncation and trailing bytes are refused", () => {
    expect(msgpackShapeProblem(millionKeyMap())).toContain(`more than ${DEFAULT_SHAPE.maxElements}`);
    let deep: unknown = 1;
    for (let i = 0; i < 10_000; i++) deep = [deep];
    expect(msgpackShapeProblem(packer.pack(deep))).toContain("nesting deeper");
    expect(msgpackShapeProblem(new Packr().pack({ a: { b: 1 } }))).toContain("extension type"); // msgpackr records
    expect(msgpackShapeProblem(Uint8Array.from([0xdd, 0xff, 0xff, 0xff, 0xff]))).toContain("declares 4294967295 values");
    expect(msgpackShapeProblem(Uint8Array.from([0xdb, 0x7f, 0xff, 0xff, 0xff, 0x61]))).toContain("truncated");
    expect(msgpackShapeProblem(Uint8Array.from([0xc1]))).toContain("0xc1");
    expect(msgpackShapeProblem(Uint8Array.from([0x01, 0x02]))).toContain("after the msgpack value");
  });

  test("a FrameReader answers a hostile frame with a problem instead of decoding it", () => {
    const reader = new FrameReader();
    const [f] = reader.push(frame(packer.pack(Array(100_000).fill(0))));
    expect(f).toEqual({ problem: `more than ${DEFAULT_SHAPE.maxElements} msgpack values` });
  });
});

/** The real executor, wrapped to record the most submits running at once since the last `reset`. */
function counting(ex: Executor): { ex: Executor; peak: () => number; reset: () => void } {
  let live = 0;
  let peak = 0;
  const wrapped = Object.create(ex) as Executor;
  wrapped.submit = (req) => {
    peak = Math.max(peak, ++live);
    return ex.submit(req).finally(() => live--);
  };
  return { ex: wrapped, peak: () => peak, reset: () => void (peak = live) };
}

/** Raw bytes on a fresh connection; resolves with the frames answered until the server closes it or `count` came. */
function raw(port: number, bytes: Uint8Array, count: number): Promise<Array<Record<string, unknown>>> {
  const socket = connect(port, "127.0.0.1");
  const reader = new FrameReader();
  const got: Array<Record<string, unknown>> = [];
  return new Promise((resolve) => {
    socket.on("error", () => resolve(got)); // the server hung up while we were still writing
    socket.on("close", () => resolve(got));
    socket.on("data", (c: Buffer) => {
      for (const f of reader.push(c)) got.push("value" in f ? (f.value as Record<string, unknown>) : { problem: f.problem });
      if (got.length >= count) socket.destroy();
    });
    socket.write(bytes);
  });
}

const spin = (ms: number): Request => ({
  op: "run",
  code: "def f(n):\n    s = 0\n    for i in range(n):\n        s += i\n    return s",
  input: String(ms * 2000),
});

describe("the RPC server admits bounded work", () => {
  let base: Executor;
  let server: Server;
  let port: number;
  let load: ReturnType<typeof counting>;
  let limits: ServerLimits;
  beforeAll(async () => {
    base = await Executor.create({ workers: 2, timeoutMs: 5000 });
    load = counting(base);
    limits = { ...defaultLimits(base), maxInFlight: 8, maxPendingBytes: 4 << 20 };
    server = await listen(load.ex, "127.0.0.1", 0, limits);
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server?.close();
    await base?.close();
  });

  test("the frame cap follows the executor's request limit", () => {
    expect(limits.maxFrameBytes).toBe(base.options.maxRequestBytes + 64 * 1024);
  });

  test("a 2 MB map of a million keys is refused undecoded, and the same connection carries on", async () => {
    const good = encodeFrame({ id: 1, op: "run", code: "def f(x):\n    return x", input: "41" });
    const replies = await raw(port, cat(frame(millionKeyMap()), good), 2);
    expect(replies[0]).toMatchObject({ id: null, status: "invalid", error: expect.stringContaining("more than") });
    expect(replies[1]).toMatchObject({ id: 1, status: "ok", output: "41" });
  });

  test("nesting 10 000 deep is refused, and the same connection carries on", async () => {
    let deep: unknown = 0;
    for (let i = 0; i < 10_000; i++) deep = [deep];
    const good = encodeFrame({ id: 2, op: "run", code: "def f(x):\n    return x", input: "42" });
    const replies = await raw(port, cat(frame(packer.pack(deep)), good), 2);
    expect(replies[0]).toMatchObject({ id: null, status: "invalid", error: expect.stringContaining("nesting") });
    expect(replies[1]).toMatchObject({ id: 2, status: "ok", output: "42" });
  });

  test("a 12 MiB frame is refused by its length alone and closes only its connection", async () => {
    const flood = raw(port, frame(millionKeyMap(6_000_000)), 1);
    await using other = await ExecutorClient.connect({ port });
    const mine = await other.submit({ op: "run", code: "def f(x):\n    return x * 2", input: "21" });
    expect(mine).toMatchObject({ status: "ok", output: "42" });
    const [reply] = await flood;
    expect(reply).toMatchObject({ id: null, status: "invalid", error: expect.stringContaining("exceeds") });
  });

  test("one connection pipelining 200 requests never has more than maxInFlight admitted, and all are answered", async () => {
    await using c = await ExecutorClient.connect({ port });
    load.reset();
    const rs = await Promise.all(Array.from({ length: 200 }, () => c.submit(spin(2))));
    for (const r of rs) expect(r.status).toBe("ok");
    expect(load.peak()).toBe(limits.maxInFlight);
  });

  test("while one client floods, another client's request is answered long before the flood is", async () => {
    await using flooder = await ExecutorClient.connect({ port });
    await using other = await ExecutorClient.connect({ port });
    let floodDone = 0;
    let started!: () => void;
    const flowing = new Promise<void>((resolve) => (started = resolve));
    const flood = Array.from({ length: 200 }, () => flooder.submit(spin(4)).then((r) => (floodDone++, started(), r)));
    await flowing;
    const mine = await other.submit({ op: "run", code: "def f(x):\n    return x", input: "'me'" });
    expect(mine).toMatchObject({ status: "ok", output: "'me'" });
    // queued behind at most the flooder's maxInFlight, not behind its whole backlog of 200
    expect(floodDone).toBeLessThan(100);
    for (const r of await Promise.all(flood)) expect(r.status).toBe("ok");
  });

  test("large requests are admitted within the pending-bytes budget, all answered", async () => {
    await using c = await ExecutorClient.connect({ port });
    const code = "#" + "x".repeat(1_500_000) + "\ndef f(x):\n    return x";
    load.reset();
    const rs = await Promise.all(Array.from({ length: 12 }, (_, i) => c.submit({ op: "run", code, input: String(i) })));
    expect(rs.map((r) => r.output)).toEqual(Array.from({ length: 12 }, (_, i) => String(i)));
    expect(load.peak()).toBe(2); // 4 MiB of pending frames hold two of 1.5 MB, though maxInFlight is 8
  });

  test("past maxConnections a new connection is told the server is busy; the open ones still work", async () => {
    const small = await listen(base, "127.0.0.1", 0, { ...limits, maxConnections: 2 });
    const smallPort = (small.address() as AddressInfo).port;
    try {
      const open = await Promise.all([0, 1].map(() => ExecutorClient.connect({ port: smallPort })));
      const [busy] = await raw(smallPort, new Uint8Array(0), 1);
      expect(busy).toMatchObject({ id: null, status: "invalid", error: expect.stringContaining("busy") });
      const rs = await Promise.all(open.map((c, i) => c.submit({ op: "run", code: "def f(x):\n    return x", input: String(i) })));
      expect(rs.map((r) => r.output)).toEqual(["0", "1"]);
      await Promise.all(open.map((c) => c.close()));
    } finally {
      small.close();
    }
  });
});

describe("the batch CLI reads bounded lines", () => {
  async function collect(chunks: Array<string | Uint8Array>, max: number) {
    const out = [];
    for await (const line of boundedLines(Readable.from(chunks), max)) out.push(line);
    return out;
  }

  test("a line over the cap comes out as tooLong, split chunks and CRLF are joined, the next line is intact", async () => {
    const lines = await collect(["ab", "c\r\n", "x".repeat(30), "y".repeat(30), "\nlast"], 40);
    expect(lines).toEqual(["abc", { tooLong: 60 }, "last"]);
  });

  test("a newline-free input far over the cap is skipped as it streams, never held", async () => {
    const chunk = new Uint8Array(1 << 20).fill(0x61);
    expect(await collect(Array.from({ length: 64 }, () => chunk), 2 << 20)).toEqual([{ tooLong: 64 << 20 }]);
  });

  test("an overlong line gets an invalid result in its place and the batch goes on", async () => {
    await using ex = await Executor.create({ workers: 1, spares: 0, timeoutMs: 5000, maxRequestBytes: 64 * 1024 });
    const ok = JSON.stringify({ id: 1, op: "run", code: "def f(x):\n    return x", input: "7" });
    const huge = JSON.stringify({ id: 2, op: "run", code: "#" + "x".repeat(400_000), input: "1" });
    const written: string[] = [];
    const counts = await runBatch(ex, Readable.from([`${huge}\n${ok}\n`]), (l) => void written.push(l), {
      window: 4,
      maxLineBytes: 128 * 1024,
    });
    const results = written.map((l) => JSON.parse(l));
    expect(results[0]).toMatchObject({ id: null, status: "invalid", error: expect.stringContaining("line 1 is") });
    expect(results[1]).toMatchObject({ id: 1, status: "ok", output: "7" });
    expect(counts.lines).toBe(2);
  });
});
