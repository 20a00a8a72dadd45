// The fleet's client: `submit(request) → Promise<Result>`, like Executor and ExecutorClient, over NATS to whichever
// members serve the subject (service.ts). At most `maxInFlight` calls are out at once; further submits wait here in
// order (backpressure). A call is sent again when its member says it is overloaded (after a short backoff), when
// nothing has been heard of it for `silenceMs` (its member was lost, or the NATS server restarted: members send
// `working` every HEARTBEAT_MS), or when no member listens. Re-running is safe: a result depends only on the request
// and the options. The first result of any attempt answers the caller, exactly once; later ones are dropped. A call
// with no result `deadlineMs` after it was first sent, or refused by a member, rejects with the reason.
import { createInbox, type Msg, type NatsConnection } from "@nats-io/transport-node";
import type { Request, Result, Submitter } from "../protocol.ts";
import { decode, DEFAULT_SUBJECT, encode, HEARTBEAT_MS, type ExpectedOptions, type Reply } from "./wire.ts";
import { connectFleet } from "./url.ts";

export interface FleetClientOptions {
  /** nats://HOST:PORT (comma-separated for a cluster). */
  url: string;
  subject?: string;
  /** Calls out at once. Default 64. */
  maxInFlight?: number;
  /** A call with no result this long after it was first sent rejects. Default 600000 (10 min). */
  deadlineMs?: number;
  /** A call silent this long counts as lost and is sent again. Default 5 × HEARTBEAT_MS. */
  silenceMs?: number;
  /** Options the members must run with (each member checks; a mismatch rejects the call). */
  expect?: ExpectedOptions;
}

/** What the client had to do to get its answers (for tests, the bench and logs). */
export interface FleetStats {
  /** Sends after the first, by cause. */
  overloaded: number;
  lost: number;
  noResponders: number;
  /** Results that arrived for calls already answered (a lost call's late first attempt), dropped. */
  duplicates: number;
}

interface Pending {
  id: number;
  payload: Uint8Array;
  resolve: (r: Result) => void;
  reject: (e: Error) => void;
  attempt: number;
  lastHeard: number;
  deadlineAt: number;
  /** Backoff before the next send; while set, silence does not count. */
  retry: ReturnType<typeof setTimeout> | null;
  backoffs: number;
}

export class FleetClient implements Submitter {
  private nextId = 1;
  private readonly waiting: Pending[] = []; // submitted, not yet sent (over maxInFlight)
  private readonly out = new Map<number, Pending>();
  private readonly sweeper: ReturnType<typeof setInterval>;
  private closed = false;
  readonly stats: FleetStats = { overloaded: 0, lost: 0, noResponders: 0, duplicates: 0 };

  private constructor(
    private readonly nc: NatsConnection,
    private readonly inbox: string,
    private readonly subject: string,
    private readonly maxInFlight: number,
    private readonly deadlineMs: number,
    private readonly silenceMs: number,
    private readonly expect: string | undefined,
  ) {
    this.sweeper = setInterval(() => this.sweep(), Math.max(10, Math.min(silenceMs, HEARTBEAT_MS) / 4));
  }

  static async connect(o: FleetClientOptions): Promise<FleetClient> {
    const maxInFlight = o.maxInFlight ?? 64;
    const deadlineMs = o.deadlineMs ?? 600_000;
    const silenceMs = o.silenceMs ?? 5 * HEARTBEAT_MS;
    for (const [name, v, min] of [["maxInFlight", maxInFlight, 1], ["deadlineMs", deadlineMs, 1], ["silenceMs", silenceMs, 2 * HEARTBEAT_MS]] as const) {
      if (!Number.isInteger(v) || v < min) throw new Error(`fleet: ${name} must be an integer ≥ ${min}, got ${v}`);
    }
    const nc = await connectFleet(o.url, "azr-executor-client");
    const inbox = createInbox();
    const expect = o.expect && Object.keys(o.expect).length > 0 ? JSON.stringify(o.expect) : undefined;
    const client = new FleetClient(nc, inbox, o.subject ?? DEFAULT_SUBJECT, maxInFlight, deadlineMs, silenceMs, expect);
    nc.subscribe(`${inbox}.>`, { callback: (err, msg) => {
      if (!err) client.receive(msg);
    } });
    await nc.flush();
    return client;
  }

