// Random model outputs and Python programs for the differential tests against the reference's Python code: the
// shapes that broke parsing before (unicode names, CRLF and lone CR, nested and unclosed fences, several defs,
// multi-line and parenthesised imports, imports inside strings and docstrings), mixed at random.
import type { Rng } from "../../engine/rng.ts";

const F = "```";
/** Identifiers Python 3.11 accepts, ASCII and not (NFKC folds "ﬁle" to "file"). */
export const NAMES = ["f", "g", "solve", "fé", "ñame", "变量", "ſum", "İnput", "ınput", "x١", "_h", "Ωmega", "ﬁle", "a2", "ǅx"];
const MODULES = ["os", "re", "os.path", "collections", "typing", "a.b.c", "math", "变量", "ﬁle"];

const OUTPUT_PIECES = [
  "<think>", "</think>", "<answer>", "</answer>", "Assistant:", F, `${F}python`, `${F}Python\n`, `${F}python \n`, `${F}input`,
  `${F}INPUT `, `${F}İnput\n`, `${F}output`, `${F}message`, `${F}Message\n`, `${F}input_0`, "# Input:", "# Output:", "# İnput: ",
  "# Message:", "<input>", "</input>", "<output>", "</output>", "<message>", "</message>", "the input is", "The Output Is ",
  "thE ınput ıs", "input(", "output (", "ſ", ")", "(", "\n", "\n", "\r\n", "\r", " ", "  ", "\t", "\u2028", "\u0085", "\x1c",
  "\ufeff", "\u00a0", "\u3000", "'", '"', ".", "def ", "  def ", "\ndef ", "def f(x):\n    return x", "class A:\n", "import os",
  "from collections import (\n    Counter,\n)\n", '"""import re"""', "return ", "1, 2", "'a'", "x = 1", "é", "变", "١", "\u212a",
];

/** A random model-output-like text: 3–40 pieces, identifiers among them. */
export function fuzzOutput(rng: Rng): string {
  const n = 3 + rng.int(38);
  let s = "";
  for (let i = 0; i < n; i++) {
    const r = rng.float();
    if (r < 0.12) s += `def ${rng.pick(NAMES)}${rng.pick(["", " ", "\t"])}(${rng.pick(["x", "a, b", ""])}):${rng.pick(["\n    return 1", " pass", "\r\n  return x"])}`;
    else if (r < 0.18) s += `${rng.pick(NAMES)}${rng.pick(["(", " (", "("])}`;
    else s += rng.pick(OUTPUT_PIECES);
  }
  return s;
}

/** A well-shaped proposer answer with random variations, so the success paths get exercised too. */
export function fuzzAnswer(rng: Rng): string {
  const nl = rng.pick(["\n", "\n", "\r\n"]);
  const name = rng.pick(NAMES);
  const defs = rng.int(3) === 0 ? `def ${rng.pick(NAMES)}(y):${nl}    return y${nl}` : "";
  const code = `${rng.pick(["", "import math" + nl, fuzzImportStatement(rng, "    ").replace(/^ +/, "") + nl])}${defs}def ${name}(x):${nl}    return ${name}(x) if x else x${rng.pick(["", nl])}`;
  const inputs = Array.from({ length: rng.pick([1, 9, 10, 12]) }, (_, i) => `${F}input${rng.pick(["", " ", "\n"])}\n${rng.pick(["'a'", String(i), " (1, 2) ", "x\r"])}\n${F}`);
  const parts = [
    `${F}${rng.pick(["python", "Python", "", "python  "])}${rng.pick(["\n", ""])}${code}${rng.pick(["\n", ""])}${F}`,
    ...inputs,
    rng.pick([`${F}message\n hint ${nl}${F}`, "<message> m </message>", "# Message: plain", ""]),
    rng.pick(["", `${F}output\n 5 \n${F}`, "the output is 42.", "# Output: 7"]),
  ];
  if (rng.int(4) === 0) parts.reverse();
  return parts.join(rng.pick(["\n", " ", "\n\n", "\r\n"]));
}

function dotted(rng: Rng): string {
  return rng.pick(MODULES).split(".").join(rng.pick([".", " . "]));
}

