// Replays every AZR seed row (engine/data/azr-seed: each deduction/abduction row, every input of every induction
// row) through the executor in reference-compatible mode (compat `validate` = the reference's check_all, which is
// what produced the recorded outputs) and reports the exact-match rate. Every mismatch must fall in a documented
// category, decided by a rule over the row and our result; an unexplained mismatch fails the test.
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { Executor, type Result } from "../sandbox/index.ts";
import { SLOW_TEST_MS } from "./support/timeouts.ts";

setDefaultTimeout(SLOW_TEST_MS);

const SEED_DIR = new URL("../engine/data/azr-seed/", import.meta.url).pathname;

interface Call {
  where: string;
  code: string;
  input: string;
  recorded: string;
}

function loadCalls(): Call[] {
  const calls: Call[] = [];
  for (const file of readdirSync(SEED_DIR).filter((f) => f.endsWith(".jsonl")).sort()) {
    const lines = readFileSync(SEED_DIR + file, "utf8").split("\n").filter(Boolean);
    lines.forEach((line, i) => {
      const row = JSON.parse(line);
      const code = [...(row.imports as string[]), row.snippet as string].join("\n");
      if (Array.isArray(row.inputs)) {
        row.inputs.forEach((input: string, k: number) =>
          calls.push({ where: `${file}:${i}[${k}]`, code, input, recorded: row.outputs[k] }),
        );
      } else calls.push({ where: `${file}:${i}`, code, input: row.input, recorded: row.output });
    });
  }
  return calls;
}

const CATEGORIES = {
  module: "missing module (numpy, sympy, cv2 are not in python.wasm)",
  file: "file write refused by the sandbox",
  handWritten: "hand-written seed (output not in repr form)",
  truncated: "truncated in the dataset (reference 200...200 of a longer repr)",
  address: "memory address in the recorded output (object repr)",
  libm: "float last digits (wasi-libc libm vs glibc)",
  stringHash: "string-hash order (the output changes with PYTHONHASHSEED)",
  hash32: "32-bit hash order (wasm32 Py_hash_t orders int/tuple sets unlike 64-bit CPython)",
  notPlain: "input not plain data (a range, a function): f receives its arguments as data",
} as const;
type Category = (typeof CATEGORIES)[keyof typeof CATEGORIES];

const NUMBER = /-?\d+\.\d+(?:e[-+]?\d+)?/g;

/** Same text once floats are masked, and every float pair within 1e-12 relative: libm rounding. */
function floatsClose(a: string, b: string): boolean {
  if (a.replace(NUMBER, "#") !== b.replace(NUMBER, "#")) return false;
  const xs = a.match(NUMBER) ?? [];
  const ys = b.match(NUMBER) ?? [];
  return xs.length > 0 && xs.every((x, i) => Math.abs(+x - +ys[i]!) <= 1e-12 * Math.max(1, Math.abs(+x)));
}

