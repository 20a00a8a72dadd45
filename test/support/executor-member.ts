// A fleet member as it is deployed: `bun sandbox/cli.ts serve --nats URL ...` in its own process (so it can be
// SIGKILLed), resolved once it is subscribed (its "executor: serving" line on stderr). For the fleet tests and bench.
import { spawn, type Subprocess } from "bun";

const CLI = new URL("../../sandbox/cli.ts", import.meta.url).pathname;

export type Member = Subprocess<"ignore", "ignore", "pipe">;

export async function startMember(url: string, args: string[]): Promise<Member> {
  const proc = spawn([process.execPath, CLI, "serve", "--nats", url, ...args], { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  const reader = proc.stderr.getReader();
  const decoder = new TextDecoder();
  let log = "";
  while (!log.includes("executor: serving")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`executor member exited before serving (code ${await proc.exited}):\n${log}`);
    log += decoder.decode(value, { stream: true });
  }
  // Keep draining so the member never blocks on a full stderr pipe.
  void (async () => {
    while (!(await reader.read()).done);
  })().catch(() => {});
  return proc;
}
