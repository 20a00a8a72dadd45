// Our WASI preview1 host: deny by default. One per interpreter instance (a few objects; lives as long as the
// instance). The guest sees only what is granted here, and every import python.wasm declares is listed below:
//   args_get / args_sizes_get         the argv we chose (`python -S -s -P -c <driver> <config>`)
//   environ_get / environ_sizes_get   the environment we chose (PYTHONHASHSEED only; the guest has no other env)
//   clock_time_get / clock_res_get    a virtual clock: starts at VIRTUAL_EPOCH_NS, +1 µs per read, reset per request
//   random_get                        xorshift128+ from a seed, reset per request (deterministic)
//   poll_oneoff                       every subscription fires at once and advances the virtual clock (sleep is free;
//                                     the advance is counted in `sleptNs`, and `tick` runs after it)
//   fd_read (fd 0)                    the embedder's `read` callback (the request channel); other fds: EBADF
//   fd_write (fd 1, 2)                the embedder's `write` callback (counted, capped there); other fds: EBADF
//   fd_fdstat_get / fd_filestat_get   fds 0-2 are character devices with SEEK|TELL rights, so isatty() is false
//   fd_seek / fd_tell                 ESPIPE on fds 0-2
//   fd_close                          no-op on fds 0-2
//   fd_prestat_get                    EBADF: no preopened directories (the stdlib is served by wasi-vfs inside)
//   sched_yield                       the fuel tick (see wasm-rewrite.ts): calls `tick`, which may throw Deadline
//   proc_exit                         throws ProcExit (the instance is then discarded)
//   path_* (open, stat, mkdir, …)     ENOTCAPABLE        sock_*   ENOTSUP        every other fd_*   EBADF
// Every guest-memory write the host makes goes through `mark` so dirty-page restore sees it. Every import whose work
// grows with a guest-chosen size (fd_write, fd_read, random_get, poll_oneoff) checks the deadline (`tick`) before it
// starts and between chunks, refuses more than IOV_MAX buffers or subscriptions, and refuses ranges outside memory
// (EFAULT) — so no single host call outlasts the deadline by more than one chunk, and none copies guest memory
// that the embedder did not ask for (`write` receives a view, and copies only what it keeps).

export const VIRTUAL_EPOCH_NS = 1_700_000_000_000_000_000n;

const ERRNO = { SUCCESS: 0, BADF: 8, FAULT: 21, INVAL: 28, NOSYS: 52, NOTSUP: 58, SPIPE: 70, NOTCAPABLE: 76 } as const;
/** Most iovecs per fd_read/fd_write and subscriptions per poll_oneoff (POSIX IOV_MAX on WASI: 1024). */
export const IOV_MAX = 1024;
/** random_get fills this many bytes between two deadline checks. */
const RANDOM_CHUNK = 64 * 1024;
/** Largest byte count one read or write may move: the result must fit the guest's ssize_t. */
const SSIZE_MAX = 2 ** 31 - 1;
const FILETYPE_CHARACTER_DEVICE = 2;
const RIGHTS_STDIO = (1n << 1n) | (1n << 2n) | (1n << 5n) | (1n << 6n); // read, seek, tell, write

/** proc_exit: the guest asked to end; the instance cannot be resumed. */
export class ProcExit extends Error {
  constructor(readonly code: number) {
    super(`proc_exit(${code})`);
  }
}

export interface WasiHostOptions {
  args: string[];
  env: Record<string, string>;
  /** fd 0 read: fill `iovs` (guest addresses and lengths), return the byte count. May block. */
  read: (iovs: Array<{ ptr: number; len: number }>) => number;
  /** fd 1 / fd 2 write: a view of guest memory, valid only during the call (copy what you keep). */
  write: (fd: 1 | 2, bytes: Uint8Array) => void;
  /** The fuel tick and the deadline check of long host calls; throw to abandon the instance (deadline). */
  tick: () => void;
  /** Called for every guest-memory range the host writes. */
  mark?: (ptr: number, len: number) => void;
  randomSeed: number;
}

export class WasiHost {
  private memory: WebAssembly.Memory | null = null;
  private clockNs = VIRTUAL_EPOCH_NS;
  /** Virtual time that poll_oneoff (sleep) skipped since the last reset. */
  sleptNs = 0n;
  private rngState: [bigint, bigint] = [1n, 2n];
  private readonly argBytes: Uint8Array[];
  private readonly envBytes: Uint8Array[];

  constructor(private readonly opts: WasiHostOptions) {
    const enc = new TextEncoder();
    this.argBytes = opts.args.map((a) => enc.encode(a + "\0"));
    this.envBytes = Object.entries(opts.env).map(([k, v]) => enc.encode(`${k}=${v}\0`));
    this.reset();
  }

  bind(memory: WebAssembly.Memory): void {
    this.memory = memory;
  }

