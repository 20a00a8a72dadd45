// Where the page's data comes from: the server's JSON API (polled, so a live run's new steps appear without a
// reload), or the data inlined into an exported report (window.__AZR_DASHBOARD__, read once).
import type { MetricsPage, RunInfo, StaticData } from "../api.ts";
import type { StepSamples } from "../../engine/trainer/samples.ts";

export interface Source {
  live: boolean;
  runs(): Promise<RunInfo[]>;
  metrics(run: number, from: number, generation: number): Promise<MetricsPage>;
  samples(run: number, step: number): Promise<StepSamples | null>;
}

async function json<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export const apiSource: Source = {
  live: true,
  runs: () => json<RunInfo[]>("/api/runs"),
  metrics: (run, from, generation) => json<MetricsPage>(`/api/metrics?run=${run}&from=${from}&gen=${generation}`),
  samples: async (run, step) => {
    const res = await fetch(`/api/samples?run=${run}&step=${step}`);
    return res.status === 404 ? null : res.ok ? ((await res.json()) as StepSamples) : Promise.reject(new Error(`samples: HTTP ${res.status}`));
  },
};

export function staticSource(data: StaticData): Source {
  return {
    live: false,
    runs: async () => data.runs,
    metrics: async (run) => data.metrics[run],
    samples: async (run, step) => data.samples[run]?.[step] ?? null,
  };
}
