// `bun run bench fleet [--quick]`: executor programs/s and client-side latency through the NATS fleet (1 and 2
// member processes on a private loopback nats-server) beside the in-process pool with the same interpreter counts,
// all in one run, so the ratio is NATS's overhead (encode, two hops through the server, a member's dispatch). Every
// target is one row of `targets`: a name, its interpreter count and how to open it; another transport (the HTTP
// endpoint) is one more entry. Each target is driven the same way: a window of requests in flight, each request's
// latency measured from its send to its answer; passes alternate between the targets. Then the `http` suite (the
// SandboxFusion-compatible endpoint beside a native python3 subprocess per request).
import { availableParallelism } from "node:os";
import { Executor, FleetClient, type Request, type Submitter } from "../sandbox/index.ts";
import { startMember, type Member } from "../test/support/executor-member.ts";
import { NatsServer } from "../test/support/nats-server.ts";
import { seedPrograms, workloads } from "./executor.ts";
import { printTable, writeResult } from "./report.ts";
import { main as httpSuite } from "./http.ts";

interface Opened {
  submitter: Submitter;
  close(): Promise<void>;
}

interface Target {
  name: string;
  /** Interpreters serving it, in all (the in-process pool with as many is its baseline). */
  interpreters: number;
  open(): Promise<Opened>;
}

interface Row {
  name: string;
  interpreters: number;
  workload: string;
  /** Requests (executor calls) per program of this workload. */
  calls: number;
  perSecond: number;
  p50: number;
  p99: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

/** One pass: every request through `s` with at most `window` in flight; per-request latency in ms. */
async function pass(s: Submitter, requests: Request[], window: number): Promise<{ seconds: number; latency: number[] }> {
  const latency: number[] = [];
  let next = 0;
  const t0 = performance.now();
  const lane = async () => {
    while (next < requests.length) {
      const req = requests[next++];
      const sent = performance.now();
      await s.submit(req); // a fleet that refuses a call rejects: the bench stops rather than time refusals
      latency.push(performance.now() - sent);
    }
  };
  await Promise.all(Array.from({ length: window }, lane));
  return { seconds: (performance.now() - t0) / 1000, latency };
}

/** Requests run before timing starts, per workload: the JIT's steady state needs ~1000 programs (sandbox/README.md). */
const WARM_REQUESTS = 1024;

/** Every target open at once, passes interleaved (target 1, 2, …, then again), so a change in the machine's load
 * during the run falls on all rows alike rather than on whichever target ran at that time. */
async function measure(targets: Target[], jobs: Record<string, { requests: Request[]; calls: number }>, window: number, passes: number): Promise<Row[]> {
  const opened: Opened[] = [];
  const rows: Row[] = [];
  try {
    for (const t of targets) opened.push(await t.open());
    for (const [workload, { requests, calls }] of Object.entries(jobs)) {
      const warm = Math.ceil(WARM_REQUESTS / requests.length);
      for (let i = 0; i < warm; i++) for (const o of opened) await pass(o.submitter, requests, window);
      const rates = targets.map((): number[] => []);
      const latency = targets.map((): number[] => []);
      for (let i = 0; i < passes; i++) {
        for (const [k, o] of opened.entries()) {
          const p = await pass(o.submitter, requests, window);
          rates[k].push(requests.length / p.seconds);
          latency[k].push(...p.latency);
        }
      }
      for (const [k, t] of targets.entries()) {
        rows.push({ name: t.name, interpreters: t.interpreters, workload, calls, perSecond: median(rates[k]), p50: pct(latency[k], 0.5), p99: pct(latency[k], 0.99) });
        process.stderr.write(`  ${t.name} ${workload}: ${median(rates[k]).toFixed(0)} requests/s\n`);
      }
    }
  } finally {
    for (const o of opened) await o.close();
  }
  return rows;
}

const pool = (workers: number): Target => ({
  name: `in-process pool, ${workers} worker${workers > 1 ? "s" : ""}`,
  interpreters: workers,
  open: async () => {
    const ex = await Executor.create({ workers });
    return { submitter: ex, close: () => ex.close() };
  },
});

const fleet = (nats: NatsServer, members: number, window: number): Target => ({
  name: `NATS fleet, ${members} member${members > 1 ? "s" : ""} × 1 worker`,
  interpreters: members,
  open: async () => {
    const subject = `bench.fleet.${members}`; // its own queue group: the targets are open side by side
    const args = ["--subject", subject, "--workers", "1", "--max-in-flight", String(window)];
    const procs: Member[] = await Promise.all(Array.from({ length: members }, () => startMember(nats.url, args)));
    const client = await FleetClient.connect({ url: nats.url, subject, maxInFlight: window });
    return {
      submitter: client,
      close: async () => {
        await client.close();
        for (const p of procs) p.kill("SIGTERM");
        await Promise.all(procs.map((p) => p.exited));
      },
    };
  },
});

export async function main(args: string[]): Promise<void> {
  const quick = args.includes("--quick");
  const n = quick ? 64 : 256;
  const passes = 3;
  const window = 16;
  const all = workloads(seedPrograms(n));
  // Requests, not programs: azr-step's 19 calls per program become 19 requests, each its own round trip.
  const jobs = Object.fromEntries(Object.entries(all).map(([w, list]) => [w, { requests: list.flatMap((j) => j.requests), calls: list[0].requests.length }]));
  const nats = await NatsServer.start();
  process.stderr.write(`bench fleet: ${n} seed programs, ${window} requests in flight, nats-server on ${nats.url}, ${availableParallelism()} cores\n`);
  const targets: Target[] = [pool(1), pool(2), fleet(nats, 1, window), fleet(nats, 2, window)];
  let rows: Row[];
  try {
    rows = await measure(targets, jobs, window, passes);
  } finally {
    await nats.stop();
  }
  const baseline = (r: Row) => rows.find((b) => b.workload === r.workload && b.name.startsWith("in-process") && b.interpreters === r.interpreters)!.perSecond;
  printTable(
    ["executor", "workload", "programs/s", "requests/s", "p50 ms", "p99 ms", "× in-process (same interpreters)"],
    rows.map((r) => [r.name, r.workload, (r.perSecond / r.calls).toFixed(1), r.perSecond.toFixed(0), r.p50.toFixed(2), r.p99.toFixed(2), `${(r.perSecond / baseline(r)).toFixed(2)}×`]),
  );
  console.log(`latency: one request (one executor call), from send to answer at the client, ${window} in flight (queueing at the executor included)`);
  const file = writeResult("fleet", { date: new Date().toISOString(), cores: availableParallelism(), programs: n, window, quick, rows });
  console.log(`wrote ${file}`);
  // The executor as a drop-in sandbox for other stacks: the HTTP endpoint beside a native subprocess per request.
  console.log("");
  await httpSuite(args);
}
