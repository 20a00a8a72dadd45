// `bun run executor <serve|batch> [options]`: the executor as a process — a msgpack RPC server (stdio or TCP) or a
// JSON-lines batch filter, either of them on a NATS fleet (fleet/). Options are checked before any interpreter
// starts; a bad one exits 2 with its name.
import { DEFAULT_MAX_REQUEST_BYTES, Executor, type ExecutorOptions, type Submitter } from "./index.ts";
import { runBatch } from "./batch.ts";
import { maxMessageBytes } from "./envelope.ts";
import { FleetClient } from "./fleet/client.ts";
import { FleetService } from "./fleet/service.ts";
import { natsUrlProblem } from "./fleet/url.ts";
import { DEFAULT_SUBJECT, expectedOf } from "./fleet/wire.ts";
import { defaultLimits, listen, serveStdio } from "./rpc-server.ts";
import { defaultHttpLimits, serveHttp } from "./http-server.ts";

const USAGE = `usage:
  bun run executor serve --stdio [options]              msgpack RPC on stdin/stdout (sandbox/PROTOCOL.md)
  bun run executor serve --listen HOST:PORT [options]   msgpack RPC over TCP (PORT 0 = any free port, printed)
  bun run executor serve --http HOST:PORT [options]     HTTP: SandboxFusion's POST /run_code, POST /v1/submit (JSON)
  bun run executor serve --nats nats://HOST:PORT [--subject S] [options]
                                                        join the fleet: the subject's queue group (SIGTERM drains)
  bun run executor batch [--nats nats://HOST:PORT] [options] < in.jsonl > out.jsonl
      one JSON request per line {"id", "op", ...}; one result per line {"id","status","output"?,"correct"?,"error"?,"ms"}, same order
      (--nats: run them on the fleet; the executor options given must match the members', else the run stops)
options:
  --workers N        interpreters (default: cores)        --spares N        standby interpreters (default 1)
  --timeout-ms MS    deadline per program (10000)         --memory-mib MIB  memory cap per interpreter (256)
  --output-bytes N   printed-output / repr cap (1 MiB)    --hash-seed N     PYTHONHASHSEED (0)
  --random-seed N    guest random_get seed (0)            --no-pristine     keep interpreter state between requests
  --compat           the reference executor's quirks      --single-def      validate: exactly one def
  --window N         batch: requests in flight (workers × 8)
  --progress         batch: a progress line on stderr
  --max-in-flight N  serve: requests admitted per connection before it stops being read (64);
                     --http: requests admitted at once, a further one is answered 503 (64);
                     serve --nats: calls held at once, more are answered "overloaded" (workers × 8)
  --subject S        --nats: the fleet's subject and queue group (${DEFAULT_SUBJECT})
  --banned-imports W,W  validate: words that may not be imported (default: the AZR list)
  --max-connections N  serve --listen: connections served at once (64)
limits: a request line / frame is at most maxRequestBytes (2 MiB) + 64 KiB; a frame at most 65 536 msgpack values,
  nested at most 16 deep; all connections together hold at most 64 MiB of admitted frames`;

class UsageError extends Error {}

interface Parsed {
  command: "serve" | "batch";
  stdio: boolean;
  listen?: { host: string; port: number };
  http?: { host: string; port: number };
  nats?: string;
  subject?: string;
  window?: number;
  maxInFlight?: number;
  maxConnections?: number;
  progress: boolean;
  options: ExecutorOptions;
}

const INT_FLAGS: Record<string, keyof ExecutorOptions | "window" | "maxInFlight" | "maxConnections"> = {
  "--workers": "workers",
  "--spares": "spares",
  "--timeout-ms": "timeoutMs",
  "--memory-mib": "memoryMiB",
  "--output-bytes": "outputBytes",
  "--hash-seed": "hashSeed",
  "--random-seed": "randomSeed",
  "--window": "window",
  "--max-in-flight": "maxInFlight",
  "--max-connections": "maxConnections",
};

