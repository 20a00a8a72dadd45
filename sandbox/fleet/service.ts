// A fleet member (`executor serve --nats`): one Executor behind a NATS queue-group subscription. Any number of
// members on any hosts share a subject; NATS hands each call to one of them. A member admits at most `maxInFlight`
// calls at once and answers any further one `overloaded` at once (the client sends it again), so nothing queues
// without bound; while it holds a call it sends `working` every HEARTBEAT_MS. drain() stops taking calls (the
// subscription is drained, so NATS routes new ones to the other members), finishes and answers every call it
// holds, then closes the connection. Lives until drain().
import type { Msg, NatsConnection, Subscription } from "@nats-io/transport-node";
import type { Executor } from "../index.ts";
import { decode, DEFAULT_SUBJECT, encode, HEARTBEAT_MS, optionsProblem, type Call, type Reply } from "./wire.ts";
import { connectFleet } from "./url.ts";

export interface ServiceOptions {
  /** nats://HOST:PORT (comma-separated for a cluster). */
  url: string;
  subject?: string;
  /** Calls admitted and not yet answered; a further one is answered `overloaded`. */
  maxInFlight: number;
}

export class FleetService {
  private readonly held = new Set<string>(); // reply subjects of the admitted calls
  private readonly verdicts = new Map<string, string | null>(); // expect JSON -> optionsProblem (a few distinct)
  private readonly heartbeat: ReturnType<typeof setInterval>;
  private idle: (() => void) | null = null;
  private draining: Promise<void> | null = null;
  private sub!: Subscription;

  private constructor(
    private readonly ex: Executor,
    private readonly nc: NatsConnection,
    private readonly maxInFlight: number,
    readonly subject: string,
  ) {
    this.heartbeat = setInterval(() => {
      for (const reply of this.held) this.send(reply, { kind: "working" });
    }, HEARTBEAT_MS);
  }

  static async start(ex: Executor, o: ServiceOptions): Promise<FleetService> {
    if (!Number.isInteger(o.maxInFlight) || o.maxInFlight < 1) throw new Error(`fleet: maxInFlight must be an integer ≥ 1, got ${o.maxInFlight}`);
    const subject = o.subject ?? DEFAULT_SUBJECT;
    const nc = await connectFleet(o.url, `azr-executor ${subject}`);
    const service = new FleetService(ex, nc, o.maxInFlight, subject);
    service.sub = nc.subscribe(subject, { queue: subject, callback: (err, msg) => {
      if (!err) service.take(msg);
    } });
    await nc.flush(); // subscribed at the server before start() returns: calls sent from now on can reach us
    return service;
  }

  /** Calls held right now. */
  get inFlight(): number {
    return this.held.size;
  }

  /** Stops taking calls, answers every held one, closes the connection. Idempotent. */
  drain(): Promise<void> {
    this.draining ??= (async () => {
      await this.sub.drain();
      if (this.held.size > 0) await new Promise<void>((resolve) => (this.idle = resolve));
      clearInterval(this.heartbeat);
      await this.nc.drain();
    })();
    return this.draining;
  }

  private take(msg: Msg): void {
    const reply = msg.reply;
    if (!reply) return; // a publish without a reply subject has no one to answer
    if (this.held.size >= this.maxInFlight) return this.send(reply, { kind: "overloaded" });
    let call: Call;
    try {
      call = decode(msg.data) as Call;
      if (typeof call !== "object" || call === null || (call.expect !== undefined && typeof call.expect !== "string")) throw new Error("not a call {req, expect?}");
    } catch (e) {
      return this.send(reply, { kind: "refused", error: `unreadable call: ${(e as Error).message}` });
    }
    const problem = call.expect === undefined ? null : this.expectProblem(call.expect);
    if (problem) return this.send(reply, { kind: "refused", error: problem });
    this.held.add(reply);
    this.ex.submit(call.req).then(
      (result) => this.send(reply, { kind: "result", result }),
      (e: Error) => this.send(reply, { kind: "refused", error: `executor: ${e.message}` }),
    ).finally(() => {
      this.held.delete(reply);
      if (this.held.size === 0) this.idle?.();
    });
  }

  private expectProblem(expect: string): string | null {
    let verdict = this.verdicts.get(expect);
    if (verdict === undefined) {
      try {
        const wanted: unknown = JSON.parse(expect);
        if (typeof wanted !== "object" || wanted === null || Array.isArray(wanted)) throw new Error("not an object");
        verdict = optionsProblem(wanted as Record<string, unknown>, this.ex.options);
      } catch (e) {
        verdict = `unreadable expected options: ${(e as Error).message}`;
      }
      if (this.verdicts.size >= 64) this.verdicts.clear(); // callers use one or two option sets; never grow with junk
      this.verdicts.set(expect, verdict);
    }
    return verdict;
  }

  /** Replies to one call; a result too large for the server's max_payload is refused with its size instead. */
  private send(reply: string, r: Reply): void {
    const body = encode(r);
    const limit = this.nc.info?.max_payload ?? Infinity;
    const fits = body.length <= limit;
    try {
      this.nc.publish(reply, fits ? body : encode({ kind: "refused", error: `result of ${body.length} bytes exceeds the NATS server's max_payload (${limit}); raise max_payload in its config` }));
    } catch {
      // The connection is closed: the caller hears nothing more from this member and sends the call again.
    }
  }
}
