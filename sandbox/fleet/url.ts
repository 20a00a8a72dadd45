// The one rule for a fleet address: `nats://HOST[:PORT]`, or several of them comma-separated (servers of one NATS
// cluster), checked by the CLI and the trainer's config before anything connects; and how members and clients
// connect to it.
import { connect, type NatsConnection } from "@nats-io/transport-node";

/** Why `text` is not a fleet address, or null when it is. */
export function natsUrlProblem(text: string): string | null {
  const parts = text.split(",").map((s) => s.trim());
  for (const part of parts) {
    let u: URL;
    try {
      u = new URL(part);
    } catch {
      return `"${part}" is not a URL; use nats://HOST:PORT`;
    }
    if (u.protocol !== "nats:") return `"${part}" uses ${u.protocol}//; use nats://HOST:PORT`;
    if (u.hostname === "") return `"${part}" names no host; use nats://HOST:PORT`;
    if ((u.pathname !== "" && u.pathname !== "/") || u.search || u.hash) return `"${part}" has a path or query; use nats://HOST:PORT`;
  }
  return null;
}

/** Connects to the fleet's NATS server(s). After a lost connection it retries every 200 ms for as long as it takes
 * (a restarted server is back within a second or so); a first connection that fails rejects with the address. */
export async function connectFleet(url: string, name: string): Promise<NatsConnection> {
  const problem = natsUrlProblem(url);
  if (problem) throw new Error(`bad NATS address: ${problem}`);
  try {
    return await connect({ servers: url.split(",").map((s) => s.trim()), name, reconnectTimeWait: 200, maxReconnectAttempts: -1 });
  } catch (e) {
    throw new Error(`cannot reach the NATS server at ${url}: ${(e as Error).message}`);
  }
}
