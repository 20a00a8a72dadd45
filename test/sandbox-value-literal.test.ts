// The documented rules of sandbox/value/ one by one: Python == cases named in the contract, repr layouts, what
// parseLiteral refuses and why (reason), the repr option, and parseArguments' refusals that send text to a guest.
import { describe, expect, test } from "bun:test";
import { NotLiteral, type NotLiteralReason } from "../sandbox/value/errors.ts";
import { pyEqual } from "../sandbox/value/equal.ts";
import { parseArguments, parseLiteral } from "../sandbox/value/literal.ts";
import { pyRepr } from "../sandbox/value/repr.ts";
import { LIMITS } from "../sandbox/value/types.ts";

const lit = (text: string) => parseLiteral(text, { repr: true });
const eq = (a: string, b: string): boolean => pyEqual(lit(a), lit(b));

function reason(f: () => unknown): NotLiteralReason {
  try {
    f();
  } catch (e) {
    if (e instanceof NotLiteral) return e.reason;
    throw e;
  }
  throw new Error("no NotLiteral was thrown");
}

describe("pyEqual", () => {
  test("numbers across bool, int, float and complex, exactly", () => {
    expect(eq("1", "1.0") && eq("1.0", "True") && eq("True", "(1+0j)") && eq("0", "-0.0") && eq("False", "0j")).toBe(true);
    expect(eq("0.1 + 0.2j", "0.1 + 0.2j")).toBe(true);
    expect(pyEqual(0.1 + 0.2, 0.3)).toBe(false);
    expect(eq(String(2n ** 53n + 1n), "9007199254740992.0")).toBe(false); // no rounding of big ints
    expect(eq(String(2n ** 70n), "1180591620717411303424.0")).toBe(true);
    expect(eq(String(10n ** 23n), "1e23")).toBe(false);
    expect(eq("(1+1j)", "1") || eq("inf", String(10n ** 400n)) || eq("nan", "nan") || eq("[nan]", "[nan]")).toBe(false);
  });

  test("kinds that never compare equal, and those that do", () => {
    expect(eq("'a'", "b'a'") || eq("[1]", "(1,)") || eq("None", "0") || eq("''", "b''") || eq("{}", "set()")).toBe(false);
    expect(eq("{1, 2}", "frozenset({2, 1})") && eq("{1: 'a', 2: 'b'}", "{2: 'b', True: 'a'}") && eq("{1.0, 2}", "{True, 2+0j}")).toBe(true);
    expect(eq("{1: 'a'}", "{1: 'b'}") || eq("{1: 'a'}", "{1: 'a', 2: 'a'}") || eq("{(1, 2)}", "{(1, 2.5)}")).toBe(false);
    expect(eq("[[1, (2, {3: [4]})]]", "[[1.0, (2, {3: [4.0]})]]")).toBe(true);
  });

  test("sets and dicts past the scan size use the hash index with the same answers", () => {
    const ints = Array.from({ length: 40 }, (_, i) => i);
    const a = `{${ints.join(", ")}}`;
    const spell = (i: number): string => (i === 1 ? "True" : i % 3 === 1 ? `${i}.0` : i % 3 === 2 ? `(${i}+0j)` : `${i}`);
    const b = `{${[...ints].reverse().map(spell).join(", ")}}`;
    expect(eq(a, b)).toBe(true);
    expect(eq(a, b.replace("(2+0j)", "2.5"))).toBe(false);
    expect(eq(`{${ints.map((i) => `${i}: ${i}`).join(", ")}}`, `{${[...ints].reverse().map((i) => `${spell(i)}: ${i}.0`).join(", ")}}`)).toBe(true);
  });
});

describe("pyRepr", () => {
  test("floats as CPython prints them", () => {
    const cases: [number, string][] = [
      [1, "1.0"], [-0, "-0.0"], [NaN, "nan"], [Infinity, "inf"], [-Infinity, "-inf"], [1e16, "1e+16"], [1e15, "1000000000000000.0"],
      [1e-4, "0.0001"], [1e-5, "1e-05"], [0.1 + 0.2, "0.30000000000000004"], [5e-324, "5e-324"], [1.5e300, "1.5e+300"],
      [123456789012345680000, "1.2345678901234568e+20"], [2 ** 53, "9007199254740992.0"], [-1.25e-7, "-1.25e-07"],
    ];
    for (const [x, want] of cases) expect(pyRepr(x)).toBe(want);
  });

  test("complex, str, bytes and containers", () => {
    const cases: [string, string][] = [
      ["2j", "2j"], ["-0j", "(-0-0j)"], ["0j", "0j"], ["1+2j", "(1+2j)"], ["-1.5-1e16j", "(-1.5-1e+16j)"], ["(nan+infj)", "(nan+infj)"],
      ["'it''s'", "'its'"], ["\"it's\"", "\"it's\""], ["'\"\\''", "'\"\\''"], ["'\\x00\\t\\n\\r\\x7f\\x80\\xa0\\u2028\\ud800'", "'\\x00\\t\\n\\r\\x7f\\x80\\xa0\\u2028\\ud800'"],
      ["'\\U0001f600é'", "'😀é'"], ["'\\U000e0001'", "'\\U000e0001'"], ["b'\\x00\\'\"\\\\\\xff'", "b'\\x00\\'\"\\\\\\xff'"], ["b\"'\"", "b\"'\""],
      ["(1,)", "(1,)"], ["()", "()"], ["set()", "set()"], ["frozenset()", "frozenset()"], ["frozenset({1})", "frozenset({1})"],
      ["{'a': [1, (2, None)], 3: {4}}", "{'a': [1, (2, None)], 3: {4}}"], ["{1: 'a', 1.0: 'b'}", "{1: 'b'}"], ["{1, 1.0, True}", "{1}"],
    ];
    for (const [text, want] of cases) expect(pyRepr(lit(text))).toBe(want);
  });
});