export function parseArgs(argv: string[]): Parsed {
  const [command, ...rest] = argv;
  if (command !== "serve" && command !== "batch") {
    throw new UsageError(command === undefined ? "missing command" : `unknown command "${command}"`);
  }
  const p: Parsed = { command, stdio: false, progress: false, options: {} };
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i];
    const value = () => {
      const v = rest[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    if (flag in INT_FLAGS) {
      const raw = value();
      if (!/^\d+$/.test(raw)) throw new UsageError(`${flag} takes a whole number, got "${raw}"`);
      const key = INT_FLAGS[flag];
      if (key === "window" || key === "maxInFlight" || key === "maxConnections") p[key] = Number(raw);
      else (p.options as Record<string, number>)[key] = Number(raw);
    } else if (flag === "--no-pristine") p.options.pristine = false;
    else if (flag === "--compat") p.options.compat = true;
    else if (flag === "--single-def") p.options.requireSingleDef = true;
    else if (flag === "--progress") p.progress = true;
    else if (flag === "--stdio" && command === "serve") p.stdio = true;
    else if (flag === "--nats") {
      const url = value();
      const problem = natsUrlProblem(url);
      if (problem) throw new UsageError(`--nats: ${problem}`);
      p.nats = url;
    } else if (flag === "--subject") p.subject = value();
    else if (flag === "--banned-imports") p.options.bannedImports = value().split(",").filter((w) => w !== "");
    else if ((flag === "--listen" || flag === "--http") && command === "serve") {
      const raw = value();
      const m = /^(.+):(\d+)$/.exec(raw);
      if (!m || Number(m[2]) > 65535) throw new UsageError(`${flag} takes HOST:PORT, got "${raw}"`);
      p[flag === "--listen" ? "listen" : "http"] = { host: m[1], port: Number(m[2]) };
    } else throw new UsageError(`unknown option "${flag}" for ${command}`);
  }
  if (command === "serve" && [p.stdio, p.listen !== undefined, p.http !== undefined, p.nats !== undefined].filter(Boolean).length !== 1) {
    throw new UsageError("serve needs exactly one of --stdio, --listen HOST:PORT, --http HOST:PORT or --nats nats://HOST:PORT");
  }
  if (p.subject !== undefined && p.nats === undefined) throw new UsageError("--subject needs --nats");
  for (const [flag, v] of [["--window", p.window], ["--max-in-flight", p.maxInFlight], ["--max-connections", p.maxConnections]] as const) {
    if (v !== undefined && v < 1) throw new UsageError(`${flag} must be at least 1`);
  }
  return p;
}

/** Resolves on SIGINT or SIGTERM: a server runs until then. */
const untilSignal = () =>
  new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });

async function batch(p: Parsed, backend: Executor | FleetClient): Promise<void> {
  const started = performance.now();
  const local = backend instanceof Executor;
  const counts = await runBatch(backend as Submitter, process.stdin, (line) => process.stdout.write(line), {
    window: p.window ?? (local ? backend.workers * 8 : FLEET_WINDOW),
    maxLineBytes: maxMessageBytes(local ? backend.options.maxRequestBytes : DEFAULT_MAX_REQUEST_BYTES),
    progress: p.progress
      ? (c) => {
          if (c.lines % 100 === 0) {
            const rate = c.lines / ((performance.now() - started) / 1000);
            process.stderr.write(`\rexecutor batch: ${c.lines} done, ${rate.toFixed(0)}/s`);
          }
        }
      : undefined,
  });
  if (p.progress) process.stderr.write(`\rexecutor batch: ${counts.lines} done ${JSON.stringify(counts.byStatus)}\n`);
}

async function serve(p: Parsed, ex: Executor): Promise<void> {
  if (p.nats !== undefined) {
    const maxInFlight = p.maxInFlight ?? ex.workers * 8;
    const service = await FleetService.start(ex, { url: p.nats, subject: p.subject, maxInFlight });
    console.error(`executor: serving ${service.subject} on ${p.nats} (${ex.workers} workers, at most ${maxInFlight} calls held)`);
    await untilSignal();
    console.error(`executor: draining (${service.inFlight} calls held)`);
    await service.drain();
    return;
  }
  if (p.http) {
    const limits = { ...defaultHttpLimits(ex), ...(p.maxInFlight !== undefined ? { maxInFlight: p.maxInFlight } : {}) };
    const server = serveHttp(ex, p.http.host, p.http.port, limits);
    console.error(`executor: HTTP on ${server.hostname}:${server.port} (POST /run_code, POST /v1/submit)`);
    await untilSignal();
    await server.stop(true);
    return;
  }
  const limits = { ...defaultLimits(ex) };
  if (p.maxInFlight !== undefined) limits.maxInFlight = p.maxInFlight;
  if (p.maxConnections !== undefined) limits.maxConnections = p.maxConnections;
  if (p.stdio) return serveStdio(ex, limits);
  const server = await listen(ex, p.listen!.host, p.listen!.port, limits);
  const addr = server.address();
  console.error(`executor: listening on ${typeof addr === "object" && addr ? `${addr.address}:${addr.port}` : addr}`);
  await untilSignal();
  server.close();
}

/** batch --nats: calls out at once unless --window says otherwise. */
const FLEET_WINDOW = 64;

async function main(argv: string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(USAGE);
    return 0;
  }
  let p: Parsed;
  let backend: Executor | FleetClient;
  try {
    p = parseArgs(argv);
    backend =
      p.command === "batch" && p.nats !== undefined
        ? await FleetClient.connect({ url: p.nats, subject: p.subject, maxInFlight: p.window ?? FLEET_WINDOW, expect: expectedOf(p.options) })
        : await Executor.create(p.options);
  } catch (e) {
    console.error(`executor: ${(e as Error).message}\n${e instanceof UsageError ? USAGE : ""}`);
    return 2;
  }
  try {
    if (p.command === "batch") await batch(p, backend);
    else await serve(p, backend as Executor);
  } catch (e) {
    console.error(`executor: ${(e as Error).message}`); // e.g. a fleet member refused: options differ
    return 1;
  } finally {
    await backend.close();
  }
  return 0;
}

if (import.meta.main) process.exit(await main(process.argv.slice(2)));
