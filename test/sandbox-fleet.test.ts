// The executor fleet (sandbox/fleet/) as it is deployed: a private nats-server, members that are separate
// `executor serve --nats` processes, and the library client. Every request's result is checked against what that
// request must produce (so a crossed or lost answer shows), through a member SIGKILLed mid-run, a nats-server
// restart mid-run, a member at capacity, and a member drained by SIGTERM; batch --nats equals the in-process batch.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { spawn } from "bun";
import { FleetClient, type Request, type Result } from "../sandbox/index.ts";
import { startMember, type Member } from "./support/executor-member.ts";
import { NatsServer } from "./support/nats-server.ts";
import { SLOW_TEST_MS } from "./support/timeouts.ts";

setDefaultTimeout(SLOW_TEST_MS);

const CLI = new URL("../sandbox/cli.ts", import.meta.url).pathname;
const TIMEOUT_MS = "300";

/** A member with one interpreter and the test's deadline. */
const member = (url: string, extra: string[] = []): Promise<Member> => startMember(url, ["--workers", "1", "--timeout-ms", TIMEOUT_MS, ...extra]);

/** Request i of a mixed workload and the fields its result must have: every op, errors, refusals, timeouts. */
function mixed(i: number): { req: Request; want: Partial<Result> } {
  const triple = "def f(x):\n    return x * 3 + 1";
  switch (i % 20) {
    case 10:
    case 11:
      return { req: { op: "validate", code: "def f(x):\n    return [x] * 2", input: `${i}` }, want: { status: "ok", output: `[${i}, ${i}]` } };
    case 12:
    case 13: {
      const right = i % 4 !== 0;
      return {
        req: { op: "judge_deduction", code: triple, input: `${i}`, gold: `${3 * i + 1}`, answer: right ? `${3 * i + 1}` : `${3 * i}` },
        want: { status: "ok", correct: right },
      };
    }
    case 14:
      return { req: { op: "judge_abduction", code: "def f(a):\n    return a + 1", gold: `${i + 1}`, answer: `${i}` }, want: { status: "ok", correct: true } };
    case 15:
      return {
        req: { op: "judge_induction", answer_code: "def f(x):\n    return x - 1", pairs: [[`${i}`, `${i - 1}`], ["0", "-1"]], imports: [] },
        want: { status: "ok", correct: true },
      };
    case 16:
      return { req: { op: "run", code: "def f(x):\n    raise ValueError(x)", input: `${i}` }, want: { status: "error", error: `ValueError: ${i}` } };
    case 17:
      return { req: { op: "validate", code: `import subprocess\ndef f(x):\n    return x + ${i}`, input: "1" }, want: { status: "invalid", error: "banned import: subprocess" } };
    case 18:
      return { req: { op: "run", code: "def f(s):\n    return s[::-1]", input: `'ab${i}'` }, want: { status: "ok", output: `'${[...`ab${i}`].reverse().join("")}'` } };
    case 19:
      // Few: each costs its member an interpreter reboot (seconds on a loaded 2-core box).
      if (i % 500 === 19) return { req: { op: "run", code: `def f():\n    while True:\n        ${i}`, input: "" }, want: { status: "timeout" } };
      return { req: { op: "run", code: "def f(x):\n    return x % 7", input: `${i}` }, want: { status: "ok", output: `${i % 7}` } };
    default:
      return { req: { op: "run", code: triple, input: `${i}` }, want: { status: "ok", output: `${3 * i + 1}` } };
  }
}

const pick = (r: Result, want: Partial<Result>): Partial<Result> =>
  Object.fromEntries(Object.keys(want).map((k) => [k, r[k as keyof Result]]));

/** Submits requests from..to-1 at once; `during(answered)` runs after each answer. Resolves with how many times
 * each request was answered and every mismatch (request index, wanted, got). */
async function runMixed(client: FleetClient, from: number, to: number, during: (answered: number) => void = () => {}) {
  const answers = new Array<number>(to - from).fill(0);
  const wrong: Array<[number, Partial<Result>, Partial<Result>]> = [];
  let answered = 0;
  await Promise.all(
    Array.from({ length: to - from }, async (_, k) => {
      const { req, want } = mixed(from + k);
      const r = await client.submit(req);
      answers[k]++;
      if (JSON.stringify(pick(r, want)) !== JSON.stringify(want)) wrong.push([from + k, want, pick(r, want)]);
      during(++answered);
    }),
  );
  return { answers, wrong };
}

