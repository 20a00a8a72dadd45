// The typed building blocks of generated programs: one operation turns a value of one type into a value of another
// (`b = sorted(a)`, a loop, a comprehension, a conditional), and says in words what it does (the induction message).
// A program is a chain of them (programs.ts). Nothing here runs Python: the executor computes every value.
import type { Rng } from "../rng.ts";

/** The value types a program passes along; `strs` is a list of strings. */
export type Ty = "int" | "bool" | "str" | "list" | "tuple" | "dict" | "set" | "strs";
/** Types an argument can have (bool only ever appears as a result). */
export const ARG_TYPES: readonly Ty[] = ["int", "str", "list", "tuple", "dict", "set", "strs"];

export interface Op {
  from: Ty;
  to: Ty;
  /** The constant's range, when the op takes one; a program with a second argument `n` (1..4) may use it instead. */
  k?: readonly [number, number];
  /** Statement lines (unindented) computing `dst` from `src`, with `k` the constant's text. */
  lines(src: string, dst: string, k: string): string[];
  /** What it does, as a clause: "adds 3". */
  says(k: string): string;
}

const one = (expr: (s: string, k: string) => string, says: (k: string) => string, from: Ty, to: Ty, k?: readonly [number, number]): Op => ({
  from,
  to,
  k,
  lines: (s, d, kk) => [`${d} = ${expr(s, kk)}`],
  says,
});

const LETTERS = "abcdeilmnorstu";

