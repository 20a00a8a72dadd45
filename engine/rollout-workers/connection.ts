// Reaching a nats-server: the URL check every entry point shares (config, CLI flags) and a connection that
// reconnects quickly and for ever, so a restarted server or a network blip only pauses the learner and its workers.
import { connect, type NatsConnection } from "@nats-io/transport-node";

export class NatsUrlError extends Error {
  override name = "NatsUrlError";
}

/**
 * `nats://HOST:PORT` → the `host:port` the client dials; anything else is an error that says what to write.
 *
 * @example natsServer("nats://10.0.0.5:4222")   // "10.0.0.5:4222"
 */
export function natsServer(url: string): string {
  const fix = "use nats://HOST:PORT, e.g. nats://127.0.0.1:4222";
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new NatsUrlError(`"${url}" is not a URL; ${fix}`);
  }
  if (u.protocol !== "nats:") throw new NatsUrlError(`"${url}": the scheme must be nats://; ${fix}`);
  if (u.hostname === "" || u.port === "") throw new NatsUrlError(`"${url}": name both the host and the port; ${fix}`);
  if (u.username || u.password || (u.pathname !== "" && u.pathname !== "/") || u.search || u.hash) {
    throw new NatsUrlError(`"${url}": only a host and a port are understood here; ${fix}`);
  }
  return `${u.hostname}:${u.port}`;
}

export async function connectNats(url: string, name: string): Promise<NatsConnection> {
  const servers = natsServer(url);
  try {
    return await connect({ servers, name, reconnectTimeWait: 200, maxReconnectAttempts: -1, timeout: 10_000 });
  } catch (e) {
    throw new Error(`cannot reach nats-server at ${url} (${(e as Error).message}); is it running with JetStream (nats-server -js)?`);
  }
}
