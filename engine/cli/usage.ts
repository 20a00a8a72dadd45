// A bad flag, value or path given to a command: the commands print its message with their usage and exit 2.
import { parseArgs, type ParseArgsConfig } from "node:util";

export class UsageError extends Error {}

export type FlagValues = Record<string, string | boolean | undefined>;

/** Strict `--name value` / `--switch` parsing; an unknown or malformed flag is a UsageError. */
export function parseFlagValues(argv: string[], options: NonNullable<ParseArgsConfig["options"]>): FlagValues {
  try {
    return parseArgs({ args: argv, strict: true, allowPositionals: false, options }).values as FlagValues;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** A whole-number flag ≥ `min`, or `fallback` when absent. */
export function wholeNumber(flag: string, raw: string | boolean | undefined, fallback: number, min = 1): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (typeof raw !== "string" || !Number.isSafeInteger(n) || n < min) throw new UsageError(`--${flag} ${raw}: use a whole number ≥ ${min}`);
  return n;
}
