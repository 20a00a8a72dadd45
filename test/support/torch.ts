// Runs a snippet of PyTorch (Debian's python3-torch, float64) as the independent reference for kernels and the model.
// Inputs go in as JSON ({name: {shape, data}} or plain numbers), the snippet reads `inp[name]` (float64 tensors,
// ints stay ints) and fills the dict `out`; every tensor in `out` comes back flattened with its shape.
import { spawnSync } from "bun";

export type RefArray = { shape: number[]; data: number[] };
export type RefInput = RefArray | number | number[] | string;

/** Debian's interpreter: the one that has python3-torch (the first python3 on PATH may be another). */
export const TORCH_PYTHON = process.env.AZR_TORCH_PYTHON ?? "/usr/bin/python3";

const PRELUDE = `
import json, sys, math
import torch
torch.set_default_dtype(torch.float64)
_raw = json.load(sys.stdin)
inp = {}
for k, v in _raw.items():
    if isinstance(v, dict) and "shape" in v:
        inp[k] = torch.tensor(v["data"], dtype=torch.float64).reshape(v["shape"])
    else:
        inp[k] = v
out = {}
`;
const POSTLUDE = `
def _enc(v):
    if isinstance(v, torch.Tensor):
        t = v.detach().to(torch.float64)
        return {"shape": list(t.shape), "data": t.reshape(-1).tolist()}
    return v
json.dump({k: _enc(v) for k, v in out.items()}, sys.stdout)
`;

export function arr(data: ArrayLike<number>, shape: number[]): RefArray {
  return { shape, data: Array.from(data) };
}

/** Runs `code` under torch and returns `out`; throws with the Python traceback on failure. */
export function runTorch(code: string, inputs: Record<string, RefInput>): Record<string, RefArray> {
  const proc = spawnSync([TORCH_PYTHON, "-c", PRELUDE + code + POSTLUDE], {
    stdin: Buffer.from(JSON.stringify(inputs)),
    stdout: "pipe",
    stderr: "pipe",
  });
  if (proc.exitCode !== 0) {
    throw new Error(`torch reference failed (exit ${proc.exitCode}):\n${proc.stderr.toString()}`);
  }
  return JSON.parse(proc.stdout.toString());
}