describe("executor fleet over NATS", () => {
  let nats: NatsServer;
  const members: Member[] = [];

  beforeAll(async () => {
    nats = await NatsServer.start();
  });

  afterAll(async () => {
    for (const m of members) m.kill("SIGKILL");
    await nats?.stop();
  });

  test("2 members, 2000 mixed requests, one member SIGKILLed mid-run: each answered once with its own result", async () => {
    // b holds at most 2 calls: once a is gone, the client's 16 in flight must meet `overloaded` answers.
    const [a, b] = await Promise.all([member(nats.url), member(nats.url, ["--max-in-flight", "2"])]);
    members.push(a, b);
    await using client = await FleetClient.connect({ url: nats.url, maxInFlight: 16, silenceMs: 2000 });
    let killed = false;
    const { answers, wrong } = await runMixed(client, 0, 2000, (n) => {
      if (n === 600 && !killed) {
        killed = true;
        a.kill("SIGKILL");
      }
    });
    expect(await a.exited).not.toBe(0);
    expect(wrong).toEqual([]);
    expect(answers.every((n) => n === 1)).toBe(true);
    expect(client.inFlight).toBe(0);
    expect(client.stats.lost).toBeGreaterThan(0); // the killed member's calls were sent again
    expect(client.stats.overloaded).toBeGreaterThan(0);
  });

  test("a nats-server restart mid-run: client and members reconnect and every request is answered", async () => {
    members.push(await member(nats.url));
    await using client = await FleetClient.connect({ url: nats.url, maxInFlight: 16, silenceMs: 2000 });
    let restarted: Promise<void> | null = null;
    const { answers, wrong } = await runMixed(client, 2000, 2600, (n) => {
      if (n === 200) restarted ??= nats.restart();
    });
    await restarted;
    expect(wrong).toEqual([]);
    expect(answers.every((n) => n === 1)).toBe(true);
  });

  test("batch --nats writes the same results, in the same order, as the in-process batch", async () => {
    const lines = Array.from({ length: 80 }, (_, i) => JSON.stringify({ id: i, ...mixed(i).req }));
    lines.splice(7, 0, "not json", "", JSON.stringify({ id: "x", op: "compile", code: "1" }));
    const input = new TextEncoder().encode(lines.join("\n") + "\n");
    const batch = async (args: string[]) => {
      const p = spawn([process.execPath, CLI, "batch", "--timeout-ms", TIMEOUT_MS, ...args], { stdin: input, stdout: "pipe", stderr: "pipe" });
      const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
      if (code !== 0) return { code, err, results: [] };
      return { code, err, results: out.trimEnd().split("\n").map((l) => ({ ...JSON.parse(l), ms: 0 })) };
    };
    const [fleet, local] = await Promise.all([batch(["--nats", nats.url, "--window", "8"]), batch(["--workers", "1"])]);
    expect([fleet.code, fleet.err]).toEqual([0, ""]);
    expect([local.code, local.err]).toEqual([0, ""]);
    expect(fleet.results.length).toBe(82);
    expect(fleet.results).toEqual(local.results);

    // Options the members do not run with: refused, the batch stops with the reason (exit 1), nothing made up.
    const other = await batch(["--nats", nats.url, "--compat"]);
    expect(other.code).toBe(1);
    expect(other.err).toContain("compat: member has false, caller needs true");
  });

  test("SIGTERM drains a member: it answers every call it holds and exits 0; the rest go to the others", async () => {
    const [, b, c] = members;
    await using client = await FleetClient.connect({ url: nats.url, maxInFlight: 8, silenceMs: 2000 });
    const { answers, wrong } = await runMixed(client, 3000, 3200, (n) => n === 20 && b.kill("SIGTERM"));
    expect(await b.exited).toBe(0);
    expect(wrong).toEqual([]);
    expect(answers.every((n) => n === 1)).toBe(true);
    expect(client.stats.lost).toBe(0);
    c.kill("SIGTERM");
    expect(await c.exited).toBe(0);
  });

  test("bad fleet addresses are refused before anything starts", async () => {
    for (const [args, says] of [
      [["serve", "--nats", "http://127.0.0.1:4222"], "use nats://HOST:PORT"],
      [["serve", "--nats", nats.url, "--stdio"], "exactly one of"],
      [["batch", "--subject", "x"], "--subject needs --nats"],
    ] as const) {
      const p = spawn([process.execPath, CLI, ...args], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
      const [err, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
      expect({ args, code }).toEqual({ args, code: 2 });
      expect(err).toContain(says);
    }
    expect(FleetClient.connect({ url: "nats://" })).rejects.toThrow("names no host");
  });
});
