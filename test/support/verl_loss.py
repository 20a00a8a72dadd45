# An independent PyTorch (float64) statement of the policy update the reference runs: verl v0.4.1's REINFORCE++
# outcome returns and masked whitening (trainer/ppo/core_algos.py compute_reinforce_plus_plus_outcome_advantage,
# utils/torch_functional.py masked_whiten), its clipped policy loss (core_algos.py compute_policy_loss: log-ratio
# clamped to ±20, clip low/high, dual clip c for negative advantages) aggregated token-mean per micro-batch, and the
# micro-batch loop of workers/actor/dp_actor.py update_policy (each micro-batch's loss divided by
# gradient_accumulation = mini-batch size // micro-batch size, gradients summed). Written for
# test/engine-update-verl.test.ts from those definitions, not copied. Input and output: JSON on stdin/stdout.
import json
import sys

import torch

torch.set_default_dtype(torch.float64)


def masked_mean(x, mask):
    return (x * mask).sum() / (mask.sum() + 1e-8)


def whiten(x, mask):
    mean = masked_mean(x, mask)
    n = mask.sum()
    var = masked_mean((x - mean) ** 2, mask) * n / (n - 1)  # Bessel's correction
    return (x - mean) * torch.rsqrt(var + 1e-8)


def padded(rows, width):
    out = torch.zeros(len(rows), width)
    mask = torch.zeros(len(rows), width)
    for i, r in enumerate(rows):
        out[i, : len(r)] = torch.tensor(r)
        mask[i, : len(r)] = 1
    return out, mask


def reinforce_pp_advantages(rewards, lengths, width):
    """One (task, role) batch: the outcome reward on the last response token, γ = 1 returns, whitened over tokens."""
    scores = torch.zeros(len(rewards), width)
    mask = torch.zeros(len(rewards), width)
    for i, (r, n) in enumerate(zip(rewards, lengths)):
        scores[i, n - 1] = r
        mask[i, :n] = 1
    returns = torch.zeros_like(scores)
    running = torch.zeros(len(rewards))
    for t in reversed(range(width)):
        running = scores[:, t] + running
        returns[:, t] = running
        running = running * mask[:, t]
    return whiten(returns, mask) * mask


def policy_loss(old, new, adv, mask, low, high, c):
    log_ratio = torch.clamp(new - old, -20.0, 20.0)
    ratio = torch.exp(log_ratio)
    unclipped = -adv * ratio
    clipped = -adv * torch.clamp(ratio, 1 - low, 1 + high)
    upper = torch.maximum(unclipped, clipped)
    dual = torch.minimum(-adv * c, upper)
    per_token = torch.where(adv < 0, dual, upper)
    return masked_mean(per_token, mask)


def main():
    inp = json.load(sys.stdin)
    lengths = [len(x) for x in inp["logp"]]
    width = max(lengths)
    groups = inp["groups"]
    adv = torch.zeros(len(lengths), width)
    for g in dict.fromkeys(groups):
        idx = [i for i, h in enumerate(groups) if h == g]
        adv[idx] = reinforce_pp_advantages([inp["rewards"][i] for i in idx], [lengths[i] for i in idx], width)
    logp, mask = padded(inp["logp"], width)
    old, _ = padded(inp["old_logp"], width)
    ent, _ = padded(inp["entropy"], width)
    logp.requires_grad_(True)
    ent.requires_grad_(True)
    micro = inp["micro"]
    accumulation = len(lengths) // micro
    total = 0.0
    for m in range(0, len(lengths), micro):
        s = slice(m, m + micro)
        pg = policy_loss(old[s], logp[s], adv[s], mask[s], inp["clip_low"], inp["clip_high"], inp["dual_clip"])
        loss = (pg - masked_mean(ent[s], mask[s]) * inp["entropy_coeff"]) / accumulation
        loss.backward()
        total += loss.item()
    pick = lambda t: [t[i, :n].tolist() for i, n in enumerate(lengths)]
    json.dump({"loss": total, "advantages": [adv[i, 0].item() for i in range(len(lengths))],
               "dlogp": pick(logp.grad), "dentropy": pick(ent.grad)}, sys.stdout)


main()
