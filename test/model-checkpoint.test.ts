// Checkpoint files: random init in HF format, safetensors round trip, bf16/f16 decoding against torch, sharded
// indexes, and errors that name the tensor or the architecture.
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  loadCheckpoint,
  makeCheckpoint,
  parameterCount,
  parseHfConfig,
  readSafetensors,
  readSafetensorsDir,
  saveCheckpoint,
  type TensorMap,
  writeSafetensors,
} from "../engine/model/index.ts";
import { parseSpec } from "../engine/cli/make-checkpoint.ts";
import { arr, runTorch } from "./support/torch.ts";
import { SLOW_TEST_MS } from "./support/timeouts.ts";

setDefaultTimeout(SLOW_TEST_MS);

const root = mkdtempSync(join(tmpdir(), "model-ckpt-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const small = { hidden: 32, layers: 2, heads: 4, kvHeads: 2, intermediate: 48, seed: 7 };

function expectSameTensors(a: TensorMap, b: TensorMap): void {
  expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
  for (const [name, t] of a) {
    expect(b.get(name)!.shape).toEqual(t.shape);
    expect(Buffer.from(b.get(name)!.data.buffer).equals(Buffer.from(t.data.buffer))).toBe(true);
  }
}

describe("model checkpoint", () => {
  test("make → load → save → load is bit-exact, config and tokenizer included", async () => {
    const dir = join(root, "qwen");
    await makeCheckpoint(dir, { ...small });
    const first = loadCheckpoint(dir);
    expect(first.config).toMatchObject({ architecture: "qwen2", hidden: 32, headDim: 8, qkvBias: true, tiedEmbeddings: true });
    expect(first.tensors.has("model.layers.1.self_attn.k_proj.bias")).toBe(true);
    expect(first.tensors.has("lm_head.weight")).toBe(false);
    expect(parameterCount(first.config)).toBeGreaterThan(first.config.vocabSize * 32);
    saveCheckpoint(join(root, "qwen-again"), first);
    const second = loadCheckpoint(join(root, "qwen-again"));
    expect(second.config).toEqual(first.config);
    expectSameTensors(first.tensors, second.tensors);
    expect(readFileSync(join(root, "qwen-again", "tokenizer.json"))).toEqual(readFileSync(join(dir, "tokenizer.json")));
  });

  test("Llama shape: untied lm_head, no q/k/v bias", async () => {
    const dir = join(root, "llama");
    await makeCheckpoint(dir, { ...small, architecture: "llama", qkvBias: false, tiedEmbeddings: false });
    const { config, tensors } = loadCheckpoint(dir);
    expect(config).toMatchObject({ architecture: "llama", qkvBias: false, tiedEmbeddings: false });
    expect(tensors.has("lm_head.weight")).toBe(true);
    expect(tensors.has("model.layers.0.self_attn.q_proj.bias")).toBe(false);
  });

  test("bf16 and f16 on disk decode as torch rounds them", () => {
    const values = new Float32Array([0, 1, -2.5, 1 / 3, 65504, 1e-7, 6e-5, 3.14159, -1000.7, 123.456, 2 ** -20]);
    const tensors: TensorMap = new Map([["x", { shape: [values.length], data: values }]]);
    const ref = runTorch(
      "out['bf16'] = inp['x'].float().bfloat16().double(); out['f16'] = inp['x'].float().half().double()",
      { x: arr(values, [values.length]) },
    );
    for (const [dtype, key] of [["BF16", "bf16"], ["F16", "f16"]] as const) {
      const dir = join(root, `dtype-${key}`);
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      writeSafetensors(join(dir, "model.safetensors"), tensors, dtype);
      expect(Array.from(readSafetensorsDir(dir).get("x")!.data)).toEqual(ref[key]!.data);
    }
  });

  test("a checkpoint saved as bf16 loads within bf16 rounding of the f32 one", async () => {
    await makeCheckpoint(join(root, "bf16"), { ...small, dtype: "bf16" });
    const f32 = loadCheckpoint(join(root, "qwen")).tensors.get("model.layers.0.mlp.up_proj.weight")!.data;
    const bf16 = loadCheckpoint(join(root, "bf16")).tensors.get("model.layers.0.mlp.up_proj.weight")!.data;
    for (let i = 0; i < f32.length; i++) expect(Math.abs(bf16[i]! - f32[i]!)).toBeLessThanOrEqual(Math.abs(f32[i]!) * 2 ** -8);
  });

  test("sharded index: tensors split over two files load as one map", () => {
    const dir = join(root, "sharded");
    mkdirSync(dir, { recursive: true });
    const { tensors } = loadCheckpoint(join(root, "qwen"));
    const names = [...tensors.keys()];
    const half = Math.floor(names.length / 2);
    const shards = [names.slice(0, half), names.slice(half)];
    const weightMap: Record<string, string> = {};
    shards.forEach((part, i) => {
      const file = `model-0000${i + 1}-of-00002.safetensors`;
      writeSafetensors(join(dir, file), new Map(part.map((n) => [n, tensors.get(n)!])), "F32");
      for (const n of part) weightMap[n] = file;
    });
    writeFileSync(join(dir, "model.safetensors.index.json"), JSON.stringify({ metadata: {}, weight_map: weightMap }));
    for (const f of ["config.json", "tokenizer.json", "tokenizer_config.json"]) copyFileSync(join(root, "qwen", f), join(dir, f));
    expectSameTensors(tensors, loadCheckpoint(dir).tensors);
  });

  test("errors name the tensor, the shape or the architecture", () => {
    const dir = join(root, "broken");
    const { tensors, config, tokenizer } = loadCheckpoint(join(root, "qwen"));
    const missing = new Map(tensors);
    missing.delete("model.layers.1.mlp.down_proj.weight");
    saveCheckpoint(dir, { config, tensors, tokenizer });
    writeSafetensors(join(dir, "model.safetensors"), missing, "F32");
    expect(() => loadCheckpoint(dir)).toThrow('missing tensor "model.layers.1.mlp.down_proj.weight"');
    const wrong = new Map(tensors);
    wrong.set("model.norm.weight", { shape: [31], data: new Float32Array(31) });
    writeSafetensors(join(dir, "model.safetensors"), wrong, "F32");
    expect(() => loadCheckpoint(dir)).toThrow('tensor "model.norm.weight" has shape [31], the config needs [32]');
    expect(() => parseHfConfig({ model_type: "mistral", architectures: ["MistralForCausalLM"] })).toThrow(
      'unsupported architecture model_type="mistral"',
    );
    expect(() => parseHfConfig({ model_type: "qwen2", hidden_size: 64 })).toThrow('"num_attention_heads" must be a positive integer');
  });

  test("a safetensors file keeps its metadata; a corrupt one is an error that says what is wrong", () => {
    const file = join(root, "meta.safetensors");
    const x = { shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) };
    writeSafetensors(file, new Map([["x", x]]), "F32", { format: "test", steps: "3" });
    const back = readSafetensors(file);
    expect(back.metadata).toEqual({ format: "test", steps: "3" });
    expectSameTensors(new Map([["x", x]]), back.tensors);
    const bytes = readFileSync(file);
    const headerLen = Number(bytes.readBigUInt64LE(0));
    const corrupt = (name: string, data: Uint8Array): string => {
      writeFileSync(join(root, name), data);
      return join(root, name);
    };
    expect(() => readSafetensors(corrupt("short", bytes.subarray(0, 5)))).toThrow("shorter than the 8-byte header length");
    expect(() => readSafetensors(corrupt("cut-header", bytes.subarray(0, 20)))).toThrow(`header length ${headerLen} runs past the end`);
    expect(() => readSafetensors(corrupt("cut-data", bytes.subarray(0, bytes.length - 4)))).toThrow('tensor "x" runs past the end of the file');
    const garbled = Buffer.from(bytes);
    garbled[8] = 0x21; // the header's opening brace
    expect(() => readSafetensors(corrupt("garbled", garbled))).toThrow("header is not JSON");
    const header = (json: object): Uint8Array => {
      const text = Buffer.from(JSON.stringify(json));
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(text.length));
      return Buffer.concat([len, text]);
    };
    expect(() => readSafetensors(corrupt("not-tensor", header({ format: "azr-adamw-1", steps: 1 })))).toThrow(
      'header entry "format" is not a tensor',
    );
    expect(() => readSafetensors(corrupt("bad-meta", header({ __metadata__: { steps: 1 } })))).toThrow("__metadata__ is not an object of strings");
  });
});

