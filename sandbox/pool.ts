// The pool: N + S worker threads (one warm interpreter each; at most N requests in flight, the S spares stand by
// while an interpreter reboots after a timeout or crash), a FIFO queue, and a watchdog per request. Lives as long
// as its Executor; starting it costs N + S worker boots in parallel (~0.3-1 s). Dispatch costs one SAB write + notify
// (~10 us) and the reply one postMessage. A request never waits on another worker's failure: a worker that dies or
// times out answers its own request and boots a fresh instance; a worker that stops answering altogether (the
// watchdog, deadline + graceMs) is abandoned and replaced.
import { createChannel, post, type Channel } from "./channel.ts";
import type { InterpreterConfig } from "./interpreter.ts";
import type { RestartReason } from "./protocol.ts";
import type { Reply } from "./reply.ts";
import type { WorkerInit, WorkerMessage } from "./worker.ts";

export interface PoolConfig {
  /** Requests in flight at once. */
  workers: number;
  /** Extra warm workers: when an interpreter must reboot (timeout, crash), a spare answers the next request. */
  spares: number;
  module: WebAssembly.Module;
  interpreter: InterpreterConfig;
  requestBytes: number;
  /** Extra time past a request's deadline before the worker counts as wedged and is replaced. */
  graceMs: number;
  bootTimeoutMs: number;
}

export interface PoolAnswer {
  reply: Reply;
  ms: number;
}

interface Job {
  body: Uint8Array;
  timeoutMs: number;
  script: boolean;
  resolve: (a: PoolAnswer) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  channel: Channel;
  ready: boolean;
  job: Job | null;
  seq: number;
  started: number;
  watchdog: ReturnType<typeof setTimeout> | null;
  bootMs: number[];
}

const WORKER_URL = new URL("./worker.ts", import.meta.url).href;

/** The longest delay setTimeout honours (a longer one fires at once) and the largest value of the channel's Int32
 * deadline slot. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The deadline a request really gets: whole milliseconds, at least 1, and small enough that neither the channel's
 * Int32 slot nor the watchdog's timer (deadline + grace) overflows — an overflow would read as an instant timeout.
 * A deadline longer than ~24 days is clamped; anything that is not a positive number is a caller bug.
 */
export function requestDeadline(timeoutMs: number, graceMs: number): number {
  if (!(timeoutMs > 0)) throw new RangeError(`sandbox: a request deadline must be a positive number of ms, got ${timeoutMs}`);
  return Math.min(Math.ceil(timeoutMs), MAX_TIMER_MS - graceMs);
}

