// Incremental reading of a JSONL file that another process appends to (a run being written). Each poll reads only
// the bytes added since the last one; a last line without its newline yet waits for the next poll instead of failing
// to parse; a file that shrank or was replaced (a resumed run rewrites it by rename) is read again from the start.
import { closeSync, fstatSync, openSync, readSync, statSync } from "node:fs";

export interface JsonlLine {
  /** 1-based line number in the file. */
  number: number;
  /** Byte range of the line (without its newline), for reading it again later. */
  offset: number;
  length: number;
  text: string;
}

const NEWLINE = 0x0a;

export class JsonlTail {
  /** Bumped each time the file is read again from its start. */
  generation = 0;
  private offset = 0;
  private lines = 0;
  private inode = -1;
  /** Bytes of a last line whose newline has not been written yet. */
  private pending: Buffer = Buffer.alloc(0);

  constructor(readonly path: string) {}

  /** The complete lines added since the last poll; `restarted` when earlier lines must be forgotten. */
  poll(): { lines: JsonlLine[]; restarted: boolean } {
    let stat;
    try {
      stat = statSync(this.path);
    } catch {
      // Not written yet (a run that is starting), or removed: nothing to read, and nothing known stays valid.
      const restarted = this.offset > 0 || this.pending.length > 0;
      if (restarted) this.restart(-1);
      return { lines: [], restarted };
    }
    let restarted = false;
    if (stat.ino !== this.inode || stat.size < this.offset + this.pending.length) {
      restarted = this.offset > 0 || this.pending.length > 0;
      this.restart(stat.ino);
    }
    const start = this.offset + this.pending.length;
    if (stat.size <= start) return { lines: [], restarted };
    const fd = openSync(this.path, "r");
    let chunk: Buffer;
    try {
      const size = fstatSync(fd).size;
      chunk = Buffer.alloc(Math.max(0, size - start));
      let got = 0;
      while (got < chunk.length) {
        const n = readSync(fd, chunk, got, chunk.length - got, start + got);
        if (n === 0) break;
        got += n;
      }
      chunk = chunk.subarray(0, got);
    } finally {
      closeSync(fd);
    }
    const data = Buffer.concat([this.pending, chunk]);
    const lines: JsonlLine[] = [];
    let lineStart = 0;
    for (let i = data.indexOf(NEWLINE); i !== -1; i = data.indexOf(NEWLINE, lineStart)) {
      const text = data.toString("utf8", lineStart, i);
      this.lines++;
      if (text.trim() !== "") lines.push({ number: this.lines, offset: this.offset + lineStart, length: i - lineStart, text });
      lineStart = i + 1;
    }
    this.offset += lineStart;
    this.pending = Buffer.from(data.subarray(lineStart));
    return { lines, restarted };
  }

  /** Bytes of an unfinished last line (a run mid-write, or a file torn by a crash). */
  pendingBytes(): number {
    return this.pending.length;
  }

  private restart(inode: number): void {
    this.generation++;
    this.offset = 0;
    this.lines = 0;
    this.pending = Buffer.alloc(0);
    this.inode = inode;
  }
}

/** One line's bytes again, e.g. a step's samples the page asks for. */
export function readRange(path: string, offset: number, length: number): string {
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.alloc(length);
    readSync(fd, buf, 0, length, offset);
    return buf.toString("utf8");
  } finally {
    closeSync(fd);
  }
}
