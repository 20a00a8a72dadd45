// One warm python.wasm instance running driver.py, inside a worker thread. An instance costs 5-10 ms to instantiate
// plus 100-300 ms of driver boot (imports, warm-up) and about 45 MiB of linear memory (32 MiB of it pre-grown heap);
// it lives until a deadline, a trap, proc_exit or memory growth ends it, and the worker then boots a fresh one from
// the same compiled Module. Requests are synchronous: the guest blocks in fd_read(0), where the host
//   1. posts the previous request's reply (decoded by reply.ts),
//   2. restores pristine memory (only the 4 KiB pages the guest or the host wrote, found in the dirty map that the
//      instrumented stores maintain in a memory of its own that no guest instruction addresses; or all of memory
//      when dirty tracking is off; snapshot.ts),
//   3. waits for the next request and copies it in.
import { decodeReply, type Reply } from "./reply.ts";
import { PristineMemory } from "./snapshot.ts";
import { Capture } from "./capture.ts";
import { DIRTY_EXPORT, MAP_BYTES, PAGE_SHIFT, STACK_POINTER_EXPORT } from "./wasm-rewrite.ts";
import { ProcExit, WasiHost } from "./wasi.ts";
import type { Incoming } from "./channel.ts";
import type { RestartReason } from "./protocol.ts";

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
  done(seq: number, reply: Reply, restart: RestartReason | null): void;
  /** The first boundary of a fresh instance: ready to serve. */
  ready(bootMs: number): void;
  /** An instance ended between requests (it is replaced next); `reason` is what ended it. */
  ended(reason: RestartReason): void;
}

/** How an instance ended: the answer for the request in flight, if one was, and the restart reason. */
interface End {
  reply: Reply;
  reason: RestartReason;
}

/** Why an instance ended. */
class Deadline extends Error {}
/** The instance grew: it answered `reply` and is replaced. */
class Recycle extends Error {
  constructor(readonly reply: Reply) {
    super("recycled");
  }
}

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
      else throw new Error(bootFailure(end, this.cfg.bootTimeoutMs, state.stderrTail()));
    }
  }
}

/** Why an instance could not boot, with its stderr; the driver's warm-up prints one traceback on purpose. */
function bootFailure(end: End, bootTimeoutMs: number, stderr: string): string {
  const why =
    end.reason === "timeout"
      ? `it did not finish booting within ${bootTimeoutMs} ms (booting is CPU-bound: a heavily loaded machine can starve it)`
      : (end.reply.e ?? end.reply.s);
  return `python.wasm failed to boot: ${why}\nboot stderr (the warm-up's ZeroDivisionError is deliberate):\n${stderr}`;
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
  private snapshot: PristineMemory | null = null;

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
      return { reply: this.withOutput({ s: "crash", e: "the driver exited" }, true), reason: "driver_exited" };
    } catch (e) {
      if (e instanceof Recycle) return { reply: e.reply, reason: "recycled" };
      // A script's os._exit (proc_exit) is how that program ended: its exit code, not a crash.
      if (e instanceof ProcExit && this.capture) {
        return { reply: this.withOutput({ s: "ok", o: String((e.code >>> 0) & 255) }, true), reason: "exit" };
      }
      const end = this.classify(e);
      return { reply: this.withOutput(end.reply, true), reason: end.reason };
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

  /** What an error that ended the instance means: the reply for the request in flight and the restart reason. */
  private classify(e: unknown): End {
    if (e instanceof Deadline) {
      if (this.outputExceeded) return { reply: { s: "output_limit", e: `output exceeded ${this.cfg.outputBytes} bytes` }, reason: "output_limit" };
      return { reply: { s: "timeout", e: "deadline exceeded" }, reason: "timeout" };
    }
    if (e instanceof ProcExit) return { reply: { s: "crash", e: `interpreter exited with code ${e.code}` }, reason: "proc_exit" };
    if (e instanceof WebAssembly.RuntimeError) return { reply: { s: "crash", e: `trap: ${e.message}` }, reason: "trap" };
    if (e instanceof RangeError) return { reply: { s: "crash", e: `stack overflow: ${e.message}` }, reason: "stack_overflow" };
    return { reply: { s: "crash", e: `host error: ${e instanceof Error ? e.message : String(e)}` }, reason: "host_error" };
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
      if (this.memory.buffer.byteLength > (this.snapshot ? this.snapshot.bytes : this.cfg.recycleBytes)) {
        throw new Recycle(reply);
      }
      this.inFlight = null;
      this.io.done(seq, reply, null);
    }
    if (this.phase === "boot") {
      this.phase = "serving";
      this.headerPtr = headerPtr;
      this.boundaryStack = this.stackPointer.value as number;
      if (this.cfg.pristine) this.snapshot = new PristineMemory(this.memory, this.map, this.cfg.verifyRestore);
      this.servedBoundary = true;
      this.io.ready(performance.now() - this.bootStart);
    } else if (this.snapshot) {
      this.snapshot.restore();
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

  /** The reply of the request in flight: the output cap's verdict, else the driver's reply frame `b` (reply.ts). */
  private finish(b: Uint8Array | null): Reply {
    if (this.outputExceeded) return { s: "output_limit", e: `output exceeded ${this.cfg.outputBytes} bytes` };
    return decodeReply(b);
  }
}
