// What the trainer needs from the policy and the executor, as small structural types: the real `Policy`
// (engine/model) and `Executor` (sandbox) satisfy them, and the trainer depends on nothing else of theirs.
import type { Request, Result } from "../../sandbox/protocol.ts";

export interface GenerateOptions {
  maxNew: number;
  /** 0 = greedy. */
  temperature: number;
  topK?: number;
  topP?: number;
  seed: number;
  stop?: string[];
}
export interface Generation {
  ids: number[];
  text: string;
  finish: "stop" | "length";
}
export interface Sequence {
  promptIds: number[];
  responseIds: number[];
}
/** Per sequence, per response token. */
export interface TokenStats {
  logp: Float32Array[];
  entropy: Float32Array[];
}
export interface TokenGrads {
  dlogp: Float32Array[];
  dentropy?: Float32Array[];
}
export interface StepOptions {
  lr: number;
  weightDecay: number;
  betas: [number, number];
  eps: number;
  maxGradNorm: number;
}

export interface TokenizerLike {
  encode(text: string, options?: { allowSpecial?: boolean }): number[];
  decode(ids: readonly number[], options?: { skipSpecial?: boolean }): string;
}

export interface PolicyLike {
  readonly tokenizer: TokenizerLike;
  generate(prompts: number[][], opts: GenerateOptions): Promise<Generation[]>;
  tokenStats(seqs: Sequence[]): Promise<TokenStats>;
  accumulate(seqs: Sequence[], grad: (s: TokenStats) => TokenGrads): Promise<TokenStats>;
  step(opt: StepOptions): Promise<{ gradNorm: number }>;
  save(dir: string): Promise<void>;
  saveOptimizer(path: string): Promise<void>;
  loadOptimizer(path: string): Promise<void>;
  destroy(): void;
}

export interface ExecutorLike {
  submit(req: Request): Promise<Result>;
}
