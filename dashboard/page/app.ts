// The dashboard page: curves of one or more runs (uPlot), the sample browser and the config. Served, it polls the
// JSON API and redraws as records arrive; exported, it reads the inlined data once. Its drawn state is published on
// window.__dashboard and as data attributes (body[data-ready], [data-chart][data-points]) for the browser test.
import uPlot from "uplot";
import type { MetricsRecord, RunInfo, StaticData } from "../api.ts";
import { type ChartData, chartData, type ChartSpec, chartSpecs, phaseNames, pointCount, RATE_BINS, ROLES, taskNames } from "./charts.ts";
import { configView } from "./config-view.ts";
import { h } from "./dom.ts";
import { samplesView } from "./samples-view.ts";
import { apiSource, type Source, staticSource } from "./source.ts";

interface DashboardState {
  ready: boolean;
  updates: number;
  /** Chart id → values drawn. */
  charts: Record<string, number>;
  records: number[];
  lastStep: Array<number | null>;
  error: string | null;
}

declare global {
  interface Window {
    __AZR_DASHBOARD__?: StaticData;
    __dashboard?: DashboardState;
  }
}

interface RunState {
  info: RunInfo;
  records: MetricsRecord[];
  generation: number;
  sampleSteps: number[];
  warnings: string[];
}

const POLL_MS = 1000;
/** Run info (config, log lines) is refreshed every this many polls; records every poll. */
const INFO_EVERY = 5;
const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"];
const CHART_HEIGHT = 210;

const source: Source = window.__AZR_DASHBOARD__ ? staticSource(window.__AZR_DASHBOARD__) : apiSource;
const state: DashboardState = { ready: false, updates: 0, charts: {}, records: [], lastStep: [], error: null };
window.__dashboard = state;

const root = document.getElementById("app") as HTMLElement;
const header = h("header", { class: "top" });
const nav = h("nav", {});
const chartsEl = h("main", {});
const samplesEl = h("section", { id: "samples" }, h("h2", {}, "Samples"));
const configEl = h("section", { id: "config" }, h("h2", {}, "Config"));
root.append(header, nav, chartsEl, samplesEl, configEl);

let runs: RunState[] = [];
let views = new Map<string, { spec: ChartSpec; el: HTMLElement; plot: uPlot | null }>();
let layoutKey = "";

async function loadRecords(run: RunState, index: number): Promise<void> {
  for (;;) {
    const page = await source.metrics(index, run.records.length, run.generation);
    // A new generation (the file was rewritten) comes from record 0: what the page held is dropped.
    run.records = [...run.records.slice(0, page.from), ...page.records];
    run.generation = page.generation;
    run.sampleSteps = page.sampleSteps;
    run.warnings = page.warnings;
    if (page.records.length === 0 || run.records.length >= page.total) return;
  }
}

function seriesOptions(d: ChartData, spec: ChartSpec): uPlot.Series[] {
  if (spec.kind === "histogram") {
    // Side by side for two runs, overlapping (translucent) for more.
    const n = d.labels.length;
    return [
      { label: "solve rate", value: (_u, i) => RATE_BINS[i] ?? "" },
      ...d.labels.map((label, i) => ({
        label,
        stroke: PALETTE[i % PALETTE.length],
        fill: `${PALETTE[i % PALETTE.length]}99`,
        paths: uPlot.paths.bars?.({ size: [n === 2 ? 0.4 : 0.8, 80], align: n === 2 ? ((i === 0 ? -1 : 1) as -1 | 1) : 0 }),
        points: { show: false },
      })),
    ];
  }
  return [
    { label: "step" },
    ...d.labels.map((label, i) => ({
      label,
      scale: spec.series[d.seriesOf[i]].right ? "right" : "y",
      stroke: PALETTE[d.seriesOf[i] % PALETTE.length],
      width: 1.5,
      dash: d.runOf[i] > 0 ? [6, 4] : undefined,
      spanGaps: spec.sparse === true,
      points: { show: spec.sparse === true || d.x.length < 40, size: 5 },
    })),
  ];
}

