// `bun run train` end to end with the real executor and the real model on lavapipe: the flag and path errors, one
// full tiny run (every batch logged, checkpoints written, every parameter tensor changed by the update), and exact
// resume: a run killed (SIGKILL) after its step-1 checkpoint and resumed takes the same step 2 as an uninterrupted run.
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fieldsHelp } from "../engine/config/fields.ts";
import { resolveConfig } from "../engine/config/load.ts";
import { readSafetensorsDir } from "../engine/model/index.ts";
import { startMember } from "./support/executor-member.ts";
import { NatsServer } from "./support/nats-server.ts";
import { SLOW_TEST_MS } from "./support/timeouts.ts";

setDefaultTimeout(SLOW_TEST_MS);
// The two tests that train real steps (two processes for the resume test) need more headroom on a loaded 2-core box.
const RUN_MS = 3 * SLOW_TEST_MS;

const REPO = join(import.meta.dir, "..");
const TRAIN = join(REPO, "engine", "cli", "train.ts");
const TMP = mkdtempSync(join(tmpdir(), "azr-train-test-"));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

// Small enough for 2 CPU cores: every task type and role, one sequence per batch, short responses.
const SMALL = ["--set", "tasks.batchSize=1", "--set", "rollout.maxNewTokens=8", "--set", "eval.limit=1", "--set", "eval.generatedLimit=1", "--set", "eval.maxNewTokens=8"];

