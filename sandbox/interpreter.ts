// One warm python.wasm instance running driver.py, inside a worker thread. An instance costs 5-10 ms to instantiate
// plus 100-300 ms of driver boot (imports, warm-up) and about 45 MiB of linear memory (32 MiB of it pre-grown heap);
// it lives until a deadline, a trap, proc_exit or memory growth ends it, and the worker then boots a fresh one from
// the same compiled Module. Requests are synchronous: the guest blocks in fd_read(0), where the host
//   1. posts the previous request's reply,
//   2. restores pristine memory (only the 4 KiB pages the guest or the host wrote, found in the dirty map that the
//      instrumented stores maintain in a memory of its own that no guest instruction addresses; or all of memory
//      when dirty tracking is off),
//   3. waits for the next request and copies it in.
import { Capture, type Captured } from "./capture.ts";
import { STATUSES, type Status } from "./protocol.ts";
import { DIRTY_EXPORT, MAP_BYTES, PAGE_SHIFT, STACK_POINTER_EXPORT } from "./wasm-rewrite.ts";
import { ProcExit, WasiHost } from "./wasi.ts";
import type { Incoming } from "./channel.ts";

/** What the driver replies, and what the worker posts back for a request: status, output text, the op's flag
 * (call: the two calls agreed), error text, and the plain-value encoding of the op's answer (sandbox/value); for a
 * `script` request also what the program printed, as the host captured it. */
export interface Reply {
  s: Status;
  o?: string;
  c?: boolean;
  e?: string;
  v?: Uint8Array;
  out?: Captured;
}

export interface InterpreterConfig {
  driverSource: string;
  driverConfig: Record<string, unknown>;
  pristine: boolean;
  dirtyTracking: boolean;
  hashSeed: number;
  randomSeed: number;
  outputBytes: number;
  /** Non-pristine mode: reboot when linear memory exceeds this (memory never shrinks). */
  recycleBytes: number;
  bootTimeoutMs: number;
  /** Tests: after every restore compare all of memory with the snapshot (a ~48 MiB memcmp per request). */
  verifyRestore: boolean;
}

export interface InterpreterIO {
  /** Blocks until the next request. */
  next(lastSeq: number): Incoming;
  /** The reply to request `seq`; `restart` says why the instance that answered is replaced next (null: it serves
   * on). The two travel together so that whoever sees the answer also sees its restart counted. */
  done(seq: number, reply: Reply, restart: string | null): void;
  /** The first boundary of a fresh instance: ready to serve. */
  ready(bootMs: number): void;
  /** An instance ended between requests (it is replaced next); `reason` is the host error that ended it. */
  ended(reason: string): void;
}

/** How an instance ended: the answer for the request in flight, if one was, and the restart reason. */
interface End {
  reply: Reply;
  reason: string;
}

/** Why an instance ended. */
class Deadline extends Error {}
/** The instance grew: it answered `reply` and is replaced. */
class Recycle extends Error {
  constructor(readonly reply: Reply) {
    super("recycled");
  }
}

/** The restart reason of an instance that ended with `reply`: the result kind, or what crashed it. */
function endWith(reply: Reply): End {
  return { reply, reason: reply.s === "crash" ? (reply.e ?? "crash") : reply.s };
}

const PAGE = 1 << PAGE_SHIFT;
/** Bytes of boot-time stderr kept for the boot-failure message. */
const STDERR_TAIL = 8192;

export class Interpreter {
  private lastSeq = 0;

  constructor(
    private readonly module: WebAssembly.Module,
    private readonly cfg: InterpreterConfig,
    private readonly io: InterpreterIO,
  ) {}

  /** Serves forever, replacing the instance whenever it dies. Throws only if an instance cannot boot. */
  serveForever(): never {
    for (;;) {
      const state = new InstanceRun(this.module, this.cfg, this.io, this.lastSeq);
      const end = state.run();
      this.lastSeq = state.lastSeq;
      if (state.inFlight !== null) this.io.done(state.inFlight, end.reply, end.reason);
      else if (state.servedBoundary) this.io.ended(end.reason);
      else throw new Error(`python.wasm failed to boot: ${end.reply.e ?? end.reply.s}\n${state.stderrTail()}`);
    }
  }
}

