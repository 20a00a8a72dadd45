// The live progress display on stderr: step, phase, tokens/s, executor calls/s and ETA. On a terminal it redraws one
// line; otherwise (CI, a log file) it prints a line at most every few seconds, so logs stay short.
import type { Clock } from "./clock.ts";

export interface ProgressSink {
  isTTY?: boolean;
  write(text: string): unknown;
}

const fmtDuration = (s: number): string =>
  !Number.isFinite(s) ? "?" : s >= 3600 ? `${Math.floor(s / 3600)}h${Math.round((s % 3600) / 60)}m` : s >= 60 ? `${Math.floor(s / 60)}m${Math.round(s % 60)}s` : `${Math.round(s)}s`;

export class ProgressDisplay {
  private phaseName = "start";
  private lastDraw = 0;
  private stepStarted = performance.now();
  private clock: Clock | null = null;
  private stepSeconds: number[] = [];
  private step = 0;

  constructor(
    private readonly sink: ProgressSink | null,
    private readonly lastStep: number,
  ) {}

  startStep(step: number, clock: Clock): void {
    this.step = step;
    this.clock = clock;
    this.stepStarted = performance.now();
  }

  endStep(): void {
    this.stepSeconds.push((performance.now() - this.stepStarted) / 1000);
    this.clear();
  }

  phase(name: string): void {
    this.phaseName = name;
    this.draw(true);
  }

  /** Called as work completes (tokens generated, executor calls returned); redraws at most a few times a second. */
  tick(): void {
    this.draw(false);
  }

  line(text: string): void {
    this.clear();
    this.sink?.write(`${text}\n`);
  }

  private clear(): void {
    if (this.sink?.isTTY) this.sink.write("\r\x1b[2K");
  }

  private draw(force: boolean): void {
    if (!this.sink || !this.clock) return;
    const now = performance.now();
    const minGap = this.sink.isTTY ? 250 : 5000;
    if (!force && now - this.lastDraw < minGap) return;
    if (!this.sink.isTTY && now - this.lastDraw < 1000) return;
    this.lastDraw = now;
    const elapsed = (now - this.stepStarted) / 1000;
    const tokS = this.clock.totalTokens() / Math.max(elapsed, 1e-3);
    const callS = this.clock.totalCalls() / Math.max(elapsed, 1e-3);
    const mean = this.stepSeconds.length ? this.stepSeconds.reduce((a, b) => a + b, 0) / this.stepSeconds.length : NaN;
    const eta = mean * (this.lastStep - this.step + 1) - elapsed;
    const text =
      `step ${this.step}/${this.lastStep} ${this.phaseName} | ${tokS.toFixed(1)} tok/s | ${callS.toFixed(1)} exec/s | ` +
      `step ${fmtDuration(elapsed)} | ETA ${fmtDuration(eta)}`;
    this.sink.write(this.sink.isTTY ? `\r\x1b[2K${text}` : `${text}\n`);
  }
}
