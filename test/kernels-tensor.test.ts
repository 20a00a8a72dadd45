// The device layer (device.ts, tensor.ts, kernel.ts): round trips per dtype, poisoning, views, steps with copies and
// clears, uniform updates, and the errors a wrong call gets.
import { beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { deviceMemory, Dispatch, fromHalf, getGpu, requireGpu, resetDevicePeak, run, Step, Tensor, toHalf, type Kernel } from "../kernels/index.ts";
import { SLOW_TEST_MS } from "./support/timeouts.ts";

setDefaultTimeout(SLOW_TEST_MS);

const axpy: Kernel = {
  name: "test_axpy",
  params: { n: "u32", alpha: "f32" },
  buffers: { x: "f32", y: "f32 write" },
  code: `@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u) {
  if (g.x < P.n) { y[g.x] = y[g.x] + P.alpha * x[g.x]; }
}`,
};

beforeAll(async () => {
  await getGpu();
});

test("one context per process, with the adapter's limits rather than WebGPU's defaults", async () => {
  const gpu = await getGpu();
  expect(requireGpu()).toBe(gpu);
  expect(await getGpu()).toBe(gpu);
  expect(gpu.limits.maxComputeInvocationsPerWorkgroup).toBeGreaterThanOrEqual(256);
  expect(gpu.limits.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 * 2 ** 20);
  expect(typeof gpu.isSoftware).toBe("boolean");
});

test("f32, u32 and i32 tensors round-trip exactly; poison fills with NaN / all-ones", async () => {
  const f = Tensor.from(new Float32Array([1.5, -2, 3e-30, 7]), [2, 2]);
  const u = Tensor.from(new Uint32Array([0, 1, 0xffffffff]), [3], "u32");
  const i = Tensor.from(new Int32Array([-5, 2 ** 31 - 1, 0]), [3], "i32");
  expect(Array.from(await f.read())).toEqual([1.5, -2, Math.fround(3e-30), 7]);
  expect(Array.from(await u.read())).toEqual([0, 1, 0xffffffff]);
  expect(Array.from(await i.read())).toEqual([-5, 2 ** 31 - 1, 0]);
  f.poison();
  u.poison();
  expect((await f.read()).every(Number.isNaN)).toBe(true);
  expect(Array.from(await u.read())).toEqual([0xffffffff, 0xffffffff, 0xffffffff]);
});

test("f16 tensors: bits round-trip (odd lengths too), a kernel widens them to f32; toHalf rounds to nearest even and refuses overflow", async () => {
  // 1 + 2^-11 is halfway between two f16s and rounds to the even one (1); 1 + 3·2^-11 rounds up; 2^-24 is the least subnormal.
  const values = [1.5, -2, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 2 ** -24, 65504, -0];
  const bits = toHalf(values, "test");
  expect(Array.from(fromHalf(bits))).toEqual([1.5, -2, 1, 1 + 2 ** -9, 2 ** -24, 65504, -0]);
  const h = Tensor.from(bits, [7], "f16");
  expect(Array.from(await h.read())).toEqual(Array.from(bits));
  const widen: Kernel = {
    name: "test_widen",
    params: { n: "u32" },
    buffers: { x: "f16", y: "f32 write" },
    code: `@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u) { if (g.x < P.n) { y[g.x] = f32(x[g.x]); } }`,
  };
  expect(requireGpu().shaderF16).toBe(true); // lavapipe (Mesa >= 25) has it; an adapter without it fails here, by name
  const y = Tensor.zeros([7]);
  run(new Dispatch(widen, { x: h, y }, { n: 7 }, [1]));
  expect(Array.from(await y.read())).toEqual(Array.from(fromHalf(bits)));
  h.poison();
  expect(Array.from(await h.read()).every((b) => b === 0x7e00)).toBe(true);
  expect(() => toHalf([1, 70000], "w")).toThrow("w: element 1 = 70000 is outside the f16 range");
  expect(Array.from(toHalf([Infinity, NaN], "w"))).toEqual([0x7c00, 0x7e00]);
});

test("a view shares the buffer; a step runs dispatches, copies and clears in order; set() changes uniforms", async () => {
  const x = Tensor.from([1, 2, 3, 4, 5, 6], [2, 3]);
  const y = Tensor.zeros([6]);
  const snapshot = Tensor.zeros([6]);
  const d = new Dispatch(axpy, { x: x.view([6]), y }, { n: 6, alpha: 2 }, [1]);
  new Step().run(d).copy(y, snapshot).run(d).clear(x).run(d).submit();
  expect(Array.from(await snapshot.read())).toEqual([2, 4, 6, 8, 10, 12]);
  expect(Array.from(await y.read())).toEqual([4, 8, 12, 16, 20, 24]); // the third run added 2·0
  x.write([1, 1, 1, 1, 1, 1]);
  d.set({ alpha: -0.5 });
  run(d);
  expect(Array.from(await y.read())).toEqual([3.5, 7.5, 11.5, 15.5, 19.5, 23.5]);
});

test("deviceMemory counts each buffer once (views are free), rounded to 16 bytes; destroy releases it; the peak holds until reset", () => {
  const start = deviceMemory().liveBytes;
  resetDevicePeak();
  const a = Tensor.zeros([10]); // 40 bytes -> 48
  const h = Tensor.zeros([3], "f16"); // 6 bytes -> the 16-byte minimum
  a.view([2, 5]);
  expect(deviceMemory()).toEqual({ liveBytes: start + 64, peakBytes: start + 64 });
  a.view([5, 2]).destroy(); // a view's destroy frees the shared buffer, counted once
  a.destroy();
  h.destroy();
  expect(deviceMemory()).toEqual({ liveBytes: start, peakBytes: start + 64 });
  resetDevicePeak();
  expect(deviceMemory().peakBytes).toBe(start);
});

test("wrong calls get specific errors", () => {
  const x = Tensor.zeros([2, 3]);
  expect(() => x.view([4])).toThrow("cannot view f32[2,3] as [4]");
  expect(() => x.write([1, 2])).toThrow("got 2 elements, expected 6");
  expect(() => Tensor.zeros([2, -1])).toThrow("bad shape [2,-1]");
  const y = Tensor.zeros([6]);
  expect(() => new Dispatch(axpy, { x, y }, { n: 6 }, [1])).toThrow("missing uniform parameter 'alpha'");
  expect(() => new Dispatch(axpy, { x, y }, { n: 6, alpha: 1, beta: 2 }, [1])).toThrow("unknown uniform parameter 'beta'");
  expect(() => new Dispatch(axpy, { x, y }, { n: -1, alpha: 1 }, [1])).toThrow("'n' = -1 is not a valid u32");
  expect(() => new Dispatch(axpy, { x: Tensor.zeros([6], "u32"), y }, { n: 6, alpha: 1 }, [1])).toThrow("'x' must be f32, got u32[6]");
  expect(() => new Dispatch(axpy, { x }, { n: 6, alpha: 1 }, [1])).toThrow("no tensor bound to 'y'");
  expect(() => new Dispatch(axpy, { x: y, y }, { n: 6, alpha: 1 }, [1])).toThrow("'x' and 'y' are the same buffer");
  expect(() => new Dispatch(axpy, { x, y }, { n: 6, alpha: 1 }, [70000])).toThrow("workgroup count [70000,1,1] outside");
  const step = new Step();
  step.submit();
  expect(() => step.run()).toThrow("already submitted");
  expect(() => new Step().copy(x, Tensor.zeros([6], "u32"))).toThrow("dtype and element count must match");
});
