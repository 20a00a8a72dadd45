// The six roles' prompts and the parsing rules of docs/reference.md §1.5, table-driven, with the reference's edge cases.
import { describe, expect, test } from "bun:test";
import {
  defNames,
  extractAnswer,
  formatOk,
  generationText,
  parseInductionProposal,
  parseInductionSolution,
  parseProposal,
  parseSolverValue,
  renameToF,
} from "../engine/tasks/parse.ts";
import {
  drawFitting,
  fill,
  proposeInductionPrompt,
  proposeIoPrompt,
  solveAbductionPrompt,
  solveDeductionPrompt,
  solveInductionPrompt,
  solvePrompt,
} from "../engine/tasks/prompts.ts";
import { REFERENCE_BANNED_WORDS } from "../sandbox/azr.ts";
import { splitPairs } from "../engine/tasks/types.ts";
import { zeroSeedInduction, zeroSeedIo } from "../engine/buffers/seed.ts";

const F = "```";
const REF = { snippet: "def f(a):\n    return a", input: '"Hello world"', output: '"Hello world"' };

describe("generationText (§1.5.1)", () => {
  const prompt = "sys User: task\nAssistant: <think>";
  test.each([
    ["plain", " a </think>", true, "<think> a </think>"],
    ["second Assistant: cuts the text (reference)", " a Assistant: b", true, "<think> a"],
    ["second Assistant: kept with the fix", " a Assistant: b", false, "<think> a Assistant: b"],
    ["quotes stripped after whitespace", " x'\"  \n", true, "<think> x"],
  ])("%s", (_name, response, first, want) => {
    expect(generationText(prompt, response, first)).toBe(want);
  });
  test("a task text containing Assistant: moves the cut (the reference's hazard)", () => {
    const p = "sys User: see Assistant: here\nAssistant: <think>";
    expect(generationText(p, " r", true)).toBe("here");
    expect(generationText(p, " r", false)).toBe("<think> r");
  });
  test("a prompt without the marker is an error", () => {
    expect(() => generationText("no marker", "x", true)).toThrow(/Assistant:/);
  });
});

describe("formatOk (§1.5.2)", () => {
  test.each([
    ["<think>a</think><answer>b</answer>", true],
    ["<think>a</think>\n \n<answer>b</answer> trailing ignored", true],
    ["<think>\nmulti\nline</think> <answer>\nx\n</answer>", true],
    ["<think>a</think> text <answer>b</answer>", false],
    ["<think>a</think><answer>b", false],
    [" <think>a</think><answer>b</answer>", false],
    ["x<think>a</think><answer>b</answer>", false],
    ["<think>a<answer>b</answer>", false],
    ["<think></think><answer></answer>", true],
  ])("%j → %p", (gen, ok) => expect(formatOk(gen)).toBe(ok));
});

describe("extractAnswer (§1.5.3)", () => {
  test.each([
    ["<answer> a </answer>", "a"],
    ["<answer>a</answer> <answer> b </answer>", "b"],
    ["<answer> unterminated", "unterminated"],
    ["no tags", ""],
    ["<answer>x</answer>tail</answer>", "x"],
  ])("%j → %j", (gen, want) => expect(extractAnswer(gen)).toBe(want));
});

