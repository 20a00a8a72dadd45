// The trainer's policy when generation runs on rollout workers: everything but `generate` is the local policy;
// `generate` publishes the local weights first if an optimizer step changed them, then runs on the workers. The
// weights version starts at the run's step and counts optimizer steps (one per training step unless
// algorithm.miniBatches > 1), so a worker never generates with weights older than the learner's.
import type { GenerateOptions, Generation, PolicyLike, StepOptions } from "../trainer/ports.ts";
import type { RolloutWorkers } from "./learner.ts";

export class RemotePolicy implements PolicyLike {
  private published: number | null = null;

  constructor(
    private readonly local: PolicyLike,
    private readonly workers: RolloutWorkers,
    private version: number,
  ) {}

  get tokenizer(): PolicyLike["tokenizer"] {
    return this.local.tokenizer;
  }

  async generate(prompts: number[][], opts: GenerateOptions): Promise<Generation[]> {
    if (this.published !== this.version) {
      await this.workers.publish(this.local, this.version);
      this.published = this.version;
    }
    const batches = await this.workers.generate(prompts, opts);
    return batches.flatMap((b) => b.generations.map(({ ids, text, finish }) => ({ ids, text, finish })));
  }

  async step(opt: StepOptions): ReturnType<PolicyLike["step"]> {
    const done = await this.local.step(opt);
    this.version++;
    return done;
  }

  tokenStats: PolicyLike["tokenStats"] = (seqs) => this.local.tokenStats(seqs);
  accumulate: PolicyLike["accumulate"] = (seqs, grad) => this.local.accumulate(seqs, grad);
  memoryPlan: PolicyLike["memoryPlan"] = (batch, seqLen) => this.local.memoryPlan(batch, seqLen);
  save: PolicyLike["save"] = (dir) => this.local.save(dir);
  saveOptimizer: PolicyLike["saveOptimizer"] = (path) => this.local.saveOptimizer(path);
  loadOptimizer: PolicyLike["loadOptimizer"] = (path) => this.local.loadOptimizer(path);
  destroy: PolicyLike["destroy"] = () => this.local.destroy();
}
