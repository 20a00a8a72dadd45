// The shape of an AZR request: field checks (a malformed request becomes an `invalid` result, never a throw) and the
// limits on what one request may ask for. Pure functions, no state. What each op means, and where each part of it
// runs, is verdicts.ts:
//   run              repr(f(<input>))                      (compat: the reference's strip, 200...200)
//   validate         AST parse, banned imports (incl. __import__/importlib), optional one-def rule, then f called
//                    twice on the input in one globals dict: both reprs equal, else invalid "non-deterministic"
//   judge_deduction  gold == answer, both parsed as Python literals in the host
//   judge_abduction  gold == f(<answer>), f run in the guest on the answer's arguments as data
//   judge_induction  gold imports + answer_code, f run on each hidden input (one request per pair); all must match
//   script           (not AZR) a whole program as __main__ with stdin; stdout, stderr, exit code (script.ts)
import { OPS, type Request } from "./protocol.ts";

/** The reference's `banned_words` exactly as configured (docs/reference.md §2.1: azr.data_selection_strategy.banned_words):
 * config order with `datetime` twice, because the proposer prompt shows the list verbatim. */
export const REFERENCE_BANNED_WORDS: readonly string[] = [
  "logging", "random", "multiprocessing", "pebble", "subprocess", "threading", "datetime", "time", "hashlib", "hmac",
  "bcrypt", "os.sys", "os.path", "sys.exit", "os.environ", "calendar", "datetime",
];

/** The executor's default banned imports: the reference's banned words, duplicates dropped. */
export const DEFAULT_BANNED_IMPORTS: readonly string[] = [...new Set(REFERENCE_BANNED_WORDS)];

/** Largest request an executor accepts by default (bytes of JSON; ExecutorOptions.maxRequestBytes). */
export const DEFAULT_MAX_REQUEST_BYTES = 2 << 20;

/** Most pairs one judge_induction may carry (AZR sends 5; each pair is one guest request with its own deadline). */
const MAX_INDUCTION_PAIRS = 64;

const STRING_FIELDS: Record<Request["op"], readonly string[]> = {
  run: ["code", "input"],
  validate: ["code", "input"],
  judge_deduction: ["code", "input", "gold", "answer"],
  judge_abduction: ["code", "gold", "answer"],
  judge_induction: ["answer_code"],
  script: ["code"],
};

/** Why `value` is not a well-formed Request, or null when it is. */
export function requestProblem(value: unknown): string | null {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "request must be an object";
  const r = value as Record<string, unknown>;
  if (typeof r.op !== "string" || !(OPS as readonly string[]).includes(r.op)) {
    return `unknown op ${JSON.stringify(r.op)}; expected one of ${OPS.join(", ")}`;
  }
  const op = r.op as Request["op"];
  for (const f of STRING_FIELDS[op]) {
    if (typeof r[f] !== "string") return `${op}: field "${f}" must be a string`;
  }
  if ((op === "judge_deduction" || op === "judge_abduction") && r.gold_value !== undefined && typeof r.gold_value !== "string") {
    return `${op}: field "gold_value" must be a base64 string when given`;
  }
  if (op === "script") {
    if (r.stdin !== undefined && typeof r.stdin !== "string" && !(r.stdin instanceof Uint8Array)) {
      return 'script: "stdin" must be a string or bytes when given';
    }
    const t = r.timeout_ms;
    if (t !== undefined && !(typeof t === "number" && t > 0 && Number.isFinite(t))) {
      return 'script: "timeout_ms" must be a positive number of milliseconds when given';
    }
  }
  if (op === "judge_induction") {
    const pairs = r.pairs;
    if (!Array.isArray(pairs) || pairs.length === 0) return 'judge_induction: "pairs" must be a non-empty array';
    if (pairs.length > MAX_INDUCTION_PAIRS) {
      return `judge_induction: ${pairs.length} pairs; at most ${MAX_INDUCTION_PAIRS} (each is one run with its own deadline)`;
    }
    for (const p of pairs) {
      if (!Array.isArray(p) || p.length !== 2 || typeof p[0] !== "string" || typeof p[1] !== "string") {
        return 'judge_induction: every pair must be [input, output] strings';
      }
    }
    if (!Array.isArray(r.imports) || r.imports.some((i) => typeof i !== "string")) {
      return 'judge_induction: "imports" must be an array of strings';
    }
  }
  return null;
}
