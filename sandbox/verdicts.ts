// What each AZR op means, decided in the host from plain data. The guest only runs code (guest.ts: compile, eval,
// call) and hands back what the code produced as a plain-value encoding; no request that runs solver code carries a
// gold output, and nothing the guest writes is a verdict. Gold reprs and answers are parsed here as Python literals
// and compared with Python's == (sandbox/value).
//   run, validate    the program's compiled code (cached: code-cache.ts) -> the input's arguments as data (parsed
//                    here; other text is evaluated alone in a pristine request) -> call: f twice on that data.
//                    validate adds the rules (banned imports, one def) and requires both calls to agree.
//   judge_deduction  parseLiteral(gold, repr) == parseLiteral(answer): no guest at all (compat: an answer that is not
//                    a literal is eval'd alone in a pristine request, as the reference's eval(answer) is).
//   judge_abduction  the answer's arguments as data (compat: other text evaluated in a request of its own), then the
//                    validated f called on them exactly as validate called it, in a fresh request: value == gold.
//   judge_induction  per hidden pair, one request: the answer's f called on the input as data; value == gold.
// Validation and grading send byte-identical call requests for the same arguments, so a program cannot tell them
// apart; an answer never runs in a request that calls the f it is judged by, nor in one that holds a gold.
import { Buffer } from "node:buffer";
import type { Reply } from "./reply.ts";
import type { Guest, Spent } from "./guest.ts";
import type { Request, Result, Status } from "./protocol.ts";
import { script } from "./script.ts";
import {
  decodeValue,
  dict,
  encodeValue,
  NotLiteral,
  parseArguments,
  parseLiteral,
  pyEqual,
  tuple,
  type PyValue,
} from "./value/index.ts";

export interface VerdictContext {
  guest: Guest;
  /** The reference executor's quirks (its eval of answers, templates and validity rule). */
  compat: boolean;
}

type Op<K extends Request["op"]> = Extract<Request, { op: K }>;

/** Why a step could not produce its value: a result status and its error text. */
class Stop {
  constructor(
    readonly status: Status,
    readonly error: string,
  ) {}
}

const stopOf = (r: Reply): Stop => new Stop(r.s, r.e ?? r.s);
const isStop = (v: unknown): v is Stop => v instanceof Stop;

