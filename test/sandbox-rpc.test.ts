// The msgpack RPC server under load: two clients at once, mixed ops with known answers and several timeouts;
// every request is answered exactly once with its own result, and malformed frames cost only an error reply.
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { connect } from "node:net";
import type { AddressInfo, Server } from "node:net";
import { encodeFrame, FrameReader } from "../sandbox/framing.ts";
import { Executor, type Request, type Result } from "../sandbox/index.ts";
// The documented import path (package.json exports it; PROTOCOL.md shows it).
import { ExecutorClient } from "azr-bun/sandbox/rpc-client.ts";
import { listen } from "../sandbox/rpc-server.ts";
import { SLOW_TEST_MS } from "./support/timeouts.ts";

setDefaultTimeout(SLOW_TEST_MS);

let ex: Executor;
let server: Server;
let port: number;

beforeAll(async () => {
  ex = await Executor.create({ workers: 2, timeoutMs: 300 });
  server = await listen(ex, "127.0.0.1", 0);
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.close();
  await ex.close();
});

/** Request i of a client tagged k, and the result it must get. */
function job(k: number, i: number): { req: Request; check: (r: Result) => void } {
  const n = k * 100_000 + i;
  switch (i % 5) {
    case 0:
      return { req: { op: "run", code: "def f(x):\n    return [x, x * 3]", input: String(n) }, check: (r) => expect(r).toMatchObject({ status: "ok", output: `[${n}, ${n * 3}]` }) };
    case 1:
      return {
        req: { op: "judge_deduction", code: "def f(x):\n    return x", input: "0", gold: String(n), answer: String(i % 2 ? n : n + 1) },
        check: (r) => expect(r).toMatchObject({ status: "ok", correct: i % 2 === 1 }),
      };
    case 2:
      return {
        req: { op: "judge_abduction", code: "def f(s):\n    return s[::-1]", gold: JSON.stringify(`${n}ab`), answer: JSON.stringify([...`${n}ab`].reverse().join("")) },
        check: (r) => expect(r).toMatchObject({ status: "ok", correct: true }),
      };
    case 3:
      return { req: { op: "run", code: "def f(x):\n    raise ValueError(x)", input: String(n) }, check: (r) => expect(r).toMatchObject({ status: "error", error: expect.stringContaining(String(n)) }) };
    default:
      // every 50th request spins past the 300 ms deadline; the rest check validate's recorded output
      if (i % 50 === 4) return { req: { op: "run", code: "def f(x):\n    while True:\n        x += 1", input: "0" }, check: (r) => expect(r.status).toBe("timeout") };
      return { req: { op: "validate", code: "def f(a):\n    return sorted(a)", input: `[${n}, 1]` }, check: (r) => expect(r).toMatchObject({ status: "ok", output: `[1, ${n}]` }) };
  }
}

test("1,000 mixed requests from two TCP clients at once: each answered once, with its own result", async () => {
  const clients = await Promise.all([ExecutorClient.connect({ port }), ExecutorClient.connect({ port })]);
  const perClient = 500;
  const all = clients.flatMap((c, k) =>
    Array.from({ length: perClient }, (_, i) => {
      const { req, check } = job(k + 1, i);
      return c.submit(req).then((r) => ({ r, check }));
    }),
  );
  const answered = await Promise.all(all);
  expect(answered.length).toBe(2 * perClient);
  let timeouts = 0;
  for (const { r, check } of answered) {
    check(r);
    if (r.status === "timeout") timeouts++;
  }
  expect(timeouts).toBe(2 * 10);
  await Promise.all(clients.map((c) => c.close()));
}, 120_000);

/** Sends raw bytes on a fresh connection and collects the frames answered before `count` arrive. */
async function raw(bytes: Uint8Array, count: number): Promise<unknown[]> {
  const socket = connect(port, "127.0.0.1");
  const reader = new FrameReader();
  const got: unknown[] = [];
  return new Promise((resolve, reject) => {
    socket.on("error", reject);
    socket.on("data", (c: Buffer) => {
      for (const f of reader.push(c)) got.push("value" in f ? f.value : f.problem);
      if (got.length >= count) {
        socket.destroy();
        resolve(got);
      }
    });
    socket.write(bytes);
  });
}

test("a frame that is not msgpack, or lacks an id, gets an invalid answer and the connection carries on", async () => {
  const garbage = new Uint8Array([0, 0, 0, 1, 0xc1]); // 0xc1 is never valid msgpack
  const noId = encodeFrame({ op: "run", code: "def f(): return 1", input: "" });
  const good = encodeFrame({ id: 7, op: "run", code: "def f():\n    return 1", input: "" });
  const replies = (await raw(new Uint8Array([...garbage, ...noId, ...good]), 3)) as Array<Record<string, unknown>>;
  expect(replies.filter((r) => r.id === null && r.status === "invalid").length).toBe(2);
  expect(replies.find((r) => r.id === 7)).toMatchObject({ status: "ok", output: "1" });
});

test("an oversized frame length is refused and only that connection is closed", async () => {
  const [reply] = (await raw(new Uint8Array([0x7f, 0xff, 0xff, 0xff]), 1)) as Array<Record<string, unknown>>;
  expect(reply).toMatchObject({ id: null, status: "invalid" });
  const c = await ExecutorClient.connect({ port });
  expect(await c.submit({ op: "run", code: "def f(x):\n    return x + 1", input: "1" })).toMatchObject({ status: "ok", output: "2" });
  await c.close();
});

test("a client over stdio (serve --stdio in a child process) gets its results", async () => {
  await using c = await ExecutorClient.spawn(["--workers", "1", "--timeout-ms", "500"]);
  const rs = await Promise.all([
    c.submit({ op: "run", code: "def f(x):\n    return x * 2", input: "'ab'" }),
    c.submit({ op: "judge_induction", answer_code: "def f(x):\n    return x + 1", pairs: [["1", "2"], ["5", "6"]], imports: [] }),
    c.submit({ op: "run", code: "def f():\n    while True: pass", input: "" }),
  ]);
  expect(rs.map((r) => r.status)).toEqual(["ok", "ok", "timeout"]);
  expect(rs[0].output).toBe("'abab'");
  expect(rs[1].correct).toBe(true);
}, 60_000);