/** Rules that need only the row and our result. */
function classify(call: Call, ours: Result): Category | null {
  const err = ours.error ?? "";
  if (ours.status === "error" && /ModuleNotFoundError|No module named/.test(err)) return CATEGORIES.module;
  if (ours.status === "error" && /\bopen\(/.test(call.code) && /OSError|Errno/.test(err)) return CATEGORIES.file;
  if (ours.status === "invalid" && /arguments are not plain data/.test(err)) return CATEGORIES.notPlain;
  // The zero seed (docs/reference.md §5): identity f, output written by hand as the input text ("Hello world", dict(a=1, b=2)).
  if (/^def f\(a\):\s*return a\s*$/.test(call.code.trim()) && call.recorded === call.input) return CATEGORIES.handWritten;
  const out = ours.output ?? "";
  const rec = call.recorded;
  const cut = rec.indexOf("...");
  if (cut >= 0 && rec.length <= 403 && out.length > 0 && out.startsWith(rec.slice(0, Math.min(cut, 200)))) {
    return CATEGORIES.truncated;
  }
  if (/ at 0x[0-9a-f]+>/.test(rec)) return CATEGORIES.address;
  if (ours.status === "ok" && floatsClose(out, rec)) return CATEGORIES.libm;
  return null;
}

/** Native 64-bit CPython (the host's python3, the guide's independent reference) on the given calls: repr(f(x)). */
function nativeOutputs(calls: Call[]): Array<string | null> {
  const script = [
    "import json, sys",
    "out = []",
    "for code, inp in json.load(sys.stdin):",
    "    try:",
    "        g = {}",
    "        exec(code, g)",
    "        out.append(repr(eval('f(' + inp + ')', g)).strip())",
    "    except BaseException:",
    "        out.append(None)",
    "print(json.dumps(out))",
  ].join("\n");
  const proc = Bun.spawnSync(["python3", "-I", "-S", "-c", script], {
    stdin: new TextEncoder().encode(JSON.stringify(calls.map((c) => [c.code, c.input]))),
    env: { PYTHONHASHSEED: "0", PATH: process.env.PATH ?? "/usr/bin" },
    cwd: "/tmp",
    timeout: 120_000,
  });
  if (proc.exitCode !== 0) throw new Error(`python3 failed: ${proc.stderr.toString()}`);
  return JSON.parse(proc.stdout.toString());
}

let ex: Executor;
const otherSeeds: Executor[] = [];
// The replay checks outputs, not speed: the slowest call (14b_code_f_seed_io row 229, a trial-division prime list up
// to 100 000) takes ~28 s alone and more than twice that on a loaded 2-core machine, so no call is cut short.
const TIMEOUT_MS = 300_000;

beforeAll(async () => {
  ex = await Executor.create({ workers: 2, spares: 0, compat: true, timeoutMs: TIMEOUT_MS });
});
afterAll(async () => {
  await Promise.all([ex?.close(), ...otherSeeds.map((e) => e.close())]);
});

test("every seed row reproduces or falls in a documented mismatch category", async () => {
  const calls = loadCalls();
  expect(calls.length).toBeGreaterThan(17_000);
  const t0 = performance.now();
  const results = await Promise.all(calls.map((c) => ex.submit({ op: "validate", code: c.code, input: c.input })));
  const seconds = (performance.now() - t0) / 1000;

  const counts = new Map<Category, number>();
  const count = (c: Category) => counts.set(c, (counts.get(c) ?? 0) + 1);
  let matched = 0;
  const rest: number[] = [];
  results.forEach((r, i) => {
    const call = calls[i]!;
    if (r.status === "ok" && r.output === call.recorded) return void matched++;
    const category = classify(call, r);
    if (category) count(category);
    else rest.push(i);
  });

  // Hash order. String hashes: our output changes under other PYTHONHASHSEEDs (the reference ran under a random
  // one). Int/tuple hashes do not depend on the seed but on the hash width: native 64-bit CPython reproduces the row.
  const unexplained: string[] = [];
  if (rest.length > 0) {
    for (const hashSeed of [1, 2, 3]) {
      otherSeeds.push(await Executor.create({ workers: 1, spares: 0, compat: true, timeoutMs: TIMEOUT_MS, hashSeed }));
    }
    const native = nativeOutputs(rest.map((i) => calls[i]!));
    for (const [k, i] of rest.entries()) {
      const call = calls[i]!;
      const ours = results[i]!;
      const req = { op: "validate", code: call.code, input: call.input } as const;
      const others = await Promise.all(otherSeeds.map((e) => e.submit(req)));
      if (others.some((o) => o.output !== ours.output || o.status !== ours.status)) count(CATEGORIES.stringHash);
      else if (native[k] === call.recorded) count(CATEGORIES.hash32);
      else {
        unexplained.push(`${call.where}: ${ours.status} ${JSON.stringify(ours.output ?? ours.error)} ` +
          `!= recorded ${JSON.stringify(call.recorded)}`);
      }
    }
  }

  const rate = matched / calls.length;
  console.log(
    `seed replay: ${matched}/${calls.length} exact (${(100 * rate).toFixed(2)}%) in ${seconds.toFixed(1)} s ` +
      `(${(calls.length / seconds).toFixed(0)} calls/s, 2 workers, pristine, compat)`,
  );
  for (const [category, n] of counts) console.log(`  mismatch: ${category}: ${n}`);
  for (const u of unexplained) console.log(`  UNEXPLAINED ${u}`);
  expect(unexplained).toEqual([]);
  expect(rate).toBeGreaterThan(0.98);
}, 600_000);
