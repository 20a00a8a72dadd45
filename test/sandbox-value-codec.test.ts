// The plain-value byte format: strict host decoding (every malformed input a typed DecodeError, never a crash or a
// hang), round trips host → CPython → host and CPython → host → CPython, and the guest codec plain.py under
// rebound builtins.
import { describe, expect, test } from "bun:test";
import { decodeValue, DecodeError, type DecodeFault, encodeValue, EncodeError } from "../sandbox/value/codec.ts";
import { pyRepr } from "../sandbox/value/repr.ts";
import { complex, dict, frozenset, LIMITS, list, set, tuple, type PyValue } from "../sandbox/value/types.ts";
import { fromHex, Gen, hexOf, oracle, PYTHON, same, toHex, unicodeSkewOf } from "./support/py-values.ts";
import { seedNote, TEST_SEED } from "./support/random-inputs.ts";

const enc = (s: string): number[] => [...new TextEncoder().encode(s)];
const u32 = (n: number): number[] => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
const bytes = (...parts: (number | number[] | string)[]): Uint8Array =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === "number" ? [p] : typeof p === "string" ? enc(p) : p)));

function fault(b: Uint8Array): DecodeFault {
  try {
    decodeValue(b);
  } catch (e) {
    if (e instanceof DecodeError) return e.fault;
    throw e;
  }
  throw new Error(`decoded ${toHex(b)} without error`);
}

/** `n` lists nested inside one another around None. */
function nested(n: number): Uint8Array {
  const b = new Uint8Array(5 * n + 1);
  for (let i = 0; i < n; i++) b.set([0x6c, ...u32(1)], 5 * i);
  b[5 * n] = 0x4e;
  return b;
}

