// Buffer mechanics of docs/reference.md §5: seeding, caps (keep-oldest, fifo), dedup, K references without replacement, the
// induction union, the max_new solve mix, and restore.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ProgramBuffer } from "../engine/buffers/buffer.ts";
import { Buffers } from "../engine/buffers/buffers.ts";
import { drawInductionSource, drawReferences, drawRounds, drawSolveBatch, recentEntries } from "../engine/buffers/sampling.ts";
import { loadInductionSeeds, loadIoSeeds, zeroSeedInduction, zeroSeedIo } from "../engine/buffers/seed.ts";
import { REFERENCE_DEFAULTS } from "../engine/config/schema.ts";
import { Rng } from "../engine/rng.ts";

type P = { id: number; step: number };
const keyed = (opts: Partial<{ cap: number; capPolicy: "keep_oldest" | "fifo"; dedup: boolean }>) =>
  new ProgramBuffer<P>({ cap: 3, capPolicy: "keep_oldest", dedup: false, ...opts }, (p) => String(p.id));

describe("ProgramBuffer", () => {
  test("keep_oldest: a full buffer drops new programs (reference truncate_datasets)", () => {
    const b = keyed({});
    expect([1, 2, 3, 4].map((id) => b.add({ id, step: 1 }))).toEqual(["added", "added", "added", "full"]);
    expect(b.snapshot().map((p) => p.id)).toEqual([1, 2, 3]);
  });
  test("fifo: a full buffer evicts its oldest", () => {
    const b = keyed({ capPolicy: "fifo" });
    for (const id of [1, 2, 3, 4, 5]) b.add({ id, step: 1 });
    expect(b.snapshot().map((p) => p.id)).toEqual([3, 4, 5]);
  });
  test("no dedup by default; dedup drops a repeat, and an evicted key may return", () => {
    const plain = keyed({});
    plain.add({ id: 1, step: 0 });
    expect(plain.add({ id: 1, step: 1 })).toBe("added");
    const d = keyed({ dedup: true, capPolicy: "fifo", cap: 2 });
    expect([1, 1, 2, 3, 1].map((id) => d.add({ id, step: 1 }))).toEqual(["added", "duplicate", "added", "added", "added"]);
    expect(d.snapshot().map((p) => p.id)).toEqual([3, 1]);
  });
  test("snapshot is a copy: later adds do not change what a step sampled from", () => {
    const b = keyed({ cap: 10 });
    b.add({ id: 1, step: 0 });
    const snap = b.snapshot();
    b.add({ id: 2, step: 1 });
    expect(snap.length).toBe(1);
  });
  test("restore keeps entries up to the resumed step (reference resume filter)", () => {
    const b = keyed({ cap: 10 });
    b.restore([{ id: 1, step: 0 }, { id: 2, step: 3 }, { id: 3, step: 4 }], 3);
    expect(b.snapshot().map((p) => p.id)).toEqual([1, 2]);
  });
});

