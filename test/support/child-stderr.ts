// A child process that announces itself on stderr (a server saying where it listens): wait for that line, then keep
// reading so the child never blocks on a full pipe. For the test and bench harnesses that start servers.

export interface Announcing {
  readonly stderr: ReadableStream<Uint8Array>;
  readonly exited: Promise<number>;
  kill(signal?: number | NodeJS.Signals): void;
}

export interface Announced {
  /** The first match of the pattern in what the child printed. */
  match: RegExpExecArray;
  /** Everything the child has printed on stderr so far (it keeps growing). */
  log(): string;
}

/**
 * Resolves once the child's stderr matches `pattern`. Rejects, naming `what` and quoting the output, when the child
 * exits first or, given `deadlineMs`, when that much time passes first (the child is then killed).
 */
export async function awaitAnnouncement(proc: Announcing, pattern: RegExp, what: string, deadlineMs?: number): Promise<Announced> {
  const reader = proc.stderr.getReader();
  const decoder = new TextDecoder();
  const until = deadlineMs === undefined ? Infinity : Date.now() + deadlineMs;
  let text = "";
  for (;;) {
    const read = reader.read();
    const chunk = until === Infinity ? await read : await Promise.race([read, Bun.sleep(Math.max(0, until - Date.now())).then(() => null)]);
    if (chunk === null) {
      proc.kill();
      throw new Error(`${what} printed nothing matching ${pattern} within ${deadlineMs} ms:\n${text}`);
    }
    if (chunk.done) throw new Error(`${what} exited (code ${await proc.exited}) before it printed ${pattern}:\n${text}`);
    text += decoder.decode(chunk.value, { stream: true });
    const match = pattern.exec(text);
    if (match) {
      void (async () => {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          text += decoder.decode(value, { stream: true });
        }
      })().catch(() => {});
      return { match, log: () => text };
    }
  }
}