  /** Per-request determinism: the clock and the random stream restart. */
  reset(): void {
    this.clockNs = VIRTUAL_EPOCH_NS;
    this.sleptNs = 0n;
    const s = BigInt(this.opts.randomSeed >>> 0);
    this.rngState = [s ^ 0x9e3779b97f4a7c15n, (s << 17n) ^ 0xbf58476d1ce4e5b9n];
  }

  private view(): DataView {
    return new DataView(this.memory!.buffer);
  }

  private bytes(): Uint8Array {
    return new Uint8Array(this.memory!.buffer);
  }

  private writeU32(ptr: number, v: number): void {
    this.view().setUint32(ptr, v, true);
    this.opts.mark?.(ptr, 4);
  }

  private writeU64(ptr: number, v: bigint): void {
    this.view().setBigUint64(ptr, v, true);
    this.opts.mark?.(ptr, 8);
  }

  /** Whether [ptr, ptr + len) lies inside guest memory (both already unsigned: wasm passes i32 as signed). */
  private inMemory(ptr: number, len: number): boolean {
    return ptr >= 0 && len >= 0 && ptr + len <= this.memory!.buffer.byteLength;
  }

  /** The iovec array at `ptr`, or the errno that refuses it: too many, outside memory, or more than SSIZE_MAX bytes. */
  private iovs(ptr: number, count: number): Array<{ ptr: number; len: number }> | number {
    if (count > IOV_MAX) return ERRNO.INVAL;
    if (!this.inMemory(ptr, 8 * count)) return ERRNO.FAULT;
    const dv = this.view();
    const out: Array<{ ptr: number; len: number }> = [];
    let total = 0;
    for (let i = 0; i < count; i++) {
      const iov = { ptr: dv.getUint32(ptr + 8 * i, true), len: dv.getUint32(ptr + 8 * i + 4, true) };
      if (!this.inMemory(iov.ptr, iov.len)) return ERRNO.FAULT;
      total += iov.len;
      out.push(iov);
    }
    return total > SSIZE_MAX ? ERRNO.INVAL : out;
  }

  private nextRandom(): bigint {
    let [s1, s0] = this.rngState;
    const result = (s0 + s1) & 0xffffffffffffffffn;
    s1 ^= (s1 << 23n) & 0xffffffffffffffffn;
    s1 ^= s1 >> 17n;
    s1 ^= s0 ^ (s0 >> 26n);
    this.rngState = [s0, s1];
    return result;
  }

  private strings(list: Uint8Array[], ptrsPtr: number, bufPtr: number): number {
    const mem = this.bytes();
    let off = bufPtr;
    list.forEach((s, i) => {
      this.writeU32(ptrsPtr + 4 * i, off);
      mem.set(s, off);
      this.opts.mark?.(off, s.length);
      off += s.length;
    });
    return ERRNO.SUCCESS;
  }

  private sizes(list: Uint8Array[], countPtr: number, sizePtr: number): number {
    this.writeU32(countPtr, list.length);
    this.writeU32(sizePtr, list.reduce((n, s) => n + s.length, 0));
    return ERRNO.SUCCESS;
  }

  private isStdio(fd: number): boolean {
    return fd >= 0 && fd <= 2;
  }

