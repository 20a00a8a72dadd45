// What each chart plots: pure functions from metrics records (engine/trainer/metrics.ts metricsRecord) to series,
// and the alignment of several runs on one step axis. No DOM here, so the server's tests can check it too.
import type { MetricsRecord } from "../api.ts";

type Value = number | null;

export interface SeriesSpec {
  label: string;
  value: (r: MetricsRecord) => Value;
  /** On a second y axis at the right (a quantity of another scale than the chart's first series). */
  right?: boolean;
}

interface ChartBase {
  id: string;
  section: string;
  title: string;
}

/** Curves over steps. */
export interface StepChart extends ChartBase {
  kind: "steps";
  series: SeriesSpec[];
  /** Few points (e.g. eval every N steps): draw markers and join across the steps without a value. */
  sparse?: boolean;
}

/** The distribution of a task's learnability solve rates over the last HISTOGRAM_STEPS steps, one bar per bin. */
export interface Histogram extends ChartBase {
  kind: "histogram";
  task: string;
}

export type ChartSpec = StepChart | Histogram;

/** Solve-rate bins, the extremes 0 and 1 on their own (they earn the proposer no learnability reward). */
export const RATE_BINS = ["0", "(0, .2]", "(.2, .4]", "(.4, .6]", "(.6, .8]", "(.8, 1)", "1"];
export const HISTOGRAM_STEPS = 10;
const rateBin = (s: number): number => (s <= 0 ? 0 : s >= 1 ? RATE_BINS.length - 1 : Math.min(RATE_BINS.length - 2, Math.ceil(s * 5)));

export const TASKS = ["abduction", "deduction", "induction"] as const;
export const ROLES = ["propose", "solve"] as const;

const num = (v: unknown): Value => (typeof v === "number" && Number.isFinite(v) ? v : null);
const key = (k: string) => (r: MetricsRecord): Value => num(r[k]);
const sum = (v: unknown): number => (v && typeof v === "object" ? Object.values(v).reduce((a: number, b) => a + (num(b) ?? 0), 0) : 0);

/** Share of the batch's learnability solve rates that satisfy `pick` (null when none was estimated). */
const solveRates = (r: MetricsRecord, task: string): number[] => {
  const rates = r[`learnability_rates/${task}`];
  return Array.isArray(rates) ? rates.filter((s): s is number => typeof s === "number") : [];
};

/** Share of the batch's learnability solve rates that satisfy `pick` (null when none was estimated). */
function rateShare(task: string, pick: (s: number) => boolean) {
  return (r: MetricsRecord): Value => {
    const rates = solveRates(r, task);
    return rates.length ? rates.filter(pick).length / rates.length : null;
  };
}

/** Share of the solve rates of the run's last HISTOGRAM_STEPS steps in each bin (null when there are none). */
function rateHistogram(records: readonly MetricsRecord[], task: string): Value[] {
  const rates = records.slice(-HISTOGRAM_STEPS).flatMap((r) => solveRates(r, task));
  const counts = RATE_BINS.map(() => 0);
  for (const s of rates) counts[rateBin(s)]++;
  return counts.map((c) => (rates.length ? c / rates.length : null));
}

type EvalCounts = { [t: string]: { correct: number; total: number } | undefined };

/** Accuracy on eval.file's rows, or with `generated` on the warm start's generated held-out programs. */
function evalAccuracy(task: "deduction" | "abduction" | "induction", generated = false) {
  return (r: MetricsRecord): Value => {
    const e = r.eval as (EvalCounts & { generated?: EvalCounts | null }) | undefined;
    const t = (generated ? e?.generated : e)?.[task];
    return t && t.total > 0 ? t.correct / t.total : null;
  };
}

const perSecond = (field: "tokens" | "executor_calls") => (r: MetricsRecord): Value => {
  const s = num(r.seconds);
  return s && s > 0 ? sum(r[field]) / s : null;
};

/** Time categories of the step clock (engine/trainer/clock.ts) that appear in any record, in a fixed order. */
export function phaseNames(records: readonly MetricsRecord[]): string[] {
  const names = new Set<string>();
  for (const r of records) for (const k of Object.keys((r.time_ms as object | undefined) ?? {})) names.add(k);
  return [...names].sort();
}

/** Task types that the records hold (the run's tasks.types). */
export function taskNames(records: readonly MetricsRecord[]): string[] {
  return TASKS.filter((t) => records.some((r) => `reward/${t}/propose` in r || `reward/${t}/solve` in r));
}