export class Pool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private closed = false;
  private consecutiveFatal = 0;
  private readonly restarts = new Map<RestartReason, number>();
  private broken: Error | null = null;

  private constructor(private readonly cfg: PoolConfig) {}

  /** Starts every worker and resolves once all are warm; rejects with the boot error if one cannot boot. */
  static async start(cfg: PoolConfig): Promise<Pool> {
    const pool = new Pool(cfg);
    const boots = Array.from({ length: cfg.workers + cfg.spares }, () => pool.spawn());
    try {
      await Promise.all(boots);
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  get size(): number {
    return this.cfg.workers;
  }

  /** Boot times (ms) of every instance so far, per worker. */
  bootTimes(): number[][] {
    return this.slots.map((s) => [...s.bootMs]);
  }

  /** Why interpreter instances were replaced so far (reason -> count): timeouts, traps, recycles, host errors. */
  restartReasons(): Partial<Record<RestartReason, number>> {
    return Object.fromEntries(this.restarts);
  }

  /** One guest request; `script`: the host captures its stdout/stderr (capture.ts) and its os._exit is an exit code. */
  run(body: Uint8Array, timeoutMs: number, script = false): Promise<PoolAnswer> {
    if (this.closed) return Promise.reject(new Error("sandbox: executor is closed"));
    if (this.broken) return Promise.reject(this.broken);
    return new Promise((resolve, reject) => {
      this.queue.push({ body, timeoutMs: requestDeadline(timeoutMs, this.cfg.graceMs), script, resolve, reject });
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const err = new Error("sandbox: executor closed before the request finished");
    for (const job of this.queue.splice(0)) job.reject(err);
    for (const slot of this.slots.splice(0)) {
      if (slot.watchdog) clearTimeout(slot.watchdog);
      slot.job?.reject(err);
      slot.job = null;
      slot.worker.terminate();
    }
  }

  private spawn(): Promise<void> {
    const worker = new Worker(WORKER_URL);
    const slot: Slot = {
      worker,
      channel: createChannel(this.cfg.requestBytes),
      ready: false,
      job: null,
      seq: 0,
      started: 0,
      watchdog: null,
      bootMs: [],
    };
    this.slots.push(slot);
    return new Promise<void>((resolve, reject) => {
      const bootTimer = setTimeout(() => {
        reject(new Error(`sandbox: worker did not boot within ${this.cfg.bootTimeoutMs} ms`));
        this.abandon(slot);
      }, this.cfg.bootTimeoutMs + 5000);
      worker.onmessage = (event: MessageEvent<WorkerMessage>) => {
        const m = event.data;
        if (m.type === "ready") {
          clearTimeout(bootTimer);
          resolve();
        } else if (m.type === "fatal") {
          clearTimeout(bootTimer);
          reject(new Error(`sandbox: ${m.error}`));
        }
        this.onMessage(slot, m);
      };
      worker.onerror = (event) => {
        clearTimeout(bootTimer);
        const error = new Error(`sandbox: worker error: ${(event as ErrorEvent).message}`);
        reject(error);
        this.onMessage(slot, { type: "fatal", error: error.message });
      };
      const init: WorkerInit = { module: this.cfg.module, sab: slot.channel.sab, config: this.cfg.interpreter };
      worker.postMessage(init);
      worker.unref();
    });
  }

  private onMessage(slot: Slot, m: WorkerMessage): void {
    if (!this.slots.includes(slot)) return; // abandoned
    if (m.type === "ready") {
      slot.bootMs.push(m.bootMs);
      slot.ready = true;
      this.consecutiveFatal = 0;
    } else if (m.type === "ended") {
      this.countRestart(m.reason);
    } else if (m.type === "result") {
      // Counted before the answer settles, so a caller that sees the answer sees its restart.
      if (m.restart !== null) this.countRestart(m.restart);
      if (slot.job && m.seq === slot.seq) this.settle(slot, m.reply);
      slot.ready = m.restart === null;
    } else {
      // The instance could not boot again: answer its request, replace the worker, give up after repeated failures.
      if (slot.job) this.settle(slot, { s: "crash", e: m.error });
      this.abandon(slot);
      if (++this.consecutiveFatal >= 3) this.fail(new Error(`sandbox: interpreters keep failing to boot: ${m.error}`));
      else if (!this.closed) this.spawn().catch(() => {});
    }
    this.pump();
  }

  private countRestart(reason: RestartReason): void {
    this.restarts.set(reason, (this.restarts.get(reason) ?? 0) + 1);
  }

  private settle(slot: Slot, reply: Reply): void {
    const job = slot.job!;
    if (slot.watchdog) clearTimeout(slot.watchdog);
    slot.watchdog = null;
    slot.job = null;
    job.resolve({ reply, ms: performance.now() - slot.started });
  }

  /** Dispatch in slot order (so the same threads stay hot), at most `workers` requests in flight. */
  private pump(): void {
    let busy = this.slots.filter((s) => s.job).length;
    for (const slot of this.slots) {
      if (this.queue.length === 0 || busy >= this.cfg.workers) return;
      if (!slot.ready || slot.job) continue;
      busy++;
      const job = this.queue.shift()!;
      slot.job = job;
      slot.ready = false;
      slot.started = performance.now();
      slot.seq = post(slot.channel, job.body, job.timeoutMs, job.script);
      slot.watchdog = setTimeout(() => this.wedged(slot), job.timeoutMs + this.cfg.graceMs);
    }
  }

  /** No answer long past the deadline: answer for the worker and replace it. */
  private wedged(slot: Slot): void {
    if (!slot.job) return;
    this.settle(slot, { s: "timeout", e: "worker unresponsive past the deadline; replaced" });
    this.abandon(slot);
    if (!this.closed) this.spawn().catch(() => {});
    this.pump();
  }

  private abandon(slot: Slot): void {
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    if (slot.watchdog) clearTimeout(slot.watchdog);
    slot.worker.terminate();
  }

  private fail(error: Error): void {
    this.broken = error;
    for (const job of this.queue.splice(0)) job.reject(error);
  }
}
