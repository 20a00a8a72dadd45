// The dashboard's server and CLI without a browser: the JSON API returns what a run directory holds (a fixture
// written with the trainer's own record builders), follows a run being written (a torn last line, appended lines,
// a file rewritten by a resume), and bad input — a missing, empty or non-run directory, a bad flag, a port in use —
// is a clear message with exit code 2. Also the export's self-contained HTML and the chart series alignment.
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MetricsPage, RunInfo } from "../dashboard/api.ts";
import { PAGE_RECORDS } from "../dashboard/api.ts";
import { chartData, chartSpecs, phaseNames, pointCount, taskNames } from "../dashboard/page/charts.ts";
import { startDashboard } from "../dashboard/server.ts";
import { REFERENCE_DEFAULTS } from "../engine/config/schema.ts";
import type { StepSamples } from "../engine/trainer/samples.ts";
import { fixtureMetricsLine, fixtureSamplesLine, writeFixtureRun } from "./dashboard-fixture.ts";
import { SLOW_TEST_MS } from "./support/timeouts.ts";

setDefaultTimeout(SLOW_TEST_MS);

const REPO = join(import.meta.dir, "..");
const CLI = join(REPO, "dashboard", "cli.ts");
const TMP = mkdtempSync(join(tmpdir(), "azr-dashboard-api-"));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

const lines = (path: string) => readFileSync(path, "utf8").trim().split("\n").map((l) => JSON.parse(l));

async function get<T>(base: string, path: string): Promise<{ status: number; body: T }> {
  const res = await fetch(new URL(path, base));
  return { status: res.status, body: (await res.json()) as T };
}

