// A fleet member as it is deployed: `bun sandbox/cli.ts serve --nats URL ...` in its own process (so it can be
// SIGKILLed), resolved once it is subscribed (its "executor: serving" line on stderr). For the fleet tests and bench.
import { spawn, type Subprocess } from "bun";
import { awaitAnnouncement } from "./child-stderr.ts";

const CLI = new URL("../../sandbox/cli.ts", import.meta.url).pathname;

export type Member = Subprocess<"ignore", "ignore", "pipe">;

export async function startMember(url: string, args: string[]): Promise<Member> {
  const proc = spawn([process.execPath, CLI, "serve", "--nats", url, ...args], { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  await awaitAnnouncement(proc, /executor: serving/, "executor member");
  return proc;
}
