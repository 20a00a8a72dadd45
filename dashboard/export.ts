// `--export FILE`: the page with every record, sample and config of the runs inlined, as one HTML file that opens
// offline (no server, no network). Written to a temporary file and renamed, so a failed export leaves no torn file.
import { writeAtomic } from "../engine/write-atomic.ts";
import { pageHtml } from "./page.ts";
import { DashboardData } from "./server.ts";

export async function exportReport(dirs: readonly string[], file: string): Promise<{ bytes: number; steps: number[] }> {
  const data = new DashboardData(dirs).snapshot();
  const html = await pageHtml(`AZR report: ${data.runs.map((r) => r.name).join(" vs ")}`, data);
  writeAtomic(file, html);
  return { bytes: Buffer.byteLength(html), steps: data.metrics.map((m) => m.records.length) };
}