/** The reference's `(\s|^)?input\(` check (the optional group makes it any `input(`): a bare RuntimeError. */
const REFERENCE_INPUT_CALL = /input\(/;
/** The reference evaluates only the last line of `...f(<text>)`: a line break in the text breaks that template. */
const templateBreak = (text: string): Stop | null =>
  text.includes("\n") ? new Stop("error", "SyntaxError: the reference's last-line template cannot take a multi-line argument") : null;
const SYNTAX = /^(SyntaxError|IndentationError|TabError)\b/;

export async function perform(req: Request, ctx: VerdictContext): Promise<Result> {
  const spent: Spent = { ms: 0, waited: 0 };
  const t0 = performance.now();
  const result = await dispatch(req, ctx, spent);
  // Host work (parsing, comparing) counts; time queued behind other requests does not.
  result.ms = spent.ms + Math.max(0, performance.now() - t0 - spent.waited);
  return result;
}

function dispatch(req: Request, ctx: VerdictContext, spent: Spent): Promise<Result> {
  switch (req.op) {
    case "run":
      return run(req, ctx, spent);
    case "validate":
      return validate(req, ctx, spent);
    case "judge_deduction":
      return deduction(req, ctx, spent);
    case "judge_abduction":
      return abduction(req, ctx, spent);
    case "judge_induction":
      return induction(req, ctx, spent);
    case "script":
      return script(req, ctx.guest, spent);
  }
}

// ---- steps ----------------------------------------------------------------------------------------------------------

/** The program's marshalled code, or why it has none (a syntax error is the status "error", as running it would be). */
async function program(ctx: VerdictContext, code: string, spent: Spent): Promise<string | Stop> {
  const c = await ctx.guest.compile(code, spent);
  if (!c.ok) return stopOf(c.reply);
  return c.code ?? new Stop("error", c.syntax ?? "SyntaxError");
}

/** The encoding of `(args, kwargs)` as the driver's call op reads it. */
function encodeArguments(args: readonly PyValue[], kwargs: ReadonlyArray<readonly [string, PyValue]>): Uint8Array {
  return encodeValue(tuple([tuple(args), dict(kwargs)]));
}

/** The host-side parse of argument text, or null when it is not literal. */
function literalArguments(text: string): Uint8Array | null {
  try {
    const { args, kwargs } = parseArguments(text);
    return encodeArguments(args, kwargs);
  } catch (e) {
    if (e instanceof NotLiteral) return null;
    throw e;
  }
}

/** A guest's (args tuple, kwargs dict) answer, checked here before another request receives it. */
function checkedArguments(v: Uint8Array): Uint8Array | Stop {
  let value: PyValue;
  try {
    value = decodeValue(v);
  } catch (e) {
    return new Stop("crash", `malformed arguments from the guest: ${(e as Error).message}`);
  }
  const ok =
    typeof value === "object" && value !== null && !(value instanceof Uint8Array) && value.kind === "tuple" &&
    value.items.length === 2 && (value.items[0] as { kind?: string } | null)?.kind === "tuple" &&
    (value.items[1] as { kind?: string } | null)?.kind === "dict" &&
    (value.items[1] as { entries: ReadonlyArray<readonly [PyValue, PyValue]> }).entries.every(([k]) => typeof k === "string");
  return ok ? v : new Stop("crash", "malformed arguments from the guest");
}

/**
 * The arguments `f(<text>)` receives, as data: parsed here when literal; otherwise (unless `literalOnly`) evaluated
 * in a pristine request of their own, in the globals of `scope` (marshalled code) as the reference evaluates them.
 * That request's answer only decides what f receives, which whoever wrote the text controls anyway.
 */
async function argumentsOf(ctx: VerdictContext, text: string, scope: string | null, spent: Spent, literalOnly: boolean): Promise<Uint8Array | Stop> {
  const parsed = literalArguments(text);
  if (parsed) return parsed;
  if (literalOnly) return new Stop("ok", "answer: not literal arguments (outside compat mode an answer is never run)");
  const r = await ctx.guest.eval(scope, text, true, spent);
  if (r.s !== "ok") return stopOf(r);
  if (!r.v) return new Stop("invalid", `the arguments are not plain data (${r.e ?? "not comparable"})`);
  return checkedArguments(r.v);
}

/** A guest's answer value, or why it is not comparable. */
function valueOf(r: Reply, what: string): PyValue | Stop {
  if (!r.v) return new Stop("ok", `${what}: not comparable (${r.e ?? "not plain data"})`);
  try {
    return decodeValue(r.v);
  } catch (e) {
    return new Stop("ok", `${what}: malformed value from the guest: ${(e as Error).message}`);
  }
}

/** The gold output: the validation's encoding when the caller kept it, else its repr text parsed here. */
function goldOf(req: Op<"judge_deduction"> | Op<"judge_abduction">): PyValue | Stop {
  if (req.gold_value !== undefined) {
    try {
      return decodeValue(Buffer.from(req.gold_value, "base64"));
    } catch (e) {
      return new Stop("invalid", `gold_value: ${(e as Error).message}`);
    }
  }
  return goldText(req.gold);
}

function goldText(text: string): PyValue | Stop {
  try {
    return parseLiteral(text, { repr: true });
  } catch (e) {
    if (e instanceof NotLiteral) return new Stop("ok", `gold: not comparable, ${e.message}`);
    throw e;
  }
}

// ---- results --------------------------------------------------------------------------------------------------------

const failed = (s: Stop): Result => ({ status: s.status, error: s.error, ms: 0 });

/** A judge that could not reach a match: wrong, unless the request itself failed (deadline, memory, output cap, a
 * refused request). A crash is the judged code's doing (it killed its interpreter), so it is wrong too. */
function notMatched(s: Stop): Result {
  if (s.status === "timeout" || s.status === "memory" || s.status === "output_limit" || s.status === "invalid") return failed(s);
  return { status: "ok", correct: false, error: s.status === "ok" ? s.error : `${s.status}: ${s.error}`, ms: 0 };
}

const verdict = (correct: boolean, error?: string): Result =>
  correct ? { status: "ok", correct, ms: 0 } : { status: "ok", correct, error: error ?? "no match", ms: 0 };

/** run/validate's answer: the repr and, when plain data, the value (base64). */
function produced(r: Reply): Result {
  const result: Result = { status: "ok", output: r.o ?? "", ms: 0 };
  if (r.v) result.value = Buffer.from(r.v).toString("base64");
  return result;
}

/** The reference's validity rule: valid unless the last traceback line says "error"; valid ones get gold ''. */
function referenceValidity(report: string): Result {
  if (report.toLowerCase().includes("error")) return { status: "error", error: report, ms: 0 };
  return { status: "ok", output: "", error: report, ms: 0 };
}

// ---- ops ------------------------------------------------------------------------------------------------------------

async function run(req: Op<"run">, ctx: VerdictContext, spent: Spent): Promise<Result> {
  if (ctx.compat) {
    if (REFERENCE_INPUT_CALL.test(req.code) || REFERENCE_INPUT_CALL.test(req.input)) return failed(new Stop("error", "RuntimeError"));
    const broken = templateBreak(req.input);
    if (broken) return failed(broken);
  }
  const code = await program(ctx, req.code, spent);
  if (isStop(code)) return failed(code);
  const args = await argumentsOf(ctx, req.input, code, spent, false);
  if (isStop(args)) return failed(args);
  const r = await ctx.guest.call(code, args, spent);
  return r.s === "ok" ? produced(r) : failed(stopOf(r));
}

async function validate(req: Op<"validate">, ctx: VerdictContext, spent: Spent): Promise<Result> {
  const c = await ctx.guest.compile(req.code, spent);
  if (!c.ok) return failed(stopOf(c.reply));
  if (c.rule) return failed(new Stop("invalid", c.rule));
  if (c.code === null) return failed(new Stop("invalid", `syntax: ${c.syntax}`));
  if (ctx.compat && (REFERENCE_INPUT_CALL.test(req.code) || REFERENCE_INPUT_CALL.test(req.input))) {
    return failed(new Stop("error", "RuntimeError"));
  }
  const args = await argumentsOf(ctx, req.input, c.code, spent, false);
  if (isStop(args)) {
    if (args.status === "error" && SYNTAX.test(args.error)) return failed(new Stop("invalid", `syntax: ${args.error}`));
    return ctx.compat && args.status === "error" ? referenceValidity(args.error) : failed(args);
  }
  const r = await ctx.guest.call(c.code, args, spent);
  if (ctx.compat) {
    if (r.s === "error") return referenceValidity(r.e ?? "");
    if (r.s === "ok" && r.c !== true) return { status: "ok", output: "", error: "Exception: Non-deterministic code", ms: 0 };
  }
  if (r.s !== "ok") return failed(stopOf(r));
  if (r.c !== true) return failed(new Stop("invalid", `non-deterministic: two calls of f(${req.input.slice(0, 80)}) disagree (first: ${(r.o ?? "").slice(0, 80)})`));
  return produced(r);
}

async function deduction(req: Op<"judge_deduction">, ctx: VerdictContext, spent: Spent): Promise<Result> {
  const gold = goldOf(req);
  if (isStop(gold)) return notMatched(gold);
  let answer: PyValue | Stop;
  try {
    answer = parseLiteral(req.answer);
  } catch (e) {
    if (!(e instanceof NotLiteral)) throw e;
    if (!ctx.compat) return notMatched(new Stop("ok", `answer: ${e.message}`));
    // The reference's eval(answer), alone in a pristine request: nothing else is in that interpreter.
    const r = await ctx.guest.eval(null, req.answer, false, spent);
    answer = r.s === "ok" ? valueOf(r, "answer") : stopOf(r);
  }
  if (isStop(answer)) return notMatched(answer);
  return verdict(pyEqual(gold, answer));
}

async function abduction(req: Op<"judge_abduction">, ctx: VerdictContext, spent: Spent): Promise<Result> {
  const gold = goldOf(req);
  if (isStop(gold)) return notMatched(gold);
  if (ctx.compat) {
    if (REFERENCE_INPUT_CALL.test(req.code) || REFERENCE_INPUT_CALL.test(req.answer)) return notMatched(new Stop("error", "RuntimeError"));
    const broken = templateBreak(req.answer);
    if (broken) return notMatched(broken);
  }
  const code = await program(ctx, req.code, spent);
  if (isStop(code)) return notMatched(code);
  const args = await argumentsOf(ctx, req.answer, code, spent, !ctx.compat);
  if (isStop(args)) return notMatched(args.status === "invalid" ? new Stop("ok", `answer: ${args.error}`) : args);
  const r = await ctx.guest.call(code, args, spent);
  const value = r.s === "ok" ? valueOf(r, "f(answer)") : stopOf(r);
  if (isStop(value)) return notMatched(value);
  return verdict(pyEqual(gold, value));
}

async function induction(req: Op<"judge_induction">, ctx: VerdictContext, spent: Spent): Promise<Result> {
  const source = req.imports.map((i) => i + "\n").join("") + req.answer_code;
  if (ctx.compat && REFERENCE_INPUT_CALL.test(source)) return notMatched(new Stop("error", "RuntimeError"));
  const golds: PyValue[] = [];
  for (const [input, output] of req.pairs) {
    const gold = goldText(output);
    if (isStop(gold)) return notMatched(gold);
    const broken = ctx.compat ? templateBreak(input) : null;
    if (broken) return notMatched(broken);
    golds.push(gold);
  }
  const code = await program(ctx, source, spent);
  if (isStop(code)) return notMatched(code);
  // A hidden input that is not a literal is evaluated beside the gold imports only, never beside the answer's code.
  let scope: string | Stop | null = null;
  for (const [k, [input]] of req.pairs.entries()) {
    let args = literalArguments(input) ?? null;
    if (args === null) {
      scope ??= req.imports.length > 0 ? await program(ctx, req.imports.join("\n"), spent) : null;
      if (isStop(scope)) return notMatched(scope);
      const evaluated = await argumentsOf(ctx, input, scope, spent, false);
      if (isStop(evaluated)) return notMatched(evaluated.status === "invalid" ? new Stop("ok", `input ${k}: ${evaluated.error}`) : evaluated);
      args = evaluated;
    }
    // One request per pair, with its own deadline; the first miss decides.
    const r = await ctx.guest.call(code, args, spent);
    const value = r.s === "ok" ? valueOf(r, `pair ${k}`) : stopOf(r);
    if (isStop(value)) return notMatched(value);
    if (!pyEqual(golds[k]!, value)) return verdict(false, `pair ${k}: f(${input.slice(0, 80)}) != ${req.pairs[k]![1].slice(0, 80)}`);
  }
  return verdict(true);
}
