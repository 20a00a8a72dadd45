# Baselines for `bun run bench kernels`: the same ops and sizes in numpy (mode `numpy`) or in torch on the CPU and,
# when a GPU is visible, torch CUDA fp32 with TF32 off (mode `torch`). The two modes may run under different
# interpreters (Debian's torch links the reference BLAS; a pip numpy brings OpenBLAS). Reads the case list as JSON on
# stdin, prints {"machine": ..., "results": {id: {impl: seconds per call}}}, best of 3 trials each long enough to time.
import json
import os
import sys
import time

import numpy as np

MODE = sys.argv[1]
if MODE == "torch":
    import torch

    torch.set_num_threads(os.cpu_count() or 1)
    CUDA = torch.cuda.is_available()
    if CUDA:
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False


def best_time(fn, sync=lambda: None, min_seconds=0.2):
    fn()
    sync()
    t0 = time.perf_counter()
    fn()
    sync()
    one = max(time.perf_counter() - t0, 1e-7)
    reps = max(1, min(10000, int(min_seconds / one)))
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        sync()
        best = min(best, (time.perf_counter() - t0) / reps)
    return best


def rnd(shape):
    return np.random.standard_normal(shape).astype(np.float32)


def matmul_np(c):
    a = rnd((c["batch"], c["K"], c["M"]) if c["transA"] else (c["batch"], c["M"], c["K"]))
    b = rnd((c["batch"], c["N"], c["K"]) if c["transB"] else (c["batch"], c["K"], c["N"]))
    if c["batch"] == 1:
        a, b = a[0], b[0]
    opa = a.swapaxes(-1, -2) if c["transA"] else a
    opb = b.swapaxes(-1, -2) if c["transB"] else b
    return lambda: opa @ opb


def matmul_torch(c, dev):
    a = torch.from_numpy(rnd((c["batch"], c["K"], c["M"]) if c["transA"] else (c["batch"], c["M"], c["K"]))).to(dev)
    b = torch.from_numpy(rnd((c["batch"], c["N"], c["K"]) if c["transB"] else (c["batch"], c["K"], c["N"]))).to(dev)
    if c["batch"] == 1:
        a, b = a[0], b[0]
    opa = a.transpose(-1, -2) if c["transA"] else a
    opb = b.transpose(-1, -2) if c["transB"] else b
    return lambda: opa @ opb


def swiglu_np(c):
    g, u = rnd(c["n"]), rnd(c["n"])
    return lambda: g / (1 + np.exp(-g)) * u


def swiglu_torch(c, dev):
    g, u = torch.randn(c["n"], device=dev), torch.randn(c["n"], device=dev)
    return lambda: torch.nn.functional.silu(g) * u


def rmsnorm_np(c):
    x, w = rnd((c["R"], c["D"])), rnd(c["D"])
    return lambda: x / np.sqrt((x * x).mean(-1, keepdims=True) + 1e-6) * w


def rmsnorm_torch(c, dev):
    x, w = torch.randn(c["R"], c["D"], device=dev), torch.randn(c["D"], device=dev)
    return lambda: x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * w


def adamw_np(c):
    p, g, m, v = rnd(c["n"]), rnd(c["n"]), np.zeros(c["n"], np.float32), np.zeros(c["n"], np.float32)

    def step():
        m[:] = 0.9 * m + 0.1 * g
        v[:] = 0.999 * v + 0.001 * g * g
        p[:] = p * (1 - 1e-5) - 1e-3 * m / (np.sqrt(v) + 1e-8)

    return step


def adamw_torch(c, dev):
    p = torch.randn(c["n"], device=dev, requires_grad=True)
    p.grad = torch.randn(c["n"], device=dev)
    opt = torch.optim.AdamW([p], lr=1e-3)
    return opt.step


def embedding_np(c):
    table, ids = rnd((c["V"], c["D"])), np.random.randint(0, c["V"], c["T"])
    return lambda: table[ids]


