// What a `script` request printed: the host's copy of the program's fd-1 and fd-2 writes, each capped at
// `capBytes` with a truncation flag, plus the request's reply frame. In a script request fd 1 carries both the
// program's stdout and, last, the driver's reply, so the most recent fd-1 write is held back as the reply
// candidate and becomes stdout only when another fd-1 write follows it (or the request ends without a reply: a
// deadline, os._exit, a crash). A candidate is at most REPLY_CANDIDATE_BYTES (the driver's script reply is a few
// dozen bytes); a longer write is stdout at once. Bytes past a cap are counted, never copied. One per request.

/** Largest fd-1 write that may be the reply frame (status, exit code, ≤ 1000 characters of error text). */
const REPLY_CANDIDATE_BYTES = 8 * 1024;

/** A script's output as the host saw it; travels from the worker to the pool with the reply. */
export interface Captured {
  stdout: Uint8Array;
  stderr: Uint8Array;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  /** The request ended with a reply frame (guest-written: its status and exit code are checked by script.ts), not
   * by the host (a deadline, os._exit, a trap). */
  framed: boolean;
}

/** One capped byte stream: chunks up to the cap, and whether anything was dropped. */
class Capped {
  private readonly chunks: Uint8Array[] = [];
  private kept = 0;
  truncated = false;

  constructor(private readonly capBytes: number) {}

  /** `bytes` may be a view of guest memory: only what fits under the cap is copied. */
  append(bytes: Uint8Array): void {
    const room = this.capBytes - this.kept;
    if (bytes.length > room) this.truncated = true;
    const take = Math.min(room, bytes.length);
    if (take === 0) return;
    this.chunks.push(bytes.slice(0, take));
    this.kept += take;
  }

  bytes(): Uint8Array {
    return Buffer.concat(this.chunks);
  }
}

export class Capture {
  private readonly out: Capped;
  private readonly err: Capped;
  /** The latest fd-1 write, if it could be the reply frame. */
  private candidate: Uint8Array | null = null;

  constructor(capBytes: number) {
    this.out = new Capped(capBytes);
    this.err = new Capped(capBytes);
  }

  write(fd: 1 | 2, bytes: Uint8Array): void {
    if (fd === 2) return this.err.append(bytes);
    if (this.candidate) this.out.append(this.candidate);
    this.candidate = null;
    if (bytes.length <= REPLY_CANDIDATE_BYTES) this.candidate = bytes.slice();
    else this.out.append(bytes);
  }

  /** Whether an fd-1 write that could be a reply frame came last (the request-boundary check). */
  get replied(): boolean {
    return this.candidate !== null;
  }

  /** The reply frame: the last fd-1 write, taken out of stdout. */
  reply(): Uint8Array | null {
    return this.candidate;
  }

  /** The output; `withCandidate`: the request ended without a reply, so the last fd-1 write was stdout too. */
  captured(withCandidate: boolean): Captured {
    if (withCandidate && this.candidate) this.out.append(this.candidate);
    if (withCandidate) this.candidate = null;
    return {
      stdout: this.out.bytes(),
      stderr: this.err.bytes(),
      stdoutTruncated: this.out.truncated,
      stderrTruncated: this.err.truncated,
      framed: !withCandidate,
    };
  }
}
