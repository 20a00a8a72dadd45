// The dashboard in a real browser: headless Chromium (Debian's `chromium`, installed by setup.sh) over the DevTools
// Protocol loads the page for two fixture runs, waits for the charts, checks every chart has data points and the
// sample browser shows a step's programs and answers, takes a screenshot and checks it is not blank, then appends a
// line to metrics.jsonl in two parts and waits for the page to warn of the torn line, then to show the step, without
// a reload. The exported report renders from file:// too.
// The screenshots stay in the test's temp dir (printed) as CI artifacts.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportReport } from "../dashboard/export.ts";
import { chartSpecs, phaseNames, taskNames } from "../dashboard/page/charts.ts";
import { type Dashboard, startDashboard } from "../dashboard/server.ts";
import { fixtureMetricsLine, fixtureSamplesLine, writeFixtureRun } from "./dashboard-fixture.ts";
import { Browser } from "./support/chromium.ts";
import { decodePng, pixelStats } from "./support/png.ts";
import { SLOW_TEST_MS } from "./support/timeouts.ts";

setDefaultTimeout(SLOW_TEST_MS);

// Generous: Chromium's start and first layout on a loaded 2-core CI machine take seconds.
const WAIT_MS = 60_000;
const VIEWPORT = { width: 1400, height: 1000 };
const STEPS = 8;

const TMP = mkdtempSync(join(tmpdir(), "azr-dashboard-browser-"));
const runA = writeFixtureRun(join(TMP, "run-a"), STEPS);
const runB = writeFixtureRun(join(TMP, "run-b"), STEPS - 3, [{ source: "test", patch: { rewards: { extremeValue: 0 } } }]);
const records = [1, 2, 3].map((s) => JSON.parse(fixtureMetricsLine(s)));
const CHART_IDS = chartSpecs(taskNames(records), phaseNames(records)).map((s) => s.id);

let browser: Browser;
let dash: Dashboard;

beforeAll(async () => {
  dash = await startDashboard({ runs: [runA, runB], port: 0 });
  browser = await Browser.launch(VIEWPORT, WAIT_MS);
});

afterAll(async () => {
  await browser?.close();
  await dash?.stop();
  // Keep the screenshots (CI artifacts); drop the fixture runs.
  for (const d of [runA, runB]) rmSync(d, { recursive: true, force: true });
  console.log(`dashboard screenshots in ${TMP}`);
});

type PageState = { ready: boolean; updates: number; charts: Record<string, number>; records: number[]; lastStep: Array<number | null> };
const state = () => browser.evaluate<PageState>("window.__dashboard");

async function screenshotNotBlank(name: string): Promise<void> {
  const png = await browser.screenshot();
  writeFileSync(join(TMP, name), png);
  const img = decodePng(png);
  expect(img.width).toBeGreaterThanOrEqual(VIEWPORT.width - 40); // less a scroll bar
  const { lumaStd, colours } = pixelStats(img);
  // A blank (or single-colour) page has std 0 and a handful of colours; curves, text and legends give far more.
  expect(lumaStd).toBeGreaterThan(10);
  expect(colours).toBeGreaterThan(200);
}