def embedding_torch(c, dev):
    table = torch.randn(c["V"], c["D"], device=dev)
    ids = torch.randint(0, c["V"], (c["T"],), device=dev)
    return lambda: torch.nn.functional.embedding(ids, table)


def embedding_backward_torch(c, dev):
    ids = torch.randint(0, c["V"], (c["T"],), device=dev)
    g = torch.randn(c["T"], c["D"], device=dev)
    return lambda: torch.zeros(c["V"], c["D"], device=dev).index_add_(0, ids, g)


def attention_torch(c, dev):
    B, T, H, Hkv, D = c["B"], c["T"], c["H"], c["Hkv"], c["D"]
    q = torch.randn(B, H, T, D, device=dev, requires_grad=True)
    k = torch.randn(B, Hkv, T, D, device=dev, requires_grad=True)
    v = torch.randn(B, Hkv, T, D, device=dev, requires_grad=True)
    g = torch.randn(B, H, T, D, device=dev)
    sdpa = getattr(torch.nn.functional, "scaled_dot_product_attention", None)
    mask = torch.ones(T, T, dtype=torch.bool, device=dev).tril()

    def step():
        if sdpa is not None:
            o = sdpa(q, k, v, is_causal=True, enable_gqa=True)
        else:  # torch < 2.0: the plain formulation, what torch.nn.MultiheadAttention does
            kk, vv = k.repeat_interleave(H // Hkv, 1), v.repeat_interleave(H // Hkv, 1)
            s = (q @ kk.transpose(-1, -2)) / D**0.5
            o = torch.softmax(s.masked_fill(~mask, float("-inf")), -1) @ vv
        o.backward(g)

    return step


NUMPY = {"matmul": matmul_np, "swiglu": swiglu_np, "rmsnorm": rmsnorm_np, "adamw": adamw_np, "embedding": embedding_np}
TORCH = {
    "matmul": matmul_torch,
    "swiglu": swiglu_torch,
    "rmsnorm": rmsnorm_torch,
    "adamw": adamw_torch,
    "embedding": embedding_torch,
    "embedding_backward": embedding_backward_torch,
    "attention": attention_torch,
}


def memory_bandwidth_cpu():
    """Bytes read + written per second by a 64 MiB copy: the napkin bound for memory-bound ops."""
    src = np.ones(16 * 2**20, np.float32)
    dst = np.empty_like(src)
    return 2 * src.nbytes / best_time(lambda: np.copyto(dst, src))


def memory_bandwidth_cuda():
    src = torch.ones(256 * 2**20, device="cuda")
    dst = torch.empty_like(src)
    return 2 * src.numel() * 4 / best_time(lambda: dst.copy_(src), torch.cuda.synchronize)


def blas_name():
    try:
        return np.show_config(mode="dicts")["Build Dependencies"]["blas"]["name"]
    except Exception:  # numpy < 1.25 has no dict mode
        return "unknown BLAS"


def main():
    cases = json.load(sys.stdin)
    results = {}
    for c in cases:
        r = {}
        if MODE == "numpy" and c["op"] in NUMPY:
            r["numpy"] = best_time(NUMPY[c["op"]](c))
        if MODE == "torch" and c["op"] in TORCH:
            r["torch_cpu"] = best_time(TORCH[c["op"]](c, "cpu"))
            if CUDA:
                r["torch_cuda"] = best_time(TORCH[c["op"]](c, "cuda"), torch.cuda.synchronize)
        results[c["id"]] = r
    if MODE == "numpy":
        machine = {"numpy": f"{np.__version__} ({blas_name()})", "cpu_bytes_per_s": memory_bandwidth_cpu()}
    else:
        machine = {
            "torch": f"{torch.__version__} ({torch.get_num_threads()} threads)",
            "cuda_device": torch.cuda.get_device_name() if CUDA else None,
            "cuda_bytes_per_s": memory_bandwidth_cuda() if CUDA else None,
        }
    json.dump({"machine": machine, "results": results}, sys.stdout)


main()
