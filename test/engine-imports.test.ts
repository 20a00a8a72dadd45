// The import extractor against the reference's parse_imports (ast.walk over ast.parse, regex fallback on a
// SyntaxError) run by python3: hand-picked cases, every snippet of the shipped seed corpus, and fuzzed programs.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Rng } from "../engine/rng.ts";
import { SEED_CORPUS } from "../engine/config/presets.ts";
import { parseImports } from "../engine/tasks/imports.ts";
import { runReference } from "./support/azr-reference.ts";
import { fuzzProgram } from "./support/fuzz-python.ts";
import { seedNote, TEST_SEED } from "./support/random-inputs.ts";
import { SLOW_TEST_MS } from "./support/timeouts.ts";

setDefaultTimeout(SLOW_TEST_MS);

type Ref = { parsed: boolean; imports: string[] };

describe("parseImports", () => {
  test.each([
    ["parenthesised, multi-line", "from collections import (\n    Counter,\n    deque as dq,\n)\ndef f(x):\n    return x", ["from collections import Counter, deque as dq"]],
    ["inside a docstring: not an import", 'def f(x):\n    """\n    import os\n    """\n    return x', []],
    ["inside a string and a comment", "s = 'import os'  # import re\nimport math", ["import math"]],
    ["backslash continuation", "from a.b \\\n    import c", ["from a.b import c"]],
    ["breadth-first: top level first, duplicates kept", "def f():\n    import re\nimport os\nimport os", ["import os", "import os", "import re"]],
    ["an except body is two levels down", "try:\n    import a\nexcept E:\n    import b\nelse:\n    import c", ["import a", "import c", "import b"]],
    ["relative and star", "from .. import x\nfrom .m import *", ["from .. import x", "from .m import *"]],
    ["CRLF and lone CR", "import a\r\nif x:\r    import b\r", ["import a", "import b"]],
    ["a SyntaxError falls back to the line regex", "import a\n  import b\nfrom c import (", ["import a", "import b", "from c import ("]],
  ])("%s", (_name, code, want) => {
    expect(parseImports(code)).toEqual(want);
  });
});

describe("parseImports equals the reference's parse_imports (python3)", () => {
  test("on every snippet of the seed corpus", () => {
    const snippets: string[] = [];
    for (const file of readdirSync(SEED_CORPUS).filter((f) => f.endsWith(".jsonl"))) {
      for (const line of readFileSync(join(SEED_CORPUS, file), "utf8").split("\n")) if (line.trim()) snippets.push(JSON.parse(line).snippet);
    }
    const want = runReference<Ref>("imports", snippets);
    const wrong = snippets.filter((s, i) => JSON.stringify(parseImports(s)) !== JSON.stringify(want[i].imports));
    expect(snippets.length).toBe(3200);
    expect(wrong).toEqual([]);
  });
  test(`on 3,000 fuzzed programs (nested blocks, multi-line imports, strings, unicode names, CRLF) ${seedNote}`, () => {
    const rng = Rng.seeded(TEST_SEED);
    const programs = Array.from({ length: 3000 }, () => fuzzProgram(rng));
    const want = runReference<Ref>("imports", programs);
    const wrong = programs.flatMap((p, i) => {
      const got = parseImports(p);
      return JSON.stringify(got) === JSON.stringify(want[i].imports) ? [] : [{ program: p, got, want: want[i] }];
    });
    // Programs Python cannot parse take the regex fallback on both sides; they are compared too.
    expect(want.filter((w) => w.parsed).length).toBeGreaterThan(2500);
    expect(wrong.slice(0, 3)).toEqual([]);
  });
});