export const OPS: readonly Op[] = [
  // int → …
  one((s, k) => `${s} + ${k}`, (k) => `adds ${k}`, "int", "int", [1, 9]),
  one((s, k) => `${s} - ${k}`, (k) => `subtracts ${k}`, "int", "int", [1, 9]),
  one((s, k) => `${s} * ${k}`, (k) => `multiplies by ${k}`, "int", "int", [2, 5]),
  one((s, k) => `${s} // ${k}`, (k) => `floor-divides by ${k}`, "int", "int", [2, 4]),
  one((s, k) => `${s} % ${k}`, (k) => `takes the remainder modulo ${k}`, "int", "int", [2, 5]),
  one((s) => `abs(${s})`, () => "takes the absolute value", "int", "int"),
  one((s) => `${s} * ${s}`, () => "squares the number", "int", "int"),
  one((s, k) => `max(${s}, ${k})`, (k) => `keeps the larger of it and ${k}`, "int", "int", [0, 6]),
  one((s, k) => `${s} + ${k} if ${s} % 2 == 0 else ${s} - ${k}`, (k) => `adds ${k} to even numbers and subtracts ${k} from odd ones`, "int", "int", [1, 5]),
  {
    from: "int",
    to: "int",
    k: [1, 4],
    lines: (s, d, k) => [`${d} = 0`, `for i in range(${k}):`, `    ${d} += ${s} + i`],
    says: (k) => `sums the number plus i for i below ${k}`,
  },
  one((s, k) => `${s} > ${k}`, (k) => `tests whether it is above ${k}`, "int", "bool", [0, 6]),
  one((s) => `${s} % 2 == 0`, () => "tests whether it is even", "int", "bool"),
  one((s) => `str(${s})`, () => "turns it into a string", "int", "str"),
  one((s, k) => `[${s} * i for i in range(${k})]`, (k) => `lists its first ${k} multiples`, "int", "list", [1, 4]),
  // bool → …
  one((s) => `int(${s})`, () => "turns the truth value into 0 or 1", "bool", "int"),
  one((s) => `'yes' if ${s} else 'no'`, () => "answers yes or no", "bool", "str"),
  // str → …
  one((s) => `${s}.upper()`, () => "upper-cases the text", "str", "str"),
  one((s) => `${s}[::-1]`, () => "reverses the text", "str", "str"),
  one((s) => `${s} + 'x'`, () => "appends an x", "str", "str"),
  one((s) => `${s} * 2`, () => "repeats the text twice", "str", "str"),
  one((s) => `${s}.replace('a', 'o')`, () => "replaces every a with o", "str", "str"),
  one((s) => `${s}[1:]`, () => "drops the first character", "str", "str"),
  one((s, k) => `${s}[:${k}]`, (k) => `keeps the first ${k} characters`, "str", "str", [1, 4]),
  one((s) => `${s}.capitalize()`, () => "capitalizes the text", "str", "str"),
  one((s) => `''.join(sorted(${s}))`, () => "sorts the characters", "str", "str"),
  {
    from: "str",
    to: "str",
    lines: (s, d) => [`${d} = ''`, `for ch in ${s}:`, `    if ch in 'aeiou':`, `        ${d} += ch`],
    says: () => "keeps only the vowels",
  },
  one((s) => `''.join(ch for ch in ${s} if ch != 'e')`, () => "removes every e", "str", "str"),
  one((s) => `len(${s})`, () => "counts the characters", "str", "int"),
  one((s) => `${s}.count('a')`, () => "counts the letter a", "str", "int"),
  one((s) => `sum(1 for ch in ${s} if ch in 'aeiou')`, () => "counts the vowels", "str", "int"),
  one((s) => `${s} == ${s}[::-1]`, () => "tests whether the text is a palindrome", "str", "bool"),
  one((s) => `'a' in ${s}`, () => "tests whether the text contains an a", "str", "bool"),
  one((s) => `list(${s})`, () => "splits the text into characters", "str", "strs"),
  one((s) => `[ord(ch) - 96 for ch in ${s}]`, () => "turns each letter into its position in the alphabet", "str", "list"),
  // list of ints → …
  one((s) => `sorted(${s})`, () => "sorts the list", "list", "list"),
  one((s) => `${s}[::-1]`, () => "reverses the list", "list", "list"),
  one((s, k) => `[x * ${k} for x in ${s}]`, (k) => `multiplies each number by ${k}`, "list", "list", [2, 4]),
  one((s, k) => `[x + ${k} for x in ${s}]`, (k) => `adds ${k} to each number`, "list", "list", [1, 9]),
  one((s, k) => `[x for x in ${s} if x > ${k}]`, (k) => `keeps the numbers above ${k}`, "list", "list", [0, 5]),
  one((s, k) => `${s} + [${k}]`, (k) => `appends ${k}`, "list", "list", [0, 9]),
  one((s) => `${s}[1:]`, () => "drops the first element", "list", "list"),
  one((s, k) => `${s}[:${k}]`, (k) => `keeps the first ${k} elements`, "list", "list", [1, 4]),
  one((s) => `sorted(${s}, reverse=True)`, () => "sorts the list from largest to smallest", "list", "list"),
  one((s, k) => `[x % ${k} for x in ${s}]`, (k) => `takes each number modulo ${k}`, "list", "list", [2, 5]),
  one((s) => `sorted(set(${s}))`, () => "sorts the distinct numbers", "list", "list"),
  one((s) => `[x + i for i, x in enumerate(${s})]`, () => "adds each number's position to it", "list", "list"),
  {
    from: "list",
    to: "list",
    k: [2, 4],
    lines: (s, d, k) => [`${d} = []`, `for x in ${s}:`, `    if x % 2 == 0:`, `        ${d}.append(x)`, `    else:`, `        ${d}.append(x * ${k})`],
    says: (k) => `keeps even numbers and multiplies odd ones by ${k}`,
  },
  {
    from: "list",
    to: "list",
    lines: (s, d) => [`${d} = []`, `total = 0`, `for x in ${s}:`, `    total += x`, `    ${d}.append(total)`],
    says: () => "lists the running totals",
  },
  one((s) => `sum(${s})`, () => "adds up the numbers", "list", "int"),
  one((s) => `len(${s})`, () => "counts the elements", "list", "int"),
  one((s) => `max(${s})`, () => "takes the largest number", "list", "int"),
  one((s) => `min(${s})`, () => "takes the smallest number", "list", "int"),
  one((s) => `${s}[0]`, () => "takes the first element", "list", "int"),
  one((s) => `${s}[-1]`, () => "takes the last element", "list", "int"),
  one((s, k) => `${s}.count(${k})`, (k) => `counts how often ${k} appears`, "list", "int", [0, 5]),
  {
    from: "list",
    to: "int",
    lines: (s, d) => [`${d} = 0`, `for x in ${s}:`, `    if x % 2 == 0:`, `        ${d} += x`],
    says: () => "adds up the even numbers",
  },
  one((s, k) => `${k} in ${s}`, (k) => `tests whether ${k} is in the list`, "list", "bool", [0, 5]),
  one((s) => `tuple(${s})`, () => "turns the list into a tuple", "list", "tuple"),
  one((s) => `set(${s})`, () => "turns the list into a set", "list", "set"),
  one((s) => `dict(zip('abcdef', ${s}))`, () => "labels the numbers a, b, c, ...", "list", "dict"),
  one((s) => `'-'.join(str(x) for x in ${s})`, () => "joins the numbers with dashes", "list", "str"),
  // tuple → …
  one((s) => `${s}[::-1]`, () => "reverses the tuple", "tuple", "tuple"),
  one((s, k) => `${s} + (${k},)`, (k) => `appends ${k} to the tuple`, "tuple", "tuple", [0, 9]),
  one((s) => `tuple(sorted(${s}))`, () => "sorts the tuple", "tuple", "tuple"),
  one((s) => `${s}[0]`, () => "takes the first element", "tuple", "int"),
  one((s) => `sum(${s})`, () => "adds up the tuple", "tuple", "int"),
  one((s) => `len(${s})`, () => "counts the elements", "tuple", "int"),
  one((s) => `list(${s})`, () => "turns the tuple into a list", "tuple", "list"),
  // dict (str → int) → …
  one((s) => `${s}.get('a', 0)`, () => "looks up the key a (0 when missing)", "dict", "int"),
  one((s) => `sum(${s}.values())`, () => "adds up the values", "dict", "int"),
  one((s) => `len(${s})`, () => "counts the keys", "dict", "int"),
  one((s, k) => `{key: v * ${k} for key, v in ${s}.items()}`, (k) => `multiplies every value by ${k}`, "dict", "dict", [2, 4]),
  one((s, k) => `{**${s}, 'z': ${k}}`, (k) => `adds the key z with value ${k}`, "dict", "dict", [0, 9]),
  one((s, k) => `{key: v for key, v in ${s}.items() if v > ${k}}`, (k) => `keeps the entries whose value is above ${k}`, "dict", "dict", [0, 5]),
  one((s) => `sorted(${s})`, () => "sorts the keys", "dict", "strs"),
  one((s) => `sorted(${s}.values())`, () => "sorts the values", "dict", "list"),
  one((s) => `'a' in ${s}`, () => "tests whether a is a key", "dict", "bool"),
  // set of ints → …
  one((s, k) => `${s} | {${k}}`, (k) => `adds ${k} to the set`, "set", "set", [0, 9]),
  one((s, k) => `${s} - {${k}}`, (k) => `removes ${k} from the set`, "set", "set", [0, 5]),
  one((s) => `{x * 2 for x in ${s}}`, () => "doubles every element", "set", "set"),
  one((s) => `${s} & {1, 2, 3, 4}`, () => "keeps the elements from 1 to 4", "set", "set"),
  one((s) => `len(${s})`, () => "counts the elements", "set", "int"),
  one((s) => `sum(${s})`, () => "adds up the elements", "set", "int"),
  one((s) => `sorted(${s})`, () => "sorts the elements into a list", "set", "list"),
  one((s, k) => `${k} in ${s}`, (k) => `tests whether ${k} is in the set`, "set", "bool", [0, 5]),
  // list of strings → …
  one((s) => `''.join(${s})`, () => "joins the words", "strs", "str"),
  one((s) => `'-'.join(${s})`, () => "joins the words with dashes", "strs", "str"),
  one((s) => `sorted(${s})`, () => "sorts the words", "strs", "strs"),
  one((s) => `${s}[::-1]`, () => "reverses the word list", "strs", "strs"),
  one((s) => `[w.upper() for w in ${s}]`, () => "upper-cases every word", "strs", "strs"),
  one((s, k) => `[w for w in ${s} if len(w) > ${k}]`, (k) => `keeps the words longer than ${k}`, "strs", "strs", [1, 3]),
  one((s) => `len(${s})`, () => "counts the words", "strs", "int"),
  one((s) => `[len(w) for w in ${s}]`, () => "lists the word lengths", "strs", "list"),
  one((s) => `sum(len(w) for w in ${s})`, () => "adds up the word lengths", "strs", "int"),
];