describe("decodeValue is strict", () => {
  test("every value kind round-trips through encodeValue", () => {
    const v: PyValue = list([
      null, true, false, 0n, -1n, 10n ** 40n, -0, NaN, Infinity, 0.1, complex(-0, NaN), "", "h\u00e9\ud800\u{1f600}",
      new Uint8Array([0, 255]), tuple([]), set([1n, "a"]), frozenset([tuple([1n])]), dict([["k", list([])], [2.5, null]]),
    ]);
    const b = encodeValue(v);
    expect(same(decodeValue(b), v)).toBe(true);
    expect(toHex(encodeValue(decodeValue(b)))).toBe(toHex(b));
  });

  test("truncation anywhere, trailing bytes, unknown tags", () => {
    const b = encodeValue(list([1n, 2.5, "abc", new Uint8Array([1]), dict([[1n, tuple([null])]]), complex(1, 2)]));
    for (let n = 0; n < b.length; n++) expect(["truncated", "length"]).toContain(fault(b.subarray(0, n)));
    expect(fault(bytes(...b, "N"))).toBe("trailing");
    expect(fault(bytes("NN"))).toBe("trailing");
    for (const tag of ["x", "I", "r", "\0", "n"]) expect(fault(bytes(tag))).toBe("tag");
    expect(fault(bytes(0xff))).toBe("tag");
  });

  test("ints must be canonical decimal within the digit cap", () => {
    for (const s of ["", "-", "-0", "007", "0x1", "1.0", "+1", " 1", "1e3", "١"]) expect(fault(bytes("i", s, ";"))).toBe("int");
    expect(fault(bytes("i123"))).toBe("truncated");
    expect(decodeValue(bytes("i-12;"))).toBe(-12n);
    expect(decodeValue(bytes("i", "9".repeat(LIMITS.intDigits), ";"))).toBe(10n ** BigInt(LIMITS.intDigits) - 1n);
    expect(fault(bytes("i", "9".repeat(LIMITS.intDigits + 1), ";"))).toBe("int");
    expect(() => encodeValue(10n ** BigInt(LIMITS.intDigits))).toThrow(EncodeError);
  });

  test("huge lengths and counts are refused before any allocation", () => {
    for (const tag of ["s", "b", "l", "t", "S", "Z", "d"]) expect(fault(bytes(tag, u32(0xffffffff)))).toBe("length");
    expect(fault(bytes("d", u32(2), "NN"))).toBe("length"); // two entries need four values
    expect(fault(bytes("l", u32(0xffffffff), "N"))).toBe("length"); // checked against the bytes left, never looped
  });

  test(`nesting: ${LIMITS.depth} containers decode, ${LIMITS.depth + 1} and a depth bomb do not`, () => {
    expect(() => decodeValue(nested(LIMITS.depth))).not.toThrow();
    expect(fault(nested(LIMITS.depth + 1))).toBe("depth");
    expect(fault(nested(1_000_000))).toBe("depth"); // a million-deep bomb stops at the cap, not the stack
    let deep: PyValue = null;
    for (let i = 0; i < LIMITS.depth + 1; i++) deep = list([deep]);
    expect(() => encodeValue(deep)).toThrow(EncodeError);
  });

  test("too many values or bytes", () => {
    const many = new Uint8Array(5 + LIMITS.values + 1).fill(0x4e);
    many.set([0x6c, ...u32(LIMITS.values + 1)]);
    expect(fault(many)).toBe("size");
    expect(fault(new Uint8Array(LIMITS.bytes + 1))).toBe("size");
  });

  test("duplicate set members and dict keys by Python equality; unhashable members", () => {
    const f = (x: number): number[] => [0x66, ...new Uint8Array(new Float64Array([x]).buffer).reverse()];
    const c = (re: number, im: number): number[] => [0x63, ...f(re).slice(1), ...f(im).slice(1)];
    expect(fault(bytes("S", u32(2), "i1;T"))).toBe("duplicate"); // 1 and True
    expect(fault(bytes("Z", u32(2), f(1), "i1;"))).toBe("duplicate"); // 1.0 and 1
    expect(fault(bytes("S", u32(2), c(1, 0), "T"))).toBe("duplicate"); // (1+0j) and True
    expect(fault(bytes("S", u32(2), f(0), f(-0)))).toBe("duplicate"); // 0.0 and -0.0
    expect(fault(bytes("d", u32(2), "s", u32(1), "aNs", u32(1), "aN"))).toBe("duplicate");
    expect(fault(bytes("S", u32(2), "t", u32(1), "i2;", "t", u32(1), f(2)))).toBe("duplicate"); // (2,) and (2.0,)
    expect(fault(bytes("S", u32(2), "Z", u32(2), "i1;i2;", "Z", u32(2), "i2;i1;"))).toBe("duplicate"); // frozensets
    // nine or more members go through the hash index: the duplicate is still found
    const nine = Array.from({ length: 9 }, (_, i) => `i${i};`).join("");
    expect(fault(bytes("S", u32(10), nine, f(4)))).toBe("duplicate");
    expect(decodeValue(bytes("S", u32(2), f(NaN), f(NaN)))).toMatchObject({ kind: "set" }); // nan != nan: two members
    expect(fault(bytes("S", u32(1), "l", u32(0)))).toBe("unhashable");
    expect(fault(bytes("d", u32(1), "d", u32(0), "N"))).toBe("unhashable");
    expect(fault(bytes("S", u32(1), "t", u32(1), "S", u32(0)))).toBe("unhashable"); // a tuple holding a set
    expect(() => encodeValue(set([1n, true]))).toThrow(EncodeError);
  });

  test("str payloads: strict UTF-8, lone surrogates kept, an unrepresentable pair refused", () => {
    const str = (...b: number[]): Uint8Array => bytes("s", u32(b.length), b);
    expect(decodeValue(str(0xed, 0xa0, 0x80))).toBe("\ud800");
    expect(decodeValue(str(0xf0, 0x9f, 0x98, 0x80))).toBe("\u{1f600}");
    for (const bad of [[0xc0, 0x80], [0xe0, 0x80, 0x80], [0xf4, 0x90, 0x80, 0x80], [0x80], [0xe2, 0x82], [0xff], [0xf8, 0x80, 0x80, 0x80, 0x80]]) {
      expect(fault(str(...bad))).toBe("utf8");
    }
    expect(fault(str(0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80))).toBe("utf8"); // '\ud83d' '\ude00' as two code points
    expect(decodeValue(str(0xed, 0xb8, 0x80, 0xed, 0xa0, 0xbd))).toBe("\ude00\ud83d"); // low then high is fine
  });

  test("random byte strings and mutations of valid encodings never crash or hang", () => {
    const g = new Gen(TEST_SEED);
    const valid = Array.from({ length: 300 }, () => encodeValue(g.value()));
    let failures = 0;
    for (let i = 0; i < 5000; i++) {
      const b = i % 2 ? Uint8Array.from({ length: g.int(40) }, () => g.pick([0x4e, 0x6c, 0x64, 0x53, 0x69, 0x3b, 0x30, 0x73, 0, g.int(256)])) : g.pick(valid).slice();
      if (i % 2 === 0 && b.length > 0) b[g.int(b.length)] = g.int(256);
      try {
        decodeValue(b);
      } catch (e) {
        if (!(e instanceof DecodeError)) throw new Error(`${toHex(b)}: ${e} ${seedNote}`);
        failures++;
      }
    }
    expect(failures).toBeGreaterThan(1000);
  });
});

