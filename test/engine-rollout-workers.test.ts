// Rollout workers over NATS (engine/rollout-workers/): a learner and two worker processes on a private loopback
// nats-server generate exactly what the in-process policy generates for the same seeds (token ids equal, log-probs
// element by element), a worker SIGKILLed mid-batch has its batch redone by the other, and a result generated with
// other weights is refused and its job redone; `bun run train --rollout-workers` takes the same two steps as the
// in-process run. Model: the shipped warm-start checkpoint (vocab 4,099, 2 layers).
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstream } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { ConfigError, mergeConfig, validateConfig } from "../engine/config/validate.ts";
import { REFERENCE_DEFAULTS } from "../engine/config/schema.ts";
import { type GenerateOptions, type Generation, Policy } from "../engine/model/index.ts";
import { natsUrlProblem } from "../sandbox/index.ts";
import { RemotePolicy, RolloutWorkers, type WorkerBatch, type WorkerGeneration } from "../engine/rollout-workers/index.ts";
import { decodeJob, decodeReply, encodeResult, type JobResult, names, resultsSubject } from "../engine/rollout-workers/protocol.ts";
import { NatsServer } from "./support/nats-server.ts";
import { SLOW_TEST_MS } from "./support/timeouts.ts";

setDefaultTimeout(SLOW_TEST_MS);

const REPO = join(import.meta.dir, "..");
const WARMSTART = join(REPO, "engine", "data", "warmstart");
const STREAM = "rollout-test";
const SIZES = { maxSeq: 64, maxBatch: 2 };
const OPTIONS: GenerateOptions = { maxNew: 12, temperature: 1, seed: 20_261_203 };
const TEXTS = ["def f(x):\n    return", "<answer>", "f(3) ==", "def g(a, b):", "x = [1, 2", "print(", "def h(s):\n    return s[::-1]", "assert"];

interface Expected {
  gens: Generation[];
  logp: Float32Array[];
}

/** One worker process and the lines of its stderr so far. */
class WorkerProcess {
  readonly lines: string[] = [];
  private readonly waiters: Array<{ re: RegExp; from: number; resolve: () => void }> = [];
  readonly proc: ReturnType<typeof Bun.spawn>;

  constructor(url: string, name: string, stream = STREAM) {
    this.proc = Bun.spawn(["bun", "engine/cli/rollout-worker.ts", "--nats", url, "--stream", stream, "--name", name], {
      cwd: REPO,
      stdin: "ignore",
      stdout: "ignore",
      stderr: "pipe",
    });
    void this.read();
  }

  private async read(): Promise<void> {
    let rest = "";
    for await (const chunk of this.proc.stderr as ReadableStream<Uint8Array>) {
      const parts = (rest + new TextDecoder().decode(chunk)).split("\n");
      rest = parts.pop()!;
      this.lines.push(...parts);
      for (const w of [...this.waiters]) if (this.lines.slice(w.from).some((l) => w.re.test(l))) this.settle(w);
    }
  }

  private settle(w: (typeof this.waiters)[number]): void {
    this.waiters.splice(this.waiters.indexOf(w), 1);
    w.resolve();
  }

  /** Resolves once a line from index `from` on matches. */
  waitFor(re: RegExp, from = 0): Promise<void> {
    if (this.lines.slice(from).some((l) => re.test(l))) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ re, from, resolve }));
  }
}

let server: NatsServer;
let policy: Policy;
let learner: RolloutWorkers;
let prompts: number[][];
let expected: Expected;
const workers: WorkerProcess[] = [];
const learnerLog: string[] = [];
const TMP = mkdtempSync(join(tmpdir(), "azr-rollout-workers-"));

/** The in-process path: the policy's own batches and seeds; log-probs scored per batch as a worker scores them. */
async function inProcess(ps: number[][], o: GenerateOptions): Promise<Expected> {
  const gens = await policy.generate(ps, o);
  const logp: Float32Array[] = [];
  for (let i = 0; i < ps.length; i += SIZES.maxBatch) {
    const seqs = gens.slice(i, i + SIZES.maxBatch).map((g, j) => ({ promptIds: ps[i + j], responseIds: g.ids }));
    logp.push(...(await policy.tokenStats(seqs)).logp);
  }
  return { gens, logp };
}

function expectSame(got: WorkerGeneration[], want: Expected): void {
  expect(got.length).toBe(want.gens.length);
  got.forEach((g, i) => {
    expect(g.ids).toEqual(want.gens[i].ids);
    expect(g.finish).toBe(want.gens[i].finish);
    expect(g.text).toBe(want.gens[i].text);
    expect(g.logp.length).toBe(want.logp[i].length);
    g.logp.forEach((x, t) => {
      const w = want.logp[i][t];
      if (Math.abs(x - w) > 1e-5 + 1e-5 * Math.abs(w)) throw new Error(`sequence ${i} token ${t}: log-prob ${x} vs in-process ${w}`);
    });
  });
}

