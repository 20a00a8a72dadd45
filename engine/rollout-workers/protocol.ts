// The rollout workers' wire protocol over NATS: the names one stream uses, the job a learner queues (one generation
// batch: prompts, options with its seed, the weights version to use), the result a worker sends back (token ids,
// log-probs, tagged with the version it generated with) and the learner's reply. Messages are msgpack, token ids and
// log-probs as typed arrays (4 bytes each, so a batch of long responses fits NATS's 1 MiB default payload); every
// decoded message is checked here, so a malformed one is an error that names the field, never a crash further on.
import { Packr } from "msgpackr";
import type { GenerateOptions, Generation } from "../model/index.ts";

/** Stream used when none is named. */
export const DEFAULT_STREAM = "azr-rollouts";

/** Where one stream's traffic goes. */
export interface Names {
  /** JetStream work-queue stream holding the jobs. */
  stream: string;
  jobs: string;
  /** Durable pull consumer every worker shares (each job goes to one of them). */
  consumer: string;
  /** Object store of the published weights. */
  bucket: string;
}

export function names(stream: string): Names {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(stream)) throw new ProtocolError(`stream name "${stream}": use 1–64 letters, digits, "-" or "_"`);
  return { stream, jobs: `${stream}.jobs`, consumer: "workers", bucket: `${stream}-weights` };
}

/** Subject on which one learner session takes results. */
export function resultsSubject(n: Names, learner: string): string {
  return `${n.stream}.results.${learner}`;
}

/** Object-store name of one weights version of one learner session. */
export function weightsName(learner: string, version: number): string {
  return `${learner}/v${version}`;
}

/** Policy sizes the worker loads the weights with (the learner's, so shapes and hence tokens match). */
export interface JobSizes {
  maxSeq: number;
  maxBatch: number;
}

export interface Job {
  /** The learner session (its results subject and weights names). */
  learner: string;
  id: number;
  /** Weights version to generate with. */
  version: number;
  sizes: JobSizes;
  /** One generation batch (at most sizes.maxBatch prompts), generated as one batch with options.seed. */
  prompts: number[][];
  options: GenerateOptions;
}

export interface WorkerGeneration extends Generation {
  /** Log-prob of each generated token under the weights it was sampled from. */
  logp: Float32Array;
}

interface ResultHead {
  learner: string;
  id: number;
  /** Weights version the worker generated with. */
  version: number;
  worker: string;
  /** JetStream delivery count of the job (2 or more: redone after a lost worker). */
  delivery: number;
}

export type JobResult = ResultHead & ({ generations: WorkerGeneration[] } | { error: string });

export type Reply = { accepted: true } | { accepted: false; reason: string };

export class ProtocolError extends Error {
  override name = "ProtocolError";
}

/** moreTypes: typed arrays come back as the same typed arrays. */
const packr = new Packr({ moreTypes: true });

const isInt = (x: unknown, min = 0): x is number => Number.isSafeInteger(x) && (x as number) >= min;

function fail(what: string, field: string, fix: string): never {
  throw new ProtocolError(`${what}: ${field} ${fix}`);
}

function object(what: string, bytes: Uint8Array): Record<string, unknown> {
  let value: unknown;
  try {
    value = packr.unpack(bytes);
  } catch (e) {
    throw new ProtocolError(`${what}: not msgpack (${(e as Error).message})`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new ProtocolError(`${what}: not a msgpack map`);
  return value as Record<string, unknown>;
}

export function encodeJob(job: Job): Uint8Array {
  return packr.pack({ ...job, prompts: job.prompts.map((p) => Uint32Array.from(p)) });
}

export function encodeResult(r: JobResult): Uint8Array {
  return packr.pack("generations" in r ? { ...r, generations: r.generations.map((g) => ({ ...g, ids: Uint32Array.from(g.ids) })) } : r);
}

export function encodeReply(r: Reply): Uint8Array {
  return packr.pack(r);
}

export function decodeJob(bytes: Uint8Array): Job {
  const m = object("job", bytes);
  if (typeof m.learner !== "string" || m.learner === "") fail("job", "learner", "must be a non-empty string");
  if (!isInt(m.id)) fail("job", "id", "must be an integer ≥ 0");
  if (!isInt(m.version)) fail("job", "version", "must be an integer ≥ 0");
  const sizes = m.sizes as JobSizes | undefined;
  if (typeof sizes !== "object" || sizes === null || !isInt(sizes.maxSeq, 1) || !isInt(sizes.maxBatch, 1)) fail("job", "sizes", "must be {maxSeq, maxBatch}, integers ≥ 1");
  const prompts = m.prompts;
  if (!Array.isArray(prompts) || prompts.length === 0 || !prompts.every((p) => p instanceof Uint32Array)) fail("job", "prompts", "must be a non-empty array of token-id arrays (u32)");
  if (prompts.length > sizes.maxBatch) fail("job", "prompts", `must hold at most sizes.maxBatch = ${sizes.maxBatch} prompts (one batch), got ${prompts.length}`);
  const o = m.options as GenerateOptions | undefined;
  if (typeof o !== "object" || o === null || typeof o.maxNew !== "number" || typeof o.temperature !== "number" || typeof o.seed !== "number") {
    fail("job", "options", "must be generate options {maxNew, temperature, seed, …}");
  }
  return { ...(m as unknown as Job), prompts: prompts.map((p: Uint32Array) => Array.from(p)) };
}

export function decodeResult(bytes: Uint8Array): JobResult {
  const m = object("result", bytes);
  if (typeof m.learner !== "string") fail("result", "learner", "must be a string");
  for (const k of ["id", "version", "delivery"] as const) if (!isInt(m[k])) fail("result", k, "must be an integer ≥ 0");
  if (typeof m.worker !== "string") fail("result", "worker", "must be a string");
  if (typeof m.error === "string") return m as unknown as JobResult;
  const gens = m.generations;
  const ok = (g: Record<string, unknown>) =>
    g.ids instanceof Uint32Array &&
    g.logp instanceof Float32Array &&
    g.logp.length === g.ids.length &&
    typeof g.text === "string" &&
    (g.finish === "stop" || g.finish === "length");
  if (!Array.isArray(gens) || !gens.every((g) => typeof g === "object" && g !== null && ok(g))) {
    fail("result", "generations", "must be [{ids (u32), logp (f32, one per id), text, finish}]");
  }
  return { ...(m as unknown as JobResult), generations: gens.map((g: WorkerGeneration & { ids: Uint32Array }) => ({ ...g, ids: Array.from(g.ids) })) };
}

export function decodeReply(bytes: Uint8Array): Reply {
  const m = object("reply", bytes);
  if (m.accepted === true) return { accepted: true };
  if (m.accepted === false && typeof m.reason === "string") return { accepted: false, reason: m.reason };
  throw new ProtocolError("reply: expected {accepted: true} or {accepted: false, reason}");
}