describe("round trips with CPython (plain.py)", () => {
  test("host → CPython → host: every generated value comes back the same, malformed bytes are refused", () => {
    const g = new Gen(TEST_SEED + 10);
    const values = Array.from({ length: 3000 }, () => g.value());
    const malformed = ["4e4e", "6c00000002" + "4e", "69303031", "69" + "2d303b", "5300000002693b" + "54", "7300000003eda080" + "ff", "78"];
    const answers = oracle([...values.map((v) => ({ op: "rt", v: hexOf(v) })), ...malformed.map((v) => ({ op: "rt", v }))]);
    const bad: string[] = [];
    values.forEach((v, i) => {
      const a = answers[i];
      if (a.err !== undefined) return void bad.push(`  ${pyRepr(v)}: CPython refused it: ${a.err}`);
      if (!same(decodeValue(fromHex(a.v as string)), v)) bad.push(`  ${pyRepr(v)} came back as ${pyRepr(decodeValue(fromHex(a.v as string)))}`);
    });
    malformed.forEach((h, i) => {
      const a = answers[values.length + i];
      if (a.err === undefined) bad.push(`  CPython decoded malformed ${h}`);
      expect(() => decodeValue(fromHex(h))).toThrow(DecodeError);
    });
    if (bad.length) throw new Error(`${bad.length} round trips failed ${seedNote}:\n${bad.slice(0, 10).join("\n")}`);
  }, 120_000);

  test("CPython → host → bytes: values built by CPython decode to its repr and re-encode byte for byte", () => {
    const [uni, gen] = oracle([{ op: "unicode" }, { op: "gen", seed: TEST_SEED, n: 3000 }]);
    const unicodeSkew = unicodeSkewOf(uni);
    const vals = gen.vals as { v: string; r: string }[];
    const bad: string[] = [];
    for (const { v, r } of vals) {
      const value = decodeValue(fromHex(v));
      if (toHex(encodeValue(value)) !== v) bad.push(`  ${r}: re-encoded differently`);
      else if (pyRepr(value) !== r && !unicodeSkew(value)) bad.push(`  ${r} printed as ${pyRepr(value)}`);
    }
    if (bad.length) throw new Error(`${bad.length} of ${vals.length} failed ${seedNote}:\n${bad.slice(0, 10).join("\n")}`);
  }, 120_000);

  test("plain.py: not-plain values raise _NotPlain; rebinding builtins and struct afterwards changes nothing", () => {
    const script = `
import builtins, struct, sys
exec(open(sys.argv[1]).read())
class MyInt(int): pass
class Eq:
    def __eq__(self, o): return True
a = []; a.append(a)
d = {}; d['k'] = d
chain = None
for _ in range(101): chain = [chain]
bad = [MyInt(1), Eq(), a, d, chain, range(3), object(), ..., 10 ** 5000 if sys.set_int_max_str_digits(0) is None else 0, '\\ud83d\\ude00', [[1] * 600_000, [2] * 600_000]]
out = []
for v in bad:
    try:
        _encode(v); out.append('encoded')
    except _NotPlain:
        out.append('NotPlain')
sys.set_int_max_str_digits(4300)
good = [1, -0.0, 'x\\ud800', {1: (2, frozenset({3}))}, {4}, b'\\x00', 1j]
before = [_encode(v) for v in good]
names = ('type', 'len', 'int', 'str', 'bytes', 'bytearray', 'set', 'frozenset', 'dict', 'list', 'tuple', 'float', 'complex', 'bool', 'id', 'range', 'isinstance', 'repr')
saved = {name: getattr(builtins, name) for name in names}
for name in names:
    setattr(builtins, name, lambda *a, **k: 1 / 0)
struct.pack = struct.unpack_from = struct.Struct = lambda *a: 1 / 0
after = [_encode(v) for v in good]
back = [_decode(b) for b in after]
for name, f in saved.items():
    setattr(builtins, name, f)
print(' '.join(out))
print(after == before, repr(back))
`;
    const proc = Bun.spawnSync([PYTHON, "-c", script, new URL("../sandbox/value/plain.py", import.meta.url).pathname], { stdout: "pipe", stderr: "pipe" });
    expect(proc.stderr.toString()).toBe("");
    const [verdicts, rebound] = proc.stdout.toString().trim().split("\n");
    expect(verdicts.split(" ")).toEqual(new Array(11).fill("NotPlain"));
    expect(rebound).toBe("True [1, -0.0, 'x\\ud800', {1: (2, frozenset({3}))}, {4}, b'\\x00', 1j]");
  }, 60_000);
});