describe("make-checkpoint flags", () => {
  test("shape flags become the spec; bad flags are usage errors naming the flag", () => {
    expect(parseSpec(["--out", "d", "--arch", "llama", "--untied", "--hidden", "128", "--kv-heads", "2", "--seed", "5"])).toEqual({
      out: "d",
      spec: { seed: 5, hidden: 128, kvHeads: 2, architecture: "llama", qkvBias: false, tiedEmbeddings: false },
    });
    expect(() => parseSpec(["--hidden", "64"])).toThrow("--out DIR is required");
    expect(() => parseSpec(["--out", "d", "--layers", "two"])).toThrow("--layers two: use a whole number ≥ 1");
    expect(() => parseSpec(["--out", "d", "--hidden", "0"])).toThrow("--hidden 0: use a whole number ≥ 1");
    expect(() => parseSpec(["--out", "d", "--seed", "1.5"])).toThrow("--seed 1.5: use a whole number ≥ 0");
    expect(() => parseSpec(["--out", "d", "--dtype", "f64"])).toThrow("--dtype must be f32, bf16, f16");
    expect(() => parseSpec(["--out", "d", "--arch", "mistral"])).toThrow("--arch must be qwen2 or llama");
    expect(() => parseSpec(["--out", "d", "--depth", "3"])).toThrow("--depth");
    expect(() => parseSpec(["--out", "d", "--preset", "huge"])).toThrow("--preset must be one of tiny, 25m, qwen2.5-0.5b");
  });

  test("--help asks for the usage, even without --out", () => {
    expect(parseSpec(["--help"])).toBe("help");
  });

  test("a bad flag exits 2 with its message and the usage", async () => {
    const proc = Bun.spawn(["bun", join(import.meta.dir, "..", "engine", "cli", "make-checkpoint.ts"), "--out", join(root, "x"), "--heads", "many"], {
      stdout: "ignore", stderr: "pipe", stdin: "ignore",
    });
    const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
    expect(stderr).toContain("make-checkpoint: --heads many: use a whole number ≥ 1\nusage: bun run make-checkpoint");
    expect(code).toBe(2);
  });
});
