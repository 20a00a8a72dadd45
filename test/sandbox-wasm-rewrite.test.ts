// The wasm binary rewriter on hand-assembled modules (fuel ticks, dirty-page marks, memory cap, custom-section
// stripping, refusals) and on python.wasm itself; plus the pinned-hash check of module.ts.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compilePython, readPythonWasm } from "../sandbox/module.ts";
import {
  DIRTY_EXPORT,
  PAGE_SHIFT,
  encodeS32,
  encodeU32,
  parseSections,
  readU32,
  rewriteModule,
} from "../sandbox/wasm-rewrite.ts";
import { SLOW_TEST_MS } from "./support/timeouts.ts";

setDefaultTimeout(SLOW_TEST_MS);

const bytes = (s: string) => [...new TextEncoder().encode(s)];
const name = (s: string) => [...encodeU32(bytes(s).length), ...bytes(s)];
const vec = (items: number[][]) => [...encodeU32(items.length), ...items.flat()];
const section = (id: number, body: number[]) => [id, ...encodeU32(body.length), ...body];
const func = (body: number[]) => [...encodeU32(body.length + 1), 0x00, ...body]; // no locals

/** A module importing env.tick () -> i32, exporting spin (a bare `loop br 0`), store32 and store64. */
function tinyModule(extraBody: number[] = []): Uint8Array {
  const types = vec([
    [0x60, 0, 1, 0x7f], // 0: () -> i32
    [0x60, 0, 0], // 1: () -> ()
    [0x60, 2, 0x7f, 0x7f, 0], // 2: (i32, i32) -> ()
    [0x60, 2, 0x7f, 0x7e, 0], // 3: (i32, i64) -> ()
  ]);
  const imports = vec([[...name("env"), ...name("tick"), 0x00, 0]]);
  const funcs = vec([[1], [2], [3]]);
  const memory = vec([[0x00, 1]]);
  const exports = vec([
    [...name("spin"), 0x00, 1],
    [...name("store32"), 0x00, 2],
    [...name("store64"), 0x00, 3],
    [...name("memory"), 0x02, 0],
  ]);
  const code = vec([
    func([0x03, 0x40, ...extraBody, 0x0c, 0x00, 0x0b, 0x0b]), // loop br 0 end
    func([0x20, 0x00, 0x20, 0x01, 0x36, 0x02, 0x10, 0x0b]), // i32.store offset=16
    func([0x20, 0x00, 0x20, 0x01, 0x37, 0x03, 0x00, 0x0b]), // i64.store offset=0
  ]);
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, types), ...section(2, imports), ...section(3, funcs), ...section(5, memory),
    ...section(7, exports), ...section(10, code), ...section(0, [...name("junk"), 1, 2, 3]),
  ]);
}

interface Tiny {
  spin(): void;
  store32(addr: number, v: number): void;
  store64(addr: number, v: bigint): void;
  memory: WebAssembly.Memory;
  [DIRTY_EXPORT]?: WebAssembly.Memory;
}

function instantiate(wasm: Uint8Array, tick: () => number): Tiny {
  const inst = new WebAssembly.Instance(new WebAssembly.Module(wasm), { env: { tick } });
  return inst.exports as unknown as Tiny;
}

