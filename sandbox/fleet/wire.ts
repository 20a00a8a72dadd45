// What travels between a fleet client and a fleet member over NATS (core request-reply on a queue group): one call
// per message, msgpack both ways. A call carries the request and, optionally, the executor options its caller needs
// (a result depends only on code, input and those options); a member whose options differ refuses rather than
// answer with other semantics. While a member holds a call it says so every HEARTBEAT_MS, so a client can tell a
// slow member from a lost one without knowing how long a program may run.
import { pack } from "msgpackr";
import { decodeBody } from "../framing.ts";
import type { ExecutorOptions } from "../index.ts";
import type { Request, Result } from "../protocol.ts";

/** The subject members listen on (and their queue group's name) unless told otherwise. */
export const DEFAULT_SUBJECT = "azr.executor";

/** How often a member tells a caller that its call is still being worked on. */
export const HEARTBEAT_MS = 1000;

/** The options that decide a result (workers, spares and the like only decide speed). */
const RESULT_OPTIONS = [
  "timeoutMs", "memoryMiB", "outputBytes", "pristine", "hashSeed", "randomSeed", "compat", "bannedImports",
  "requireSingleDef", "maxRequestBytes",
] as const;
export type ResultOption = (typeof RESULT_OPTIONS)[number];
export type ExpectedOptions = Partial<Pick<ExecutorOptions, ResultOption>>;

export interface Call {
  req: Request;
  /** JSON of the ExpectedOptions the caller needs; absent = any member will do. */
  expect?: string;
}

export type Reply =
  | { kind: "result"; result: Result }
  /** Still working on it (sent every HEARTBEAT_MS while a member holds the call). */
  | { kind: "working" }
  /** At capacity: the call was not taken; send it again (another member may take it). */
  | { kind: "overloaded" }
  /** Will not run it, and no retry would change that (options differ, unreadable call, result too large). */
  | { kind: "refused"; error: string };

export const encode = (v: Call | Reply): Uint8Array => pack(v);

/** A message's msgpack body, shape-checked before it is decoded; throws with the reason when it is not one. */
export function decode(body: Uint8Array): unknown {
  const frame = decodeBody(body);
  if ("problem" in frame) throw new Error(frame.problem);
  return frame.value;
}

/** The result-deciding subset of `options` that was given (what a caller asks a fleet to match). */
export function expectedOf(options: ExecutorOptions): ExpectedOptions {
  return Object.fromEntries(RESULT_OPTIONS.filter((k) => options[k] !== undefined).map((k) => [k, options[k]]));
}

const canonical = (key: ResultOption, v: unknown): string =>
  JSON.stringify(key === "bannedImports" && Array.isArray(v) ? [...new Set(v)].sort() : v);

/** Why a member with resolved `actual` options cannot serve a caller that needs `expected`, or null. */
export function optionsProblem(expected: Record<string, unknown>, actual: Readonly<Required<ExecutorOptions>>): string | null {
  const differ: string[] = [];
  for (const [key, want] of Object.entries(expected)) {
    if (!(RESULT_OPTIONS as readonly string[]).includes(key)) differ.push(`${key}: not an option that decides results`);
    else if (canonical(key as ResultOption, want) !== canonical(key as ResultOption, actual[key as ResultOption])) {
      differ.push(`${key}: member has ${JSON.stringify(actual[key as ResultOption])}, caller needs ${JSON.stringify(want)}`);
    }
  }
  return differ.length ? `executor options differ (start \`executor serve --nats\` with matching flags): ${differ.join("; ")}` : null;
}
