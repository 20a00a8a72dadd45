// A bad flag, value or path given to a command: the commands print its message with their usage and exit 2.
import { parseArgs, type ParseArgsConfig } from "node:util";

export class UsageError extends Error {}

type ErrorClass = abstract new (...args: never[]) => Error;

/**
 * Runs a CLI's main on this process's arguments and exits with its code. An error prints "NAME: message" (and the
 * usage after a UsageError) and exits 2 when it is the user's to fix (a UsageError or one of `known`), else 1, with
 * the stack when AZR_DEBUG is set.
 */
export function runMain(name: string, usage: string, main: (argv: string[]) => Promise<number>, known: readonly ErrorClass[] = []): void {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      const theirs = e instanceof UsageError || known.some((k) => e instanceof k);
      process.stderr.write(`${name}: ${(e as Error).message}\n${e instanceof UsageError ? `${usage}\n` : ""}`);
      if (!theirs && process.env.AZR_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
      process.exit(theirs ? 2 : 1);
    },
  );
}

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
