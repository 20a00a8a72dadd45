// A rollout worker: takes one job at a time from the work queue, loads the job's weights version from the object
// store when it differs from what it holds, generates the batch with the job's seed and options, scores the
// generated tokens, and sends the result to the learner. It acknowledges the job only once the learner has
// answered, so a worker killed mid-batch leaves the job unacknowledged and JetStream hands it to another after
// ack_wait; while generating it sends heartbeats so a long batch is not taken from it.
import { hostname } from "node:os";
import { type Consumer, type JetStreamClient, type JsMsg, jetstream } from "@nats-io/jetstream";
import { type ObjectStore, Objm } from "@nats-io/obj";
import type { NatsConnection } from "@nats-io/transport-node";
import { millis } from "@nats-io/transport-node";
import type { Policy } from "../model/index.ts";
import { connectFleet } from "../../sandbox/index.ts";
import { DEFAULT_STREAM, decodeJob, decodeReply, encodeResult, type Job, type JobResult, type Names, names, resultsSubject, weightsName } from "./protocol.ts";
import { loadWeights } from "./weights.ts";

export interface WorkerOptions {
  stream?: string;
  /** Name in results and logs; default host:pid. */
  name?: string;
  log?: (line: string) => void;
}

/** How long the learner has to answer a result before the job is handed back for another try. */
const REPLY_TIMEOUT_MS = 30_000;
/** Wait between looks for a stream no learner has created yet, and before a handed-back job comes again. */
const RETRY_MS = 1_000;

interface Loaded {
  key: string;
  policy: Policy;
}

export class RolloutWorker {
  readonly name: string;
  private stopped = false;
  private loaded: Loaded | null = null;
  private readonly log: (line: string) => void;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly n: Names,
    o: WorkerOptions,
  ) {
    this.name = o.name ?? `${hostname()}:${process.pid}`;
    this.log = o.log ?? (() => {});
  }

  static async connect(url: string, o: WorkerOptions = {}): Promise<RolloutWorker> {
    const n = names(o.stream ?? DEFAULT_STREAM);
    const nc = await connectFleet(url, "azr-rollout-worker");
    return new RolloutWorker(nc, jetstream(nc), n, o);
  }

  /** Serves jobs until `stop`. */
  async run(): Promise<void> {
    const { consumer, store, ackWaitMs } = await this.attach();
    this.log(`${this.name}: ready on stream ${this.n.stream} (ack_wait ${ackWaitMs} ms)`);
    while (!this.stopped) {
      const msg = await consumer.next({ expires: 2_000 }).catch((e: Error) => {
        this.log(`${this.name}: pull failed (${e.message}); retrying`);
        return Bun.sleep(RETRY_MS).then(() => null);
      });
      if (msg !== null) await this.serve(msg, store, ackWaitMs);
    }
  }

  stop(): void {
    this.stopped = true;
  }

  async close(): Promise<void> {
    this.stop();
    this.loaded?.policy.destroy();
    this.loaded = null;
    await this.nc.drain();
  }

  /** Waits for the learner's stream, consumer and object store. */
  private async attach(): Promise<{ consumer: Consumer; store: ObjectStore; ackWaitMs: number }> {
    for (let said = false; ; said = true) {
      try {
        const consumer = await this.js.consumers.get(this.n.stream, this.n.consumer);
        const info = await consumer.info(true);
        const store = await new Objm(this.nc).open(this.n.bucket);
        return { consumer, store, ackWaitMs: millis(info.config.ack_wait ?? 0) };
      } catch {
        if (!said) this.log(`${this.name}: waiting for a learner to create stream ${this.n.stream}`);
        await Bun.sleep(RETRY_MS);
      }
    }
  }

  private async serve(msg: JsMsg, store: ObjectStore, ackWaitMs: number): Promise<void> {
    let job: Job;
    try {
      job = decodeJob(msg.data);
    } catch (e) {
      this.log(`${this.name}: dropped a malformed job: ${(e as Error).message}`);
      msg.term((e as Error).message);
      return;
    }
    const delivery = msg.info.deliveryCount;
    this.log(`${this.name}: job ${job.id} started (${job.prompts.length} prompts, weights v${job.version}, delivery ${delivery})`);
    const heartbeat = setInterval(() => msg.working(), Math.max(100, ackWaitMs / 3));
    let result: JobResult;
    try {
      const policy = await this.policyFor(job, store);
      if (policy === null) {
        this.log(`${this.name}: dropped job ${job.id}: weights v${job.version} are no longer published (the learner moved on)`);
        msg.term("weights no longer published");
        return;
      }
      result = { ...this.head(job, delivery), generations: await generate(policy, job) };
    } catch (e) {
      result = { ...this.head(job, delivery), error: (e as Error).message };
    } finally {
      clearInterval(heartbeat);
    }
    let bytes = encodeResult(result);
    const limit = this.nc.info?.max_payload ?? Infinity;
    if (bytes.length > limit) {
      bytes = encodeResult({ ...this.head(job, delivery), error: `the result is ${bytes.length} bytes, over the nats-server's max_payload of ${limit}; raise max_payload (nats-server -c with max_payload: 8MB) or lower model.maxBatch` });
    }
    try {
      const reply = decodeReply((await this.nc.request(resultsSubject(this.n, job.learner), bytes, { timeout: REPLY_TIMEOUT_MS })).data);
      this.log(`${this.name}: job ${job.id} ${reply.accepted ? "accepted" : `refused (${reply.reason})`}`);
      msg.ack();
    } catch (e) {
      // No learner answered (gone, or the connection dropped): hand the job back rather than lose it.
      this.log(`${this.name}: job ${job.id}: the learner did not answer (${(e as Error).message}); handing it back`);
      msg.nak(RETRY_MS);
    }
  }

  private head(job: Job, delivery: number) {
    return { learner: job.learner, id: job.id, version: job.version, worker: this.name, delivery };
  }

  /** The policy holding the job's weights version at the job's sizes, loaded when it is not the one held. */
  private async policyFor(job: Job, store: ObjectStore): Promise<Policy | null> {
    const name = weightsName(job.learner, job.version);
    const key = `${name} ${job.sizes.maxSeq}x${job.sizes.maxBatch}`;
    if (this.loaded?.key === key) return this.loaded.policy;
    const policy = await loadWeights(store, name, job.sizes);
    if (policy === null) return null;
    this.loaded?.policy.destroy();
    this.loaded = { key, policy };
    return policy;
  }
}

/** The job's batch, generated as one batch with its seed, with each generated token's log-prob. */
async function generate(policy: Policy, job: Job) {
  const gens = await policy.generate(job.prompts, job.options);
  const scored = gens.map((g, i) => ({ promptIds: job.prompts[i], responseIds: g.ids }));
  const nonEmpty = scored.filter((s) => s.responseIds.length > 0);
  const logp = nonEmpty.length > 0 ? (await policy.tokenStats(nonEmpty)).logp : [];
  let k = 0;
  return gens.map((g) => ({ ...g, logp: g.ids.length > 0 ? logp[k++] : new Float32Array(0) }));
}
