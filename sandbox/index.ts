// The public entry: `Executor`, a pool of warm, sandboxed CPython interpreters (python.wasm, no capabilities)
// that runs AZR ops. Creating one costs ~0.3-0.5 s the first time a process asks for its memory cap and dirty
// tracking (module rewrite + compile, then cached by module.ts) plus the worker boots; it lives until close(). See
// README.md for the nouns, costs and result kinds.
//
//   await using ex = await Executor.create({ workers: 2, timeoutMs: 1000 });
//   const r = await ex.submit({ op: "run", code: "def f(a):\n    return a * 2", input: "21" });
//   // r = { status: "ok", output: "42", ms: 0.7 }
import { availableParallelism } from "node:os";
import { readFileSync } from "node:fs";
import { DEFAULT_BANNED_IMPORTS, DEFAULT_MAX_REQUEST_BYTES, requestProblem } from "./azr.ts";
import { Guest } from "./guest.ts";
import { compilePython } from "./module.ts";
import { Pool } from "./pool.ts";
import { STATUSES, type Request, type RestartReason, type Result } from "./protocol.ts";
import { perform, type VerdictContext } from "./verdicts.ts";

export * from "./protocol.ts";
export { DEFAULT_BANNED_IMPORTS, DEFAULT_MAX_REQUEST_BYTES, REFERENCE_BANNED_WORDS } from "./azr.ts";
export { FleetClient, type FleetClientOptions, type FleetStats } from "./fleet/client.ts";
export { FleetService, type ServiceOptions } from "./fleet/service.ts";
export { DEFAULT_SUBJECT, expectedOf, type ExpectedOptions } from "./fleet/wire.ts";
export { connectFleet, natsUrlProblem } from "./fleet/url.ts";

export interface ExecutorOptions {
  /** Worker threads, one warm interpreter each. Default: the machine's cores. */
  workers?: number;
  /** Spare warm workers that stand in while an interpreter reboots after a timeout or crash. Default 1. */
  spares?: number;
  /** Wall deadline per program (ms); judge_induction gets it per pair. Default 10000. */
  timeoutMs?: number;
  /** Linear-memory cap per interpreter (MiB); runaway allocation becomes MemoryError -> "memory". Default 256. */
  memoryMiB?: number;
  /** Cap on a program's printed bytes and on the result repr. Default 1 MiB. */
  outputBytes?: number;
  /** Every request starts from the same interpreter state (dirty-page restore). Default true. */
  pristine?: boolean;
  /** PYTHONHASHSEED of every interpreter, so set/dict-of-str order agrees across validation and grading. Default 0. */
  hashSeed?: number;
  /** Seed of the guest's random_get (os.urandom) stream, restarted per request. Default 0. */
  randomSeed?: number;
  /** Reproduce the reference executor's quirks (templates, strip + 200...200, last-line error report). */
  compat?: boolean;
  /** Words that may not be imported (validate). Default: DEFAULT_BANNED_IMPORTS, the reference's list. */
  bannedImports?: string[];
  /** validate: exactly one `def` in the program. Default false. */
  requireSingleDef?: boolean;
  /** Largest request accepted (bytes of JSON). Default 2 MiB. */
  maxRequestBytes?: number;
  /** Pristine via a store-instrumented dirty-page map (true) or a full memory copy per request (false). */
  dirtyTracking?: boolean;
  /** Tests only: after each restore, compare all of memory with the snapshot. */
  verifyRestore?: boolean;
  /** Non-pristine mode: reboot an interpreter whose memory grew past this (MiB). Default memoryMiB / 2. */
  recycleMiB?: number;
  /** How long past a deadline a silent worker is given before it is replaced (ms). Default 10000. */
  graceMs?: number;
}

type Resolved = Required<ExecutorOptions>;

/** The guest's codec (`_encode`/`_decode`, sandbox/value/plain.py) first: the driver binds it at definition time. */
const DRIVER_SOURCE = [
  readFileSync(new URL("./value/plain.py", import.meta.url), "utf8"),
  readFileSync(new URL("./driver.py", import.meta.url), "utf8"),
].join("\n");
const MiB = 1 << 20;

