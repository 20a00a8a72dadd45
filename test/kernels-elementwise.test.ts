// The elementwise table (elementwise.ts): every row forward and backward against PyTorch float64, on the scalar
// path (odd sizes) and the vec4 path, plain and accumulating.
import { beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { getGpu, run, Tensor } from "../kernels/index.ts";
import {
  ELEMENTWISE,
  elementwise,
  elementwiseBackward,
  elementwiseBackwardReference,
  elementwiseReference,
  type ElementwiseInputs,
  type ElementwiseOp,
} from "../kernels/elementwise.ts";
import { normals, rng, seedNote, TEST_SEED } from "./support/random-inputs.ts";
import { expectClose, expectThreeWay, FLOAT64 } from "./support/close.ts";
import { arr, runTorch, type RefArray, type RefInput } from "./support/torch.ts";
import { SLOW_TEST_MS } from "./support/timeouts.ts";

setDefaultTimeout(SLOW_TEST_MS);

// One op evaluation per element: fp32 rounding of a few operations (exp in silu, a product), a few ulps of the result.
const TOL = { abs: 2e-6, rel: 2e-6 };
const SHAPES: number[][] = [[5, 7], [16, 64]];

// Each row's forward as torch code over its input names.
const TORCH_FORWARD: Record<ElementwiseOp, string> = {
  add: "a + b",
  swiglu: "torch.nn.functional.silu(gate) * up",
};

interface Case {
  readonly op: ElementwiseOp;
  readonly shape: number[];
  readonly inputs: Record<string, Float32Array>;
  readonly g: Float32Array;
  /** Values already in the outputs, for the accumulating run. */
  readonly prior: Float32Array;
}

const next = rng(TEST_SEED);
const CASES: Case[] = (Object.keys(ELEMENTWISE) as ElementwiseOp[]).flatMap((op) =>
  SHAPES.map((shape) => {
    const n = shape[0] * shape[1];
    const inputs = Object.fromEntries(ELEMENTWISE[op].inputs.map((name) => [name, normals(next, n, 2)]));
    return { op, shape, inputs, g: normals(next, n), prior: normals(next, n) };
  }),
);
let refs: Record<string, RefArray>;

beforeAll(async () => {
  await getGpu();
  const torchInputs: Record<string, RefInput> = {};
  CASES.forEach((c, i) => {
    for (const [name, data] of Object.entries(c.inputs)) torchInputs[`${i}_${name}`] = arr(data, c.shape);
    torchInputs[`${i}_g`] = arr(c.g, c.shape);
    torchInputs[`${i}_expr`] = TORCH_FORWARD[c.op];
    torchInputs[`${i}_names`] = ELEMENTWISE[c.op].inputs.join(",");
  });
  refs = runTorch(
    `
i = 0
while f"{i}_g" in inp:
    env = {"torch": torch}
    names = inp[f"{i}_names"].split(",")
    for n in names:
        env[n] = inp[f"{i}_{n}"].requires_grad_(True)
    y = eval(inp[f"{i}_expr"], env)
    (y * inp[f"{i}_g"]).sum().backward()
    out[f"{i}_out"] = y
    for n in names:
        out[f"{i}_d{n}"] = env[n].grad
    i += 1
`,
    torchInputs,
  );
});

describe.each(CASES.map((c, i) => [c.op, c.shape.join("x"), i] as const))("%s %s", (op, _shape, i) => {
  const c = CASES[i];
  const names = ELEMENTWISE[op].inputs as readonly string[];
  // Tensors keyed by the row's input names (a cast: the names come from the table at run time).
  const byName = (make: (n: string) => Tensor) => Object.fromEntries(names.map((n) => [n, make(n)])) as Record<string, Tensor>;
  const typed = (t: Record<string, Tensor>) => t as ElementwiseInputs<ElementwiseOp>;
  const upload = () => byName((n) => Tensor.from(c.inputs[n], c.shape));

  test("forward and backward match torch", async () => {
    const inputs = upload();
    const out = Tensor.zeros(c.shape);
    const grads = byName(() => Tensor.zeros(c.shape));
    for (const t of [out, ...Object.values(grads)]) t.poison();
    run(
      elementwise({ op, inputs: typed(inputs), out }),
      elementwiseBackward({ op, inputs: typed(inputs), g: Tensor.from(c.g, c.shape), grads: typed(grads) }),
    );
    const forward = elementwiseReference(op, c.inputs);
    expectThreeWay("out", { wgsl: await out.read(), reference: forward, torch: refs[`${i}_out`].data }, TOL, seedNote);
    const backward: Record<string, Float64Array> = elementwiseBackwardReference(op, c.inputs, c.g);
    for (const n of names) {
      expectThreeWay(`d${n}`, { wgsl: await grads[n].read(), reference: backward[n], torch: refs[`${i}_d${n}`].data }, TOL, seedNote);
    }
  });

  test("accumulate adds onto the outputs", async () => {
    const inputs = upload();
    const out = Tensor.from(c.prior, c.shape);
    const grads = byName(() => Tensor.from(c.prior, c.shape));
    run(
      elementwise({ op, inputs: typed(inputs), out, accumulate: true }),
      elementwiseBackward({ op, inputs: typed(inputs), g: Tensor.from(c.g, c.shape), grads: typed(grads), accumulate: true }),
    );
    const plus = (ref: number[]) => ref.map((x, k) => x + c.prior[k]);
    expectClose("out", await out.read(), plus(refs[`${i}_out`].data), TOL, seedNote);
    for (const n of names) expectClose(`d${n}`, await grads[n].read(), plus(refs[`${i}_d${n}`].data), TOL, seedNote);
  });

  test("the TS references (same table row) agree with torch", () => {
    expectClose("out", elementwiseReference(op, c.inputs), refs[`${i}_out`].data, FLOAT64);
    const backward: Record<string, Float64Array> = elementwiseBackwardReference(op, c.inputs, c.g);
    for (const n of names) expectClose(`d${n}`, backward[n], refs[`${i}_d${n}`].data, FLOAT64);
  });
});

test("mismatched shapes are rejected with the operand's name", () => {
  const a = Tensor.zeros([4, 4]);
  expect(() => elementwise({ op: "add", inputs: { a, b: Tensor.zeros([4, 5]) }, out: Tensor.zeros([4, 4]) })).toThrow("add forward: b must be f32[4,4], got f32[4,5]");
});
