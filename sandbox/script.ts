// What the `script` op means, decided in the host: one guest request (driver `script` op) runs the program as
// __main__; the host captured its stdout and stderr (capture.ts) and decides a deadline, os._exit and a crash
// itself. From a reply frame it takes only the exit code and the uncaught exception's text, which the program
// controls anyway (sys.exit), and only with the statuses a program can end in by itself (ok, error, memory): a frame
// that claims anything else (a timeout, say) or an exit code outside 0..255 is a forgery, and the result is `crash`.
import type { Guest, Spent } from "./guest.ts";
import type { Reply } from "./reply.ts";
import type { Result, ScriptRequest, Status } from "./protocol.ts";

/** The statuses a script's reply frame may report: how a program can end by itself. */
const PROGRAM_ENDINGS: readonly Status[] = ["ok", "error", "memory"];
const EXIT_CODE = /^(0|[1-9]\d{0,2})$/;

const text = new TextDecoder(); // invalid UTF-8 becomes U+FFFD, as a client decoding the bytes would see it

/** The program's stdin as bytes (text is UTF-8). */
function stdinBytes(stdin: ScriptRequest["stdin"]): Uint8Array {
  return typeof stdin === "string" ? new TextEncoder().encode(stdin) : (stdin ?? new Uint8Array(0));
}

/** The exit code in `o`, or null when there is none a program can have. */
function exitCode(o: string | undefined): number | null {
  if (o === undefined || !EXIT_CODE.test(o)) return null;
  const code = Number(o);
  return code <= 255 ? code : null;
}

/** The Result of a script request's reply: the host's own ending as it is, a frame's only when plausible. */
function scriptResult(r: Reply): Result {
  // No output captured: refused before the guest ran (too large), or the pool answered for a lost worker.
  if (!r.out) return { status: r.s, error: r.e ?? r.s, ms: 0 };
  const code = r.out.framed && !PROGRAM_ENDINGS.includes(r.s) ? null : exitCode(r.o);
  const result: Result =
    r.out.framed && code === null
      ? { status: "crash", error: "malformed script reply from the guest", ms: 0 }
      : { status: r.s, ms: 0 };
  if (code !== null) result.exit_code = code;
  if (result.error === undefined && (r.e !== undefined || result.status !== "ok")) result.error = r.e ?? r.s;
  result.stdout = text.decode(r.out.stdout);
  result.stderr = text.decode(r.out.stderr);
  result.stdout_truncated = r.out.stdoutTruncated;
  result.stderr_truncated = r.out.stderrTruncated;
  return result;
}

export async function script(req: ScriptRequest, guest: Guest, spent: Spent): Promise<Result> {
  return scriptResult(await guest.script(req.code, stdinBytes(req.stdin), req.timeout_ms, spent));
}
