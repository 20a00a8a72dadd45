// What every bench suite shares: an aligned table on stdout and a result file in bench/results/, written to a
// temporary name and renamed so an interrupted run never leaves a half-written JSON.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { writeAtomic } from "../engine/write-atomic.ts";

/** Prints rows under a header: the first column left-aligned, the rest right-aligned. */
export function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((s, i) => (i === 0 ? s.padEnd(widths[i]) : s.padStart(widths[i]))).join("  ");
  console.log(line(header));
  for (const row of rows) console.log(line(row));
}

/** Writes `bench/results/<suite>-<timestamp>.json` atomically and returns its path. */
export function writeResult(suite: string, data: unknown): string {
  const dir = join(import.meta.dir, "results");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${suite}-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  writeAtomic(file, JSON.stringify(data, null, 2));
  return file;
}
