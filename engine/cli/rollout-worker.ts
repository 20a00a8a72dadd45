// `bun run rollout-worker --nats nats://HOST:PORT [--stream S] [--name NAME]`
// A rollout worker for a learner started with `bun run train --rollout-workers nats://HOST:PORT`: it pulls generation
// batches from the stream's work queue, loads the published weights on this machine's WebGPU adapter and sends back
// token ids and log-probs. Runs until SIGINT/SIGTERM (the job in hand is finished first). Exit codes: 0 stopped,
// 2 bad flag or URL, 1 other.
import { natsUrlProblem } from "../../sandbox/index.ts";
import { DEFAULT_STREAM, ProtocolError } from "../rollout-workers/protocol.ts";
import { RolloutWorker } from "../rollout-workers/worker.ts";
import { parseFlagValues, runMain, UsageError } from "./usage.ts";

const USAGE = `usage: bun run rollout-worker --nats nats://HOST:PORT [--stream S] [--name NAME]
  --nats URL     the learner's nats-server (JetStream enabled)
  --stream S     the learner's rollout stream (default ${DEFAULT_STREAM})
  --name NAME    this worker's name in logs and results (default host:pid)
  --help         this text`;

function parseWorkerArgs(argv: string[]): { url: string; stream: string; name?: string } | "help" {
  const v = parseFlagValues(argv, { nats: { type: "string" }, stream: { type: "string" }, name: { type: "string" }, help: { type: "boolean", short: "h" } });
  if (v.help) return "help";
  if (typeof v.nats !== "string") throw new UsageError("--nats nats://HOST:PORT is required");
  const problem = natsUrlProblem(v.nats);
  if (problem) throw new UsageError(`--nats ${problem}`);
  return { url: v.nats, stream: typeof v.stream === "string" ? v.stream : DEFAULT_STREAM, name: typeof v.name === "string" ? v.name : undefined };
}

async function main(argv: string[]): Promise<number> {
  const args = parseWorkerArgs(argv);
  if (args === "help") {
    console.log(USAGE);
    return 0;
  }
  const worker = await RolloutWorker.connect(args.url, { stream: args.stream, name: args.name, log: (line) => process.stderr.write(`${line}\n`) });
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => worker.stop());
  await worker.run();
  await worker.close();
  return 0;
}

if (import.meta.main) runMain("rollout-worker", USAGE, main, [ProtocolError]);
