// `bun run bench http [--quick]`: requests/s of SandboxFusion's `POST /run_code` served by `executor serve --http`
// (a child process, as a user runs it), beside what SandboxFusion does per request minus its container: write the
// program to a fresh temporary file and run a native `python3` subprocess on it with the stdin, capturing stdout and
// stderr. Also the same scripts through Executor.submit in this process (no HTTP), so the HTTP cost shows. All in one
// run, on the same stdin programs; every answer is checked against the expected stdout before it counts.
import { availableParallelism, tmpdir } from "node:os";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawn } from "bun";
import { Executor } from "../sandbox/index.ts";
import { TORCH_PYTHON as NATIVE_PYTHON } from "../test/support/torch.ts";
import { printTable, writeResult } from "./report.ts";
import { awaitAnnouncement } from "../test/support/child-stderr.ts";

/** Typical code-RL submissions: read stdin, compute, print. */
const PROGRAMS: Array<{ code: string; stdin: string; stdout: string }> = [
  { code: "a, b = map(int, input().split())\nprint(a + b)", stdin: "20 22\n", stdout: "42\n" },
  {
    code: "import sys\nn = int(sys.stdin.readline())\nxs = sorted(map(int, sys.stdin.readline().split()))\nprint(*xs[:3])",
    stdin: "6\n5 3 9 1 7 2\n",
    stdout: "1 2 3\n",
  },
  {
    code: "from collections import Counter\ns = input().strip()\nc = Counter(s)\nprint(max(sorted(c), key=c.get), len(c))",
    stdin: "mississippi\n",
    stdout: "i 4\n",
  },
  {
    code: "n = int(input())\ndp = [0, 1]\nfor i in range(2, n + 1):\n    dp.append((dp[-1] + dp[-2]) % 1000000007)\nprint(dp[n])",
    stdin: "5000\n",
    stdout: "",
  },
];

interface Row {
  name: string;
  inFlight: number;
  perSecond: number;
  p50: number;
  p99: number;
}

const pct = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

/** `n` calls of `one(i)` with `inFlight` at a time; latency per call; throws if an answer is wrong. */
async function measure(name: string, n: number, inFlight: number, one: (i: number) => Promise<string>): Promise<Row> {
  const latency: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: inFlight }, async () => {
    for (let i = next++; i < n; i = next++) {
      const s = performance.now();
      const out = await one(i);
      latency.push(performance.now() - s);
      const want = PROGRAMS[i % PROGRAMS.length]!.stdout;
      if (out !== want) throw new Error(`${name}: program ${i % PROGRAMS.length} printed ${JSON.stringify(out)}, expected ${JSON.stringify(want)}`);
    }
  }));
  const row = { name, inFlight, perSecond: n / ((performance.now() - t0) / 1000), p50: pct(latency, 0.5), p99: pct(latency, 0.99) };
  process.stderr.write(`  ${name} (${inFlight} in flight): ${row.perSecond.toFixed(0)} requests/s\n`);
  return row;
}

/** The expected stdout of programs whose answer is long to write by hand: native python's. */
async function fillExpected(): Promise<void> {
  for (const p of PROGRAMS) {
    if (p.stdout !== "") continue;
    p.stdout = await native(p.code, p.stdin, mkdtempSync(join(tmpdir(), "azr-bench-http-")));
  }
}

/** What SandboxFusion does per request, minus the container: a fresh file, a python3 process, pipes. */
async function native(code: string, stdin: string, dir: string): Promise<string> {
  const file = join(dir, `main-${Math.random().toString(36).slice(2)}.py`);
  writeFileSync(file, code);
  const p = spawn([NATIVE_PYTHON, file], { stdin: new TextEncoder().encode(stdin), stdout: "pipe", stderr: "pipe" });
  const [out] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  rmSync(file);
  return out;
}

/** `bun sandbox/cli.ts serve --http 127.0.0.1:0`, resolved with its base URL once it says where it listens. */
async function startServer(workers: number): Promise<{ url: string; stop: () => Promise<void> }> {
  const cli = join(import.meta.dir, "../sandbox/cli.ts");
  const child = spawn([process.execPath, cli, "serve", "--http", "127.0.0.1:0", "--workers", String(workers), "--max-in-flight", "256"], {
    stdout: "ignore",
    stderr: "pipe",
  });
  const { match } = await awaitAnnouncement(child, /HTTP on ([\d.]+):(\d+)/, "executor serve --http");
  return { url: `http://${match[1]}:${match[2]}`, stop: async () => void (child.kill(), await child.exited) };
}

export async function main(args: string[]): Promise<void> {
  const quick = args.includes("--quick");
  const n = quick ? 200 : 800;
  const cores = availableParallelism();
  const inFlight = 16;
  const warm = quick ? 300 : 1000; // the executor's workers reach steady state after about a thousand programs
  await fillExpected();
  const rows: Row[] = [];

  const server = await startServer(cores);
  try {
    const runCode = async (i: number) => {
      const p = PROGRAMS[i % PROGRAMS.length]!;
      const res = await fetch(`${server.url}/run_code`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ code: p.code, stdin: p.stdin, language: "python", run_timeout: 10, compile_timeout: 10, files: {}, fetch_files: [] }),
      });
      const body = (await res.json()) as { status: string; run_result: { stdout: string } | null };
      return body.status === "Success" ? body.run_result!.stdout : `${body.status}: ${JSON.stringify(body)}`;
    };
    await measure("warm-up", warm, inFlight, runCode);
    rows.push(await measure(`HTTP /run_code (serve --http, ${cores} workers)`, n, inFlight, runCode));
  } finally {
    await server.stop();
  }

  {
    await using ex = await Executor.create({ workers: cores });
    const submit = async (i: number) => {
      const p = PROGRAMS[i % PROGRAMS.length]!;
      const r = await ex.submit({ op: "script", code: p.code, stdin: p.stdin });
      return r.status === "ok" && r.exit_code === 0 ? r.stdout! : `${r.status}: ${r.error}`;
    };
    await measure("warm-up", warm, inFlight, submit);
    rows.push(await measure(`Executor.submit script (in process, ${cores} workers)`, n, inFlight, submit));
  }

  const dir = mkdtempSync(join(tmpdir(), "azr-bench-http-"));
  try {
    const proc = (i: number) => native(PROGRAMS[i % PROGRAMS.length]!.code, PROGRAMS[i % PROGRAMS.length]!.stdin, dir);
    const nNative = Math.max(40, Math.floor(n / 4));
    rows.push(await measure(`native python3 subprocess per request`, nNative, cores, proc));
    rows.push(await measure(`native python3 subprocess per request`, nNative, inFlight, proc));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const best = Math.max(...rows.filter((r) => r.name.startsWith("native")).map((r) => r.perSecond));
  printTable(
    ["path", "in flight", "requests/s", "× native", "p50 ms", "p99 ms"],
    rows.map((r) => [r.name, String(r.inFlight), r.perSecond.toFixed(0), (r.perSecond / best).toFixed(2), r.p50.toFixed(1), r.p99.toFixed(1)]),
  );
  console.log(`(${cores} cores; × native = against the faster native row; ${NATIVE_PYTHON} ${PROGRAMS.length} stdin programs in turn)`);
  const file = writeResult("http", { date: new Date().toISOString(), cores, quick, requests: n, rows, python: NATIVE_PYTHON });
  console.log(`wrote ${file}`);
}
