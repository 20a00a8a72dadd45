// The guest's ops (driver.py) as typed host calls: compile (once per program text, code-cache.ts), eval and
// call, and script (a whole program; not AZR). Each is one pristine request with the per-program deadline, and none carries a gold output: what the guest
// hands back is plain data for the host to judge (verdicts.ts). Lives as long as its Executor.
import { Buffer } from "node:buffer";
import { CodeCache } from "./code-cache.ts";
import type { Reply } from "./reply.ts";
import type { Pool } from "./pool.ts";
import { decodeValue, type PyValue } from "./value/index.ts";

/** Time one public request spent in guest requests: `ms` serving (queueing excluded), `waited` in total. */
export interface Spent {
  ms: number;
  waited: number;
}

/** What the compile op made of a program: its marshalled code (base64) or syntax error, and the validate rules'
 * refusal; or the reply of a compile request that failed (deadline, memory, too large). */
export type Compiled =
  | { ok: true; code: string | null; syntax: string | null; rule: string | null }
  | { ok: false; reply: Reply };

interface CompileEntry {
  compiled: Compiled;
  ms: number;
}

const malformed = (what: string): Reply => ({ s: "crash", e: `malformed ${what} from the guest` });

/** The str-or-None fields of the compile op's answer, a dict {'code': bytes | None, 'syntax', 'rule': str | None}. */
function compiledOf(v: PyValue): Compiled | null {
  if (typeof v !== "object" || v === null || v instanceof Uint8Array || v.kind !== "dict") return null;
  const field = (name: string) => v.entries.find(([k]) => k === name)?.[1];
  const code = field("code");
  const syntax = field("syntax");
  const rule = field("rule");
  if (!(code === null || code instanceof Uint8Array)) return null;
  if (!(syntax === null || typeof syntax === "string") || !(rule === null || typeof rule === "string")) return null;
  return { ok: true, code: code === null ? null : Buffer.from(code).toString("base64"), syntax, rule };
}

export class Guest {
  private readonly programs: CodeCache<CompileEntry>;

  constructor(
    private readonly pool: Pool,
    private readonly timeoutMs: number,
    private readonly maxRequestBytes: number,
  ) {
    this.programs = new CodeCache((code) => this.compileNow(code));
  }

  /** The program's compiled form; the compile request's time counts for the request that started it. */
  async compile(code: string, spent: Spent): Promise<Compiled> {
    const fresh = !this.programs.has(code);
    const t0 = performance.now();
    const entry = await this.programs.lookup(code);
    spent.waited += performance.now() - t0;
    if (fresh) spent.ms += entry.ms;
    return entry.compiled;
  }

  /** `text` as call arguments (value: (args tuple, kwargs dict)) or as an expression, in the globals of the
   * marshalled program `code` (or fresh ones). */
  eval(code: string | null, text: string, asArguments: boolean, spent: Spent): Promise<Reply> {
    const message: Record<string, unknown> = { op: "eval", text, arguments: asArguments };
    if (code !== null) message.code = code;
    return this.send(message, spent);
  }

  /** f(*args, **kwargs) twice in fresh globals of the marshalled program; `args` is the (tuple, dict) encoding. */
  call(code: string, args: Uint8Array, spent: Spent): Promise<Reply> {
    return this.send({ op: "call", code, args: Buffer.from(args).toString("base64") }, spent);
  }

  /** A whole program as __main__ (driver `script` op) with `stdin`, under `timeoutMs` (at most the executor's). */
  script(code: string, stdin: Uint8Array, timeoutMs: number | undefined, spent: Spent): Promise<Reply> {
    const message = { op: "script", code, stdin: Buffer.from(stdin).toString("base64") };
    return this.send(message, spent, Math.min(timeoutMs ?? this.timeoutMs, this.timeoutMs), true);
  }

  private async compileNow(code: string): Promise<CompileEntry> {
    const spent: Spent = { ms: 0, waited: 0 };
    const reply = await this.send({ op: "compile", code }, spent);
    if (reply.s !== "ok") return { compiled: { ok: false, reply }, ms: spent.ms };
    let compiled: Compiled | null = null;
    try {
      if (reply.v) compiled = compiledOf(decodeValue(reply.v));
    } catch {
      compiled = null;
    }
    return { compiled: compiled ?? { ok: false, reply: malformed("compile answer") }, ms: spent.ms };
  }

  private async send(message: Record<string, unknown>, spent: Spent, timeoutMs = this.timeoutMs, script = false): Promise<Reply> {
    const body = new TextEncoder().encode(JSON.stringify(message));
    if (body.length > this.maxRequestBytes) {
      return { s: "invalid", e: `request is ${body.length} bytes; maxRequestBytes is ${this.maxRequestBytes}` };
    }
    const t0 = performance.now();
    const { reply, ms } = await this.pool.run(body, timeoutMs, script);
    spent.waited += performance.now() - t0;
    spent.ms += ms;
    return reply;
  }
}
