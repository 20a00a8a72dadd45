// One place that turns a decoded message (a JSON line or a msgpack frame) into an answered IdResult, shared by the
// batch CLI and the RPC server: the id is checked here, the request itself by Executor.submit (status "invalid").
import type { IdResult, Request, Submitter } from "./protocol.ts";

type Id = string | number;

/** The largest message (a JSON line, a msgpack frame body) worth reading for an executor that accepts requests of
 * `maxRequestBytes`: that plus 64 KiB for the id, field names and encoding overhead. A longer one cannot become a
 * request it would accept. */
export function maxMessageBytes(maxRequestBytes: number): number {
  return maxRequestBytes + 64 * 1024;
}

const isId = (v: unknown): v is Id => typeof v === "string" || (typeof v === "number" && Number.isFinite(v));

/** An `invalid` result for a message that could not be read at all (bad JSON, bad frame): it has no id. */
export function unreadable(problem: string): IdResult {
  return { id: null, status: "invalid", error: problem, ms: 0 };
}

/** Runs one `{id, op, ...}` message; never rejects for anything the message or the guest does. */
export async function answer(ex: Submitter, message: unknown): Promise<IdResult> {
  if (typeof message !== "object" || message === null || Array.isArray(message)) {
    return unreadable("message must be an object {id, op, ...}");
  }
  const { id, ...request } = message as Record<string, unknown>;
  if (!isId(id)) return unreadable(`message needs an "id" (string or number), got ${JSON.stringify(id) ?? "undefined"}`);
  const result = await ex.submit(request as unknown as Request);
  return { id, ...result };
}
