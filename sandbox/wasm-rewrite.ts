// A small dependency-free WebAssembly binary rewriter: pure functions over bytes, run once per process for each
// (memory cap, dirty tracking) that module.ts compiles (about 100 ms for python.wasm). It strips custom sections,
// caps the linear memory, exports the shadow-stack pointer, and adds two kinds of instrumentation:
//   fuel:  after every `loop` header, `fuel--; if (fuel == 0) { fuel = QUANTUM; call tick; drop }`, where `tick` is an
//          existing () -> i32 import (so no function index shifts) — the host's deadline check runs inside any loop,
//          including C-level ones (`sum(range(10**15))`, regex backtracking) that never return to Python;
//   dirty: before every store, memory.fill, memory.copy and memory.init, mark the written 4 KiB pages in a byte map
//          held in a SECOND linear memory (multi-memory) that only this instrumentation addresses: the module's own
//          loads and stores all name memory 0, and guest code can only run the module's existing instructions, so
//          no guest-reachable byte decides which pages the host restores. The host reads, clears and (for its own
//          writes into memory 0) sets marks through the exported map memory.
// Only the MVP + mutable-globals + sign-ext + saturating-trunc + bulk-memory opcodes are decoded; anything else
// (SIMD, threads/atomics, a module that already uses several memories) is a clear error instead of a silently wrong
// rewrite — so no store-like opcode can slip past the marks.

/** What to do to the module. `fuelImport` names the () -> i32 import that becomes the fuel tick. */
export interface RewriteOptions {
  stripCustom: boolean;
  /** Maximum linear memory in 64 KiB pages; sets the memory section's max. */
  maxPages?: number;
  fuel?: { importModule: string; importName: string; quantum: number };
  /** Mark written pages in a byte map: a second memory exported as `dirtyMap` (one byte per 4 KiB page of memory 0). */
  dirty?: boolean;
  /** Export the shadow-stack pointer (wasi-sdk's `__stack_pointer`: the module's first global, a mutable i32) as
   * `stackPointer`, so the host can tell the driver's own request-boundary read from a program's copy of it. */
  exportStackPointer?: boolean;
}

export interface RewriteStats {
  loops: number;
  stores: number;
  /** memory.fill / memory.copy / memory.init instructions marked (python.wasm has none). */
  bulk: number;
  functions: number;
  strippedBytes: number;
}

export const PAGE_SHIFT = 12; // dirty-tracking page: 4 KiB
export const DIRTY_EXPORT = "dirtyMap";
export const STACK_POINTER_EXPORT = "stackPointer";
/** The map memory: one byte per page of the whole 4 GiB wasm32 address space (2^20 bytes = 16 wasm pages), so a
 * mark never falls outside it whatever address a store computes. */
export const MAP_BYTES = 2 ** (32 - PAGE_SHIFT);
const MAP_WASM_PAGES = MAP_BYTES / 65536;

// ---- LEB128 -------------------------------------------------------------------------------------------------

export function readU32(b: Uint8Array, pos: number): [value: number, next: number] {
  let result = 0;
  let shift = 0;
  for (;;) {
    const byte = b[pos++];
    if (byte === undefined) throw new Error("wasm: truncated LEB128");
    result += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return [result, pos];
    shift += 7;
    if (shift > 35) throw new Error("wasm: LEB128 too long");
  }
}

function skipLeb(b: Uint8Array, pos: number): number {
  while (b[pos++]! & 0x80) if (pos > b.length) throw new Error("wasm: truncated LEB128");
  return pos;
}

