// The one rule for a fleet address: `nats://HOST[:PORT]`, or several of them comma-separated (servers of one NATS
// cluster). Checked by the CLI and the trainer's config before anything connects.

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

/** The server list of a fleet address; throws with the reason when it is not one. */
export function natsServers(text: string): string[] {
  const problem = natsUrlProblem(text);
  if (problem) throw new Error(`bad NATS address: ${problem}`);
  return text.split(",").map((s) => s.trim());
}