function chartOptions(spec: ChartSpec, d: ChartData, width: number): uPlot.Options {
  const base = { title: spec.title, width, height: CHART_HEIGHT, series: seriesOptions(d, spec), legend: { live: true } };
  if (spec.kind === "histogram") {
    return {
      ...base,
      scales: { x: { time: false, range: [-0.5, RATE_BINS.length - 0.5] }, y: { range: [0, 1] } },
      axes: [{ label: "learnability solve rate", splits: () => RATE_BINS.map((_, i) => i), values: (_u, splits) => splits.map((i) => RATE_BINS[i] ?? "") }, { label: "share of proposals" }],
    };
  }
  return {
    ...base,
    scales: { x: { time: false }, y: { range: yRange }, right: { range: yRange } },
    axes: [{ label: "step", incrs: STEP_INCRS }, {}, ...(spec.series.some((s) => s.right) ? [{ scale: "right", side: 1, grid: { show: false } }] : [])],
  };
}

/** uPlot's range with a margin, but a flat series gets a small band around its value (not 0…100). */
const yRange: uPlot.Range.Function = (_u, min, max) => {
  if (min === null || max === null || !Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  if (max - min < 1e-9 * Math.max(1, Math.abs(max))) {
    const pad = Math.abs(min) * 0.1 || 1;
    return [min - pad, max + pad];
  }
  return uPlot.rangeNum(min, max, 0.1, true);
};
/** Steps are whole numbers: tick spacings from 1 up. */
const STEP_INCRS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000];

function chartWidth(el: HTMLElement): number {
  return Math.max(280, Math.floor(el.clientWidth || 420));
}

function draw(): void {
  const all = runs.flatMap((r) => r.records);
  const specs = chartSpecs(taskNames(all), phaseNames(all));
  const key = `${specs.map((s) => `${s.id}:${s.kind === "steps" ? s.series.length : 0}`).join(",")}|${runs.length}`;
  if (key !== layoutKey) {
    layoutKey = key;
    for (const v of views.values()) v.plot?.destroy();
    views = new Map();
    state.charts = {};
    chartsEl.replaceChildren();
    nav.replaceChildren();
    const sections = [...new Set(specs.map((s) => s.section))];
    for (const section of sections) {
      const id = `sec-${section.replace(/\W+/g, "-")}`;
      const grid = h("div", { class: "grid" });
      chartsEl.append(h("section", { id }, h("h2", {}, section), grid));
      nav.append(h("a", { href: `#${id}` }, section));
      for (const spec of specs.filter((s) => s.section === section)) {
        const el = h("div", { class: "chart", "data-chart": spec.id, "data-points": "0" });
        grid.append(el);
        views.set(spec.id, { spec, el, plot: null });
      }
    }
    nav.append(h("a", { href: "#samples" }, "Samples"), h("a", { href: "#config" }, "Config"));
  }
  const data = runs.map((r) => ({ name: r.info.name, records: r.records }));
  for (const [id, v] of views) {
    const d = chartData(v.spec, data);
    const aligned = [d.x, ...d.columns] as uPlot.AlignedData;
    if (v.plot === null) v.plot = new uPlot(chartOptions(v.spec, d, chartWidth(v.el)), aligned, v.el);
    else v.plot.setData(aligned);
    const points = pointCount(d);
    v.el.dataset.points = String(points);
    state.charts[id] = points;
  }
}

function runLine(r: RunState, i: number): HTMLElement {
  const last = r.records.at(-1);
  return h(
    "div",
    { class: "run" },
    h("b", { style: `border-bottom: 2px ${i ? "dashed" : "solid"} #333` }, r.info.name),
    ` preset ${r.info.preset ?? "?"} · ${r.records.length} steps recorded${last ? ` · last step ${last.step}` : " · waiting for the first step"} · `,
    h("code", {}, r.info.dir),
    r.info.log.length ? h("details", {}, h("summary", {}, "train.log (last lines)"), h("pre", {}, r.info.log.join("\n"))) : null,
    ...r.warnings.map((w) => h("p", { class: "warn" }, `⚠ ${w}`)),
  );
}

