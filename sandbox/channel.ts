// The request channel between the pool (main thread) and one worker: a SharedArrayBuffer per worker, allocated
// once with the worker and reused for every request. The worker blocks in Atomics.wait on SEQ (inside the guest's
// fd_read); the pool writes a request, bumps SEQ and notifies. Replies travel back by postMessage.

const CTL_SEQ = 0; // request sequence number, bumped by the pool
const CTL_LEN = 1; // request byte length
const CTL_TIMEOUT = 2; // request deadline in ms
const CTL_SCRIPT = 3; // 1: a `script` request, whose fd-1/fd-2 writes the host captures (capture.ts)
const HEADER_BYTES = 64;

export interface Channel {
  sab: SharedArrayBuffer;
  ctl: Int32Array;
  data: Uint8Array;
}

export function createChannel(requestBytes: number): Channel {
  return openChannel(new SharedArrayBuffer(HEADER_BYTES + requestBytes));
}

export function openChannel(sab: SharedArrayBuffer): Channel {
  return { sab, ctl: new Int32Array(sab, 0, HEADER_BYTES / 4), data: new Uint8Array(sab, HEADER_BYTES) };
}

/** Pool side: hand a request to the (waiting) worker. */
export function post(ch: Channel, body: Uint8Array, timeoutMs: number, script = false): number {
  // The slot is an Int32: a larger or fractional deadline would be stored wrapped (pool.ts requestDeadline clamps).
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 2 ** 31 - 1) {
    throw new RangeError(`channel: deadline ${timeoutMs} ms does not fit the Int32 slot`);
  }
  ch.data.set(body);
  Atomics.store(ch.ctl, CTL_LEN, body.length);
  Atomics.store(ch.ctl, CTL_TIMEOUT, timeoutMs);
  Atomics.store(ch.ctl, CTL_SCRIPT, script ? 1 : 0);
  const seq = Atomics.add(ch.ctl, CTL_SEQ, 1) + 1;
  Atomics.notify(ch.ctl, CTL_SEQ);
  return seq;
}

export interface Incoming {
  seq: number;
  timeoutMs: number;
  script: boolean;
  body: Uint8Array;
}

/** Worker side: block until a request newer than `lastSeq` arrives. */
export function take(ch: Channel, lastSeq: number): Incoming {
  for (;;) {
    const seq = Atomics.load(ch.ctl, CTL_SEQ);
    if (seq !== lastSeq) {
      const len = Atomics.load(ch.ctl, CTL_LEN);
      const script = Atomics.load(ch.ctl, CTL_SCRIPT) === 1;
      return { seq, timeoutMs: Atomics.load(ch.ctl, CTL_TIMEOUT), script, body: ch.data.slice(0, len) };
    }
    Atomics.wait(ch.ctl, CTL_SEQ, seq);
  }
}
