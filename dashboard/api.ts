// The dashboard's JSON API, shared by the server (server.ts), the static export (export.ts) and the page (page/).
//   GET /api/runs                          → RunInfo[]
//   GET /api/metrics?run=I&from=N&gen=G    → MetricsPage (records N… of run I; all of them again when G is stale)
//   GET /api/samples?run=I&step=S          → StepSamples (404 with { error } when step S recorded none)
import type { StepSamples } from "../engine/trainer/samples.ts";
import type { TrainConfig } from "../engine/config/schema.ts";

/** One line of metrics.jsonl (engine/trainer/metrics.ts metricsRecord): flat keys such as "reward/deduction/solve". */
export type MetricsRecord = { step: number } & Record<string, unknown>;

export interface Departure {
  /** Dotted config key, e.g. "tasks.batchSize". */
  key: string;
  value: unknown;
  reference: unknown;
}

export interface RunInfo {
  id: number;
  name: string;
  dir: string;
  preset: string | null;
  /** config.json of the run (null while it is not written yet). */
  config: { preset: string; config: TrainConfig } | null;
  departures: Departure[];
  /** Last lines of train.log. */
  log: string[];
}

export interface MetricsPage {
  run: number;
  generation: number;
  /** Index of the first record in `records`; 0 when the page must drop what it holds (a new generation). */
  from: number;
  records: MetricsRecord[];
  /** Records the run has now (more than from + records.length when the page must ask again). */
  total: number;
  sampleSteps: number[];
  warnings: string[];
}

/** Everything the page shows, inlined into an exported report instead of fetched. */
export interface StaticData {
  runs: RunInfo[];
  metrics: MetricsPage[];
  /** Per run: step → its samples. */
  samples: Array<Record<number, StepSamples>>;
  exportedAt: string;
}

/** Most records one /api/metrics answer carries; the page asks again for the rest. */
export const PAGE_RECORDS = 1000;