  submit(req: Request): Promise<Result> {
    if (this.closed) return Promise.reject(new Error("fleet: submit() on a closed client"));
    return new Promise((resolve, reject) => {
      const payload = encode({ req, ...(this.expect === undefined ? {} : { expect: this.expect }) });
      const limit = this.nc.info?.max_payload ?? Infinity;
      if (payload.length > limit) {
        reject(new Error(`fleet: request of ${payload.length} bytes exceeds the NATS server's max_payload (${limit})`));
        return;
      }
      this.waiting.push({ id: this.nextId++, payload, resolve, reject, attempt: 0, lastHeard: 0, deadlineAt: 0, retry: null, backoffs: 0 });
      this.pump();
    });
  }

  /** Calls sent and not yet answered. */
  get inFlight(): number {
    return this.out.size;
  }

  /** Rejects every unanswered call and closes the connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweeper);
    const err = new Error("fleet: client closed before the request was answered");
    for (const p of [...this.waiting.splice(0), ...this.out.values()]) {
      if (p.retry) clearTimeout(p.retry);
      p.reject(err);
    }
    this.out.clear();
    await this.nc.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private pump(): void {
    while (this.out.size < this.maxInFlight && this.waiting.length > 0) {
      const p = this.waiting.shift()!;
      p.deadlineAt = performance.now() + this.deadlineMs;
      this.out.set(p.id, p);
      this.send(p);
    }
  }

  private send(p: Pending): void {
    p.retry = null;
    p.attempt++;
    p.lastHeard = performance.now();
    try {
      this.nc.publish(this.subject, p.payload, { reply: `${this.inbox}.${p.id}.${p.attempt}` });
    } catch (e) {
      this.finish(p, new Error(`fleet: cannot send: ${(e as Error).message}`));
    }
  }

  private receive(msg: Msg): void {
    const tail = msg.subject.slice(this.inbox.length + 1).split(".");
    const p = this.out.get(Number(tail[0]));
    const current = p !== undefined && Number(tail[1]) === p.attempt;
    if (msg.headers?.code === 503) {
      // No member listens (none started yet, all gone, or resubscribing after a server restart): wait, then again.
      if (current && !p.retry) this.backoff(p, "noResponders");
      return;
    }
    let reply: Reply;
    try {
      reply = decode(msg.data) as Reply;
    } catch {
      return; // not from a member; the call's silence will resend it
    }
    if (reply.kind === "result") {
      if (p) this.finish(p, reply.result);
      else this.stats.duplicates++;
    } else if (!p) return;
    else if (reply.kind === "refused") this.finish(p, new Error(`fleet: ${reply.error}`));
    else if (!current) return; // news of an earlier attempt that was already given up
    else if (reply.kind === "working") p.lastHeard = performance.now();
    else if (reply.kind === "overloaded" && !p.retry) this.backoff(p, "overloaded");
  }

  /** Sends `p` again after a delay that grows with each backoff (2 ms … 100 ms, jittered): short, because NATS
   * picks a member at random and another one may well have room. */
  private backoff(p: Pending, cause: "overloaded" | "noResponders"): void {
    this.stats[cause]++;
    const ms = Math.min(100, 2 * 2 ** Math.min(p.backoffs++, 6)) * (0.5 + Math.random());
    p.retry = setTimeout(() => this.out.has(p.id) && this.send(p), ms);
  }

  private sweep(): void {
    const now = performance.now();
    for (const p of this.out.values()) {
      if (now > p.deadlineAt) {
        this.finish(p, new Error(`fleet: no result within ${this.deadlineMs} ms (${p.attempt} attempts) on ${this.subject}`));
      } else if (!p.retry && now - p.lastHeard > this.silenceMs) {
        this.stats.lost++;
        this.send(p);
      }
    }
  }

  private finish(p: Pending, outcome: Result | Error): void {
    if (!this.out.delete(p.id)) return;
    if (p.retry) clearTimeout(p.retry);
    if (outcome instanceof Error) p.reject(outcome);
    else p.resolve(outcome);
    this.pump();
  }
}