describe("parseProposal (§1.5.4)", () => {
  const opts = { rejectMultipleDefs: true, fReplaceLocation: "not_first" as const };
  const ok = (answer: string, o = opts) => {
    const p = parseProposal(answer, o);
    if (!p.ok) throw new Error(p.reason);
    return p;
  };
  test("code block then input block", () => {
    const p = ok(`${F}python\ndef f(x):\n    return x + 1\n${F}\n${F}input\n 3 \n${F}`);
    expect(p).toEqual({ ok: true, code: "def f(x):\n    return x + 1", input: "3", imports: [] });
  });
  test("the first fence of any kind is the code: an input block first is taken as code", () => {
    const p = parseProposal(`${F}input\n3\n${F}\n${F}python\ndef f(x):\n    return x\n${F}`, opts);
    expect(p.ok).toBe(false); // the "code" is "input\n3" (no def)
  });
  test("case-insensitive fences", () => {
    expect(ok(`${F}Python\ndef f(x):\n    return x\n${F}\n${F}INPUT\n1\n${F}`).input).toBe("1");
  });
  test("input falls back to # Input:", () => {
    expect(ok(`${F}python\ndef f(x):\n    return x\n${F}\n# Input: 'a', 2\n`).input).toBe("'a', 2");
  });
  test.each([
    ["no code block", "just text"],
    ["no input", `${F}python\ndef f(x):\n    return x\n${F}`],
    ["no def", `${F}python\nx = 1\n${F}\n${F}input\n1\n${F}`],
    ["nested def", `${F}python\ndef f(x):\n    def g(y):\n        return y\n    return g(x)\n${F}\n${F}input\n1\n${F}`],
    ["class method", `${F}python\nclass A:\n    def m(self):\n        return 1\ndef f(x):\n    return x\n${F}\n${F}input\n1\n${F}`],
  ])("fails: %s", (_name, answer) => expect(parseProposal(answer, opts).ok).toBe(false));
  test("multiple defs pass when rejectMultipleDefs is false", () => {
    const p = parseProposal(`${F}python\ndef g(y):\n    return y\ndef f(x):\n    return g(x)\n${F}\n${F}input\n1\n${F}`, {
      rejectMultipleDefs: false,
      fReplaceLocation: "any_last",
    });
    expect(p.ok && p.code).toBe("def g(y):\n    return y\ndef f(x):\n    return g(x)");
  });
  test("not_first renames the first def and its calls to f", () => {
    const p = ok(`${F}python\ndef solve(n):\n    return n if n < 2 else solve(n - 1)\n${F}\n${F}input\n5\n${F}`);
    expect(p.code).toBe("def f(n):\n    return n if n < 2 else f(n - 1)");
  });
  test("renameToF leaves longer names alone (word boundary) and f unchanged", () => {
    expect(renameToF("def g(a):\n    return gg(a) + g (a)", "g")).toBe("def f(a):\n    return gg(a) + f(a)");
    expect(renameToF("def f(a): return a", "f")).toBe("def f(a): return a");
  });
  test("defNames counts every def line", () => {
    expect(defNames("def a():\n  def b():\n    pass\nclass C:\n    def  d (self): pass")).toEqual(["a", "b", "d"]);
  });
  test("imports are collected (for induction grading)", () => {
    const p = ok(`${F}python\nimport math\nfrom collections import deque  # q\ndef f(x):\n    return math.sqrt(x)\n${F}\n${F}input\n4\n${F}`);
    expect(p.imports).toEqual(["import math", "from collections import deque"]);
  });
});

describe("parseInductionProposal (§1.5.5)", () => {
  const inputs = (n: number) => Array.from({ length: n }, (_, i) => `${F}input\n${i}\n${F}`).join("\n");
  test("exactly 10 inputs and a message block", () => {
    expect(parseInductionProposal(`${inputs(10)}\n${F}message\n hint \n${F}`, 10)).toEqual({
      ok: true,
      inputs: ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
      message: "hint",
    });
  });
  test("more than 10 keeps the last 10", () => {
    const p = parseInductionProposal(`${inputs(12)}\n${F}message\nm\n${F}`, 10);
    expect(p.ok && p.inputs[0]).toBe("2");
  });
  test.each([
    ["<message> tag", `${inputs(10)}\n<message> tagged </message>`, "tagged"],
    ["# Message:", `${inputs(10)}\n# Message: plain`, "plain"],
  ])("message fallback: %s", (_n, answer, want) => {
    const p = parseInductionProposal(answer, 10);
    expect(p.ok && p.message).toBe(want);
  });
  test.each([
    ["9 inputs", `${inputs(9)}\n${F}message\nm\n${F}`],
    ["no message", inputs(10)],
  ])("fails: %s", (_n, answer) => expect(parseInductionProposal(answer, 10).ok).toBe(false));
});

describe("parseSolverValue (§1.5.6)", () => {
  test.each([
    ["last block wins", `${F}input\n1\n${F} ${F}input\n'a', 2\n${F}`, "input", "'a', 2"],
    ["not stripped (the fence regex's \\s* eats leading space only)", `${F}output\n  [1, 2] \n${F}`, "output", "[1, 2] "],
    ["# Input: fallback", "# Input: 5", "input", "5"],
    ["input(...) fallback", "call input('x') now", "input", "'x'"],
    ["<output> tag", "<output> 7 </output>", "output", "7 "],
    ["the output is ...", "So the output is 42.", "output", "42"],
    ["whole answer", "'raw'", "output", "'raw'"],
    ["output block ignored for input", `${F}output\n1\n${F}`, "input", `${F}output\n1\n${F}`],
  ])("%s", (_n, answer, kind, want) => expect(parseSolverValue(answer, kind as "input" | "output")).toBe(want));
});

describe("parseInductionSolution (§1.5.7)", () => {
  test.each([
    [`${F}python\ndef f(a):\n    return 1\n${F} then ${F}python\ndef f(a):\n    return 2\n${F}`, "def f(a):\n    return 2"],
    [`${F}\ndef f(a): return a\n${F}`, "def f(a): return a"],
    ["def f(a): return a", null],
  ])("%j", (answer, want) => expect(parseInductionSolution(answer)).toBe(want));
});

