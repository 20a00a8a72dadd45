// A private nats-server (Debian's, setup.sh installs it) on a free loopback port, with JetStream in a temporary
// store, for the fleet and rollout tests: start it, kill it, start it again on the same port and store.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Announcing, awaitAnnouncement } from "./child-stderr.ts";

export function natsServerPath(): string {
  const found = process.env.NATS_SERVER ?? Bun.which("nats-server") ?? Bun.which("nats-server", { PATH: "/usr/sbin:/usr/bin" });
  if (!found) throw new Error("no nats-server on PATH: run ./setup.sh (it installs Debian's nats-server) or set NATS_SERVER=/path/to/nats-server");
  return found;
}

export class NatsServer {
  private proc: ReturnType<typeof Bun.spawn> | null = null;

  private constructor(
    readonly port: number,
    private readonly store: string,
  ) {}

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** Starts a server on a port the OS picks (`-p -1`), reading the port from its log. */
  static async start(): Promise<NatsServer> {
    const store = mkdtempSync(join(tmpdir(), "azr-nats-"));
    const { proc, port } = await launch(store, -1);
    const server = new NatsServer(port, store);
    server.proc = proc;
    return server;
  }

  /** SIGKILLs the server (clients see a lost connection); JetStream's store stays for `restart`. */
  async kill(): Promise<void> {
    if (!this.proc) return;
    this.proc.kill("SIGKILL");
    await this.proc.exited;
    this.proc = null;
  }

  /** Starts the server again on the same port and store (after `kill`). */
  async restart(): Promise<void> {
    await this.kill();
    this.proc = (await launch(this.store, this.port)).proc;
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.store, { recursive: true, force: true });
  }
}

async function launch(store: string, port: number): Promise<{ proc: ReturnType<typeof Bun.spawn>; port: number }> {
  const proc = Bun.spawn([natsServerPath(), "-a", "127.0.0.1", "-p", String(port), "-js", "-sd", store], { stdout: "ignore", stderr: "pipe" });
  const { match } = await awaitAnnouncement(proc as Announcing, /Listening for client connections on [\d.]+:(\d+)/, `nats-server on port ${port}`, 15_000);
  return { proc, port: Number(match[1]) };
}
