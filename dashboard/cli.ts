// `bun run dashboard RUN_DIR [RUN_DIR2 …] [--port P] [--host H] [--export FILE]`
// Serve the live dashboard of one or more runs (several: compared on the same charts), or write a self-contained
// HTML report with --export. Exit codes: 0 done (or Ctrl-C), 2 bad flag, run directory or port, 1 other.
import { resolve } from "node:path";
import { runMain, UsageError } from "../engine/cli/usage.ts";
import { exportReport } from "./export.ts";
import { checkRunDir, RunDirProblem } from "./run-dir.ts";
import { DEFAULT_PORT, PortInUse, startDashboard } from "./server.ts";

const USAGE = `usage: bun run dashboard RUN_DIR [RUN_DIR2 …] [options]
  RUN_DIR        a run directory made by bun run train (its --out); two or more are compared on one chart
  --port P       port to serve on (default ${DEFAULT_PORT}; 0 = any free port)
  --host H       address to bind (default 127.0.0.1: only this machine)
  --export FILE  write one self-contained HTML report (data, script and styles inlined) and exit
  --help         this text`;

interface Flags {
  runs: string[];
  port: number;
  host: string;
  exportTo: string | null;
}

export function parseFlags(argv: readonly string[]): Flags | "help" {
  const flags: Flags = { runs: [], port: DEFAULT_PORT, host: "127.0.0.1", exportTo: null };
  const seen = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--help" || arg === "-h") return "help";
    if (!arg.startsWith("--")) {
      flags.runs.push(arg);
      continue;
    }
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2);
    if (!["port", "host", "export"].includes(name)) throw new UsageError(`unknown flag --${name}`);
    if (seen.has(name)) throw new UsageError(`--${name} given twice`);
    seen.add(name);
    const value = inline ?? argv[++i];
    if (value === undefined || (inline === undefined && value.startsWith("--"))) throw new UsageError(`--${name} needs a value`);
    if (name === "port") {
      if (!/^\d+$/.test(value) || Number(value) > 65535) throw new UsageError(`--port ${value}: use a whole number in 0…65535`);
      flags.port = Number(value);
    } else if (name === "host") flags.host = value;
    else flags.exportTo = value;
  }
  if (flags.runs.length === 0) throw new UsageError("give at least one run directory");
  return flags;
}

async function main(argv: string[]): Promise<number> {
  const flags = parseFlags(argv);
  if (flags === "help") {
    console.log(USAGE);
    return 0;
  }
  const dirs = flags.runs.map((d) => resolve(d));
  for (const d of dirs) checkRunDir(d);
  if (flags.exportTo !== null) {
    const out = resolve(flags.exportTo);
    const { bytes, steps } = await exportReport(dirs, out);
    process.stderr.write(`dashboard: wrote ${out} (${(bytes / 1024).toFixed(0)} KiB; ${steps.join(" + ")} steps)\n`);
    return 0;
  }
  const dash = await startDashboard({ runs: dirs, port: flags.port, hostname: flags.host });
  process.stderr.write(`dashboard: ${dash.url} (${dirs.join(", ")}); Ctrl-C to stop\n`);
  await new Promise<void>((done) => process.once("SIGINT", () => done()));
  await dash.stop();
  return 0;
}

if (import.meta.main) runMain("dashboard", USAGE, main, [RunDirProblem, PortInUse]);
