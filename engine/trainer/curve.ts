// The picture of a run: one self-contained HTML page of SVG plots drawn from metrics.jsonl (no script, no network):
// held-out solve rate with 95 % intervals, mean reward per task × role, and the valid-proposal rate. The trainer
// writes it into the run directory after every evaluation and at the end (`curve.html`).
import type { Count, EvalReport, EvalSet } from "./evaluate.ts";
import { wilson95 } from "./metrics.ts";

export const CURVE = "curve.html";

type MetricsRecord = Record<string, unknown> & { step: number };

interface Point {
  x: number;
  y: number;
  /** A 95 % interval drawn as a whisker. */
  lo?: number;
  hi?: number;
}

interface Series {
  label: string;
  points: Point[];
}

const W = 640;
const H = 260;
const PAD = { left: 48, right: 150, top: 28, bottom: 32 };
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"];
const TASKS = ["deduction", "abduction", "induction"] as const;

const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const fmt = (x: number): string => (Math.round(x * 100) / 100).toString();

function panel(title: string, series: readonly Series[], yMin: number, yMax: number): string {
  const xs = series.flatMap((s) => s.points.map((p) => p.x));
  const x0 = xs.length ? Math.min(...xs) : 0;
  const x1 = xs.length ? Math.max(...xs) : 1;
  const sx = (x: number): number => PAD.left + ((x - x0) / Math.max(1, x1 - x0)) * (W - PAD.left - PAD.right);
  const sy = (y: number): number => PAD.top + (1 - (y - yMin) / (yMax - yMin)) * (H - PAD.top - PAD.bottom);
  const parts: string[] = [`<text x="${PAD.left}" y="16" font-weight="bold">${esc(title)}</text>`];
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    const y = yMin + t * (yMax - yMin);
    parts.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${sy(y)}" y2="${sy(y)}" stroke="#ddd"/>`);
    parts.push(`<text x="${PAD.left - 6}" y="${sy(y) + 4}" text-anchor="end">${fmt(y)}</text>`);
  }
  parts.push(`<text x="${PAD.left}" y="${H - 8}">step ${x0}</text>`, `<text x="${W - PAD.right}" y="${H - 8}" text-anchor="end">step ${x1}</text>`);
  series.forEach((s, k) => {
    const color = COLORS[k % COLORS.length];
    if (s.points.length > 0) {
      const d = s.points.map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(" ");
      parts.push(`<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${d}"><title>${esc(s.label)}</title></polyline>`);
      for (const p of s.points) {
        if (p.lo !== undefined && p.hi !== undefined) {
          parts.push(`<line x1="${sx(p.x)}" x2="${sx(p.x)}" y1="${sy(p.lo)}" y2="${sy(p.hi)}" stroke="${color}" stroke-width="1"/>`);
        }
        parts.push(`<circle cx="${sx(p.x)}" cy="${sy(p.y)}" r="2.5" fill="${color}"><title>${esc(s.label)} step ${p.x}: ${fmt(p.y)}</title></circle>`);
      }
    }
    parts.push(`<text x="${W - PAD.right + 10}" y="${PAD.top + 14 * k + 4}" fill="${color}">${esc(s.label)}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">${parts.join("")}</svg>`;
}

const rate = (c: Count, x: number): Point => {
  const [lo, hi] = wilson95(c);
  return { x, y: c.correct / c.total, lo, hi };
};

/** Held-out solve rate series: per set and task, one point per evaluation. */
function evalSeries(records: readonly MetricsRecord[]): Series[] {
  const evals = records.flatMap((r) => (r.eval ? [r.eval as EvalReport] : []));
  const sets: Array<{ name: string; of: (e: EvalReport) => EvalSet | null }> = [
    { name: "generated", of: (e) => e.generated ?? null },
    { name: "eval.file", of: (e) => e },
  ];
  return sets.flatMap(({ name, of }) =>
    TASKS.flatMap((task) => {
      const points = evals.flatMap((e) => {
        const c = of(e)?.[task];
        return c && c.total > 0 ? [rate(c, e.step)] : [];
      });
      return points.length ? [{ label: `${name} ${task}`, points }] : [];
    }),
  );
}

/** One series per metrics key matching `prefix/...`, from the step records that have it. */
function keySeries(records: readonly MetricsRecord[], keys: readonly string[], label: (key: string) => string): Series[] {
  return keys.flatMap((key) => {
    const points = records.flatMap((r) => (typeof r[key] === "number" ? [{ x: r.step, y: r[key] as number }] : []));
    return points.length ? [{ label: label(key), points }] : [];
  });
}

/** The whole page for a run's metrics records (metrics.jsonl, parsed, in order). */
export function curvePage(title: string, records: readonly MetricsRecord[]): string {
  const rewardKeys = TASKS.flatMap((t) => [`reward/${t}/propose`, `reward/${t}/solve`]);
  const validKeys = TASKS.map((t) => `valid_rate/${t}`);
  const steps = records.filter((r) => r.step > 0).length;
  const panels = [
    panel("held-out solve rate (greedy, 95% Wilson intervals)", evalSeries(records), 0, 1),
    panel("mean reward per task × role", keySeries(records, rewardKeys, (k) => k.slice("reward/".length)), -1, 1),
    panel("valid-proposal rate", keySeries(records, validKeys, (k) => k.slice("valid_rate/".length)), 0, 1),
  ];
  return [
    "<!doctype html>",
    `<html><head><meta charset="utf-8"><title>${esc(title)}</title></head>`,
    `<body style="font-family:sans-serif;margin:16px"><h2>${esc(title)}</h2><p>${steps} steps recorded.</p>`,
    ...panels.map((p) => `<div>${p}</div>`),
    "</body></html>",
    "",
  ].join("\n");
}