describe("prompts (§1.1–1.4)", () => {
  test("every prompt is the R1 wrapper ending in Assistant: <think>", () => {
    const prompts = [
      proposeIoPrompt("abduction", [REF], REFERENCE_BANNED_WORDS),
      proposeIoPrompt("deduction", [REF], REFERENCE_BANNED_WORDS),
      proposeInductionPrompt(REF.snippet, 10),
      solveAbductionPrompt(REF),
      solveDeductionPrompt(REF),
      solveInductionPrompt(zeroSeedInduction()[0]),
    ];
    for (const p of prompts) {
      expect(p.startsWith("A conversation between User and Assistant.")).toBe(true);
      expect(p.endsWith("\nAssistant: <think>")).toBe(true);
      expect(p.split("Assistant:").length).toBe(2); // one marker: the parse split finds the response
    }
  });
  test("propose prompts list the banned words (datetime twice) and the <snippet_i> references", () => {
    const p = proposeIoPrompt("deduction", [REF, { snippet: "def f(b):\n    return b", input: "1", output: "1" }], REFERENCE_BANNED_WORDS);
    expect(p).toContain("even in comments: logging, random, multiprocessing, pebble, subprocess, threading, datetime, time, hashlib, hmac, bcrypt, os.sys, os.path, sys.exit, os.environ, calendar, datetime\n");
    expect(p).toContain(`### Reference Code Snippets:\n<snippet_0>\n${F}python\ndef f(a):\n    return a\n${F}\n${F}input\n"Hello world"\n${F}\n${F}output\n"Hello world"\n${F}\n</snippet_0>\n<snippet_1>\n`);
    expect(p.endsWith("</snippet_1>\n\n\nAssistant: <think>")).toBe(true); // refs, the composite slot's "\n", the wrapper
  });
  test("the difficulty bullets are swapped as in the reference", () => {
    expect(proposeIoPrompt("abduction", [], [])).toContain("- Difficulty in predicting the output from your provided input and code snippet.");
    expect(proposeIoPrompt("deduction", [], [])).toContain(`- Difficulty in predicting your ${F}input${F} from 1) your ${F}python${F} code`);
  });
  test("reference text with braces is not treated as a placeholder", () => {
    const p = proposeIoPrompt("abduction", [{ snippet: "def f(d):\n    return {k}", input: "{x}", output: "{'a': 1}" }], []);
    expect(p).toContain("return {k}");
  });
  test("induction proposer sees one snippet and the plug-in line", () => {
    const p = proposeInductionPrompt(REF.snippet, 10);
    expect(p).toContain(`${F}python\ndef f(a):\n    return a\nf(<|YOUR INPUT WILL BE PLUGGED HERE|>)\n${F}`);
    expect(p).toContain("## Task: Output 10 Inputs");
  });
  test("induction solver sees the first half of the pairs as input_i/output_i and never the code", () => {
    const seed = zeroSeedInduction()[0];
    const p = solveInductionPrompt({ ...seed, snippet: "def f(secret):\n    return secret" } as typeof seed);
    expect(p).toContain(`${F}input_0\n"Hello world"\n${F}\n${F}output_0\n"Hello world"\n${F}\n${F}input_1\n1\n`);
    expect(p).toContain(`${F}input_2\ndict(a=1, b=2)\n`);
    expect(p).not.toContain("input_3");
    expect(p).not.toContain("secret");
    expect(p).toContain(`${F}message\nWrite a function that returns whatever you input\n${F}`);
  });
  test("splitPairs: 5/5 for 10, 3/3 for 6, in order", () => {
    const ten = Array.from({ length: 10 }, (_, i) => String(i));
    const s = splitPairs({ inputs: ten, outputs: ten });
    expect(s.visible.map(([i]) => i)).toEqual(["0", "1", "2", "3", "4"]);
    expect(s.hidden.map(([i]) => i)).toEqual(["5", "6", "7", "8", "9"]);
    expect(splitPairs(zeroSeedInduction()[0]).hidden.length).toBe(3);
  });
  test("solve prompts: abduction shows the output, deduction the input", () => {
    const io = { ...zeroSeedIo()[0], input: "'in'", output: "'out'" };
    expect(solvePrompt({ task: "abduction", program: io })).toContain(`# Output:\n${F}output\n'out'\n${F}`);
    expect(solvePrompt({ task: "abduction", program: io })).not.toContain("'in'");
    expect(solvePrompt({ task: "deduction", program: io })).toContain(`# Input:\n${F}input\n'in'\n${F}`);
    expect(solvePrompt({ task: "deduction", program: io })).not.toContain("'out'");
  });
  test("fill rejects a missing value", () => {
    expect(() => fill("{a} {b}", { a: "1" })).toThrow(/\{b\}/);
  });
  test("drawFitting re-draws until the prompt fits, and names the shortest length when none does", () => {
    const drafts = ["long long long", "short"];
    let i = 0;
    expect(drawFitting(() => drafts[i++], (t) => t.length, 6)).toBe("short");
    expect(() => drawFitting(() => "xxxxxxxx", (t) => t.length, 3, 5)).toThrow(/shortest: 8/);
  });
});