/** One import statement, possibly spread over lines (parentheses or backslashes) with `ind` as continuation indent. */
export function fuzzImportStatement(rng: Rng, ind: string): string {
  const alias = (n: string): string => (rng.int(3) === 0 ? `${n} as ${rng.pick(NAMES)}` : n);
  const names = Array.from({ length: 1 + rng.int(3) }, () => alias(rng.pick(NAMES)));
  switch (rng.int(7)) {
    case 0:
      return `import ${Array.from({ length: 1 + rng.int(2) }, () => alias(dotted(rng))).join(", ")}`;
    case 1:
      return `from ${dotted(rng)} import ${names.join(", ")}`;
    case 2:
      return `from ${dotted(rng)} import (\n${names.map((n) => `${ind}    ${n},`).join("\n")}\n${ind})`;
    case 3:
      return `from ${rng.pick([".", "..", "...", "....", ". ."])}${rng.pick(["", "pkg", "a.b"])} import ${rng.pick(["*", names.join(", "), `(${names.join(", ")},)`])}`;
    case 4:
      return `from ${dotted(rng)} \\\n${ind}    import ${names[0]}`;
    case 5:
      return `import ${dotted(rng)}; import ${dotted(rng)}`;
    default:
      return `from ${dotted(rng)} import (${names[0]}  # why\n${ind}  , ${alias("zz")})`;
  }
}

const SIMPLE = [
  "x = 1", "y = 'import fake'", 's = """\nimport inside_doc\n"""', "# import commented", "z = (1,\n 2)", "w = 1 + \\\n 2",
  "t = f\"{x!r:>{w}} import no {'{'}\"", "d = {'a': 1, 'b': [1, 2]}", "pass", "print('a'); from q import r", "lam = lambda: 0",
  "u = r'\\' import no'", "v = b'import'", "e = ...", "k: int = 3", "match = 1", "case = match", "n = 0x1f + 1e-5 + 1j",
  "q = '''a\nfrom b import c'''", "del x", "g = (yield)", "assert x, 'import y'",
];

/** A random Python program: nested blocks of every kind, imports among the statements, mixed indents and newlines. */
export function fuzzProgram(rng: Rng): string {
  const unit = rng.pick(["    ", "  ", "\t"]);
  const lines: string[] = [];
  const stmt = (ind: string, depth: number): void => {
    const r = rng.float();
    if (r < 0.3) {
      lines.push(ind + fuzzImportStatement(rng, ind));
      return;
    }
    if (r < 0.5 || depth >= 3) {
      lines.push(ind + rng.pick(SIMPLE).replace(/\n/g, "\n" + ind));
      return;
    }
    const inner = ind + unit;
    const block = (): void => {
      const n = 1 + rng.int(3);
      for (let i = 0; i < n; i++) stmt(inner, depth + 1);
    };
    const inline = (): string => (rng.int(3) === 0 ? ` ${fuzzImportStatement(rng, ind).split("\n")[0].includes("(") ? "import os" : fuzzImportStatement(rng, ind).replace(/\\\n\s*/g, "")}` : "");
    const header = (h: string): void => {
      const body = inline();
      lines.push(`${ind}${h}:${body}`);
      if (body === "") block();
    };
    switch (rng.int(9)) {
      case 0:
        header(`if ${rng.pick(["x", "(a,\n b)", "lambda: 1", "{'k': 1}"])}`);
        for (let i = rng.int(3); i > 0; i--) header("elif y");
        if (rng.int(2)) header("else");
        break;
      case 1:
        header(`for ${rng.pick(NAMES)} in range(3)`);
        if (rng.int(3) === 0) header("else");
        break;
      case 2:
        header("try");
        for (let i = 1 + rng.int(2); i > 0; i--) header(rng.pick(["except E as e", "except (A, B)", "except"]));
        if (rng.int(3) === 0) header("else");
        if (rng.int(3) === 0) header("finally");
        break;
      case 3:
        header(`with open(p) as ${rng.pick(NAMES)}, g()`);
        break;
      case 4:
        if (rng.int(2)) lines.push(`${ind}@dec(${rng.pick(["1", "lambda: 2"])})`);
        header(`${rng.pick(["", "async "])}def ${rng.pick(NAMES)}(a, b=lambda: 1, *c, **d) -> int`);
        break;
      case 5:
        header(`class ${rng.pick(NAMES)}(B, metaclass=M)`);
        break;
      case 6:
        lines.push(`${ind}match ${rng.pick(["v", "(a, b)", "{1: 2}"])}:`);
        for (let i = 1 + rng.int(2); i > 0; i--) {
          const body = inline();
          lines.push(`${inner}case ${rng.pick(["1", "{'k': x}", "_", "[a, *rest]"])}:${body}`);
          if (body === "") {
            const n = 1 + rng.int(2);
            for (let k = 0; k < n; k++) stmt(inner + unit, depth + 2);
          }
        }
        break;
      case 7:
        header("while x");
        break;
      default:
        lines.push(`${ind}# comment at a stray indent`.replace(ind, rng.pick(["", ind, ind + "   "])));
        lines.push("");
        stmt(ind, depth);
    }
  };
  const n = 1 + rng.int(6);
  for (let i = 0; i < n; i++) stmt("", 0);
  const text = lines.join("\n");
  const nl = rng.pick(["\n", "\n", "\r\n", "\r"]);
  return nl === "\n" ? text : text.replace(/\n/g, nl);
}
