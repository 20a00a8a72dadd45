// `bun run eval` end to end: the shipped warm-start checkpoint answers a small CRUXEval-format file, and every
// verdict it reports is exactly the executor's own judgement of the same answer (re-submitted here), for both
// tasks; the summary counts agree with the rows; bad flags exit 2.
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WARMSTART_CHECKPOINT } from "../engine/config/presets.ts";
import { defaultExecutor, readRows, type RowResult, type TaskSummary } from "../engine/eval/cruxeval.ts";
import { parseSolverValue } from "../engine/tasks/parse.ts";
import { SLOW_TEST_MS } from "./support/timeouts.ts";

setDefaultTimeout(SLOW_TEST_MS);

const REPO = join(import.meta.dir, "..");
const EVAL = join(REPO, "engine", "cli", "eval.ts");
const FIXTURE = join(import.meta.dir, "support", "cruxeval-mini.jsonl");

async function evalCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn(["bun", EVAL, ...args], { cwd: REPO, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

// A checkpoint directory whose warm-start report names an unknown prompt style.
const BAD_REPORT = mkdtempSync(join(tmpdir(), "eval-bad-report-"));
cpSync(join(WARMSTART_CHECKPOINT, "config.json"), join(BAD_REPORT, "config.json"));
writeFileSync(join(BAD_REPORT, "report.json"), JSON.stringify({ options: { promptStyle: "fancy" } }));
afterAll(() => rmSync(BAD_REPORT, { recursive: true, force: true }));

describe("bun run eval", () => {
  test("scores a fixture file exactly as the executor judges each answer, in the prompt style the warm start names", async () => {
    const { code, stdout, stderr } = await evalCli(["--checkpoint", WARMSTART_CHECKPOINT, "--file", FIXTURE, "--max-new", "96", "--json"]);
    if (code !== 0) console.error(stderr);
    expect(code).toBe(0);
    const out = JSON.parse(stdout) as { summary: TaskSummary[]; rows: RowResult[] };
    const rows = readRows(FIXTURE, 100);
    expect(out.rows.length).toBe(2 * rows.length);
    await using ex = await defaultExecutor();
    for (const r of out.rows) {
      const row = rows[r.index];
      const verdict =
        r.task === "deduction"
          ? await ex.submit({ op: "judge_deduction", code: row.code, input: row.input, gold: row.output, answer: parseSolverValue(r.answer, "output") })
          : await ex.submit({ op: "judge_abduction", code: row.code, gold: row.output, answer: parseSolverValue(r.answer, "input") });
      expect({ index: r.index, task: r.task, correct: r.correct }).toEqual({ index: r.index, task: r.task, correct: verdict.status === "ok" && verdict.correct === true });
    }
    for (const s of out.summary) {
      const mine = out.rows.filter((r) => r.task === s.task);
      expect(s.total).toBe(rows.length);
      expect(s.correct).toBe(mine.filter((r) => r.correct).length);
      expect(s.formatRate).toBeCloseTo(mine.filter((r) => r.formatOk).length / rows.length, 12);
    }
    // The warm start writes the answer format on these short programs.
    expect(out.summary.every((s) => s.formatRate > 0)).toBe(true);
    expect(stderr).toMatch(/eval \[#+\] \d+\/12/);
    expect(stderr).toContain(`eval: compact prompts, as ${join(WARMSTART_CHECKPOINT, "report.json")} says`);
  });

  test.each([
    [[], /--checkpoint DIR is required/],
    [["--checkpoint", "/nonexistent"], /--checkpoint \/nonexistent: no config.json there/],
    [["--checkpoint", WARMSTART_CHECKPOINT, "--tasks", "induction"], /--tasks: unknown task "induction"/],
    [["--checkpoint", WARMSTART_CHECKPOINT, "--limit", "0"], /--limit 0: use a whole number ≥ 1/],
    [["--checkpoint", WARMSTART_CHECKPOINT, "--file", "/nonexistent.jsonl"], /--file \/nonexistent.jsonl: no such file/],
    [["--checkpoint", WARMSTART_CHECKPOINT, "--style", "fancy"], /--style fancy: use azr or compact/],
    [["--checkpoint", WARMSTART_CHECKPOINT, "--bogus"], /Unknown option '--bogus'/],
    [["--checkpoint", BAD_REPORT], /report.json: options.promptStyle "fancy" is none of azr, compact; pass --style/],
  ])("%j exits 2", async (args, pattern) => {
    const { code, stderr } = await evalCli(args);
    expect(stderr).toMatch(pattern);
    expect(code).toBe(2);
  });
});
