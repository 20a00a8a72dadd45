// Sampling (sample.ts): draws follow the filtered softmax that PyTorch computes (chi-square), filtered-out tokens
// never appear, greedy takes the first maximum, and the RNG stream is a pure function of (seed, row, step).
import { beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { getGpu, run, Tensor } from "../kernels/index.ts";
import { Sampler, samplingDistribution, type SamplingOptions } from "../kernels/sample.ts";
import { normals, rng, seedNote, TEST_SEED } from "./support/random-inputs.ts";
import { arr, runTorch } from "./support/torch.ts";
import { SLOW_TEST_MS } from "./support/timeouts.ts";

setDefaultTimeout(SLOW_TEST_MS);

// HF/vLLM semantics: temperature, then top-k, then the nucleus of the renormalised rest.
const TORCH_FILTERED = `
x = inp["logits"] / inp["temperature"]
if 0 < inp["topK"] < x.shape[0]:
    kth = torch.topk(x, inp["topK"]).values[-1]
    x = x.masked_fill(x < kth, float("-inf"))
p = torch.softmax(x, -1)
if inp["topP"] < 1:
    sp, idx = torch.sort(p, descending=True)
    keep = torch.zeros_like(p, dtype=torch.bool)
    keep[idx[(torch.cumsum(sp, 0) - sp) < inp["topP"]]] = True
    p = torch.where(keep, p, torch.zeros_like(p))
    p = p / p.sum()
out["p"] = p
`;

const ROWS = 2048;
const STEPS = 4;

beforeAll(async () => {
  await getGpu();
});

/** The ROWS·steps tokens drawn from ROWS copies of one logits row, steps 0..steps-1. */
async function draw(row: Float32Array, options: SamplingOptions, steps: number, rows = ROWS): Promise<Uint32Array> {
  const vocab = row.length;
  const logits = Tensor.zeros([rows, vocab]);
  const all = new Float32Array(rows * vocab);
  for (let r = 0; r < rows; r++) all.set(row, r * vocab);
  logits.write(all);
  const tokens = Tensor.zeros([rows], "u32");
  const sampler = new Sampler(logits, tokens, options);
  const out = new Uint32Array(rows * steps);
  for (let s = 0; s < steps; s++) {
    tokens.poison();
    run(sampler.at(s));
    out.set(await tokens.read(), s * rows);
  }
  return out;
}

/** Pearson's statistic over bins with expected count >= 5 (the rest pooled), and its 1e-4 critical value. */
function chiSquare(counts: number[], probs: ArrayLike<number>, n: number): { stat: number; critical: number } {
  let stat = 0;
  let bins = 0;
  let pooledObs = 0;
  let pooledExp = 0;
  for (let i = 0; i < counts.length; i++) {
    const e = probs[i] * n;
    if (e >= 5) {
      stat += (counts[i] - e) ** 2 / e;
      bins++;
    } else {
      pooledObs += counts[i];
      pooledExp += e;
    }
  }
  if (pooledExp >= 5) {
    stat += (pooledObs - pooledExp) ** 2 / pooledExp;
    bins++;
  }
  // Wilson–Hilferty quantile of chi-square(df) at 1 − 1e-4 (z = 3.719).
  const df = bins - 1;
  const critical = df * (1 - 2 / (9 * df) + 3.719 * Math.sqrt(2 / (9 * df))) ** 3;
  return { stat, critical };
}

// [vocab, temperature, topK, topP]: odd vocabularies take the scalar path.
const CASES: [number, number, number, number][] = [
  [50, 1, 0, 1],
  [64, 0.7, 8, 1],
  [203, 1.3, 0, 0.8],
  [1000, 1, 20, 0.9],
];

describe.each(CASES)("vocab %i, temperature %d, topK %i, topP %d", (vocab, temperature, topK, topP) => {
  test("draws match torch's filtered softmax and never leave its support", async () => {
    const options = { temperature, topK, topP, seed: TEST_SEED };
    const logits = normals(rng(TEST_SEED + vocab), vocab, 1.5);
    const ref = runTorch(TORCH_FILTERED, { logits: arr(logits, [vocab]), temperature, topK, topP });
    const probs = ref.p.data;
    // The float64 TS reference is the same distribution.
    const tsRef = samplingDistribution(logits, options);
    expect(Math.max(...probs.map((p, i) => Math.abs(p - tsRef[i])))).toBeLessThan(1e-12);

    const tokens = await draw(logits, options, STEPS);
    expect(Math.max(...tokens)).toBeLessThan(vocab);
    const counts = new Array<number>(vocab).fill(0);
    for (const t of tokens) counts[t]++;
    const excluded = counts.flatMap((c, i) => (c > 0 && probs[i] === 0 ? [i] : []));
    expect(excluded, `tokens outside the kept set ${seedNote}`).toEqual([]);
    const { stat, critical } = chiSquare(counts, probs, tokens.length);
    expect(stat, `chi-square ${stat.toFixed(1)} vs critical ${critical.toFixed(1)} ${seedNote}`).toBeLessThan(critical);
  });
});

test("the same seed draws the same tokens; another seed draws others", async () => {
  const logits = normals(rng(TEST_SEED), 300, 0.5);
  const options = { temperature: 1, topK: 0, topP: 0.95, seed: TEST_SEED };
  const a = await draw(logits, options, 2, 256);
  const b = await draw(logits, options, 2, 256);
  const c = await draw(logits, { ...options, seed: (TEST_SEED + 1) >>> 0 }, 2, 256);
  expect(Array.from(a)).toEqual(Array.from(b));
  expect(Array.from(a)).not.toEqual(Array.from(c));
  // Steps are independent streams too.
  expect(Array.from(a.subarray(0, 256))).not.toEqual(Array.from(a.subarray(256)));
});

test("temperature 0 takes the first index of the maximum", async () => {
  const vocab = 97;
  const rows = 5;
  const next = rng(TEST_SEED + 5);
  const data = normals(next, rows * vocab);
  const want = [0, 96, 40, 41, 13];
  want.forEach((t, r) => (data[r * vocab + t] = 10));
  data[3 * vocab + 60] = 10; // a tie later in the row: the first index wins
  const logits = Tensor.from(data, [rows, vocab]);
  const tokens = Tensor.zeros([rows], "u32");
  tokens.poison();
  run(new Sampler(logits, tokens, { temperature: 0, topK: 0, topP: 1, seed: 1 }).at(0));
  expect(Array.from(await tokens.read())).toEqual(want);
});

test("invalid options are refused with the field named", () => {
  const logits = Tensor.zeros([1, 8]);
  const tokens = Tensor.zeros([1], "u32");
  const base = { temperature: 1, topK: 0, topP: 1, seed: 0 };
  expect(() => new Sampler(logits, tokens, { ...base, topP: 0 })).toThrow("topP must be in (0, 1]");
  expect(() => new Sampler(logits, tokens, { ...base, temperature: -1 })).toThrow("temperature must be >= 0");
  expect(() => new Sampler(logits, tokens, { ...base, topK: 2.5 })).toThrow("topK must be an integer");
});