const flat = (bs: WorkerBatch[]): WorkerGeneration[] => bs.flatMap((b) => b.generations);

beforeAll(async () => {
  server = await NatsServer.start();
  policy = await Policy.load(WARMSTART, SIZES);
  prompts = TEXTS.map((t) => policy.tokenizer.encode(t));
  expected = await inProcess(prompts, OPTIONS);
  learner = await RolloutWorkers.connect(server.url, { sizes: SIZES, stream: STREAM, ackWaitMs: 3_000, log: (l) => learnerLog.push(l) });
  await learner.publish(policy, 1);
});

afterAll(async () => {
  for (const w of workers) w.proc.kill("SIGKILL");
  await Promise.all(workers.map((w) => w.proc.exited));
  await learner?.close();
  policy?.destroy();
  await server?.stop();
  rmSync(TMP, { recursive: true, force: true });
});

describe("rollout workers", () => {
  test("a result generated with other weights is refused, its job redone; a result for no pending job is refused", async () => {
    const pending = learner.generate(prompts.slice(0, 2), OPTIONS);
    // A rogue worker takes the job and answers as if it had generated with version 0.
    const nc = await connect({ servers: server.url });
    try {
      const consumer = await jetstream(nc).consumers.get(STREAM, names(STREAM).consumer);
      const msg = await consumer.next({ expires: 10_000 });
      if (msg === null) throw new Error("the rogue worker got no job");
      const job = decodeJob(msg.data);
      expect(job.version).toBe(1);
      const generations = expected.gens.slice(0, 2).map((g, i) => ({ ...g, logp: expected.logp[i] }));
      const forged = (over: Partial<JobResult>): JobResult => ({ learner: job.learner, id: job.id, version: 0, worker: "rogue", delivery: 1, generations, ...over });
      const ask = async (r: JobResult) => decodeReply((await nc.request(resultsSubject(names(STREAM), job.learner), encodeResult(r), { timeout: 10_000 })).data);
      const stale = await ask(forged({}));
      expect(stale.accepted).toBe(false);
      expect(stale.accepted === false && stale.reason).toMatch(/^stale: generated with weights v0, job wants v1/);
      msg.ack();
      const unknown = await ask(forged({ id: job.id + 1000, version: 1 }));
      expect(unknown.accepted === false && unknown.reason).toMatch(/^unknown/);
      expect(learner.refused).toEqual({ stale: 1, unknown: 1 });
      const garbage = decodeReply((await nc.request(resultsSubject(names(STREAM), job.learner), new TextEncoder().encode("{not msgpack"), { timeout: 10_000 })).data);
      expect(garbage.accepted === false && garbage.reason).toMatch(/^result: not (msgpack|a msgpack map)/);
    } finally {
      await nc.close();
    }
    // Real workers redo the refused job with the right weights.
    workers.push(new WorkerProcess(server.url, "w1"), new WorkerProcess(server.url, "w2"));
    const batches = await pending;
    expect(batches.map((b) => b.version)).toEqual([1]);
    expectSame(flat(batches), { gens: expected.gens.slice(0, 2), logp: expected.logp.slice(0, 2) });
  });

  test("a malformed job is dropped; learner + 2 workers give the in-process sequences for the same seeds, through the trainer's RemotePolicy", async () => {
    await Promise.all(workers.map((w) => w.waitFor(/ready on stream/)));
    // A malformed job is dropped with its reason and the workers carry on.
    const nc = await connect({ servers: server.url });
    await jetstream(nc).publish(names(STREAM).jobs, new TextEncoder().encode("not a job"));
    await nc.close();
    await Promise.race(workers.map((w) => w.waitFor(/dropped a malformed job: job: not/)));
    const batches = await learner.generate(prompts, OPTIONS);
    expect(batches.length).toBe(prompts.length / SIZES.maxBatch);
    expectSame(flat(batches), expected);
    expect(new Set(batches.map((b) => b.worker))).toEqual(new Set(["w1", "w2"]));
    // The trainer's view: generate through RemotePolicy (publishes its version first), then a step bumps the version.
    const remote = new RemotePolicy(policy, learner, 7);
    const gens = await remote.generate(prompts.slice(2, 6), OPTIONS);
    const direct = await policy.generate(prompts.slice(2, 6), OPTIONS);
    expect(gens).toEqual(direct);
    expect(learner.version).toBe(7);
  });

  test("a worker SIGKILLed mid-batch has its batch redone by the other", async () => {
    const [w1] = workers;
    const from = w1.lines.length;
    const pending = learner.generate(prompts, OPTIONS);
    await w1.waitFor(/job \d+ started/, from);
    w1.proc.kill("SIGKILL");
    const batches = await pending;
    expectSame(flat(batches), expected);
    expect(batches.some((b) => b.delivery >= 2 && b.worker === "w2")).toBe(true);
    expect(learnerLog.some((l) => /was redone by w2/.test(l))).toBe(true);
  });
});