/** One instance's life: instantiate, run the driver until it dies, say why. */
class InstanceRun {
  inFlight: number | null = null;
  servedBoundary = false;
  private readonly host: WasiHost;
  private memory!: WebAssembly.Memory;
  private instance!: WebAssembly.Instance;
  private deadline: number;
  private readonly bootStart = performance.now();
  private phase: "boot" | "serving" = "boot";
  /** The dirty-page map (dirty tracking): the instrumentation's own memory, one byte per 4 KiB page. */
  private map: Uint8Array | null = null;
  private headerPtr = -1;
  /** The shadow-stack pointer at the first boundary: the driver's serving loop always reads from that depth. */
  private boundaryStack = -1;
  private stackPointer!: WebAssembly.Global;
  private pending: Uint8Array | null = null;
  private pendingOff = 0;
  private reply: Uint8Array | null = null;
  private outputCount = 0;
  private outputExceeded = false;
  /** A `script` request in flight: its captured stdout/stderr and reply candidate (capture.ts). */
  private capture: Capture | null = null;
  /** A script request: the virtual time its sleeps may skip, its deadline (sleeping past it is a timeout, as it
   * would be natively; other ops sleep for free). */
  private sleepBudgetNs: bigint | null = null;
  private readonly stderr: Uint8Array[] = [];
  private snapshot: Uint8Array | null = null;
  /** Full-restore mode: every byte range of memory, and whether it is copied back or (all zero) cleared. */
  private restoreRanges: Array<{ from: number; to: number; zero: boolean }> = [];

  constructor(
    private readonly module: WebAssembly.Module,
    private readonly cfg: InterpreterConfig,
    private readonly io: InterpreterIO,
    public lastSeq: number,
  ) {
    this.deadline = this.bootStart + cfg.bootTimeoutMs;
    this.host = new WasiHost({
      args: ["python", "-S", "-s", "-P", "-c", cfg.driverSource, JSON.stringify(cfg.driverConfig)],
      env: { PYTHONHASHSEED: String(cfg.hashSeed) },
      randomSeed: cfg.randomSeed,
      read: (iovs) => this.read(iovs),
      write: (fd, bytes) => this.write(fd, bytes),
      tick: () => {
        if (performance.now() > this.deadline || (this.sleepBudgetNs !== null && this.host.sleptNs > this.sleepBudgetNs)) {
          throw new Deadline();
        }
      },
      mark: cfg.dirtyTracking ? (ptr, len) => this.mark(ptr, len) : undefined,
    });
  }

  run(): End {
    try {
      this.instance = new WebAssembly.Instance(this.module, this.host.imports());
      this.memory = this.instance.exports.memory as WebAssembly.Memory;
      if (this.cfg.dirtyTracking) {
        this.map = new Uint8Array((this.instance.exports[DIRTY_EXPORT] as WebAssembly.Memory).buffer, 0, MAP_BYTES);
      }
      this.stackPointer = this.instance.exports[STACK_POINTER_EXPORT] as WebAssembly.Global;
      this.host.bind(this.memory);
      (this.instance.exports._start as () => void)();
      return endWith(this.withOutput({ s: "crash", e: "the driver exited" }, true));
    } catch (e) {
      if (e instanceof Recycle) return { reply: e.reply, reason: "recycled" };
      // A script's os._exit (proc_exit) is how that program ended: its exit code, not a crash.
      if (e instanceof ProcExit && this.capture) {
        return { reply: this.withOutput({ s: "ok", o: String((e.code >>> 0) & 255) }, true), reason: "exit" };
      }
      return endWith(this.withOutput(this.classify(e), true));
    }
  }

  /** A script request's reply carries its captured output; `unanswered`: the last fd-1 write was not a reply. */
  private withOutput(reply: Reply, unanswered: boolean): Reply {
    return this.capture && this.inFlight !== null ? { ...reply, out: this.capture.captured(unanswered) } : reply;
  }

  stderrTail(): string {
    const all = new TextDecoder().decode(Buffer.concat(this.stderr));
    return all.slice(-2000);
  }

  private classify(e: unknown): Reply {
    if (e instanceof Deadline) {
      if (this.outputExceeded) return { s: "output_limit", e: `output exceeded ${this.cfg.outputBytes} bytes` };
      return { s: "timeout", e: "deadline exceeded" };
    }
    if (e instanceof ProcExit) return { s: "crash", e: `interpreter exited with code ${e.code}` };
    if (e instanceof WebAssembly.RuntimeError) return { s: "crash", e: `trap: ${e.message}` };
    if (e instanceof RangeError) return { s: "crash", e: `stack overflow: ${e.message}` };
    return { s: "crash", e: `host error: ${e instanceof Error ? e.message : String(e)}` };
  }

