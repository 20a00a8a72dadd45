// What every phase of a step works with: the policy, the executor, the config, the run's Rng, and the step's clock
// and progress display.
import type { TrainConfig } from "../config/schema.ts";
import type { Rng } from "../rng.ts";
import type { Clock } from "./clock.ts";
import type { ExecutorLike, PolicyLike } from "./ports.ts";
import type { ProgressDisplay } from "./progress.ts";

export interface StepContext {
  policy: PolicyLike;
  executor: ExecutorLike;
  config: TrainConfig;
  rng: Rng;
  clock: Clock;
  progress: ProgressDisplay;
  step: number;
  /** True once the user asked to stop (Ctrl-C). */
  interrupted: () => boolean;
}

/** Thrown at a phase boundary once Ctrl-C was pressed; the step's partial work is discarded. */
export class Interrupted extends Error {
  override name = "Interrupted";
}
