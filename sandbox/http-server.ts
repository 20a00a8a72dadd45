// The executor over HTTP (Bun.serve): SandboxFusion's `POST /run_code` (sandbox-fusion.ts) and the protocol's ops as
// JSON, `POST /v1/submit` with one request object ({id?, op, ...}, PROTOCOL.md) answered with its Result. Lives until
// stop(). Admission is bounded: a body is at most `maxBodyBytes` (413) and must arrive within `bodyDeadlineMs`
// (408), at most `maxInFlight` requests are admitted at once across all connections and a further one is told so at
// once (503 with Retry-After) instead of queuing, and a run_code deadline is clamped to the executor's. Bad input (not JSON, a wrong field, another language) is a
// 4xx with a message that names the problem; nothing a request does stops the server.
import type { Server } from "bun";
import { maxMessageBytes, unreadable } from "./envelope.ts";
import type { Executor } from "./index.ts";
import type { Request } from "./protocol.ts";
import { runCodeRequest, runCodeResponse, sandboxError } from "./sandbox-fusion.ts";

export interface HttpLimits {
  /** Largest request body; default envelope.ts maxMessageBytes (maxRequestBytes + 64 KiB). */
  maxBodyBytes: number;
  /** Requests admitted at once, all connections together. */
  maxInFlight: number;
  /** How long a client may take to send its body: an admitted request holds a place, so a slow sender must not
   * keep it for ever (after the body, the executor's deadlines bound the wait). */
  bodyDeadlineMs: number;
}

export function defaultHttpLimits(ex: Executor): HttpLimits {
  return { maxBodyBytes: maxMessageBytes(ex.options.maxRequestBytes), maxInFlight: 64, bodyDeadlineMs: 30_000 };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) => Response.json(body, { status, headers });

/** Routes: path -> how a refusal is worded there (SandboxFusion's shape or the protocol's) and what answers it. */
type Route = {
  refuse: (message: string) => unknown;
  answer: (ex: Executor, body: unknown) => Promise<{ status: number; body: unknown }>;
};

const ROUTES: Record<string, Route> = {
  "/run_code": {
    refuse: sandboxError,
    answer: async (ex, body) => {
      const req = runCodeRequest(body, ex.options.timeoutMs);
      if ("problem" in req) return { status: 400, body: sandboxError(req.problem) };
      const r = await ex.submit(req);
      return { status: r.status === "invalid" ? 400 : 200, body: runCodeResponse(r) };
    },
  },
  "/v1/submit": {
    refuse: (message) => unreadable(message),
    answer: async (ex, body) => {
      if (typeof body !== "object" || body === null || Array.isArray(body)) {
        return { status: 400, body: unreadable("the body must be a JSON request object {op, ...}") };
      }
      const { id, ...request } = body as Record<string, unknown>;
      const r = await ex.submit(request as unknown as Request);
      return { status: 200, body: id === undefined ? r : { id, ...r } };
    },
  },
};

/** The body as text, null when it is longer than `max` bytes (read no further than that), or "late" when it has not
 * all arrived within `deadlineMs`. */
async function boundedBody(req: globalThis.Request, max: number, deadlineMs: number): Promise<string | null | "late"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), deadlineMs)));
  try {
    return await Promise.race([boundedText(req, max), late]);
  } finally {
    clearTimeout(timer);
  }
}

async function boundedText(req: globalThis.Request, max: number): Promise<string | null> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > max) return null;
  if (!req.body) return "";
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const chunk of req.body) {
    n += chunk.length;
    if (n > max) return null;
    parts.push(chunk);
  }
  return new TextDecoder().decode(Buffer.concat(parts));
}

export function serveHttp(ex: Executor, host: string, port: number, limits: HttpLimits = defaultHttpLimits(ex)): Server<undefined> {
  let inFlight = 0;
  const server: Server<undefined> = Bun.serve({
    hostname: host,
    port,
    maxRequestBodySize: 2 * limits.maxBodyBytes, // past our own cap, so that boundedBody answers with its message
    async fetch(req) {
      const path = new URL(req.url).pathname;
      if (path === "/v1/ping" && req.method === "GET") return new Response("pong");
      const route = ROUTES[path];
      if (!route) return json(404, { error: `no route ${path}; POST /run_code, POST /v1/submit, GET /v1/ping` });
      if (req.method !== "POST") return json(405, route.refuse(`${path} takes POST, not ${req.method}`), { allow: "POST" });
      if (inFlight >= limits.maxInFlight) {
        return json(503, route.refuse(`busy: ${inFlight} requests in flight (at most ${limits.maxInFlight}); retry later`), { "retry-after": "1" });
      }
      inFlight++;
      try {
        const text = await boundedBody(req, limits.maxBodyBytes, limits.bodyDeadlineMs);
        if (text === null) return json(413, route.refuse(`the body is longer than ${limits.maxBodyBytes} bytes`));
        if (text === "late") return json(408, route.refuse(`the body did not arrive within ${limits.bodyDeadlineMs} ms`));
        server.timeout(req, 0); // from here the executor's deadlines bound the wait, not the connection's idle timer
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch (e) {
          return json(400, route.refuse(`the body is not JSON: ${(e as Error).message}`));
        }
        const answered = await route.answer(ex, body);
        return json(answered.status, answered.body);
      } catch (e) {
        return json(500, route.refuse(`executor error: ${(e as Error).message}`));
      } finally {
        inFlight--;
      }
    },
  });
  return server;
}
