// `bun run generate`: flag errors (exit 2, named), and a greedy run whose --json output equals the policy's own
// generation, whether the prompt is given as text or as its token ids.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeCheckpoint, Policy } from "../engine/model/index.ts";
import { Tokenizer } from "../engine/tokenizer/index.ts";
import { SLOW_TEST_MS } from "./support/timeouts.ts";

setDefaultTimeout(SLOW_TEST_MS);

const REPO = join(import.meta.dir, "..");
const root = mkdtempSync(join(tmpdir(), "generate-cli-"));
const ckpt = join(root, "tiny");
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function generate(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn(["bun", "engine/cli/generate.ts", ...args], { cwd: REPO, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  return { code: await proc.exited, stdout, stderr };
}

beforeAll(async () => {
  await makeCheckpoint(ckpt, { preset: "tiny", seed: 3 });
});

describe("bad flags exit 2 with the reason", () => {
  const cases: [string[], RegExp][] = [
    [["--prompt", "x"], /--checkpoint DIR is required/],
    [["--checkpoint", "/nonexistent", "--prompt", "x"], /--checkpoint \/nonexistent is not a directory/],
    [["--checkpoint", ckpt], /exactly one of --prompt TEXT and --prompt-ids/],
    [["--checkpoint", ckpt, "--prompt", "x", "--prompt-ids", "1"], /exactly one of/],
    [["--checkpoint", ckpt, "--prompt-ids", "1,a"], /--prompt-ids 1,a: comma-separated token ids/],
    [["--checkpoint", ckpt, "--prompt", "x", "--max-new=-1"], /--max-new -1: a whole number/],
    [["--checkpoint", ckpt, "--prompt", "x", "--max-new", "many"], /--max-new many: a whole number/],
    [["--checkpoint", ckpt, "--prompt", "x", "--greedy", "--temperature", "1"], /--greedy and --temperature exclude each other/],
    [["--checkpoint", ckpt, "--prompt", "x", "--top-p", "0"], /--top-p 0: a number in \(0, 1\]/],
    [["--checkpoint", ckpt, "--prompt", "x", "--bogus"], /Unknown option '--bogus'/],
  ];
  test.each(cases)("%j", async (args, message) => {
    const { code, stderr } = await generate(args);
    expect(stderr).toMatch(message);
    expect(stderr).toContain("usage: bun run generate");
    expect(code).toBe(2);
  });

  test("a token id past the vocabulary is refused by the policy (exit 1, named)", async () => {
    const { code, stderr } = await generate(["--checkpoint", ckpt, "--prompt-ids", "999999", "--max-new", "1"]);
    expect(stderr).toMatch(/token id 999999 outside the vocabulary/);
    expect(code).toBe(1);
  });
});

test("--json: text and ids prompts give the policy's own greedy generation", async () => {
  const text = "def f(x):\n    return";
  const ids = Tokenizer.fromDir(ckpt).encode(text);
  const byText = await generate(["--checkpoint", ckpt, "--prompt", text, "--max-new", "6", "--greedy", "--json"]);
  expect(byText.code).toBe(0);
  const out = JSON.parse(byText.stdout) as { prompt_ids: number[]; ids: number[]; text: string; finish: string };
  expect(out.prompt_ids).toEqual(ids);
  const byIds = await generate(["--checkpoint", ckpt, "--prompt-ids", ids.join(","), "--max-new", "6", "--json"]);
  expect(JSON.parse(byIds.stdout)).toEqual(out);
  const policy = await Policy.load(ckpt, { maxSeq: 32, maxBatch: 1 });
  const [own] = await policy.generate([ids], { maxNew: 6, temperature: 0, seed: 0 });
  policy.destroy();
  expect(out).toEqual({ prompt_ids: ids, ids: own.ids, text: own.text, finish: own.finish });
  const plain = await generate(["--checkpoint", ckpt, "--prompt-ids", ids.join(","), "--max-new", "6"]);
  expect(plain.stdout).toBe(`${own.text}\n`);
});