const word = (rng: Rng): string => Array.from({ length: 1 + rng.int(6) }, () => LETTERS[rng.int(LETTERS.length)]).join("");
const ints = (rng: Rng, n: number): number[] => Array.from({ length: n }, () => rng.int(12) - 2);
const distinct = (rng: Rng, n: number, pool: readonly (string | number)[]): Array<string | number> => rng.sample(pool, Math.min(n, pool.length));

/** A Python literal of type `ty`, drawn to exercise the ops (small numbers, short words, a few elements). */
export function literal(ty: Ty, rng: Rng): string {
  switch (ty) {
    case "int":
      return String(rng.int(31) - 10);
    case "bool":
      return rng.int(2) ? "True" : "False";
    case "str":
      return `'${word(rng)}'`;
    case "list":
      return `[${ints(rng, 1 + rng.int(6)).join(", ")}]`;
    case "tuple": {
      const xs = ints(rng, 1 + rng.int(5));
      return xs.length === 1 ? `(${xs[0]},)` : `(${xs.join(", ")})`;
    }
    case "dict":
      return `{${distinct(rng, 1 + rng.int(3), [..."abcde"]).map((key) => `'${key}': ${rng.int(10)}`).join(", ")}}`;
    case "set":
      return `{${(distinct(rng, 1 + rng.int(4), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]) as number[]).sort((a, b) => a - b).join(", ")}}`;
    case "strs":
      return `[${Array.from({ length: 1 + rng.int(4) }, () => `'${word(rng)}'`).join(", ")}]`;
  }
}
