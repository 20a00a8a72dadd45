// The seeded program generator of the warm start: typed, deterministic Python functions built as chains of ops
// (ops.ts), in graded difficulty (depth 0 is AZR's own seed, the identity; depth d chains d ops), with inputs
// drawn for their argument types. `draftProgram` is pure text; `realize` has the sandbox executor validate the
// program on its input and compute every output (nothing generated is evaluated in this process).
import type { Request, Result } from "../../sandbox/protocol.ts";
import { Rng } from "../rng.ts";
import type { InductionProgram, IoProgram } from "../tasks/types.ts";
import { ARG_TYPES, literal, type Op, OPS, type Ty } from "./ops.ts";

export const MAX_DEPTH = 4;
/** Inputs of an induction task (the reference's num_inputs). */
export const INDUCTION_INPUTS = 10;
const VARS = ["b", "c", "d", "e", "g"];
const SECOND_ARG = "n";

/** A program before execution: its text, how to draw inputs for it, and what it does. */
export interface Draft {
  snippet: string;
  depth: number;
  args: Ty[];
  message: string;
  /** Variables assigned by each op, in order (the last is returned); for execution traces. */
  steps: Array<{ variable: string; lines: string[] }>;
}

/** A generated program with every value computed by the executor. */
export interface GenProgram {
  snippet: string;
  depth: number;
  message: string;
  input: string;
  output: string;
  /** INDUCTION_INPUTS distinct inputs and their outputs (the first is `input`). */
  inputs: string[];
  outputs: string[];
  /** `name = value` after each op but the last (empty when traces are off or the depth is < 2). */
  trace: string[];
}

export interface ExecutorPort {
  submit(req: Request): Promise<Result>;
}

const opsFrom = (ty: Ty): Op[] => OPS.filter((op) => op.from === ty);

/** A program of `depth` ops on an argument of a random type; a depth ≥ 2 chain may take a second argument n. */
export function draftProgram(rng: Rng, depth: number): Draft {
  if (!Number.isInteger(depth) || depth < 0 || depth > MAX_DEPTH) throw new Error(`depth ${depth}: use 0..${MAX_DEPTH}`);
  const first = rng.pick(ARG_TYPES);
  if (depth === 0) return { snippet: "def f(a):\n    return a", depth, args: [first], message: "Write a function that returns whatever you input", steps: [] };
  const withN = depth >= 2 && rng.int(3) === 0;
  let usedN = false;
  let ty = first;
  let src = "a";
  const body: string[] = [];
  const says: string[] = [];
  const steps: Draft["steps"] = [];
  for (let i = 0; i < depth; i++) {
    // Every type has ops of its own, so any chain stays well typed.
    const op = rng.pick(opsFrom(ty));
    let k = "";
    if (op.k) {
      const [lo, hi] = op.k;
      const nFits = lo <= 1 && hi >= 4;
      if (withN && !usedN && nFits) {
        k = SECOND_ARG;
        usedN = true;
      } else k = String(lo + rng.int(hi - lo + 1));
    }
    const dst = VARS[i];
    const lines = op.lines(src, dst, k);
    body.push(...lines);
    steps.push({ variable: dst, lines });
    says.push(op.says(k === SECOND_ARG ? "n" : k));
    src = dst;
    ty = op.to;
  }
  const args: Ty[] = usedN ? [first, "int"] : [first];
  const params = usedN ? `a, ${SECOND_ARG}` : "a";
  const snippet = [`def f(${params}):`, ...body.map((l) => `    ${l}`), `    return ${src}`].join("\n");
  const message = `The function ${says.join(", then ")}${usedN ? " (n is the second argument, from 1 to 4)" : ""}.`;
  return { snippet, depth, args, message, steps };
}

/** Argument text for a draft: a literal per argument, n drawn from 1..4. */
function drawInput(rng: Rng, args: readonly Ty[]): string {
  return args.map((ty, i) => (i === 1 ? String(1 + rng.int(4)) : literal(ty, rng))).join(", ");
}

/**
 * Validates the draft on a fresh input in the executor, then finds INDUCTION_INPUTS distinct inputs that run.
 * Returns null when the program fails on its input (e.g. max of an empty list) or too few inputs run.
 */
async function realize(ex: ExecutorPort, draft: Draft, rng: Rng, traces: boolean): Promise<GenProgram | null> {
  const input = drawInput(rng, draft.args);
  const v = await ex.submit({ op: "validate", code: draft.snippet, input });
  if (v.status !== "ok" || v.output === undefined) return null;
  const inputs = [input];
  const outputs = [v.output];
  for (let tries = 0; inputs.length < INDUCTION_INPUTS && tries < 4 * INDUCTION_INPUTS; tries++) {
    const candidate = drawInput(rng, draft.args);
    if (inputs.includes(candidate)) continue;
    const r = await ex.submit({ op: "run", code: draft.snippet, input: candidate });
    if (r.status === "ok" && r.output !== undefined) {
      inputs.push(candidate);
      outputs.push(r.output);
    }
  }
  if (inputs.length < INDUCTION_INPUTS) return null;
  const trace: string[] = [];
  if (traces) {
    const header = draft.snippet.split("\n")[0];
    for (let i = 0; i < draft.steps.length - 1; i++) {
      const body = draft.steps.slice(0, i + 1).flatMap((s) => s.lines);
      const code = [header, ...body.map((l) => `    ${l}`), `    return ${draft.steps[i].variable}`].join("\n");
      const r = await ex.submit({ op: "run", code, input });
      if (r.status !== "ok" || r.output === undefined) return null;
      trace.push(`${draft.steps[i].variable} = ${r.output}`);
    }
  }
  return { snippet: draft.snippet, depth: draft.depth, message: draft.message, input, output: v.output, inputs, outputs, trace };
}

export interface PoolOptions {
  seed: number;
  size: number;
  traces: boolean;
  /** Fraction of programs at each depth 0..MAX_DEPTH (normalized). */
  depthMix: readonly number[];
  /** Snippets to leave out (a held-out pool excludes the training pool's programs). */
  exclude?: ReadonlySet<string>;
  onProgress?: (made: number) => void;
}

/** Depths drawn in proportion to depthMix (depth 0: the identity); distinct (snippet, input) pairs; deterministic by seed. */
export async function generatePool(ex: ExecutorPort, o: PoolOptions): Promise<GenProgram[]> {
  const rng = Rng.seeded(o.seed);
  const total = o.depthMix.reduce((a, b) => a + b, 0);
  const seen = new Set<string>();
  const out: GenProgram[] = [];
  for (let attempts = 0; out.length < o.size; attempts++) {
    if (attempts > 50 * o.size + 100) throw new Error(`program generator: only ${out.length} of ${o.size} programs after ${attempts} drafts`);
    let u = rng.float() * total;
    let depth = 0;
    while (depth < MAX_DEPTH && u >= o.depthMix[depth]) u -= o.depthMix[depth++];
    const draft = draftProgram(rng, depth);
    if (o.exclude?.has(draft.snippet)) continue;
    const p = await realize(ex, draft, rng, o.traces);
    if (p === null) continue;
    const key = `${p.snippet}\u0000${p.input}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(p);
    o.onProgress?.(out.length);
  }
  return out;
}

/** As a deduction/abduction buffer entry. */
export const asIo = (p: GenProgram): IoProgram => ({ snippet: p.snippet, input: p.input, output: p.output, imports: [], step: 0 });
/** As an induction buffer entry. */
export const asInduction = (p: GenProgram): InductionProgram => ({ snippet: p.snippet, inputs: p.inputs, outputs: p.outputs, message: p.message, imports: [], step: 0 });
