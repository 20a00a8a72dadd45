// The dashboard server (Bun.serve): the page at "/" and the JSON API of api.ts, for one or more run directories.
// It binds to 127.0.0.1 unless told otherwise, answers only GET, and bounds each answer (PAGE_RECORDS records, one
// step's samples), so a page left open on a long run costs one small read per second.
import { type MetricsPage, PAGE_RECORDS, type RunInfo, type StaticData } from "./api.ts";
import { pageHtml } from "./page.ts";
import { RunDir } from "./run-dir.ts";

export const DEFAULT_PORT = 8787;

/** The port is taken; the CLI prints the message and exits 2. */
export class PortInUse extends Error {}

export interface DashboardOptions {
  runs: string[];
  /** 0 = any free port. */
  port: number;
  hostname?: string;
}

export interface Dashboard {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** The API's answers, also used to build an exported report. */
export class DashboardData {
  readonly runs: RunDir[];

  constructor(dirs: readonly string[]) {
    this.runs = dirs.map((d) => new RunDir(d));
  }

  runInfos(): RunInfo[] {
    return this.runs.map((r, i) => (r.poll(), r.info(i)));
  }

  metrics(run: number, from: number, generation: number): MetricsPage {
    const r = this.runs[run];
    r.poll();
    const gen = r.generation();
    const start = gen === generation ? Math.min(from, r.recordCount()) : 0;
    return {
      run,
      generation: gen,
      from: start,
      records: r.recordsFrom(start, PAGE_RECORDS),
      total: r.recordCount(),
      sampleSteps: r.sampleSteps(),
      warnings: r.warnings(),
    };
  }

  /** Everything at once, for --export. */
  snapshot(): StaticData {
    const runs = this.runInfos();
    return {
      runs,
      metrics: this.runs.map((r, i) => ({ ...this.metrics(i, 0, r.generation()), records: r.recordsFrom(0, Infinity) })),
      samples: this.runs.map((r) => Object.fromEntries(r.sampleSteps().flatMap((step) => r.samples(step) ?? []).map((s) => [s.step, s]))),
      exportedAt: new Date().toISOString(),
    };
  }
}

const json = (body: unknown, status = 200): Response =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" } });

/** A non-negative integer query parameter, or null. */
function intParam(url: URL, name: string): number | null {
  const v = url.searchParams.get(name);
  return v !== null && /^\d{1,15}$/.test(v) ? Number(v) : null;
}

export async function startDashboard(o: DashboardOptions): Promise<Dashboard> {
  const data = new DashboardData(o.runs);
  const title = `AZR dashboard: ${data.runs.map((r) => r.name).join(" vs ")}`;
  const html = await pageHtml(title, null);
  const handle = (req: Request): Response => {
    if (req.method !== "GET") return json({ error: "only GET" }, 405);
    const url = new URL(req.url);
    const run = intParam(url, "run");
    const badRun = (): Response => json({ error: `run must be an index in 0…${data.runs.length - 1}` }, 400);
    switch (url.pathname) {
      case "/":
        return new Response(html, { headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" } });
      case "/api/runs":
        return json(data.runInfos());
      case "/api/metrics": {
        if (run === null || run >= data.runs.length) return badRun();
        return json(data.metrics(run, intParam(url, "from") ?? 0, Number(url.searchParams.get("gen") ?? -1)));
      }
      case "/api/samples": {
        if (run === null || run >= data.runs.length) return badRun();
        const step = intParam(url, "step");
        if (step === null) return json({ error: "step must be a whole number" }, 400);
        data.runs[run].poll();
        const got = data.runs[run].samples(step);
        return got ? json(got) : json({ error: `step ${step} has no recorded samples` }, 404);
      }
      default:
        return json({ error: `no such page ${url.pathname}` }, 404);
    }
  };
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({
      port: o.port,
      hostname: o.hostname ?? "127.0.0.1",
      fetch: (req) => {
        try {
          return handle(req);
        } catch (e) {
          return json({ error: (e as Error).message }, 500);
        }
      },
    });
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "EADDRINUSE" || /in use/i.test((e as Error).message)) {
      throw new PortInUse(`port ${o.port} is in use (another dashboard or server?); choose another with --port P, or --port 0 for any free port`);
    }
    throw e;
  }
  return { url: `http://${server.hostname}:${server.port}/`, port: server.port as number, stop: () => server.stop(true) };
}
