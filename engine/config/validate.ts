// Merging config patches and checking the result before any work starts. Every error names the offending key and
// value and says how to fix it; each field's own check is its row in fields.ts, the rules across fields are here.
import { FIELD_KEYS, FIELDS, type FieldKey, valueAt } from "./fields.ts";
import type { TrainConfig } from "./schema.ts";

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Whether a dotted key's value may be null as well as its default's type. */
const nullable = (path: string): boolean => FIELDS[path as FieldKey]?.nullable === true;

const kindOf = (v: unknown): string => (v === null ? "null" : Array.isArray(v) ? "array" : typeof v);

/**
 * `base` with each patch applied in order (later wins). A key the schema lacks, or a value of another type than the
 * default's, is an error naming `source` (a preset, a file, a flag) so the user knows which input to fix.
 */
export function mergeConfig(base: TrainConfig, patches: Array<{ source: string; patch: unknown }>): TrainConfig {
  const out = structuredClone(base) as unknown as Record<string, unknown>;
  for (const { source, patch } of patches) mergeInto(out, patch, "", source);
  return out as unknown as TrainConfig;
}

function mergeInto(target: Record<string, unknown>, patch: unknown, prefix: string, source: string): void {
  if (kindOf(patch) !== "object") {
    throw new ConfigError(`${source}: ${prefix || "config"} must be an object, got ${JSON.stringify(patch)}`);
  }
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (!(key in target)) {
      throw new ConfigError(
        `${source}: unknown setting "${path}"; valid keys here: ${Object.keys(target).join(", ")}`,
      );
    }
    const current = target[key];
    if (kindOf(current) === "object") {
      mergeInto(current as Record<string, unknown>, value, path, source);
      continue;
    }
    const want = nullable(path) ? (kindOf(value) === "null" ? "null" : "string") : kindOf(current);
    if (kindOf(value) !== want) {
      throw new ConfigError(
        `${source}: "${path}" must be ${nullable(path) ? "a string or null" : `a ${want}`}, got ` +
          `${JSON.stringify(value)} (${kindOf(value)})`,
      );
    }
    target[key] = structuredClone(value);
  }
}

type Violation = [path: string, value: unknown, fix: string];

/** Every field's own check (fields.ts), then the rules across fields; throws one error listing every violation. */
export function validateConfig(c: TrainConfig): TrainConfig {
  const bad: Violation[] = [];
  for (const key of FIELD_KEYS) {
    const check = FIELDS[key].check as ((v: unknown, c: TrainConfig) => string | null) | undefined;
    const fix = check?.(valueAt(c, key), c) ?? null;
    if (fix !== null) bad.push([key, valueAt(c, key), fix]);
  }
  for (const [field, budget] of [["rollout.maxNewTokens", c.rollout.maxNewTokens], ["eval.maxNewTokens", c.eval.maxNewTokens]] as const) {
    const need = c.tasks.maxPromptTokens + budget;
    if (need > c.model.maxSeq) bad.push(["model.maxSeq", c.model.maxSeq, `must hold tasks.maxPromptTokens + ${field} = ${need}; raise it or shorten those`]);
  }
  if (bad.length > 0) {
    throw new ConfigError(`invalid config:\n${bad.map(([path, value, fix]) => `  ${path} = ${JSON.stringify(value)}: ${fix}`).join("\n")}`);
  }
  return c;
}
