// The settings where a run departs from the reference: every leaf of its config whose value differs from
// REFERENCE_DEFAULTS (engine/config/schema.ts), so the page can list them beside the curves.
import { REFERENCE_DEFAULTS, type TrainConfig } from "../engine/config/schema.ts";
import type { Departure } from "./api.ts";

function leaves(value: unknown, prefix: string, out: Map<string, unknown>): Map<string, unknown> {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) leaves(v, prefix ? `${prefix}.${k}` : k, out);
  } else out.set(prefix, value);
  return out;
}

export function departures(config: TrainConfig): Departure[] {
  const ref = leaves(REFERENCE_DEFAULTS, "", new Map());
  const run = leaves(config, "", new Map());
  const keys = [...new Set([...ref.keys(), ...run.keys()])];
  return keys
    .filter((key) => JSON.stringify(run.get(key)) !== JSON.stringify(ref.get(key)))
    .map((key) => ({ key, value: run.get(key) ?? null, reference: ref.get(key) ?? null }));
}
