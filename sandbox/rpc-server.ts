// The msgpack RPC server: an Executor behind length-prefixed frames (framing.ts) on stdio or TCP. Requests are
// answered as soon as each finishes (out of order), each carrying its id; any number of clients share one pool.
// Lives until stdin ends / the listener is closed. Protocol: PROTOCOL.md.
//
// Admission is bounded, so no client can make the server hold unbounded work or stall the others: a frame is at
// most `maxFrameBytes` (a longer length closes that connection), its msgpack shape is checked before it is decoded
// (msgpack-shape.ts), a connection has at most `maxInFlight` requests admitted, all connections together at most
// `maxPendingBytes` of admitted frames (one frame is always admitted when none is), and at most `maxConnections`
// are served at once. A connection at its limit stops being read (the socket is paused: TCP backpressure reaches
// the client) until an answer frees a place; nothing is queued without bound.
import { createServer, type Server, type Socket } from "node:net";
import { answer, maxMessageBytes, unreadable } from "./envelope.ts";
import { encodeFrame, FrameReader } from "./framing.ts";
import type { Executor } from "./index.ts";
import { DEFAULT_SHAPE, type ShapeLimits } from "./msgpack-shape.ts";

export interface ServerLimits extends ShapeLimits {
  /** Largest frame body; default envelope.ts maxMessageBytes (the executor's maxRequestBytes + 64 KiB). */
  maxFrameBytes: number;
  /** Requests admitted and not yet answered, per connection. */
  maxInFlight: number;
  /** Bytes of admitted, unanswered frames across all connections. */
  maxPendingBytes: number;
  /** Connections served at once (TCP); a further one is told so and closed. */
  maxConnections: number;
}

export function defaultLimits(ex: Executor): ServerLimits {
  return {
    ...DEFAULT_SHAPE,
    maxFrameBytes: maxMessageBytes(ex.options.maxRequestBytes),
    maxInFlight: 64,
    maxPendingBytes: 64 << 20,
    maxConnections: 64,
  };
}

/** The admitted-bytes budget that all connections of one server share; connections waiting on it are retried in
 * turn whenever bytes are released. */
class Budget {
  private used = 0;
  private readonly waiting = new Set<() => void>();

  constructor(private readonly max: number) {}

  tryTake(n: number): boolean {
    if (this.used > 0 && this.used + n > this.max) return false;
    this.used += n;
    return true;
  }

  release(n: number): void {
    this.used -= n;
    for (const retry of [...this.waiting]) retry();
  }

  wait(retry: () => void): void {
    this.waiting.add(retry);
  }

  forget(retry: () => void): void {
    this.waiting.delete(retry);
  }
}

/** Something frames can be written to, whose reading can be paused: a TCP socket or the process's stdio. */
interface Stream {
  write(bytes: Uint8Array): void;
  end(): void;
  pause(): void;
  resume(): void;
  onData(f: (chunk: Uint8Array) => void): void;
  onEnd(f: () => void): void;
}

/** Serves one byte stream; resolves when the input has ended and every answer has been written. */
function serveStream(ex: Executor, io: Stream, limits: ServerLimits, budget: Budget): Promise<void> {
  const reader = new FrameReader(limits.maxFrameBytes, limits);
  const inFlight = new Set<Promise<void>>();
  const send = (v: unknown) => io.write(encodeFrame(v));
  let closed = false;
  let ended = false;
  let done = false;
  let held: { bytes: number; run: () => Promise<unknown> } | null = null; // a frame taken but not yet admitted
  return new Promise((resolve) => {
    // Called after pump() could not admit more: with the input ended and nothing in flight, what is left in the
    // reader is an incomplete frame.
    const finishIfDone = () => {
      if (done || !ended || inFlight.size > 0 || held !== null) return;
      done = true;
      if (!closed && reader.pending > 0) send(unreadable(`truncated frame: ${reader.pending} bytes at end of stream`));
      budget.forget(pump);
      resolve();
    };
    const admit = (bytes: number, run: () => Promise<unknown>) => {
      const job: Promise<void> = run()
        .then(send, (e: Error) => send(unreadable(`executor: ${e.message}`)))
        .finally(() => {
          inFlight.delete(job);
          budget.release(bytes);
          pump();
          finishIfDone();
        });
      inFlight.add(job);
    };
    function pump(): void {
      while (!closed && inFlight.size < limits.maxInFlight) {
        if (held === null) {
          const at = reader.pending;
          let frame;
          try {
            frame = reader.take();
          } catch (e) {
            // An oversized length cannot be skipped safely: say why, then hang up on this stream only.
            send(unreadable(`malformed frame: ${(e as Error).message}; closing the connection`));
            closed = true;
            io.end();
            break;
          }
          if (frame === null) break;
          const bytes = at - reader.pending;
          const f = frame;
          held = {
            bytes,
            run: () => ("problem" in f ? Promise.resolve(unreadable(`malformed frame: ${f.problem}`)) : answer(ex, f.value)),
          };
        }
        if (!budget.tryTake(held.bytes)) {
          budget.wait(pump);
          break;
        }
        budget.forget(pump);
        admit(held.bytes, held.run);
        held = null;
      }
      // Read on only while this connection has room: otherwise the kernel's buffers fill and the client waits.
      if (!closed && inFlight.size < limits.maxInFlight && held === null) io.resume();
      else io.pause();
    }
    io.onData((chunk) => {
      if (closed) return;
      reader.append(chunk);
      pump();
    });
    io.onEnd(() => {
      ended = true;
      pump();
      finishIfDone();
    });
  });
}

/** `serve --stdio`: frames in on stdin, out on stdout. Resolves at end of stdin after the last answer. */
export function serveStdio(ex: Executor, limits: ServerLimits = defaultLimits(ex)): Promise<void> {
  const stdin = process.stdin;
  return serveStream(
    ex,
    {
      write: (b) => process.stdout.write(b),
      end: () => stdin.destroy(),
      pause: () => stdin.pause(),
      resume: () => stdin.resume(),
      onData: (f) => stdin.on("data", (c: Buffer) => f(new Uint8Array(c.buffer, c.byteOffset, c.length))),
      onEnd: (f) => stdin.on("end", f),
    },
    limits,
    new Budget(limits.maxPendingBytes),
  );
}

/** `serve --listen HOST:PORT`: one stream per connection. Port 0 picks a free port; read it from `address()`. */
export async function listen(ex: Executor, host: string, port: number, limits: ServerLimits = defaultLimits(ex)): Promise<Server> {
  const budget = new Budget(limits.maxPendingBytes);
  let connections = 0;
  const server = createServer((socket: Socket) => {
    socket.on("error", () => socket.destroy()); // a client that vanished mid-write only loses its own answers
    if (connections >= limits.maxConnections) {
      socket.end(encodeFrame(unreadable(`server busy: ${limits.maxConnections} connections already open`)));
      return;
    }
    connections++;
    socket.once("close", () => connections--);
    void serveStream(
      ex,
      {
        write: (b) => void (socket.writable && socket.write(b)),
        end: () => socket.end(),
        pause: () => socket.pause(),
        resume: () => socket.resume(),
        onData: (f) => socket.on("data", (c: Buffer) => f(new Uint8Array(c.buffer, c.byteOffset, c.length))),
        onEnd: (f) => socket.on("end", f),
      },
      limits,
      budget,
    ).then(() => socket.writable && socket.end());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
