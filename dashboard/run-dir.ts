// What the dashboard knows of one run directory (README "Training"): its saved config, the metrics records and an
// index of the per-step samples, kept up to date by polling the files while the trainer appends to them.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import type { StepSamples } from "../engine/trainer/samples.ts";
import { LOG, METRICS, RUN_CONFIG, SAMPLES } from "../engine/trainer/run.ts";
import type { MetricsRecord, RunInfo } from "./api.ts";
import { departures } from "./departures.ts";
import { JsonlTail, readRange } from "./jsonl-tail.ts";

/** A path given as a run directory that is not one; the CLI prints the message and exits 2. */
export class RunDirProblem extends Error {}

/** Throws RunDirProblem unless `dir` is a directory holding a run's config.json or metrics.jsonl. */
export function checkRunDir(dir: string): void {
  if (!existsSync(dir)) throw new RunDirProblem(`${dir} does not exist; give a run directory made by bun run train (its --out)`);
  if (!statSync(dir).isDirectory()) throw new RunDirProblem(`${dir} is a file, not a run directory`);
  if (readdirSync(dir).length === 0) throw new RunDirProblem(`${dir} is empty: no ${RUN_CONFIG} or ${METRICS} yet; give the --out directory of a run`);
  if (!existsSync(join(dir, RUN_CONFIG)) && !existsSync(join(dir, METRICS))) {
    throw new RunDirProblem(`${dir} is not a run directory: it holds neither ${RUN_CONFIG} nor ${METRICS}`);
  }
}

/** Lines per problem kind kept for the page; a damaged file must not make the warnings themselves unbounded. */
const MAX_WARNINGS = 20;
/** Polls closer together than this reuse the last one (many page requests, one file read). */
const POLL_GAP_MS = 200;

export class RunDir {
  readonly dir: string;
  readonly name: string;
  private readonly metricsTail: JsonlTail;
  private readonly samplesTail: JsonlTail;
  private records: MetricsRecord[] = [];
  /** Step → its index in `records`. */
  private recordAt = new Map<number, number>();
  /** Step → position of its line in samples.jsonl (the texts stay on disk until asked for). */
  private samplesAt = new Map<number, { offset: number; length: number }>();
  private badLines: string[] = [];
  private config: RunInfo["config"] = null;
  private lastPoll = -Infinity;

  constructor(dir: string) {
    this.dir = resolve(dir);
    this.name = basename(this.dir);
    this.metricsTail = new JsonlTail(join(this.dir, METRICS));
    this.samplesTail = new JsonlTail(join(this.dir, SAMPLES));
  }

  /** Reads what the trainer appended since the last poll. */
  poll(force = false): void {
    const now = performance.now();
    if (!force && now - this.lastPoll < POLL_GAP_MS) return;
    this.lastPoll = now;
    if (this.config === null) this.config = this.readConfig();
    const m = this.metricsTail.poll();
    if (m.restarted) {
      this.records = [];
      this.recordAt.clear();
      this.forgetWarnings(METRICS);
    }
    for (const line of m.lines) {
      const rec = this.parse(METRICS, line.number, line.text);
      if (rec === null) continue;
      if (typeof rec.step !== "number") {
        this.warn(`${METRICS} line ${line.number}: no "step" number; skipped`);
        continue;
      }
      // A step logged twice keeps its latest record, in the place of the first (a resume rewrites the file instead,
      // which starts a new generation).
      const at = this.recordAt.get(rec.step);
      if (at !== undefined) this.records[at] = rec as MetricsRecord;
      else {
        this.recordAt.set(rec.step, this.records.length);
        this.records.push(rec as MetricsRecord);
      }
    }
    const s = this.samplesTail.poll();
    if (s.restarted) {
      this.samplesAt.clear();
      this.forgetWarnings(SAMPLES);
    }
    for (const line of s.lines) {
      const rec = this.parse(SAMPLES, line.number, line.text);
      if (rec !== null && typeof rec.step === "number") this.samplesAt.set(rec.step, { offset: line.offset, length: line.length });
    }
  }

  /** Bumped when metrics.jsonl was rewritten, so the page drops what it holds and reads from record 0. */
  generation(): number {
    return this.metricsTail.generation;
  }

  recordsFrom(from: number, limit: number): MetricsRecord[] {
    return this.records.slice(from, from + limit);
  }

  recordCount(): number {
    return this.records.length;
  }

  sampleSteps(): number[] {
    return [...this.samplesAt.keys()].sort((a, b) => a - b);
  }

  /** The recorded samples of `step`, or null when that step has none. */
  samples(step: number): StepSamples | null {
    const at = this.samplesAt.get(step);
    if (!at) return null;
    try {
      const rec = JSON.parse(readRange(join(this.dir, SAMPLES), at.offset, at.length)) as StepSamples;
      if (rec.step === step) return rec;
    } catch {
      // The file was rewritten since it was indexed: index it again and retry once below.
    }
    this.poll(true);
    const again = this.samplesAt.get(step);
    if (!again || (again.offset === at.offset && again.length === at.length)) return null;
    return this.samples(step);
  }

  /** Problems the page should show: unparsable lines, and an unfinished last line. */
  warnings(): string[] {
    const out = [...this.badLines];
    const pending = this.metricsTail.pendingBytes();
    if (pending > 0) out.push(`${METRICS}: the last line is unfinished (${pending} bytes without a newline: a run being written, or one that crashed mid-line); it is shown once complete`);
    if (this.config === null) out.push(`${RUN_CONFIG}: missing or not valid JSON yet`);
    return out;
  }

  info(id: number): RunInfo {
    return {
      id,
      name: this.name,
      dir: this.dir,
      preset: this.config?.preset ?? null,
      config: this.config,
      departures: this.config ? departures(this.config.config) : [],
      log: this.logTail(),
    };
  }

  private readConfig(): RunInfo["config"] {
    try {
      return JSON.parse(readFileSync(join(this.dir, RUN_CONFIG), "utf8"));
    } catch {
      return null;
    }
  }

  /** The last lines of train.log (the summaries), for the header. */
  private logTail(): string[] {
    try {
      return readFileSync(join(this.dir, LOG), "utf8").trimEnd().split("\n").slice(-8);
    } catch {
      return [];
    }
  }

  private parse(file: string, number: number, text: string): Record<string, unknown> | null {
    try {
      const v = JSON.parse(text);
      if (v !== null && typeof v === "object" && !Array.isArray(v)) return v;
      this.warn(`${file} line ${number}: not a JSON object; skipped`);
    } catch (e) {
      this.warn(`${file} line ${number}: not valid JSON (${(e as Error).message}); skipped`);
    }
    return null;
  }

  private forgetWarnings(file: string): void {
    this.badLines = this.badLines.filter((w) => !w.startsWith(`${file} `));
  }

  private warn(text: string): void {
    if (this.badLines.length < MAX_WARNINGS) this.badLines.push(text);
  }
}
