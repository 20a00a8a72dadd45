// The warm start (engine/warmstart): the program generator is deterministic by seed and every program it makes is
// valid in the executor with the outputs it recorded; the truncated Qwen2.5 vocabulary round-trips any text and
// loads through engine/tokenizer; a short supervised run lowers the loss and raises the held-out format rate; bad
// flags of `bun run warmstart` exit 2.
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Executor } from "../sandbox/index.ts";
import { Rng } from "../engine/rng.ts";
import { Tokenizer } from "../engine/tokenizer/index.ts";
import { draftProgram, generatePool, INDUCTION_INPUTS, MAX_DEPTH } from "../engine/warmstart/programs.ts";
import { EVAL_PROGRAMS, HELDOUT_FILE, SEED_FILE, warmstart } from "../engine/warmstart/recipe.ts";
import { loadInductionSeeds, loadIoSeeds } from "../engine/buffers/seed.ts";
import { truncatedQwenFiles, writeTruncatedQwen } from "../engine/warmstart/vocab.ts";
import { SLOW_TEST_MS } from "./support/timeouts.ts";

setDefaultTimeout(SLOW_TEST_MS);

const REPO = join(import.meta.dir, "..");
const TMP = mkdtempSync(join(tmpdir(), "azr-warmstart-"));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

describe("program generator", () => {
  test("drafts are deterministic by seed and differ across seeds", () => {
    const drafts = (seed: number) => {
      const rng = Rng.seeded(seed);
      return Array.from({ length: 40 }, (_, i) => draftProgram(rng, i % (MAX_DEPTH + 1)).snippet);
    };
    expect(drafts(5)).toEqual(drafts(5));
    expect(drafts(5)).not.toEqual(drafts(6));
  });

  test("every generated program validates in the executor, with the outputs the generator recorded", async () => {
    await using ex = await Executor.create({ workers: 2, timeoutMs: 5000 });
    const opts = { seed: 9, size: 60, traces: true, depthMix: [1, 2, 2, 2, 1] };
    const pool = await generatePool(ex, opts);
    expect(await generatePool(ex, opts)).toEqual(pool);
    expect(new Set(pool.map((p) => p.depth)).size).toBe(MAX_DEPTH + 1);
    for (const p of pool) {
      const v = await ex.submit({ op: "validate", code: p.snippet, input: p.input });
      expect(v.status).toBe("ok");
      expect(v.output).toBe(p.output);
      expect(p.inputs.length).toBe(INDUCTION_INPUTS);
      expect(new Set(p.inputs).size).toBe(INDUCTION_INPUTS);
      const runs = await Promise.all(p.inputs.map((input) => ex.submit({ op: "run", code: p.snippet, input })));
      expect(runs.map((r) => r.output)).toEqual(p.outputs);
      expect(p.trace.length).toBe(Math.max(0, p.depth - 1));
    }
  });
});

describe("truncated Qwen2.5 vocabulary", () => {
  const tok = writeTruncatedQwen(join(TMP, "tok"), 1024);

  test("loads through engine/tokenizer with the specials after the ordinary ids", () => {
    const again = Tokenizer.fromDir(join(TMP, "tok"));
    expect(again.vocabSize).toBe(1027);
    expect(again.specialIds.eos).toBe(1024);
    expect(again.tokenToId("<|endoftext|>")).toBe(1024);
    expect(again.encode("<|endoftext|>")).toEqual([1024]);
  });

  test("round-trips any text, and keeps Qwen's ids", () => {
    const qwen = Tokenizer.qwen25Default();
    const rng = Rng.seeded(1);
    const alphabet = ["a", "Z", " ", "\n", "\t", "def f(x):", "é", "漢", "😀", "```", "'", "\u0000", "<|im_end|>"];
    for (let i = 0; i < 200; i++) {
      const text = Array.from({ length: 1 + rng.int(30) }, () => rng.pick(alphabet)).join("");
      const ids = tok.encode(text, { allowSpecial: false });
      expect(tok.decode(ids)).toBe(text);
      expect(ids.every((id) => id < 1024)).toBe(true);
      // Every id means what it means in Qwen2.5: decoding it there gives the same text.
      expect(qwen.decode(ids)).toBe(text);
    }
  });

  test("a size outside [257, Qwen's vocabulary] is an error that names the range", () => {
    expect(() => truncatedQwenFiles(100)).toThrow(/from 257 to 151643/);
  });
});

describe("a short warm start", () => {
  // 150 steps: about 40 s on an idle 2-core machine (30 steps lowered the loss but reached no format); a generous timeout for a loaded one.
  test("lowers the loss and raises the held-out format rate", async () => {
    const report = await warmstart({
      out: join(TMP, "ws"),
      init: null,
      size: "tiny",
      steps: 150,
      seed: 2,
      vocab: 1024,
      batch: 4,
      lr: 0.01,
      programs: 60,
      heldOut: 8,
      traces: false,
      promptStyle: "compact",
      roles: ["deduction/solve", "abduction/solve"],
      maxPromptTokens: 256,
      maxNewTokens: 48,
    });
    console.log(JSON.stringify({ lossFirst: report.lossFirst, lossLast: report.lossLast, before: report.before, after: report.after }));
    expect(report.lossLast).toBeLessThan(0.6 * report.lossFirst);
    const fmt = (scores: typeof report.after) => scores.reduce((a, s) => a + s.formatRate, 0) / scores.length;
    expect(fmt(report.before)).toBe(0);
    expect(fmt(report.after)).toBeGreaterThanOrEqual(0.5);
    expect(Tokenizer.fromDir(join(TMP, "ws")).vocabSize).toBe(1027);
    // Beside the checkpoint, what self-play starts from and is evaluated on: disjoint program sets that the
    // trainer's seed loaders read as all three task types.
    const seeds = loadInductionSeeds(join(TMP, "ws", SEED_FILE), 10_000);
    const held = loadIoSeeds(join(TMP, "ws", HELDOUT_FILE), 10_000);
    expect(seeds.length).toBe(60);
    expect(held.length).toBe(EVAL_PROGRAMS);
    expect(loadInductionSeeds(join(TMP, "ws", HELDOUT_FILE), 10_000).every((p) => p.inputs.length === 10)).toBe(true);
    const seeded = new Set(seeds.map((p) => p.snippet));
    expect(held.filter((p) => seeded.has(p.snippet))).toEqual([]);
  }, 400_000);
});

describe("bun run warmstart flags (exit 2)", () => {
  test.each([
    [[], /--out DIR is required/],
    [["--out", join(TMP, "x"), "--bogus"], /Unknown option '--bogus'/],
    [["--out", join(TMP, "x"), "--steps", "zero"], /--steps zero: use a whole number/],
    [["--out", join(TMP, "x"), "--size", "huge"], /--size huge: use one of tiny, small/],
    [["--out", join(TMP, "x"), "--vocab", "100"], /--vocab 100: use a whole number ≥ 257/],
    [["--out", join(TMP, "x"), "--roles", "deduction/guess"], /--roles: unknown role "deduction\/guess"/],
    [["--out", REPO], /already exists and is not empty/],
  ])("%j", async (args, pattern) => {
    const proc = Bun.spawn(["bun", join(REPO, "engine", "cli", "warmstart.ts"), ...args], { cwd: REPO, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
    const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
    expect(stderr).toMatch(pattern);
    expect(code).toBe(2);
  });
});
