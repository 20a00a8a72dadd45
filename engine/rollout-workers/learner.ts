// The learner's side of the rollout workers: it publishes the current weights (versioned) to the object store,
// queues generation batches as jobs on a JetStream work queue, and takes the workers' results on its own subject.
// A result is accepted only for a job still pending and only when generated with the job's weights version; a
// stale one is refused and its job queued again, so nothing generated with other weights is ever returned.
import { AckPolicy, type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import { type ObjectStore, Objm } from "@nats-io/obj";
import { type Msg, type NatsConnection, nanos, nuid, type Subscription } from "@nats-io/transport-node";
import { type GenerateOptions, generationBatches } from "../model/index.ts";
import type { PolicyLike } from "../trainer/ports.ts";
import { connectFleet } from "../../sandbox/index.ts";
import {
  DEFAULT_STREAM,
  decodeResult,
  encodeJob,
  encodeReply,
  type Job,
  type JobResult,
  type JobSizes,
  type Names,
  names,
  type Reply,
  resultsSubject,
  weightsName,
  type WorkerGeneration,
} from "./protocol.ts";
import { putWeights } from "./weights.ts";

export interface LearnerOptions {
  /** The policy sizes (maxBatch also sets the batch split, as in Policy.generate). */
  sizes: JobSizes;
  stream?: string;
  /** How long a worker may hold a job without a heartbeat before JetStream hands it to another; default 30 s. */
  ackWaitMs?: number;
  /** Refusals and redone jobs, one line each. */
  log?: (line: string) => void;
}

/** One generation batch as a worker returned it. */
export interface WorkerBatch {
  generations: WorkerGeneration[];
  version: number;
  worker: string;
  delivery: number;
}

/** Jobs a stream holds at most: the queue admits no more than this many waiting batches. */
const MAX_QUEUED_JOBS = 100_000;

interface Pending {
  job: Job;
  attempts: number;
  resolve: (b: WorkerBatch) => void;
  reject: (e: Error) => void;
}

export type Verdict = { accept: true } | { accept: false; reason: "unknown" | "stale" };

/**
 * Whether a result may be used: it must answer a pending job of this session (else it is late, a duplicate, or
 * another session's: "unknown") and carry the job's weights version (else "stale").
 */
export function judge(pending: ReadonlyMap<number, { job: Job }>, learner: string, r: JobResult): Verdict {
  const p = r.learner === learner ? pending.get(r.id) : undefined;
  if (p === undefined) return { accept: false, reason: "unknown" };
  if (r.version !== p.job.version) return { accept: false, reason: "stale" };
  return { accept: true };
}

export class RolloutWorkers {
  /** Results refused, by reason. */
  readonly refused = { unknown: 0, stale: 0 };
  private readonly pending = new Map<number, Pending>();
  private readonly session = nuid.next();
  private readonly results: Subscription;
  private nextId = 0;
  private published: { version: number; name: string } | null = null;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly store: ObjectStore,
    private readonly n: Names,
    private readonly o: LearnerOptions,
  ) {
    this.results = nc.subscribe(resultsSubject(n, this.session), {
      callback: (err, msg) => {
        if (err === null) this.onResult(msg);
      },
    });
  }

  /** Connects, creates the stream, consumer and object store if missing, and clears what an earlier learner left. */
  static async connect(url: string, o: LearnerOptions): Promise<RolloutWorkers> {
    const n = names(o.stream ?? DEFAULT_STREAM);
    const nc = await connectFleet(url, "azr-learner");
    try {
      const jsm = await jetstreamManager(nc);
      await ensureQueue(jsm, n, o.ackWaitMs ?? 30_000);
      const store = await new Objm(nc).create(n.bucket, { storage: StorageType.File });
      for (const old of await store.list()) await store.delete(old.name);
      return new RolloutWorkers(nc, jetstream(nc), store, n, o);
    } catch (e) {
      await nc.close();
      throw e;
    }
  }

  /** The weights version workers generate with now (null before the first publish). */
  get version(): number | null {
    return this.published?.version ?? null;
  }

  /** Publishes the policy's weights as `version` and removes the previous version's. */
  async publish(policy: Pick<PolicyLike, "save">, version: number): Promise<void> {
    if (this.pending.size > 0) throw new Error(`rollout workers: cannot publish weights while ${this.pending.size} jobs are pending`);
    const name = weightsName(this.session, version);
    await putWeights(this.store, name, policy);
    const previous = this.published;
    this.published = { version, name };
    if (previous && previous.name !== name) await this.store.delete(previous.name);
  }

  /** Generates like Policy.generate with the published weights: the same batches and seeds, one job per batch. */
  generate(prompts: number[][], options: GenerateOptions): Promise<WorkerBatch[]> {
    const published = this.published;
    if (published === null) return Promise.reject(new Error("rollout workers: publish weights before generating"));
    const batches = generationBatches(prompts, this.o.sizes.maxBatch, options.seed);
    return Promise.all(
      batches.map(
        (b) =>
          new Promise<WorkerBatch>((resolve, reject) => {
            const job: Job = { learner: this.session, id: this.nextId++, version: published.version, sizes: this.o.sizes, prompts: b.prompts, options: { ...options, seed: b.seed } };
            const p: Pending = { job, attempts: 0, resolve, reject };
            this.pending.set(job.id, p);
            this.enqueue(p);
          }),
      ),
    );
  }

  private enqueue(p: Pending): void {
    p.attempts++;
    // The message id makes a retried publish of the same attempt a duplicate that JetStream drops.
    this.js.publish(this.n.jobs, encodeJob(p.job), { msgID: `${this.session}-${p.job.id}-${p.attempts}` }).catch((e: Error) => {
      this.pending.delete(p.job.id);
      p.reject(new Error(`rollout workers: cannot queue job ${p.job.id} on ${this.n.jobs}: ${e.message}`));
    });
  }

  private onResult(msg: Msg): void {
    const reply = (r: Reply) => msg.respond(encodeReply(r));
    let r: JobResult;
    try {
      r = decodeResult(msg.data);
    } catch (e) {
      this.o.log?.(`rollout workers: refused a malformed result: ${(e as Error).message}`);
      reply({ accepted: false, reason: (e as Error).message });
      return;
    }
    const verdict = judge(this.pending, this.session, r);
    if (!verdict.accept) {
      this.refused[verdict.reason]++;
      const why = verdict.reason === "stale" ? `generated with weights v${r.version}, job wants v${this.pending.get(r.id)!.job.version}` : "no such pending job (late or duplicate)";
      this.o.log?.(`rollout workers: refused the result of job ${r.id} from ${r.worker}: ${why}`);
      reply({ accepted: false, reason: `${verdict.reason}: ${why}` });
      if (verdict.reason === "stale") this.enqueue(this.pending.get(r.id)!);
      return;
    }
    const p = this.pending.get(r.id)!;
    this.pending.delete(r.id);
    reply({ accepted: true });
    if ("error" in r) {
      p.reject(new Error(`rollout worker ${r.worker} failed job ${r.id}: ${r.error}`));
      return;
    }
    if (r.generations.length !== p.job.prompts.length) {
      p.reject(new Error(`rollout worker ${r.worker} returned ${r.generations.length} generations for job ${r.id}'s ${p.job.prompts.length} prompts`));
      return;
    }
    if (r.delivery > 1) this.o.log?.(`rollout workers: job ${r.id} was redone by ${r.worker} (delivery ${r.delivery})`);
    p.resolve({ generations: r.generations, version: r.version, worker: r.worker, delivery: r.delivery });
  }

  /** Fails what is pending, removes this session's weights and closes the connection. */
  async close(): Promise<void> {
    for (const p of this.pending.values()) p.reject(new Error("rollout workers: closed while the job was pending"));
    this.pending.clear();
    this.results.unsubscribe();
    if (this.published) await this.store.delete(this.published.name).catch(() => {});
    await this.nc.drain();
  }
}

/** The work-queue stream (file storage, so a restarted server keeps its jobs) and the workers' shared consumer. */
async function ensureQueue(jsm: JetStreamManager, n: Names, ackWaitMs: number): Promise<void> {
  const exists = await jsm.streams.info(n.stream).then(
    () => true,
    () => false,
  );
  if (!exists) {
    await jsm.streams.add({ name: n.stream, subjects: [n.jobs], retention: RetentionPolicy.Workqueue, storage: StorageType.File, max_msgs: MAX_QUEUED_JOBS });
  }
  // Jobs of an earlier learner can never be accepted; drop them rather than have workers redo them.
  await jsm.streams.purge(n.stream);
  const consumer = { durable_name: n.consumer, ack_policy: AckPolicy.Explicit, ack_wait: nanos(ackWaitMs), max_deliver: -1 };
  const has = await jsm.consumers.info(n.stream, n.consumer).then(
    () => true,
    () => false,
  );
  if (has) await jsm.consumers.update(n.stream, n.consumer, { ack_wait: consumer.ack_wait });
  else await jsm.consumers.add(n.stream, consumer);
}