describe("served page, two runs compared", () => {
  test("every chart is drawn with data points from both runs", async () => {
    await browser.navigate(dash.url);
    await browser.waitFor("window.__dashboard?.ready === true", WAIT_MS);
    const s = await state();
    expect(s.records).toEqual([STEPS, STEPS - 3]);
    expect(Object.keys(s.charts).sort()).toEqual([...CHART_IDS].sort());
    for (const id of CHART_IDS) expect(s.charts[id]).toBeGreaterThan(0);
    // The DOM agrees: one uPlot canvas per chart, and each chart's data attribute counts its points.
    const dom = await browser.evaluate<Array<[string, number, number]>>(
      `[...document.querySelectorAll("[data-chart]")].map((el) => [el.dataset.chart, Number(el.dataset.points), el.querySelectorAll("canvas").length])`,
    );
    expect(dom.map(([id]) => id).sort()).toEqual([...CHART_IDS].sort());
    for (const [id, points, canvases] of dom) {
      expect([id, canvases]).toEqual([id, 1]);
      expect(points).toBe(s.charts[id]);
    }
    // Both runs are on the reward chart's legend (run B dashed).
    const legend = await browser.evaluate<string>(`document.querySelector('[data-chart="reward-deduction"] .u-legend').textContent`);
    expect(legend).toContain("propose · run-a");
    expect(legend).toContain("solve · run-b");
  });

  test("the sample browser shows the latest step's proposals with programs and verdicts, and answers", async () => {
    const text = await browser.waitFor<string>(`document.querySelector("#samples .samples")?.textContent`, WAIT_MS);
    expect(text).toContain("proposal 1");
    expect(text).toContain("✓ valid");
    expect(text).toContain("✗ invalid");
    expect(text).toContain(`return x * 2 + ${STEPS}`); // the program proposed at the latest step
    expect(text).toContain("why invalid: no <answer> block");
    // Switch to the solver's answers of step 3 of the deduction task.
    await browser.evaluate(`(() => {
      const [, step, task, role] = document.querySelectorAll("#samples select"); // run, step, task, role
      const set = (el, v) => { el.value = v; el.dispatchEvent(new Event("change")); };
      set(step, "3");
      set(task, "deduction");
      set(role, "solve");
    })()`);
    const answers = await browser.waitFor<string>(`(() => { const t = document.querySelector("#samples .samples")?.textContent ?? ""; return t.includes("answer 1") && t; })()`, WAIT_MS);
    expect(answers).toContain("✓ correct");
    expect(answers).toContain("✗ wrong");
    expect(answers).toContain("reward 1.00");
    expect(answers).toContain("I do not know");
  });

  test("a screenshot of the whole page is not blank", async () => {
    await screenshotNotBlank("served.png");
  });

  test("a line appended to metrics.jsonl appears without a reload (while half written: a warning)", async () => {
    const before = await state();
    await browser.evaluate("window.__sameDocument = true");
    appendFileSync(join(runA, "samples.jsonl"), fixtureSamplesLine(STEPS + 1));
    const line = fixtureMetricsLine(STEPS + 1);
    appendFileSync(join(runA, "metrics.jsonl"), line.slice(0, 200));
    await browser.waitFor(`document.querySelector("header.top").textContent.includes("metrics.jsonl: the last line is unfinished (200 bytes")`, WAIT_MS);
    expect((await state()).lastStep[0]).toBe(STEPS);
    appendFileSync(join(runA, "metrics.jsonl"), line.slice(200));
    await browser.waitFor(`window.__dashboard.lastStep[0] === ${STEPS + 1}`, WAIT_MS);
    const after = await state();
    expect(await browser.evaluate<boolean>("window.__sameDocument === true")).toBe(true);
    expect(after.records).toEqual([STEPS + 1, STEPS - 3]);
    expect(after.charts["reward-deduction"]).toBe(before.charts["reward-deduction"] + 2); // propose and solve of run A
    const header = await browser.evaluate<string>(`document.querySelector("header.top").textContent`);
    expect(header).toContain(`last step ${STEPS + 1}`);
    expect(header).not.toContain("unfinished");
  });
});

describe("exported report", () => {
  test("opens from file:// with no server and draws every chart", async () => {
    const file = join(TMP, "report.html");
    await exportReport([runA], file);
    await dash.stop(); // nothing to fetch from: the report must stand alone
    await browser.navigate(`file://${file}`);
    await browser.waitFor("window.__dashboard?.ready === true", WAIT_MS);
    const s = await state();
    expect(s.records).toEqual([STEPS + 1]);
    for (const id of CHART_IDS) expect(s.charts[id]).toBeGreaterThan(0);
    const text = await browser.waitFor<string>(`document.querySelector("#samples .samples")?.textContent`, WAIT_MS);
    expect(text).toContain("proposal 1");
    await screenshotNotBlank("export.png");
  });
});
