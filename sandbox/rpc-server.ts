// The msgpack RPC server: an Executor behind length-prefixed frames (framing.ts) on stdio or TCP. Requests are
// answered as soon as each finishes (out of order), each carrying its id; any number of clients share one pool.
// Lives until stdin ends / the listener is closed. Protocol: PROTOCOL.md.
import { createServer, type Server, type Socket } from "node:net";
import { answer, unreadable } from "./envelope.ts";
import { encodeFrame, FrameReader } from "./framing.ts";
import type { Executor } from "./index.ts";

/** Something frames can be written to and that reports incoming bytes: a TCP socket or the process's stdio. */
interface Duplex {
  write(bytes: Uint8Array): void;
  end(): void;
}

/** Serves one byte stream; resolves when the input has ended and every answer has been written. */
function serveStream(ex: Executor, out: Duplex, onData: (f: (chunk: Uint8Array) => void) => void, onEnd: (f: () => void) => void): Promise<void> {
  const reader = new FrameReader();
  const inFlight = new Set<Promise<void>>();
  const send = (v: unknown) => out.write(encodeFrame(v));
  return new Promise((resolve) => {
    let closed = false;
    onData((chunk) => {
      if (closed) return;
      let frames;
      try {
        frames = reader.push(chunk);
      } catch (e) {
        // An oversized length cannot be skipped safely: say why, then hang up on this stream only.
        send(unreadable(`malformed frame: ${(e as Error).message}; closing the connection`));
        closed = true;
        out.end();
        return;
      }
      for (const f of frames) {
        const job = ("problem" in f ? Promise.resolve(unreadable(`malformed frame: ${f.problem}`)) : answer(ex, f.value))
          .then(send, (e: Error) => send(unreadable(`executor: ${e.message}`)))
          .finally(() => inFlight.delete(job));
        inFlight.add(job);
      }
    });
    onEnd(async () => {
      if (!closed && reader.pending > 0) send(unreadable(`truncated frame: ${reader.pending} bytes at end of stream`));
      await Promise.all(inFlight);
      resolve();
    });
  });
}

/** `serve --stdio`: frames in on stdin, out on stdout. Resolves at end of stdin after the last answer. */
export function serveStdio(ex: Executor): Promise<void> {
  const stdin = process.stdin;
  return serveStream(
    ex,
    { write: (b) => process.stdout.write(b), end: () => stdin.destroy() },
    (f) => stdin.on("data", (c: Buffer) => f(new Uint8Array(c.buffer, c.byteOffset, c.length))),
    (f) => stdin.on("end", f),
  );
}

/** `serve --listen HOST:PORT`: one stream per connection. Port 0 picks a free port; read it from `address()`. */
export async function listen(ex: Executor, host: string, port: number): Promise<Server> {
  const server = createServer((socket: Socket) => {
    socket.on("error", () => socket.destroy()); // a client that vanished mid-write only loses its own answers
    void serveStream(
      ex,
      { write: (b) => void (socket.writable && socket.write(b)), end: () => socket.end() },
      (f) => socket.on("data", (c: Buffer) => f(new Uint8Array(c.buffer, c.byteOffset, c.length))),
      (f) => socket.on("end", f),
    ).then(() => socket.writable && socket.end());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