describe("seeds", () => {
  test("zero seed: identity triplet with double-quoted Hello world; induction 6 pairs", () => {
    expect(zeroSeedIo()).toEqual([{ snippet: "def f(a):\n    return a", input: '"Hello world"', output: '"Hello world"', imports: [], step: 0 }]);
    const ind = zeroSeedInduction()[0];
    expect(ind.inputs).toEqual(['"Hello world"', "1", "dict(a=1, b=2)", "(1.1, 1.2, 1.3)", '"[[1, 0, 0], [0, 0, 0], [0, 0, 0]]"', "1001101100010001"]);
    expect(ind.outputs).toEqual(ind.inputs);
  });
  test("the same io seeds fill abduction and deduction; induction its own", () => {
    const b = Buffers.seeded(REFERENCE_DEFAULTS.buffers, REFERENCE_DEFAULTS.data);
    expect(b.sizes()).toEqual({ abduction: 1, deduction: 1, induction: 1 });
    b.abduction.add({ ...zeroSeedIo()[0], step: 1 });
    expect(b.sizes()).toEqual({ abduction: 2, deduction: 1, induction: 1 });
  });
  test("seed files: leading rows, step 0, and errors that name file:line", () => {
    const dir = mkdtempSync(join(tmpdir(), "azr-seed-"));
    const io = join(dir, "io.jsonl");
    writeFileSync(io, ['{"snippet":"def f(a):\\n    return a","input":"1","output":"1"}', "", '{"snippet":"s","input":"2","output":"2","imports":["import re"]}', '{"snippet":"t","input":"3","output":"3"}'].join("\n"));
    expect(loadIoSeeds(io, 2).map((p) => [p.input, p.imports, p.step])).toEqual([["1", [], 0], ["2", ["import re"], 0]]);
    const bad = join(dir, "bad.jsonl");
    writeFileSync(bad, '{"snippet":"s","input":"1","output":"1"}\n{"snippet":"s","input":1,"output":"1"}\n');
    expect(() => loadIoSeeds(bad, 5)).toThrow(/bad\.jsonl:2: "input" must be a string/);
    writeFileSync(bad, "not json\n");
    expect(() => loadIoSeeds(bad, 5)).toThrow(/bad\.jsonl:1: not valid JSON/);
    const f = join(dir, "f.jsonl");
    writeFileSync(f, '{"snippet":"s","inputs":["1","2"],"outputs":["1"],"message":"m"}\n');
    expect(() => loadInductionSeeds(f, 1)).toThrow(/f\.jsonl:1: "outputs" must be a list of 2 strings/);
  });
  test("the shipped seed corpus loads (256 rows, row 0 is the zero seed)", () => {
    const corpus = join(import.meta.dir, "..", "engine", "data", "azr-seed");
    const io = loadIoSeeds(join(corpus, "7b_coder_seed_io.jsonl"), 256);
    expect(io.length).toBe(256);
    expect(io[0].snippet).toBe(zeroSeedIo()[0].snippet);
    expect(loadInductionSeeds(join(corpus, "7b_coder_code_f_seed_io.jsonl"), 256).every((p) => p.inputs.length >= 6)).toBe(true);
  });
});

describe("Buffers", () => {
  test("withheld snippets (held-out evaluation programs) are refused by every buffer", () => {
    const b = Buffers.seeded(REFERENCE_DEFAULTS.buffers, REFERENCE_DEFAULTS.data);
    const held = "def f(a):\n    return a + 1";
    b.withhold(new Set([held]));
    const io = { snippet: held, input: "1", output: "2", imports: [], step: 1 };
    expect(b.add({ task: "deduction", program: io })).toBe("held_out");
    expect(b.add({ task: "induction", program: { snippet: held, inputs: ["1", "2"], outputs: ["2", "3"], message: "m", imports: [], step: 1 } })).toBe("held_out");
    expect(b.add({ task: "abduction", program: { ...io, snippet: "def f(a):\n    return a + 2" } })).toBe("added");
    expect(b.sizes()).toEqual({ abduction: 2, deduction: 1, induction: 1 });
  });
});

