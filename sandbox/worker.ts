// Bun Worker entry: one thread per interpreter, alive as long as the pool. Costs a thread, ~50 MiB of memory and
// the JIT warm-up of python.wasm (the first ~1000 programs run slower; keep workers long-lived). It receives the
// compiled Module once, then serves requests from its channel forever; instances are replaced inside the thread.
import { openChannel, take } from "./channel.ts";
import { Interpreter, type InterpreterConfig } from "./interpreter.ts";
import type { RestartReason } from "./protocol.ts";
import type { Reply } from "./reply.ts";

declare const self: Worker;

/** Messages the worker posts to the pool. */
export type WorkerMessage =
  | { type: "ready"; bootMs: number }
  | { type: "result"; seq: number; reply: Reply; restart: RestartReason | null }
  | { type: "ended"; reason: RestartReason }
  | { type: "fatal"; error: string };

export interface WorkerInit {
  module: WebAssembly.Module;
  sab: SharedArrayBuffer;
  config: InterpreterConfig;
}

self.onmessage = (event: MessageEvent<WorkerInit>) => {
  const { module, sab, config } = event.data;
  const channel = openChannel(sab);
  const send = (m: WorkerMessage) => self.postMessage(m);
  try {
    new Interpreter(module, config, {
      next: (lastSeq) => take(channel, lastSeq),
      done: (seq, reply, restart) => send({ type: "result", seq, reply, restart }),
      ready: (bootMs) => send({ type: "ready", bootMs }),
      ended: (reason) => send({ type: "ended", reason }),
    }).serveForever();
  } catch (e) {
    send({ type: "fatal", error: e instanceof Error ? e.message : String(e) });
  }
};