describe("parseLiteral", () => {
  test("the literal grammar", () => {
    expect(pyRepr(parseLiteral("0x_ff, 0o17, 0b1_0, 1_000, 00, 09.5, 1., .5e1, 1E+2j, 0777.0"))).toBe("(255, 15, 2, 1000, 0, 9.5, 1.0, 5.0, 100j, 777.0)");
    expect(pyRepr(parseLiteral("'a' \"b\" '''c''' r'\\n' u'\\x41\\101\\u0041\\U00000041'"))).toBe("'abc\\\\nAAAA'");
    expect(pyRepr(parseLiteral("b'\\777\\u1234' Rb'\\x'"))).toBe("b'\\xff\\\\u1234\\\\x'");
    expect(pyRepr(parseLiteral("-(1), +2, -3.5, -2j, (-1)+(2j), 1e400, -0.0-0j"))).toBe("(-1, 2, -3.5, (-0-2j), (-1+2j), inf, (-0+0j))");
    expect(pyRepr(parseLiteral(" \t[1,\n 2, # two\n 3,]\n\n"))).toBe("[1, 2, 3]");
  });

  test("refusals and their reasons", () => {
    for (const t of ["x", "f(1)", "1+2", "--1", "-True", "1 + -2j", "(1+2j)+3j", "1j+1", "[1][0]", "'a'.b", "lambda: 1", "(x := 1)",
      "f'a'", "[*a]", "{**a}", "1 if 1 else 2", "not 1", "set(1)", "{[1]}", "{[]: 1}", "01", "1__0", "0b2", "'a' b'b'", "b'é'",
      "'\\x4'", "'\\U00110000'", "'abc", "1,,", "", "\n 1", "1\n  ", "1\\\n", "nan", "inf", "frozenset()", "1;", "\ufeff1", "1\0",
      `${"9".repeat(LIMITS.intDigits + 1)}`, `${"9".repeat(400)} + 1j`]) {
      expect([t, reason(() => parseLiteral(t))]).toEqual([t, "rejected"]);
    }
    expect(reason(() => parseLiteral("..."))).toBe("not_plain");
    expect(reason(() => parseLiteral("[1, ...]"))).toBe("not_plain");
    expect(reason(() => parseLiteral("'\\N{BULLET}'"))).toBe("unsupported");
    expect(reason(() => parseLiteral("'\\ud83d\\ude00'"))).toBe("unsupported"); // two code points JS would merge
    expect(reason(() => parseLiteral("'\\ud83d' '\\ude00'"))).toBe("unsupported");
    expect(reason(() => parseLiteral("0x1" + "0".repeat(4000)))).toBe("limit"); // valid, but over 4300 decimal digits
  });

  test(`nesting: ${LIMITS.depth} containers parse, ${LIMITS.depth + 1} are over the cap, past 200 brackets CPython refuses`, () => {
    const nest = (n: number): string => "[".repeat(n) + "]".repeat(n);
    expect(pyRepr(parseLiteral(nest(LIMITS.depth)))).toBe(nest(LIMITS.depth));
    expect(reason(() => parseLiteral(nest(LIMITS.depth + 1)))).toBe("limit");
    expect(pyRepr(parseLiteral("(".repeat(200) + "1" + ")".repeat(200)))).toBe("1");
    expect(reason(() => parseLiteral("(".repeat(201) + "1" + ")".repeat(201)))).toBe("rejected");
    expect(reason(() => parseLiteral("-".repeat(100_000) + "1"))).toBe("rejected"); // no recursion on signs
  });
});

describe("parseArguments", () => {
  test("positional and keyword literals", () => {
    const { args, kwargs } = parseArguments("'a', 2,\n (3, 4.5), k=set(), x_1 = {1: None},");
    expect(args.map(pyRepr)).toEqual(["'a'", "2", "(3, 4.5)"]);
    expect(kwargs.map(([k, v]) => [k, pyRepr(v)])).toEqual([["k", "set()"], ["x_1", "{1: None}"]]);
    expect(parseArguments("")).toEqual({ args: [], kwargs: [] });
    expect(parseArguments("  ")).toEqual({ args: [], kwargs: [] });
    expect(parseArguments("()").args.map(pyRepr)).toEqual(["()"]);
  });

  test("anything a guest must evaluate (or refuse) is NotLiteral", () => {
    for (const t of [",", "1,,", "k=1, 2", "k=1, k=2", "True=1", "*[1]", "**{}", "1 # c", "x for x in y", "1), (2", "k==1",
      "1 2", "f(1)", "1+2", "é=1", "(1", "1)"]) {
      expect(() => parseArguments(t)).toThrow(NotLiteral);
    }
  });
});
