// SandboxFusion's `POST /run_code` for `language: "python"`, as the `script` op: the request fields checked and
// turned into a ScriptRequest, the Result turned into SandboxFusion's response, so that clients built for it (verl's
// `sandbox_fusion` reward, for one) work unchanged. Pure functions. The shapes and status strings follow
// SandboxFusion's sandbox/server/sandbox_api.py and sandbox/runners/types.py:
//   request   {code, language, stdin?, run_timeout? (s, default 10), compile_timeout?, memory_limit_MB?, files?, fetch_files?}
//   response  {status: Success | Failed | SandboxError, message, compile_result: null,
//              run_result: {status: Finished | TimeLimitExceeded | Error, execution_time (s), return_code, stdout, stderr},
//              files: {}}
// Deliberate differences: `files` / `fetch_files` must be empty (the guest has no filesystem); `memory_limit_MB` is
// accepted and the executor's own cap (--memory-mib) applies; `run_timeout` is clamped to the executor's deadline;
// an interpreter crash caused by the program (C-stack overflow) is run_result "Error" with top-level "Failed", not
// "SandboxError" (that one is kept for the sandbox's own failures).
import type { Result, ScriptRequest } from "./protocol.ts";

export type RunStatus = "Success" | "Failed" | "SandboxError";
export type CommandRunStatus = "Finished" | "TimeLimitExceeded" | "Error";

export interface CommandRunResult {
  status: CommandRunStatus;
  execution_time: number | null;
  return_code: number | null;
  stdout: string | null;
  stderr: string | null;
}

export interface RunCodeResponse {
  status: RunStatus;
  message: string;
  compile_result: null;
  run_result: CommandRunResult | null;
  files: Record<string, string>;
}

/** SandboxFusion's default run_timeout (seconds). */
const DEFAULT_RUN_TIMEOUT_S = 10;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const optionalNumber = (v: unknown) => v === undefined || v === null || (typeof v === "number" && Number.isFinite(v));

/** The script request a run_code body asks for, with its deadline clamped to `maxTimeoutMs`, or why it is refused. */
export function runCodeRequest(body: unknown, maxTimeoutMs: number): ScriptRequest | { problem: string } {
  if (!isObject(body)) return { problem: "the body must be a JSON object {code, language, ...}" };
  const { code, language, stdin, run_timeout, compile_timeout, memory_limit_MB, files, fetch_files } = body;
  if (typeof code !== "string") return { problem: 'field "code" must be a string' };
  if (language !== "python") {
    return { problem: `unsupported language ${JSON.stringify(language) ?? "(missing)"}: this sandbox runs only "python"` };
  }
  if (stdin !== undefined && stdin !== null && typeof stdin !== "string") return { problem: 'field "stdin" must be a string or null' };
  for (const [name, v] of [["run_timeout", run_timeout], ["compile_timeout", compile_timeout], ["memory_limit_MB", memory_limit_MB]] as const) {
    if (!optionalNumber(v)) return { problem: `field "${name}" must be a number` };
  }
  const seconds = typeof run_timeout === "number" ? run_timeout : DEFAULT_RUN_TIMEOUT_S;
  if (!(seconds > 0)) return { problem: 'field "run_timeout" must be positive (seconds)' };
  if (files !== undefined && files !== null && (!isObject(files) || Object.keys(files).length > 0)) {
    return { problem: 'field "files" must be empty: this sandbox has no filesystem' };
  }
  if (fetch_files !== undefined && fetch_files !== null && (!Array.isArray(fetch_files) || fetch_files.length > 0)) {
    return { problem: 'field "fetch_files" must be empty: this sandbox has no filesystem' };
  }
  return { op: "script", code, stdin: stdin ?? "", timeout_ms: Math.min(seconds * 1000, maxTimeoutMs) };
}

/** A refused or failed request, in SandboxFusion's shape. */
export function sandboxError(message: string): RunCodeResponse {
  return { status: "SandboxError", message, compile_result: null, run_result: null, files: {} };
}

/** Why the output was cut, for `message` (SandboxFusion has no truncation flag). */
function truncation(r: Result): string {
  const cut = [r.stdout_truncated && "stdout", r.stderr_truncated && "stderr"].filter(Boolean);
  return cut.length > 0 ? `${cut.join(" and ")} truncated at the executor's output cap` : "";
}

/** The response for a script Result (any status but `invalid`, which the caller answers as a bad request). */
export function runCodeResponse(r: Result): RunCodeResponse {
  if (r.status === "invalid") return sandboxError(r.error ?? "invalid request");
  const status: CommandRunStatus = r.status === "timeout" ? "TimeLimitExceeded" : r.exit_code === undefined ? "Error" : "Finished";
  const run: CommandRunResult = {
    status,
    execution_time: r.ms / 1000,
    return_code: r.exit_code ?? null,
    stdout: r.stdout ?? "",
    stderr: r.stderr ?? "",
  };
  const ok = status === "Finished" && r.exit_code === 0;
  const message = [status === "Error" ? (r.error ?? r.status) : "", truncation(r)].filter(Boolean).join("; ");
  return { status: ok ? "Success" : "Failed", message, compile_result: null, run_result: run, files: {} };
}
