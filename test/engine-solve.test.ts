// The solve batch's length filter with the real tokenizer: the reference's refill (drop prompts over
// contentMaxTokens, draw again from those kept until the batch is full) and the project's drop alternative.
import { describe, expect, test } from "bun:test";
import { Buffers } from "../engine/buffers/buffers.ts";
import { REFERENCE_DEFAULTS, type TrainConfig } from "../engine/config/schema.ts";
import { Rng } from "../engine/rng.ts";
import { Tokenizer } from "../engine/tokenizer/index.ts";
import { solveDrafts } from "../engine/trainer/solve.ts";
import type { IoProgram } from "../engine/tasks/types.ts";

const tokenizer = Tokenizer.qwen25Default();
const program = (i: number, long: boolean): IoProgram => ({
  snippet: `def f(x):\n    return x + ${i}${long ? " + x".repeat(400) : ""}`,
  input: "1",
  output: String(1 + i),
  imports: [],
  step: 0,
});

function draw(filter: TrainConfig["tasks"]["solveLengthFilter"], longs: boolean[], maxPromptTokens = 2000) {
  const config: TrainConfig = {
    ...REFERENCE_DEFAULTS,
    tasks: { ...REFERENCE_DEFAULTS.tasks, batchSize: 8, contentMaxTokens: 600, maxPromptTokens, solveLengthFilter: filter },
    buffers: { ...REFERENCE_DEFAULTS.buffers, solveMix: "uniform_total" },
  };
  const buffers = new Buffers(config.buffers);
  longs.forEach((long, i) => buffers.deduction.add(program(i, long)));
  return solveDrafts({ config, rng: Rng.seeded(4), step: 1, policy: { tokenizer } }, "deduction", buffers.snapshot());
}

describe("solveDrafts length filter", () => {
  const longs = [false, true, false, true, true, false, true, false];
  test("refill (reference): the batch keeps its size, every prompt within contentMaxTokens, refills drawn from the kept", () => {
    const { drafts, dropped } = draw("refill", longs);
    expect(dropped).toBe(4);
    expect(drafts.length).toBe(8);
    expect(drafts.every((d) => d.ids.length <= 600)).toBe(true);
    expect(new Set(drafts.map((d) => d.item.program.snippet)).size).toBe(4);
  });
  test("drop: the limit is maxPromptTokens, and the batch shrinks instead of refilling", () => {
    const roomy = draw("drop", longs);
    expect([roomy.drafts.length, roomy.dropped]).toEqual([8, 0]); // 2,000 tokens hold every prompt
    expect(roomy.drafts.some((d) => d.ids.length > 600)).toBe(true);
    const tight = draw("drop", longs, 600);
    expect([tight.drafts.length, tight.dropped]).toEqual([4, 4]);
  });
  test("refill with no prompt that fits is an error naming the setting", () => {
    expect(() => draw("refill", longs.map(() => true))).toThrow(/tasks\.contentMaxTokens/);
  });
});
