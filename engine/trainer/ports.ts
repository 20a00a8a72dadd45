// What the trainer needs from the policy and the executor: the parts of engine/model's `Policy` and of the sandbox's
// `Executor` it calls, so that the trainer's dependence on each is written down in one place.
import type { Policy } from "../model/index.ts";
import type { Request, Result } from "../../sandbox/protocol.ts";

export type { GenerateOptions, Generation, Sequence, StepOptions, TokenGrads, TokenStats } from "../model/index.ts";

export type PolicyLike = Pick<
  Policy,
  "tokenizer" | "generate" | "tokenStats" | "accumulate" | "step" | "memoryPlan" | "save" | "saveOptimizer" | "loadOptimizer" | "destroy"
>;

export interface ExecutorLike {
  submit(req: Request): Promise<Result>;
}
