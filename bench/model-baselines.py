# Baseline for `bun run bench model`: the same Qwen2 / Llama causal LM as engine/model (RMSNorm, RoPE rotate_half,
# GQA, SwiGLU, q/k/v bias, tied or untied head) in PyTorch float32, reading the same checkpoint directory
# (config.json + model.safetensors, read by test/support/model_ref.py's readers), timed on the same work as the Policy:
#   decode  per case: greedy generate with maxNew 1 (prefill + first token) and with maxNew S (its own KV cache)
#   score   log-prob and entropy of every response token (forward only)
#   train   the same forward, loss = -mean(logp), backward, clip to norm 1, AdamW (lr 1e-5, no weight decay)
# Each op is warmed up as on our side (generation with 2 new tokens, training on warm_train), then `repeat` timed runs;
# the best is reported, with the CPU cores this process used, and the peak memory: CUDA's allocator peak on the GPU,
# this process's peak RSS on the CPU (the interpreter and torch included).
# The bench sends rectangular batches (every prompt, every response of one length), so no padding masks.
#
#   usage: python3 model-baselines.py probe [cpu|cuda]     prints {"machine": ...}; exit 3 when CUDA is asked for but absent
#          python3 model-baselines.py run < task.json      task: {checkpoint, device, repeat, decode: [{prompts, max_new}],
#                                                                 seqs, warm_train: [{prompt, response}]}
import json
import math
import os
import resource
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "support"))
from model_ref import read_arrays, read_shape  # noqa: E402  (one checkpoint reader for the reference and the baseline)

NO_CUDA = 3


def machine(device):
    cuda = torch.cuda.is_available()
    return {
        "torch": torch.__version__,
        "device": device,
        "threads": torch.get_num_threads(),
        "cuda_device": torch.cuda.get_device_name(0) if cuda else None,
        "attention": "scaled_dot_product_attention" if hasattr(F, "scaled_dot_product_attention") else "matmul+softmax",
    }


def read_safetensors(path, device):
    return {name: torch.from_numpy(a.copy()).to(device).requires_grad_(True) for name, a in read_arrays(path).items()}