describe("training", () => {
  // engine-train.test.ts's small run: every task type and role, one sequence per batch, short responses.
  const SMALL = ["--set", "tasks.batchSize=1", "--set", "rollout.maxNewTokens=8", "--set", "eval.limit=1", "--set", "eval.maxNewTokens=8"];
  const train = async (args: string[]) => {
    const proc = Bun.spawn(["bun", "engine/cli/train.ts", "--steps", "2", ...SMALL, ...args], { cwd: REPO, stdout: "ignore", stderr: "pipe", stdin: "ignore" });
    const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
    if (code !== 0) console.error(stderr);
    expect(code).toBe(0);
    return stderr;
  };
  const lines = (run: string, file: string) => readFileSync(join(run, file), "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
  const timeless = ({ seconds: _s, time_ms: _t, ...rest }: Record<string, unknown>) => rest;
  const model = (run: string) => {
    const dir = join(run, "checkpoints", "step-000002", "model");
    return readdirSync(dir).filter((f) => f.endsWith(".safetensors")).map((f) => readFileSync(join(dir, f)));
  };

  test("bun run train --rollout-workers: two steps equal the in-process run's (samples, metrics, weights)", async () => {
    for (const w of workers) w.proc.kill("SIGKILL"); // free the cores for this test's own two workers
    const own = [new WorkerProcess(server.url, "t1", "rollout-train"), new WorkerProcess(server.url, "t2", "rollout-train")];
    workers.push(...own);
    const local = join(TMP, "local");
    const remote = join(TMP, "remote");
    const [, log] = await Promise.all([train(["--out", local]), train(["--out", remote, "--rollout-workers", server.url, "--set", "rollout.workersStream=rollout-train"])]);
    expect(log).toContain("generation runs on rollout workers");
    expect(lines(remote, "samples.jsonl")).toEqual(lines(local, "samples.jsonl"));
    expect(lines(remote, "metrics.jsonl").map(timeless)).toEqual(lines(local, "metrics.jsonl").map(timeless));
    expect(model(remote)).toEqual(model(local));
    // Both workers generated, and step 2 ran on the weights published after step 1's update.
    for (const w of own) expect(w.lines.some((l) => /job \d+ accepted/.test(l))).toBe(true);
    expect(own.some((w) => w.lines.some((l) => /weights v1,/.test(l)))).toBe(true);
  }, 3 * SLOW_TEST_MS);
});

describe("configuration", () => {
  test("a bad URL is a clear error in the config, the worker CLI and on connect", async () => {
    expect(natsUrlProblem("http://127.0.0.1:4222")).toMatch(/uses http:\/\/; use nats:\/\/HOST:PORT/);
    expect(() => validateConfig(mergeConfig(REFERENCE_DEFAULTS, [{ source: "--rollout-workers", patch: { rollout: { workers: "http://localhost:4222" } } }]))).toThrow(ConfigError);
    const ok = validateConfig(mergeConfig(REFERENCE_DEFAULTS, [{ source: "test", patch: { rollout: { workers: server.url } } }]));
    expect(ok.rollout.workers).toBe(server.url);
    const cli = Bun.spawn(["bun", "engine/cli/rollout-worker.ts", "--nats", "tcp://h:1"], { cwd: REPO, stdin: "ignore", stdout: "ignore", stderr: "pipe" });
    const [code, err] = await Promise.all([cli.exited, new Response(cli.stderr).text()]);
    expect(code).toBe(2);
    expect(err).toMatch(/--nats "tcp:\/\/h:1" uses tcp:\/\/; use nats:\/\/HOST:PORT/);
    const trainer = Bun.spawn(["bun", "engine/cli/train.ts", "--rollout-workers", "http://127.0.0.1:1"], { cwd: REPO, stdin: "ignore", stdout: "ignore", stderr: "pipe" });
    const [trainCode, trainErr] = await Promise.all([trainer.exited, new Response(trainer.stderr).text()]);
    expect(trainCode).toBe(2);
    expect(trainErr).toMatch(/rollout\.workers = "http:\/\/127\.0\.0\.1:1": "http:\/\/127\.0\.0\.1:1" uses http:\/\/; use nats:\/\/HOST:PORT/);
    const closed = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const port = closed.port;
    closed.stop(true);
    await expect(RolloutWorkers.connect(`nats://127.0.0.1:${port}`, { sizes: SIZES })).rejects.toThrow(/cannot reach the NATS server at nats:\/\/127\.0\.0\.1:\d+/);
  });
});