describe("wasm-rewrite", () => {
  test("LEB128 round trips", () => {
    for (const v of [0, 1, 127, 128, 300, 2 ** 28, 2 ** 32 - 1]) expect(readU32(Uint8Array.from(encodeU32(v)), 0)[0]).toBe(v);
    expect(encodeS32(-1)).toEqual([0x7f]);
    expect(encodeS32(64)).toEqual([0xc0, 0x00]);
  });

  test("custom sections are stripped and the module still compiles", () => {
    const { wasm, stats } = rewriteModule(tinyModule(), { stripCustom: true });
    expect(parseSections(wasm).some((s) => s.id === 0)).toBe(false);
    expect(stats.strippedBytes).toBeGreaterThan(0);
    expect(() => new WebAssembly.Module(wasm)).not.toThrow();
  });

  test("the memory cap makes growth past it fail", () => {
    const { wasm } = rewriteModule(tinyModule(), { stripCustom: true, maxPages: 2 });
    const ex = instantiate(wasm, () => 0);
    expect(ex.memory.grow(1)).toBe(1);
    expect(() => ex.memory.grow(1)).toThrow();
    expect(ex.memory.buffer.byteLength).toBe(2 * 65536);
  });

  test("fuel: a bare spinning loop calls the tick every `quantum` iterations, and a throwing tick stops it", () => {
    const { wasm, stats } = rewriteModule(tinyModule(), {
      stripCustom: true,
      fuel: { importModule: "env", importName: "tick", quantum: 1000 },
    });
    expect(stats.loops).toBe(1);
    let ticks = 0;
    const ex = instantiate(wasm, () => {
      if (++ticks === 50) throw new Error("deadline");
      return 0;
    });
    expect(() => ex.spin()).toThrow("deadline");
    expect(ticks).toBe(50);
  });

  test("fuel refuses a tick import the module does not have", () => {
    const fuel = (importName: string) => ({ importModule: "env", importName, quantum: 10 });
    expect(() => rewriteModule(tinyModule(), { stripCustom: false, fuel: fuel("nope") })).toThrow("not found");
  });

  test("dirty: every store marks the 4 KiB page its effective address starts in, offsets included", () => {
    const { wasm, stats } = rewriteModule(tinyModule(), { stripCustom: true, dirty: true });
    expect(stats.stores).toBe(2);
    const ex = instantiate(wasm, () => 0);
    const map = () => [...new Uint8Array(ex[DIRTY_EXPORT]!.buffer, 0, 16)].flatMap((v, i) => (v ? [i] : []));
    ex.store32(3 * 4096 + 100, 7);
    expect(map()).toEqual([3]);
    ex.store32(5 * 4096 - 16, 1); // offset=16 lands exactly on page 5
    expect(map()).toEqual([3, 5]);
    ex.store64(2 * 4096 - 4, 0x0102030405060708n); // straddles pages 1 and 2: marks page 1 (restore adds 8 bytes)
    expect(map()).toEqual([1, 3, 5]);
    expect(new DataView(ex.memory.buffer).getBigUint64(2 * 4096 - 4, true)).toBe(0x0102030405060708n);
    expect(new DataView(ex.memory.buffer).getUint32(5 * 4096, true)).toBe(1);
    expect(1 << PAGE_SHIFT).toBe(4096);
  });

  test("opcodes it cannot decode are an error, not a silent mis-rewrite", () => {
    const simd = tinyModule([0xfd, 0x0c, ...new Array(16).fill(0), 0x1a]); // v128.const; drop
    expect(() => rewriteModule(simd, { stripCustom: true, fuel: { importModule: "env", importName: "tick", quantum: 1 } }))
      .toThrow("unsupported opcode 0xfd");
  });

  test("python.wasm: verified, every loop and store instrumented, and it compiles", () => {
    const compiled = compilePython(256, true);
    expect(compiled.stats.loops).toBeGreaterThan(6000);
    expect(compiled.stats.stores).toBeGreaterThan(200_000);
    expect(compiled.maxPages).toBe(4096);
    expect(WebAssembly.Module.exports(compiled.module).map((e) => e.name)).toContain(DIRTY_EXPORT);
  });

  test("a python.wasm that is not the pinned build is refused with a clear error", () => {
    const path = join(mkdtempSync(join(tmpdir(), "azr-wasm-")), "python.wasm");
    writeFileSync(path, readPythonWasm().subarray(0, 1000));
    expect(() => readPythonWasm(path)).toThrow(/has sha256 [0-9a-f]{64}, expected/);
    expect(() => readPythonWasm(path + ".missing")).toThrow("cannot read");
  });
});
