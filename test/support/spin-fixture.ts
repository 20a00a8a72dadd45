// Worker fixture for test/sandbox-wasm-loop-regression.test.ts: spins in a bare wasm `loop br 0` that the rewriter
// fuel-instrumented, with a tick that throws once the deadline passes; posts how long the loop ran.
import { rewriteModule, encodeU32 } from "../../sandbox/wasm-rewrite.ts";

declare const self: Worker;

const name = (s: string) => [...encodeU32(s.length), ...new TextEncoder().encode(s)];
const section = (id: number, body: number[]) => [id, ...encodeU32(body.length), ...body];
const spinModule = Uint8Array.from([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  ...section(1, [2, 0x60, 0, 1, 0x7f, 0x60, 0, 0]), // () -> i32, () -> ()
  ...section(2, [1, ...name("env"), ...name("tick"), 0x00, 0]),
  ...section(3, [1, 1]),
  ...section(7, [1, ...name("spin"), 0x00, 1]),
  ...section(10, [1, 7, 0x00, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b]), // loop br 0 end
]);

self.onmessage = (event: MessageEvent<{ deadlineMs: number }>) => {
  const { wasm } = rewriteModule(spinModule, {
    stripCustom: true,
    fuel: { importModule: "env", importName: "tick", quantum: 10_000 },
  });
  const start = performance.now();
  const deadline = start + event.data.deadlineMs;
  const tick = () => {
    if (performance.now() > deadline) throw new Error("deadline");
    return 0;
  };
  const inst = new WebAssembly.Instance(new WebAssembly.Module(wasm), { env: { tick } });
  try {
    (inst.exports.spin as () => void)();
  } catch (e) {
    self.postMessage({ stoppedAfterMs: performance.now() - start, error: (e as Error).message });
  }
};
