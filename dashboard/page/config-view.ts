// A run's config: the settings where it departs from the reference (dashboard/departures.ts), then the whole file.
import type { RunInfo } from "../api.ts";
import { h } from "./dom.ts";

const show = (v: unknown): string => (typeof v === "string" ? v : JSON.stringify(v));

export function configView(run: RunInfo): HTMLElement {
  if (!run.config) return h("p", { class: "muted" }, `${run.name}: config.json not written yet`);
  return h(
    "div",
    { class: "config" },
    h("h3", {}, `${run.name} (preset ${run.config.preset}): ${run.departures.length} departures from the reference`),
    h(
      "table",
      { class: "departures" },
      h("tr", {}, h("th", {}, "setting"), h("th", {}, "this run"), h("th", {}, "reference")),
      ...run.departures.map((d) => h("tr", {}, h("td", {}, h("code", {}, d.key)), h("td", {}, show(d.value)), h("td", {}, show(d.reference)))),
    ),
    h("details", {}, h("summary", {}, "config.json"), h("pre", {}, JSON.stringify(run.config, null, 2))),
  );
}
