# The independent reference for engine/model: a Qwen2 / Llama causal LM written from the architecture's equations in
# PyTorch float64, reading the checkpoint directory itself (config.json + model.safetensors, parsed here).
#
#   usage: python3 model_ref.py CHECKPOINT_DIR OUT_PREFIX < task.json
#   task:  {"mode": "logits", "ids": [...]}
#          {"mode": "grads", "seqs": [{"prompt": [...], "response": [...], "c": [...], "e": [...]}]}
#              loss = sum over response tokens of c * logp + e * entropy; outputs logp, entropy and every gradient
#          {"mode": "greedy", "prompts": [[...]], "max_new": N}
#          {"mode": "adamw", "seqs": [...], "steps": N, "opt": {"lr", "betas", "eps", "weight_decay", "max_grad_norm"}}
#              mixed precision as engine/model trains an f16 policy: the checkpoint's values are the masters; each step
#              computes the grads loss's gradient through the matrices rounded to f16, clips the global norm and steps
#              torch.optim.AdamW on the masters; outputs every gradient before clipping ("grad{s}:{name}") and every
#              master after the step ("step{s}:{name}")
# Writes OUT_PREFIX.json ({name: {shape, offset}} in float64 elements, plus plain values) and OUT_PREFIX.bin.
import json
import math
import struct
import sys

import numpy as np
import torch

DTYPES = {"F32": np.float32, "F16": np.float16}