describe("sampling", () => {
  const xs = Array.from({ length: 10 }, (_, i) => ({ id: i, step: i < 6 ? 0 : i - 5 }));
  test("K references without replacement, K capped by the buffer size", () => {
    const rng = Rng.seeded(1);
    for (let i = 0; i < 50; i++) {
      const refs = drawReferences(xs, 6, rng);
      expect(new Set(refs.map((r) => r.id)).size).toBe(6);
    }
    expect(drawReferences(xs.slice(0, 2), 6, rng).length).toBe(2);
  });
  test("references are uniform: every item is drawn about K/n of the time", () => {
    const rng = Rng.seeded(2);
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 5000; i++) for (const r of drawReferences(xs, 6, rng)) counts[r.id]++;
    for (const c of counts) expect(Math.abs(c / 5000 - 0.6)).toBeLessThan(0.03);
  });
  test("induction draws from the union as a multiset (a seed in both buffers counts twice)", () => {
    const rng = Rng.seeded(3);
    const a = [{ id: 0 }];
    const d = [{ id: 0 }, { id: 1 }];
    let zeros = 0;
    for (let i = 0; i < 6000; i++) if (drawInductionSource(a, d, rng).id === 0) zeros++;
    expect(Math.abs(zeros / 6000 - 2 / 3)).toBeLessThan(0.03);
  });
  const tagged = (entries: readonly { step: number }[]): Array<[number, number]> => {
    const counts = new Map<number, number>();
    for (const p of entries) counts.set(p.step, (counts.get(p.step) ?? 0) + 1);
    return [...counts];
  };
  test("max_new: all recent programs first (t − s ≤ window), then a uniform fill", () => {
    const rng = Rng.seeded(4);
    // at step 5 with window 1: ids with step 4 or 5 → ids 9 (step 4); id 10 would be step 5
    for (const set of ["last_offered", "step_tag"] as const) {
      const batch = drawSolveBatch(xs, recentEntries(xs, tagged(xs), 5, 1, set), 4, "max_new", rng);
      expect(batch[0].id).toBe(9);
      expect(batch.length).toBe(4);
    }
    // at step 1 the seeds (step 0) and step-1 additions are recent
    const early = xs.filter((p) => p.step <= 1);
    const got = drawSolveBatch(early, recentEntries(early, tagged(early), 1, 1, "last_offered"), 7, "max_new", rng);
    expect(got.map((p) => p.id).sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });
  test("max_new with a full keep_oldest buffer: the last kept programs stay recent (reference), or none (step_tag)", () => {
    const b = keyed({ cap: 4 });
    for (const [id, step] of [[0, 0], [1, 0], [2, 1], [3, 1], [4, 2], [5, 2]]) b.add({ id, step });
    expect(b.snapshot().map((p) => p.id)).toEqual([0, 1, 2, 3]); // 4 and 5 (step 2) were dropped
    // Step 3 draws before its own proposals land: the reference's full_dataset[-total_recent:], total_recent = the
    // 2 programs offered at step 2.
    const ids = (set: "last_offered" | "step_tag", step: number) => recentEntries(b.snapshot(), b.offeredCounts(), step, 1, set).map((p) => p.id);
    expect(ids("last_offered", 3)).toEqual([2, 3]);
    expect(ids("step_tag", 3)).toEqual([]);
    b.add({ id: 6, step: 3 });
    expect(b.offeredCounts()).toEqual([[0, 2], [1, 2], [2, 2], [3, 1]]);
    expect(ids("last_offered", 4)).toEqual([3]); // one program offered at step 3
    // The counts survive a checkpoint; a checkpoint without them rebuilds them from the entries' steps.
    const restored = keyed({ cap: 4 });
    restored.restore(b.snapshot(), 3, b.offeredCounts());
    expect(restored.offeredCounts()).toEqual(b.offeredCounts());
    restored.restore(b.snapshot(), 2);
    expect(restored.offeredCounts()).toEqual([[0, 2], [1, 2]]);
    // Nothing offered in the window (a step whose proposals all failed): no recent set, a uniform batch.
    expect(ids("last_offered", 6)).toEqual([]);
  });
  test("a batch larger than the buffer repeats it in whole rounds", () => {
    const rng = Rng.seeded(5);
    const got = drawRounds([{ id: 0 }, { id: 1 }], 5, rng).map((p) => p.id);
    expect(got.length).toBe(5);
    expect(got.slice(0, 2).sort()).toEqual([0, 1]);
    expect(got.slice(2, 4).sort()).toEqual([0, 1]);
    expect(() => drawRounds([], 1, rng)).toThrow(/empty buffer/);
  });
  test("equal seeds draw equal batches; the Rng state round-trips", () => {
    const a = Rng.seeded(9);
    drawSolveBatch(xs, [], 4, "uniform_total", a);
    const b = Rng.fromState(a.state());
    expect(drawSolveBatch(xs, [], 4, "uniform_total", a)).toEqual(drawSolveBatch(xs, [], 4, "uniform_total", b));
  });
});
