// `executor batch`: JSON lines in, JSON lines out, same order. Requests run concurrently (a bounded window, so a
// huge input streams in constant memory) and each answer is written as soon as all earlier ones are.
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { answer, unreadable } from "./envelope.ts";
import type { Executor } from "./index.ts";
import type { IdResult } from "./protocol.ts";

export interface BatchCounts {
  lines: number;
  byStatus: Record<string, number>;
}

function parseLine(ex: Executor, line: string, n: number): Promise<IdResult> {
  let message: unknown;
  try {
    message = JSON.parse(line);
  } catch (e) {
    return Promise.resolve(unreadable(`line ${n}: not JSON: ${(e as Error).message}`));
  }
  return answer(ex, message);
}

/** Reads every line of `input`, writes one result line per non-blank input line, and returns the tallies. */
export async function runBatch(
  ex: Executor,
  input: Readable,
  write: (line: string) => void,
  opts: { window: number; progress?: (c: BatchCounts) => void },
): Promise<BatchCounts> {
  const counts: BatchCounts = { lines: 0, byStatus: {} };
  const queue: Promise<IdResult>[] = [];
  const flushOne = async () => {
    const r = await queue.shift()!;
    counts.byStatus[r.status] = (counts.byStatus[r.status] ?? 0) + 1;
    write(JSON.stringify(r) + "\n");
    opts.progress?.(counts);
  };
  let n = 0;
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    n++;
    if (line.trim() === "") continue;
    counts.lines++;
    queue.push(parseLine(ex, line, n));
    while (queue.length >= opts.window) await flushOne();
  }
  while (queue.length > 0) await flushOne();
  return counts;
}