def read_arrays(path):
    """Every tensor of a safetensors file as a float32 numpy array of its shape (bench/model-baselines.py uses it too)."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        a, b = e["data_offsets"]
        buf = raw[8 + n + a : 8 + n + b]
        if e["dtype"] == "BF16":
            arr = (np.frombuffer(buf, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)
        elif e["dtype"] in DTYPES:
            arr = np.frombuffer(buf, dtype=DTYPES[e["dtype"]]).astype(np.float32)
        else:
            raise ValueError(f"{path}: tensor {name} has dtype {e['dtype']}; expected F32, F16 or BF16")
        out[name] = arr.reshape(e["shape"])
    return out


def read_safetensors(path):
    return {name: torch.tensor(a.astype(np.float64)).requires_grad_(True) for name, a in read_arrays(path).items()}


def read_shape(ckpt):
    """The architecture numbers of config.json, by the names both Model classes use (the baseline's too)."""
    cfg = json.load(open(f"{ckpt}/config.json"))
    heads = cfg["num_attention_heads"]
    return {
        "layers": cfg["num_hidden_layers"],
        "heads": heads,
        "kv_heads": cfg.get("num_key_value_heads", heads),
        "head_dim": cfg.get("head_dim") or cfg["hidden_size"] // heads,
        "eps": cfg["rms_norm_eps"],
        "theta": cfg.get("rope_theta", 10000.0),
        "tied": cfg.get("tie_word_embeddings", False),
    }


class Model:
    def __init__(self, ckpt):
        vars(self).update(read_shape(ckpt))
        self.w = read_safetensors(f"{ckpt}/model.safetensors")
        self.lm_head = self.w["model.embed_tokens.weight"] if self.tied else self.w["lm_head.weight"]

    def rmsnorm(self, x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * w

    def rope(self, x, positions):  # x [T, H, D]
        d = self.head_dim
        inv = 1.0 / (self.theta ** (torch.arange(0, d, 2, dtype=torch.float64) / d))
        freqs = positions[:, None].double() * inv[None, :]
        emb = torch.cat([freqs, freqs], -1)
        cos, sin = emb.cos()[:, None, :], emb.sin()[:, None, :]
        x1, x2 = x[..., : d // 2], x[..., d // 2 :]
        return x * cos + torch.cat([-x2, x1], -1) * sin

    def linear(self, x, name):
        y = x @ self.w[f"{name}.weight"].T
        bias = self.w.get(f"{name}.bias")
        return y if bias is None else y + bias

    def logits(self, ids):
        T = len(ids)
        pos = torch.arange(T)
        x = self.w["model.embed_tokens.weight"][torch.tensor(ids)]
        mask = torch.full((T, T), float("-inf")).triu(1)
        group = self.heads // self.kv_heads
        for l in range(self.layers):
            p = f"model.layers.{l}."
            h = self.rmsnorm(x, self.w[p + "input_layernorm.weight"])
            q = self.rope(self.linear(h, p + "self_attn.q_proj").view(T, self.heads, self.head_dim), pos)
            k = self.rope(self.linear(h, p + "self_attn.k_proj").view(T, self.kv_heads, self.head_dim), pos)
            v = self.linear(h, p + "self_attn.v_proj").view(T, self.kv_heads, self.head_dim)
            k = k.repeat_interleave(group, dim=1)
            v = v.repeat_interleave(group, dim=1)
            scores = torch.einsum("thd,shd->hts", q, k) / math.sqrt(self.head_dim) + mask
            att = torch.einsum("hts,shd->thd", scores.softmax(-1), v).reshape(T, -1)
            x = x + self.linear(att, p + "self_attn.o_proj")
            h = self.rmsnorm(x, self.w[p + "post_attention_layernorm.weight"])
            gate = self.linear(h, p + "mlp.gate_proj")
            up = self.linear(h, p + "mlp.up_proj")
            x = x + self.linear(torch.nn.functional.silu(gate) * up, p + "mlp.down_proj")
        return self.rmsnorm(x, self.w["model.norm.weight"]) @ self.lm_head.T


def seq_loss(model, seqs):
    """sum over response tokens of c * logp + e * entropy, with the log-probs and entropies (detached)."""
    loss, logps, ents = 0.0, [], []
    for s in seqs:
        ids = s["prompt"] + s["response"]
        rows = model.logits(ids)[len(s["prompt"]) - 1 : len(ids) - 1]
        logprobs = rows.log_softmax(-1)
        logp = logprobs.gather(1, torch.tensor(s["response"])[:, None])[:, 0]
        ent = -(logprobs.exp() * logprobs).sum(-1)
        loss = loss + (torch.tensor(s["c"]) * logp).sum() + (torch.tensor(s["e"]) * ent).sum()
        logps.append(logp.detach())
        ents.append(ent.detach())
    return loss, torch.cat(logps), torch.cat(ents)


def main():
    torch.set_default_dtype(torch.float64)  # here, not at import: bench/model-baselines.py imports the readers
    ckpt, prefix = sys.argv[1], sys.argv[2]
    task = json.load(sys.stdin)
    model = Model(ckpt)
    out = {}
    if task["mode"] == "logits":
        with torch.no_grad():
            out["logits"] = model.logits(task["ids"])
    elif task["mode"] == "grads":
        loss, out["logp"], out["entropy"] = seq_loss(model, task["seqs"])
        loss.backward()
        for name, t in model.w.items():
            out[f"grad:{name}"] = t.grad if t.grad is not None else torch.zeros_like(t)
    elif task["mode"] == "adamw":
        o = task["opt"]
        masters = {name: t.detach().clone() for name, t in model.w.items()}
        opt = torch.optim.AdamW(list(masters.values()), lr=o["lr"], betas=tuple(o["betas"]), eps=o["eps"], weight_decay=o["weight_decay"])
        for s in range(task["steps"]):
            with torch.no_grad():  # in place: the tied head stays the embedding
                for name, t in model.w.items():
                    m = masters[name]
                    t.copy_(m.half().double() if m.dim() == 2 else m)
                    t.grad = None
            seq_loss(model, task["seqs"])[0].backward()
            for name, m in masters.items():
                m.grad = model.w[name].grad.clone()
                out[f"grad{s}:{name}"] = m.grad.clone()
            torch.nn.utils.clip_grad_norm_(list(masters.values()), o["max_grad_norm"])
            opt.step()
            for name, m in masters.items():
                out[f"step{s}:{name}"] = m.clone()
    elif task["mode"] == "greedy":
        gens, margins = [], []
        with torch.no_grad():
            for prompt in task["prompts"]:
                ids = list(prompt)
                for _ in range(task["max_new"]):
                    last = model.logits(ids)[-1]
                    top = last.topk(2).values
                    margins.append((top[0] - top[1]).item())
                    ids.append(int(last.argmax()))
                gens.append(ids[len(prompt) :])
        out["ids"] = gens
        out["min_margin"] = min(margins)
    header, blobs, offset = {}, [], 0
    for name, v in out.items():
        if isinstance(v, torch.Tensor):
            a = v.detach().to(torch.float64).contiguous().numpy()
            header[name] = {"shape": list(a.shape), "offset": offset}
            blobs.append(a.tobytes())
            offset += a.size
        else:
            header[name] = {"value": v}
    with open(prefix + ".bin", "wb") as f:
        for b in blobs:
            f.write(b)
    with open(prefix + ".json", "w") as f:
        json.dump(header, f)


if __name__ == "__main__":
    main()
