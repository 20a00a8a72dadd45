// The WASI host, deny by default: it provides every import python.wasm declares, and each one grants only what the
// header comment of sandbox/wasi.ts lists (no files, no sockets, no preopens; a deterministic clock and random
// stream; only our args and environment). Driven directly against a plain WebAssembly.Memory.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { readPythonWasm } from "../sandbox/module.ts";
import { parseImports, parseSections } from "../sandbox/wasm-rewrite.ts";
import { ProcExit, VIRTUAL_EPOCH_NS, WASI_ERRNO, WasiHost } from "../sandbox/wasi.ts";
import { SLOW_TEST_MS } from "./support/timeouts.ts";

setDefaultTimeout(SLOW_TEST_MS);

type Fn = (...args: Array<number | bigint>) => number;

function makeHost(over: Partial<ConstructorParameters<typeof WasiHost>[0]> = {}) {
  const memory = new WebAssembly.Memory({ initial: 1 });
  const writes: Array<[number, string]> = [];
  const marks: Array<[number, number]> = [];
  const host = new WasiHost({
    args: ["python", "-c", "x"],
    env: { PYTHONHASHSEED: "0" },
    randomSeed: 7,
    read: () => 0,
    write: (fd, b) => writes.push([fd, new TextDecoder().decode(b)]),
    tick: () => {},
    mark: (p, n) => marks.push([p, n]),
    ...over,
  });
  host.bind(memory);
  const wasi = host.imports().wasi_snapshot_preview1 as unknown as Record<string, Fn>;
  const dv = () => new DataView(memory.buffer);
  return { host, wasi, memory, dv, writes, marks };
}

describe("WASI host", () => {
  test("provides exactly the imports python.wasm declares", () => {
    const declared = parseImports(parseSections(readPythonWasm()).find((s) => s.id === 2)!.body)
      .map((i) => `${i.module}.${i.name}`)
      .sort();
    const { wasi } = makeHost();
    const provided = Object.keys(wasi).map((n) => `wasi_snapshot_preview1.${n}`).sort();
    expect(provided).toEqual(declared);
  });

  test("no files, directories, preopens or sockets", () => {
    const { wasi } = makeHost();
    expect(wasi.fd_prestat_get!(3, 100)).toBe(WASI_ERRNO.BADF);
    for (const f of ["path_open", "path_filestat_get", "path_create_directory", "path_unlink_file", "path_rename",
      "path_readlink", "path_symlink", "path_link", "path_remove_directory"]) {
      expect(wasi[f]!(3, 0, 0, 0, 0, 0n, 0n, 0, 0)).toBe(WASI_ERRNO.NOTCAPABLE);
    }
    for (const f of ["sock_accept", "sock_recv", "sock_send", "sock_shutdown"]) expect(wasi[f]!(0, 0, 0, 0)).toBe(WASI_ERRNO.NOTSUP);
    expect(wasi.fd_write!(3, 0, 0, 100)).toBe(WASI_ERRNO.BADF);
    expect(wasi.fd_read!(1, 0, 0, 100)).toBe(WASI_ERRNO.BADF);
    expect(wasi.fd_seek!(1, 0n, 0, 100)).toBe(WASI_ERRNO.SPIPE);
    expect(wasi.fd_fdstat_get!(4, 100)).toBe(WASI_ERRNO.BADF);
  });

  test("stdio is a character device with seek/tell rights (so isatty() is false)", () => {
    const { wasi, dv } = makeHost();
    expect(wasi.fd_fdstat_get!(1, 64)).toBe(0);
    expect(dv().getUint8(64)).toBe(2);
    expect(dv().getBigUint64(72, true) & ((1n << 2n) | (1n << 5n))).toBe((1n << 2n) | (1n << 5n));
  });

  test("stdout/stderr go to the embedder's callback; every host write to guest memory is marked", () => {
    const { wasi, memory, dv, writes, marks } = makeHost();
    new Uint8Array(memory.buffer).set(new TextEncoder().encode("hi"), 200);
    dv().setUint32(100, 200, true);
    dv().setUint32(104, 2, true);
    expect(wasi.fd_write!(2, 100, 1, 300)).toBe(0);
    expect(writes).toEqual([[2, "hi"]]);
    expect(dv().getUint32(300, true)).toBe(2);
    expect(marks).toContainEqual([300, 4]);
  });

  test("only our argv and environment", () => {
    const { wasi, dv, memory } = makeHost();
    wasi.environ_sizes_get!(0, 4);
    expect(dv().getUint32(0, true)).toBe(1);
    wasi.environ_get!(16, 64);
    expect(new TextDecoder().decode(new Uint8Array(memory.buffer, 64, dv().getUint32(4, true)))).toBe("PYTHONHASHSEED=0\0");
    wasi.args_sizes_get!(0, 4);
    expect(dv().getUint32(0, true)).toBe(3);
  });

  test("the clock is virtual: it starts at the epoch, ticks 1 us per read, sleeping is free, reset restarts it", () => {
    const { host, wasi, dv } = makeHost();
    wasi.clock_time_get!(0, 0n, 8);
    wasi.clock_time_get!(0, 0n, 16);
    expect(dv().getBigUint64(8, true)).toBe(VIRTUAL_EPOCH_NS + 1000n);
    expect(dv().getBigUint64(16, true) - dv().getBigUint64(8, true)).toBe(1000n);
    // poll_oneoff with one relative clock subscription of 5 s
    dv().setUint8(100 + 8, 0);
    dv().setBigUint64(100 + 24, 5_000_000_000n, true);
    expect(wasi.poll_oneoff!(100, 200, 1, 300)).toBe(0);
    expect(dv().getUint32(300, true)).toBe(1);
    wasi.clock_time_get!(0, 0n, 8);
    expect(dv().getBigUint64(8, true)).toBe(VIRTUAL_EPOCH_NS + 5_000_000_000n + 3000n);
    host.reset();
    wasi.clock_time_get!(0, 0n, 8);
    expect(dv().getBigUint64(8, true)).toBe(VIRTUAL_EPOCH_NS + 1000n);
  });

  test("random_get is a seeded stream, restarted by reset, different for another seed", () => {
    const draw = (h: ReturnType<typeof makeHost>) => {
      h.wasi.random_get!(0, 16);
      return [...new Uint8Array(h.memory.buffer, 0, 16)];
    };
    const a = makeHost();
    const first = draw(a);
    expect(draw(a)).not.toEqual(first);
    a.host.reset();
    expect(draw(a)).toEqual(first);
    expect(draw(makeHost())).toEqual(first);
    expect(draw(makeHost({ randomSeed: 8 }))).not.toEqual(first);
  });

  test("proc_exit throws ProcExit; sched_yield is the fuel tick", () => {
    let ticks = 0;
    const { wasi } = makeHost({ tick: () => void ticks++ });
    expect(() => wasi.proc_exit!(3)).toThrow(ProcExit);
    expect(wasi.sched_yield!()).toBe(0);
    expect(ticks).toBe(1);
  });
});
