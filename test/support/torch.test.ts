import { expect, setDefaultTimeout, test } from "bun:test";
import { arr, runTorch } from "./torch.ts";
import { SLOW_TEST_MS } from "./timeouts.ts";

setDefaultTimeout(SLOW_TEST_MS);

test("the torch reference runs and round-trips float64 tensors", () => {
  const out = runTorch(`out["y"] = inp["x"] @ inp["x"].T`, { x: arr([1, 2, 3, 4], [2, 2]) });
  expect(out.y.shape).toEqual([2, 2]);
  expect(out.y.data).toEqual([5, 11, 11, 25]);
});