export function chartSpecs(tasks: readonly string[], phases: readonly string[]): ChartSpec[] {
  const specs: ChartSpec[] = [];
  for (const t of tasks) {
    const section = `Task: ${t}`;
    specs.push(
      { kind: "steps", id: `reward-${t}`, section, title: `${t}: mean reward`, series: ROLES.map((role) => ({ label: role, value: key(`reward/${t}/${role}`) })) },
      { kind: "steps", id: `format-${t}`, section, title: `${t}: format rate`, series: ROLES.map((role) => ({ label: role, value: key(`format_rate/${t}/${role}`) })) },
      {
        kind: "steps",
        id: `success-${t}`,
        section,
        title: `${t}: valid-proposal and solve rate`,
        series: [
          { label: "valid (propose)", value: key(`valid_rate/${t}`) },
          { label: "solved (solve)", value: key(`solve_rate/${t}`) },
        ],
      },
      {
        kind: "steps",
        id: `learnability-${t}`,
        section,
        title: `${t}: learnability solve rates (mean; share at 0, between, at 1)`,
        series: [
          { label: "mean", value: key(`learnability_solve_rate/${t}`) },
          { label: "share s = 0", value: rateShare(t, (s) => s === 0) },
          { label: "share 0 < s < 1", value: rateShare(t, (s) => s > 0 && s < 1) },
          { label: "share s = 1", value: rateShare(t, (s) => s === 1) },
        ],
      },
      { kind: "histogram", id: `rate-hist-${t}`, section, title: `${t}: solve-rate distribution, last ${HISTOGRAM_STEPS} steps`, task: t },
      ...ROLES.map((role) => ({
        kind: "steps" as const,
        id: `advantage-${t}-${role}`,
        section,
        title: `${t}/${role}: advantages`,
        series: (["mean", "std", "min", "max"] as const).map((s) => ({ label: s, value: key(`advantage/${t}/${role}/${s}`) })),
      })),
    );
  }
  specs.push(
    {
      kind: "steps",
      id: "eval",
      section: "Evaluation and buffers",
      title: "in-loop eval accuracy (greedy, held out)",
      sparse: true,
      series: [
        { label: "deduction", value: evalAccuracy("deduction") },
        { label: "abduction", value: evalAccuracy("abduction") },
        { label: "generated deduction", value: evalAccuracy("deduction", true) },
        { label: "generated abduction", value: evalAccuracy("abduction", true) },
        { label: "generated induction", value: evalAccuracy("induction", true) },
        { label: "format rate", value: (r) => num((r.eval as { formatRate?: number } | undefined)?.formatRate) },
      ],
    },
    {
      kind: "steps",
      id: "buffers",
      section: "Evaluation and buffers",
      title: "buffer sizes (left), programs added per step (right)",
      series: [...TASKS.map((t) => ({ label: t, value: key(`buffer/${t}`) })), { label: "added this step", value: key("buffer/added"), right: true }],
    },
    { kind: "steps", id: "loss", section: "Update", title: "loss", series: [{ label: "loss", value: key("update/loss") }, { label: "policy-gradient loss", value: key("update/pgLoss") }] },
    { kind: "steps", id: "gradnorm", section: "Update", title: "grad norm (before clipping)", series: [{ label: "grad norm", value: key("update/gradNorm") }] },
    { kind: "steps", id: "entropy", section: "Update", title: "entropy (token mean)", series: [{ label: "entropy", value: key("update/entropy") }] },
    { kind: "steps", id: "kl", section: "Update", title: "KL to the initial policy (left), clip fraction (right)", series: [{ label: "KL", value: key("update/kl") }, { label: "clip fraction", value: key("update/clipFraction"), right: true }] },
    {
      kind: "steps",
      id: "throughput",
      section: "Throughput",
      title: "tokens/s (left) and executor calls/s (right), per step",
      series: [
        { label: "tokens/s", value: perSecond("tokens") },
        { label: "executor calls/s", value: perSecond("executor_calls"), right: true },
      ],
    },
    {
      kind: "steps",
      id: "phases",
      section: "Throughput",
      title: "share of the step's time per phase (executor calls run concurrently, so their sums can exceed 1)",
      series: phases.map((p) => ({
        label: p,
        value: (r: MetricsRecord) => {
          const s = num(r.seconds);
          const ms = num((r.time_ms as Record<string, unknown> | undefined)?.[p]);
          return s && ms !== null ? ms / (1000 * s) : null;
        },
      })),
    },
    { kind: "steps", id: "seconds", section: "Throughput", title: "seconds per step", series: [{ label: "seconds", value: key("seconds") }] },
  );
  return specs;
}

export interface ChartData {
  /** Steps, ascending (the union over the runs); a histogram's bin indices. */
  x: number[];
  /** One column per (run, series), aligned with x: run 0's series first. */
  columns: Value[][];
  labels: string[];
  /** Run index of each column. */
  runOf: number[];
  /** Series index (within the spec) of each column. */
  seriesOf: number[];
}

/** The chart's series for every run on one step axis (a step one run lacks is null in its columns). */
export function chartData(spec: ChartSpec, runs: ReadonlyArray<{ name: string; records: readonly MetricsRecord[] }>): ChartData {
  if (spec.kind === "histogram") {
    return {
      x: RATE_BINS.map((_, i) => i),
      columns: runs.map((r) => rateHistogram(r.records, spec.task)),
      labels: runs.map((r) => (runs.length > 1 ? `share · ${r.name}` : "share")),
      runOf: runs.map((_, i) => i),
      seriesOf: runs.map(() => 0),
    };
  }
  const x = [...new Set(runs.flatMap((r) => r.records.map((rec) => rec.step)))].sort((a, b) => a - b);
  const at = new Map(x.map((s, i) => [s, i]));
  const out: ChartData = { x, columns: [], labels: [], runOf: [], seriesOf: [] };
  runs.forEach((run, ri) => {
    spec.series.forEach((s, si) => {
      const col = new Array<Value>(x.length).fill(null);
      for (const rec of run.records) col[at.get(rec.step) as number] = s.value(rec);
      out.columns.push(col);
      out.labels.push(runs.length > 1 ? `${s.label} · ${run.name}` : s.label);
      out.runOf.push(ri);
      out.seriesOf.push(si);
    });
  });
  return out;
}

/** Values drawn (non-null y over every column): what "the chart has data" means for the page state and the tests. */
export const pointCount = (d: ChartData): number => d.columns.reduce((a, c) => a + c.filter((v) => v !== null).length, 0);
