export { judge, type LearnerOptions, RolloutWorkers, type Verdict, type WorkerBatch } from "./learner.ts";
export { DEFAULT_STREAM, type Job, type JobResult, ProtocolError, type WorkerGeneration } from "./protocol.ts";
export { RemotePolicy } from "./remote-policy.ts";
export { RolloutWorker, type WorkerOptions } from "./worker.ts";
