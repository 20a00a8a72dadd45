// The executor's one vocabulary, shared by the library (Executor), the msgpack RPC server and the batch CLI:
// a request names an op and its Python texts; a result names one status kind. Tests assert kinds, never message text.

/** What happened to a request. `invalid` = refused before or instead of running (syntax, banned import, rule). */
export type Status = "ok" | "error" | "timeout" | "memory" | "output_limit" | "invalid" | "crash";
export const STATUSES: readonly Status[] = ["ok", "error", "timeout", "memory", "output_limit", "invalid", "crash"];

/** Why an interpreter instance was replaced (Executor.restartReasons() counts them): its request ran out of time or
 * output, its memory grew (`recycled`), a script called os._exit (`exit`), or it crashed: the driver returned
 * (`driver_exited`), the interpreter exited (`proc_exit`), a wasm trap, a host stack overflow, another host error. */
export type RestartReason =
  | "timeout" | "output_limit" | "recycled" | "exit" | "driver_exited" | "proc_exit" | "trap" | "stack_overflow" | "host_error";

/** Python literals travel as text (`"[1, 2]"`, `"'abc'"`), exactly as the AZR buffers and seed files hold them.
 * A judge's `gold` is the repr text a validation produced; `gold_value`, when given, is that validation's `value`
 * (the plain-value encoding, base64) and is used instead of parsing `gold`. */
export type Request =
  | { op: "run"; code: string; input: string }
  | { op: "validate"; code: string; input: string }
  | { op: "judge_deduction"; code: string; input: string; gold: string; answer: string; gold_value?: string }
  | { op: "judge_abduction"; code: string; gold: string; answer: string; gold_value?: string }
  | { op: "judge_induction"; answer_code: string; pairs: Array<[string, string]>; imports: string[] }
  | ScriptRequest;
export type Op = Request["op"];
export const OPS: readonly Op[] = ["run", "validate", "judge_deduction", "judge_abduction", "judge_induction", "script"];

/** A whole Python program run as `__main__`, as `python main.py < stdin` would run it (not an AZR op: for other RL
 * stacks, e.g. the SandboxFusion-compatible HTTP endpoint). `stdin`: text (UTF-8) or bytes (msgpack), default
 * empty; `timeout_ms`: this program's deadline, at most the executor's `timeoutMs` (longer is clamped). */
export interface ScriptRequest {
  op: "script";
  code: string;
  stdin?: string | Uint8Array;
  timeout_ms?: number;
}

export interface Result {
  status: Status;
  /** `run`/`validate`: repr of f(input) (the gold output a proposal records). */
  output?: string;
  /** `run`/`validate`: the result as plain data (sandbox/value encoding, base64); absent when it is not plain data
   * (another type, a subclass, a cycle, over the caps). Keep it as the gold to judge against (`gold_value`). */
  value?: string;
  /** `judge_*`: whether the answer is right; present only when status is "ok". */
  correct?: boolean;
  /** Exception `Type: message`, the invalid reason, or the limit that was hit. */
  error?: string;
  /** Wall time inside the executor, queueing excluded. */
  ms: number;
  /** `script`: the exit code (0 at the end; SystemExit's code, low 8 bits; os._exit's; 1 after an uncaught
   * exception); present with `ok`, `error` and `memory`. */
  exit_code?: number;
  /** `script`: what the program wrote to fd 1 / fd 2 (UTF-8, invalid bytes replaced), each at most `outputBytes`;
   * present with every status but `invalid`. */
  stdout?: string;
  stderr?: string;
  /** `script`: the stream went past `outputBytes` and the rest was dropped (the program kept running). */
  stdout_truncated?: boolean;
  stderr_truncated?: boolean;
}

/** Anything that answers requests: the in-process Executor, the RPC client, the fleet client. */
export interface Submitter {
  submit(req: Request): Promise<Result>;
}

/** Batch CLI / RPC framing: the caller's id travels with the request and comes back on its result. */
export type IdResult = Result & { id: string | number | null };