async function cli(args: string[]): Promise<{ code: number; stderr: string }> {
  const proc = Bun.spawn(["bun", CLI, ...args], { cwd: REPO, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
  return { code, stderr };
}

describe("JSON API on a fixture run directory", () => {
  const run = writeFixtureRun(join(TMP, "run-a"), 6);
  const other = writeFixtureRun(join(TMP, "run-b"), 4, [{ source: "test", patch: { rewards: { extremeValue: 0 } } }]);

  test("/api/runs: the saved config, its departures from the reference, the log", async () => {
    const dash = await startDashboard({ runs: [run, other], port: 0 });
    try {
      const { status, body } = await get<RunInfo[]>(dash.url, "/api/runs");
      expect(status).toBe(200);
      expect(body.map((r) => r.name)).toEqual(["run-a", "run-b"]);
      expect(body[0].config).toEqual(JSON.parse(readFileSync(join(run, "config.json"), "utf8")));
      const dep = Object.fromEntries(body[0].departures.map((d) => [d.key, d]));
      expect(dep["tasks.batchSize"]).toEqual({ key: "tasks.batchSize", value: 2, reference: REFERENCE_DEFAULTS.tasks.batchSize });
      expect(dep["rewards.extremeValue"]).toBeUndefined();
      expect(body[1].departures.find((d) => d.key === "rewards.extremeValue")).toEqual({ key: "rewards.extremeValue", value: 0, reference: -0.5 });
      expect(body[0].log.at(-1)).toBe("step 6 | fixture");
    } finally {
      await dash.stop();
    }
  });

  test("/api/metrics: every record as written, paged, and again from 0 for a stale generation", async () => {
    const dash = await startDashboard({ runs: [run], port: 0 });
    try {
      const all = await get<MetricsPage>(dash.url, "/api/metrics?run=0&from=0&gen=-1");
      expect(all.status).toBe(200);
      expect(all.body.records).toEqual(lines(join(run, "metrics.jsonl")));
      expect(all.body.total).toBe(6);
      expect(all.body.sampleSteps).toEqual([1, 2, 3, 4, 5, 6]);
      expect(all.body.warnings).toEqual([]);
      const tail = await get<MetricsPage>(dash.url, `/api/metrics?run=0&from=4&gen=${all.body.generation}`);
      expect(tail.body.from).toBe(4);
      expect(tail.body.records.map((r) => r.step)).toEqual([5, 6]);
      const stale = await get<MetricsPage>(dash.url, `/api/metrics?run=0&from=4&gen=${all.body.generation + 7}`);
      expect(stale.body.from).toBe(0);
      expect(stale.body.records).toHaveLength(6);
    } finally {
      await dash.stop();
    }
  });

  test("/api/samples: a step's samples as written; 404 for a step without; 400 for a bad run or step", async () => {
    const dash = await startDashboard({ runs: [run], port: 0 });
    try {
      const got = await get<StepSamples>(dash.url, "/api/samples?run=0&step=3");
      expect(got.status).toBe(200);
      expect(got.body).toEqual(JSON.parse(fixtureSamplesLine(3)));
      expect(got.body.samples.map((s) => `${s.task}/${s.role}`)).toContain("induction/solve");
      const none = await get<{ error: string }>(dash.url, "/api/samples?run=0&step=99");
      expect(none.status).toBe(404);
      expect(none.body.error).toBe("step 99 has no recorded samples");
      expect((await get<{ error: string }>(dash.url, "/api/samples?run=5&step=1")).body.error).toBe("run must be an index in 0…0");
      expect((await get<{ error: string }>(dash.url, "/api/samples?run=0&step=x")).status).toBe(400);
      expect((await get<{ error: string }>(dash.url, "/nope")).status).toBe(404);
    } finally {
      await dash.stop();
    }
  });

  test("answers are bounded: a long run comes in pages of PAGE_RECORDS records", async () => {
    const big = join(TMP, "big");
    mkdirSync(big);
    const n = PAGE_RECORDS + 5;
    writeFileSync(join(big, "metrics.jsonl"), Array.from({ length: n }, (_, i) => `${JSON.stringify({ step: i + 1, "update/loss": i })}\n`).join(""));
    const dash = await startDashboard({ runs: [big], port: 0 });
    try {
      const first = await get<MetricsPage>(dash.url, "/api/metrics?run=0&from=0&gen=-1");
      expect(first.body.records).toHaveLength(PAGE_RECORDS);
      expect(first.body.total).toBe(n);
      const rest = await get<MetricsPage>(dash.url, `/api/metrics?run=0&from=${PAGE_RECORDS}&gen=${first.body.generation}`);
      expect(rest.body.records.map((r) => r.step)).toEqual([1001, 1002, 1003, 1004, 1005]);
      // No config.json: still served, with a warning instead of a crash.
      expect(first.body.warnings).toContain("config.json: missing or not valid JSON yet");
    } finally {
      await dash.stop();
    }
  });
});

describe("a run being written", () => {
  test("a torn last line is held back with a warning, then shown once its newline arrives", async () => {
    const run = writeFixtureRun(join(TMP, "torn"), 3);
    const line = fixtureMetricsLine(4);
    appendFileSync(join(run, "metrics.jsonl"), line.slice(0, 100));
    const dash = await startDashboard({ runs: [run], port: 0 });
    try {
      const before = await get<MetricsPage>(dash.url, "/api/metrics?run=0&from=0&gen=-1");
      expect(before.body.records.map((r) => r.step)).toEqual([1, 2, 3]);
      expect(before.body.warnings).toEqual([
        "metrics.jsonl: the last line is unfinished (100 bytes without a newline: a run being written, or one that crashed mid-line); it is shown once complete",
      ]);
      appendFileSync(join(run, "metrics.jsonl"), line.slice(100));
      await Bun.sleep(250); // past the server's poll gap
      const after = await get<MetricsPage>(dash.url, `/api/metrics?run=0&from=3&gen=${before.body.generation}`);
      expect(after.body.records).toEqual([JSON.parse(line)]);
      expect(after.body.warnings).toEqual([]);
    } finally {
      await dash.stop();
    }
  });

  test("a damaged line in the middle is skipped and named; a rewritten file (a resume) is read again from 0", async () => {
    const run = writeFixtureRun(join(TMP, "rewrite"), 2);
    appendFileSync(join(run, "metrics.jsonl"), `{"step": 3, oops\n${fixtureMetricsLine(4)}`);
    const dash = await startDashboard({ runs: [run], port: 0 });
    try {
      const first = await get<MetricsPage>(dash.url, "/api/metrics?run=0&from=0&gen=-1");
      expect(first.body.records.map((r) => r.step)).toEqual([1, 2, 4]);
      expect(first.body.warnings).toHaveLength(1);
      expect(first.body.warnings[0]).toMatch(/^metrics\.jsonl line 3: not valid JSON \(.+\); skipped$/);
      // What a resume does: keep the lines up to its checkpoint, written to a temporary file and renamed.
      writeFileSync(join(run, "m.tmp"), fixtureMetricsLine(1));
      renameSync(join(run, "m.tmp"), join(run, "metrics.jsonl"));
      await Bun.sleep(250);
      const again = await get<MetricsPage>(dash.url, `/api/metrics?run=0&from=3&gen=${first.body.generation}`);
      expect(again.body.generation).not.toBe(first.body.generation);
      expect(again.body.from).toBe(0);
      expect(again.body.records.map((r) => r.step)).toEqual([1]);
      expect(again.body.warnings).toEqual([]);
    } finally {
      await dash.stop();
    }
  });
});

describe("bad input: a clear message and exit code 2, never a crash", () => {
  const empty = join(TMP, "empty");
  const notRun = join(TMP, "not-a-run");
  mkdirSync(empty);
  mkdirSync(notRun);
  writeFileSync(join(notRun, "notes.txt"), "hello");
  test.each([
    [["/nonexistent/run"], /dashboard: \/nonexistent\/run does not exist; give a run directory made by bun run train/],
    [[empty], /is empty: no config.json or metrics.jsonl yet; give the --out directory of a run/],
    [[notRun], /is not a run directory: it holds neither config.json nor metrics.jsonl/],
    [[join(notRun, "notes.txt")], /notes.txt is a file, not a run directory/],
    [[], /give at least one run directory/],
    [["x", "--port", "http"], /--port http: use a whole number in 0…65535/],
    [["x", "--colour", "red"], /unknown flag --colour/],
    [["x", "--export"], /--export needs a value/],
  ])("%j", async (args, pattern) => {
    const { code, stderr } = await cli(args as string[]);
    expect(stderr).toMatch(pattern);
    expect(code).toBe(2);
  });

  test("a port in use: bun run dashboard and bun run train --dashboard both say so", async () => {
    const run = writeFixtureRun(join(TMP, "port"), 1);
    const squatter = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("taken") });
    try {
      const { code, stderr } = await cli([run, "--port", String(squatter.port)]);
      expect(stderr).toContain(`dashboard: port ${squatter.port} is in use (another dashboard or server?); choose another with --port P, or --port 0 for any free port`);
      expect(code).toBe(2);
      const train = Bun.spawn(["bun", join(REPO, "engine", "cli", "train.ts"), "--out", join(TMP, "train-port"), `--dashboard=${squatter.port}`], { cwd: REPO, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
      const [trainErr, trainCode] = await Promise.all([new Response(train.stderr).text(), train.exited]);
      expect(trainErr).toContain(`train: port ${squatter.port} is in use`);
      expect(trainCode).toBe(2);
    } finally {
      squatter.stop(true);
    }
  });
});

describe("--export", () => {
  test("one HTML file with the records, samples, script and styles inlined; nothing fetched from elsewhere", async () => {
    const run = writeFixtureRun(join(TMP, "export"), 3);
    const out = join(TMP, "report.html");
    const { code, stderr } = await cli([run, "--export", out]);
    expect(stderr).toMatch(/dashboard: wrote .*report.html \(\d+ KiB; 3 steps\)/);
    expect(code).toBe(0);
    const html = readFileSync(out, "utf8");
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|https?:\/\/(?!www\.w3\.org)/);
    expect(html).toContain(".uplot"); // uPlot's style sheet
    const data = JSON.parse(/window\.__AZR_DASHBOARD__ = (.*);<\/script>/.exec(html)?.[1] ?? "null");
    expect(data.metrics[0].records).toEqual(lines(join(run, "metrics.jsonl")));
    expect(data.samples[0]["2"]).toEqual(JSON.parse(fixtureSamplesLine(2)));
  });
});

describe("chart series", () => {
  test("two runs on one step axis: each run's columns, null where it has no step", () => {
    const a = [1, 2, 3].map((s) => JSON.parse(fixtureMetricsLine(s)));
    const b = [2, 4].map((s) => JSON.parse(fixtureMetricsLine(s)));
    const specs = chartSpecs(taskNames(a), phaseNames(a));
    const reward = specs.find((s) => s.id === "reward-deduction")!;
    const d = chartData(reward, [{ name: "a", records: a }, { name: "b", records: b }]);
    expect(d.x).toEqual([1, 2, 3, 4]);
    expect(d.labels).toEqual(["propose · a", "solve · a", "propose · b", "solve · b"]);
    expect(d.columns[0]).toEqual([...a.map((r) => r["reward/deduction/propose"]), null]);
    expect(d.columns[2]).toEqual([null, b[0]["reward/deduction/propose"], null, b[1]["reward/deduction/propose"]]);
    // Learnability: the shares at 0, between and at 1 of each step's solve rates add up to 1.
    const learn = chartData(specs.find((s) => s.id === "learnability-abduction")!, [{ name: "a", records: a }]);
    learn.x.forEach((_, i) => expect(learn.columns[1][i]! + learn.columns[2][i]! + learn.columns[3][i]!).toBeCloseTo(1, 12));
    // Every chart of the fixture has values.
    for (const spec of specs) expect(pointCount(chartData(spec, [{ name: "a", records: a }]))).toBeGreaterThan(0);
  });
});
