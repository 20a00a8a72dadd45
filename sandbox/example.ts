// A runnable example of the library entry (test/sandbox-example.test.ts runs it): `bun sandbox/example.ts`.
import { Executor } from "./index.ts";

await using ex = await Executor.create({ workers: 2, timeoutMs: 1000 });
const code = "def f(a, b=1):\n    return sorted(a)[::b]";
const results = await Promise.all([
  ex.submit({ op: "run", code, input: "[3, 1, 2], b=-1" }),
  ex.submit({ op: "validate", code, input: "[3, 1, 2]" }),
  ex.submit({ op: "judge_deduction", code, input: "[3, 1, 2]", gold: "[1, 2, 3]", answer: "[1,2,3]" }),
  ex.submit({ op: "judge_abduction", code, gold: "[1, 2, 3]", answer: "[2, 3, 1]" }),
  ex.submit({ op: "judge_induction", answer_code: "def f(a, b=1):\n    return sorted(a)", imports: [],
    pairs: [["[2, 1]", "[1, 2]"], ["[9, 8, 7]", "[7, 8, 9]"]] }),
  ex.submit({ op: "run", code: "def f(x):\n    while True:\n        pass", input: "0" }),
]);
for (const r of results) console.log(r.status, r.output ?? r.correct ?? r.error);