function drawHeader(): void {
  const badge = source.live ? h("span", { class: "live" }, `live · polled ${new Date().toLocaleTimeString()}`) : h("span", { class: "muted" }, `exported report, ${window.__AZR_DASHBOARD__?.exportedAt ?? ""}`);
  const error = state.error ? [h("p", { class: "warn" }, `⚠ ${state.error}`)] : [];
  header.replaceChildren(h("h1", {}, "AZR run dashboard ", badge), h("div", { class: "runs" }, ...runs.map(runLine)), ...error);
}

// --- sample browser ---------------------------------------------------------------------------------------------
const pick = { run: 0, step: null as number | null, task: "", role: "propose", followLatest: true };
let shownSamples = "";

function select(options: Array<[string, string]>, value: string, onChange: (v: string) => void): HTMLSelectElement {
  const el = h("select", {}, ...options.map(([v, label]) => h("option", v === value ? { value: v, selected: "" } : { value: v }, label)));
  el.addEventListener("change", () => onChange(el.value));
  return el;
}

async function drawSamples(): Promise<void> {
  const run = runs[pick.run];
  if (!run) return;
  const steps = run.sampleSteps;
  if (pick.followLatest || pick.step === null || !steps.includes(pick.step)) pick.step = steps.at(-1) ?? null;
  const tasks = taskNames(run.records);
  if (!tasks.includes(pick.task)) pick.task = tasks[0] ?? "deduction";
  const key = JSON.stringify([pick, steps.length]);
  if (key === shownSamples) return;
  shownSamples = key;
  const { step, task, role } = pick;
  const got = step === null ? null : await source.samples(pick.run, step);
  if (key !== shownSamples) return; // a later choice was made while this one loaded
  const body =
    step === null
      ? h("p", { class: "muted" }, "no samples recorded yet (samples.jsonl; config key samplesPerBatch)")
      : got
        ? samplesView(got.samples, task, role)
        : h("p", { class: "muted" }, `step ${step}: no samples`);
  const controls = h(
    "div",
    { class: "controls" },
    runs.length > 1 ? select(runs.map((r, i) => [String(i), r.info.name]), String(pick.run), (v) => ((pick.run = Number(v)), drawSamples())) : null,
    "step ",
    select(steps.map((s) => [String(s), String(s)]), String(step), (v) => ((pick.step = Number(v)), (pick.followLatest = Number(v) === steps.at(-1)), drawSamples())),
    " task ",
    select(tasks.map((t) => [t, t]), task, (v) => ((pick.task = v), drawSamples())),
    " role ",
    select(ROLES.map((r) => [r, r]), role, (v) => ((pick.role = v), drawSamples())),
  );
  samplesEl.replaceChildren(h("h2", {}, "Samples"), controls, body);
}

function drawConfig(): void {
  configEl.replaceChildren(h("h2", {}, "Config and departures from the reference"), ...runs.map((r) => configView(r.info)));
}

// --- refresh loop -------------------------------------------------------------------------------------------------
async function refresh(polls: number): Promise<void> {
  if (polls % INFO_EVERY === 0) {
    const infos = await source.runs();
    runs = infos.map((info, i) => runs[i] ? { ...runs[i], info } : { info, records: [], generation: -1, sampleSteps: [], warnings: [] });
    drawConfig();
  }
  await Promise.all(runs.map((r, i) => loadRecords(r, i)));
  draw();
  drawHeader();
  await drawSamples();
  state.records = runs.map((r) => r.records.length);
  state.lastStep = runs.map((r) => r.records.at(-1)?.step ?? null);
  state.updates++;
  state.ready = true;
  document.body.dataset.ready = "1";
  document.body.dataset.updates = String(state.updates);
}

async function loop(polls = 0): Promise<void> {
  try {
    await refresh(polls);
    state.error = null;
  } catch (e) {
    state.error = source.live ? `cannot reach the dashboard server (${(e as Error).message}); retrying` : (e as Error).message;
    drawHeader();
  }
  if (source.live) setTimeout(() => loop(polls + 1), POLL_MS);
}

window.addEventListener("resize", () => {
  for (const v of views.values()) v.plot?.setSize({ width: chartWidth(v.el), height: CHART_HEIGHT });
});

loop();
