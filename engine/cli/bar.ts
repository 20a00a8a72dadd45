// A progress bar for long CLI jobs on stderr: redrawn in place on a terminal, a line every few seconds otherwise
// (CI logs stay short). `extra` is the job's own live figures (loss, tokens/s).
export interface BarSink {
  isTTY?: boolean;
  write(text: string): unknown;
}

const WIDTH = 24;

export class Bar {
  private done = 0;
  private lastDraw = 0;
  private readonly started = performance.now();

  constructor(
    private readonly sink: BarSink | null,
    private readonly label: string,
    private readonly total: number,
  ) {}

  /** Marks `n` more units done and redraws (at most 4 times a second on a terminal, every 5 s otherwise). */
  tick(n = 1, extra = ""): void {
    this.done += n;
    const now = performance.now();
    const gap = this.sink?.isTTY ? 250 : 5000;
    if (this.done < this.total && now - this.lastDraw < gap) return;
    this.lastDraw = now;
    this.draw(extra);
  }

  /** Clears the bar line (a terminal) so the next output starts clean. */
  end(): void {
    if (this.sink?.isTTY) this.sink.write("\r\x1b[2K");
  }

  private draw(extra: string): void {
    if (!this.sink) return;
    const frac = this.total > 0 ? Math.min(1, this.done / this.total) : 1;
    const filled = Math.round(frac * WIDTH);
    const elapsed = (performance.now() - this.started) / 1000;
    const eta = frac > 0 ? elapsed * (1 / frac - 1) : NaN;
    const text =
      `${this.label} [${"#".repeat(filled)}${".".repeat(WIDTH - filled)}] ${this.done}/${this.total}` +
      ` | ${Math.round(elapsed)}s | ETA ${Number.isFinite(eta) ? `${Math.round(eta)}s` : "?"}${extra ? ` | ${extra}` : ""}`;
    this.sink.write(this.sink.isTTY ? `\r\x1b[2K${text}` : `${text}\n`);
  }
}
