// A small client for the RPC server (rpc-server.ts, PROTOCOL.md): `submit` sends one request and resolves with its
// own result, however the server orders its answers. One client = one connection (TCP) or one child server (stdio).
import { connect as tcpConnect, type Socket } from "node:net";
import { spawn, type Subprocess } from "bun";
import { encodeFrame, FrameReader } from "./framing.ts";
import type { IdResult, Request, Result } from "./protocol.ts";

type Waiter = { resolve: (r: Result) => void; reject: (e: Error) => void };

export class ExecutorClient {
  private nextId = 1;
  private readonly waiting = new Map<number, Waiter>();
  private readonly reader = new FrameReader();
  private failure: Error | null = null;

  private constructor(
    private readonly write: (bytes: Uint8Array) => void,
    private readonly shutdown: () => Promise<void>,
  ) {}

  /** Connects to `bun run executor serve --listen HOST:PORT`. */
  static connect(opts: { host?: string; port: number }): Promise<ExecutorClient> {
    return new Promise((resolve, reject) => {
      const socket: Socket = tcpConnect(opts.port, opts.host ?? "127.0.0.1");
      const client = new ExecutorClient(
        (b) => void socket.write(b),
        () => new Promise((done) => (socket.destroyed ? done() : socket.end(done))),
      );
      socket.once("connect", () => resolve(client));
      socket.once("error", (e) => (client.failure ? undefined : reject(e)));
      socket.on("error", (e) => client.fail(e));
      socket.on("data", (c: Buffer) => client.receive(c));
      socket.on("close", () => client.fail(new Error("executor connection closed")));
    });
  }

  /** Starts a private server (`bun sandbox/cli.ts serve --stdio ...args`) and talks to it over its stdio. */
  static async spawn(args: string[] = []): Promise<ExecutorClient> {
    const child: Subprocess<"pipe", "pipe", "inherit"> = spawn(
      [process.execPath, new URL("./cli.ts", import.meta.url).pathname, "serve", "--stdio", ...args],
      { stdin: "pipe", stdout: "pipe", stderr: "inherit" },
    );
    const client = new ExecutorClient(
      (b) => void child.stdin.write(b),
      async () => {
        await child.stdin.end();
        await child.exited;
      },
    );
    void (async () => {
      for await (const chunk of child.stdout) client.receive(chunk);
      client.fail(new Error(`executor server exited (code ${await child.exited})`));
    })();
    return client;
  }

  submit(req: Request): Promise<Result> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.write(encodeFrame({ ...req, id }));
    });
  }

  async close(): Promise<void> {
    await this.shutdown();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private receive(chunk: Uint8Array): void {
    for (const frame of this.reader.push(chunk)) {
      if ("problem" in frame) return this.fail(new Error(`executor sent a bad frame: ${frame.problem}`));
      const { id, ...result } = frame.value as IdResult;
      const w = typeof id === "number" ? this.waiting.get(id) : undefined;
      if (!w) return this.fail(new Error(`executor answered an unknown id ${JSON.stringify(id)}: ${result.error ?? ""}`));
      this.waiting.delete(id as number);
      w.resolve(result);
    }
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const w of this.waiting.values()) w.reject(e);
    this.waiting.clear();
  }
}