  /** The import object: every function python.wasm imports from wasi_snapshot_preview1. */
  imports(): Record<string, Record<string, (...args: never[]) => number>> {
    const badf = () => ERRNO.BADF;
    const notcapable = () => ERRNO.NOTCAPABLE;
    const notsup = () => ERRNO.NOTSUP;
    const wasi = {
      args_get: (argv: number, buf: number) => this.strings(this.argBytes, argv, buf),
      args_sizes_get: (c: number, s: number) => this.sizes(this.argBytes, c, s),
      environ_get: (envp: number, buf: number) => this.strings(this.envBytes, envp, buf),
      environ_sizes_get: (c: number, s: number) => this.sizes(this.envBytes, c, s),
      clock_res_get: (_id: number, ptr: number) => (this.writeU64(ptr, 1000n), ERRNO.SUCCESS),
      clock_time_get: (_id: number, _precision: bigint, ptr: number) => {
        this.clockNs += 1000n;
        this.writeU64(ptr, this.clockNs);
        return ERRNO.SUCCESS;
      },
      random_get: (ptr: number, len: number) => {
        ptr >>>= 0;
        len >>>= 0;
        if (!this.inMemory(ptr, len)) return ERRNO.FAULT;
        const mem = this.bytes();
        this.opts.mark?.(ptr, len);
        for (let i = 0; i < len; i += 8) {
          if (i % RANDOM_CHUNK === 0) this.opts.tick();
          let r = this.nextRandom();
          for (let j = i; j < Math.min(i + 8, len); j++, r >>= 8n) mem[ptr + j] = Number(r & 0xffn);
        }
        return ERRNO.SUCCESS;
      },
      poll_oneoff: (inPtr: number, outPtr: number, nsubs: number, neventsPtr: number) => {
        [inPtr, outPtr, nsubs, neventsPtr] = [inPtr >>> 0, outPtr >>> 0, nsubs >>> 0, neventsPtr >>> 0];
        this.opts.tick();
        if (nsubs > IOV_MAX) return ERRNO.INVAL;
        if (!this.inMemory(inPtr, 48 * nsubs) || !this.inMemory(outPtr, 32 * nsubs) || !this.inMemory(neventsPtr, 4)) {
          return ERRNO.FAULT;
        }
        const dv = this.view();
        const before = this.clockNs;
        for (let i = 0; i < nsubs; i++) {
          const sub = inPtr + 48 * i;
          const tag = dv.getUint8(sub + 8);
          if (tag === 0) {
            const timeout = dv.getBigUint64(sub + 24, true);
            const absolute = (dv.getUint16(sub + 40, true) & 1) === 1;
            this.clockNs = absolute ? (timeout > this.clockNs ? timeout : this.clockNs) : this.clockNs + timeout;
          }
          const ev = outPtr + 32 * i;
          this.writeU64(ev, dv.getBigUint64(sub, true)); // userdata
          dv.setUint16(ev + 8, tag === 0 ? ERRNO.SUCCESS : ERRNO.BADF, true);
          dv.setUint8(ev + 10, tag);
          this.opts.mark?.(ev, 32);
        }
        this.writeU32(neventsPtr, nsubs);
        this.sleptNs += this.clockNs - before;
        this.opts.tick(); // the embedder may count sleep against a deadline
        return ERRNO.SUCCESS;
      },
      proc_exit: (code: number): number => {
        throw new ProcExit(code);
      },
      sched_yield: () => {
        this.opts.tick();
        return ERRNO.SUCCESS;
      },
      fd_read: (fd: number, iovs: number, count: number, nreadPtr: number) => {
        if (fd !== 0) return ERRNO.BADF;
        const list = this.iovs(iovs >>> 0, count >>> 0);
        nreadPtr >>>= 0;
        if (typeof list === "number") return list;
        if (!this.inMemory(nreadPtr, 4)) return ERRNO.FAULT;
        const n = this.opts.read(list);
        this.writeU32(nreadPtr, n);
        return ERRNO.SUCCESS;
      },
      fd_write: (fd: number, iovs: number, count: number, nwrittenPtr: number) => {
        if (fd !== 1 && fd !== 2) return ERRNO.BADF;
        this.opts.tick();
        const list = this.iovs(iovs >>> 0, count >>> 0);
        nwrittenPtr >>>= 0;
        if (typeof list === "number") return list;
        if (!this.inMemory(nwrittenPtr, 4)) return ERRNO.FAULT;
        const mem = this.bytes();
        let total = 0;
        for (const { ptr, len } of list) {
          this.opts.write(fd, mem.subarray(ptr, ptr + len));
          total += len;
        }
        this.writeU32(nwrittenPtr, total);
        return ERRNO.SUCCESS;
      },
      fd_fdstat_get: (fd: number, ptr: number) => {
        if (!this.isStdio(fd)) return ERRNO.BADF;
        const dv = this.view();
        dv.setUint8(ptr, FILETYPE_CHARACTER_DEVICE);
        dv.setUint16(ptr + 2, 0, true);
        dv.setBigUint64(ptr + 8, RIGHTS_STDIO, true);
        dv.setBigUint64(ptr + 16, RIGHTS_STDIO, true);
        this.opts.mark?.(ptr, 24);
        return ERRNO.SUCCESS;
      },
      fd_filestat_get: (fd: number, ptr: number) => {
        if (!this.isStdio(fd)) return ERRNO.BADF;
        this.bytes().fill(0, ptr, ptr + 64);
        this.view().setUint8(ptr + 16, FILETYPE_CHARACTER_DEVICE);
        this.opts.mark?.(ptr, 64);
        return ERRNO.SUCCESS;
      },
      fd_seek: (fd: number) => (this.isStdio(fd) ? ERRNO.SPIPE : ERRNO.BADF),
      fd_tell: (fd: number) => (this.isStdio(fd) ? ERRNO.SPIPE : ERRNO.BADF),
      fd_close: (fd: number) => (this.isStdio(fd) ? ERRNO.SUCCESS : ERRNO.BADF),
      fd_prestat_get: badf,
      fd_prestat_dir_name: badf,
      fd_advise: badf,
      fd_allocate: badf,
      fd_datasync: badf,
      fd_fdstat_set_flags: badf,
      fd_filestat_set_size: badf,
      fd_filestat_set_times: badf,
      fd_pread: badf,
      fd_pwrite: badf,
      fd_readdir: badf,
      fd_sync: badf,
      path_create_directory: notcapable,
      path_filestat_get: notcapable,
      path_filestat_set_times: notcapable,
      path_link: notcapable,
      path_open: notcapable,
      path_readlink: notcapable,
      path_remove_directory: notcapable,
      path_rename: notcapable,
      path_symlink: notcapable,
      path_unlink_file: notcapable,
      sock_accept: notsup,
      sock_recv: notsup,
      sock_send: notsup,
      sock_shutdown: notsup,
    };
    return { wasi_snapshot_preview1: wasi };
  }
}

export const WASI_ERRNO = ERRNO;