function resolveOptions(o: ExecutorOptions): Resolved {
  const r: Resolved = {
    workers: o.workers ?? availableParallelism(),
    spares: o.spares ?? 1,
    timeoutMs: o.timeoutMs ?? 10_000,
    memoryMiB: o.memoryMiB ?? 256,
    outputBytes: o.outputBytes ?? MiB,
    pristine: o.pristine ?? true,
    hashSeed: o.hashSeed ?? 0,
    randomSeed: o.randomSeed ?? 0,
    compat: o.compat ?? false,
    bannedImports: o.bannedImports ?? [...DEFAULT_BANNED_IMPORTS],
    requireSingleDef: o.requireSingleDef ?? false,
    maxRequestBytes: o.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES,
    dirtyTracking: o.dirtyTracking ?? true,
    verifyRestore: o.verifyRestore ?? false,
    recycleMiB: o.recycleMiB ?? Math.floor((o.memoryMiB ?? 256) / 2),
    graceMs: o.graceMs ?? 10_000,
  };
  const int = (name: keyof Resolved, min: number, max: number) => {
    const v = r[name] as number;
    if (!Number.isInteger(v) || v < min || v > max) {
      throw new Error(`sandbox: option ${name} must be an integer in [${min}, ${max}], got ${v}`);
    }
  };
  int("workers", 1, 256);
  int("spares", 0, 16);
  int("timeoutMs", 1, 2 ** 31 / 64);
  int("memoryMiB", 64, 4095);
  int("outputBytes", 16, 2 ** 30);
  int("hashSeed", 0, 4294967295);
  int("randomSeed", 0, 4294967295);
  int("maxRequestBytes", 1024, 256 * MiB);
  int("recycleMiB", 16, r.memoryMiB);
  int("graceMs", 0, 600_000);
  if (r.maxRequestBytes > (r.memoryMiB * MiB) / 8) {
    throw new Error(
      `sandbox: option maxRequestBytes (${r.maxRequestBytes}) must be at most memoryMiB / 8 ` +
        `(${(r.memoryMiB * MiB) / 8} bytes): the driver preallocates its request buffer inside the memory cap`,
    );
  }
  if (!Array.isArray(r.bannedImports) || r.bannedImports.some((w) => typeof w !== "string" || w === "")) {
    throw new Error("sandbox: option bannedImports must be an array of non-empty strings");
  }
  return r;
}

export class Executor {
  private closed = false;
  private readonly verdicts: VerdictContext;

  private constructor(
    private readonly pool: Pool,
    readonly options: Readonly<Resolved>,
  ) {
    this.verdicts = { guest: new Guest(pool, options.timeoutMs, options.maxRequestBytes), compat: options.compat };
  }

  static async create(options: ExecutorOptions = {}): Promise<Executor> {
    const o = resolveOptions(options);
    const dirty = o.pristine && o.dirtyTracking;
    const compiled = compilePython(o.memoryMiB, dirty);
    const pregrowBytes = Math.min(32, o.memoryMiB / 8) * MiB;
    const bootTimeoutMs = 60_000;
    const pool = await Pool.start({
      workers: o.workers,
      spares: o.spares,
      module: compiled.module,
      requestBytes: o.maxRequestBytes + 4,
      graceMs: o.graceMs,
      bootTimeoutMs,
      interpreter: {
        driverSource: DRIVER_SOURCE,
        driverConfig: {
          compat: o.compat,
          output_bytes: o.outputBytes,
          banned: o.bannedImports,
          single_def: o.requireSingleDef,
          map_bytes: compiled.maxPages * 16 + 16,
          request_bytes: o.maxRequestBytes,
          pregrow_bytes: pregrowBytes,
          statuses: STATUSES,
        },
        pristine: o.pristine,
        dirtyTracking: dirty,
        hashSeed: o.hashSeed,
        randomSeed: o.randomSeed,
        outputBytes: o.outputBytes,
        recycleBytes: o.recycleMiB * MiB,
        bootTimeoutMs,
        verifyRestore: o.verifyRestore,
      },
    });
    return new Executor(pool, Object.freeze(o));
  }

  /** Runs one request. Resolves with a typed Result for anything the guest does; rejects only on host misuse. */
  async submit(req: Request): Promise<Result> {
    if (this.closed) throw new Error("sandbox: submit() on a closed Executor");
    const problem = requestProblem(req);
    if (problem) return { status: "invalid", error: `malformed request: ${problem}`, ms: 0 };
    return perform(req, this.verdicts);
  }

  /** Worker count. */
  get workers(): number {
    return this.pool.size;
  }

  /** Boot times (ms) of every interpreter instance so far, per worker (restarts included). */
  bootTimes(): number[][] {
    return this.pool.bootTimes();
  }

  /** Why interpreter instances were replaced so far (reason -> count), e.g. { timeout: 2, recycled: 1 }. */
  restartReasons(): Partial<Record<RestartReason, number>> {
    return this.pool.restartReasons();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