  /** The host wrote guest memory [ptr, ptr + len): mark its pages, as an instrumented store would. */
  private mark(ptr: number, len: number): void {
    if (len === 0) return;
    this.map!.fill(1, ptr >>> PAGE_SHIFT, ((ptr + len - 1) >>> PAGE_SHIFT) + 1);
  }

  /** fd 1 / fd 2 (`bytes` is a view of guest memory). Counted before anything is copied: past the output cap
   * nothing more is copied, so a program writing 100 MiB at a time costs the host a comparison per call. */
  private write(fd: 1 | 2, bytes: Uint8Array): void {
    if (this.phase !== "serving") {
      if (fd === 2) this.keepStderr(bytes);
      return;
    }
    if (this.capture) return this.capture.write(fd, bytes);
    this.outputCount = Math.min(this.outputCount + bytes.length, this.cfg.outputBytes + 1);
    if (this.outputCount > this.cfg.outputBytes) this.outputExceeded = true;
    else if (fd === 1) this.reply = bytes.slice();
  }

  /** Boot diagnostics (a driver that fails to start): only the last STDERR_TAIL bytes are kept. */
  private keepStderr(bytes: Uint8Array): void {
    this.stderr.push(bytes.slice(-STDERR_TAIL));
    let kept = this.stderr.reduce((n, b) => n + b.length, 0);
    while (kept - this.stderr[0]!.length >= STDERR_TAIL) kept -= this.stderr.shift()!.length;
  }

  private read(iovs: Array<{ ptr: number; len: number }>): number {
    if (this.pending && this.pendingOff < this.pending.length) return this.deliver(iovs);
    const first = iovs[0];
    // A program can call the driver's own `_READ(_HDRV)`. A request's boundary comes only after its reply frame, at
    // the serving loop's C-stack depth; any other read is told end of file instead of ending its request early.
    const replied = this.inFlight === null || (this.capture ? this.capture.replied : this.reply !== null || this.outputExceeded);
    const isBoundary = first !== undefined && first.len === 4 &&
      (this.headerPtr < 0 || (replied && first.ptr === this.headerPtr && this.stackPointer.value === this.boundaryStack));
    if (!isBoundary) return 0; // a program reading stdin sees end of file
    this.boundary(first.ptr);
    return this.deliver(iovs);
  }

  private deliver(iovs: Array<{ ptr: number; len: number }>): number {
    const mem = new Uint8Array(this.memory.buffer);
    let n = 0;
    for (const { ptr, len } of iovs) {
      const chunk = this.pending!.subarray(this.pendingOff, this.pendingOff + len);
      mem.set(chunk, ptr);
      if (this.cfg.dirtyTracking) this.mark(ptr, chunk.length);
      this.pendingOff += chunk.length;
      n += chunk.length;
      if (this.pendingOff >= this.pending!.length) break;
    }
    return n;
  }

  private boundary(headerPtr: number): void {
    if (this.inFlight !== null) {
      const seq = this.inFlight;
      const reply = this.withOutput(this.finish(this.capture ? this.capture.reply() : this.reply), false);
      // Still in flight: the answer goes out with the restart (serveForever).
      if (this.memory.buffer.byteLength > (this.snapshot ? this.snapshot.length : this.cfg.recycleBytes)) {
        throw new Recycle(reply);
      }
      this.inFlight = null;
      this.io.done(seq, reply, null);
    }
    if (this.phase === "boot") {
      this.phase = "serving";
      this.headerPtr = headerPtr;
      this.boundaryStack = this.stackPointer.value as number;
      if (this.cfg.pristine) this.takeSnapshot();
      this.servedBoundary = true;
      this.io.ready(performance.now() - this.bootStart);
    } else if (this.cfg.pristine) {
      this.restore();
    }
    const req = this.io.next(this.lastSeq);
    this.lastSeq = req.seq;
    this.inFlight = req.seq;
    this.host.reset();
    this.reply = null;
    this.outputCount = 0;
    this.outputExceeded = false;
    this.capture = req.script ? new Capture(this.cfg.outputBytes) : null;
    this.sleepBudgetNs = req.script ? BigInt(req.timeoutMs) * 1_000_000n : null;
    const framed = new Uint8Array(4 + req.body.length);
    new DataView(framed.buffer).setUint32(0, req.body.length, true);
    framed.set(req.body, 4);
    this.pending = framed;
    this.pendingOff = 0;
    this.deadline = performance.now() + req.timeoutMs;
  }