class Model:
    def __init__(self, ckpt, device):
        vars(self).update(read_shape(ckpt))
        self.device = device
        self.w = read_safetensors(os.path.join(ckpt, "model.safetensors"), device)
        self.lm_head = self.w["model.embed_tokens.weight"] if self.tied else self.w["lm_head.weight"]
        self.rope_len = 0

    def rope_table(self, length):
        # float64 angles, as engine/model's ropeTable, then float32 like everything else.
        if length > self.rope_len:
            d = self.head_dim
            inv = 1.0 / (self.theta ** (torch.arange(0, d, 2, dtype=torch.float64) / d))
            ang = torch.arange(length, dtype=torch.float64)[:, None] * inv[None, :]
            emb = torch.cat([ang, ang], -1)
            self.cos, self.sin = emb.cos().float().to(self.device), emb.sin().float().to(self.device)
            self.rope_len = length
        return self.cos, self.sin

    def rmsnorm(self, x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * w

    def rope(self, x, start):  # x [B, H, T, D], positions start .. start+T-1
        T, half = x.shape[2], self.head_dim // 2
        cos, sin = self.rope_table(start + T)
        cos, sin = cos[start : start + T], sin[start : start + T]
        return x * cos + torch.cat([-x[..., half:], x[..., :half]], -1) * sin

    def linear(self, x, name):
        y = x @ self.w[f"{name}.weight"].T
        bias = self.w.get(f"{name}.bias")
        return y if bias is None else y + bias

    def attend(self, q, k, v, causal):
        group = self.heads // self.kv_heads
        k = k.repeat_interleave(group, dim=1)
        v = v.repeat_interleave(group, dim=1)
        if hasattr(F, "scaled_dot_product_attention"):
            return F.scaled_dot_product_attention(q, k, v, is_causal=causal)
        s = (q @ k.transpose(-1, -2)) / math.sqrt(self.head_dim)
        if causal:
            T = q.shape[2]
            s = s + torch.full((T, T), float("-inf"), device=q.device).triu(1)
        return s.softmax(-1) @ v

    def body(self, ids, cache=None, start=0):
        """Hidden states [B, T, hidden] after the final norm. With `cache` (per layer [k, v] of [B, Hkv, maxT, D]),
        writes this call's keys and values at `start` and attends to everything cached before them."""
        B, T = ids.shape
        x = self.w["model.embed_tokens.weight"][ids]
        for l in range(self.layers):
            p = f"model.layers.{l}."
            h = self.rmsnorm(x, self.w[p + "input_layernorm.weight"])
            q = self.rope(self.linear(h, p + "self_attn.q_proj").view(B, T, self.heads, self.head_dim).transpose(1, 2), start)
            k = self.rope(self.linear(h, p + "self_attn.k_proj").view(B, T, self.kv_heads, self.head_dim).transpose(1, 2), start)
            v = self.linear(h, p + "self_attn.v_proj").view(B, T, self.kv_heads, self.head_dim).transpose(1, 2)
            if cache is not None:
                ck, cv = cache[l]
                ck[:, :, start : start + T] = k
                cv[:, :, start : start + T] = v
                k, v = ck[:, :, : start + T], cv[:, :, : start + T]
            # A one-token step attends to every cached row; a prefill from 0 is plain causal.
            att = self.attend(q, k, v, causal=T > 1).transpose(1, 2).reshape(B, T, -1)
            x = x + self.linear(att, p + "self_attn.o_proj")
            h = self.rmsnorm(x, self.w[p + "post_attention_layernorm.weight"])
            x = x + self.linear(F.silu(self.linear(h, p + "mlp.gate_proj")) * self.linear(h, p + "mlp.up_proj"), p + "mlp.down_proj")
        return self.rmsnorm(x, self.w["model.norm.weight"])

    @torch.no_grad()
    def generate(self, prompts, max_new):
        """Greedy: prefill, then max_new - 1 one-token steps; returns the new ids [B, max_new]."""
        B, Tp = prompts.shape
        shape = (B, self.kv_heads, Tp + max_new, self.head_dim)
        cache = [[torch.empty(shape, device=self.device), torch.empty(shape, device=self.device)] for _ in range(self.layers)]
        h = self.body(prompts, cache)
        tok = (h[:, -1] @ self.lm_head.T).argmax(-1)
        out = [tok]
        for s in range(max_new - 1):
            h = self.body(tok[:, None], cache, Tp + s)
            tok = (h[:, -1] @ self.lm_head.T).argmax(-1)
            out.append(tok)
        return torch.stack(out, 1)

    def token_stats(self, ids, prompt_len):
        """Log-prob and entropy of tokens prompt_len.. of each row; the head runs on the scored rows only."""
        h = self.body(ids)[:, prompt_len - 1 : -1]
        logprobs = (h @ self.lm_head.T).log_softmax(-1)
        logp = logprobs.gather(-1, ids[:, prompt_len:, None])[..., 0]
        entropy = -(logprobs.exp() * logprobs).sum(-1)
        return logp, entropy


def best(fn, repeat, sync, warm=None):
    """`warm` (default: fn) once, then `repeat` timed runs of fn: (best seconds, cores used meanwhile, last result)."""
    (warm or fn)()
    sync()
    times, cpu0, wall0 = [], time.process_time(), time.perf_counter()
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        sync()
        times.append(time.perf_counter() - t0)
    return min(times), (time.process_time() - cpu0) / (time.perf_counter() - wall0), result


def rectangular(seqs, device):
    """(ids [B, P + R], P) of sequences that share one prompt length and one response length."""
    prompt_len, response_len = len(seqs[0]["prompt"]), len(seqs[0]["response"])
    if any(len(s["prompt"]) != prompt_len or len(s["response"]) != response_len for s in seqs):
        raise ValueError("model-baselines: every sequence must have the same prompt and response lengths")
    return torch.tensor([s["prompt"] + s["response"] for s in seqs], device=device), prompt_len


def run(task):
    device = task["device"]
    if device == "cuda":  # fp32 as on our side: no TF32
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    model = Model(task["checkpoint"], device)
    repeat = task["repeat"]
    out = {"machine": machine(device), "decode": []}
    for case in task["decode"]:
        prompts = torch.tensor(case["prompts"], device=device)
        prefill_s, prefill_cores, _ = best(lambda: model.generate(prompts, 1), repeat, sync, lambda: model.generate(prompts, 2))
        gen_s, gen_cores, ids = best(lambda: model.generate(prompts, case["max_new"]), repeat, sync)
        out["decode"].append({"batch": len(case["prompts"]), "prefill_s": prefill_s, "prefill_cores": prefill_cores, "generate_s": gen_s, "generate_cores": gen_cores, "ids": ids.tolist()})

    batch = rectangular(task["seqs"], device)
    params = list(model.w.values())
    opt = torch.optim.AdamW(params, lr=1e-5, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)

    def score():
        with torch.no_grad():
            return model.token_stats(*batch)

    def train(ids, prompt_len):
        logp, entropy = model.token_stats(ids, prompt_len)
        entropy = entropy.detach()  # reported like tokenStats, not part of the loss
        (-logp.mean()).backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=False)

    warm = rectangular(task["warm_train"], device)
    out["score_s"], out["score_cores"], _ = best(score, repeat, sync)
    out["train_s"], out["train_cores"], _ = best(lambda: train(*batch), repeat, sync, lambda: train(*warm))
    # ru_maxrss is in KiB on Linux.
    out["peak_bytes"] = torch.cuda.max_memory_allocated() if device == "cuda" else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return out


def main():
    torch.set_num_threads(os.cpu_count() or 1)
    if sys.argv[1] == "probe":
        device = sys.argv[2]
        if device == "cuda" and not torch.cuda.is_available():
            print(f"torch {torch.__version__} in {sys.executable} sees no CUDA device", file=sys.stderr)
            sys.exit(NO_CUDA)
        json.dump({"machine": machine(device)}, sys.stdout)
    elif sys.argv[1] == "run":
        json.dump(run(json.load(sys.stdin)), sys.stdout)
    else:
        raise SystemExit(f"model-baselines: unknown mode {sys.argv[1]!r}; use probe or run")


main()
