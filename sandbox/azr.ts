// AZR op -> driver request: shape checks (a malformed request becomes an `invalid` result, never a throw) and the
// deadline each op gets. Pure functions, no state; the semantics themselves run inside the sandbox (driver.py):
//   run              repr(f(<input>))                      (compat: the reference template, strip, 200...200)
//   validate         AST parse, banned imports (incl. __import__/importlib), optional one-def rule, then f twice
//                    in one globals dict (with the allocator moved in between) and once in fresh globals: all three
//                    reprs equal, else invalid "non-deterministic"; output = that repr
//   judge_deduction  eval(gold) == eval(answer)
//   judge_abduction  eval(gold) == f(<answer>) in the program's globals
//   judge_induction  imports + answer_code, then judge_abduction on every pair; correct iff all pass
import { OPS, type Request } from "./protocol.ts";

/** The spec's banned words (azr.data_selection_strategy.banned_words, config order, duplicates dropped). */
export const DEFAULT_BANNED_IMPORTS: readonly string[] = [
  "logging", "random", "multiprocessing", "pebble", "subprocess", "threading", "datetime", "time", "hashlib", "hmac",
  "bcrypt", "os.sys", "os.path", "sys.exit", "os.environ", "calendar",
];

const STRING_FIELDS: Record<Request["op"], readonly string[]> = {
  run: ["code", "input"],
  validate: ["code", "input"],
  judge_deduction: ["code", "input", "gold", "answer"],
  judge_abduction: ["code", "gold", "answer"],
  judge_induction: ["answer_code"],
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
  if (op === "judge_induction") {
    const pairs = r.pairs;
    if (!Array.isArray(pairs) || pairs.length === 0) return 'judge_induction: "pairs" must be a non-empty array';
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

/** Only the fields the driver reads, so stray caller fields never reach the guest. */
export function driverPayload(req: Request): Record<string, unknown> {
  const out: Record<string, unknown> = { op: req.op };
  for (const f of STRING_FIELDS[req.op]) out[f] = (req as unknown as Record<string, unknown>)[f];
  if (req.op === "judge_induction") {
    out.pairs = req.pairs;
    out.imports = req.imports;
  }
  return out;
}

/** The wall deadline of one request: each induction pair gets the per-program budget, as in the reference. */
export function requestTimeout(req: Request, timeoutMs: number): number {
  return req.op === "judge_induction" ? timeoutMs * Math.max(1, req.pairs.length) : timeoutMs;
}