  /** The driver's reply `b`: b"AZR1", status index, flag (0, 1, 2 = absent), then output, error and value fields. */
  private finish(b: Uint8Array | null): Reply {
    if (this.outputExceeded) return { s: "output_limit", e: `output exceeded ${this.cfg.outputBytes} bytes` };
    if (!b) return { s: "crash", e: "no reply from the driver" };
    const malformed: Reply = { s: "crash", e: "malformed reply from the driver" };
    const status = STATUSES[b[4]!];
    if (b.length < 6 || b[0] !== 0x41 || b[1] !== 0x5a || b[2] !== 0x52 || b[3] !== 0x31 || !status) return malformed;
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    let pos = 6;
    /** A u32-length field's bytes; undefined when absent (0xffffffff), null when it runs past the end. */
    const field = (): Uint8Array | undefined | null => {
      if (pos + 4 > b.length) return null;
      const len = dv.getUint32(pos, true);
      pos += 4;
      if (len === 0xffffffff) return undefined;
      if (pos + len > b.length) return null;
      pos += len;
      return b.subarray(pos - len, pos);
    };
    const output = field();
    const error = field();
    const value = field();
    if (output === null || error === null || value === null || pos !== b.length || b[5]! > 2) return malformed;
    const text = new TextDecoder();
    const reply: Reply = { s: status };
    if (output !== undefined) reply.o = text.decode(output);
    if (b[5] !== 2) reply.c = b[5] === 1;
    if (error !== undefined) reply.e = text.decode(error);
    if (value !== undefined) reply.v = value.slice();
    return reply;
  }

  private takeSnapshot(): void {
    this.map?.fill(0);
    this.snapshot = new Uint8Array(this.memory.buffer).slice();
    if (this.cfg.dirtyTracking) return;
    // Without a dirty map every byte goes back every time. The longest all-zero run of pages (the freed pre-grown
    // heap, dlmalloc's top chunk) is cleared rather than copied: the same bytes, at memset instead of memcpy cost.
    const snap = this.snapshot;
    const pages = snap.length >>> PAGE_SHIFT;
    const zero = (p: number) => {
      const w = new BigUint64Array(snap.buffer, p * PAGE, PAGE / 8);
      for (let i = 0; i < w.length; i++) if (w[i] !== 0n) return false;
      return true;
    };
    let best: [number, number] = [pages, pages];
    for (let p = 0; p < pages; ) {
      if (!zero(p)) {
        p++;
        continue;
      }
      let q = p;
      while (q < pages && zero(q)) q++;
      if (q - p > best[1] - best[0]) best = [p, q];
      p = q;
    }
    this.restoreRanges = [
      { from: 0, to: best[0] * PAGE, zero: false },
      { from: best[0] * PAGE, to: best[1] * PAGE, zero: true },
      { from: best[1] * PAGE, to: snap.length, zero: false },
    ];
  }

  private restore(): void {
    const snap = this.snapshot!;
    const mem = new Uint8Array(this.memory.buffer);
    if (!this.map) {
      for (const { from, to, zero } of this.restoreRanges) {
        if (zero) mem.fill(0, from, to);
        else mem.set(snap.subarray(from, to), from);
      }
    } else {
      const pages = snap.length >>> PAGE_SHIFT;
      const map = this.map;
      // A store is at most 8 bytes and marks the page it starts in, so one that straddles into an unmarked page
      // wrote at most its first 7 bytes: after each run of marked pages, restore 8 bytes of the next page too.
      let p = 0;
      while (p < pages) {
        if (map[p] === 0) {
          p++;
          continue;
        }
        let q = p;
        while (q < pages && map[q] !== 0) q++;
        mem.set(snap.subarray(p * PAGE, Math.min(q * PAGE + 8, snap.length)), p * PAGE);
        p = q;
      }
      // Marks past the snapshot's end come from stores that trapped (memory never grows while serving: growth
      // recycles the instance), so clearing the snapshot's pages clears every mark.
      map.fill(0, 0, pages + 1);
    }
    if (this.cfg.verifyRestore) this.verify(mem, snap);
  }

  /** Byte-exact check of the restore (tests): every byte of memory equals the snapshot. */
  private verify(mem: Uint8Array, snap: Uint8Array): void {
    if (mem.length === snap.length && Buffer.compare(mem, snap) === 0) return;
    let i = 0;
    while (i < snap.length && mem[i] === snap[i]) i++;
    throw new Error(`restore mismatch at byte ${i} (page ${i >>> PAGE_SHIFT})`);
  }
}
