// `executor batch`: JSON lines in, JSON lines out, same order. Requests run concurrently (a bounded window, so a
// huge input streams in constant memory) and each answer is written as soon as all earlier ones are. A line is at
// most `maxLineBytes` long: a longer one is answered `invalid` and its bytes are skipped as they stream past, never
// held, so neither a newline-free input nor one giant line can grow the process.
import type { Readable } from "node:stream";
import { answer, unreadable } from "./envelope.ts";
import type { IdResult, Submitter } from "./protocol.ts";

export interface BatchCounts {
  lines: number;
  byStatus: Record<string, number>;
}

/** A line too long to read: how many bytes it had when it was given up. */
type Line = string | { tooLong: number };

/** The lines of `input` (LF or CRLF), each at most `maxBytes` bytes; longer ones come out as `{ tooLong }`. */
export async function* boundedLines(input: AsyncIterable<Uint8Array | string>, maxBytes: number): AsyncGenerator<Line> {
  const decoder = new TextDecoder();
  let parts: Uint8Array[] = [];
  let held = 0;
  let skipped = 0; // > 0 while discarding the rest of an overlong line
  const finish = (): Line => {
    const line: Line = skipped > 0 ? { tooLong: skipped } : decoder.decode(Buffer.concat(parts)).replace(/\r$/, "");
    parts = [];
    held = 0;
    skipped = 0;
    return line;
  };
  for await (const raw of input) {
    let chunk = typeof raw === "string" ? new TextEncoder().encode(raw) : raw;
    for (let nl = chunk.indexOf(10); ; nl = chunk.indexOf(10)) {
      const piece = nl < 0 ? chunk : chunk.subarray(0, nl);
      if (skipped > 0 || held + piece.length > maxBytes) {
        skipped += held + piece.length;
        parts = [];
        held = 0;
      } else {
        parts.push(piece);
        held += piece.length;
      }
      if (nl < 0) break;
      yield finish();
      chunk = chunk.subarray(nl + 1);
    }
  }
  if (held > 0 || skipped > 0) yield finish();
}

function parseLine(ex: Submitter, line: string, n: number): Promise<IdResult> {
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
  ex: Submitter,
  input: Readable,
  write: (line: string) => void,
  opts: { window: number; maxLineBytes: number; progress?: (c: BatchCounts) => void },
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
  for await (const line of boundedLines(input, opts.maxLineBytes)) {
    n++;
    if (typeof line === "string" && line.trim() === "") continue;
    counts.lines++;
    queue.push(
      typeof line === "string"
        ? parseLine(ex, line, n)
        : Promise.resolve(unreadable(`line ${n} is ${line.tooLong} bytes; the limit is ${opts.maxLineBytes}`)),
    );
    while (queue.length >= opts.window) await flushOne();
  }
  while (queue.length > 0) await flushOne();
  return counts;
}
