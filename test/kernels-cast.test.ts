// The device's f32 → f16 cast (cast.ts) against the host conversion (half.ts' f32ToHalf), bit for bit: ties to even
// both ways, the subnormal range and its edges, the largest finite f16 and the first value past it (±infinity, as
// f32ToHalf defines it), infinities, NaN, -0, then random f32 bit patterns over every exponent, in an odd length so
// that the last vec4 is partial.
import { beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { castHalf, getGpu, run, Tensor } from "../kernels/index.ts";
import { f32ToHalf } from "../kernels/half.ts";
import { rng, seedNote, TEST_SEED } from "./support/random-inputs.ts";
import { SLOW_TEST_MS } from "./support/timeouts.ts";

setDefaultTimeout(SLOW_TEST_MS);

beforeAll(async () => {
  await getGpu();
});

const special = [
  1 + 2 ** -11, // halfway between 1 and its successor: to the even one (1)
  1 + 3 * 2 ** -11, // halfway, the odd one below: up
  1 + 2 ** -11 + 2 ** -23, // just past halfway: up
  2047.5, // halfway at the top of a binade: 2048
  2 ** -24, // least subnormal
  2 ** -25, // halfway to it from 0: to 0 (even)
  3 * 2 ** -26, // past halfway: the least subnormal
  3 * 2 ** -25, // halfway between subnormals 1 and 2: 2
  2 ** -14 - 2 ** -25, // rounds up out of the subnormals into the least normal
  1e-40, // an f32 subnormal: 0
  65504, // largest finite f16
  65519.99, // below the overflow threshold: 65504
  65520, // the threshold: +infinity (f32ToHalf overflows to infinity)
  -70000, // far past it: -infinity
  Infinity,
  -Infinity,
  NaN,
  -0,
  0,
  -1.5,
  0.1,
];

test("castHalf equals f32ToHalf bit for bit", async () => {
  const r = rng(TEST_SEED);
  const bits = new Uint32Array(4099 - special.length);
  for (let i = 0; i < bits.length; i++) bits[i] = Math.floor(r() * 2 ** 32) >>> 0;
  const values = new Float32Array(4099);
  values.set(special);
  values.set(new Float32Array(bits.buffer), special.length);
  const x = Tensor.from(values, [values.length]);
  const y = Tensor.zeros([values.length], "f16");
  run(castHalf({ x, y }));
  const got = await y.read();
  const want = Uint16Array.from(values, (v) => f32ToHalf(v));
  const bad = got.findIndex((h, i) => h !== want[i]);
  expect(bad === -1 ? null : { index: bad, value: values[bad], got: got[bad].toString(16), want: want[bad].toString(16), seed: seedNote }).toBeNull();
  expect(want[12]).toBe(0x7c00); // the overflow case really overflows
  expect(want[13]).toBe(0xfc00);
});

test("castHalf checks its operands", () => {
  expect(() => castHalf({ x: Tensor.zeros([4]), y: Tensor.zeros([4]) })).toThrow("castHalf: y must be f16[4]");
  expect(() => castHalf({ x: Tensor.zeros([4]), y: Tensor.zeros([5], "f16") })).toThrow("castHalf: y must be f16[4]");
});