async function train(args: string[]): Promise<{ code: number; stderr: string }> {
  const proc = Bun.spawn(["bun", TRAIN, ...args], { cwd: REPO, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
  return { code, stderr };
}

describe("flag, path and checkpoint errors (exit 2, a message that names the problem)", () => {
  test.each([
    [["--bogus", "1"], /unknown flag --bogus/],
    [["--preset", "huge"], /unknown preset "huge"; choose one of: tiny, learn, qwen2.5-coder/],
    [["--steps", "two"], /--steps two: use a whole number/],
    [["--out"], /--out needs a value/],
    [["--preset", "qwen2.5-coder"], /pass --checkpoint DIR/],
    [["--checkpoint", "/nonexistent/model"], /--checkpoint \/nonexistent\/model is not a directory/],
    [["--config", "/nonexistent.json"], /config file \/nonexistent.json does not exist/],
    [["--set", "tasks.batchSize=0"], /tasks.batchSize = 0: use an integer ≥ 1/],
    [["--set", "rewards.nope=1"], /unknown setting "rewards.nope"/],
    [["--resume", "/nonexistent/run"], /--resume \/nonexistent\/run: no config.json/],
    [["--resume", "/tmp", "--preset", "tiny"], /--preset cannot be combined/],
    [["--executor", "127.0.0.1:4222"], /executor.url = "127.0.0.1:4222": use null/],
  ])("%j", async (args, pattern) => {
    const { code, stderr } = await train(args);
    expect(stderr).toMatch(pattern);
    expect(code).toBe(2);
  });
  test("--help prints the usage", async () => {
    const proc = Bun.spawn(["bun", TRAIN, "--help"], { cwd: REPO, stdout: "pipe", stderr: "pipe" });
    const usage = await new Response(proc.stdout).text();
    expect(usage).toContain("--resume DIR");
    expect(usage).toContain(fieldsHelp()); // every --set key (test/engine-config.test.ts checks the table is complete)
    expect(await proc.exited).toBe(0);
  });
  test("a run directory without checkpoints cannot be resumed", async () => {
    const dir = join(TMP, "no-ckpt");
    mkdirSync(dir);
    writeFileSync(join(dir, "config.json"), JSON.stringify(resolveConfig({ preset: "tiny" })));
    const { code, stderr } = await train(["--resume", dir]);
    expect(stderr).toMatch(/no checkpoints\/latest file; this run never saved a checkpoint/);
    expect(code).toBe(2);
  });
  test("a checkpoint with the old optimizer file cannot be resumed, and says why", async () => {
    const dir = join(TMP, "old-optimizer");
    const step = ckpt(dir, 1);
    mkdirSync(join(step, "model"), { recursive: true });
    writeFileSync(join(dir, "config.json"), JSON.stringify(resolveConfig({ preset: "tiny" })));
    writeFileSync(join(dir, "checkpoints", "latest"), "step-000001\n");
    for (const f of ["state.json", "model/config.json", "optimizer.bin"]) writeFileSync(join(step, f), "{}");
    const { code, stderr } = await train(["--resume", dir]);
    expect(stderr).toMatch(/holds optimizer\.bin, the optimizer format before optimizer\.safetensors/);
    expect(code).toBe(2);
  });
});

/** Tensor name → raw bytes, from every tensor of a model directory (f32 on disk, so the bytes are the file's). */
function tensors(modelDir: string): Map<string, Buffer> {
  return new Map([...readSafetensorsDir(modelDir)].map(([name, t]) => [name, Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)]));
}

const ckpt = (run: string, step: number) => join(run, "checkpoints", `step-${String(step).padStart(6, "0")}`);
const jsonl = (run: string, file: string) =>
  readFileSync(join(run, file), "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
const metrics = (run: string) => jsonl(run, "metrics.jsonl");
/** A step's record without its evaluation (a run's last step is always evaluated, so a 1-step run's step 1 is). */
const withoutEval = (r: Record<string, unknown>) => {
  const { eval: _e, ...rest } = r;
  const drop = (counts: unknown) => Object.fromEntries(Object.entries(counts as Record<string, number>).filter(([k]) => k !== "eval"));
  return { ...rest, tokens: drop(r.tokens), executor_calls: drop(r.executor_calls) };
};
/** A metrics record without what depends on the clock. */
const timeless = (r: Record<string, unknown>) => {
  const { seconds: _s, time_ms: _t, ...rest } = r;
  return rest;
};

describe("tiny training end to end", () => {
  const full = join(TMP, "full");
  const killed = join(TMP, "killed");

  test("two uninterrupted steps: six batches logged, buffers, checkpoints, every parameter tensor changed", async () => {
    const { code, stderr } = await train(["--steps", "2", "--out", full, ...SMALL]);
    if (code !== 0) console.error(stderr);
    expect(code).toBe(0);
    expect(stderr).toMatch(/step 1 \| abd P [-+]\d\.\d\d valid \d+\/1 S [-+]\d\.\d\d solved \d+\/1 \| ded .* \| ind .* \| buf abd \d+ ded \d+ ind \d+/);
    expect(stderr).toMatch(/eval step 0 \| deduction \d+\/1 [\d.]+% \[[\d.]+, [\d.]+\] \| abduction \d+\/1 /);
    expect(stderr).toMatch(/eval step 2 \| deduction \d+\/1 [\d.]+% \[[\d.]+, [\d.]+\] \| abduction \d+\/1 /);
    expect(stderr).toMatch(/memory plan \(qwen2, hidden \d+, \d+ layers, vocab \d+: [\d.]+M parameters[^]*AdamW moments[^]*KV cache[^]*total +[\d.]+ MiB[^]*fits/);
    const all = metrics(full);
    // Step 0: the starting model's evaluation only (the "before" of the curve); then one record per step.
    expect(all.map((r) => r.step)).toEqual([0, 1, 2]);
    expect(Object.keys(all[0]).sort()).toEqual(["eval", "step"]);
    const recs = all.slice(1);
    for (const task of ["abduction", "deduction", "induction"]) {
      for (const role of ["propose", "solve"]) expect(typeof recs[0][`reward/${task}/${role}`]).toBe("number");
      expect(typeof recs[0][`valid_rate/${task}`]).toBe("number");
      expect(typeof recs[0][`solve_rate/${task}`]).toBe("number");
    }
    expect(recs[0]["update/optimizerSteps"]).toBe(1);
    expect(recs[1].eval).toBeDefined();
    expect(Array.isArray(recs[0]["learnability_rates/deduction"])).toBe(true);
    expect(typeof recs[0]["advantage/induction/solve/std"]).toBe("number");
    // samples.jsonl: one line per step, the batch's one proposal and one answer per (task, role) (batchSize 1).
    const samples = jsonl(full, "samples.jsonl") as Array<{ step: number; samples: Array<{ task: string; role: string; reward: number }> }>;
    expect(samples.map((s) => s.step)).toEqual([1, 2]);
    expect(samples[0].samples.map((s) => `${s.task}/${s.role}`)).toEqual(["abduction/propose", "abduction/solve", "deduction/propose", "deduction/solve", "induction/propose", "induction/solve"]);
    for (const s of samples[0].samples) expect(typeof s.reward).toBe("number");
    expect(readFileSync(join(full, "checkpoints", "latest"), "utf8").trim()).toBe("step-000002");
    const before = tensors(join(ckpt(full, 0), "model")); // the warm-start checkpoint, as the run saved it at step 0
    const after = tensors(join(ckpt(full, 1), "model"));
    expect(after.size).toBe(before.size);
    const unchanged = [...before].filter(([name, bytes]) => bytes.equals(after.get(name) as Buffer)).map(([n]) => n);
    expect(unchanged).toEqual([]);
    // The picture of the run: an SVG page with the eval points of steps 0 and 2.
    const page = readFileSync(join(full, "curve.html"), "utf8");
    expect(page).toContain("held-out solve rate");
    expect(page).toMatch(/eval\.file deduction step 0: [\d.]+<\/title>[^]*eval\.file deduction step 2: /);
  }, RUN_MS);

  test("controls and limits: solver-only, shuffled advantages, a time budget that ends the run after step 1", async () => {
    const run = join(TMP, "controls");
    const flags = ["--set", "maxMinutes=0.0001", "--set", 'tasks.roles=["solve"]', "--set", "algorithm.shuffleAdvantages=true"];
    const { code, stderr } = await train(["--steps", "3", "--out", run, ...SMALL, ...flags]);
    if (code !== 0) console.error(stderr);
    expect(code).toBe(0);
    expect(stderr).toContain("time budget of 0.0001 min spent after step 1; continue with bun run train --resume");
    const recs = metrics(run);
    expect(recs.map((r) => r.step)).toEqual([0, 1]);
    // The last step is evaluated and checkpointed; no proposer ran, so the buffers never grew.
    expect(recs[1].eval).toBeDefined();
    expect(readFileSync(join(run, "checkpoints", "latest"), "utf8").trim()).toBe("step-000001");
    expect(Object.keys(recs[1]).filter((k) => k.includes("propose"))).toEqual([]);
    expect(recs[1]["buffer/added"]).toBe(0);
    expect(typeof recs[1]["reward/deduction/solve"]).toBe("number");
    expect(recs[1]["update/optimizerSteps"]).toBe(1);
  }, RUN_MS);

  test("--executor nats://…: the same run on an executor fleet member takes the same step 1", async () => {
    const nats = await NatsServer.start();
    // The member runs with the tiny preset's executor options (the trainer asks for them; a mismatch stops the run).
    const member = await startMember(nats.url, ["--workers", "1", "--memory-mib", "512", "--compat"]);
    try {
      const run = join(TMP, "fleet");
      const { code, stderr } = await train(["--steps", "1", "--out", run, "--executor", nats.url, ...SMALL]);
      if (code !== 0) console.error(stderr);
      expect(code).toBe(0);
      expect(stderr).toContain(`executor: the fleet at ${nats.url}`);
      expect(withoutEval(timeless(metrics(run)[1]))).toEqual(withoutEval(timeless(metrics(full)[1])));
      expect(jsonl(run, "samples.jsonl")[0]).toEqual(jsonl(full, "samples.jsonl")[0]);
    } finally {
      member.kill("SIGKILL");
      await nats.stop();
    }
  }, RUN_MS);

  test("killed after the step-1 checkpoint and resumed: step 2's metrics and parameters equal the uninterrupted run's", async () => {
    const proc = Bun.spawn(["bun", TRAIN, "--steps", "2", "--out", killed, ...SMALL], { cwd: REPO, stdout: "ignore", stderr: "pipe", stdin: "ignore" });
    // Wait for the event "checkpoint 1 saved" on stderr, then kill without warning.
    const decoder = new TextDecoder();
    let seen = "";
    for await (const chunk of proc.stderr) {
      seen += decoder.decode(chunk);
      if (/saved checkpoint \S*step-000001/.test(seen)) break;
    }
    proc.kill("SIGKILL");
    await proc.exited;
    expect(existsSync(ckpt(killed, 2))).toBe(false);

    const resumed = await train(["--resume", killed]);
    if (resumed.code !== 0) console.error(resumed.stderr);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toContain("resuming");
    const a = metrics(full);
    const b = metrics(killed);
    expect(b.map((r) => r.step)).toEqual([0, 1, 2]);
    expect(timeless(b[2])).toEqual(timeless(a[2]));
    expect(jsonl(killed, "samples.jsonl")).toEqual(jsonl(full, "samples.jsonl"));
    const pa = tensors(join(ckpt(full, 2), "model"));
    const pb = tensors(join(ckpt(killed, 2), "model"));
    const differ = [...pa].filter(([name, bytes]) => !bytes.equals(pb.get(name) as Buffer)).map(([n]) => n);
    expect(differ).toEqual([]);
    const optimizer = (run: string) => readFileSync(join(ckpt(run, 2), "optimizer.safetensors"));
    expect(optimizer(killed).equals(optimizer(full))).toBe(true);
  }, RUN_MS);

  test("Ctrl-C during a step saves the last completed step and exits with 130", async () => {
    const run = join(TMP, "sigint");
    const proc = Bun.spawn(["bun", TRAIN, "--steps", "2", "--out", run, ...SMALL], { cwd: REPO, stdout: "ignore", stderr: "pipe", stdin: "ignore" });
    const decoder = new TextDecoder();
    let seen = "";
    const reader = proc.stderr.getReader();
    while (!seen.includes("step 1/2 ")) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += decoder.decode(value);
    }
    proc.kill("SIGINT");
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += decoder.decode(value);
    }
    expect(await proc.exited).toBe(130);
    expect(seen).toContain("stopped after step 0; continue with: bun run train --resume");
    expect(readFileSync(join(run, "checkpoints", "latest"), "utf8").trim()).toBe("step-000000");
  });
});