export function encodeU32(v: number): number[] {
  const out: number[] = [];
  do {
    let byte = v & 0x7f;
    v = Math.floor(v / 128);
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

export function encodeS32(v: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

// ---- sections -----------------------------------------------------------------------------------------------

export interface Section {
  id: number;
  body: Uint8Array;
}

const MAGIC = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

export function parseSections(wasm: Uint8Array): Section[] {
  for (let i = 0; i < 8; i++) if (wasm[i] !== MAGIC[i]) throw new Error("wasm: not a version-1 WebAssembly binary");
  const sections: Section[] = [];
  let pos = 8;
  while (pos < wasm.length) {
    const id = wasm[pos++]!;
    const [size, start] = readU32(wasm, pos);
    if (start + size > wasm.length) throw new Error(`wasm: section ${id} overruns the file`);
    sections.push({ id, body: wasm.subarray(start, start + size) });
    pos = start + size;
  }
  return sections;
}

function assemble(sections: Section[]): Uint8Array {
  const parts: Uint8Array[] = [Uint8Array.from(MAGIC)];
  for (const s of sections) parts.push(Uint8Array.from([s.id, ...encodeU32(s.body.length)]), s.body);
  return concat(parts);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

function readName(b: Uint8Array, pos: number): [string, number] {
  const [len, start] = readU32(b, pos);
  return [new TextDecoder().decode(b.subarray(start, start + len)), start + len];
}

export interface ImportEntry {
  module: string;
  name: string;
  kind: number; // 0 func, 1 table, 2 memory, 3 global
  typeIndex?: number;
}

export function parseImports(body: Uint8Array): ImportEntry[] {
  const [count, p0] = readU32(body, 0);
  const out: ImportEntry[] = [];
  let pos = p0;
  for (let i = 0; i < count; i++) {
    const [module, p1] = readName(body, pos);
    const [name, p2] = readName(body, p1);
    const kind = body[p2]!;
    pos = p2 + 1;
    if (kind === 0) {
      const [typeIndex, p3] = readU32(body, pos);
      out.push({ module, name, kind, typeIndex });
      pos = p3;
    } else if (kind === 1) {
      pos = skipLimits(body, pos + 1);
      out.push({ module, name, kind });
    } else if (kind === 2) {
      pos = skipLimits(body, pos);
      out.push({ module, name, kind });
    } else if (kind === 3) {
      pos += 2;
      out.push({ module, name, kind });
    } else throw new Error(`wasm: unknown import kind ${kind}`);
  }
  return out;
}

function skipLimits(b: Uint8Array, pos: number): number {
  const flag = b[pos]!;
  pos = skipLeb(b, pos + 1);
  return flag & 1 ? skipLeb(b, pos) : pos;
}

/** Function types as [params, results] valtype byte lists. */
function parseTypes(body: Uint8Array): Array<[number[], number[]]> {
  const [count, p0] = readU32(body, 0);
  const out: Array<[number[], number[]]> = [];
  let pos = p0;
  for (let i = 0; i < count; i++) {
    if (body[pos] !== 0x60) throw new Error("wasm: unsupported type form");
    const [np, p1] = readU32(body, pos + 1);
    const params = Array.from(body.subarray(p1, p1 + np));
    const [nr, p2] = readU32(body, p1 + np);
    const results = Array.from(body.subarray(p2, p2 + nr));
    out.push([params, results]);
    pos = p2 + nr;
  }
  return out;
}

/** The memory section with its (single) memory's maximum set to `maxPages`. */
function capMemory(body: Uint8Array, maxPages: number): Uint8Array {
  const [count, p0] = readU32(body, 0);
  if (count !== 1) throw new Error(`wasm: expected one memory, found ${count}`);
  const flag = body[p0]!;
  if (flag > 1) throw new Error(`wasm: unsupported memory flags ${flag} (shared or 64-bit)`);
  const [min] = readU32(body, p0 + 1);
  if (min > maxPages) throw new Error(`wasm: memory cap ${maxPages} pages is below the module's minimum ${min}`);
  return Uint8Array.from([1, 0x01, ...encodeU32(min), ...encodeU32(maxPages)]);
}

/** The memory section with one more memory of `pages` pages (min = max: it never grows). */
function appendMemory(body: Uint8Array, pages: number): Uint8Array {
  const [count, p0] = readU32(body, 0);
  return concat([
    Uint8Array.from(encodeU32(count + 1)),
    body.subarray(p0),
    Uint8Array.from([0x01, ...encodeU32(pages), ...encodeU32(pages)]),
  ]);
}

function countGlobals(body: Uint8Array | undefined): number {
  return body ? readU32(body, 0)[0] : 0;
}

/** The global section with one more `mut i32` global initialised to `init`. */
function appendGlobal(body: Uint8Array | undefined, init: number): Uint8Array {
  const count = countGlobals(body);
  const rest = body ? body.subarray(readU32(body, 0)[1]) : new Uint8Array(0);
  return concat([
    Uint8Array.from(encodeU32(count + 1)),
    rest,
    Uint8Array.from([0x7f, 0x01, 0x41, ...encodeS32(init), 0x0b]),
  ]);
}

function appendExport(body: Uint8Array, name: string, kind: number, index: number): Uint8Array {
  const [count, p0] = readU32(body, 0);
  const nameBytes = new TextEncoder().encode(name);
  return concat([
    Uint8Array.from(encodeU32(count + 1)),
    body.subarray(p0),
    Uint8Array.from([...encodeU32(nameBytes.length), ...nameBytes, kind, ...encodeU32(index)]),
  ]);
}

// ---- instruction walking ------------------------------------------------------------------------------------

const enum Op {
  Block = 0x02,
  Loop = 0x03,
  If = 0x04,
  BrTable = 0x0e,
  CallIndirect = 0x11,
  SelectT = 0x1c,
  I32Const = 0x41,
  I64Const = 0x42,
  F32Const = 0x43,
  F64Const = 0x44,
  Prefix = 0xfc,
}

/** The value type each store op 0x36..0x3e consumes (its stack is [addr, value]). */
const STORE_VALTYPE: Record<number, number> = {
  0x36: 0x7f, 0x37: 0x7e, 0x38: 0x7d, 0x39: 0x7c, 0x3a: 0x7f, 0x3b: 0x7f, 0x3c: 0x7e, 0x3d: 0x7e, 0x3e: 0x7e,
};

function skipBlockType(b: Uint8Array, pos: number): number {
  const t = b[pos]!;
  if (t === 0x40 || t === 0x7f || t === 0x7e || t === 0x7d || t === 0x7c || t === 0x7b || t === 0x70 || t === 0x6f) {
    return pos + 1;
  }
  return skipLeb(b, pos); // s33 type index
}

/** Position after the instruction starting at `pos` (opcode included). */
function skipInstruction(b: Uint8Array, pos: number): number {
  const op = b[pos++]!;
  if (op === Op.Block || op === Op.Loop || op === Op.If) return skipBlockType(b, pos);
  if (op === 0x0c || op === 0x0d || op === 0x10 || (op >= 0x20 && op <= 0x26) || op === 0xd2) return skipLeb(b, pos);
  if (op === Op.BrTable) {
    const [n, p] = readU32(b, pos);
    pos = p;
    for (let i = 0; i <= n; i++) pos = skipLeb(b, pos);
    return pos;
  }
  if (op === Op.CallIndirect) return skipLeb(b, skipLeb(b, pos));
  if (op === Op.SelectT) {
    const [n, p] = readU32(b, pos);
    return p + n;
  }
  if (op >= 0x28 && op <= 0x3e) {
    // memarg; alignment bit 6 would announce a memory index (multi-memory): a module that already addresses other
    // memories could reach the map, so it is refused
    if (b[pos]! & 0x40) throw new Error(`wasm: memory index in a memarg at ${pos - 1} (multi-memory input)`);
    return skipLeb(b, skipLeb(b, pos));
  }
  if (op === 0x3f || op === 0x40) return memoryZero(b, pos, 1); // memory.size / memory.grow
  if (op === Op.I32Const || op === Op.I64Const) return skipLeb(b, pos);
  if (op === Op.F32Const) return pos + 4;
  if (op === Op.F64Const) return pos + 8;
  if (op === 0xd0) return pos + 1;
  if (op === Op.Prefix) {
    const [sub, p] = readU32(b, pos);
    if (sub <= 7) return p;
    if (sub === 8) return memoryZero(b, skipLeb(b, p), 1); // memory.init data memory
    if (sub === 9 || sub === 13 || (sub >= 15 && sub <= 17)) return skipLeb(b, p);
    if (sub === 10) return memoryZero(b, p, 2); // memory.copy dst src
    if (sub === 12 || sub === 14) return skipLeb(b, skipLeb(b, p));
    if (sub === 11) return memoryZero(b, p, 1); // memory.fill mem
    throw new Error(`wasm: unsupported 0xfc opcode ${sub}`);
  }
  const noImmediate =
    op === 0x00 || op === 0x01 || op === 0x05 || op === 0x0b || op === 0x0f || op === 0x1a || op === 0x1b ||
    (op >= 0x45 && op <= 0xc4) || op === 0xd1;
  if (noImmediate) return pos;
  throw new Error(`wasm: unsupported opcode 0x${op.toString(16)} at ${pos - 1}`);
}

/** Position after `n` memory-index immediates, each of which must name memory 0 (see the memarg check). */
function memoryZero(b: Uint8Array, pos: number, n: number): number {
  for (let i = 0; i < n; i++) {
    if (b[pos] !== 0x00) throw new Error(`wasm: memory instruction on memory ${b[pos]} at ${pos} (multi-memory input)`);
    pos++;
  }
  return pos;
}

interface BodyContext {
  fuelGlobal: number; // -1: no fuel
  tickFunc: number;
  quantum: number;
  mapMemory: number; // -1: no dirty tracking
}

// Scratch locals appended to every body when dirty tracking is on: the store address, one per value type, and the
// middle operand of a bulk-memory op.
const SCRATCH_TYPES = [0x7f, 0x7f, 0x7e, 0x7d, 0x7c, 0x7f] as const; // addr, i32, i64, f32, f64, bulk middle
const SCRATCH_FOR_VALTYPE: Record<number, number> = { 0x7f: 1, 0x7e: 2, 0x7d: 3, 0x7c: 4 };
const SCRATCH_BULK_MIDDLE = 5;
const BULK_MEMORY_OPS = new Set([8, 10, 11]); // 0xfc memory.init, memory.copy, memory.fill: stack [dst, x, len]

function fuelCode(ctx: BodyContext): number[] {
  const g = encodeU32(ctx.fuelGlobal);
  return [
    0x23, ...g, 0x41, 0x01, 0x6b, 0x24, ...g, // fuel = fuel - 1
    0x23, ...g, 0x45, 0x04, 0x40, // if (fuel == 0)
    0x41, ...encodeS32(ctx.quantum), 0x24, ...g, //   fuel = quantum
    0x10, ...encodeU32(ctx.tickFunc), 0x1a, //   drop(tick())
    0x0b,
  ];
}

/** i32.store8 / memory.fill immediates addressing the map memory. */
const mapStore8 = (ctx: BodyContext) => [0x3a, 0x40, ...encodeU32(ctx.mapMemory), 0x00]; // align 0 | memidx flag, offset 0
const mapFill = (ctx: BodyContext) => [Op.Prefix, 0x0b, ...encodeU32(ctx.mapMemory)];

/** Stack [addr, value] -> same stack, with map[(addr + offset) >> 12] = 1 done on the way. The sum wraps in i32 as
 * the store's own 33-bit effective address does not, but such a store traps anyway, whatever was marked. */
function markCode(ctx: BodyContext, scratch: number, valtype: number, offset: number): number[] {
  const addr = encodeU32(scratch);
  const value = encodeU32(scratch + SCRATCH_FOR_VALTYPE[valtype]!);
  return [
    0x21, ...value, // local.set value
    0x22, ...addr, // local.tee addr (stays on the stack for the original store)
    0x20, ...addr, ...(offset ? [0x41, ...encodeS32(offset | 0), 0x6a] : []), 0x41, PAGE_SHIFT, 0x76, // ea >> 12
    0x41, 0x01, ...mapStore8(ctx), // map[ea >> 12] = 1
    0x20, ...value, // local.get value
  ];
}

/** Stack [dst, x, len] -> same stack, with map[dst >> 12 .. (dst + len - 1) >> 12] = 1 (one memory.fill of the map;
 * the end is computed in i64 so it cannot wrap; len 0 may mark one page, which only costs a page copy). */
function markRangeCode(ctx: BodyContext, scratch: number): number[] {
  const addr = encodeU32(scratch);
  const len = encodeU32(scratch + 1);
  const middle = encodeU32(scratch + SCRATCH_BULK_MIDDLE);
  const firstPage = [0x20, ...addr, 0x41, PAGE_SHIFT, 0x76];
  return [
    0x21, ...len, 0x21, ...middle, 0x22, ...addr, // stash len and x; dst stays on the stack
    ...firstPage, // fill destination: dst >> 12
    0x41, 0x01, // fill value
    0x20, ...addr, 0xad, 0x20, ...len, 0xad, 0x7c, 0x42, ...encodeS32((1 << PAGE_SHIFT) - 1), 0x7c, // u64 dst + len + 4095
    0x42, PAGE_SHIFT, 0x88, 0xa7, ...firstPage, 0x6b, // (... >> 12) - (dst >> 12) = pages touched
    ...mapFill(ctx),
    0x20, ...middle, 0x20, ...len,
  ];
}

/** One function body (locals + expression) with fuel ticks after loop headers and page marks before stores. */
function rewriteBody(body: Uint8Array, nParams: number, ctx: BodyContext, stats: RewriteStats): Uint8Array {
  const [groups, p0] = readU32(body, 0);
  let pos = p0;
  let nLocals = nParams;
  for (let i = 0; i < groups; i++) {
    const [n, p] = readU32(body, pos);
    nLocals += n;
    pos = p + 1;
  }
  const localsEnd = pos;
  const dirty = ctx.mapMemory >= 0;
  const scratch = nLocals;
  const chunks: Uint8Array[] = [];
  let copyFrom = localsEnd;
  while (pos < body.length) {
    const op = body[pos]!;
    const next = skipInstruction(body, pos);
    if (op === Op.Loop && ctx.fuelGlobal >= 0) {
      chunks.push(body.subarray(copyFrom, next), Uint8Array.from(fuelCode(ctx)));
      copyFrom = next;
      stats.loops++;
    } else if (dirty && op >= 0x36 && op <= 0x3e) {
      const [, p1] = readU32(body, pos + 1); // align
      const [offset] = readU32(body, p1);
      chunks.push(body.subarray(copyFrom, pos), Uint8Array.from(markCode(ctx, scratch, STORE_VALTYPE[op]!, offset)));
      copyFrom = pos;
      stats.stores++;
    } else if (dirty && op === Op.Prefix && BULK_MEMORY_OPS.has(readU32(body, pos + 1)[0])) {
      chunks.push(body.subarray(copyFrom, pos), Uint8Array.from(markRangeCode(ctx, scratch)));
      copyFrom = pos;
      stats.bulk++;
    }
    pos = next;
  }
  chunks.push(body.subarray(copyFrom));
  const extraLocals = dirty ? SCRATCH_TYPES.map((t) => [1, t]).flat() : [];
  const head = dirty
    ? Uint8Array.from([...encodeU32(groups + SCRATCH_TYPES.length), ...body.subarray(p0, localsEnd), ...extraLocals])
    : body.subarray(0, localsEnd);
  return concat([head, ...chunks]);
}

/** Rewrites a whole module; returns the new bytes and what was instrumented. */
export function rewriteModule(wasm: Uint8Array, opts: RewriteOptions): { wasm: Uint8Array; stats: RewriteStats } {
  const stats: RewriteStats = { loops: 0, stores: 0, bulk: 0, functions: 0, strippedBytes: 0 };
  let sections = parseSections(wasm);
  if (opts.stripCustom) {
    for (const s of sections) if (s.id === 0) stats.strippedBytes += s.body.length;
    sections = sections.filter((s) => s.id !== 0);
  }
  const find = (id: number) => sections.find((s) => s.id === id);
  const replace = (id: number, body: Uint8Array) => {
    const s = find(id);
    if (s) s.body = body;
    else throw new Error(`wasm: no section ${id}`);
  };
  if (opts.maxPages !== undefined) replace(5, capMemory(find(5)!.body, opts.maxPages));
  if (opts.exportStackPointer) replace(7, exportStackPointer(sections));
  if (!opts.fuel && !opts.dirty) return { wasm: assemble(sections), stats };

  const imports = parseImports(find(2)?.body ?? new Uint8Array([0]));
  const funcImports = imports.filter((i) => i.kind === 0);
  const importedGlobals = imports.filter((i) => i.kind === 3).length;
  const types = parseTypes(find(1)!.body);
  const fuelGlobal = importedGlobals + countGlobals(find(6)?.body);
  const ctx: BodyContext = { fuelGlobal: -1, tickFunc: -1, quantum: 0, mapMemory: -1 };
  if (opts.fuel) {
    const { importModule, importName, quantum } = opts.fuel;
    const tick = funcImports.findIndex((i) => i.module === importModule && i.name === importName);
    if (tick < 0) throw new Error(`wasm: fuel tick import ${importModule}.${importName} not found`);
    const [params, results] = types[funcImports[tick]!.typeIndex!]!;
    if (params.length !== 0 || results.length !== 1 || results[0] !== 0x7f) {
      throw new Error(`wasm: fuel tick ${importName} must have type () -> i32`);
    }
    Object.assign(ctx, { fuelGlobal, tickFunc: tick, quantum });
    ensureSection(sections, 6).body = appendGlobal(find(6)?.body, quantum);
  }
  if (opts.dirty) {
    if (imports.some((i) => i.kind === 2)) throw new Error("wasm: dirty tracking needs a module that defines its memory");
    const memories = find(5)!.body;
    if (readU32(memories, 0)[0] !== 1) throw new Error("wasm: dirty tracking needs exactly one memory");
    ctx.mapMemory = 1;
    replace(5, appendMemory(memories, MAP_WASM_PAGES));
    replace(7, appendExport(find(7)!.body, DIRTY_EXPORT, 2, ctx.mapMemory));
  }
  // function section: type index per defined function
  const funcTypes: number[] = [];
  {
    const body = find(3)!.body;
    const [n, p0] = readU32(body, 0);
    let p = p0;
    for (let i = 0; i < n; i++) {
      const [t, q] = readU32(body, p);
      funcTypes.push(t);
      p = q;
    }
  }
  const code = find(10)!.body;
  const [n, p0] = readU32(code, 0);
  if (n !== funcTypes.length) throw new Error("wasm: function and code sections disagree");
  const parts: Uint8Array[] = [Uint8Array.from(encodeU32(n))];
  let p = p0;
  for (let i = 0; i < n; i++) {
    const [size, start] = readU32(code, p);
    const body = rewriteBody(code.subarray(start, start + size), types[funcTypes[i]!]![0].length, ctx, stats);
    parts.push(Uint8Array.from(encodeU32(body.length)), body);
    p = start + size;
  }
  stats.functions = n;
  replace(10, concat(parts));
  return { wasm: assemble(sections), stats };
}

/** The export section plus global 0 as STACK_POINTER_EXPORT, after checking that global 0 looks like wasi-sdk's
 * `__stack_pointer` (defined, not imported; a mutable i32). */
function exportStackPointer(sections: Section[]): Uint8Array {
  const imports = sections.find((s) => s.id === 2);
  if (imports && parseImports(imports.body).some((i) => i.kind === 3)) throw new Error("wasm: global 0 is imported");
  const globals = sections.find((s) => s.id === 6)?.body;
  if (!globals || readU32(globals, 0)[0] === 0) throw new Error("wasm: no global to export as the stack pointer");
  const at = readU32(globals, 0)[1];
  if (globals[at] !== 0x7f || globals[at + 1] !== 0x01) throw new Error("wasm: global 0 is not a mutable i32");
  return appendExport(sections.find((s) => s.id === 7)!.body, STACK_POINTER_EXPORT, 3, 0);
}

/** The section with `id`, inserted in canonical order when missing. */
function ensureSection(sections: Section[], id: number): Section {
  let s = sections.find((x) => x.id === id);
  if (!s) {
    s = { id, body: Uint8Array.from([0]) };
    const at = sections.findIndex((x) => x.id > id && x.id !== 0);
    sections.splice(at < 0 ? sections.length : at, 0, s);
  }
  return s;
}
